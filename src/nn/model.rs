//! The network's shape, where each parameter lives in one flat buffer, and how it starts.

use std::ops::Range;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::error::{Error, Result};

/// Tensors start on multiples of 64 floats (256 bytes), the strictest storage-buffer offset
/// alignment wgpu allows, so the GPU can bind each one as its own slice of the flat buffer.
pub const TENSOR_ALIGN: usize = 64;

/// How a matrix operand is stored in its flat buffer; both backends' products read their
/// operands through this (a weight `[out, in]` is the forward product's B stored transposed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// As the logical matrix.
    AsIs,
    /// As its transpose: the logical `[r, c]` matrix is stored row-major as `[c, r]`.
    Transposed,
}

/// The nonlinearity after a hidden layer. The numeric codes are the WGSL's (`matmul.wgsl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(z, 0)
    #[default]
    Relu,
    /// tanh(z)
    Tanh,
    /// 1 / (1 + e^−z)
    Sigmoid,
}

impl Activation {
    pub fn code(self) -> u32 {
        self as u32
    }
}

/// What the output layer's values mean and how they are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// Logits, one per class; softmax cross-entropy from logits (log-sum-exp stable).
    #[default]
    SoftmaxCrossEntropy,
    /// A softmax output layer and cross-entropy from its probabilities, −log(p_true + 1e-12)
    /// (the Keras-from-scratch formulation).
    SoftmaxProbCrossEntropy,
    /// One logit for a two-class problem; binary cross-entropy with logits; predicts class 1
    /// when the logit is > 0.
    BinaryCrossEntropy,
}

impl Loss {
    /// The code `loss.wgsl` switches on.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// Output units for `classes` classes.
    pub fn output_units(self, classes: usize) -> Result<usize> {
        match self {
            Loss::BinaryCrossEntropy if classes != 2 => Err(Error::InvalidConfig {
                field: "loss",
                detail: format!("binary-cross-entropy needs a 2-class dataset, this one has {classes} classes"),
            }),
            Loss::BinaryCrossEntropy => Ok(1),
            _ if classes < 2 => Err(Error::InvalidConfig {
                field: "loss",
                detail: format!("softmax needs ≥ 2 classes, got {classes}"),
            }),
            _ => Ok(classes),
        }
    }
}

/// A multi-layer perceptron: `sizes[0]` inputs, hidden layers, `sizes.last()` output units.
/// Hidden layer `i` is followed by `activations[i]`; the output layer is linear (the softmax or
/// sigmoid lives in the loss).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlpSpec {
    pub sizes: Vec<usize>,
    pub activations: Vec<Activation>,
    pub loss: Loss,
}

impl MlpSpec {
    /// ReLU after every hidden layer, `outputs` logits scored by softmax cross-entropy.
    pub fn new(inputs: usize, hidden: &[usize], outputs: usize) -> Result<Self> {
        if inputs == 0 || outputs == 0 {
            return Err(Error::InvalidConfig {
                field: "model",
                detail: format!("need ≥ 1 input and ≥ 1 output, got {inputs} inputs and {outputs} outputs"),
            });
        }
        if let Some(i) = hidden.iter().position(|&h| h == 0) {
            return Err(Error::InvalidConfig {
                field: "hidden",
                detail: format!("hidden layer {} has width 0: expected ≥ 1", i + 1),
            });
        }
        let mut sizes = vec![inputs];
        sizes.extend_from_slice(hidden);
        sizes.push(outputs);
        Ok(MlpSpec {
            sizes,
            activations: vec![Activation::Relu; hidden.len()],
            loss: Loss::SoftmaxCrossEntropy,
        })
    }

    /// A network for `classes` classes scored by `loss` (1 output unit for binary cross-entropy).
    pub fn for_classes(inputs: usize, hidden: &[usize], classes: usize, loss: Loss) -> Result<Self> {
        Ok(MlpSpec {
            loss,
            ..MlpSpec::new(inputs, hidden, loss.output_units(classes)?)?
        })
    }

    /// Sets the hidden layers' activations: one for all, or one per hidden layer.
    pub fn with_activations(mut self, activations: &[Activation]) -> Result<Self> {
        let hidden = self.sizes.len() - 2;
        self.activations = match activations.len() {
            1 => vec![activations[0]; hidden],
            n if n == hidden => activations.to_vec(),
            n => {
                return Err(Error::InvalidConfig {
                    field: "activation",
                    detail: format!("{n} activations given for {hidden} hidden layers: expected 1 or {hidden}"),
                })
            }
        };
        Ok(self)
    }

    /// Number of dense (weight + bias) layers.
    pub fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    pub fn inputs(&self) -> usize {
        self.sizes[0]
    }

    pub fn outputs(&self) -> usize {
        self.sizes[self.layers()]
    }

