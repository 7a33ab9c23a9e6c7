//! The flags of every setting, derived from the declarations: `--batch-size` for `batch_size`,
//! its help with the declared default, its parser and, for a choice, its possible values. The
//! flags that were given become a TOML table laid over the config file, so an unset flag
//! overrides nothing.

use clap::builder::{PossibleValuesParser, TypedValueParser as _, ValueParser};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::declare::{Range, Role, Setting};

/// The settings given as flags, keyed as a config file keys them; `S` picks which settings a
/// command offers as flags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingFlags<S: Selection = Every>(pub toml::Table, std::marker::PhantomData<S>);

/// Which settings a command takes as flags.
pub trait Selection: Clone + Default + Send + Sync + 'static {
    fn offers(key: &str) -> bool;
}

/// Every setting (`train`, `summary`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Every;

impl Selection for Every {
    fn offers(_: &str) -> bool {
        true
    }
}

/// What one explained step depends on (`explain`): every setting but those that play no part
/// in one training step ([`Role::LaterEpochs`]: early stopping, the display, the device, as
/// `explain` runs both). Dropout is in: the CPU and the GPU draw the same masks, so both still
/// compute the same step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OneStep;

impl Selection for OneStep {
    fn offers(key: &str) -> bool {
        super::find(key).is_some_and(|s| !s.plays(Role::LaterEpochs))
    }
}

/// The graphics API alone (`info`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GraphicsApiOnly;

impl Selection for GraphicsApiOnly {
    fn offers(key: &str) -> bool {
        key == "backend"
    }
}

/// The settings `S` offers.
fn offered<S: Selection>() -> impl Iterator<Item = Setting> {
    super::all().into_iter().filter(|s| S::offers(s.key))
}

/// The flag of one setting.
fn arg(setting: &Setting) -> Arg {
    // As clap's derive does: a one-sentence help without its period.
    let sentence = setting.help.strip_suffix('.').unwrap_or(&setting.help);
    let help = match &setting.default {
        Some(default) => format!("{sentence} [default: {default}]"),
        None => sentence.to_string(),
    };
    let parser = match setting.choices.is_empty() {
        true => ValueParser::new(setting.parse_item),
        false => ValueParser::new(PossibleValuesParser::new(setting.choices.clone()).map(toml::Value::String)),
    };
    let arg = Arg::new(setting.key)
        .long(setting.flag())
        .help(help)
        .value_name(
            setting
                .value_name
                .map_or_else(|| setting.key.to_uppercase(), String::from),
        )
        .value_parser(parser)
        // Negative numbers reach the setting's parser or range check, which name the setting
        // and what it takes (not clap's "unexpected argument '-1'").
        .allow_hyphen_values(setting.range != Range::Any)
        .allow_negative_numbers(!setting.switch);
    match (setting.list, setting.switch) {
        (true, _) => arg.action(ArgAction::Append).value_delimiter(','),
        (false, true) => arg.num_args(0..=1).default_missing_value("true"),
        (false, false) => arg,
    }
}

impl<S: Selection> clap::Args for SettingFlags<S> {
    fn augment_args(cmd: Command) -> Command {
        cmd.args(offered::<S>().map(|s| arg(&s)))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<S: Selection> clap::FromArgMatches for SettingFlags<S> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut given = toml::Table::new();
        for setting in offered::<S>() {
            if matches.value_source(setting.key) != Some(ValueSource::CommandLine) {
                continue;
            }
            let mut values: Vec<toml::Value> = matches
                .get_many::<toml::Value>(setting.key)
                .map(|values| values.cloned().collect())
                .unwrap_or_default();
            let value = match setting.list {
                true => toml::Value::Array(values),
                false => values.pop().expect("a given flag has a value"),
            };
            given.insert(setting.key.into(), value);
        }
        Ok(SettingFlags(given, std::marker::PhantomData))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}
