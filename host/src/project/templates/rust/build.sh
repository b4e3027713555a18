#!/usr/bin/env bash
# Builds build/{{name}}.wasm, migration {{number}} `{{name}}` in Rust, as a drift:migration
# component (cargo, target wasm32-wasip2: `rustup target add wasm32-wasip2` once).
#
#   ./build.sh          # build/{{name}}.wasm
#   ./build.sh --test   # run the unit tests (cargo test) first, then build
#
# `drift-host run ..` finds build/{{name}}.wasm here.
set -euo pipefail
cd "$(dirname "$0")"
case "${1:-}" in
    "") ;;
    --test) cargo test ;;
    *) echo "usage: ./build.sh [--test]" >&2; exit 2 ;;
esac
cargo build --release --target wasm32-wasip2
mkdir -p build
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/{{name}}.wasm" build/{{name}}.wasm
printf '%s (%s bytes)\n' build/{{name}}.wasm "$(wc -c <build/{{name}}.wasm | tr -d ' ')"
