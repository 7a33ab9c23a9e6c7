//! Choosing where a run computes: `--device auto|gpu|cpu`.

use std::sync::Arc;

use crate::cpu::CpuBackend;
use crate::data::Splits;
use crate::error::{Error, Result};
use crate::gpu::{AdapterChoice, GpuBackend, GpuContext, GraphicsApi};
use crate::nn::model::MlpSpec;
use crate::training::backend::{Backend, TrainOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// A hardware GPU when wgpu finds one, otherwise the CPU backend.
    #[default]
    Auto,
    /// wgpu on the best adapter it finds, software ones (lavapipe) included.
    Gpu,
    /// The plain-Rust CPU reference.
    Cpu,
}

/// Builds the backend `choice` asks for (a GPU through `api`); returns it with a sentence
/// saying what was chosen and why. Blocks while the GPU opens: [`create_backend_async`].
pub fn create_backend(
    choice: DeviceChoice,
    api: GraphicsApi,
    spec: &MlpSpec,
    params: Vec<f32>,
    data: Arc<Splits>,
    opts: &TrainOptions,
) -> Result<(Box<dyn Backend>, String)> {
    pollster::block_on(create_backend_async(choice, api, spec, params, data, opts))
}

/// [`create_backend`], awaiting the adapter and the device (a browser answers both
/// asynchronously).
pub async fn create_backend_async(
    choice: DeviceChoice,
    api: GraphicsApi,
    spec: &MlpSpec,
    params: Vec<f32>,
    data: Arc<Splits>,
    opts: &TrainOptions,
) -> Result<(Box<dyn Backend>, String)> {
    let gpu = |ctx: GpuContext, params: &[f32], data| -> Result<Box<dyn Backend>> {
        Ok(Box::new(GpuBackend::new(ctx, spec, params, data, opts)?))
    };
    match choice {
        DeviceChoice::Cpu => Ok((
            Box::new(CpuBackend::new(spec, params, data, opts)?),
            "--device cpu".into(),
        )),
        DeviceChoice::Gpu => {
            let ctx = GpuContext::open(AdapterChoice::Any, api).await?;
            Ok((gpu(ctx, &params, data)?, "--device gpu".into()))
        }
        DeviceChoice::Auto => match GpuContext::open(AdapterChoice::HardwareOnly, api).await {
            Ok(ctx) => Ok((gpu(ctx, &params, data)?, "--device auto found a hardware GPU".into())),
            Err(Error::NoAdapter(why)) => Ok((
                Box::new(CpuBackend::new(spec, params, data, opts)?),
                format!("--device auto fell back to the CPU: {why} (use --device gpu for a software adapter)"),
            )),
            Err(e) => Err(e),
        },
    }
}
