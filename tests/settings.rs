//! Every setting is declared once (`src/settings/groups.rs`): its flag, its TOML key, its sweep
//! key, its default in `--help` and in the README, and its range check are all derived from the
//! declaration, so these tests walk the declarations and check each place against them.

use crate::common;

use std::path::Path;

use gpu_mlp::declare::Range;
use gpu_mlp::settings::{self, Config};

fn from_toml(text: &str) -> gpu_mlp::Result<Config> {
    Config::from_toml(Path::new("test.toml"), text)
}

/// `train --help` with its whitespace collapsed (clap wraps long lines).
fn train_help() -> String {
    let help = common::gpu_mlp(&["train", "--help"]);
    String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_setting_is_a_flag_with_its_declared_default() {
    let help = train_help();
    for setting in settings::all() {
        assert!(help.contains(&format!("--{} ", setting.flag())), "--{}", setting.flag());
        if let Some(default) = &setting.default {
            let shown = format!("[default: {default}]");
            assert!(help.contains(&shown), "--{}: {shown}", setting.flag());
        }
    }
}

#[test]
fn the_lr_default_is_one_function_of_the_optimizer() {
    let lr = settings::find("lr").expect("lr is declared");
    assert_eq!(
        lr.default.as_deref(),
        Some("0.1 for sgd and momentum, 0.001 for adam and adamw")
    );
    for (optimizer, want) in [("sgd", 0.1), ("momentum", 0.1), ("adam", 1e-3), ("adamw", 1e-3)] {
        let config = from_toml(&format!("optimizer = \"{optimizer}\"")).expect("valid");
        assert_eq!(config.optimizer.lr, want, "{optimizer}");
        assert_eq!(config.optimizer.lr, config.optimizer.kind.default_lr());
    }
}

#[test]
fn the_readme_table_is_the_declarations() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table = settings::readme_table();
    assert!(
        readme.contains(&table),
        "README.md's settings table differs from the declarations; it should read:\n{table}"
    );
}

/// config.toml holds exactly the declared keys, in the order of the declarations.
#[test]
fn config_toml_keys_are_the_declared_keys_in_order() {
    let text = Config::default().to_toml();
    let written: Vec<&str> = text.lines().filter_map(|l| l.split(" = ").next()).collect();
    let declared: Vec<&str> = settings::all()
        .iter()
        .map(|s| s.key)
        .filter(|k| written.contains(k))
        .collect();
    assert_eq!(written, declared, "only declared keys, in their order");
    for setting in settings::all().iter().filter(|s| !written.contains(&s.key)) {
        assert!(
            setting.default.is_none(),
            "{} has a default but is not written",
            setting.key
        );
    }
    assert_eq!(from_toml(&text).expect("config.toml reads back"), Config::default());
}

/// Each setting's default, spelled as `--sweep` spells it, is the value config.toml holds.
#[test]
fn every_default_parses_as_a_sweep_value_to_itself() {
    let defaults = toml::Table::try_from(Config::default()).expect("table");
    for setting in settings::all() {
        let (Some(text), Some(want)) = (&setting.default, defaults.get(setting.key)) else {
            continue;
        };
        if setting.key == "lr" {
            continue; // words, not a value: checked above
        }
        let text = if setting.list {
            text.replace(',', ":")
        } else {
            text.clone()
        };
        let swept = Config::setting_value(setting.key, &text).expect(setting.key);
        assert_eq!(&swept, want, "{}", setting.key);
    }
}

/// Every name a choice offers on the command line is a value its TOML key accepts.
#[test]
fn every_choice_reads_from_toml_by_its_flag_name() {
    for setting in settings::all().into_iter().filter(|s| !s.choices.is_empty()) {
        for choice in &setting.choices {
            let name = choice.get_name();
            let config = from_toml(&format!("{} = \"{name}\"", setting.key))
                .unwrap_or_else(|e| panic!("{} = {name}: {e}", setting.key));
            let back = toml::Table::try_from(&config).expect("table");
            let value = match &back[setting.key] {
                toml::Value::Array(items) => items[0].clone(),
                one => one.clone(),
            };
            assert_eq!(value.as_str(), Some(name), "{}", setting.key);
        }
    }
}

