//! Throughput fixtures shared by `cargo bench` (criterion) and `gpu-mlp bench`: the four
//! reference configurations' training steps and each matrix product they run, on either path,
//! with setup (buffers, pipelines, first-use warm-up) kept out of the timing, and GPU work timed
//! until the queue has finished; and the roofline `gpu-mlp bench` holds them against.

pub mod roofline;

use std::sync::Arc;
use std::time::Duration;

use web_time::Instant;

use serde::Serialize;

use crate::cpu::aligned::Aligned;
use crate::cpu::gemm;
use crate::cpu::CpuBackend;
use crate::data::{synthetic_images, Splits};
use crate::error::{Error, Result};
use crate::gpu::kernels::matmul::{MatmulBinding, MatmulOperands, TilePolicy};
use crate::gpu::kernels::{Epilogue, Launch, Matmul, Region};
use crate::gpu::{AdapterChoice, GpuBackend, GpuContext};
use crate::nn::model::{initialize, Init, MlpSpec, ParamLayout, Product};
use crate::nn::optim::OptimizerKind;
use crate::nn::step::{training_step, StepDispatch, Work};
use crate::training::backend::{Backend, TrainOptions};
use crate::training::train::epoch_order;
use roofline::{Achieved, Peaks};

/// Deterministic operand values in [−1, 1).
fn operand(len: usize, salt: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 + salt * 104_729) % 2000) as f32 / 1000.0 - 1.0)
        .collect()
}

/// A named product, as a training step runs it or as a plain square.
#[derive(Debug, Clone)]
pub struct MatmulShape {
    pub name: String,
    pub product: Product,
}

impl MatmulShape {
    /// A large square product, the usual yardstick of a GEMM.
    pub fn square(size: usize) -> Self {
        MatmulShape {
            name: format!("square {size}^3"),
            product: Product {
                m: size,
                k: size,
                n: size,
                a: crate::nn::model::Stored::AsIs,
                b: crate::nn::model::Stored::AsIs,
            },
        }
    }
}

/// A product on the CPU, its operands on cache-line boundaries as a training step's are.
pub struct CpuMatmul {
    product: Product,
    a: Aligned<f32>,
    b: Aligned<f32>,
    c: Aligned<f32>,
}

impl CpuMatmul {
    pub fn new(product: Product) -> Self {
        CpuMatmul {
            a: Aligned::from_slice(&operand(product.m * product.k, 1)),
            b: Aligned::from_slice(&operand(product.k * product.n, 2)),
            c: Aligned::zeroed(product.m * product.n),
            product,
        }
    }

    /// Wall time of `iters` products.
    pub fn run(&mut self, iters: u64) -> Duration {
        let p = self.product;
        let start = Instant::now();
        for _ in 0..iters {
            gemm::matmul(p, &self.a, &self.b, &mut self.c);
        }
        start.elapsed()
    }
}

pub struct GpuMatmul<'a> {
    ctx: &'a GpuContext,
    kernel: &'a Matmul,
    binding: MatmulBinding,
    _buffers: [wgpu::Buffer; 3],
}

impl<'a> GpuMatmul<'a> {
    /// The product on `ctx`'s tile plan, as training launches it (split-k reduction included),
    /// with `kernel`'s pipelines (compiled once for every product measured).
    pub fn new(ctx: &'a GpuContext, kernel: &'a Matmul, p: Product) -> Result<Self> {
        let a = ctx.storage_buffer_init("bench a", bytemuck::cast_slice(&operand(p.m * p.k, 1)))?;
        let b = ctx.storage_buffer_init("bench b", bytemuck::cast_slice(&operand(p.k * p.n, 2)))?;
        let c = ctx.storage_buffer("bench c", (p.m * p.n * 4) as u64)?;
        let binding = kernel.bind(
            ctx,
            "bench matmul",
            &MatmulOperands {
                m: p.m,
                k: p.k,
                n: p.n,
                a: Region::all(&a),
                a_stored: p.a,
                b: Region::all(&b),
                b_stored: p.b,
                c: Region::all(&c),
                plan: ctx.tiles.plan(p.m, p.k, p.n),
                partials: None,
                epilogue: Epilogue::None,
                row_sums: None,
                dropout: None,
            },
        )?;
        let bench = GpuMatmul {
            ctx,
            kernel,
            binding,
            _buffers: [a, b, c],
        };
        bench.run(1)?; // first use compiles the pipeline in some drivers: keep it out of the timing
        Ok(bench)
    }

