//! The checkpoint is an ordinary safetensors file laid out like PyTorch's `nn.Linear`: Python
//! with `safetensors` and `numpy` loads it and recomputes the logits the Rust model gives.
//! CI installs both (`.ci/run`); elsewhere the test skips when they are missing.

use crate::common;

use std::process::Command;

use gpu_mlp::checkpoint::Checkpoint;
use gpu_mlp::insight::evaluate;
use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::training::train::Event;

const SCRIPT: &str = r#"
import json, sys
import numpy as np
from safetensors.numpy import load_file

tensors = load_file(sys.argv[1])
case = json.load(open(sys.argv[2]))
x = np.array(case["inputs"], dtype=np.float32)
layers = len([k for k in tensors if k.startswith("layers.") and k.endswith(".weight")])
for i in range(layers):
    w, b = tensors[f"layers.{i}.weight"], tensors[f"layers.{i}.bias"]
    assert w.shape == (b.shape[0], x.shape[1]), (w.shape, x.shape)
    x = x @ w.T + b
    if i < layers - 1:
        x = np.maximum(x, 0.0)
want = np.array(case["logits"], dtype=np.float32)
err = np.abs(x - want).max() / np.abs(want).max()
print(f"max relative difference {err:.2e}")
sys.exit(0 if err < 1e-5 and (x.argmax(1) == want.argmax(1)).all() else 1)
"#;

fn python_has_modules() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import safetensors.numpy, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        common::skip_unless_ci(
            "numpy_recomputes_the_logits_from_the_checkpoint",
            "python3 with safetensors and numpy was not found (CI installs them)",
        );
    }
    ok
}

#[test]
fn numpy_recomputes_the_logits_from_the_checkpoint() {
    if !python_has_modules() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let table: toml::Table =
        toml::from_str("dataset = \"circle\"\nhidden = [16, 8]\nepochs = 2\nlr = 0.3\ndevice = \"cpu\"").expect("TOML");
    let config = Config::resolve(None, &table).expect("config");
    let mut run = Run::with_dir(&config, Some(dir.path()), false).expect("run");
    run.train(&mut |_: Event<'_>| {}).expect("trains");
    let path = dir.path().join("last.safetensors");
    let checkpoint = Checkpoint::load(&path).expect("loads");
    let test = evaluate::test_data(&checkpoint, None, None, dir.path())
        .expect("test data")
        .truncated(8);
    let logits = evaluate::outputs(&checkpoint, &test).expect("outputs");
    let inputs: Vec<Vec<f32>> = (0..test.len())
        .map(|i| {
            let mut row = vec![0.0; test.dim];
            test.write_row(i, &mut row);
            row
        })
        .collect();
    let case = serde_json::json!({ "inputs": inputs, "logits": logits.chunks(2).collect::<Vec<_>>() });
    let case_path = dir.path().join("case.json");
    std::fs::write(&case_path, case.to_string()).expect("write");
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(&path)
        .arg(&case_path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "numpy disagrees:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
