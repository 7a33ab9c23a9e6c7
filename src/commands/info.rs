//! `gpu-mlp info`: the adapters wgpu sees and which one `--device auto` takes.

use gpu_mlp::gpu::list_adapters;

pub fn run() {
    let adapters = list_adapters();
    if adapters.is_empty() {
        println!("wgpu sees no adapter: `--device auto` will use the CPU backend.");
        println!("On Debian/Ubuntu, `apt-get install mesa-vulkan-drivers` provides the lavapipe software driver.");
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
    }
    let chosen = match adapters.iter().find(|a| a.is_hardware()) {
        Some(a) => format!("--device auto uses {}", a.name),
        None => {
            "--device auto uses the CPU backend (no hardware adapter); --device gpu uses the first adapter above".into()
        }
    };
    println!("{chosen}");
}
