//! How a setting is declared. [`settings_group!`](crate::settings_group) turns one list of settings (name, type,
//! default, help, valid range) into a group struct (fields, serde for TOML, `Default`) and a
//! table of [`Setting`]s; the flags, the sweep keys, the validation, `config.toml` and the
//! README's table of defaults are all derived from that table.

use std::path::PathBuf;

use clap::builder::PossibleValue;

/// What one setting is: everything but its value.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The TOML key, the sweep key and the Python keyword; the flag is its kebab-case.
    pub key: &'static str,
    /// The group it belongs to (`model`, `optimizer`, …).
    pub group: &'static str,
    /// What it does, as `--help` shows it (the doc comment of its declaration).
    pub help: String,
    /// Its default as the command line spells it (None: unset unless given).
    pub default: Option<String>,
    /// The names it takes, for a choice (an enum); empty otherwise.
    pub choices: Vec<PossibleValue>,
    /// Holds a list: the flag takes comma-separated items, a sweep value `:`-separated ones.
    pub list: bool,
    /// A yes/no switch: the flag alone means true.
    pub switch: bool,
    /// Takes text (a name, a path, a choice), not a number or a switch.
    pub text: bool,
    /// One item as the command line spells it, typed as its TOML value.
    pub parse_item: fn(&str) -> Result<toml::Value, String>,
    pub range: Range,
    /// The flag's placeholder (`FILE.csv`) instead of the key in capitals.
    pub value_name: Option<&'static str>,
    /// What it plays a part in.
    pub roles: &'static [Role],
    /// Its default when it depends on the other settings given (see [`Extra::default_from`]).
    pub default_from: Option<fn(&toml::Table) -> toml::Value>,
}

impl Setting {
    /// Whether it plays `role`.
    pub fn plays(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The flag's name: `--batch-size` for `batch_size`.
    pub fn flag(&self) -> String {
        self.key.replace('_', "-")
    }

    /// A value as the command line or a sweep spells it (list items separated by `separator`),
    /// as a TOML file would hold it.
    pub fn parse(&self, text: &str, separator: char) -> Result<toml::Value, String> {
        match self.list {
            true => text
                .split(separator)
                .map(|item| (self.parse_item)(item.trim()))
                .collect::<Result<_, _>>()
                .map(toml::Value::Array),
            false => (self.parse_item)(text),
        }
    }
}

/// The values a number setting may take, checked when a run's settings are validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    Any,
    /// A finite number > 0.
    Positive,
    /// A finite number ≥ 0.
    NonNegative,
    /// In [0, 1).
    Fraction,
    /// A whole number ≥ the bound.
    AtLeast(u64),
    /// A whole number in [1, the bound].
    UpTo(u64),
}

impl Range {
    /// Why `value` is out of range, or None.
    fn refuse_float(self, v: f32) -> Option<String> {
        let ok = match self {
            Range::Positive => v.is_finite() && v > 0.0,
            Range::NonNegative => v.is_finite() && v >= 0.0,
            Range::Fraction => v.is_finite() && (0.0..1.0).contains(&v),
            _ => true,
        };
        (!ok).then(|| format!("must be {}, got {v}", self.describe()))
    }

    fn refuse_whole(self, v: u64) -> Option<String> {
        match self {
            Range::AtLeast(min) if v < min => Some(format!("must be ≥ {min}, got {v}")),
            Range::UpTo(_) if v < 1 => Some(format!("must be ≥ 1, got {v}")),
            Range::UpTo(max) if v > max => Some(format!("must be ≤ {max}, got {v}")),
            _ => None,
        }
    }

    /// What a value in the range is, in words: "a whole number in 1..=65535", "a number in
    /// [0, 1)", "a finite number > 0" (None for any value).
    pub fn expected(self) -> Option<String> {
        match self {
            Range::Any => None,
            Range::Positive | Range::NonNegative => Some(self.describe()),
            Range::Fraction => Some(format!("a number {}", self.describe())),
            Range::AtLeast(_) | Range::UpTo(_) => Some(format!("a whole number {}", self.describe())),
        }
    }

    /// The range in words, as the messages and the README give it.
    pub fn describe(self) -> String {
        match self {
            Range::Any => "any value".into(),
            Range::Positive => "a finite number > 0".into(),
            Range::NonNegative => "a finite number ≥ 0".into(),
            Range::Fraction => "in [0, 1)".into(),
            Range::AtLeast(min) => format!("≥ {min}"),
            Range::UpTo(max) => format!("in 1..={max}"),
        }
    }
}

/// A type a setting can have: how the command line spells it, its default in words, its range.
pub trait SettingType {
    /// One item as the command line spells it, as a TOML value.
    fn parse_item(text: &str) -> Result<toml::Value, String>;
    /// The value in the command line's words (None: unset).
    fn describe(&self) -> Option<String>;
    /// Why the value is outside `range`, or None.
    fn refuse(&self, _range: Range) -> Option<String> {
        None
    }
    fn choices() -> Vec<PossibleValue> {
        Vec::new()
    }
    const LIST: bool = false;
    const SWITCH: bool = false;
    /// Takes text (a name, a path, a choice), not a number or a switch.
    const TEXT: bool = false;
}