/// A value just outside each declared range is refused, naming the setting's key and flag.
#[test]
fn every_range_is_checked_naming_the_setting() {
    for setting in settings::all() {
        let outside = match setting.range {
            Range::Any => continue,
            Range::Positive => "0.0",
            Range::NonNegative => "-1.0",
            Range::Fraction => "1.0",
            Range::AtLeast(0) => continue,
            Range::AtLeast(min) => &(min - 1).to_string(),
            Range::UpTo(max) => &(max + 1).to_string(),
        };
        let value = setting.parse(outside, ':').expect(setting.key);
        // With a validation split, so patience is refused for its range, not for needing one.
        let mut table = toml::Table::from_iter([("val_split".to_string(), toml::Value::Float(0.1))]);
        table.insert(setting.key.into(), value);
        let err = Config::resolve(None, &table).expect_err(setting.key).to_string();
        assert!(
            err.contains(setting.key) && err.contains(&format!("--{}", setting.flag())),
            "{}: {err}",
            setting.key
        );
    }
}

#[test]
fn one_value_stands_for_a_list_of_one() {
    let config = from_toml("hidden = 64\nactivation = \"tanh\"").expect("valid");
    assert_eq!(config.model.hidden, [64]);
    assert_eq!(config.model.activation.len(), 1);
}

#[test]
fn an_unknown_key_is_refused_with_the_nearest_one() {
    let err = from_toml("bach_size = 32").expect_err("unknown").to_string();
    assert!(
        err.contains("unknown key `bach_size` (did you mean `batch_size`?)"),
        "{err}"
    );
    let err = Config::setting_value("lrr", "0.1").expect_err("unknown").to_string();
    assert!(err.contains("did you mean `lr`?"), "{err}");
}

#[test]
fn a_value_of_the_wrong_type_names_its_key() {
    let err = from_toml("epochs = \"many\"").expect_err("a string").to_string();
    assert!(err.contains("key `epochs`"), "{err}");
}

/// Flags are laid over a file key by key; a flag not given changes nothing.
#[test]
fn flags_override_the_file_and_unset_flags_do_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "epochs = 7\nbatch_size = 32\n").expect("write");
    let flags = toml::Table::from_iter([("epochs".to_string(), toml::Value::Integer(3))]);
    let config = Config::resolve(Some(&file), &flags).expect("valid");
    assert_eq!((config.training.epochs, config.training.batch_size), (3, 32));
}

/// What each setting plays a part in is declared with it; every list by role is derived. These
/// are the lists the code kept by hand before (a resume's two checks, comparison labels,
/// `explain`'s flags, the scikit-learn parameters), with `shuffle` and `restore_best` added.
#[test]
fn each_role_is_declared_with_its_settings() {
    use gpu_mlp::declare::Role;
    let sorted = |role| {
        let mut keys = settings::keys_playing(role);
        keys.sort_unstable();
        keys
    };
    assert_eq!(
        sorted(Role::Network),
        [
            "activation",
            "categorical",
            "data",
            "dataset",
            "delimiter",
            "hidden",
            "ignore",
            "loss",
            "normalize",
            "optimizer",
            "target",
            "test_data"
        ]
    );
    assert_eq!(
        sorted(Role::BatchOrder),
        [
            "batch_size",
            "data",
            "data_dir",
            "dataset",
            "missing",
            "noise",
            "samples",
            "seed",
            "shuffle",
            "test_split",
            "train_samples",
            "val_split"
        ]
    );
    assert_eq!(
        sorted(Role::DataSource),
        [
            "data",
            "data_dir",
            "dataset",
            "noise",
            "samples",
            "strict_data",
            "target",
            "test_data",
            "test_split"
        ]
    );
    assert_eq!(
        sorted(Role::NotLearned),
        ["backend", "boundary_every", "data_dir", "device", "log_every"]
    );
    assert_eq!(
        sorted(Role::LaterEpochs),
        [
            "boundary_every",
            "device",
            "log_every",
            "monitor",
            "patience",
            "restore_best"
        ]
    );
}

/// `info --backend` is the setting `train` takes: the same values, the same message for a bad one.
#[test]
fn info_takes_the_declared_backend_setting() {
    let bad = common::gpu_mlp(&["info", "--backend", "directx"]);
    let said = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{said}");
    assert!(
        said.contains("possible values: auto, vulkan, gl, metal, dx12"),
        "{said}"
    );
    let good = common::gpu_mlp(&["info", "--backend", "vulkan"]);
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
}
