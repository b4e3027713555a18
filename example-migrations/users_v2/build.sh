#!/usr/bin/env bash
# Builds build/users_v2.wasm, the users_v2 migration in Rust, as a drift:migration component
# (wasm32-wasip2); the steps are ../../guest-sdk/rust/drift-rust.sh.
set -euo pipefail
here="$(dirname "$0")"
exec "$here/../../guest-sdk/rust/drift-rust.sh" users_v2 "$here"