impl SettingType for f32 {
    fn parse_item(text: &str) -> Result<toml::Value, String> {
        let v: f32 = text.parse().map_err(|_| "expected a number".to_string())?;
        Ok(toml::Value::Float(f64::from(v)))
    }

    /// The shorter of the plain and the scientific spelling: `0.9`, `0`, `1e-8`.
    fn describe(&self) -> Option<String> {
        let (plain, short) = (self.to_string(), format!("{self:?}"));
        Some(if short.len() < plain.len() { short } else { plain })
    }

    fn refuse(&self, range: Range) -> Option<String> {
        range.refuse_float(*self)
    }
}

/// Why `text` is not a whole number ≥ 0: it is negative, or not a whole number at all.
pub fn whole_number_expected(text: &str) -> String {
    match text.trim().parse::<i128>() {
        Ok(v) if v < 0 => format!("expected a whole number ≥ 0, got {v}"),
        _ => "expected a whole number".into(),
    }
}

/// Whole numbers (counts and seeds) a TOML file can hold too: TOML integers are signed 64-bit.
macro_rules! whole_setting {
    ($($t:ty),*) => {$(
        impl SettingType for $t {
            fn parse_item(text: &str) -> Result<toml::Value, String> {
                match text.parse::<u64>() {
                    Ok(v) if v <= i64::MAX as u64 && <$t>::try_from(v).is_ok() => Ok(toml::Value::Integer(v as i64)),
                    Ok(v) => Err(format!("{v} is not in 0..={}", i64::MAX)),
                    Err(_) => Err(whole_number_expected(text)),
                }
            }

            fn describe(&self) -> Option<String> {
                Some(self.to_string())
            }

            fn refuse(&self, range: Range) -> Option<String> {
                range.refuse_whole(*self as u64)
            }
        }
    )*};
}
whole_setting!(usize, u64);

impl SettingType for bool {
    fn parse_item(text: &str) -> Result<toml::Value, String> {
        text.parse()
            .map(toml::Value::Boolean)
            .map_err(|_| "expected true or false".into())
    }

    fn describe(&self) -> Option<String> {
        Some(self.to_string())
    }

    const SWITCH: bool = true;
}

impl SettingType for char {
    fn parse_item(text: &str) -> Result<toml::Value, String> {
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(toml::Value::String(c.into())),
            _ => Err("expected one character".into()),
        }
    }

    fn describe(&self) -> Option<String> {
        Some(self.to_string())
    }

    const TEXT: bool = true;
}

impl SettingType for String {
    fn parse_item(text: &str) -> Result<toml::Value, String> {
        Ok(toml::Value::String(text.into()))
    }

    fn describe(&self) -> Option<String> {
        Some(self.clone())
    }

    const TEXT: bool = true;
}

impl SettingType for PathBuf {
    fn parse_item(text: &str) -> Result<toml::Value, String> {
        Ok(toml::Value::String(text.into()))
    }

    fn describe(&self) -> Option<String> {
        Some(self.display().to_string())
    }

    const TEXT: bool = true;
}

impl<T: SettingType> SettingType for Option<T> {
    fn parse_item(text: &str) -> Result<toml::Value, String> {
        T::parse_item(text)
    }

    fn describe(&self) -> Option<String> {
        self.as_ref().and_then(T::describe)
    }

    fn refuse(&self, range: Range) -> Option<String> {
        self.as_ref().and_then(|v| v.refuse(range))
    }

    fn choices() -> Vec<PossibleValue> {
        T::choices()
    }

    const LIST: bool = T::LIST;
    const SWITCH: bool = T::SWITCH;
    const TEXT: bool = T::TEXT;
}

impl<T: SettingType> SettingType for Vec<T> {
    fn parse_item(text: &str) -> Result<toml::Value, String> {
        T::parse_item(text)
    }

    fn describe(&self) -> Option<String> {
        let items: Vec<String> = self.iter().filter_map(T::describe).collect();
        (!items.is_empty()).then(|| items.join(","))
    }

    fn refuse(&self, range: Range) -> Option<String> {
        self.iter().find_map(|v| v.refuse(range))
    }

    fn choices() -> Vec<PossibleValue> {
        T::choices()
    }

    const LIST: bool = true;
    const TEXT: bool = T::TEXT;
}

/// A choice between named values (a `clap::ValueEnum` whose names are its serde names).
#[macro_export]
#[doc(hidden)]
macro_rules! choice_setting {
    ($($t:ty),*) => {$(
        impl $crate::declare::SettingType for $t {
            fn parse_item(text: &str) -> Result<toml::Value, String> {
                <$t as clap::ValueEnum>::from_str(text, false)
                    .map(|v| toml::Value::String($crate::declare::choice_name(&v)))
            }

            fn describe(&self) -> Option<String> {
                Some($crate::declare::choice_name(self))
            }

            fn choices() -> Vec<clap::builder::PossibleValue> {
                <$t as clap::ValueEnum>::value_variants()
                    .iter()
                    .filter_map(clap::ValueEnum::to_possible_value)
                    .collect()
            }

            const TEXT: bool = true;
        }
    )*};
}

