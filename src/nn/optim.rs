//! Optimizers and learning-rate schedules (their settings are declared in [`crate::settings`]):
//! the per-step values both backends feed to the same update rule (`cpu::ops::optimizer_step`,
//! `shaders/optim.wgsl`) and the rate of each step.

use crate::settings::optimizer::{Optimizer, OptimizerKind, ScheduleKind};

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
