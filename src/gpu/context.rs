//! The one wgpu device a run uses: adapter choice, limits, and buffer helpers.

use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use super::tiles::TilePolicy;
use crate::error::{Error, Result};

/// Which adapters a caller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterChoice {
    /// Any adapter, software (lavapipe/llvmpipe) included; hardware preferred.
    Any,
    /// Hardware adapters only (integrated, discrete or virtual GPUs).
    HardwareOnly,
}

/// Which graphics API wgpu drives the GPU through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphicsApi {
    /// `$WGPU_BACKEND` when set (wgpu's own variable: `vulkan`, `gl`, …), else Vulkan, Metal or
    /// DX12, else OpenGL.
    #[default]
    Auto,
    Vulkan,
    /// OpenGL (ES) through EGL, e.g. Mesa's llvmpipe with no display.
    Gl,
    Metal,
    Dx12,
}

impl GraphicsApi {
    /// The backends to look for adapters on, in order of preference: the next only when the
    /// one before has none (for `Auto` without `$WGPU_BACKEND`: the primary ones, then OpenGL).
    fn backends(self) -> Vec<wgpu::Backends> {
        // In a browser there is one graphics API: its WebGPU.
        if cfg!(target_arch = "wasm32") {
            return vec![wgpu::Backends::BROWSER_WEBGPU];
        }
        match self {
            GraphicsApi::Auto => match wgpu::Backends::from_env() {
                Some(from_env) => vec![from_env],
                None => vec![wgpu::Backends::PRIMARY, wgpu::Backends::SECONDARY],
            },
            GraphicsApi::Vulkan => vec![wgpu::Backends::VULKAN],
            GraphicsApi::Gl => vec![wgpu::Backends::GL],
            GraphicsApi::Metal => vec![wgpu::Backends::METAL],
            GraphicsApi::Dx12 => vec![wgpu::Backends::DX12],
        }
    }

    /// How a user asks for it, for messages.
    fn request(self) -> String {
        match (self, std::env::var("WGPU_BACKEND")) {
            (GraphicsApi::Auto, Ok(env)) => format!("WGPU_BACKEND={env}"),
            (GraphicsApi::Auto, Err(_)) => "any graphics API".into(),
            (api, _) => format!("--backend {}", crate::declare::choice_name(&api)),
        }
    }
}

/// What a user needs to know about an adapter.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: wgpu::DeviceType,
    pub driver: String,
    pub max_storage_binding: u64,
    pub max_buffer: u64,
    pub max_workgroup_storage: u32,
    pub max_invocations: u32,
    /// Features that matter to compute kernels: f16, subgroups (with their sizes), timestamps.
    pub notable_features: Vec<String>,
    /// What this adapter cannot do that gpu-mlp would use, and what runs instead.
    pub fallbacks: Vec<String>,
}

impl AdapterSummary {
    fn of(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let limits = adapter.limits();
        AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: info.device_type,
            driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
            max_storage_binding: limits.max_storage_buffer_binding_size,
            max_buffer: limits.max_buffer_size,
            max_workgroup_storage: limits.max_compute_workgroup_storage_size,
            max_invocations: limits.max_compute_invocations_per_workgroup,
            notable_features: notable_features(adapter.features(), &info),
            fallbacks: fallbacks(adapter.features(), &info),
        }
    }

    pub fn is_hardware(&self) -> bool {
        !matches!(self.device_type, wgpu::DeviceType::Cpu | wgpu::DeviceType::Other)
    }
}

fn record(failures: &Mutex<Vec<String>>, message: String) {
    failures.lock().unwrap_or_else(|p| p.into_inner()).push(message);
}

/// Storage buffers are allocated in whole 16-byte units (at least one), so any f32 region of
/// them can also be bound as `array<vec4<f32>>`.
fn padded_size(bytes: u64) -> u64 {
    bytes.max(16).next_multiple_of(16)
}

/// The features wgpu must grant for timestamps between the dispatches of a compute pass.
const PROFILING: wgpu::Features = wgpu::Features::TIMESTAMP_QUERY.union(wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES);

/// What the adapter lacks, each with what gpu-mlp does instead.
fn fallbacks(features: wgpu::Features, info: &wgpu::AdapterInfo) -> Vec<String> {
    let mut out = Vec::new();
    if !features.contains(PROFILING) {
        out.push(
            "no timestamp queries inside compute passes: `bench` times each step by the wall clock and shows no \
             per-dispatch GPU time"
                .to_string(),
        );
    }
    if !unchecked_shaders(info.backend) {
        out.push(format!(
            "unchecked shaders: {:?} ignores wgpu's ShaderRuntimeChecks, so the matmul kernel keeps its bounds \
             checks (same results, somewhat slower)",
            info.backend
        ));
    }
    out
}

/// Whether wgpu's backend for `backend` compiles a shader without its runtime bounds checks
/// when asked (`create_shader_module_trusted`): its OpenGL backend ignores the request.
pub fn unchecked_shaders(backend: wgpu::Backend) -> bool {
    backend != wgpu::Backend::Gl
}