    /// Human form, e.g. `784-512-10` (ReLU) or `2-16(tanh)-2`.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.sizes[0].to_string()];
        for (size, act) in self.sizes[1..]
            .iter()
            .zip(self.activations.iter().map(Some).chain([None]))
        {
            parts.push(match act {
                Some(Activation::Relu) | None => size.to_string(),
                Some(a) => format!("{size}({a:?})").to_lowercase(),
            });
        }
        parts.join("-")
    }
}

/// Where layer `l`'s weight `[out, in]` (row-major, as PyTorch's `nn.Linear` stores it) and bias
/// `[out]` sit in the flat parameter buffer. Gradients use the same layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSlots {
    pub fan_in: usize,
    pub fan_out: usize,
    pub weight: Range<usize>,
    pub bias: Range<usize>,
    /// The nonlinearity after this layer; `None` for the output layer.
    pub activation: Option<Activation>,
}

/// One matrix product of a training step, `C[m×n] = A[m×k] · B[k×n]`, with how A and B are
/// stored: both backends compute each layer's three products through this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a: Stored,
    pub b: Stored,
}

impl Product {
    pub fn flops(&self) -> u64 {
        2 * (self.m * self.k * self.n) as u64
    }

    /// A dense layer's forward product for `batch` rows: `Z[batch, out] = X · Wᵀ`.
    pub fn forward(batch: usize, fan_in: usize, fan_out: usize) -> Product {
        Product {
            m: batch,
            k: fan_in,
            n: fan_out,
            a: Stored::AsIs,
            b: Stored::Transposed,
        }
    }

    /// Its weight gradient: `dW[out, in] = dZᵀ · X`.
    pub fn weight_grad(batch: usize, fan_in: usize, fan_out: usize) -> Product {
        Product {
            m: fan_out,
            k: batch,
            n: fan_in,
            a: Stored::Transposed,
            b: Stored::AsIs,
        }
    }

    /// Its input gradient: `dX[batch, in] = dZ · W`.
    pub fn input_grad(batch: usize, fan_in: usize, fan_out: usize) -> Product {
        Product {
            m: batch,
            k: fan_out,
            n: fan_in,
            a: Stored::AsIs,
            b: Stored::AsIs,
        }
    }
}

impl LayerSlots {
    /// `Z[batch, out] = X · Wᵀ`.
    pub fn forward_product(&self, batch: usize) -> Product {
        Product::forward(batch, self.fan_in, self.fan_out)
    }

    /// `dW[out, in] = dZᵀ · X`.
    pub fn weight_grad_product(&self, batch: usize) -> Product {
        Product::weight_grad(batch, self.fan_in, self.fan_out)
    }

    /// `dX[batch, in] = dZ · W`.
    pub fn input_grad_product(&self, batch: usize) -> Product {
        Product::input_grad(batch, self.fan_in, self.fan_out)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamLayout {
    pub layers: Vec<LayerSlots>,
    /// Length of the flat buffer, padding included.
    pub len: usize,
}

impl ParamLayout {
    /// The width of each layer's input, then of the last layer's output: the input, each hidden
    /// layer, the outputs.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.layers[0].fan_in)
            .chain(self.layers.iter().map(|l| l.fan_out))
            .collect()
    }

    pub fn new(spec: &MlpSpec) -> Self {
        let align = |x: usize| x.div_ceil(TENSOR_ALIGN) * TENSOR_ALIGN;
        let mut next = 0;
        let mut take = |n: usize| {
            let r = next..next + n;
            next = align(next + n);
            r
        };
        let layers = spec
            .sizes
            .windows(2)
            .enumerate()
            .map(|(l, w)| LayerSlots {
                fan_in: w[0],
                fan_out: w[1],
                weight: take(w[0] * w[1]),
                bias: take(w[1]),
                activation: spec.activations.get(l).copied(),
            })
            .collect();
        ParamLayout { layers, len: next }
    }

    /// Number of trainable values (padding excluded).
    pub fn count(&self) -> usize {
        self.layers.iter().map(|l| l.weight.len() + l.bias.len()).sum()
    }
}

/// How weights start (biases always start at 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// U(−0.05, 0.05), Keras' "uniform".
    Uniform,
    /// N(0, 0.1²).
    Normal,
    /// He (Kaiming) uniform, for ReLU: U(±√(6/fan_in)).
    #[default]
    HeUniform,
    /// He (Kaiming) normal: N(0, 2/fan_in).
    HeNormal,
    /// Glorot (Xavier) uniform, for tanh/sigmoid: U(±√(6/(fan_in+fan_out))).
    GlorotUniform,
    /// PyTorch's `nn.Linear` default: weights and biases U(±1/√fan_in).
    Pytorch,
}

