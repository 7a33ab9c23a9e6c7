// The step table entry every kernel of a training step reads through a dynamic uniform offset
// (gpu::kernels::StepInfo on the host). Prepended to each kernel's source when it is compiled.
struct Step {
    first: u32,              // offset of this step's first sample index in the order buffer
    rows: u32,               // samples in this step (≤ batch; the last batch may be short)
    slot: u32,               // where this step's metrics go
    lr: f32,                 // learning rate
    bias_correction1: f32,   // Adam: 1 − β1ᵗ
    bias_correction2: f32,   // Adam: 1 − β2ᵗ
    seed: u32,               // dropout: the run's seed (folded to 32 bits)
    index: u32,              // dropout: the global training step (1-based)
    dropout: f32,            // dropout probability (0 when evaluating)
    weighted: u32,           // 1: the loss weights each row by its sample's weight (training)
}