    pub fn launches(&self) -> Vec<Launch> {
        self.binding.launches()
    }

    /// Wall time of `iters` products recorded in one pass, submitted once, waited for.
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

/// The reference configurations measured side by side with PyTorch and JAX
/// (`../shared/device/README.md`): 784 inputs, 10 classes, Fashion-MNIST's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum BenchConfig {
    /// 784-512-10, batch 128 (the default run).
    A,
    /// 784-1024-1024-10, batch 256.
    D,
    /// 784-4096-4096-10, batch 1024: big products.
    E,
    /// 784-128-10, batch 32: small products, many steps.
    S,
}

impl BenchConfig {
    pub const ALL: [BenchConfig; 4] = [BenchConfig::A, BenchConfig::D, BenchConfig::E, BenchConfig::S];

    pub fn setup(self) -> TrainSetup {
        let (hidden, batch, lr, steps): (&'static [usize], _, _, _) = match self {
            BenchConfig::A => (&[512], 128, 0.1, 4),
            BenchConfig::D => (&[1024, 1024], 256, 0.1, 2),
            BenchConfig::E => (&[4096, 4096], 1024, 0.05, 1),
            BenchConfig::S => (&[128], 32, 0.05, 8),
        };
        TrainSetup {
            config: self,
            hidden,
            batch,
            lr,
            steps,
        }
    }
}

/// A training-throughput setup: an MLP on 28×28 inputs with 10 classes at a batch size.
#[derive(Debug, Clone, Copy)]
pub struct TrainSetup {
    pub config: BenchConfig,
    pub hidden: &'static [usize],
    pub batch: usize,
    pub lr: f32,
    /// Steps per timed run.
    pub steps: usize,
}

impl TrainSetup {
    pub fn spec(&self) -> MlpSpec {
        // 784 inputs, ≥ 1 hidden layer of width ≥ 1, 10 classes: always a valid spec.
        MlpSpec::new(784, self.hidden, 10).expect("valid benchmark spec")
    }

    pub fn name(&self) -> String {
        format!("{:?} {} batch {}", self.config, self.spec().describe(), self.batch)
    }

    pub fn samples(&self) -> usize {
        self.batch * self.steps
    }

    /// Every product of one training step, in the order the step runs them (the first
    /// layer's input gradient is never computed).
    pub fn products(&self) -> Vec<MatmulShape> {
        let layout = ParamLayout::new(&self.spec());
        let named = |what: &str, l: usize, p: Product| MatmulShape {
            name: format!("L{} {what} {}x{}.{}x{}", l + 1, p.m, p.k, p.k, p.n),
            product: p,
        };
        let mut out: Vec<MatmulShape> = layout
            .layers
            .iter()
            .enumerate()
            .map(|(l, s)| named("fwd", l, s.forward_product(self.batch)))
            .collect();
        for (l, s) in layout.layers.iter().enumerate().rev() {
            out.push(named("dW", l, s.weight_grad_product(self.batch)));
            if l > 0 {
                out.push(named("dX", l, s.input_grad_product(self.batch)));
            }
        }
        out
    }

    /// The least work of `dispatch` in one of this setup's steps (u8 images, plain SGD).
    pub fn work(&self, dispatch: StepDispatch) -> Work {
        dispatch.work(&ParamLayout::new(&self.spec()), self.batch, 1, OptimizerKind::Sgd)
    }

    /// The least work of one whole training step.
    pub fn step_work(&self) -> Work {
        let layers = self.spec().layers();
        training_step(layers)
            .into_iter()
            .map(|d| self.work(d))
            .fold(Work::default(), |a, b| a + b)
    }

    /// Synthetic u8 images (one timed run's worth) and a small test split.
    pub fn data(&self) -> Arc<Splits> {
        Arc::new(Splits {
            name: "synthetic 28x28".into(),
            train: synthetic_images(self.samples(), 784, 10, 1),
            val: None,
            test: Some(synthetic_images(self.batch, 784, 10, 2)),
            class_names: (0..10).map(|i| i.to_string()).collect(),
            warnings: Vec::new(),
            table: None,
        })
    }

