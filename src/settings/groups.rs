//! Every setting of a run, declared once, group by group: its name, type, default, valid range
//! and help (the optimizer's and the schedule's in [`crate::nn::optim`]). The flags of `train`,
//! the keys of a config file and of `--sweep`, the validation and the README's table of
//! defaults are all derived from these declarations.

use std::path::PathBuf;

use crate::data::table::Missing;
use crate::data::{DatasetName, Normalize};
use crate::declare::{Extra, Range, Role};
use crate::device::DeviceChoice;
use crate::gpu::GraphicsApi;
use crate::nn::model::{Activation, Init, Loss};
use crate::nn::optim::{OptimizerKind, ScheduleKind};
use crate::training::train::Monitor;

crate::choice_setting!(
    DatasetName,
    Normalize,
    Missing,
    Activation,
    Init,
    Loss,
    OptimizerKind,
    ScheduleKind,
    Monitor,
    DeviceChoice,
    GraphicsApi
);

crate::settings_group! {
    /// Which data, and how much of it.
    pub struct DataSettings in "data" {
        /// Dataset.
        dataset: DatasetName = DatasetName::Fashion,
            Extra::NONE.roles(&[Role::Network, Role::BatchOrder, Role::DataSource]);
        /// Folder with the dataset's IDX files (searched before $GPU_MLP_DATA, ./data/NAME/ and
        /// system folders).
        data_dir: Option<PathBuf> = None, Extra::NONE.roles(&[Role::BatchOrder, Role::DataSource, Role::NotLearned]);
        /// Train on only the first N training samples (quick runs); the test set is used whole.
        train_samples: Option<usize> = None, Extra::range(Range::AtLeast(1)).roles(&[Role::BatchOrder]);
        /// Points generated for blobs, circle, spiral and xor, split 80% train / 20% test.
        samples: usize = 1000, Extra::range(Range::AtLeast(10)).roles(&[Role::BatchOrder, Role::DataSource]);
        /// Generated sets: standard deviation of the Gaussian jitter added to each point after it
        /// is labelled (0: none; the sets span about ±3).
        noise: f32 = 0.0, Extra::range(Range::NonNegative).roles(&[Role::BatchOrder, Role::DataSource]);
        /// Input normalization: unit `[0,1]`, pm1 `[−1,1]`, standard (train mean/std), none; a
        /// table's numeric columns are standardized each by its own unless none.
        normalize: Normalize = Normalize::Unit, Extra::NONE.roles(&[Role::Network]);
        /// Fraction of the training data held out for validation, e.g. 0.1.
        val_split: f32 = 0.0, Extra::range(Range::Fraction).roles(&[Role::BatchOrder]);
        /// Refuse dataset files whose checksum is not the official one (else warn).
        strict_data: bool = false, Extra::NONE.roles(&[Role::DataSource]);
    }
}

crate::settings_group! {
    /// A CSV table to train on instead of a dataset.
    pub struct TableSettings in "table" {
        /// Train on a CSV table instead (a header row; one sample per row), with --target.
        data: Option<PathBuf> = None,
            Extra::value_name("FILE.csv").roles(&[Role::Network, Role::BatchOrder, Role::DataSource]);
        /// The table's class column.
        target: Option<String> = None, Extra::value_name("COLUMN").roles(&[Role::Network, Role::DataSource]);
        /// The table's field delimiter.
        delimiter: char = ',', Extra::NONE.roles(&[Role::Network]);
        /// Table columns to treat as categorical (one-hot) although their values are numbers,
        /// comma-separated.
        categorical: Vec<String> = Vec::new(), Extra::value_name("COLUMNS").roles(&[Role::Network]);
        /// Table columns that are not features (ids, notes), comma-separated.
        ignore: Vec<String> = Vec::new(), Extra::value_name("COLUMNS").roles(&[Role::Network]);
        /// Rows with missing values (empty, NA, NaN, ?): refuse the file, drop the rows, or fill
        /// with the training mean / most frequent category.
        missing: Missing = Missing::Error, Extra::NONE.roles(&[Role::BatchOrder]);
        /// A CSV file of test rows for the --data table (else a stratified --test-split of it).
        test_data: Option<PathBuf> = None, Extra::value_name("FILE.csv").roles(&[Role::Network, Role::DataSource]);
        /// Fraction of the --data table held out for testing, stratified by class (0: none, all
        /// rows train and no test metrics are reported).
        test_split: f32 = 0.2, Extra::range(Range::Fraction).roles(&[Role::BatchOrder, Role::DataSource]);
    }
}

