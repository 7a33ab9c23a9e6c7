//! The network's shape, where each parameter lives in one flat buffer, and how it starts.

use std::ops::Range;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

use crate::error::{Error, Result};

/// Tensors start on multiples of 64 floats (256 bytes), the strictest storage-buffer offset
/// alignment wgpu allows, so the GPU can bind each one as its own slice of the flat buffer.
pub const TENSOR_ALIGN: usize = 64;

/// A multi-layer perceptron: `sizes[0]` inputs, hidden layers, `sizes.last()` output logits.
/// Hidden layers use ReLU; the output layer is linear (softmax lives in the loss).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlpSpec {
    pub sizes: Vec<usize>,
}

impl MlpSpec {
    pub fn new(inputs: usize, hidden: &[usize], classes: usize) -> Result<Self> {
        if inputs == 0 || classes < 2 {
            return Err(Error::InvalidConfig {
                field: "model",
                detail: format!("need ≥ 1 input and ≥ 2 classes, got {inputs} inputs and {classes} classes"),
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
        sizes.push(classes);
        Ok(MlpSpec { sizes })
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

    /// Human form, e.g. `784-512-10`.
    pub fn describe(&self) -> String {
        self.sizes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("-")
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamLayout {
    pub layers: Vec<LayerSlots>,
    /// Length of the flat buffer, padding included.
    pub len: usize,
}

impl ParamLayout {
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
            .map(|w| LayerSlots {
                fan_in: w[0],
                fan_out: w[1],
                weight: take(w[0] * w[1]),
                bias: take(w[1]),
            })
            .collect();
        ParamLayout { layers, len: next }
    }

    /// Number of trainable values (padding excluded).
    pub fn count(&self) -> usize {
        self.layers.iter().map(|l| l.weight.len() + l.bias.len()).sum()
    }
}

/// He (Kaiming) uniform initialization, suited to ReLU: weights ~ U(−√(6/fan_in), +√(6/fan_in)),
/// biases 0, drawn layer by layer from ChaCha8 seeded with `seed`. Padding stays 0.
pub fn init_he_uniform(layout: &ParamLayout, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut params = vec![0.0f32; layout.len];
    for layer in &layout.layers {
        let bound = (6.0 / layer.fan_in as f32).sqrt();
        // The bounds are finite and ordered, so construction cannot fail.
        let dist = Uniform::new_inclusive(-bound, bound).expect("finite, ordered bounds");
        for w in &mut params[layer.weight.clone()] {
            *w = dist.sample(&mut rng);
        }
    }
    params
}