    /// The CPU backend, and the GPU backend on `ctx`, from the same initial weights.
    pub fn backends(&self, gpu: Option<GpuContext>) -> Result<Vec<Box<dyn Backend>>> {
        let mut out: Vec<Box<dyn Backend>> = vec![Box::new(self.cpu_backend()?)];
        if let Some(ctx) = gpu {
            out.push(Box::new(self.gpu_backend(ctx)?));
        }
        Ok(out)
    }

    fn initial_params(&self) -> Vec<f32> {
        initialize(&ParamLayout::new(&self.spec()), Init::HeUniform, 1)
    }

    pub fn cpu_backend(&self) -> Result<CpuBackend> {
        CpuBackend::new(&self.spec(), self.initial_params(), self.data(), &self.options())
    }

    pub fn gpu_backend(&self, ctx: GpuContext) -> Result<GpuBackend> {
        GpuBackend::new(ctx, &self.spec(), &self.initial_params(), self.data(), &self.options())
    }

    /// Plain SGD at the setup's batch size.
    pub fn options(&self) -> TrainOptions {
        TrainOptions::new(self.batch)
    }

    /// One learning rate per step of a timed run.
    pub fn lrs(&self) -> Vec<f32> {
        vec![self.lr; self.steps]
    }

    /// The order of one timed run: every sample once.
    pub fn order(&self) -> Vec<u32> {
        epoch_order(self.samples(), 1, 1)
    }

    /// [`TrainSetup::samples_per_second`] of the GPU backend with each submit's metrics
    /// awaited (in a browser, where nothing may block).
    pub async fn gpu_samples_per_second_async(&self, gpu: &mut GpuBackend, repeats: usize) -> Result<f64> {
        let (order, lrs) = (self.order(), self.lrs());
        let t = median_time_async(repeats, async |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                gpu.train_steps_async(&order, &lrs).await?;
            }
            Ok(start.elapsed())
        })
        .await?;
        Ok(self.samples() as f64 / t.as_secs_f64())
    }

    /// Median training samples/s of `backend` over `repeats` timings.
    pub fn samples_per_second(&self, backend: &mut dyn Backend, repeats: usize) -> Result<f64> {
        let (order, lrs) = (self.order(), self.lrs());
        let t = median_time(repeats, |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                backend.train_steps(&order, &lrs)?;
            }
            Ok(start.elapsed())
        })?;
        Ok(self.samples() as f64 / t.as_secs_f64())
    }
}

/// Median time of one repetition of `run(iters)` (which does `iters` repetitions and returns
/// their total time): after a warm-up call, `iters` is raised until a timing lasts ≥ 50 ms, so
/// per-submit overhead and timer resolution do not dominate; then `repeats` timings are taken.
pub fn median_time(repeats: usize, mut run: impl FnMut(u64) -> Result<Duration>) -> Result<Duration> {
    pollster::block_on(median_time_async(repeats, async |iters| run(iters)))
}

/// [`median_time`] of a run that is awaited (a browser's GPU answers asynchronously).
pub async fn median_time_async(repeats: usize, mut run: impl AsyncFnMut(u64) -> Result<Duration>) -> Result<Duration> {
    let mut iters = 1;
    while run(iters).await? < Duration::from_millis(50) && iters < 1 << 20 {
        iters *= 2;
    }
    let mut times = Vec::with_capacity(repeats.max(1));
    for _ in 0..repeats.max(1) {
        times.push(run(iters).await?);
    }
    times.sort();
    Ok(times[times.len() / 2] / iters as u32)
}

/// What `gpu-mlp bench` measured, printed as text or JSON.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    /// The GPU adapter, or why there is none.
    pub gpu: String,
    pub cpu_threads: usize,
    /// What computes the CPU's f32 products: a SIMD kernel set, or matrixmultiply.
    pub cpu_products: String,
    /// This CPU's fp32 FMA peak and copy bandwidth, measured (the CPU's roofline).
    pub cpu_peaks: Peaks,
    /// The GPU's, measured with `shaders/peak.wgsl`; absent without a GPU.
    pub gpu_peaks: Option<Peaks>,
    /// Products with fewer tiles than this are split along k (`TilePolicy`); absent without GPU.
    pub fill_workgroups: Option<usize>,
    pub repeats: usize,
    pub configs: Vec<ConfigReport>,
}

