//! Matmul throughput at the products of the reference configurations' training steps (and a
//! large square): the WGSL kernel, on the adapter's tile plan, vs the CPU reference GEMM.
//! Criterion reports FLOP/s (`Throughput::Elements` counts floating-point operations).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gpu_mlp::bench::{BenchConfig, CpuMatmul, GpuMatmul, MatmulShape};
use gpu_mlp::gpu::kernels::Matmul;
use gpu_mlp::gpu::{AdapterChoice, GpuContext};

fn matmul(c: &mut Criterion) {
    let ctx = GpuContext::new(AdapterChoice::Any)
        .map_err(|e| eprintln!("*** no GPU adapter, benching the CPU only: {e} ***"))
        .ok();
    let shapes = [BenchConfig::A, BenchConfig::S]
        .into_iter()
        .flat_map(|config| config.setup().products())
        .chain([MatmulShape::square(1024)]);
    let kernel = ctx.as_ref().map(Matmul::new);
    for shape in shapes {
        let p = shape.product;
        let mut group = c.benchmark_group(format!("matmul {}", shape.name));
        group.throughput(Throughput::Elements(p.flops()));
        group.sample_size(10);
        let mut cpu = CpuMatmul::new(p);
        group.bench_function("cpu", |b| b.iter_custom(|iters| cpu.run(iters)));
        if let (Some(ctx), Some(kernel)) = (&ctx, &kernel) {
            let gpu = GpuMatmul::new(ctx, kernel, p).expect("bench buffers fit");
            group.bench_function(format!("gpu {}", ctx.adapter.name), |b| {
                b.iter_custom(|iters| gpu.run(iters).expect("GPU finishes"))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, matmul);
criterion_main!(benches);
