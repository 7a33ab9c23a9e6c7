//! Whole-run parity: the GPU backend and the CPU reference, started from the same weights and fed
//! the same batches, agree step by step and at the end (relative error ≤ 1e-4).

use crate::common;

use std::sync::Arc;

use common::{backends_agree, gpu_or_skip, random_image_splits};
use gpu_mlp::data::Splits;
use gpu_mlp::gpu::kernels::matmul::TilePolicy;
use gpu_mlp::gpu::GpuBackend;
use gpu_mlp::nn::model::{initialize, Activation, Init, Loss, MlpSpec, ParamLayout};
use gpu_mlp::settings::{Optimizer, OptimizerKind};
use gpu_mlp::training::backend::{Backend, TrainOptions};
use gpu_mlp::training::train::epoch_order;

fn splits(seed: u64, train: usize, test: usize) -> Arc<Splits> {
    random_image_splits(10, seed, train, test)
}

fn spec(hidden: &[usize]) -> MlpSpec {
    MlpSpec::new(784, hidden, 10).expect("valid spec")
}

/// Trains both backends on `order` and compares per-step losses, accuracy counts, final
/// weights, optimizer state and test metrics (`common::backends_agree`, which the browser's
/// suite runs on WebGPU too).
fn compare(spec: &MlpSpec, opts: &TrainOptions, order: &[u32], lr: f32, data: Arc<Splits>) {
    compare_with_tiles(None, spec, opts, order, lr, data);
}

/// `compare`, with the GPU cutting its products by `tiles` instead of the adapter's policy.
fn compare_with_tiles(
    tiles: Option<TilePolicy>,
    spec: &MlpSpec,
    opts: &TrainOptions,
    order: &[u32],
    lr: f32,
    data: Arc<Splits>,
) {
    let Some(mut ctx) = gpu_or_skip("parity_training") else {
        return;
    };
    if let Some(tiles) = tiles {
        ctx.tiles = tiles;
    }
    pollster::block_on(backends_agree(ctx, spec, opts, (order, lr), data));
}

#[test]
fn thirty_sgd_steps_784_64_10_match() {
    let batch = 32;
    let data = splits(11, 30 * batch, 100);
    let order = epoch_order(30 * batch, 3, 1);
    compare(&spec(&[64]), &TrainOptions::new(batch), &order, 0.1, data);
}

/// Weighted samples (Keras' sample_weight; some 0, a short last batch): the GPU reads each
/// row's weight through the shuffled order as the CPU gathers it.
#[test]
fn weighted_samples_match() {
    let batch = 32;
    let mut data = (*splits(14, 100, 37)).clone();
    let mut r = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(14);
    let weights = (0..100)
        .map(|i| {
            if i % 7 == 0 {
                0.0
            } else {
                rand::Rng::random_range(&mut r, 0.1..3.0)
            }
        })
        .collect();
    data.train.weights = Some(weights);
    let order = epoch_order(100, 6, 1);
    compare(&spec(&[33]), &TrainOptions::new(batch), &order, 0.05, Arc::new(data));
}

#[test]
fn two_hidden_layers_with_a_short_last_batch_match() {
    // 100 samples in batches of 32: the fourth step has 4 rows.
    let data = splits(12, 100, 37);
    let order = epoch_order(100, 4, 1);
    compare(&spec(&[33, 17]), &TrainOptions::new(32), &order, 0.05, data);
}

#[test]
fn batch_of_one_matches() {
    let data = splits(13, 12, 5);
    let order = epoch_order(12, 5, 1);
    compare(&spec(&[7]), &TrainOptions::new(1), &order, 0.05, data);
}

#[test]
fn tanh_and_sigmoid_layers_match() {
    let data = splits(14, 96, 20);
    let order = epoch_order(96, 6, 1);
    let spec = spec(&[31, 9])
        .with_activations(&[Activation::Tanh, Activation::Sigmoid])
        .expect("valid spec");
    compare(&spec, &TrainOptions::new(32), &order, 0.1, data);
}

/// 20 steps with each stateful optimizer: weights, per-step losses and the optimizer state
/// (velocity, Adam's m and v) agree.
#[test]
fn every_optimizer_matches_over_twenty_steps() {
    let data = splits(15, 320, 20);
    let order = epoch_order(320, 7, 1);
    for (kind, nesterov, weight_decay, lr) in [
        (OptimizerKind::Momentum, false, 0.0, 0.05),
        (OptimizerKind::Momentum, true, 1e-3, 0.05),
        (OptimizerKind::Adam, false, 0.0, 1e-3),
        (OptimizerKind::Adamw, false, 1e-2, 1e-3),
    ] {
        let opts = TrainOptions {
            optimizer: Optimizer {
                kind,
                nesterov,
                weight_decay,
                ..Optimizer::default()
            },
            ..TrainOptions::new(16)
        };
        compare(&spec(&[32]), &opts, &order, lr, Arc::clone(&data));
    }
}

