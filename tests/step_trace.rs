//! llm.c's `test_gpt2`, for one training step: every named tensor of the step (input,
//! activations, logits, dlogits, each dZ, dW and db, the updated weights and biases) on the
//! GPU against the CPU backend's, failing with the tensor's name and its worst element.

use crate::common;

use std::sync::Arc;

use gpu_mlp::cpu::CpuBackend;
use gpu_mlp::gpu::GpuBackend;
use gpu_mlp::nn::model::{initialize, ParamLayout};
use gpu_mlp::settings::Config;
use gpu_mlp::training::backend::{Backend, TrainOptions};
use gpu_mlp::training::train::epoch_order;

/// Largest error relative to the tensor's scale (see `common::rel_err`) a tensor may show.
const TOL: f64 = 1e-4;

/// One traced step of `settings` (a TOML config) on both backends, tensor by tensor.
fn every_tensor_of_a_step_matches(case: &str, settings: &str) {
    let Some(ctx) = common::gpu_or_skip(case) else {
        return;
    };
    let config = Config::from_toml(std::path::Path::new(case), settings).expect("valid settings");
    let data = Arc::new(config.load_data().expect("data"));
    let spec = config.spec(data.train.dim, data.classes()).expect("spec");
    let layout = ParamLayout::new(&spec);
    let params = initialize(&layout, config.model.init, config.run.seed);
    let opts = TrainOptions {
        dropout: 0.0,
        ..config.train_options()
    };
    let batch: Vec<u32> = epoch_order(data.train.len(), config.run.seed, 1)[..config.training.batch_size].to_vec();
    let lr = 0.05;
    let mut cpu = CpuBackend::new(&spec, params.clone(), Arc::clone(&data), &opts).expect("cpu backend");
    let mut gpu = GpuBackend::new(ctx, &spec, &params, Arc::clone(&data), &opts).expect("gpu backend");
    let (want, got) = (
        cpu.trace_step(&batch, lr).expect("cpu step"),
        gpu.trace_step(&batch, lr).expect("gpu step"),
    );
    let got_named = got.named(&layout);
    let mut failures = Vec::new();
    for (name, cpu_values) in want.named(&layout) {
        // The CPU's pre-activations have no GPU twin (fused into the product's epilogue).
        let Some((_, gpu_values)) = got_named.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let err = common::rel_err(gpu_values, cpu_values);
        if err > TOL {
            let worst = cpu_values
                .iter()
                .zip(gpu_values.iter())
                .enumerate()
                .max_by(|(_, (a, b)), (_, (c, d))| (*a - *b).abs().total_cmp(&(*c - *d).abs()))
                .map_or(0, |(i, _)| i);
            failures.push(format!(
                "{name}: relative error {err:.2e} > {TOL:.0e}, worst at index {worst}: CPU {} vs GPU {}",
                cpu_values.get(worst).copied().unwrap_or(f32::NAN),
                gpu_values.get(worst).copied().unwrap_or(f32::NAN)
            ));
        }
    }
    assert!(failures.is_empty(), "{case}:\n{}", failures.join("\n"));
}

macro_rules! steps {
    ($($name:ident: $settings:expr;)*) => {$(
        #[test]
        fn $name() {
            every_tensor_of_a_step_matches(stringify!($name), $settings);
        }
    )*};
}

steps! {
    step_blobs_129_7_tanh_relu_adam: r#"
        dataset = "blobs"
        hidden = [129, 7]
        activation = ["tanh", "relu"]
        optimizer = "adam"
        batch_size = 33
    "#;
    step_circle_bce_sigmoid_momentum: r#"
        dataset = "circle"
        hidden = [16]
        activation = "sigmoid"
        loss = "binary-cross-entropy"
        optimizer = "momentum"
        nesterov = true
        batch_size = 7
    "#;
    step_blobs_prob_loss_sgd_one_row: r#"
        dataset = "blobs"
        hidden = [785]
        loss = "softmax-prob-cross-entropy"
        weight_decay = 0.01
        batch_size = 1
    "#;
}

/// The README's kernel table comes from the step table: for every dispatch of a training step,
/// the row of its WGSL kernel names each of its CPU twins.
#[test]
fn the_readme_kernel_table_names_each_dispatch_twin() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    for dispatch in gpu_mlp::nn::step::training_step(3) {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `shaders/{}", dispatch.kernel())))
            .unwrap_or_else(|| panic!("no README kernel-table row for {} ({dispatch})", dispatch.kernel()));
        for twin in dispatch.cpu_twin() {
            assert!(
                row.contains(twin),
                "{dispatch}: the {} row does not name `{twin}`",
                dispatch.kernel()
            );
        }
    }
}
