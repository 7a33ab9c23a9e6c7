//! Every hyper-parameter of a run in one place: read from a TOML file (`--config`), overridden by
//! command-line flags, validated once, and turned into the pieces a run is built from.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::table::{load_table, Missing, TableCodec, TableSource};
use crate::data::{load, DatasetName, LoadOptions, Normalize, Splits};
use crate::device::DeviceChoice;
use crate::error::{Error, Result};
use crate::nn::model::{Activation, Init, Loss, MlpSpec, ParamLayout};
use crate::nn::optim::{Optimizer, OptimizerKind, Schedule, ScheduleKind};
use crate::training::backend::{StepMetrics, TrainOptions};
use crate::training::train::{Monitor, TrainConfig};

/// A run's full, resolved configuration. In a TOML file every key is optional (defaults below)
/// and unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub dataset: DatasetName,
    pub data_dir: Option<PathBuf>,
    /// A CSV table to train on instead of `dataset` (with `target`).
    pub data: Option<PathBuf>,
    /// The table's class column.
    pub target: Option<String>,
    /// The table's field delimiter.
    pub delimiter: char,
    /// Table columns to treat as categorical although their values are numbers.
    pub categorical: Vec<String>,
    /// Table columns that are not features.
    pub ignore: Vec<String>,
    /// What to do with a table's missing values.
    pub missing: Missing,
    /// A separate CSV file of test rows (else `test_split` of `data` is held out, stratified).
    pub test_data: Option<PathBuf>,
    pub test_split: f32,
    /// Use only the first N training samples.
    pub train_samples: Option<usize>,
    /// Points generated for a synthetic dataset (blobs, circle), 80% train / 20% test.
    pub samples: usize,
    pub normalize: Normalize,
    /// Fraction of the training data held out for validation (0: none).
    pub val_split: f32,
    /// Refuse dataset files whose checksum is not the official one (else warn).
    pub strict_data: bool,
    pub hidden: Vec<usize>,
    /// One for all hidden layers, or one per hidden layer (`"relu"` or `["tanh", "relu"]`).
    #[serde(deserialize_with = "one_or_many")]
    pub activation: Vec<Activation>,
    pub init: Init,
    pub loss: Loss,
    /// Dropout probability after each hidden layer while training.
    pub dropout: f32,
    pub optimizer: OptimizerKind,
    pub lr: f32,
    /// `lr` was not given: it is the optimizer's default (not recorded; config.toml holds the value).
    #[serde(skip)]
    pub lr_defaulted: bool,
    pub momentum: f32,
    pub nesterov: bool,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub schedule: ScheduleKind,
    /// Step schedule: epochs between decays.
    pub step_epochs: usize,
    /// Step schedule: the decay factor.
    pub gamma: f32,
    /// Cosine schedule: epochs of linear warm-up.
    pub warmup_epochs: usize,
    pub epochs: usize,
    pub batch_size: usize,
    /// Stop after this many epochs without improvement of `monitor` (needs `val_split`).
    pub patience: Option<usize>,
    pub monitor: Monitor,
    /// Print the running training loss every N batches.
    pub log_every: Option<usize>,
    /// Draw the decision regions every N epochs into boundary.gif (two-input models).
    pub boundary_every: Option<usize>,
    pub seed: u64,
    pub device: DeviceChoice,
}