#[test]
fn probability_and_binary_cross_entropy_match() {
    let order = epoch_order(96, 8, 1);
    let spec = MlpSpec::for_classes(784, &[24], 10, Loss::SoftmaxProbCrossEntropy).expect("valid spec");
    compare(&spec, &TrainOptions::new(32), &order, 0.1, splits(16, 96, 20));
    let spec = MlpSpec::for_classes(784, &[24], 2, Loss::BinaryCrossEntropy).expect("valid spec");
    compare(
        &spec,
        &TrainOptions::new(32),
        &order,
        0.1,
        random_image_splits(2, 17, 96, 20),
    );
}

/// Dropout 0.2 after each hidden layer: both paths draw the same masks, so they still agree.
#[test]
fn dropout_training_matches() {
    let data = splits(18, 128, 20);
    let order = epoch_order(128, 9, 1);
    let opts = TrainOptions {
        dropout: 0.2,
        seed: 77,
        ..TrainOptions::new(32)
    };
    let spec = spec(&[40, 24])
        .with_activations(&[Activation::Relu, Activation::Sigmoid])
        .expect("valid spec");
    compare(&spec, &opts, &order, 0.1, data);
}

/// A profiled step (timestamps after each dispatch) names every kernel of the step in order and
/// trains exactly like an ordinary one.
#[test]
fn profiled_step_times_every_dispatch_and_trains_the_same() {
    let Some(ctx) = gpu_or_skip("profiled_step_times_every_dispatch_and_trains_the_same") else {
        return;
    };
    if !ctx.timestamps {
        common::skip_unless_ci(
            "profiled_step_times_every_dispatch_and_trains_the_same",
            &format!("{} has no timestamp queries inside passes", ctx.adapter.name),
        );
        return;
    }
    let spec = spec(&[64]);
    let opts = TrainOptions::new(32);
    let data = splits(11, 32, 8);
    let params = initialize(&ParamLayout::new(&spec), Init::HeUniform, 3);
    let order = epoch_order(32, 5, 1);
    let mut plain = GpuBackend::new(
        gpu_or_skip("second context").expect("adapter"),
        &spec,
        &params,
        Arc::clone(&data),
        &opts,
    )
    .expect("gpu backend");
    let mut profiled = GpuBackend::new(ctx, &spec, &params, data, &opts).expect("gpu backend");
    plain.train_steps(&order, &[0.1]).expect("train");
    let kernels = profiled.profile_train_step(&order, 0.1).expect("profile");
    let labels: Vec<&str> = kernels.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        [
            "gather batch",
            "layer 1 forward",
            "layer 2 forward",
            "loss + gradient",
            "layer 1 activation stats",
            "layer 2 dW, db",
            "layer 2 dX",
            "layer 1 dW, db",
            "optimizer update"
        ]
    );
    let total: std::time::Duration = kernels.iter().map(|(_, t)| *t).sum();
    assert!(
        total < std::time::Duration::from_secs(60),
        "implausible GPU time {total:?}"
    );
    assert_eq!(profiled.parameters().expect("read"), plain.parameters().expect("read"));
}

/// The plan a 132-SM GPU gets (most products split along k, several slices reduced in order)
/// trains the same as the CPU, here on whatever adapter runs the tests: one hidden layer at
/// batch 128, and two with tanh, dropout, Adam and a short last batch.
#[test]
fn hardware_tile_plan_with_split_k_matches() {
    let data = splits(21, 300, 40);
    let order = epoch_order(256, 21, 1);
    compare_with_tiles(
        Some(TilePolicy::HARDWARE),
        &spec(&[64]),
        &TrainOptions::new(128),
        &order,
        0.1,
        Arc::clone(&data),
    );
    let mut two = spec(&[129, 33]);
    two.activations = vec![Activation::Tanh, Activation::Relu];
    let opts = TrainOptions {
        dropout: 0.2,
        optimizer: Optimizer {
            kind: OptimizerKind::Adam,
            ..Optimizer::default()
        },
        ..TrainOptions::new(48)
    };
    compare_with_tiles(
        Some(TilePolicy::HARDWARE),
        &two,
        &opts,
        &epoch_order(300, 22, 1),
        1e-3,
        data,
    );
}
