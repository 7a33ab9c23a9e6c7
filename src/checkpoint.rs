//! Checkpoints: weights and optimizer state in safetensors, named and shaped like PyTorch's
//! `nn.Linear` (`layers.{i}.weight` \[out, in\], `layers.{i}.bias` \[out\]), with the run's metadata
//! as JSON both inside the file (`__metadata__["gpu_mlp"]`) and, in a run directory, as meta.json.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::data::table::TableCodec;
use crate::data::{Affine, Splits, StoredRange};
use crate::error::{Error, Result};
use crate::files::write_atomic;
use crate::files::Fingerprint;
use crate::nn::model::{Activation, Loss, MlpSpec, ParamLayout};
use crate::settings::Config;
use crate::training::backend::{Metrics, StepMetrics};

pub const FORMAT: &str = "gpu-mlp checkpoint 1";
const METADATA_KEY: &str = "gpu_mlp";

/// Everything needed to rebuild, evaluate or resume a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub format: String,
    pub crate_version: String,
    /// Layer widths, input first.
    pub sizes: Vec<usize>,
    pub activations: Vec<Activation>,
    pub loss: Loss,
    pub class_names: Vec<String>,
    /// How stored features became inputs when training (`x · scale + shift`).
    pub input_scale: f32,
    pub input_shift: f32,
    /// Epochs completed.
    pub epoch: usize,
    /// Steps done of the next epoch when training was interrupted mid-epoch (else 0)…
    #[serde(default)]
    pub steps_into_epoch: usize,
    /// …and their summed loss and hits, so the resumed epoch's history covers all its steps.
    #[serde(default)]
    pub steps_so_far: StepMetrics,
    /// Validation metrics of these weights' epoch (with a validation split).
    #[serde(default)]
    pub val: Option<Metrics>,
    /// Optimizer steps taken (Adam's t; the dropout masks' step counter).
    pub optimizer_steps: u64,
    /// The random state: shuffles are seeded by (seed, epoch) and dropout masks by
    /// (seed, step), so (seed, epoch, optimizer_steps) is all there is.
    pub seed: u64,
    pub config: Config,
    /// For a model trained on a CSV table: how rows become its inputs.
    #[serde(default)]
    pub table: Option<TableCodec>,
    /// The table files as the run first read them (a resume refuses files that changed).
    #[serde(default)]
    pub data_files: Vec<Fingerprint>,
    /// Trained on arrays given from Python, not on `config`'s dataset: its test samples (if
    /// any) are the run directory's `test.safetensors`.
    #[serde(default)]
    pub from_arrays: bool,
    /// What the training samples were stored as, and their range (absent in checkpoints of
    /// earlier versions: see [`Meta::stored_range`]).
    #[serde(default)]
    pub stored: Option<StoredRange>,
}

impl Meta {
    pub fn spec(&self) -> Result<MlpSpec> {
        let bad = |detail: String| Error::Checkpoint {
            path: "metadata".into(),
            detail,
        };
        if self.sizes.len() < 2 || self.sizes.contains(&0) {
            return Err(bad(format!("layer sizes {:?} do not describe a network", self.sizes)));
        }
        let hidden = &self.sizes[1..self.sizes.len() - 1];
        let mut spec = MlpSpec::new(self.sizes[0], hidden, self.sizes[self.sizes.len() - 1])?;
        if !hidden.is_empty() {
            spec = spec.with_activations(&self.activations)?;
        }
        spec.loss = self.loss;
        // The loss must fit the output layer: one unit for binary cross-entropy, one per class
        // (≥ 2) for softmax.
        let outputs = spec.outputs();
        if self.loss.output_units(self.class_names.len()).ok() != Some(outputs) {
            return Err(bad(format!(
                "loss {:?} does not fit an output layer of {outputs} units for {} classes",
                self.loss,
                self.class_names.len()
            )));
        }
        Ok(spec)
    }

    /// What the model was trained on: recorded, or for an earlier version's dataset run its
    /// images' bytes (None when it cannot be told).
    pub fn stored_range(&self) -> Option<StoredRange> {
        let images = !self.from_arrays && self.table.is_none() && self.config.data.dataset.is_images();
        self.stored.or(images.then_some(StoredRange::PIXELS))
    }

    pub fn input_transform(&self) -> Affine {
        Affine {
            scale: self.input_scale,
            shift: self.input_shift,
        }
    }
}

/// A model's parameters (flat [`ParamLayout`]) and optimizer state, with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub meta: Meta,
    pub params: Vec<f32>,
    /// The optimizer's arrays, each in the parameter layout (velocity; or Adam's m then v).
    pub optimizer_state: Vec<f32>,
}

