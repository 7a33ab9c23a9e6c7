//! Seeing inside training from the command line: the model summary, a sweep's run directories
//! and comparison table, the decision-boundary plot against `predict --point`, and `explain`'s
//! printed gradient against a finite difference.

use crate::common;

use common::{gpu_mlp, output_text};

use std::path::Path;

use gpu_mlp::checkpoint::Checkpoint;
use gpu_mlp::cpu::net::{loss_and_gradients, Workspace};
use gpu_mlp::insight::boundary::Plane;
use gpu_mlp::insight::evaluate::test_data;
use gpu_mlp::nn::model::{initialize, ParamLayout};
use gpu_mlp::report::BoundaryView;
use gpu_mlp::settings::Config;
use gpu_mlp::training::train::epoch_order;

#[test]
fn summary_lists_each_layer_and_the_total() {
    let out = gpu_mlp(&["summary", "--dataset", "blobs", "--hidden", "16,8", "--dropout", "0.2"]);
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    for row in [
        "dense_1          (batch, 2)     (batch, 16)    relu                       0.2           48",
        "dense_2          (batch, 16)    (batch, 8)     relu                       0.2          136",
        "dense_3 (output) (batch, 8)     (batch, 2)     softmax (in the loss)        -           18",
        "Total params: 202",
    ] {
        assert!(said.contains(row), "missing `{row}` in\n{said}");
    }
}

#[test]
fn a_sweep_trains_each_point_into_its_own_directory_and_compares_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let parent = dir.path().join("sweep");
    let out = gpu_mlp(&[
        "train",
        "--dataset",
        "blobs",
        "--hidden",
        "8",
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--val-split",
        "0.2",
        "--quiet",
        "--sweep",
        "lr=0.5,0.01",
        "--sweep",
        "activation=relu,tanh",
        "--out",
        parent.to_str().expect("utf-8"),
    ]);
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    for name in [
        "lr=0.5_activation=relu",
        "lr=0.5_activation=tanh",
        "lr=0.01_activation=relu",
        "lr=0.01_activation=tanh",
    ] {
        let run = parent.join(name);
        assert!(
            run.join("history.json").is_file() && run.join("best.safetensors").is_file(),
            "{name}"
        );
        let row = said
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{said}"));
        assert_eq!(row.split_whitespace().count(), 9, "a value in every column: {row}");
        let config = Config::from_toml(
            &run.join("config.toml"),
            &std::fs::read_to_string(run.join("config.toml")).expect("config"),
        )
        .expect("valid");
        assert_eq!(config.optimizer.lr, if name.contains("0.5") { 0.5 } else { 0.01 });
    }
    let header = said.lines().find(|l| l.starts_with("run ")).expect("a table header");
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        columns[1..5],
        ["train_loss", "train_acc", "val_loss", "val_acc"],
        "training and validation metrics, titled: {header}"
    );
    for plot in [
        "compare-loss.png",
        "compare-loss.svg",
        "compare-accuracy.png",
        "compare-accuracy.svg",
    ] {
        assert!(parent.join(plot).is_file(), "{plot}");
    }
    // `plot A B --out NEWDIR` creates NEWDIR for the comparison.
    let new_dir = dir.path().join("new/deeper");
    let runs = ["lr=0.5_activation=relu", "lr=0.01_activation=tanh"].map(|n| parent.join(n));
    let plotted = gpu_mlp(&[
        "plot",
        runs[0].to_str().expect("utf-8"),
        runs[1].to_str().expect("utf-8"),
        "--out",
        new_dir.to_str().expect("utf-8"),
    ]);
    assert!(plotted.status.success(), "{}", output_text(&plotted));
    assert!(new_dir.join("compare-accuracy.png").is_file());
    let svg = std::fs::read_to_string(parent.join("compare-loss.svg")).expect("svg");
    assert!(
        svg.contains("activation=tanh, lr=0.01"),
        "runs labelled by their differing settings"
    );
    // Into the same --out again: refused, unless --force, which moves the earlier sweep aside.
    let again = |force: bool| {
        let mut args = vec![
            "train",
            "--dataset",
            "blobs",
            "--hidden",
            "4",
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--quiet",
            "--sweep",
            "lr=0.5",
            "--out",
        ];
        args.push(parent.to_str().expect("utf-8"));
        if force {
            args.push("--force");
        }
        gpu_mlp(&args)
    };
    let refused = again(false);
    assert!(
        !refused.status.success() && output_text(&refused).contains("--force to move the earlier one aside"),
        "{}",
        output_text(&refused)
    );
    let forced = again(true);
    assert!(forced.status.success(), "{}", output_text(&forced));
    let aside = dir.path().join("sweep.old-1");
    assert!(
        aside.join("lr=0.5_activation=relu/history.json").is_file(),
        "the earlier sweep, moved aside whole"
    );
    assert!(parent.join("lr=0.5/history.json").is_file(), "the new sweep in --out");
    let bad = gpu_mlp(&["train", "--dataset", "blobs", "--sweep", "lr=0.1,fast"]);
    assert!(
        !bad.status.success() && output_text(&bad).contains("`lr=fast`: expected a number"),
        "{}",
        output_text(&bad)
    );
}