#[derive(Debug, Serialize)]
pub struct ConfigReport {
    pub name: String,
    pub cpu_samples_per_s: f64,
    pub gpu_samples_per_s: Option<f64>,
    /// A whole training step's least work, and what each backend's step achieved against its
    /// device's peaks.
    pub step_gflop: f64,
    pub step_mbytes: f64,
    pub cpu_step: Achieved,
    pub gpu_step: Option<Achieved>,
    pub gpu_dispatches_per_step: Option<f64>,
    /// One GPU training step, entry by entry.
    pub step: Vec<StepEntry>,
    pub products: Vec<ProductReport>,
}

/// One entry of a GPU training step: its dispatches and, with timestamp queries, its GPU time.
#[derive(Debug, Serialize)]
pub struct StepEntry {
    pub name: String,
    pub launches: Vec<Launch>,
    pub gpu_ms: Option<f64>,
    /// Its least work, held against the GPU's peaks (with timestamp queries).
    pub roofline: Option<Achieved>,
}

#[derive(Debug, Serialize)]
pub struct ProductReport {
    pub name: String,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub cpu_gflops: f64,
    pub gpu_gflops: Option<f64>,
    /// Each backend's product against its device's roofline.
    pub cpu_roofline: Achieved,
    pub gpu_roofline: Option<Achieved>,
    /// The GPU's dispatches for it: the product (workgroups, k each walks) and any reduction.
    pub gpu_launches: Vec<Launch>,
}

/// Measures `configs` (and, with a GPU, the step profile of each) with `repeats` timings each.
/// `fill_workgroups` overrides the adapter's tile policy.
pub fn measure(configs: &[BenchConfig], repeats: usize, fill_workgroups: Option<usize>) -> Result<BenchReport> {
    let open = || {
        GpuContext::new(AdapterChoice::Any).map(|mut ctx| {
            if let Some(fill) = fill_workgroups {
                ctx.tiles = TilePolicy {
                    fill_workgroups: fill.max(1),
                };
            }
            ctx
        })
    };
    let ctx = open();
    let matmul = ctx.as_ref().ok().map(Matmul::new);
    let gpu_peaks = match &ctx {
        Ok(c) => Some(roofline::gpu_peaks(c, repeats)?),
        Err(_) => None,
    };
    let cpu_peaks = roofline::cpu_peaks(repeats)?;
    let mut report = BenchReport {
        gpu: match &ctx {
            Ok(c) => format!(
                "{} ({}, {:?})",
                c.adapter.name, c.adapter.backend, c.adapter.device_type
            ),
            Err(e) => format!("none: {e}"),
        },
        cpu_threads: rayon::current_num_threads(),
        cpu_products: gemm::products_by(),
        cpu_peaks,
        gpu_peaks,
        fill_workgroups: ctx.as_ref().ok().map(|c| c.tiles.fill_workgroups),
        repeats,
        configs: Vec::new(),
    };
    for config in configs {
        let setup = config.setup();
        let mut cpu = setup.cpu_backend()?;
        let cpu_samples_per_s = setup.samples_per_second(&mut cpu, repeats)?;
        let step = setup.step_work();
        // One step's time at a throughput of `samples_per_s`.
        let per_step = |samples_per_s: f64| setup.batch as f64 / samples_per_s;
        let mut entry = ConfigReport {
            name: setup.name(),
            cpu_samples_per_s,
            step_gflop: step.flops as f64 / 1e9,
            step_mbytes: step.bytes as f64 / 1e6,
            cpu_step: report
                .cpu_peaks
                .hold(step.flops, step.bytes, per_step(cpu_samples_per_s)),
            gpu_step: None,
            gpu_samples_per_s: None,
            gpu_dispatches_per_step: None,
            step: Vec::new(),
            products: Vec::new(),
        };
        if ctx.is_ok() {
            let mut gpu = setup.gpu_backend(open()?)?;
            let gpu_samples_per_s = setup.samples_per_second(&mut gpu, repeats)?;
            entry.gpu_samples_per_s = Some(gpu_samples_per_s);
            entry.gpu_step =
                gpu_peaks_of(&report).map(|peaks| peaks.hold(step.flops, step.bytes, per_step(gpu_samples_per_s)));
            entry.gpu_dispatches_per_step = Some(gpu.dispatch_stats().dispatches_per_step());
            entry.step = profile_step(&setup, &mut gpu, gpu_peaks_of(&report))?;
        }
        for shape in setup.products() {
            let p = shape.product;
            let gflops = |t: Duration| p.flops() as f64 / t.as_secs_f64() / 1e9;
            let work = Work::of_product(p);
            let held =
                |peaks: &Peaks, gflops: f64| peaks.hold(work.flops, work.bytes, work.flops as f64 / gflops / 1e9);
            let mut cpu = CpuMatmul::new(p);
            let (gpu_gflops, gpu_launches) = match (&ctx, &matmul) {
                (Ok(c), Some(kernel)) => {
                    let gpu = GpuMatmul::new(c, kernel, p)?;
                    (
                        Some(gflops(median_time(repeats, |iters| gpu.run(iters))?)),
                        gpu.launches(),
                    )
                }
                _ => (None, Vec::new()),
            };
            let cpu_gflops = gflops(median_time(repeats, |iters| Ok(cpu.run(iters)))?);
            entry.products.push(ProductReport {
                name: shape.name,
                m: p.m,
                k: p.k,
                n: p.n,
                cpu_gflops,
                gpu_gflops,
                cpu_roofline: held(&report.cpu_peaks, cpu_gflops),
                gpu_roofline: gpu_peaks_of(&report).zip(gpu_gflops).map(|(peaks, g)| held(peaks, g)),
                gpu_launches,
            });
        }
        report.configs.push(entry);
    }
    Ok(report)
}

