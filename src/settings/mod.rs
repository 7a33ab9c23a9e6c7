//! Every setting of a run, declared once ([`groups`] and [`crate::nn::optim`], with
//! [`crate::declare`]'s macro) and derived everywhere else: read from a TOML file (`--config`),
//! overridden by flags ([`flags`]), sweep values or a page's link, validated once and recorded
//! as `config.toml`. What a run is built from them is the `plan` module's.

pub mod flags;
pub mod groups;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::table::TableSource;
use crate::data::Normalize;
use crate::declare::{self, Group, Role, Setting};
use crate::error::{Error, Result};
pub use crate::nn::optim::{Optimizer, OptimizerKind, ScheduleKind, ScheduleSettings};
pub use groups::{DataSettings, LoopSettings, ModelSettings, RunSettings, TableSettings};

/// A run's full, resolved configuration, group by group. A TOML file holds the groups' keys
/// flat: every key optional (defaults from the declarations); a key no group declares is an
/// error, checked before deserializing (each group picks its own keys from the flat table).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub data: DataSettings,
    #[serde(flatten)]
    pub table: TableSettings,
    #[serde(flatten)]
    pub model: ModelSettings,
    #[serde(flatten)]
    pub optimizer: Optimizer,
    #[serde(flatten)]
    pub schedule: ScheduleSettings,
    #[serde(flatten)]
    pub training: LoopSettings,
    #[serde(flatten)]
    pub run: RunSettings,
}

/// A setting's value as a person writes it: text unquoted, an f32 as one (0.1, not
/// 0.10000000149011612), a list's items joined by `list_separator` (`,` as flags take them,
/// `:` as `--sweep` does).
pub fn value_text(value: &toml::Value, list_separator: &str) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        // Every float setting is an f32.
        toml::Value::Float(f) => (*f as f32).to_string(),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| value_text(item, list_separator))
            .collect::<Vec<_>>()
            .join(list_separator),
        v => v.to_string(),
    }
}

/// Every setting, group by group, in the order of the declarations.
pub fn all() -> Vec<Setting> {
    [
        DataSettings::settings(),
        TableSettings::settings(),
        ModelSettings::settings(),
        Optimizer::settings(),
        ScheduleSettings::settings(),
        LoopSettings::settings(),
        RunSettings::settings(),
    ]
    .concat()
}

/// The keys of the settings playing `role`, in the order of the declarations.
pub fn keys_playing(role: Role) -> Vec<&'static str> {
    all().into_iter().filter(|s| s.plays(role)).map(|s| s.key).collect()
}

/// The setting whose key is `key`.
pub fn find(key: &str) -> Option<Setting> {
    all().into_iter().find(|s| s.key == key)
}

/// The README's table of settings: a row per group, each key with its choices and its default.
pub fn readme_table() -> String {
    let mut rows = vec!["| group | keys (defaults) |".to_string(), "| --- | --- |".to_string()];
    let settings = all();
    let mut groups: Vec<&str> = settings.iter().map(|s| s.group).collect();
    groups.dedup();
    for group in groups {
        let keys: Vec<String> = settings
            .iter()
            .filter(|s| s.group == group)
            .map(|s| {
                let choices: Vec<&str> = s.choices.iter().map(|c| c.get_name()).collect();
                let choices = match choices.is_empty() {
                    true => String::new(),
                    false => format!(" = {}", choices.join(" \\| ")),
                };
                let default = s.default.as_deref().unwrap_or("none");
                format!("`{}`{choices} ({default})", s.key)
            })
            .collect();
        rows.push(format!("| {group} | {} |", keys.join("; ")));
    }
    rows.join("\n") + "\n"
}

/// "unknown key `x` (did you mean `a`?); valid keys: …", with the most similar valid key.
fn unknown_key(unknown: &str) -> String {
    let keys: Vec<&str> = all().iter().map(|s| s.key).collect();
    let nearest = keys
        .iter()
        .max_by(|a, b| strsim::jaro_winkler(unknown, a).total_cmp(&strsim::jaro_winkler(unknown, b)))
        .map_or(String::new(), |k| format!(" (did you mean `{k}`?)"));
    format!("unknown key `{unknown}`{nearest}; valid keys: {}", keys.join(", "))
}

fn parse_toml(path: &Path, text: &str) -> Result<toml::Table> {
    toml::from_str::<toml::Table>(text).map_err(|e| Error::ConfigFile {
        path: path.into(),
        detail: e.message().to_string(),
    })
}