/// Each tensor of one parameter-shaped array under `prefix`: name, range in the flat layout,
/// shape (`layers.{i}.weight` [out, in], `layers.{i}.bias` [out]).
fn tensor_slots(layout: &ParamLayout, prefix: &str) -> Vec<(String, std::ops::Range<usize>, Vec<usize>)> {
    layout
        .layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| {
            [
                (
                    format!("{prefix}layers.{i}.weight"),
                    l.weight.clone(),
                    vec![l.fan_out, l.fan_in],
                ),
                (format!("{prefix}layers.{i}.bias"), l.bias.clone(), vec![l.fan_out]),
            ]
        })
        .collect()
}

/// Names of the optimizer's state arrays for `count` arrays.
fn state_names(count: usize) -> &'static [&'static str] {
    match count {
        0 => &[],
        1 => &["velocity"],
        _ => &["m", "v"],
    }
}

/// The checkpoint `path` names: a file as is, a run directory's best checkpoint (its last when
/// it has no best one).
pub fn resolve(path: &Path) -> Result<std::path::PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    ["best.safetensors", "last.safetensors"]
        .iter()
        .map(|name| path.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::Checkpoint {
            path: path.into(),
            detail:
                "is a directory without best.safetensors or last.safetensors: expected a checkpoint or a run directory"
                    .into(),
        })
}

impl Checkpoint {
    fn tensors(&self) -> Result<Vec<(String, TensorView<'_>)>> {
        let layout = ParamLayout::new(&self.meta.spec()?);
        let arrays = self.optimizer_state.len() / layout.len.max(1);
        let prefixes = std::iter::once(("".to_string(), &self.params[..])).chain(
            state_names(arrays).iter().enumerate().map(|(k, name)| {
                (
                    format!("optimizer.{name}."),
                    &self.optimizer_state[k * layout.len..(k + 1) * layout.len],
                )
            }),
        );
        let mut out = Vec::new();
        for (prefix, values) in prefixes {
            for (name, range, shape) in tensor_slots(&layout, &prefix) {
                let view = TensorView::new(Dtype::F32, shape, bytemuck::cast_slice(&values[range])).map_err(|e| {
                    Error::Checkpoint {
                        path: name.clone().into(),
                        detail: e.to_string(),
                    }
                })?;
                out.push((name, view));
            }
        }
        Ok(out)
    }

