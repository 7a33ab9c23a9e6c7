//! Training throughput: full steps (gather, forward, loss, backward, SGD update) on both backends,
//! the same data, weights and batches, side by side. Criterion reports samples/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gpu_mlp::bench::BenchConfig;
use gpu_mlp::gpu::{AdapterChoice, GpuContext};

fn training(c: &mut Criterion) {
    // E (784-4096-4096-10, batch 1024) takes minutes per step on a software adapter: run it
    // with `gpu-mlp bench --config E`.
    for setup in [BenchConfig::A, BenchConfig::D, BenchConfig::S].map(BenchConfig::setup) {
        let mut group = c.benchmark_group(format!("train {}", setup.name()));
        group.throughput(Throughput::Elements(setup.samples() as u64));
        group.sample_size(10);
        let gpu = GpuContext::new(AdapterChoice::Any)
            .map_err(|e| eprintln!("*** no GPU adapter, benching the CPU only: {e} ***"))
            .ok();
        let (order, lrs) = (setup.order(), setup.lrs());
        for mut backend in setup.backends(gpu).expect("backends build") {
            backend.train_steps(&order, &lrs).expect("warm-up run");
            group.bench_function(backend.describe(), |b| {
                b.iter(|| backend.train_steps(&order, &lrs).expect("trains"));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, training);
criterion_main!(benches);
