//! `gpu-mlp explain`: one real mini-batch through the network, step by step as a student writes
//! it: shapes, statistics, the first samples' logits, softmax, losses and gradients, each
//! weight gradient and the update, each step naming the `cpu::ops` function and the WGSL kernel
//! that compute it, with the GPU's value beside the CPU's.

use std::fmt::Write;
use std::sync::Arc;

use crate::cpu::ops::loss_and_grad;
use crate::cpu::CpuBackend;
use crate::data::Splits;
use crate::error::{Error, Result};
use crate::gpu::{AdapterChoice, GpuBackend, GpuContext};
use crate::insight::evaluate::probabilities;
use crate::nn::model::{MlpSpec, ParamLayout};
use crate::nn::step::StepDispatch;
use crate::plan::{start, Start};
use crate::settings::Config;
use crate::training::backend::{Backend, StepTrace, TrainOptions};
use crate::training::train::visit_order;

/// Samples whose logits, probabilities and losses are printed one by one.
const SHOWN: usize = 3;

/// What the CPU reference computed for the batch, step by step.
pub struct CpuTrace {
    /// Every tensor of the step (the pre-activations `Z = X·Wᵀ + b` included).
    pub step: StepTrace,
    pub params_before: Vec<f32>,
    /// The batch's mean loss.
    pub loss: f64,
}

impl CpuTrace {
    /// Layer `l`'s pre-activation `Z`.
    fn pre_activation(&self, l: usize) -> &[f32] {
        self.step.pre_activations.as_ref().map_or(&[], |z| &z[l])
    }
}

/// One mini-batch explained.
pub struct Explanation {
    pub spec: MlpSpec,
    /// Training-split indices of the batch's samples (epoch 1's order).
    pub samples: Vec<u32>,
    pub labels: Vec<u32>,
    pub lr: f32,
    pub cpu: CpuTrace,
    /// The same step on the GPU, or why there is none.
    pub gpu: std::result::Result<StepTrace, String>,
}

/// Batch `batch` of epoch 1 of `config`'s run, through freshly initialized weights, on the
/// CPU reference and (when an adapter is found) on the GPU. With dropout both draw the same
/// masks (a hash of the seed, the step and the unit), so they compute the same step.
pub fn explain(config: &Config, batch: usize) -> Result<Explanation> {
    let data = Arc::new(config.load_data()?);
    pollster::block_on(explain_async(config, data, batch))
}

/// [`explain`] on `config`'s data already loaded (as [`Config::load_data`] gives them), every
/// GPU readback awaited: a web page explains a step this way.
pub async fn explain_async(config: &Config, data: Arc<Splits>, batch: usize) -> Result<Explanation> {
    // The CPU's step and the GPU's (in host memory on a software adapter), each with the
    // values it prints.
    let Start { spec, params } = start(config, &data, None, 3)?;
    let steps = crate::training::train::steps_per_epoch(data.train.len(), config.training.batch_size);
    if batch >= steps {
        return Err(Error::InvalidConfig {
            field: "batch",
            detail: format!(
                "epoch 1 has batches 0 to {} at --batch-size {}",
                steps - 1,
                config.training.batch_size
            ),
        });
    }
    let order = visit_order(data.train.len(), config.run.seed, 1, config.training.shuffle);
    let samples =
        order[batch * config.training.batch_size..((batch + 1) * config.training.batch_size).min(order.len())].to_vec();
    let lr = config.lr_schedule(steps).lr(0, batch);
    let opts = config.train_options();
    let cpu = cpu_trace(&spec, &data, &samples, &params, lr, &opts)?;
    let gpu = async {
        let ctx = GpuContext::open(AdapterChoice::Any, config.run.backend).await?;
        let mut gpu = GpuBackend::new(ctx, &spec, &params, Arc::clone(&data), &opts)?;
        gpu.trace_step_async(&samples, lr).await
    };
    let gpu = gpu.await.map_err(|e| e.to_string());
    Ok(Explanation {
        labels: samples.iter().map(|&i| data.train.labels[i as usize]).collect(),
        spec,
        samples,
        lr,
        cpu,
        gpu,
    })
}

/// The step on the CPU backend, traced: every tensor it computed, and the batch's mean loss.
fn cpu_trace(
    spec: &MlpSpec,
    data: &Arc<Splits>,
    samples: &[u32],
    params: &[f32],
    lr: f32,
    opts: &TrainOptions,
) -> Result<CpuTrace> {
    let mut cpu = CpuBackend::new(spec, params.to_vec(), Arc::clone(data), opts)?;
    let step = cpu.trace_step(samples, lr)?;
    let rows = samples.len();
    let labels: Vec<u32> = samples.iter().map(|&i| data.train.labels[i as usize]).collect();
    let logits = &step.acts[step.acts.len() - 1];
    let mut scratch = vec![0.0; logits.len()];
    let loss = loss_and_grad(spec.loss, logits, &labels, None, rows, spec.outputs(), &mut scratch);
    Ok(CpuTrace {
        step,
        params_before: params.to_vec(),
        loss: loss.loss_sum / rows as f64,
    })
}

