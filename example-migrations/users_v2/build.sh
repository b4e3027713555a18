#!/usr/bin/env bash
# Builds build/users_v2.wasm, the users_v2 migration in Rust, as a drift:migration component
# (wasm32-wasip2). Needs rustup and cargo with crates.io. The workspace's target/guests is the
# cargo target folder (CARGO_TARGET_DIR overrides it), so other guests' dependencies are reused.
set -euo pipefail
cd "$(dirname "$0")"
rustup target add wasm32-wasip2 >/dev/null 2>&1
target="${CARGO_TARGET_DIR:-../../target/guests}"
cargo build --quiet --target wasm32-wasip2 --profile guest -p users_v2 --target-dir "$target"
mkdir -p build
cp "$target/wasm32-wasip2/guest/users_v2.wasm" build/users_v2.wasm
printf '%s (%s bytes)\n' build/users_v2.wasm "$(wc -c <build/users_v2.wasm | tr -d ' ')"