/// `predict --point` at `(x, y)`: the predicted class's name.
fn predicted(run: &Path, x: f64, y: f64) -> String {
    let point = format!("--point={x},{y}");
    let out = gpu_mlp(&[
        "predict",
        "--checkpoint",
        run.to_str().expect("utf-8"),
        &point,
        "--top-k",
        "1",
    ]);
    assert!(out.status.success(), "{}", output_text(&out));
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    // "1. <index> <name>   <p>%"
    line.split_whitespace().nth(2).expect("a class name").to_string()
}

#[test]
fn the_boundary_plot_regions_agree_with_predict_point() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("circle");
    let out = gpu_mlp(&[
        "train",
        "--dataset",
        "circle",
        "--hidden",
        "16",
        "--epochs",
        "6",
        "--lr",
        "0.5",
        "--device",
        "cpu",
        "--quiet",
        "--boundary-every",
        "3",
        "--out",
        run.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", output_text(&out));
    for file in ["boundary.png", "boundary.svg", "boundary.gif"] {
        assert!(run.join(file).is_file(), "{file}");
    }
    let gif = std::fs::read(run.join("boundary.gif")).expect("gif");
    assert!(gif.starts_with(b"GIF89a"), "a GIF");
    let checkpoint = Checkpoint::load(&run.join("best.safetensors")).expect("checkpoint");
    let plane = Plane::of(&checkpoint).expect("two inputs");
    let test = test_data(&checkpoint, None, None, &run).expect("test data");
    let view = BoundaryView::new(&checkpoint, &checkpoint.params, &plane, &test, String::new()).expect("regions");
    let regions = &view.regions;
    let n = regions.resolution;
    let mut seen = std::collections::HashSet::new();
    for k in 0..12 {
        let (i, j) = ((k * 37 + 5) % n, (k * 53 + 11) % n);
        let (x, y) = regions.cell_center(i, j);
        let class = &checkpoint.meta.class_names[regions.class_at(x, y).expect("inside the grid")];
        assert_eq!(&predicted(&run, x, y), class, "cell ({i}, {j}) at ({x:.3}, {y:.3})");
        seen.insert(class.clone());
    }
    assert_eq!(seen.len(), 2, "the sampled cells cover both regions");
    let refused = gpu_mlp(&["train", "--dataset", "blobs", "--boundary-every", "0"]);
    assert!(
        !refused.status.success() && output_text(&refused).contains("boundary-every"),
        "{}",
        output_text(&refused)
    );
}

#[test]
fn explain_prints_a_gradient_equal_to_a_finite_difference() {
    let out = gpu_mlp(&[&["explain", "--batch", "2"][..], &common::EXPLAINED_RUN].concat());
    let said = output_text(&out);
    assert!(out.status.success(), "{said}");
    for step in [
        "linear_forward",
        "activate",
        "loss_and_grad",
        "linear_backward",
        "activation_backward",
        "optimizer_step",
        "gather.wgsl",
        "matmul.wgsl",
        "loss.wgsl",
        "optim.wgsl",
        "softmax p",
        "−log p_true",
    ] {
        assert!(said.contains(step), "names `{step}`:\n{said}");
    }
    let printed: Vec<f64> = said
        .lines()
        .find(|l| l.trim_start().starts_with("dW1, first"))
        .and_then(|l| l.split_once('['))
        .map(|(_, v)| {
            v.trim_end_matches(']')
                .split(", ")
                .map(|x| x.parse().expect("a number"))
                .collect()
        })
        .expect("dW1 values printed");
    assert_eq!(printed.len(), 3);

    // The same batch through the same fresh network, in f64: (L(w + h) − L(w − h)) / 2h.
    let config = Config::resolve(
        None,
        &toml::toml! { dataset = "blobs" hidden = [8] batch_size = 16 seed = 3 },
    )
    .expect("config");
    let data = config.load_data().expect("blobs");
    let spec = config.spec(2, 2).expect("spec");
    let layout = ParamLayout::new(&spec);
    let params: Vec<f64> = initialize(&layout, config.model.init, config.run.seed)
        .iter()
        .map(|&p| f64::from(p))
        .collect();
    let order = epoch_order(data.train.len(), config.run.seed, 1);
    let batch = &order[32..48];
    let mut ws = Workspace::<f64>::new(&layout, batch.len());
    for (r, &i) in batch.iter().enumerate() {
        let mut row = [0.0f32; 2];
        data.train.write_row(i as usize, &mut row);
        ws.acts[0][2 * r..2 * r + 2].copy_from_slice(&row.map(f64::from));
        ws.labels[r] = data.train.labels[i as usize];
    }
    let mut grads = vec![0.0; layout.len];
    let mut loss = |p: &[f64]| {
        loss_and_gradients(&layout, spec.loss, p, &mut ws, batch.len(), &mut grads, None).loss_sum / batch.len() as f64
    };
    let h = 1e-5;
    for (k, &shown) in printed.iter().enumerate() {
        let at = layout.layers[0].weight.start + k;
        let (mut up, mut down) = (params.clone(), params.clone());
        up[at] += h;
        down[at] -= h;
        let fd = (loss(&up) - loss(&down)) / (2.0 * h);
        assert!(
            (shown - fd).abs() <= 2e-6 + 1e-3 * fd.abs(),
            "dW1 value {k}: printed {shown}, finite difference {fd}"
        );
    }
}

/// `explain` names the tensor where the GPU strays furthest from the CPU, and a NaN there is
/// the worst of all, never a pass.
#[test]
fn explain_names_the_largest_difference_and_a_nan_is_never_close() {
    if common::gpu_or_skip("explain_names_the_largest_difference_and_a_nan_is_never_close").is_none() {
        return;
    }
    let config = Config::resolve(
        None,
        &toml::toml! { dataset = "blobs" hidden = [8] batch_size = 16 seed = 3 },
    )
    .expect("config");
    let mut explanation = gpu_mlp::insight::explain::explain(&config, 1).expect("explains");
    let differences = explanation.differences();
    let names: Vec<&str> = differences.iter().map(|(n, _)| n.as_str()).collect();
    for name in common::STEP_TENSORS {
        assert!(names.contains(&name), "{name} compared: {names:?}");
    }
    // The GPU fuses Z into its products' epilogues and never stores it: nothing to compare.
    assert!(!names.contains(&"layer1.Z"), "{names:?}");
    let (name, gap) = explanation.largest_difference().expect("a largest difference");
    assert!(gap.is_finite() && gap <= 1e-5, "{name}: {gap}");
    let worst = differences.iter().map(|(_, g)| *g).fold(0.0f32, f32::max);
    assert_eq!(gap, worst);
    assert!(explanation
        .to_text()
        .contains(&format!("largest difference between the GPU and the CPU: {name}")));
    if let Ok(trace) = &mut explanation.gpu {
        trace.deltas[0][3] = f32::NAN;
    }
    let (name, gap) = explanation.largest_difference().expect("a largest difference");
    assert_eq!(name, "layer1.dZ");
    assert!(gap.is_nan());
}