    /// Writes the checkpoint atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes(path)?)
    }

    /// The file [`Checkpoint::save`] writes, as bytes (`path` names it in errors);
    /// [`Checkpoint::from_bytes`] reads them back.
    pub fn to_bytes(&self, path: &Path) -> Result<Vec<u8>> {
        let failed = |detail: String| Error::Checkpoint {
            path: path.into(),
            detail,
        };
        let meta = serde_json::to_string(&self.meta).map_err(|e| failed(e.to_string()))?;
        safetensors::tensor::serialize(self.tensors()?, Some(HashMap::from([(METADATA_KEY.to_string(), meta)])))
            .map_err(|e| failed(e.to_string()))
    }

    /// Writes the weights alone (no optimizer state, no gpu-mlp metadata beyond the layer sizes,
    /// activations and class names): `layers.{i}.weight` `[out, in]` and `layers.{i}.bias`, as
    /// `nn.Linear` stores them. For `nn.Sequential(Linear, act, Linear, …)` rename
    /// `layers.{i}.` to `{2i}.`, then `load_state_dict(strict=True)` takes it.
    pub fn export_weights(&self, path: &Path) -> Result<()> {
        let failed = |detail: String| Error::Checkpoint {
            path: path.into(),
            detail,
        };
        let tensors: Vec<_> = self
            .tensors()?
            .into_iter()
            .filter(|(name, _)| name.starts_with("layers."))
            .collect();
        let about = serde_json::json!({
            "sizes": self.meta.sizes,
            "activations": self.meta.activations,
            "class_names": self.meta.class_names,
        });
        let metadata = HashMap::from([("gpu_mlp_model".to_string(), about.to_string())]);
        let bytes = safetensors::tensor::serialize(tensors, Some(metadata)).map_err(|e| failed(e.to_string()))?;
        write_atomic(path, &bytes)
    }

    pub fn load(path: &Path) -> Result<Checkpoint> {
        let bytes = crate::files::read_bounded(path, crate::files::MAX_CHECKPOINT_BYTES, |detail| Error::Checkpoint {
            path: path.into(),
            detail,
        })?;
        Checkpoint::from_bytes(path, &bytes)
    }

    /// A checkpoint from a file's bytes; `path` names it in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Checkpoint> {
        let bad = |detail: String| Error::Checkpoint {
            path: path.into(),
            detail,
        };
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let meta_json = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(METADATA_KEY))
            .ok_or_else(|| bad(format!("no `{METADATA_KEY}` metadata: not written by gpu-mlp")))?;
        let meta: Meta = serde_json::from_str(meta_json).map_err(|e| bad(format!("metadata: {e}")))?;
        if meta.format != FORMAT {
            return Err(bad(format!("format `{}`, expected `{FORMAT}`", meta.format)));
        }
        // The tensors the metadata promises must fit in the file before anything is allocated.
        let promised = meta.sizes.windows(2).try_fold(0usize, |n, w| {
            w[0].checked_mul(w[1]).and_then(|m| n.checked_add(m)?.checked_add(w[1]))
        });
        if promised.is_none_or(|n| n.saturating_mul(4) > bytes.len()) {
            return Err(bad(format!(
                "layer sizes {:?} need more data than the file holds",
                meta.sizes
            )));
        }
        let layout = ParamLayout::new(&meta.spec().map_err(|e| bad(e.to_string()))?);
        let arrays = meta.config.optimizer.kind.state_per_param();
        let read = |prefix: &str| -> Result<Vec<f32>> {
            let mut values = vec![0.0f32; layout.len];
            for (name, range, shape) in tensor_slots(&layout, prefix) {
                let t = tensors
                    .tensor(&name)
                    .map_err(|_| bad(format!("missing tensor `{name}`")))?;
                if t.dtype() != Dtype::F32 || t.shape() != shape.as_slice() {
                    return Err(bad(format!(
                        "tensor `{name}` is {:?} {:?}, expected F32 {shape:?}",
                        t.dtype(),
                        t.shape()
                    )));
                }
                let slice = &mut values[range];
                slice.copy_from_slice(&bytemuck::pod_collect_to_vec::<u8, f32>(t.data()));
                if let Some(i) = slice.iter().position(|v| !v.is_finite()) {
                    return Err(bad(format!(
                        "tensor `{name}` holds {} at element {i}: a checkpoint must hold finite numbers",
                        slice[i]
                    )));
                }
            }
            Ok(values)
        };
        let params = read("")?;
        let mut optimizer_state = Vec::with_capacity(arrays * layout.len);
        for name in state_names(arrays) {
            optimizer_state.extend(read(&format!("optimizer.{name}."))?);
        }
        Ok(Checkpoint {
            meta,
            params,
            optimizer_state,
        })
    }
}

/// Where training stands: epochs completed and steps done of the next.
#[derive(Clone, Copy)]
pub struct Position {
    pub epoch: usize,
    pub steps_into_epoch: usize,
    /// Summed metrics of those steps.
    pub steps_so_far: StepMetrics,
    /// Validation metrics at this position (end of an epoch with a validation split).
    pub val: Option<Metrics>,
}

/// What a checkpoint records of its run besides its position and numbers (the command line's
/// runs and the page take their checkpoints from it).
pub struct RunRecord<'a> {
    pub config: &'a Config,
    pub data: &'a Splits,
    pub spec: &'a MlpSpec,
    pub data_files: &'a [Fingerprint],
    pub from_arrays: bool,
    /// What the training samples are stored as (measured once).
    pub stored: StoredRange,
}

impl RunRecord<'_> {
    pub fn checkpoint(
        &self,
        at: Position,
        params: Vec<f32>,
        optimizer_state: Vec<f32>,
        optimizer_steps: u64,
    ) -> Checkpoint {
        let (config, data) = (self.config, self.data);
        Checkpoint {
            meta: Meta {
                format: FORMAT.into(),
                crate_version: env!("CARGO_PKG_VERSION").into(),
                sizes: self.spec.sizes.clone(),
                activations: self.spec.activations.clone(),
                loss: self.spec.loss,
                class_names: data.class_names.clone(),
                input_scale: data.train.transform.scale,
                input_shift: data.train.transform.shift,
                epoch: at.epoch,
                steps_into_epoch: at.steps_into_epoch,
                steps_so_far: at.steps_so_far,
                val: at.val,
                optimizer_steps,
                seed: config.run.seed,
                config: config.clone(),
                table: data.table.clone(),
                data_files: self.data_files.to_vec(),
                from_arrays: self.from_arrays,
                stored: Some(self.stored),
            },
            params,
            optimizer_state,
        }
    }
}