/// Where a value comes from, from the step table: the CPU functions `twins` of `dispatch`'s
/// (all, or the forward product's linear or activation part), then its kernel with `note`.
fn source(
    dispatch: StepDispatch,
    twins: impl std::slice::SliceIndex<[&'static str], Output = [&'static str]>,
    note: &str,
) -> String {
    format!(
        "{} | {}{note}",
        dispatch.cpu_twin()[twins].join(", "),
        dispatch.kernel()
    )
}

/// Mean, standard deviation, minimum and maximum.
fn stats(v: &[f32]) -> String {
    let n = v.len().max(1) as f64;
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
    let (lo, hi) = v.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    });
    format!("mean {mean:+.4}, std {:.4}, min {lo:+.4}, max {hi:+.4}", var.sqrt())
}

/// The largest `|a − b|`, element by element: NaN when either holds a NaN, or when their
/// lengths differ (a NaN never passes as close).
fn largest_gap(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return f32::NAN;
    }
    a.iter().zip(b).fold(0.0f32, |gap, (x, y)| match (x - y).abs() {
        d if d.is_nan() || gap.is_nan() => f32::NAN,
        d => gap.max(d),
    })
}

fn norm(v: &[f32]) -> f64 {
    v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt()
}

fn values(v: &[f32]) -> String {
    let shown: Vec<String> = v.iter().map(|x| format!("{x:+.6}")).collect();
    format!("[{}]", shown.join(", "))
}

impl Explanation {
    /// `|CPU − GPU|` of one quantity: the largest absolute difference, or why there is none.
    fn diff(&self, cpu: &[f32], gpu: impl Fn(&StepTrace) -> Option<Vec<f32>>) -> String {
        match &self.gpu {
            Ok(trace) => match gpu(trace) {
                Some(g) => format!("GPU differs by at most {:.2e}", largest_gap(cpu, &g)),
                None => "GPU: fused into the next kernel, not stored".into(),
            },
            Err(_) => "GPU: none".into(),
        }
    }

    /// Every tensor both the CPU and the GPU computed, by name (as [`StepTrace::named`] names
    /// them), with the largest `|GPU − CPU|` of its elements; empty without a GPU.
    pub fn differences(&self) -> Vec<(String, f32)> {
        let Ok(gpu) = &self.gpu else {
            return Vec::new();
        };
        let layout = ParamLayout::new(&self.spec);
        let gpu = gpu.named(&layout);
        self.cpu
            .step
            .named(&layout)
            .into_iter()
            .filter_map(|(name, cpu)| {
                let (_, values) = gpu.iter().find(|(n, _)| *n == name)?;
                Some((name, largest_gap(cpu, values)))
            })
            .collect()
    }

    /// The tensor where the GPU strays furthest from the CPU (a NaN first).
    pub fn largest_difference(&self) -> Option<(String, f32)> {
        self.differences().into_iter().reduce(|worst, next| {
            match worst.1.is_nan() || (!next.1.is_nan() && worst.1 >= next.1) {
                true => worst,
                false => next,
            }
        })
    }

