#!/usr/bin/env bash
# Builds build/every_feature.wasm, the conformance migration in Rust (wasm32-wasip2). The
# workspace's target/guests is the cargo target folder (CARGO_TARGET_DIR overrides it).
set -euo pipefail
cd "$(dirname "$0")"
rustup target add wasm32-wasip2 >/dev/null 2>&1
target="${CARGO_TARGET_DIR:-../../../../target/guests}"
cargo build --quiet --target wasm32-wasip2 --profile guest -p every_feature --target-dir "$target"
mkdir -p build
cp "$target/wasm32-wasip2/guest/every_feature.wasm" build/every_feature.wasm
printf '%s (%s bytes)\n' build/every_feature.wasm "$(wc -c <build/every_feature.wasm | tr -d ' ')"
