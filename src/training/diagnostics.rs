//! Per-layer numbers that show how training goes inside the network, measured every epoch by
//! either backend: each weight's and bias's gradient norm, the weight norm, the size of the
//! latest update relative to the weights, and each hidden layer's activation mean, standard
//! deviation and fraction of units that never fired in the epoch.

use serde::{Deserialize, Serialize};

use crate::nn::model::ParamLayout;

/// What a backend accumulated for the diagnostics since it was last asked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawDiagnostics {
    /// Per hidden layer, as `cpu::ops::accumulate_unit_stats` fills it: per-unit activation
    /// sums, sums of squares, then fired flags (3 × width values).
    pub units: Vec<Vec<f32>>,
    /// Training samples the unit statistics cover.
    pub samples: u64,
    /// Per layer, `cpu::ops::param_sums` of its weight and of its bias, at the latest step.
    pub params: Vec<[[f64; 3]; 2]>,
}

/// One layer's diagnostics for one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerDiagnostics {
    /// ‖∂L/∂W‖ and ‖∂L/∂b‖ (L2 norms) of the epoch's last step.
    pub weight_grad_norm: f64,
    pub bias_grad_norm: f64,
    /// ‖W‖ at the end of the epoch.
    pub weight_norm: f64,
    /// ‖ΔW‖ / ‖W‖ of the epoch's last update (healthy training is often near 1e-3).
    pub update_ratio: f64,
    /// Hidden layers: mean and standard deviation of the activations over the epoch's samples
    /// and the layer's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_std: Option<f64>,
    /// Hidden layers: the fraction of units whose output was 0 for every sample of the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_fraction: Option<f64>,
}

impl RawDiagnostics {
    /// Zeroed unit statistics and parameter sums for the layers of `layout`.
    pub fn empty(layout: &ParamLayout) -> Self {
        let hidden = &layout.layers[..layout.layers.len() - 1];
        RawDiagnostics {
            units: hidden.iter().map(|l| vec![0.0; 3 * l.fan_out]).collect(),
            samples: 0,
            params: vec![[[0.0; 3]; 2]; layout.layers.len()],
        }
    }

    /// The numbers per layer.
    pub fn layers(&self) -> Vec<LayerDiagnostics> {
        self.params
            .iter()
            .enumerate()
            .map(|(l, [weight, bias])| {
                let (mean, std, dead) = match self.units.get(l) {
                    Some(stats) => {
                        let (mean, std, dead) = activation_summary(stats, self.samples);
                        (Some(mean), Some(std), Some(dead))
                    }
                    None => (None, None, None),
                };
                LayerDiagnostics {
                    weight_grad_norm: weight[0].sqrt(),
                    bias_grad_norm: bias[0].sqrt(),
                    weight_norm: weight[1].sqrt(),
                    update_ratio: weight[2].sqrt() / weight[1].sqrt().max(f64::MIN_POSITIVE),
                    activation_mean: mean,
                    activation_std: std,
                    dead_fraction: dead,
                }
            })
            .collect()
    }
}

/// Mean, standard deviation and dead fraction from one layer's unit statistics over `samples`.
fn activation_summary(stats: &[f32], samples: u64) -> (f64, f64, f64) {
    let width = stats.len() / 3;
    let total = |part: &[f32]| part.iter().map(|&v| f64::from(v)).sum::<f64>();
    let n = (samples as f64 * width as f64).max(1.0);
    let mean = total(&stats[..width]) / n;
    let variance = (total(&stats[width..2 * width]) / n - mean * mean).max(0.0);
    let dead = stats[2 * width..].iter().filter(|&&fired| fired == 0.0).count();
    (mean, variance.sqrt(), dead as f64 / width.max(1) as f64)
}
