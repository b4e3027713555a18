#!/usr/bin/env bash
# Builds build/every_feature.wasm, the conformance migration in Rust (see ../README.md), as a
# drift:migration component (wasm32-wasip2); the steps are guest-sdk/rust/drift-rust.sh.
set -euo pipefail
here="$(dirname "$0")"
exec "$here/../../../../guest-sdk/rust/drift-rust.sh" every_feature "$here"
