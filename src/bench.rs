//! Throughput fixtures shared by `cargo bench` (criterion) and `gpu-mlp bench`: matmuls and
//! training steps on either path, with setup (buffers, pipelines, first-use warm-up) kept out of
//! the timing, and GPU work timed until the queue has finished.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::{Backend, TrainOptions};
use crate::cpu::ops;
use crate::cpu::CpuBackend;
use crate::data::{synthetic_images, Splits};
use crate::error::{Error, Result};
use crate::gpu::kernels::matmul::{MatmulBinding, MatmulOperands, TileShape};
use crate::gpu::kernels::{Epilogue, Matmul, Region};
use crate::gpu::{AdapterChoice, GpuBackend, GpuContext};
use crate::model::{initialize, Init, MlpSpec, ParamLayout, Stored};
use crate::train::epoch_order;

/// One product `C[m×n] = A[m×k] · B[k×n]` with its operands' storage, as training uses it.
#[derive(Debug, Clone, Copy)]
pub struct MatmulShape {
    pub name: &'static str,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a_stored: Stored,
    pub b_stored: Stored,
}

impl MatmulShape {
    pub fn flops(&self) -> u64 {
        2 * (self.m * self.k * self.n) as u64
    }
}

/// The products of a 784-512-10 training step at batch 128 (the first layer's dX is never
/// computed), and a large square one.
pub const MATMUL_SHAPES: [MatmulShape; 6] = [
    MatmulShape {
        name: "fwd 128x784 . 784x512",
        m: 128,
        k: 784,
        n: 512,
        a_stored: Stored::AsIs,
        b_stored: Stored::Transposed,
    },
    MatmulShape {
        name: "dW 784x128 . 128x512",
        m: 784,
        k: 128,
        n: 512,
        a_stored: Stored::Transposed,
        b_stored: Stored::AsIs,
    },
    MatmulShape {
        name: "fwd 128x512 . 512x10",
        m: 128,
        k: 512,
        n: 10,
        a_stored: Stored::AsIs,
        b_stored: Stored::Transposed,
    },
    MatmulShape {
        name: "dW 10x128 . 128x512",
        m: 10,
        k: 128,
        n: 512,
        a_stored: Stored::Transposed,
        b_stored: Stored::AsIs,
    },
    MatmulShape {
        name: "dX 128x10 . 10x512",
        m: 128,
        k: 10,
        n: 512,
        a_stored: Stored::AsIs,
        b_stored: Stored::AsIs,
    },
    MatmulShape {
        name: "square 1024^3",
        m: 1024,
        k: 1024,
        n: 1024,
        a_stored: Stored::AsIs,
        b_stored: Stored::AsIs,
    },
];

/// Deterministic operand values in [−1, 1).
fn operand(len: usize, salt: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 + salt * 104_729) % 2000) as f32 / 1000.0 - 1.0)
        .collect()
}

pub struct CpuMatmul {
    shape: MatmulShape,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl CpuMatmul {
    pub fn new(shape: MatmulShape) -> Self {
        CpuMatmul {
            a: operand(shape.m * shape.k, 1),
            b: operand(shape.k * shape.n, 2),
            c: vec![0.0; shape.m * shape.n],
            shape,
        }
    }

    /// Wall time of `iters` products.
    pub fn run(&mut self, iters: u64) -> Duration {
        let s = self.shape;
        let start = Instant::now();
        for _ in 0..iters {
            ops::matmul(s.m, s.k, s.n, &self.a, s.a_stored, &self.b, s.b_stored, &mut self.c);
        }
        start.elapsed()
    }
}

pub struct GpuMatmul<'a> {
    ctx: &'a GpuContext,
    kernel: Matmul,
    binding: MatmulBinding,
    _buffers: [wgpu::Buffer; 3],
}

impl<'a> GpuMatmul<'a> {
    pub fn new(ctx: &'a GpuContext, shape: MatmulShape) -> Result<Self> {
        let kernel = Matmul::new(ctx);
        let a = ctx.storage_buffer_init("bench a", bytemuck::cast_slice(&operand(shape.m * shape.k, 1)))?;
        let b = ctx.storage_buffer_init("bench b", bytemuck::cast_slice(&operand(shape.k * shape.n, 2)))?;
        let c = ctx.storage_buffer("bench c", (shape.m * shape.n * 4) as u64)?;
        let binding = kernel.bind(
            ctx,
            shape.name,
            &MatmulOperands {
                m: shape.m,
                k: shape.k,
                n: shape.n,
                a: Region::all(&a),
                a_stored: shape.a_stored,
                b: Region::all(&b),
                b_stored: shape.b_stored,
                c: Region::all(&c),
                epilogue: Epilogue::None,
                row_sums: None,
                dropout: None,
            },
        );
        let bench = GpuMatmul {
            ctx,
            kernel,
            binding,
            _buffers: [a, b, c],
        };
        bench.run(1)?; // first use compiles the pipeline in some drivers: keep it out of the timing
        Ok(bench)
    }

