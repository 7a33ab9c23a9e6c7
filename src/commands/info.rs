//! `gpu-mlp info`: the adapters wgpu sees, on which graphics API, and which one `--device auto`
//! and `--device gpu` take.

use gpu_mlp::gpu::{list_adapters, list_every_adapter};
use gpu_mlp::settings::flags::{GraphicsApiOnly, SettingFlags};
use gpu_mlp::settings::Config;
use gpu_mlp::Error;

/// `--backend`, the setting `train` takes (one declaration): given, only the adapters `train
/// --backend` would look at; without it, every API's.
#[derive(clap::Args)]
pub struct InfoArgs {
    #[command(flatten)]
    backend: SettingFlags<GraphicsApiOnly>,
}

pub fn run(args: &InfoArgs) -> Result<(), Error> {
    let api = match args.backend.0.is_empty() {
        true => None,
        false => Some(Config::resolve(None, &args.backend.0)?.run.backend),
    };
    let adapters = match api {
        Some(api) => list_adapters(api),
        None => list_every_adapter(),
    };
    if adapters.is_empty() {
        println!("wgpu sees no adapter: `--device auto` will use the CPU backend.");
        println!("On Debian/Ubuntu, `apt-get install mesa-vulkan-drivers` provides the lavapipe software driver");
        println!("(Vulkan); `apt-get install libegl1 libgl1-mesa-dri` provides llvmpipe through OpenGL/EGL.");
        return Ok(());
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
    let usable = list_adapters(api.unwrap_or_default());
    let chosen = match (usable.iter().find(|a| a.is_hardware()), usable.first()) {
        (Some(a), _) => format!("--device auto and --device gpu use {} ({})", a.name, a.backend),
        (None, Some(a)) => format!(
            "--device auto uses the CPU backend (no hardware adapter); --device gpu uses {} ({})",
            a.name, a.backend
        ),
        (None, None) => "--device auto uses the CPU backend; --device gpu finds no adapter".into(),
    };
    println!("{chosen}");
    Ok(())
}