fn notable_features(features: wgpu::Features, info: &wgpu::AdapterInfo) -> Vec<String> {
    let mut out = Vec::new();
    if features.contains(wgpu::Features::SHADER_F16) {
        out.push("shader-f16".to_string());
    }
    if features.contains(wgpu::Features::SUBGROUP) {
        out.push(format!(
            "subgroups ({}–{})",
            info.subgroup_min_size, info.subgroup_max_size
        ));
    }
    if features.contains(wgpu::Features::TIMESTAMP_QUERY) {
        out.push("timestamp queries".to_string());
    }
    out
}

fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    wgpu::Instance::new(desc)
}

/// Every adapter of `api`, best first. For `Auto` those of the primary backends (Vulkan, Metal,
/// DX12), and only when there is none those of OpenGL: probing GL's EGL/Wayland path prints
/// loader noise (`XDG_RUNTIME_DIR is invalid…`) a run that has Vulkan never needs to show.
fn adapters(api: GraphicsApi) -> Vec<wgpu::Adapter> {
    pollster::block_on(adapters_of(api))
}

async fn adapters_of(api: GraphicsApi) -> Vec<wgpu::Adapter> {
    for backends in api.backends() {
        let found = probe_of(backends).await;
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// The adapters of `backends`, best first.
fn probe(backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    pollster::block_on(probe_of(backends))
}

async fn probe_of(backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    let instance = instance(backends);
    // A browser lists no adapters: it offers the one it chooses on request.
    if backends == wgpu::Backends::BROWSER_WEBGPU {
        return instance
            .request_adapter(&wgpu::RequestAdapterOptions::default())
            .await
            .into_iter()
            .collect();
    }
    let mut found = instance.enumerate_adapters(backends).await;
    found.sort_by_key(|a| rank(a.get_info().device_type));
    found
}

fn rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

/// Every adapter wgpu can see through `api`, best first.
pub fn list_adapters(api: GraphicsApi) -> Vec<AdapterSummary> {
    adapters(api).iter().map(AdapterSummary::of).collect()
}

/// Every adapter wgpu can see on every graphics API, best first.
pub fn list_every_adapter() -> Vec<AdapterSummary> {
    probe(wgpu::Backends::all()).iter().map(AdapterSummary::of).collect()
}

/// The device, its queue and what it can do: created once per run and shared by every kernel.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: AdapterSummary,
    pub limits: wgpu::Limits,
    /// The device can write timestamps between the dispatches of a compute pass.
    pub timestamps: bool,
    /// How products are cut into workgroups on this adapter (tests may set another).
    pub tiles: TilePolicy,
    /// Errors wgpu reported outside any call that returns one (validation, out of memory,
    /// device loss), collected so the next wait turns them into an `Error` instead of a panic.
    failures: Arc<Mutex<Vec<String>>>,
}

impl GpuContext {
    /// Opens the best adapter `choice` allows (discrete > integrated > virtual > software) on
    /// the default graphics API ([`GraphicsApi::Auto`]: `$WGPU_BACKEND` when set).
    pub fn new(choice: AdapterChoice) -> Result<Self> {
        GpuContext::on(choice, GraphicsApi::Auto)
    }

    /// Opens the best adapter `choice` allows through `api`.
    pub fn on(choice: AdapterChoice, api: GraphicsApi) -> Result<Self> {
        pollster::block_on(GpuContext::open(choice, api))
    }

    /// [`GpuContext::on`], awaiting the adapter and the device instead of blocking: a browser
    /// answers both asynchronously (natively `on` waits for them).
    pub async fn open(choice: AdapterChoice, api: GraphicsApi) -> Result<Self> {
        let adapter = adapters_of(api)
            .await
            .into_iter()
            .find(|a| choice == AdapterChoice::Any || AdapterSummary::of(a).is_hardware())
            .ok_or_else(|| {
                Error::NoAdapter(match (choice, api) {
                    (AdapterChoice::Any, GraphicsApi::Auto) => format!(
                        "wgpu sees no adapter through {} (install a Vulkan/Metal/DX12 driver; on Debian, \
                         `apt-get install mesa-vulkan-drivers` gives the lavapipe software driver)",
                        api.request()
                    ),
                    (AdapterChoice::Any, GraphicsApi::Gl) => format!(
                        "wgpu sees no adapter through {} (on Debian, `apt-get install libegl1 libgl1-mesa-dri` \
                         gives Mesa's llvmpipe through EGL)",
                        api.request()
                    ),
                    (AdapterChoice::Any, _) => format!("wgpu sees no adapter through {}", api.request()),
                    (AdapterChoice::HardwareOnly, _) => {
                        format!("wgpu sees no hardware adapter through {}", api.request())
                    }
                })
            })?;
        let available = adapter.limits();
        // Ask for the defaults, raised to the adapter's buffer sizes: datasets and large layers need them.
        let limits = wgpu::Limits {
            max_storage_buffer_binding_size: available.max_storage_buffer_binding_size,
            max_buffer_size: available.max_buffer_size,
            ..wgpu::Limits::default()
        };
        // Timestamps between the dispatches of a pass, for `GpuBackend::profile_train_step`.
        let profiling = PROFILING;
        let timestamps = adapter.features().contains(profiling);
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("gpu-mlp"),
                required_features: if timestamps { profiling } else { wgpu::Features::empty() },
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Gpu(format!("cannot open {}: {e}", adapter.get_info().name)))?;
        let failures = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&failures);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| record(&sink, e.to_string())));
        let sink = Arc::clone(&failures);
        device.set_device_lost_callback(move |reason, message| {
            record(&sink, format!("device lost ({reason:?}): {message}"))
        });
        Ok(GpuContext {
            device,
            queue,
            tiles: TilePolicy::for_device(adapter.get_info().device_type),
            adapter: AdapterSummary::of(&adapter),
            limits,
            timestamps,
            failures,
        })
    }

    /// A zero-filled storage buffer of (at least) `bytes` bytes that can be copied to and from.
    pub fn storage_buffer(&self, label: &str, bytes: u64) -> Result<wgpu::Buffer> {
        self.check_binding(label, bytes)?;
        Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: padded_size(bytes),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        }))
    }

    /// A storage buffer holding `data`, zero-padded to whole 16-byte units.
    pub fn storage_buffer_init(&self, label: &str, data: &[u8]) -> Result<wgpu::Buffer> {
        self.check_binding(label, data.len() as u64)?;
        let mut padded = data.to_vec();
        padded.resize(padded_size(data.len() as u64) as usize, 0);
        Ok(self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: &padded,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
        }))
    }

    /// A uniform buffer holding `value`, written once.
    pub fn uniform_buffer<T: bytemuck::Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::bytes_of(value),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    fn check_binding(&self, label: &str, bytes: u64) -> Result<()> {
        let max = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size);
        if bytes > max {
            return Err(Error::DeviceLimit(format!(
                "buffer `{label}` needs {bytes} bytes, the adapter binds at most {max}"
            )));
        }
        Ok(())
    }

    /// Records one compute pass with `record` and submits it.
    pub fn submit_pass(&self, label: &str, record: impl FnOnce(&mut wgpu::ComputePass<'_>)) {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(label),
                timestamp_writes: None,
            });
            record(&mut pass);
        }
        self.queue.submit([encoder.finish()]);
    }

    /// Blocks until all submitted work has finished; fails with any error wgpu reported since.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU: {e}")))?;
        self.reported()
    }

    /// Fails with any error wgpu reported since the last look.
    fn reported(&self) -> Result<()> {
        let reported = std::mem::take(&mut *self.failures.lock().unwrap_or_else(|p| p.into_inner()));
        match reported.is_empty() {
            true => Ok(()),
            false => Err(Error::Gpu(reported.join("; "))),
        }
    }

    /// Copies the first `bytes` of `source` back to the host, waiting for queued work to finish.
    pub fn read_back(&self, source: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        pollster::block_on(self.read_back_async(source, bytes))
    }

    /// [`GpuContext::read_back`] without blocking: the copy is queued, and the mapping awaited
    /// (a browser answers it when the GPU is done; natively this waits for the device).
    pub async fn read_back_async(&self, source: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let staging = self.staging_buffer(bytes);
        encoder.copy_buffer_to_buffer(source, 0, &staging, 0, bytes);
        self.queue.submit([encoder.finish()]);
        self.map_staging_async(&staging, bytes).await
    }

    /// A buffer the host can map for reading, `bytes` long (rounded up to 4).
    pub fn staging_buffer(&self, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("staging"),
            size: bytes.max(4).next_multiple_of(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Waits for submitted work, maps `staging` and returns its first `bytes`.
    pub fn map_staging(&self, staging: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        pollster::block_on(self.map_staging_async(staging, bytes))
    }

    /// [`GpuContext::map_staging`], awaiting the mapping: in a browser nothing blocks, and the
    /// browser answers when the GPU is done; natively the device is waited for first.
    pub async fn map_staging_async(&self, staging: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        let range = ..bytes.max(4).next_multiple_of(4);
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, range, move |r| {
            // The receiver is awaited below, so the send cannot fail.
            let _ = tx.send(r);
        });
        if !cfg!(target_arch = "wasm32") {
            self.wait()?;
        }
        rx.await
            .map_err(|_| Error::Gpu("buffer mapping was never answered".into()))?
            .map_err(|e| Error::Gpu(format!("cannot map results: {e}")))?;
        self.reported()?;
        let bytes_out = {
            let view = staging
                .get_mapped_range(range)
                .map_err(|e| Error::Gpu(format!("cannot read results: {e}")))?;
            view[..bytes as usize].to_vec()
        };
        staging.unmap();
        Ok(bytes_out)
    }
}