fn gpu_peaks_of(report: &BenchReport) -> Option<&Peaks> {
    report.gpu_peaks.as_ref()
}

/// The step's launches, with each entry's GPU time where the adapter has timestamp queries
/// (after a warm-up step; see `GpuBackend::profile_train_step`), held against `peaks`.
fn profile_step(setup: &TrainSetup, gpu: &mut GpuBackend, peaks: Option<&Peaks>) -> Result<Vec<StepEntry>> {
    let times = match gpu.has_timestamps() {
        true => {
            let (order, lrs) = (setup.order(), setup.lrs());
            gpu.profile_train_step(&order, lrs[0])?;
            Some(gpu.profile_train_step(&order, lrs[0])?)
        }
        false => None,
    };
    Ok(gpu
        .step_launches()
        .into_iter()
        .enumerate()
        .map(|(i, (dispatch, launches))| {
            let seconds = times.as_ref().map(|t| t[i].1.as_secs_f64());
            let work = setup.work(dispatch);
            StepEntry {
                name: dispatch.to_string(),
                launches,
                gpu_ms: seconds.map(|s| 1e3 * s),
                roofline: peaks
                    .zip(seconds)
                    .map(|(peaks, s)| peaks.hold(work.flops, work.bytes, s)),
            }
        })
        .collect())
}

/// "132 (k 128)" for a product's dispatch, "4" for any other: workgroups, and the k each walks.
fn launch_cell(launch: &Launch) -> String {
    match launch.k_per_workgroup {
        Some(k) => format!("{} (k {k})", launch.workgroups),
        None => launch.workgroups.to_string(),
    }
}

/// The cells of a schedule entry's dispatches, joined.
fn launch_cells(launches: &[Launch]) -> String {
    launches.iter().map(launch_cell).collect::<Vec<_>>().join(" + ")
}

fn optional(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".into(), |v| format!("{v:.decimals$}"))
}

/// "41% of its memory roof" style cell: the fraction of the roofline and which roof bounds it.
fn roof_cell(achieved: Option<&Achieved>) -> String {
    achieved.map_or("-".into(), |a| format!("{:.0}% {}", 100.0 * a.of_roofline, a.bound))
}

/// A device's peaks in words.
fn peaks_line(peaks: &Peaks) -> String {
    format!(
        "{:.1} GFLOP/s fp32 FMA, {:.1} GB/s copy ({}; ridge at {:.1} FLOP/byte)",
        peaks.gflops,
        peaks.gbps,
        peaks.unit,
        peaks.gflops / peaks.gbps
    )
}

