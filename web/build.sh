#!/usr/bin/env bash
# Builds gpu-mlp's page into web/dist/ (index.html and pkg/: the wasm and its JavaScript), which
# `gpu-mlp serve` serves and any static web host can. Needs rustup's wasm32-unknown-unknown
# target and wasm-bindgen-cli at the version of the wasm-bindgen crate in Cargo.lock (.ci/run
# installs both).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --target wasm32-unknown-unknown -p gpu-mlp-web
rm -rf web/dist
wasm-bindgen --target web --no-typescript --out-dir web/dist/pkg \
    "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/gpu_mlp_web.wasm"
cp web/index.html web/sw.js web/dist/
echo "built web/dist/: serve it with \`gpu-mlp serve\`"
