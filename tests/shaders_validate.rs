//! Every WGSL file parses and validates with naga; no GPU needed. Kernels are validated as the
//! host compiles them: `shaders/step.wgsl` (the shared step-table struct) prepended.

use std::path::Path;

fn shader_files() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("shaders/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wgsl") && !p.ends_with("step.wgsl"))
        .collect();
    files.sort();
    files
}

fn parse(path: &Path) -> naga::Module {
    let prelude = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders/step.wgsl");
    let source = std::fs::read_to_string(prelude).expect("readable prelude")
        + &std::fs::read_to_string(path).expect("readable shader");
    naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}", e.emit_to_string_with_path(&source, &path.display().to_string())))
}

#[test]
fn every_shader_parses_and_validates() {
    let files = shader_files();
    assert!(files.len() >= 4, "expected the kernels' WGSL files, found {files:?}");
    for path in files {
        let module = parse(&path);
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::default(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        assert!(
            module
                .entry_points
                .iter()
                .any(|e| e.stage == naga::ShaderStage::Compute),
            "{}: no compute entry point",
            path.display()
        );
    }
}

/// The step table entry has the host's layout: the WGSL struct's fields in order, within the
/// host's `StepInfo`, whose size is the binding size.
#[test]
fn step_struct_matches_the_host() {
    let module = parse(&Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders/optim.wgsl"));
    let (_, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("Step"))
        .expect("struct Step");
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("Step is a struct")
    };
    let names: Vec<&str> = members.iter().filter_map(|m| m.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            "first",
            "rows",
            "slot",
            "lr",
            "bias_correction1",
            "bias_correction2",
            "seed",
            "index",
            "dropout",
            "weighted"
        ]
    );
    assert!(
        members.iter().enumerate().all(|(i, m)| m.offset == 4 * i as u32),
        "tightly packed 4-byte fields"
    );
    assert!(*span as usize <= std::mem::size_of::<gpu_mlp::gpu::kernels::StepInfo>());
}

/// The host picks a tile shape per product and sets the shader's overrides from it; every shape
/// must fit the shader's workgroup arrays and the row-sum reduction.
#[test]
fn matmul_tile_shapes_fit_the_shader() {
    use gpu_mlp::gpu::kernels::matmul::TileShape;
    let module = parse(&Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders/matmul.wgsl"));
    let (_, budget) = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some("TILE_VEC4S"))
        .expect("matmul.wgsl declares TILE_VEC4S");
    let tile_vec4s = match module.global_expressions[budget.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => v,
        ref other => panic!("TILE_VEC4S is not a u32 literal: {other:?}"),
    };
    for name in ["WG_X", "WG_Y", "TILE_K"] {
        assert!(
            module.overrides.iter().any(|(_, o)| o.name.as_deref() == Some(name)),
            "matmul.wgsl has no override {name}"
        );
    }
    for shape in TileShape::ALL {
        let d = shape.dims();
        assert!(d.tile_k * d.tile_m() / 4 <= tile_vec4s, "{shape:?}: A tile too big");
        assert!(d.tile_k * d.tile_n() / 4 <= tile_vec4s, "{shape:?}: B tile too big");
        // The reduction of row sums parks WG_X partial vec4s per row quad in a_tile.
        assert!(
            d.wg_x * d.tile_m() / 4 <= tile_vec4s,
            "{shape:?}: row-sum reduction too big"
        );
        assert_eq!(d.tile_k % 4, 0, "{shape:?}: vec4 staging along k");
        assert!(d.wg_x * d.wg_y <= 256, "{shape:?}: WebGPU's default invocation limit");
    }
}