/// `key` is the TOML key; the message also names the matching `--flag`.
pub(crate) fn invalid(key: &'static str, detail: String) -> Error {
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

/// The first key of `table` whose value alone does not deserialize (serde's message does not
/// say which).
fn culprit_key(table: &toml::Table) -> Option<&str> {
    table.iter().find_map(|(key, value)| {
        let alone = toml::Table::from_iter([(key.clone(), value.clone())]);
        Config::deserialize(toml::Value::Table(alone))
            .is_err()
            .then_some(key.as_str())
    })
}

impl Config {
    /// The file's settings (if any) with `overrides` (flags that were given) on top, validated.
    pub fn resolve(file: Option<&Path>, overrides: &toml::Table) -> Result<Config> {
        Config::resolve_with(file, overrides, toml::Table::new())
    }

    /// [`Config::resolve`] with `settings` (keys and values of one `--sweep` grid point) on top
    /// of the file and the flags.
    pub fn resolve_with(file: Option<&Path>, overrides: &toml::Table, settings: toml::Table) -> Result<Config> {
        let table = match file {
            Some(path) => parse_toml(path, &read_config_text(path)?)?,
            None => toml::Table::new(),
        };
        Config::resolve_table(table, file, overrides, settings)
    }

    /// `table` (a front end's values, such as Python keywords; `origin` names them in errors)
    /// with `overrides` on top, validated.
    pub fn resolve_from(origin: &Path, table: toml::Table, overrides: &toml::Table) -> Result<Config> {
        Config::resolve_table(table, Some(origin), overrides, toml::Table::new())
    }

    /// The configuration of the run whose config.toml is `file`, with `overrides` on top (a
    /// resume). Earlier versions wrote the default `dataset` beside a table run's `data`: such
    /// a file means the table.
    pub fn resolve_run(file: &Path, overrides: &toml::Table) -> Result<Config> {
        let mut table = parse_toml(file, &read_config_text(file)?)?;
        if table.contains_key("data") {
            table.remove("dataset");
        }
        Config::resolve_table(table, Some(file), overrides, toml::Table::new())
    }

    fn resolve_table(
        mut table: toml::Table,
        file: Option<&Path>,
        overrides: &toml::Table,
        settings: toml::Table,
    ) -> Result<Config> {
        table.extend(overrides.clone());
        table.extend(settings);
        Config::from_table(file.unwrap_or(Path::new("command line")), table)
    }

    /// A setting's value as a `--sweep` spells it (`0.1`, `relu`, `128:64` for a list): what a
    /// TOML file would hold for it.
    pub fn setting_value(key: &str, text: &str) -> Result<toml::Value> {
        let bad = |detail: String| Error::InvalidConfig { field: "sweep", detail };
        let setting = find(key).ok_or_else(|| bad(unknown_key(key)))?;
        setting
            .parse(text, ':')
            .map_err(|why| bad(format!("`{key}={text}`: {why}")))
    }

    /// Settings given as text, key by key, each as its flag takes it (`hidden=128,64`): a web
    /// page's URL query. `origin` names them in errors. Validated, as a config file is.
    pub fn from_texts<'a>(origin: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Config> {
        let file = |detail: String| Error::ConfigFile {
            path: origin.into(),
            detail,
        };
        let mut table = toml::Table::new();
        for (key, text) in pairs {
            let setting = find(key).ok_or_else(|| file(unknown_key(key)))?;
            let value = setting
                .parse(text, ',')
                .map_err(|why| invalid(setting.key, format!("invalid value '{text}': {why}")))?;
            if table.insert(key.into(), value).is_some() {
                return Err(file(format!("`{key}` is given twice")));
            }
        }
        Config::from_table(Path::new(origin), table)
    }

    /// A configuration from TOML text alone (`path` names it in errors), validated.
    pub fn from_toml(path: &Path, text: &str) -> Result<Config> {
        Config::from_table(path, parse_toml(path, text)?)
    }

    fn from_table(path: &Path, mut table: toml::Table) -> Result<Config> {
        if table.contains_key("data") && table.contains_key("dataset") {
            return Err(invalid(
                "data",
                "trains on a CSV table instead of a --dataset: give one of them".into(),
            ));
        }
        let settings = all();
        // Defaults that depend on other settings (the lr on the optimizer), as declared.
        for setting in &settings {
            if let (false, Some(default)) = (table.contains_key(setting.key), setting.default_from) {
                let value = default(&table);
                table.insert(setting.key.into(), value);
            }
        }
        for (key, value) in table.iter_mut() {
            match settings.iter().find(|s| s.key == key) {
                None => {
                    return Err(Error::ConfigFile {
                        path: path.into(),
                        detail: unknown_key(key),
                    })
                }
                // One value stands for a list of one, as the flag takes it (`activation = "relu"`).
                Some(s) if s.list && !value.is_array() => *value = toml::Value::Array(vec![value.clone()]),
                Some(_) => {}
            }
        }
        let config = Config::deserialize(toml::Value::Table(table.clone())).map_err(|e| Error::ConfigFile {
            path: path.into(),
            detail: match culprit_key(&table) {
                Some(key) => format!("key `{key}`: {}", e.message()),
                None => e.message().to_string(),
            },
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The whole configuration as TOML (what a run directory records, and what `--config`
    /// reruns): a table run's without `dataset`, which it does not use.
    pub fn to_toml(&self) -> String {
        self.toml_text(!self.is_table())
    }

    /// [`Config::to_toml`] of a run whose data came as arrays: without `dataset`.
    pub fn to_toml_for_arrays(&self) -> String {
        self.toml_text(false)
    }

    fn toml_text(&self, with_dataset: bool) -> String {
        // Every field is a plain value, list or table, so serialization cannot fail. Written
        // from the struct itself, so f32 values keep their short spelling (0.9, not 0.8999…).
        let text = toml::to_string(self).expect("a Config serializes to TOML");
        match !with_dataset {
            true => text
                .lines()
                .filter(|l| !l.starts_with("dataset = "))
                .map(|l| format!("{l}\n"))
                .collect(),
            false => text,
        }
    }

    /// Every setting within its declared range, then the rules that join settings.
    pub fn validate(&self) -> Result<()> {
        let refused = [
            self.data.refuse(),
            self.table.refuse(),
            self.model.refuse(),
            self.optimizer.refuse(),
            self.schedule.refuse(),
            self.training.refuse(),
            self.run.refuse(),
        ];
        if let Some((key, why)) = refused.into_iter().flatten().next() {
            return Err(invalid(key, why));
        }
        if self.model.activation.is_empty() {
            return Err(invalid("activation", "needs at least one activation".into()));
        }
        self.validate_table()
    }

    /// A table needs its target; the table keys mean nothing without one.
    fn validate_table(&self) -> Result<()> {
        let table = &self.table;
        match (&table.data, &table.target) {
            (Some(_), None) => {
                return Err(invalid(
                    "target",
                    "names the class column of the --data table: it is required".into(),
                ))
            }
            (None, Some(_)) => return Err(invalid("target", "needs a --data table".into())),
            _ => {}
        }
        if table.data.is_none() && table.test_data.is_some() {
            return Err(invalid("test_data", "needs a --data table to train on".into()));
        }
        if !table.delimiter.is_ascii() || table.delimiter == '"' || table.delimiter == '\n' {
            return Err(invalid(
                "delimiter",
                format!(
                    "must be one ASCII character other than a quote or newline, got {:?}",
                    table.delimiter
                ),
            ));
        }
        // `unit` is the default: for a table it means standardized columns.
        if table.data.is_some() && self.data.normalize == Normalize::Pm1 {
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
        let mut config = self.clone();
        config.data.data_dir = absolute(&self.data.data_dir);
        config.table.data = absolute(&self.table.data);
        config.table.test_data = absolute(&self.table.test_data);
        config
    }

    /// What the run trains on, in a word for its directory's name: the dataset, or the table
    /// file's stem.
    pub fn data_label(&self) -> String {
        match &self.table.data {
            Some(path) => path
                .file_stem()
                .map_or_else(|| "table".into(), |s| s.to_string_lossy().into_owned()),
            None => declare::choice_name(&self.data.dataset),
        }
    }

    /// Whether the run trains on a CSV table.
    pub fn is_table(&self) -> bool {
        self.table.data.is_some()
    }

    /// How to read the `--data` table (None without one).
    pub fn table_source(&self) -> Option<TableSource<'_>> {
        let table = &self.table;
        Some(TableSource {
            path: table.data.as_deref()?,
            target: table.target.as_deref()?,
            delimiter: table.delimiter as u8,
            categorical: &table.categorical,
            ignore: &table.ignore,
            missing: table.missing,
            test_data: table.test_data.as_deref(),
            test_split: table.test_split,
            val_split: self.data.val_split,
            train_samples: self.data.train_samples,
            seed: self.run.seed,
            standardize: self.data.normalize != Normalize::None,
        })
    }

    /// The first setting that decides an epoch's batches ([`Role::BatchOrder`]) and differs in
    /// `other`: its TOML key, this value and `other`'s. A run interrupted mid-epoch can only
    /// continue where it stopped with all of them unchanged.
    pub fn batch_order_change(&self, other: &Config) -> Option<(&'static str, String, String)> {
        self.first_change(other, Role::BatchOrder)
    }

    /// The first setting that shapes the network, its inputs or its optimizer state
    /// ([`Role::Network`]) and differs in `other`: its TOML key, this value and `other`'s. A
    /// resume cannot change them.
    pub fn model_change(&self, other: &Config) -> Option<(&'static str, String, String)> {
        self.first_change(other, Role::Network)
    }

    /// The first setting playing `role` whose value differs in `other`, with both values as a
    /// config file spells them ("none" for an unset one).
    fn first_change(&self, other: &Config, role: Role) -> Option<(&'static str, String, String)> {
        let as_table = |c: &Config| toml::Table::try_from(c).expect("a Config serializes to TOML");
        let (was, now) = (as_table(self), as_table(other));
        // As a config file spells it: a list in brackets ([12, 6]).
        let show = |t: &toml::Table, key: &str| match t.get(key) {
            None => "none".to_string(),
            Some(list @ toml::Value::Array(_)) => list.to_string(),
            Some(v) => value_text(v, ","),
        };
        all().into_iter().filter(|s| s.plays(role)).find_map(|s| {
            let (a, b) = (show(&was, s.key), show(&now, s.key));
            (a != b).then_some((s.key, a, b))
        })
    }
}