crate::settings_group! {
    /// The network.
    pub struct ModelSettings in "model" {
        /// Hidden layer widths, comma-separated: `512`, or `128,64` for two layers.
        hidden: Vec<usize> = vec![512], Extra::range(Range::AtLeast(1)).roles(&[Role::Network]);
        /// Hidden activation(s): one for all layers, or a comma-separated list, one per layer.
        activation: Vec<Activation> = vec![Activation::Relu], Extra::NONE.roles(&[Role::Network]);
        /// Weight initialization (biases start at 0).
        init: Init = Init::HeUniform;
        /// Output layer and loss.
        loss: Loss = Loss::SoftmaxCrossEntropy, Extra::NONE.roles(&[Role::Network]);
        /// Dropout probability after each hidden layer, training only (inverted scaling).
        dropout: f32 = 0.0, Extra::range(Range::Fraction);
    }
}

crate::settings_group! {
    /// How long to train, on how many samples a step, and when to stop.
    pub struct LoopSettings in "loop" {
        /// Passes over the training set.
        epochs: usize = 5, Extra::range(Range::AtLeast(1));
        /// Samples per mini-batch; the last batch of an epoch may be smaller.
        batch_size: usize = 128, Extra::range(Range::UpTo(65_535)).roles(&[Role::BatchOrder]);
        /// Stop after N epochs without improvement of --monitor (needs --val-split).
        patience: Option<usize> = None, Extra::range(Range::AtLeast(1)).roles(&[Role::LaterEpochs]);
        /// Validation metric for early stopping and the best epoch.
        monitor: Monitor = Monitor::ValLoss, Extra::NONE.roles(&[Role::LaterEpochs]);
        /// At the end, give the model the best epoch's weights by --monitor (with --val-split);
        /// false keeps the last epoch's.
        restore_best: bool = true, Extra::NONE.roles(&[Role::LaterEpochs]);
        /// Shuffle the training samples every epoch (false: every epoch visits them in order).
        shuffle: bool = true, Extra::NONE.roles(&[Role::BatchOrder]);
    }
}

crate::settings_group! {
    /// Where the run computes, its seed, and what it shows while it trains.
    pub struct RunSettings in "run" {
        /// Seed for initialization, shuffling and synthetic data: same seed, same run.
        seed: u64 = 42, Extra::NONE.roles(&[Role::BatchOrder]);
        /// Where to compute: `auto` takes a hardware GPU if present, else the CPU.
        device: DeviceChoice = DeviceChoice::Auto, Extra::NONE.roles(&[Role::NotLearned, Role::LaterEpochs]);
        /// The graphics API for the GPU: `auto` takes $WGPU_BACKEND when set, else Vulkan, Metal or
        /// DX12, else OpenGL.
        backend: GraphicsApi = GraphicsApi::Auto, Extra::NONE.roles(&[Role::NotLearned]);
        /// Print the running training loss every N batches.
        log_every: Option<usize> = None,
            Extra::range(Range::AtLeast(1)).roles(&[Role::NotLearned, Role::LaterEpochs]);
        /// Draw the decision regions every N epochs (and after the first) into boundary.gif, to
        /// watch the boundary form; two-input models only (blobs, circle, spiral, xor, two numeric columns).
        boundary_every: Option<usize> = None, Extra {
            range: Range::AtLeast(1),
            default_text: None,
            value_name: Some("N"),
            roles: &[Role::NotLearned, Role::LaterEpochs],
            default_from: None,
        };
    }
}
