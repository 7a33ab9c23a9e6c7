//! `gpu-mlp info`: the adapters wgpu sees, on which graphics API, and which one `--device auto`
//! and `--device gpu` take.

use gpu_mlp::gpu::{list_adapters, list_every_adapter, GraphicsApi};

#[derive(clap::Args)]
pub struct InfoArgs {
    /// Only the adapters of this graphics API [default: every API's].
    #[arg(long)]
    backend: Option<GraphicsApi>,
}

pub fn run(args: &InfoArgs) {
    let adapters = match args.backend {
        Some(api) => list_adapters(api),
        None => list_every_adapter(),
    };
    if adapters.is_empty() {
        println!("wgpu sees no adapter: `--device auto` will use the CPU backend.");
        println!("On Debian/Ubuntu, `apt-get install mesa-vulkan-drivers` provides the lavapipe software driver");
        println!("(Vulkan); `apt-get install libegl1 libgl1-mesa-dri` provides llvmpipe through OpenGL/EGL.");
        return;
    }
    for (i, a) in adapters.iter().enumerate() {
        println!(
            "[{i}] {} ({}, {:?}) driver: {}",
            a.name, a.backend, a.device_type, a.driver
        );
        println!(
            "    max storage binding {} MiB, max buffer {} MiB, workgroup storage {} KiB, {} invocations/workgroup",
            a.max_storage_binding >> 20,
            a.max_buffer >> 20,
            a.max_workgroup_storage >> 10,
            a.max_invocations
        );
        println!(
            "    features: {}",
            if a.notable_features.is_empty() {
                "none of note".into()
            } else {
                a.notable_features.join(", ")
            }
        );
        for missing in &a.fallbacks {
            println!("    fallback: {missing}");
        }
    }
    let api = args.backend.unwrap_or_default();
    let usable = list_adapters(api);
    let chosen = match (usable.iter().find(|a| a.is_hardware()), usable.first()) {
        (Some(a), _) => format!("--device auto and --device gpu use {} ({})", a.name, a.backend),
        (None, Some(a)) => format!(
            "--device auto uses the CPU backend (no hardware adapter); --device gpu uses {} ({})",
            a.name, a.backend
        ),
        (None, None) => "--device auto uses the CPU backend; --device gpu finds no adapter".into(),
    };
    println!("{chosen}");
}
