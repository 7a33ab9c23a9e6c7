//! Matmul throughput at the training shapes: the WGSL kernel vs the CPU reference GEMM.
//! Criterion reports FLOP/s (`Throughput::Elements` counts floating-point operations).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gpu_mlp::bench::{CpuMatmul, GpuMatmul, MATMUL_SHAPES};
use gpu_mlp::gpu::{AdapterChoice, GpuContext};

fn matmul(c: &mut Criterion) {
    let ctx = GpuContext::new(AdapterChoice::Any)
        .map_err(|e| eprintln!("*** no GPU adapter, benching the CPU only: {e} ***"))
        .ok();
    for shape in MATMUL_SHAPES {
        let mut group = c.benchmark_group(format!("matmul {}", shape.name));
        group.throughput(Throughput::Elements(shape.flops()));
        group.sample_size(10);
        let mut cpu = CpuMatmul::new(shape);
        group.bench_function("cpu", |b| b.iter_custom(|iters| cpu.run(iters)));
        if let Some(ctx) = &ctx {
            let gpu = GpuMatmul::new(ctx, shape).expect("bench buffers fit");
            group.bench_function(format!("gpu {}", ctx.adapter.name), |b| {
                b.iter_custom(|iters| gpu.run(iters).expect("GPU finishes"))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, matmul);
criterion_main!(benches);