/// A choice's name as the flag, the TOML file and the messages spell it.
pub fn choice_name(value: &impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(|| "?".into(), |v| v.get_name().to_string())
}

/// What a setting plays a part in, declared with it: every list of settings by what they
/// change (a resume's checks, a Keras refit, comparison labels, `explain`'s flags, the
/// scikit-learn parameters) is derived from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Shapes the network, its inputs or its optimizer state: a resume cannot change it, and a
    /// Python `fit` that changes it builds a new network.
    Network,
    /// Decides an epoch's batches (which samples, in which order, how many a step): a run
    /// stopped mid-epoch resumes only with it unchanged.
    BatchOrder,
    /// Names where the data come from: scikit-learn's `fit(X, y)` gives the data instead.
    DataSource,
    /// Changes where or how visibly a run computes, not what it learns: never in the label
    /// that tells compared runs apart.
    NotLearned,
    /// Plays no part in one training step (early stopping, the display, the device `explain`
    /// runs both of): `explain` does not take it.
    LaterEpochs,
}

impl Role {
    /// The role's name, as `gpu_mlp.settings()` lists it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Network => "network",
            Role::BatchOrder => "batch_order",
            Role::DataSource => "data_source",
            Role::NotLearned => "not_learned",
            Role::LaterEpochs => "later_epochs",
        }
    }
}

/// What a declaration may add to a setting besides its type and default.
#[derive(Debug, Clone, Copy)]
pub struct Extra {
    pub range: Range,
    /// The default in words when it is not one value (the lr's depends on the optimizer).
    pub default_text: Option<fn() -> String>,
    pub value_name: Option<&'static str>,
    pub roles: &'static [Role],
    /// A default that depends on the other settings given (the lr's on the optimizer): their
    /// table in, the value out.
    pub default_from: Option<fn(&toml::Table) -> toml::Value>,
}

impl Extra {
    pub const NONE: Extra = Extra {
        range: Range::Any,
        default_text: None,
        value_name: None,
        roles: &[],
        default_from: None,
    };

    pub const fn range(range: Range) -> Extra {
        Extra { range, ..Extra::NONE }
    }

    pub const fn value_name(name: &'static str) -> Extra {
        Extra {
            value_name: Some(name),
            ..Extra::NONE
        }
    }

    /// The same, playing `roles`.
    pub const fn roles(self, roles: &'static [Role]) -> Extra {
        Extra { roles, ..self }
    }
}

/// The settings of one group, as [`settings_group!`](crate::settings_group) declares them.
pub trait Group: Default + serde::Serialize + serde::de::DeserializeOwned {
    /// Every setting of the group, in the order of the declaration.
    fn settings() -> Vec<Setting>;
    /// The first setting whose value is outside its range: its key and why.
    fn refuse(&self) -> Option<(&'static str, String)>;
}

/// Declares a group of settings once: a struct with one field per setting (the doc comment is
/// the help, `= default`, an optional [`Extra`] with the range, a worded default or the flag's
/// placeholder; `field as "key"` where the TOML key differs from the field), and the group's
/// [`Setting`] table.
#[macro_export]
#[doc(hidden)]
macro_rules! settings_group {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $group:literal {
            $(
                $(#[doc = $doc:literal])+
                $field:ident $(as $key:literal)? : $ty:ty = $default:expr $(, $extra:expr)? ;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        pub struct $name {
            $(
                $(#[doc = $doc])+
                $(#[serde(rename = $key)])?
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default,)* }
            }
        }

        impl $crate::declare::Group for $name {
            fn settings() -> Vec<$crate::declare::Setting> {
                use $crate::declare::{Setting, SettingType};
                let defaults = $name::default();
                vec![$({
                    let extra: $crate::declare::Extra = $crate::settings_group!(@extra $($extra)?);
                    Setting {
                        key: $crate::settings_group!(@key $field $($key)?),
                        group: $group,
                        help: [$($doc.trim()),+].join(" "),
                        default: extra.default_text.map(|text| text()).or_else(|| defaults.$field.describe()),
                        choices: <$ty as SettingType>::choices(),
                        list: <$ty as SettingType>::LIST,
                        switch: <$ty as SettingType>::SWITCH,
                        text: <$ty as SettingType>::TEXT,
                        parse_item: <$ty as SettingType>::parse_item,
                        range: extra.range,
                        value_name: extra.value_name,
                        roles: extra.roles,
                        default_from: extra.default_from,
                    }
                }),*]
            }

            fn refuse(&self) -> Option<(&'static str, String)> {
                use $crate::declare::SettingType;
                $({
                    let extra: $crate::declare::Extra = $crate::settings_group!(@extra $($extra)?);
                    if let Some(why) = self.$field.refuse(extra.range) {
                        return Some(($crate::settings_group!(@key $field $($key)?), why));
                    }
                })*
                None
            }
        }
    };
    (@key $field:ident) => { stringify!($field) };
    (@key $field:ident $key:literal) => { $key };
    (@extra) => { $crate::declare::Extra::NONE };
    (@extra $extra:expr) => { $extra };
}
