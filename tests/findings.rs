//! The findings read the run they judge: each names the run's own settings and advises only
//! settings the run does not already have. Histories are built by hand so each finding fires
//! (or stays quiet) for one reason.

use std::path::Path;

use gpu_mlp::insight::findings::findings;
use gpu_mlp::settings::Config;
use gpu_mlp::training::diagnostics::LayerDiagnostics;
use gpu_mlp::training::history::HistoryRow;

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

/// Rows at chance (test accuracy 0.1 of ten classes) with these training losses and accuracies.
fn at_chance(losses_and_train_accuracy: &[(f64, f64)]) -> Vec<HistoryRow> {
    losses_and_train_accuracy
        .iter()
        .enumerate()
        .map(|(i, &(loss, train_accuracy))| HistoryRow {
            train_loss: loss,
            ..row(
                i + 1,
                train_accuracy,
                0.1,
                vec![layer(1.0, Some(0.0)), layer(1.0, None)],
            )
        })
        .collect()
}

#[test]
fn a_blown_up_loss_at_chance_names_the_runs_lr_as_too_high() {
    let blown_up = at_chance(&[(2.3, 0.1), (40.0, 0.1)]);
    let sgd = said(&blown_up, &config(""));
    assert!(sgd.contains("not learning"), "{sgd}");
    assert!(
        sgd.contains("learning rate 0.1 (the default, with sgd) is too high"),
        "{sgd}"
    );
    let given = said(&blown_up, &config("optimizer = \"adam\"\nlr = 0.3"));
    assert!(given.contains("learning rate 0.3 is too high"), "{given}");
}

#[test]
fn adam_at_its_default_lr_is_never_told_to_lower_it() {
    let adam = config("optimizer = \"adam\"");
    let blown_up = said(&at_chance(&[(2.3, 0.1), (40.0, 0.1)]), &adam);
    assert!(
        blown_up.contains("not learning") && !blown_up.contains("10× lower"),
        "{blown_up}"
    );
    let dead = said(&dead_units(), &adam);
    assert!(
        dead.contains("units never fired") && !dead.contains("learning rate below"),
        "{dead}"
    );
    let exploding = vec![
        row(1, 0.9, 0.9, vec![layer(1.0, Some(0.0)), layer(1.0, None)]),
        row(2, 0.9, 0.9, vec![layer(1e4, Some(0.0)), layer(1.0, None)]),
    ];
    let exploding = said(&exploding, &adam);
    assert!(
        exploding.contains("exploding") && !exploding.contains("Lower the learning rate"),
        "{exploding}"
    );
}

#[test]
fn one_epoch_at_chance_is_too_little_evidence_for_advice() {
    let once = said(&at_chance(&[(2.3, 0.1)]), &config(""));
    assert!(
        once.contains("after epoch 1") && once.contains("too little to tell"),
        "{once}"
    );
    assert!(!once.contains("learning rate"), "{once}");
}

#[test]
fn a_run_that_leaves_chance_behind_is_not_told_it_is_not_learning() {
    // circle with Adam: at chance after epoch 1, 94.5% by the end.
    let mut rising = at_chance(&[(0.69, 0.55), (0.5, 0.7), (0.2, 0.95)]);
    rising[2].test_accuracy = Some(0.945);
    assert_eq!(said(&rising, &config("optimizer = \"adam\"")), "");
}

#[test]
fn a_training_set_learned_while_held_out_stays_at_chance_blames_the_labels_not_the_lr() {
    // Random labels: the training loss falls and training accuracy rises as it memorizes.
    let memorizing = said(&at_chance(&[(2.3, 0.1), (1.5, 0.45)]), &config(""));
    assert!(memorizing.contains("labels follow from the inputs"), "{memorizing}");
    assert!(!memorizing.contains("learning rate"), "{memorizing}");
}

#[test]
fn a_falling_loss_at_chance_asks_for_more_epochs_and_a_flat_one_names_both_causes() {
    let falling = said(&at_chance(&[(2.3, 0.1), (2.0, 0.1)]), &config(""));
    assert!(
        falling.contains("still falling") && !falling.contains("learning rate"),
        "{falling}"
    );
    let flat = said(&at_chance(&[(2.3, 0.1), (2.29, 0.1)]), &config("lr = 0.0001"));
    assert!(flat.contains("inputs do not predict the labels"), "{flat}");
    assert!(flat.contains("learning rate 0.0001 is too low"), "{flat}");
}

#[test]
fn vanishing_gradients_at_chance_give_no_learning_rate_advice() {
    let mut history = at_chance(&[(2.3, 0.1), (2.3, 0.1)]);
    history[1].layers = vec![layer(1e-6, Some(0.0)), layer(1e-2, Some(0.0)), layer(1.0, None)];
    let said = said(&history, &config("hidden = [64, 64]\nactivation = \"sigmoid\""));
    assert!(
        said.contains("vanishing gradients") && said.contains("not learning"),
        "{said}"
    );
    assert!(!said.contains("learning rate"), "{said}");
}
