//! The findings read the run they judge: each names the run's own settings and advises only
//! settings the run does not already have. Histories are built by hand so each finding fires
//! (or stays quiet) for one reason.

use std::path::Path;

use gpu_mlp::insight::findings::findings;
use gpu_mlp::run::artifacts::HistoryRow;
use gpu_mlp::settings::Config;
use gpu_mlp::training::diagnostics::LayerDiagnostics;

fn config(toml: &str) -> Config {
    Config::from_toml(Path::new("test.toml"), toml).expect("valid settings")
}

fn layer(weight_grad_norm: f64, dead_fraction: Option<f64>) -> LayerDiagnostics {
    LayerDiagnostics {
        weight_grad_norm,
        bias_grad_norm: weight_grad_norm,
        weight_norm: 1.0,
        update_ratio: 1e-3,
        activation_mean: dead_fraction.map(|_| 0.5),
        activation_std: dead_fraction.map(|_| 0.5),
        dead_fraction,
    }
}

fn row(epoch: usize, train_accuracy: f64, test_accuracy: f64, layers: Vec<LayerDiagnostics>) -> HistoryRow {
    HistoryRow {
        epoch,
        train_loss: 0.5,
        train_accuracy,
        val_loss: None,
        val_accuracy: None,
        test_loss: Some(0.5),
        test_accuracy: Some(test_accuracy),
        lr: 0.1,
        seconds: 1.0,
        samples_per_second: 1.0,
        test_auc: None,
        layers,
    }
}

fn said(history: &[HistoryRow], settings: &Config) -> String {
    findings(history, settings, 0.1).join("\n")
}

/// Half the units of hidden layer 1 dead, gradients healthy, accuracy fine.
fn dead_units() -> Vec<HistoryRow> {
    vec![row(1, 0.9, 0.9, vec![layer(1.0, Some(0.5)), layer(1.0, None)])]
}

#[test]
fn dead_units_advise_he_init_only_when_the_run_lacks_it() {
    let default_init = said(&dead_units(), &config(""));
    assert!(default_init.contains("units never fired"), "{default_init}");
    assert!(!default_init.contains("--init he-uniform"), "{default_init}");
    assert!(default_init.contains("a learning rate below 0.1"), "{default_init}");
    let uniform = said(&dead_units(), &config("init = \"uniform\""));
    assert!(uniform.contains("--init he-uniform"), "{uniform}");
}

#[test]
fn healthy_runs_have_no_findings() {
    let healthy = vec![row(1, 0.9, 0.89, vec![layer(1.0, Some(0.0)), layer(1.0, None)])];
    assert_eq!(said(&healthy, &config("")), "");
}

/// Training accuracy far above test accuracy.
fn overfitting() -> Vec<HistoryRow> {
    vec![row(1, 0.99, 0.7, vec![layer(1.0, Some(0.0)), layer(1.0, None)])]
}

#[test]
fn overfitting_advises_what_the_run_does_not_use() {
    let plain = said(&overfitting(), &config(""));
    assert!(plain.contains("overfitting"), "{plain}");
    for remedy in ["--dropout", "--weight-decay", "--patience"] {
        assert!(plain.contains(remedy), "{remedy}: {plain}");
    }
    let regularized = said(
        &overfitting(),
        &config("dropout = 0.2\nweight_decay = 0.0001\nval_split = 0.1\npatience = 3"),
    );
    assert!(regularized.contains("more --dropout than 0.2"), "{regularized}");
    assert!(!regularized.contains("--weight-decay"), "{regularized}");
    assert!(!regularized.contains("--patience"), "{regularized}");
}

/// The input layer's gradient 10⁴ times below the output layer's.
fn vanishing() -> Vec<HistoryRow> {
    vec![row(
        1,
        0.9,
        0.9,
        vec![layer(1e-4, Some(0.0)), layer(1e-2, Some(0.0)), layer(1.0, None)],
    )]
}

#[test]
fn vanishing_gradients_name_the_activation_and_init_not_the_lr() {
    let sigmoid = said(
        &vanishing(),
        &config("hidden = [64, 64]\nactivation = \"sigmoid\"\ninit = \"uniform\""),
    );
    assert!(sigmoid.contains("vanishing gradients"), "{sigmoid}");
    for remedy in ["--activation relu", "--init he-uniform", "fewer hidden layers"] {
        assert!(sigmoid.contains(remedy), "{remedy}: {sigmoid}");
    }
    assert!(!sigmoid.contains("learning rate"), "{sigmoid}");
    let relu = said(&vanishing(), &config("hidden = [64, 64]"));
    assert!(
        !relu.contains("--activation relu") && !relu.contains("--init he-uniform"),
        "{relu}"
    );
}

#[test]
fn exploding_gradients_name_the_lr_and_only_inits_not_in_use() {
    let exploding = vec![
        row(1, 0.9, 0.9, vec![layer(1.0, Some(0.0)), layer(1.0, None)]),
        row(2, 0.9, 0.9, vec![layer(1e4, Some(0.0)), layer(1.0, None)]),
    ];
    let he = said(&exploding, &config("lr = 0.5"));
    assert!(he.contains("exploding gradients"), "{he}");
    assert!(he.contains("(it is 0.5)"), "{he}");
    assert!(
        he.contains("--init glorot-uniform") && !he.contains("--init he-uniform"),
        "{he}"
    );
}

#[test]
fn not_learning_names_the_runs_optimizer_and_its_default_lr() {
    let at_chance = vec![row(1, 0.1, 0.1, vec![layer(1.0, Some(0.0)), layer(1.0, None)])];
    let adam = said(&at_chance, &config("optimizer = \"adam\""));
    assert!(adam.contains("0.001 (the default, with adam)"), "{adam}");
    let given = said(&at_chance, &config("lr = 0.3"));
    assert!(
        given.contains("learning rate 0.3 is") && !given.contains("the default, with"),
        "{given}"
    );
}
