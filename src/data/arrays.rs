//! Samples that came as arrays (from Python's `fit(x, y, test_data=…)`), kept as a run
//! directory's `test.safetensors` so `gpu-mlp eval` and `plot` can score the run later: `x`
//! (`[samples, features]`, u8 or f32, as stored) and `y` (`[samples]`, u32 class indices).

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::{Affine, Dataset, Features};
use crate::error::{Error, Result};
use crate::files::write_atomic;

/// The file's name in a run directory.
pub const TEST_ARRAYS: &str = "test.safetensors";

/// Writes `data`'s stored features and labels to `path`, atomically.
pub fn save(path: &Path, data: &Dataset) -> Result<()> {
    let failed = |e: safetensors::SafeTensorError| Error::Checkpoint {
        path: path.into(),
        detail: e.to_string(),
    };
    let (dtype, bytes): (Dtype, &[u8]) = match &data.features {
        Features::U8(v) => (Dtype::U8, v),
        Features::F32(v) => (Dtype::F32, bytemuck::cast_slice(v)),
    };
    let tensors = [
        (
            "x",
            TensorView::new(dtype, vec![data.len(), data.dim], bytes).map_err(failed)?,
        ),
        (
            "y",
            TensorView::new(Dtype::U32, vec![data.len()], bytemuck::cast_slice(&data.labels)).map_err(failed)?,
        ),
    ];
    let bytes = safetensors::tensor::serialize(tensors, None::<HashMap<String, String>>).map_err(failed)?;
    write_atomic(path, &bytes)
}

/// The samples [`save`] wrote, transformed by `transform`.
pub fn load(path: &Path, transform: Affine) -> Result<Dataset> {
    let bad = |detail: String| Error::Checkpoint {
        path: path.into(),
        detail,
    };
    let bytes = crate::files::read_bounded(path, crate::files::MAX_CHECKPOINT_BYTES, bad)?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let tensor = |name: &str| {
        tensors
            .tensor(name)
            .map_err(|_| bad(format!("missing tensor `{name}`")))
    };
    let (x, y) = (tensor("x")?, tensor("y")?);
    let (&[samples, dim], &[labels]) = (x.shape(), y.shape()) else {
        return Err(bad(format!(
            "shapes {:?} and {:?}, expected [samples, features] and [samples]",
            x.shape(),
            y.shape()
        )));
    };
    if samples != labels || y.dtype() != Dtype::U32 {
        return Err(bad(format!("{samples} samples but {labels} labels of {:?}", y.dtype())));
    }
    let features = match x.dtype() {
        Dtype::U8 => Features::U8(x.data().to_vec()),
        Dtype::F32 => Features::F32(bytemuck::pod_collect_to_vec(x.data())),
        other => return Err(bad(format!("features of {other:?}, expected U8 or F32"))),
    };
    Ok(Dataset {
        features,
        labels: bytemuck::pod_collect_to_vec(y.data()),
        dim,
        transform,
        weights: None,
    })
}