    /// The whole explanation as text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let layout = ParamLayout::new(&self.spec);
        let rows = self.samples.len();
        let cpu = &self.cpu;
        let last = layout.layers.len() - 1;
        let _ = writeln!(
            out,
            "one mini-batch of {rows} training samples (epoch 1's order: samples {}…) through {}, learning rate {}",
            self.samples
                .iter()
                .take(SHOWN)
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            self.spec.describe(),
            self.lr
        );
        match &self.gpu {
            Ok(_) => out += "each step: CPU reference function (src/cpu/ops.rs) | WGSL kernel (shaders/) | the GPU's value of the same quantity against the CPU's\n\n",
            Err(why) => out += &format!("no GPU to compare with ({why}): CPU values only\n\n"),
        }
        let via = source(StepDispatch::Gather, .., "");
        let _ = writeln!(
            out,
            "X  input batch [{rows}, {}]: {}\n   gather rows and normalize: {via} | {}",
            self.spec.inputs(),
            stats(&cpu.step.acts[0]),
            self.diff(&cpu.step.acts[0], |t| Some(t.acts[0].clone()))
        );
        for (l, slots) in layout.layers.iter().enumerate() {
            let n = l + 1;
            let z = cpu.pre_activation(l);
            let via = source(StepDispatch::Forward(l), ..1, " (bias epilogue)");
            let _ = writeln!(
                out,
                "\nlayer {n}: Z{n} = A{l}·W{n}ᵀ + b{n}  [{rows}, {}] · [{}, {}]ᵀ + [{}] → [{rows}, {}]: {}\n   {via} | {}",
                slots.fan_in,
                slots.fan_out,
                slots.fan_in,
                slots.fan_out,
                slots.fan_out,
                stats(z),
                match slots.activation {
                    Some(_) => self.diff(z, |_| None),
                    None => self.diff(z, |t| Some(t.acts[n].clone())),
                }
            );
            if let Some(act) = slots.activation {
                let a = &cpu.step.acts[n];
                let zeros = a.iter().filter(|&&v| v == 0.0).count();
                let via = source(StepDispatch::Forward(l), 1.., " (activation epilogue)");
                let _ = writeln!(
                    out,
                    "   A{n} = {act:?}(Z{n}) [{rows}, {}]: {} ({:.1}% exactly 0)\n   {via} | {}",
                    slots.fan_out,
                    stats(a),
                    100.0 * zeros as f64 / a.len().max(1) as f64,
                    self.diff(a, |t| Some(t.acts[n].clone()))
                );
            }
        }
        let units = self.spec.outputs();
        let logits = &cpu.step.acts[last + 1];
        let _ = writeln!(out, "\noutputs, the first {} samples:", SHOWN.min(rows));
        for r in 0..SHOWN.min(rows) {
            let z = &logits[r * units..(r + 1) * units];
            let p = probabilities(self.spec.loss, z);
            let label = self.labels[r] as usize;
            let _ = writeln!(
                out,
                "   sample {}: label {label}, logits {}, softmax p {}, −log p_true = {:.4}",
                self.samples[r],
                values(z),
                values(&p),
                -(f64::from(p[label]).max(1e-12)).ln()
            );
        }
        let via = source(StepDispatch::Loss, .., "");
        let _ = writeln!(out, "   mean loss over the batch L = {:.6}: {via}", cpu.loss);
        let _ = writeln!(
            out,
            "\ngradient at the output: dL/dZ{} = (p − y) / {rows}  [{rows}, {units}]: {}\n   {via} | {}",
            last + 1,
            stats(&cpu.step.deltas[last]),
            self.diff(&cpu.step.deltas[last], |t| Some(t.deltas[last].clone()))
        );
        for (l, slots) in layout.layers.iter().enumerate().rev() {
            let n = l + 1;
            let (dw, db) = (
                &cpu.step.grads[slots.weight.clone()],
                &cpu.step.grads[slots.bias.clone()],
            );
            let via = source(StepDispatch::WeightGrad(l), .., " (weight gradient, bias as row sums)");
            let _ = writeln!(
                out,
                "\nlayer {n}: dW{n} = dZ{n}ᵀ · A{l}  [{}, {}], ‖dW{n}‖ = {:.6e}; db{n} = Σ_batch dZ{n}, ‖db{n}‖ = {:.6e}\n   dW{n}, first {} values (row-major) = {}\n   {via} | {}",
                slots.fan_out,
                slots.fan_in,
                norm(dw),
                norm(db),
                SHOWN.min(dw.len()),
                values(&dw[..SHOWN.min(dw.len())]),
                self.diff(&cpu.step.grads[slots.weight.start..slots.bias.end], |t| {
                    Some(t.grads[slots.weight.start..slots.bias.end].to_vec())
                })
            );
            if l > 0 {
                let act = layout.layers[l - 1].activation.map_or("?".into(), |a| format!("{a:?}"));
                let via = source(
                    StepDispatch::InputGrad(l),
                    ..,
                    " (input gradient, activation-derivative epilogue)",
                );
                let _ = writeln!(
                    out,
                    "   dZ{l} = (dZ{n} · W{n}) ⊙ {act}′(A{l})  [{rows}, {}]: {}\n   {via} | {}",
                    slots.fan_in,
                    stats(&cpu.step.deltas[l - 1]),
                    self.diff(&cpu.step.deltas[l - 1], |t| Some(t.deltas[l - 1].clone()))
                );
            }
        }
        let _ = writeln!(out, "\nupdate (the optimizer's first step):");
        for (l, slots) in layout.layers.iter().enumerate() {
            let before = &cpu.params_before[slots.weight.clone()];
            let after = &cpu.step.params[slots.weight.clone()];
            let delta: Vec<f32> = after.iter().zip(before).map(|(a, b)| a - b).collect();
            let via = source(StepDispatch::Update, .., "");
            let _ = writeln!(
                out,
                "   layer {}: W ← W − lr·(step): ‖ΔW‖ = {:.6e}, ‖ΔW‖/‖W‖ = {:.3e}\n   {via} | {}",
                l + 1,
                norm(&delta),
                norm(&delta) / norm(before).max(f64::MIN_POSITIVE),
                self.diff(&cpu.step.params[slots.weight.start..slots.bias.end], |t| {
                    Some(t.params[slots.weight.start..slots.bias.end].to_vec())
                })
            );
        }
        if let Some((name, gap)) = self.largest_difference() {
            let _ = writeln!(
                out,
                "\nlargest difference between the GPU and the CPU: {name}, {gap:.2e}"
            );
        }
        out
    }
}