    /// Wall time of `iters` dispatches recorded in one pass, submitted once, waited for.
    pub fn run(&self, iters: u64) -> Result<Duration> {
        let start = Instant::now();
        self.ctx.submit_pass("bench matmul", |pass| {
            for _ in 0..iters {
                self.kernel.dispatch(pass, &self.binding, 0);
            }
        });
        self.ctx.wait()?;
        Ok(start.elapsed())
    }
}

/// A training-throughput setup: an MLP on 28×28 inputs with 10 classes at a batch size.
#[derive(Debug, Clone, Copy)]
pub struct TrainSetup {
    pub hidden: &'static [usize],
    pub batch: usize,
    /// Steps per timed run.
    pub steps: usize,
}

pub const TRAIN_SETUPS: [TrainSetup; 2] = [
    TrainSetup {
        hidden: &[512],
        batch: 128,
        steps: 4,
    },
    TrainSetup {
        hidden: &[1024, 1024],
        batch: 256,
        steps: 2,
    },
];

impl TrainSetup {
    pub fn spec(&self) -> MlpSpec {
        // 784 inputs, ≥ 1 hidden layer of width ≥ 1, 10 classes: always a valid spec.
        MlpSpec::new(784, self.hidden, 10).expect("valid benchmark spec")
    }

    pub fn samples(&self) -> usize {
        self.batch * self.steps
    }

    /// Synthetic u8 images (one timed run's worth) and a small test split.
    pub fn data(&self) -> Arc<Splits> {
        Arc::new(Splits {
            name: "synthetic 28x28".into(),
            train: synthetic_images(self.samples(), 784, 10, 1),
            val: None,
            test: synthetic_images(self.batch, 784, 10, 2),
            class_names: (0..10).map(|i| i.to_string()).collect(),
            warnings: Vec::new(),
        })
    }

    /// The CPU backend, and the GPU backend on `ctx`, from the same initial weights.
    pub fn backends(&self, gpu: Option<GpuContext>) -> Result<Vec<Box<dyn Backend>>> {
        let spec = self.spec();
        let params = initialize(&ParamLayout::new(&spec), Init::HeUniform, 1);
        let data = self.data();
        let mut out: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new(
            &spec,
            params.clone(),
            Arc::clone(&data),
            &self.options(),
        )?)];
        if let Some(ctx) = gpu {
            out.push(Box::new(GpuBackend::new(ctx, &spec, &params, data, &self.options())?));
        }
        Ok(out)
    }

    /// The GPU time of each kernel of one training step on `ctx`, after a warm-up step
    /// (timestamp queries; see `GpuBackend::profile_train_step`).
    pub fn profile_gpu_step(&self, ctx: GpuContext) -> Result<Vec<(String, Duration)>> {
        let spec = self.spec();
        let params = initialize(&ParamLayout::new(&spec), Init::HeUniform, 1);
        let mut gpu = GpuBackend::new(ctx, &spec, &params, self.data(), &self.options())?;
        let (order, lrs) = (self.order(), self.lrs());
        gpu.profile_train_step(&order, lrs[0])?;
        gpu.profile_train_step(&order, lrs[0])
    }

    /// Plain SGD at the setup's batch size.
    pub fn options(&self) -> TrainOptions {
        TrainOptions::new(self.batch)
    }

    /// One learning rate per step of a timed run.
    pub fn lrs(&self) -> Vec<f32> {
        vec![0.01; self.steps]
    }

    /// The order of one timed run: every sample once.
    pub fn order(&self) -> Vec<u32> {
        epoch_order(self.samples(), 1, 1)
    }
}

/// Median time of one repetition of `run(iters)` (which does `iters` repetitions and returns
/// their total time): after a warm-up call, `iters` is raised until a timing lasts ≥ 50 ms, so
/// per-submit overhead and timer resolution do not dominate; then `repeats` timings are taken.
pub fn median_time(repeats: usize, mut run: impl FnMut(u64) -> Result<Duration>) -> Result<Duration> {
    let mut iters = 1;
    while run(iters)? < Duration::from_millis(50) && iters < 1 << 20 {
        iters *= 2;
    }
    let mut times = (0..repeats.max(1)).map(|_| run(iters)).collect::<Result<Vec<_>>>()?;
    times.sort();
    Ok(times[times.len() / 2] / iters as u32)
}