/// A backend's whole step against its device's peaks.
fn step_line(name: &str, achieved: &Achieved) -> String {
    format!(
        "{name} {:.1} GFLOP/s = {:.0}% of its FMA peak, {:.1} GB/s = {:.0}% of its bandwidth ({:.0}% of its {} roof)",
        achieved.gflops,
        100.0 * achieved.of_peak_flops,
        achieved.gbps,
        100.0 * achieved.of_peak_bandwidth,
        100.0 * achieved.of_roofline,
        achieved.bound
    )
}

impl BenchReport {
    /// The tables `gpu-mlp bench` prints.
    pub fn write_text(&self, mut out: impl std::io::Write) -> Result<()> {
        let io = |e: std::io::Error| Error::io("stdout", e);
        let fill = self.fill_workgroups.map_or(String::new(), |f| {
            format!("; products split along k to launch ≥ {f} workgroups")
        });
        writeln!(
            out,
            "GPU adapter: {}{fill}\nCPU: reference backend ({}, {} threads)\nmedians of {} timings",
            self.gpu, self.cpu_products, self.cpu_threads, self.repeats
        )
        .map_err(io)?;
        writeln!(out, "CPU peaks: {}", peaks_line(&self.cpu_peaks)).map_err(io)?;
        if let Some(peaks) = &self.gpu_peaks {
            writeln!(out, "GPU peaks: {}", peaks_line(peaks)).map_err(io)?;
        }
        for c in &self.configs {
            writeln!(
                out,
                "\n== {}\ntraining samples/s: cpu {:.0}, gpu {} ({} dispatches/step)",
                c.name,
                c.cpu_samples_per_s,
                optional(c.gpu_samples_per_s, 0),
                optional(c.gpu_dispatches_per_step, 0)
            )
            .map_err(io)?;
            writeln!(
                out,
                "one step: {:.3} GFLOP, {:.1} MB of least traffic ({:.1} FLOP/byte)\n  {}",
                c.step_gflop,
                c.step_mbytes,
                c.cpu_step.intensity,
                step_line("cpu", &c.cpu_step)
            )
            .map_err(io)?;
            if let Some(gpu) = &c.gpu_step {
                writeln!(out, "  {}", step_line("gpu", gpu)).map_err(io)?;
            }
            if !c.step.is_empty() {
                let total: Option<f64> = c.step.iter().map(|s| s.gpu_ms).sum();
                writeln!(
                    out,
                    "\n{:<26} {:>28} {:>10} {:>9} {:>8} {:>7} {:>15}",
                    "GPU step", "workgroups (k each)", "GPU ms", "GFLOP/s", "GB/s", "FLOP/B", "of roofline"
                )
                .map_err(io)?;
                for s in &c.step {
                    let a = s.roofline.as_ref();
                    writeln!(
                        out,
                        "{:<26} {:>28} {:>10} {:>9} {:>8} {:>7} {:>15}",
                        s.name,
                        launch_cells(&s.launches),
                        optional(s.gpu_ms, 3),
                        optional(a.map(|a| a.gflops), 1),
                        optional(a.map(|a| a.gbps), 1),
                        optional(a.map(|a| a.intensity), 1),
                        roof_cell(a)
                    )
                    .map_err(io)?;
                }
                let note = if total.is_none() {
                    " (no timestamp queries on this adapter)"
                } else {
                    ""
                };
                writeln!(out, "{:<26} {:>28} {:>10}{note}", "total", "", optional(total, 3)).map_err(io)?;
            }
            writeln!(
                out,
                "\n{:<26} {:>7} {:>11} {:>15} {:>11} {:>15} {:>28}",
                "matmul",
                "FLOP/B",
                "cpu GFLOP/s",
                "of roofline",
                "gpu GFLOP/s",
                "of roofline",
                "gpu workgroups (k each)"
            )
            .map_err(io)?;
            for p in &c.products {
                writeln!(
                    out,
                    "{:<26} {:>7.1} {:>11.2} {:>15} {:>11} {:>15} {:>28}",
                    p.name,
                    p.cpu_roofline.intensity,
                    p.cpu_gflops,
                    roof_cell(Some(&p.cpu_roofline)),
                    optional(p.gpu_gflops, 2),
                    roof_cell(p.gpu_roofline.as_ref()),
                    launch_cells(&p.gpu_launches)
                )
                .map_err(io)?;
            }
        }
        Ok(())
    }
}
