//! A configured run: data, network and backend built from a [`Config`], then trained.

use std::sync::Arc;

use crate::backend::Backend;
use crate::config::Config;
use crate::data::Splits;
use crate::device::create_backend;
use crate::error::Result;
use crate::model::{initialize, MlpSpec, ParamLayout};
use crate::train::{train, Event, Outcome};

pub struct Run {
    pub config: Config,
    pub data: Arc<Splits>,
    pub spec: MlpSpec,
    pub backend: Box<dyn Backend>,
    /// Which device was chosen and why.
    pub device_note: String,
}

impl Run {
    /// Loads the data, builds and initializes the network, and opens the backend.
    pub fn new(config: &Config) -> Result<Run> {
        let data = Arc::new(config.load_data()?);
        let spec = config.spec(data.train.dim, data.classes())?;
        let params = initialize(&ParamLayout::new(&spec), config.init, config.seed);
        let (backend, device_note) =
            create_backend(config.device, &spec, params, Arc::clone(&data), &config.train_options())?;
        Ok(Run {
            config: config.clone(),
            data,
            spec,
            backend,
            device_note,
        })
    }

    /// Trains as configured, calling `on_event` at progress ticks and epochs.
    pub fn train(&mut self, on_event: impl FnMut(Event<'_>)) -> Result<Outcome> {
        let train_len = self.data.train.len();
        let cfg = self.config.train_config(train_len.div_ceil(self.config.batch_size));
        train(
            self.backend.as_mut(),
            train_len,
            self.data.val.is_some(),
            &cfg,
            on_event,
        )
    }
}