/// Draws every layer's weights from `init`, layer by layer from ChaCha8 seeded with `seed`;
/// biases are 0 (but for `Init::Pytorch`, which draws them too) and padding is 0.
pub fn initialize(layout: &ParamLayout, init: Init, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = vec![0.0f32; layout.len];
    for layer in &layout.layers {
        let (fan_in, fan_out) = (layer.fan_in as f32, layer.fan_out as f32);
        let weights = &mut params[layer.weight.clone()];
        // The bounds and deviations below are finite and positive, so the distributions exist.
        match init {
            Init::Uniform => fill(
                weights,
                Uniform::new_inclusive(-0.05, 0.05).expect("valid bounds"),
                &mut rng,
            ),
            Init::Normal => fill(weights, Normal::new(0.0, 0.1).expect("valid deviation"), &mut rng),
            Init::HeUniform => {
                let bound = (6.0 / fan_in).sqrt();
                fill(
                    weights,
                    Uniform::new_inclusive(-bound, bound).expect("valid bounds"),
                    &mut rng,
                )
            }
            Init::HeNormal => fill(
                weights,
                Normal::new(0.0, (2.0 / fan_in).sqrt()).expect("valid deviation"),
                &mut rng,
            ),
            Init::GlorotUniform => {
                let bound = (6.0 / (fan_in + fan_out)).sqrt();
                fill(
                    weights,
                    Uniform::new_inclusive(-bound, bound).expect("valid bounds"),
                    &mut rng,
                )
            }
            Init::Pytorch => {
                let bound = 1.0 / fan_in.sqrt();
                let dist = Uniform::new_inclusive(-bound, bound).expect("valid bounds");
                fill(weights, dist, &mut rng);
                fill(&mut params[layer.bias.clone()], dist, &mut rng);
            }
        }
    }
    params
}

fn fill(values: &mut [f32], dist: impl Distribution<f32>, rng: &mut ChaCha8Rng) {
    for v in values {
        *v = dist.sample(rng);
    }
}

/// One row of [`MlpSpec::summary`]: a dense layer as Keras' `model.summary()` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSummary {
    /// `dense_1`, `dense_2`, … (the last one the output layer).
    pub name: String,
    pub inputs: usize,
    pub outputs: usize,
    /// The hidden activation, or what the loss applies to the outputs.
    pub activation: &'static str,
    /// Dropout after the layer while training (hidden layers only).
    pub dropout: Option<f32>,
    /// Weights plus biases.
    pub params: usize,
}

impl MlpSpec {
    /// The network layer by layer, with `dropout` after each hidden layer.
    pub fn summary(&self, dropout: f32) -> Vec<LayerSummary> {
        ParamLayout::new(self)
            .layers
            .iter()
            .enumerate()
            .map(|(l, slots)| LayerSummary {
                name: format!("dense_{}", l + 1),
                inputs: slots.fan_in,
                outputs: slots.fan_out,
                activation: match slots.activation {
                    Some(Activation::Relu) => "relu",
                    Some(Activation::Tanh) => "tanh",
                    Some(Activation::Sigmoid) => "sigmoid",
                    None => match self.loss {
                        Loss::SoftmaxCrossEntropy => "softmax (in the loss)",
                        Loss::SoftmaxProbCrossEntropy => "softmax",
                        Loss::BinaryCrossEntropy => "sigmoid (in the loss)",
                    },
                },
                dropout: slots.activation.map(|_| dropout),
                params: slots.weight.len() + slots.bias.len(),
            })
            .collect()
    }

    /// [`MlpSpec::summary`] as a table: one row per layer with its input and output shape
    /// (`batch` standing for the mini-batch dimension), activation, dropout and parameter count,
    /// then the total.
    pub fn summary_table(&self, dropout: f32) -> String {
        let rows = self.summary(dropout);
        let shape = |n: usize| format!("(batch, {n})");
        let header = format!(
            "{:<16} {:<14} {:<14} {:<22} {:>7} {:>12}",
            "Layer", "Input shape", "Output shape", "Activation", "Dropout", "Params"
        );
        let rule = "─".repeat(header.chars().count());
        let mut out = format!("{header}\n{rule}\n");
        for r in &rows {
            let name = if r.dropout.is_none() {
                format!("{} (output)", r.name)
            } else {
                r.name.clone()
            };
            out += &format!(
                "{:<16} {:<14} {:<14} {:<22} {:>7} {:>12}\n",
                name,
                shape(r.inputs),
                shape(r.outputs),
                r.activation,
                r.dropout.map_or("-".into(), |p| p.to_string()),
                thousands(r.params)
            );
        }
        let total: usize = rows.iter().map(|r| r.params).sum();
        out += &format!(
            "{rule}\nTotal params: {} ({}, f32), all trainable\n",
            thousands(total),
            bytes(4 * total)
        );
        out
    }
}

/// `407050` as `407,050`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count in B, KiB or MiB.
fn bytes(n: usize) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.2} KiB", n as f64 / 1024.0),
        n => format!("{:.2} MiB", n as f64 / (1024.0 * 1024.0)),
    }
}