/// The throughput table `gpu-mlp bench` prints: matmul GFLOP/s and training samples/s, CPU and
/// GPU side by side, each a median of `repeats` runs.
pub fn report(repeats: usize, mut out: impl std::io::Write) -> Result<()> {
    let io = |e: std::io::Error| Error::io("stdout", e);
    let ctx = GpuContext::new(AdapterChoice::Any);
    let gpu_name = match &ctx {
        Ok(c) => format!(
            "{} ({}, {:?})",
            c.adapter.name, c.adapter.backend, c.adapter.device_type
        ),
        Err(e) => format!("none: {e}"),
    };
    writeln!(
        out,
        "GPU adapter: {gpu_name}\nCPU: reference backend (matrixmultiply, {} threads)\n",
        rayon::current_num_threads()
    )
    .map_err(io)?;
    writeln!(
        out,
        "{:<28} {:>14} {:>14} {:>10}",
        "matmul", "cpu GFLOP/s", "gpu GFLOP/s", "gpu tile"
    )
    .map_err(io)?;
    for shape in MATMUL_SHAPES {
        let gflops = |t: Duration| shape.flops() as f64 / t.as_secs_f64() / 1e9;
        let mut cpu = CpuMatmul::new(shape);
        let cpu_rate = gflops(median_time(repeats, |iters| Ok(cpu.run(iters)))?);
        let gpu_rate = match &ctx {
            Ok(c) => {
                let gpu = GpuMatmul::new(c, shape)?;
                format!("{:.2}", gflops(median_time(repeats, |iters| gpu.run(iters))?))
            }
            Err(_) => "-".into(),
        };
        let tile = TileShape::for_product(shape.m, shape.n).dims();
        let tile = format!("{}x{}", tile.tile_m(), tile.tile_n());
        writeln!(
            out,
            "{:<28} {:>14.2} {:>14} {:>10}",
            shape.name, cpu_rate, gpu_rate, tile
        )
        .map_err(io)?;
    }
    writeln!(
        out,
        "\n{:<28} {:>14} {:>14} {:>16}",
        "training", "cpu samples/s", "gpu samples/s", "gpu dispatches"
    )
    .map_err(io)?;
    for setup in TRAIN_SETUPS {
        let gpu = match &ctx {
            Ok(_) => Some(GpuContext::new(AdapterChoice::Any)?),
            Err(_) => None,
        };
        let (order, lrs) = (setup.order(), setup.lrs());
        let mut rates = Vec::new();
        let mut dispatches = "-".to_string();
        for backend in setup.backends(gpu)?.iter_mut() {
            let t = median_time(repeats, |iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    backend.train(&order, &lrs)?;
                }
                Ok(start.elapsed())
            })?;
            rates.push(setup.samples() as f64 / t.as_secs_f64());
            let stats = backend.schedule_stats();
            if stats.dispatches > 0 {
                dispatches = format!("{:.0}/step", stats.dispatches_per_step());
            }
        }
        let gpu_rate = rates.get(1).map_or("-".into(), |r| format!("{r:.0}"));
        let name = format!("{} batch {}", setup.spec().describe(), setup.batch);
        writeln!(
            out,
            "{:<28} {:>14.0} {:>14} {:>16}",
            name, rates[0], gpu_rate, dispatches
        )
        .map_err(io)?;
    }
    if let Ok(c) = &ctx {
        if !c.timestamps {
            writeln!(
                out,
                "\nGPU time per kernel: not available ({} has no timestamp queries inside passes)",
                c.adapter.name
            )
            .map_err(io)?;
        } else {
            let setup = TRAIN_SETUPS[0];
            let kernels = setup.profile_gpu_step(GpuContext::new(AdapterChoice::Any)?)?;
            let total: Duration = kernels.iter().map(|(_, t)| *t).sum();
            let name = format!("{} batch {}", setup.spec().describe(), setup.batch);
            writeln!(out, "\nGPU time per kernel, one {name} step (timestamp queries)").map_err(io)?;
            for (label, t) in &kernels {
                let share = 100.0 * t.as_secs_f64() / total.as_secs_f64().max(1e-12);
                writeln!(out, "{:<28} {:>11.3} ms {:>5.1}%", label, 1e3 * t.as_secs_f64(), share).map_err(io)?;
            }
            writeln!(out, "{:<28} {:>11.3} ms", "total", 1e3 * total.as_secs_f64()).map_err(io)?;
        }
    }
    Ok(())
}