impl Default for Config {
    fn default() -> Self {
        let opt = Optimizer::default();
        Config {
            dataset: DatasetName::Fashion,
            data_dir: None,
            data: None,
            target: None,
            delimiter: ',',
            categorical: Vec::new(),
            ignore: Vec::new(),
            missing: Missing::Error,
            test_data: None,
            test_split: 0.2,
            train_samples: None,
            samples: 1000,
            normalize: Normalize::Unit,
            val_split: 0.0,
            strict_data: false,
            hidden: vec![512],
            activation: vec![Activation::Relu],
            init: Init::HeUniform,
            loss: Loss::SoftmaxCrossEntropy,
            dropout: 0.0,
            optimizer: OptimizerKind::Sgd,
            lr: 0.1,
            lr_defaulted: false,
            momentum: opt.momentum,
            nesterov: opt.nesterov,
            beta1: opt.beta1,
            beta2: opt.beta2,
            eps: opt.eps,
            weight_decay: opt.weight_decay,
            schedule: ScheduleKind::Constant,
            step_epochs: 1,
            gamma: 0.5,
            warmup_epochs: 0,
            epochs: 5,
            batch_size: 128,
            patience: None,
            monitor: Monitor::ValLoss,
            log_every: None,
            boundary_every: None,
            seed: 42,
            device: DeviceChoice::Auto,
        }
    }
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`, …" as "unknown key `x` (did
/// you mean `a`?)" with the most similar valid key; other messages pass through.
fn suggest_key(message: &str) -> String {
    let names: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    match names.split_first() {
        Some((unknown, valid)) if message.starts_with("unknown field") && !valid.is_empty() => {
            let nearest = valid
                .iter()
                .max_by(|a, b| strsim::jaro_winkler(unknown, a).total_cmp(&strsim::jaro_winkler(unknown, b)))
                .map_or(String::new(), |k| format!(" (did you mean `{k}`?)"));
            format!("unknown key `{unknown}`{nearest}; valid keys: {}", valid.join(", "))
        }
        _ => message.to_string(),
    }
}

fn parse_toml(path: &Path, text: &str) -> Result<toml::Table> {
    toml::from_str::<toml::Table>(text).map_err(|e| Error::ConfigFile {
        path: path.into(),
        detail: e.message().to_string(),
    })
}

/// `key` is the TOML key; the message also names the matching `--flag`.
fn invalid(key: &'static str, detail: String) -> Error {
    Error::InvalidConfig {
        field: key,
        detail: format!("(--{}) {detail}", key.replace('_', "-")),
    }
}

/// A config file's text: a regular file of at most `MAX_CONFIG_BYTES`, in UTF-8.
fn read_config_text(path: &Path) -> Result<String> {
    let refuse = |detail: String| Error::ConfigFile {
        path: path.into(),
        detail,
    };
    let bytes = crate::files::read_bounded(path, crate::files::MAX_CONFIG_BYTES, refuse)?;
    String::from_utf8(bytes).map_err(|e| refuse(format!("is not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))
}

/// The first key of `table` whose value alone does not deserialize (the error does not say).
fn culprit_key(table: &toml::Table) -> Option<&str> {
    table.iter().find_map(|(key, value)| {
        let alone = toml::Table::from_iter([(key.clone(), value.clone())]);
        Config::deserialize(toml::Value::Table(alone))
            .is_err()
            .then_some(key.as_str())
    })
}

/// A list, or one value standing for a list of one (as the flag takes it).
fn one_or_many<'de, D, T>(deserializer: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct OneOrMany<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for OneOrMany<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a name or a list of names")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Vec<T>, E> {
            T::deserialize(serde::de::value::StrDeserializer::<E>::new(v)).map(|one| vec![one])
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(value) = seq.next_element()? {
                out.push(value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_any(OneOrMany(std::marker::PhantomData))
}

impl Config {
    /// The file's settings (if any) with `overrides` (flags that were given) on top, validated.
    pub fn resolve(file: Option<&Path>, overrides: &impl Serialize) -> Result<Config> {
        // Flags that were not given serialize to nothing, so they do not override the file.
        Config::resolve_with(file, overrides, toml::Table::new())
    }

    /// [`Config::resolve`] with `settings` (keys and values of one `--sweep` grid point) on top
    /// of the file and the flags.
    pub fn resolve_with(file: Option<&Path>, overrides: &impl Serialize, settings: toml::Table) -> Result<Config> {
        let table = match file {
            Some(path) => parse_toml(path, &read_config_text(path)?)?,
            None => toml::Table::new(),
        };
        Config::resolve_table(table, file, overrides, settings)
    }

    /// The configuration of the run whose config.toml is `file`, with `overrides` on top (a
    /// resume). Earlier versions wrote the default `dataset` beside a table run's `data`: such
    /// a file means the table.
    pub fn resolve_run(file: &Path, overrides: &impl Serialize) -> Result<Config> {
        let mut table = parse_toml(file, &read_config_text(file)?)?;
        if table.contains_key("data") {
            table.remove("dataset");
        }
        Config::resolve_table(table, Some(file), overrides, toml::Table::new())
    }

    fn resolve_table(
        mut table: toml::Table,
        file: Option<&Path>,
        overrides: &impl Serialize,
        settings: toml::Table,
    ) -> Result<Config> {
        let flags = toml::Table::try_from(overrides).map_err(|e| invalid("flags", e.to_string()))?;
        table.extend(flags);
        table.extend(settings);
        Config::from_table(file.unwrap_or(Path::new("command line")), table)
    }

    /// A setting's value as the command line spells it (`0.1`, `relu`, `128:64` for a list),
    /// typed as the key's default value is: what a TOML file would hold for it.
    pub fn setting_value(key: &str, text: &str) -> Result<toml::Value> {
        let defaults = toml::Table::try_from(Config::default()).map_err(|e| invalid("flags", e.to_string()))?;
        let bad = |expected: &str| Error::InvalidConfig {
            field: "sweep",
            detail: format!("`{key}={text}`: expected {expected}"),
        };
        let scalar = |text: &str, like: Option<&toml::Value>| -> Result<toml::Value> {
            Ok(match like {
                Some(toml::Value::Float(_)) => toml::Value::Float(text.parse().map_err(|_| bad("a number"))?),
                Some(toml::Value::Integer(_)) => toml::Value::Integer(text.parse().map_err(|_| bad("a whole number"))?),
                Some(toml::Value::Boolean(_)) => toml::Value::Boolean(text.parse().map_err(|_| bad("true or false"))?),
                Some(_) => toml::Value::String(text.into()),
                // An optional key with no default: a whole number, a number, else text.
                None => text
                    .parse::<i64>()
                    .map(toml::Value::Integer)
                    .or_else(|_| text.parse::<f64>().map(toml::Value::Float))
                    .unwrap_or_else(|_| toml::Value::String(text.into())),
            })
        };
        match defaults.get(key) {
            Some(toml::Value::Array(items)) => Ok(toml::Value::Array(
                text.split(':')
                    .map(|part| scalar(part.trim(), items.first()))
                    .collect::<Result<_>>()?,
            )),
            like => scalar(text, like),
        }
    }

    /// A configuration from TOML text alone (`path` names it in errors), validated.
    pub fn from_toml(path: &Path, text: &str) -> Result<Config> {
        Config::from_table(path, parse_toml(path, text)?)
    }

    fn from_table(path: &Path, table: toml::Table) -> Result<Config> {
        let lr_given = table.contains_key("lr");
        if table.contains_key("data") && table.contains_key("dataset") {
            return Err(invalid(
                "data",
                "trains on a CSV table instead of a --dataset: give one of them".into(),
            ));
        }
        let mut config = Config::deserialize(toml::Value::Table(table.clone())).map_err(|e| Error::ConfigFile {
            path: path.into(),
            detail: match culprit_key(&table) {
                Some(key) if !e.message().starts_with("unknown field") => format!("key `{key}`: {}", e.message()),
                _ => suggest_key(e.message()),
            },
        })?;
        if !lr_given {
            config.lr = config.optimizer.default_lr();
            config.lr_defaulted = true;
        }
        config.validate()?;
        Ok(config)
    }

    /// The whole configuration as TOML (what a run directory records, and what `--config`
    /// reruns): a table run's without `dataset`, which it does not use.
    pub fn to_toml(&self) -> String {
        // Every field is a plain value, list or table, so serialization cannot fail. Written
        // from the struct itself, so f32 values keep their short spelling (0.9, not 0.8999…).
        let text = toml::to_string(self).expect("a Config serializes to TOML");
        match self.is_table() {
            true => text
                .lines()
                .filter(|l| !l.starts_with("dataset = "))
                .map(|l| format!("{l}\n"))
                .collect(),
            false => text,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let positive = |key, v: f32| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(invalid(key, format!("must be a finite number > 0, got {v}")))
            }
        };
        let fraction = |key, v: f32| {
            if v.is_finite() && (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(invalid(key, format!("must be in [0, 1), got {v}")))
            }
        };
        let at_least_one = |key, v: usize| {
            if v >= 1 {
                Ok(())
            } else {
                Err(invalid(key, format!("must be ≥ 1, got {v}")))
            }
        };
        positive("lr", self.lr)?;
        positive("eps", self.eps)?;
        positive("gamma", self.gamma)?;
        fraction("momentum", self.momentum)?;
        fraction("dropout", self.dropout)?;
        fraction("val_split", self.val_split)?;
        if self.samples < 10 {
            return Err(invalid("samples", format!("must be ≥ 10, got {}", self.samples)));
        }
        if let Some(n) = self.patience {
            at_least_one("patience", n)?;
            if self.val_split == 0.0 {
                return Err(crate::training::train::patience_without_validation());
            }
        }
        if let Some(n) = self.boundary_every {
            at_least_one("boundary_every", n)?;
        }
        if let Some(n) = self.log_every {
            at_least_one("log_every", n)?;
        }
        fraction("beta1", self.beta1)?;
        fraction("beta2", self.beta2)?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(invalid(
                "weight_decay",
                format!("must be a finite number ≥ 0, got {}", self.weight_decay),
            ));
        }
        at_least_one("epochs", self.epochs)?;
        at_least_one("step_epochs", self.step_epochs)?;
        at_least_one("batch_size", self.batch_size)?;
        if self.batch_size > 65_535 {
            return Err(invalid(
                "batch_size",
                format!("must be ≤ 65535, got {}", self.batch_size),
            ));
        }
        if let Some(n) = self.train_samples {
            at_least_one("train_samples", n)?;
        }
        if self.hidden.contains(&0) {
            return Err(invalid(
                "hidden",
                format!("layer widths must be ≥ 1, got {:?}", self.hidden),
            ));
        }
        if self.activation.is_empty() {
            return Err(invalid("activation", "needs at least one activation".into()));
        }
        self.validate_table()
    }

    /// A table needs its target; the table keys mean nothing without one.
    fn validate_table(&self) -> Result<()> {
        match (&self.data, &self.target) {
            (Some(_), None) => {
                return Err(invalid(
                    "target",
                    "names the class column of the --data table: it is required".into(),
                ))
            }
            (None, Some(_)) => return Err(invalid("target", "needs a --data table".into())),
            _ => {}
        }
        if self.data.is_none() && self.test_data.is_some() {
            return Err(invalid("test_data", "needs a --data table to train on".into()));
        }
        if !(self.test_split.is_finite() && self.test_split > 0.0 && self.test_split < 1.0) {
            return Err(invalid(
                "test_split",
                format!("must be in (0, 1), got {}", self.test_split),
            ));
        }
        if !self.delimiter.is_ascii() || self.delimiter == '"' || self.delimiter == '\n' {
            return Err(invalid(
                "delimiter",
                format!(
                    "must be one ASCII character other than a quote or newline, got {:?}",
                    self.delimiter
                ),
            ));
        }
        // `unit` is the default: for a table it means standardized columns.
        if self.data.is_some() && self.normalize == Normalize::Pm1 {
            return Err(invalid(
                "normalize",
                "a table's numeric columns are standardized (standard, the default) or left as they are (none)".into(),
            ));
        }
        Ok(())
    }

    /// The same configuration with its file paths (data directory, tables) made absolute
    /// against the current directory.
    pub fn with_absolute_paths(&self) -> Config {
        let absolute = |p: &Option<PathBuf>| p.as_ref().map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()));
        Config {
            data_dir: absolute(&self.data_dir),
            data: absolute(&self.data),
            test_data: absolute(&self.test_data),
            ..self.clone()
        }
    }

    /// Whether the run trains on a CSV table.
    pub fn is_table(&self) -> bool {
        self.data.is_some()
    }

    /// How to read the `--data` table (None without one).
    pub fn table_source(&self) -> Option<TableSource<'_>> {
        Some(TableSource {
            path: self.data.as_deref()?,
            target: self.target.as_deref()?,
            delimiter: self.delimiter as u8,
            categorical: &self.categorical,
            ignore: &self.ignore,
            missing: self.missing,
            test_data: self.test_data.as_deref(),
            test_split: self.test_split,
            val_split: self.val_split,
            train_samples: self.train_samples,
            seed: self.seed,
            standardize: self.normalize != Normalize::None,
        })
    }

    /// The table's splits encoded by `codec` (a saved model's), or by one fitted now.
    pub fn load_table(&self, codec: Option<&TableCodec>) -> Result<Splits> {
        let source = self
            .table_source()
            .ok_or_else(|| invalid("data", "no --data table is configured".into()))?;
        load_table(&source, codec)
    }

    /// The network for `inputs` features and `classes` classes.
    pub fn spec(&self, inputs: usize, classes: usize) -> Result<MlpSpec> {
        MlpSpec::for_classes(inputs, &self.hidden, classes, self.loss)?.with_activations(&self.activation)
    }

    /// Refuses a network whose parameters, gradients, optimizer state and batch activations
    /// (held once on the host even when training on the GPU), `copies` times over, would not
    /// fit in memory.
    pub fn check_memory(&self, spec: &MlpSpec, copies: u128) -> Result<()> {
        let params = ParamLayout::new(spec).len as u128;
        let arrays = 2 + self.optimizer.state_per_param() as u128;
        let activations = 2 * self.batch_size as u128 * spec.sizes.iter().map(|&w| w as u128).sum::<u128>();
        let what = format!(
            "a {} network ({} parameters, batch {})",
            spec.describe(),
            params,
            self.batch_size
        );
        crate::memory::check_fits(
            "hidden",
            &what,
            4 * copies * (params * arrays + activations),
            crate::memory::available_bytes(),
        )
    }

    pub fn optimizer(&self) -> Optimizer {
        Optimizer {
            kind: self.optimizer,
            momentum: self.momentum,
            nesterov: self.nesterov,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
        }
    }

    pub fn train_options(&self) -> TrainOptions {
        TrainOptions {
            batch_size: self.batch_size,
            optimizer: self.optimizer(),
            dropout: self.dropout,
            seed: self.seed,
        }
    }

    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            data_dir: self.data_dir.clone(),
            seed: self.seed,
            samples: self.samples,
            strict_data: self.strict_data,
        }
    }

    /// The dataset as configured: loaded, truncated, split for validation, normalized.
    pub fn load_data(&self) -> Result<Splits> {
        if self.is_table() {
            return self.load_table(None);
        }
        if let Some(dir) = self.data_dir.as_deref().filter(|d| d.exists() && !d.is_dir()) {
            return Err(invalid(
                "data_dir",
                format!(
                    "{} is not a directory: give the folder holding the dataset",
                    dir.display()
                ),
            ));
        }
        if matches!(self.dataset, DatasetName::Blobs | DatasetName::Circle) {
            // Generated points: two f32 features and a label each, held about three times over
            // (generated, then split) — checked before generating.
            let bytes = 3 * 12 * self.samples as u128;
            let what = format!("{} generated points", self.samples);
            crate::memory::check_fits("samples", &what, bytes, crate::memory::available_bytes())?;
        }
        let mut splits = load(self.dataset, &self.load_options())?;
        if let Some(n) = self.train_samples {
            splits.train = splits.train.truncated(n);
        }
        splits.check_not_empty()?;
        splits.split_validation(self.val_split, self.seed)?;
        splits.normalize(self.normalize);
        Ok(splits)
    }

    /// The training loop's settings for `steps_per_epoch` steps per epoch.
    pub fn train_config(&self, steps_per_epoch: usize) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            schedule: self.schedule(steps_per_epoch),
            seed: self.seed,
            patience: self.patience,
            monitor: self.monitor,
            log_every: self.log_every,
            start_epoch: 0,
            start_step: 0,
            start_metrics: StepMetrics::default(),
            best_so_far: None,
        }
    }

    /// The first setting that decides an epoch's batches (which samples, in which order, how
    /// many per step) and differs in `other`: its TOML key, this value and `other`'s. A run
    /// interrupted mid-epoch can only continue where it stopped with all of them unchanged.
    pub fn batch_order_change(&self, other: &Config) -> Option<(&'static str, String, String)> {
        self.first_change(
            other,
            &[
                "dataset",
                "samples",
                "train_samples",
                "val_split",
                "batch_size",
                "seed",
                "data_dir",
                "data",
                "test_split",
                "missing",
            ],
        )
    }

    /// The first setting that shapes the network, its inputs or its optimizer state and
    /// differs in `other`: its TOML key, this value and `other`'s. A resume cannot change them.
    pub fn model_change(&self, other: &Config) -> Option<(&'static str, String, String)> {
        self.first_change(
            other,
            &[
                "dataset",
                "data",
                "target",
                "test_data",
                "delimiter",
                "categorical",
                "ignore",
                "normalize",
                "hidden",
                "activation",
                "loss",
                "optimizer",
            ],
        )
    }

    /// The first of `keys` whose value differs in `other`, with both values as a config file
    /// spells them ("none" for an unset one).
    fn first_change(&self, other: &Config, keys: &[&'static str]) -> Option<(&'static str, String, String)> {
        let as_table = |c: &Config| toml::Table::try_from(c).expect("a Config serializes to TOML");
        let (was, now) = (as_table(self), as_table(other));
        let show = |t: &toml::Table, key: &str| match t.get(key) {
            None => "none".to_string(),
            Some(toml::Value::String(s)) => s.clone(),
            // Every float setting is an f32: shown as one (0.1, not 0.10000000149011612).
            Some(toml::Value::Float(f)) => (*f as f32).to_string(),
            Some(v) => v.to_string(),
        };
        keys.iter().find_map(|&key| {
            let (a, b) = (show(&was, key), show(&now, key));
            (a != b).then_some((key, a, b))
        })
    }

    /// The learning-rate schedule for a run of `steps_per_epoch` steps per epoch.
    pub fn schedule(&self, steps_per_epoch: usize) -> Schedule {
        Schedule {
            kind: self.schedule,
            base_lr: self.lr,
            step_epochs: self.step_epochs,
            gamma: self.gamma,
            warmup_steps: self.warmup_epochs * steps_per_epoch,
            total_steps: self.epochs * steps_per_epoch,
        }
    }
}