/// Each kernel's Rust bindings (`gpu::kernels::interfaces`) are its WGSL's: the same number, and
/// at each `@binding` index the same variable name and access (uniform, storage read, storage
/// read-write). A mismatch names the shader and the binding.
#[test]
fn every_kernel_binding_matches_its_wgsl() {
    use gpu_mlp::gpu::kernels::{interfaces, Slot};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut mismatches = Vec::new();
    for (file, bindings) in interfaces() {
        let module = parse(&dir.join(file));
        let mut declared: Vec<(u32, String, Slot)> = module
            .global_variables
            .iter()
            .filter_map(|(_, var)| {
                let binding = var.binding.as_ref()?;
                let slot = match var.space {
                    naga::AddressSpace::Uniform if var.name.as_deref() == Some("step") => Slot::Step,
                    naga::AddressSpace::Uniform => Slot::Uniform,
                    naga::AddressSpace::Storage { access } => Slot::Storage {
                        read_only: !access.contains(naga::StorageAccess::STORE),
                    },
                    _ => return None,
                };
                Some((binding.binding, var.name.clone().unwrap_or_default(), slot))
            })
            .collect();
        declared.sort_by_key(|(index, _, _)| *index);
        if declared.len() != bindings.len() {
            mismatches.push(format!(
                "{file}: the WGSL declares {} bindings, the Rust {}",
                declared.len(),
                bindings.len()
            ));
        }
        for (index, binding) in bindings.iter().enumerate() {
            match declared.iter().find(|(i, _, _)| *i as usize == index) {
                Some((_, name, slot)) if name == binding.name && *slot == binding.slot => {}
                Some((_, name, slot)) => mismatches.push(format!(
                    "{file}: @binding({index}) is `{name}` ({slot:?}) in the WGSL, `{}` ({:?}) in the Rust",
                    binding.name, binding.slot
                )),
                None => mismatches.push(format!("{file}: no @binding({index}) for `{}`", binding.name)),
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Every struct a kernel shares with its WGSL has the host's layout: each WGSL member (padding
/// aside) at the offset the host writes it, and the host's size the WGSL's rounded up at most to
/// the next 16 bytes (a uniform's alignment). A mismatch names the shader, struct and member.
#[test]
fn every_shared_struct_matches_the_host_layout() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut mismatches = Vec::new();
    for host in gpu_mlp::gpu::kernels::host_layouts() {
        let module = parse(&dir.join(host.shader));
        let Some((_, ty)) = module.types.iter().find(|(_, t)| t.name.as_deref() == Some(host.name)) else {
            mismatches.push(format!("{}: no struct {}", host.shader, host.name));
            continue;
        };
        let naga::TypeInner::Struct { members, span } = &ty.inner else {
            mismatches.push(format!("{}: {} is not a struct", host.shader, host.name));
            continue;
        };
        let named: Vec<(&str, u32)> = members
            .iter()
            .filter_map(|m| m.name.as_deref().filter(|n| !n.starts_with('_')).map(|n| (n, m.offset)))
            .collect();
        for (name, offset) in &named {
            match host.members.iter().find(|(n, _)| n == name) {
                Some((_, at)) if *at == *offset as usize => {}
                Some((_, at)) => mismatches.push(format!(
                    "{} {}.{name}: offset {offset} in the WGSL, {at} in the host",
                    host.shader, host.name
                )),
                None => mismatches.push(format!(
                    "{} {}.{name}: not in the host's struct",
                    host.shader, host.name
                )),
            }
        }
        for (name, _) in &host.members {
            if !named.iter().any(|(n, _)| n == name) {
                mismatches.push(format!("{} {}.{name}: not in the WGSL struct", host.shader, host.name));
            }
        }
        let span = *span as usize;
        if host.size < span || host.size > span.next_multiple_of(16) {
            mismatches.push(format!(
                "{} {}: {span} bytes in the WGSL, {} in the host",
                host.shader, host.name, host.size
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Every code a WGSL `const` shares with a Rust enum (epilogues, activations, losses,
/// optimizers, workgroup sizes) has the value the host passes.
#[test]
fn every_shared_code_matches_the_host() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut mismatches = Vec::new();
    for (shader, name, value) in gpu_mlp::gpu::kernels::shared_codes() {
        let module = parse(&dir.join(shader));
        let wgsl = module
            .constants
            .iter()
            .find(|(_, c)| c.name.as_deref() == Some(name))
            .map(|(_, c)| &module.global_expressions[c.init]);
        match wgsl {
            Some(naga::Expression::Literal(naga::Literal::U32(v))) if *v == value => {}
            Some(other) => mismatches.push(format!("{shader} {name}: {other:?} in the WGSL, {value} in the host")),
            None => mismatches.push(format!("{shader}: no const {name}")),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
