//! Optimizers and learning-rate schedules: their settings, declared as every setting is
//! ([`crate::declare`]; a run's `Config` holds them), the per-step values both
//! backends feed to the same update rule (`cpu::ops::optimizer_step`, `shaders/optim.wgsl`)
//! and the rate of each step.

use serde::{Deserialize, Serialize};

use crate::declare::{Extra, Range, Role};

crate::settings_group! {
    /// An optimizer and its hyper-parameters.
    #[derive(Copy)]
    pub struct Optimizer in "optimizer" {
        /// Optimizer.
        kind as "optimizer": OptimizerKind = OptimizerKind::Sgd, Extra::NONE.roles(&[Role::Network]);
        /// Learning rate, a finite number > 0.
        lr: f32 = OptimizerKind::Sgd.default_lr(), Extra {
            range: Range::Positive,
            default_text: Some(OptimizerKind::default_lr_text),
            value_name: None,
            roles: &[],
            default_from: Some(OptimizerKind::default_lr_of),
        };
        /// Momentum μ for `--optimizer momentum`.
        momentum: f32 = 0.9, Extra::range(Range::Fraction);
        /// Nesterov momentum.
        nesterov: bool = false;
        /// Adam β1.
        beta1: f32 = 0.9, Extra::range(Range::Fraction);
        /// Adam β2.
        beta2: f32 = 0.999, Extra::range(Range::Fraction);
        /// Adam ε.
        eps: f32 = 1e-8, Extra::range(Range::Positive);
        /// Weight decay: L2 for sgd/momentum/adam, decoupled for adamw.
        weight_decay: f32 = 0.0, Extra::range(Range::NonNegative);
    }
}

crate::settings_group! {
    /// How the learning rate changes over a run.
    pub struct ScheduleSettings in "schedule" {
        /// Learning-rate schedule.
        kind as "schedule": ScheduleKind = ScheduleKind::Constant;
        /// Step schedule: epochs between decays.
        step_epochs: usize = 1, Extra::range(Range::AtLeast(1));
        /// Step schedule: decay factor.
        gamma: f32 = 0.5, Extra::range(Range::Positive);
        /// Cosine schedule: epochs of linear warm-up.
        warmup_epochs: usize = 0;
    }
}

/// Which update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// p ← p − lr·g
    #[default]
    Sgd,
    /// v ← μv + g; p ← p − lr·v (Nesterov: p ← p − lr·(g + μv))
    Momentum,
    /// Adam with bias correction; weight decay as L2 (added to the gradient)
    Adam,
    /// Adam with decoupled weight decay
    Adamw,
}

impl Optimizer {
    /// The learning rate is this optimizer's default (given or not: the advice and the
    /// messages that name a default hold either way).
    pub fn lr_is_default(&self) -> bool {
        self.lr == self.kind.default_lr()
    }
}

impl OptimizerKind {
    /// The learning rate when none is given: Adam's step is already normalized, so it takes
    /// the 1e-3 its paper (and PyTorch) use; SGD and momentum take 0.1.
    pub fn default_lr(self) -> f32 {
        match self {
            OptimizerKind::Sgd | OptimizerKind::Momentum => 0.1,
            OptimizerKind::Adam | OptimizerKind::Adamw => 1e-3,
        }
    }

    /// The default learning rate of the optimizer a settings table names (SGD's when it names
    /// none, or none that parses: validation then reports it).
    pub fn default_lr_of(settings: &toml::Table) -> toml::Value {
        let kind = settings
            .get("optimizer")
            .and_then(toml::Value::as_str)
            .and_then(|name| <OptimizerKind as clap::ValueEnum>::from_str(name, false).ok())
            .unwrap_or_default();
        toml::Value::Float(f64::from(kind.default_lr()))
    }

    /// Every optimizer's default learning rate in words, as `--help` gives it: "0.1 for sgd and
    /// momentum, 0.001 for adam and adamw".
    pub fn default_lr_text() -> String {
        use clap::ValueEnum as _;
        let mut groups: Vec<(f32, Vec<String>)> = Vec::new();
        for kind in OptimizerKind::value_variants() {
            let name = crate::declare::choice_name(kind);
            match groups.iter_mut().find(|(lr, _)| *lr == kind.default_lr()) {
                Some((_, names)) => names.push(name),
                None => groups.push((kind.default_lr(), vec![name])),
            }
        }
        groups
            .iter()
            .map(|(lr, names)| format!("{lr} for {}", names.join(" and ")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How the learning rate changes over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    #[default]
    Constant,
    /// lr · γ^⌊epoch / step_epochs⌋
    Step,
    /// Cosine decay from lr to 0 over the run, after an optional linear warm-up.
    Cosine,
}

impl OptimizerKind {
    /// The code `optim.wgsl` switches on.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// How many f32 state values it keeps per parameter.
    pub fn state_per_param(self) -> usize {
        match self {
            OptimizerKind::Sgd => 0,
            OptimizerKind::Momentum => 1,
            OptimizerKind::Adam | OptimizerKind::Adamw => 2,
        }
    }
}

/// The values of one update that change from step to step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateStep {
    pub lr: f32,
    /// Adam's bias corrections 1 − β1ᵗ and 1 − β2ᵗ for this step t (1-based), computed in f64
    /// on the host so both backends use the same f32 values.
    pub bias_correction1: f32,
    pub bias_correction2: f32,
}

impl Optimizer {
    /// The update values of step `t` (1-based) at learning rate `lr`.
    pub fn step(&self, t: u64, lr: f32) -> UpdateStep {
        let t = t.min(i32::MAX as u64) as i32;
        UpdateStep {
            lr,
            bias_correction1: (1.0 - f64::from(self.beta1).powi(t)) as f32,
            bias_correction2: (1.0 - f64::from(self.beta2).powi(t)) as f32,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub kind: ScheduleKind,
    pub base_lr: f32,
    /// Step decay: epochs between decays, and the factor.
    pub step_epochs: usize,
    pub gamma: f32,
    /// Warm-up steps (cosine): the rate rises linearly from base_lr/warmup to base_lr.
    pub warmup_steps: usize,
    /// Steps in the whole run (cosine).
    pub total_steps: usize,
}

impl Schedule {
    pub fn constant(lr: f32) -> Self {
        Schedule {
            kind: ScheduleKind::Constant,
            base_lr: lr,
            step_epochs: 1,
            gamma: 1.0,
            warmup_steps: 0,
            total_steps: 1,
        }
    }

    /// The rate for global step `step` (0-based) in epoch `epoch` (0-based).
    pub fn lr(&self, epoch: usize, step: usize) -> f32 {
        match self.kind {
            ScheduleKind::Constant => self.base_lr,
            ScheduleKind::Step => {
                let decays = (epoch / self.step_epochs.max(1)) as i32;
                (f64::from(self.base_lr) * f64::from(self.gamma).powi(decays)) as f32
            }
            ScheduleKind::Cosine => {
                if step < self.warmup_steps {
                    return (f64::from(self.base_lr) * (step + 1) as f64 / self.warmup_steps as f64) as f32;
                }
                let span = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
                let progress = ((step - self.warmup_steps) as f64 / span).min(1.0);
                (f64::from(self.base_lr) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())) as f32
            }
        }
    }
}
