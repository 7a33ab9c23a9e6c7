//! A whole network's forward and backward pass, written out layer by layer from the ops.

use super::aligned::Aligned;
use super::ops::{
    activate, activation_backward, dropout_activation_backward, dropout_forward, linear_backward, linear_forward,
    loss_and_grad, BatchLoss,
};
use super::Real;
use crate::nn::dropout::Dropout;
use crate::nn::model::{Loss, ParamLayout};

/// Activations and their gradients for one batch of up to `capacity` rows, allocated once.
pub struct Workspace<T> {
    /// `acts[0]` is the input batch; `acts[l + 1]` is layer `l`'s output (after its activation,
    /// for all but the last layer).
    pub acts: Vec<Aligned<T>>,
    /// `deltas[l]` is the loss gradient with respect to layer `l`'s pre-activation output.
    pub deltas: Vec<Vec<T>>,
    /// The batch's labels.
    pub labels: Vec<u32>,
    /// The batch's sample weights in the loss (None: unweighted).
    pub weights: Option<Vec<f32>>,
    pub capacity: usize,
    /// Each layer's pre-activation `Z` of the latest forward pass, when kept (a traced step:
    /// training itself has no use for them once activated).
    pub pre_acts: Option<Vec<Vec<T>>>,
}

impl<T: Real> Workspace<T> {
    pub fn new(layout: &ParamLayout, capacity: usize) -> Self {
        let acts = layout
            .widths()
            .into_iter()
            .map(|w| Aligned::zeroed(w * capacity))
            .collect();
        let deltas = layout
            .layers
            .iter()
            .map(|l| vec![T::zero(); l.fan_out * capacity])
            .collect();
        Workspace {
            acts,
            deltas,
            labels: vec![0; capacity],
            weights: None,
            capacity,
            pre_acts: None,
        }
    }

    /// Keeps each layer's pre-activation from now on (see [`Workspace::pre_acts`]).
    pub fn keep_pre_activations(&mut self) {
        let widths = self.acts[1..].iter().map(|a| a.len());
        self.pre_acts = Some(widths.map(|len| vec![T::zero(); len]).collect());
    }

    /// The logits after [`forward`].
    pub fn logits(&self) -> &[T] {
        &self.acts[self.acts.len() - 1]
    }
}

/// Runs `ws.acts[0]` (first `rows` rows) through every layer, with `dropout` after each hidden
/// layer when training.
pub fn forward<T: Real>(
    layout: &ParamLayout,
    params: &[T],
    ws: &mut Workspace<T>,
    rows: usize,
    dropout: Option<&Dropout>,
) {
    for (l, slots) in layout.layers.iter().enumerate() {
        let (inputs, outputs) = ws.acts.split_at_mut(l + 1);
        let z = &mut outputs[0][..rows * slots.fan_out];
        // A traced step keeps `z` before its activation: it activates after the copy.
        let fused = slots.activation.filter(|_| ws.pre_acts.is_none());
        linear_forward(
            &inputs[l],
            &params[slots.weight.clone()],
            &params[slots.bias.clone()],
            fused,
            rows,
            z,
        );
        if let Some(pre) = ws.pre_acts.as_mut() {
            pre[l][..z.len()].copy_from_slice(z);
        }
        if let Some(act) = slots.activation {
            if fused.is_none() {
                activate(z, act);
            }
            if let Some(d) = dropout {
                dropout_forward(z, d, l as u32);
            }
        }
    }
}

/// Forward, `loss` against `ws.labels`, and backward: fills `grads` (same layout as
/// `params`) with the gradient of the batch-mean loss. Returns the batch's summed loss and hits.
pub fn loss_and_gradients<T: Real>(
    layout: &ParamLayout,
    loss: Loss,
    params: &[T],
    ws: &mut Workspace<T>,
    rows: usize,
    grads: &mut [T],
    dropout: Option<&Dropout>,
) -> BatchLoss {
    forward(layout, params, ws, rows, dropout);
    let last = layout.layers.len() - 1;
    let units = layout.layers[last].fan_out;
    let outputs = &ws.acts[last + 1];
    let batch_loss = loss_and_grad(
        loss,
        outputs,
        &ws.labels,
        ws.weights.as_deref(),
        rows,
        units,
        &mut ws.deltas[last],
    );
    for (l, slots) in layout.layers.iter().enumerate().rev() {
        let (below, here) = ws.deltas.split_at_mut(l);
        let dz = &here[0][..rows * slots.fan_out];
        let (dw, db) = split_weight_bias(grads, slots);
        let dx = below.last_mut().map(|d| &mut d[..rows * slots.fan_in]);
        let has_dx = dx.is_some();
        linear_backward(dz, &ws.acts[l], &params[slots.weight.clone()], rows, dw, db, dx);
        if has_dx {
            // Layer l's input is the activation output of layer l − 1.
            let act = layout.layers[l - 1]
                .activation
                .expect("hidden layers have an activation");
            let da = &mut ws.deltas[l - 1][..rows * slots.fan_in];
            match dropout {
                Some(d) => dropout_activation_backward(da, &ws.acts[l], act, d, (l - 1) as u32),
                None => activation_backward(da, &ws.acts[l], act),
            }
        }
    }
    batch_loss
}

/// Disjoint mutable views of one layer's weight and bias gradients.
fn split_weight_bias<'a, T>(grads: &'a mut [T], slots: &crate::nn::model::LayerSlots) -> (&'a mut [T], &'a mut [T]) {
    // The layout places each bias after its weight.
    let (head, tail) = grads.split_at_mut(slots.bias.start);
    (&mut head[slots.weight.clone()], &mut tail[..slots.bias.len()])
}
