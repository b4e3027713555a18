#!/usr/bin/env bash
# Builds build/every_feature.wasm, the conformance migration in C (../README.md), as a
# drift:migration component, with the C SDK (guest-sdk/c) exactly as
# example-migrations/users_v2_c/build.sh does.
#
# Installs, when missing: Debian packages clang-19, lld-19, wasi-libc and
# libclang-rt-19-dev-wasm32 (apt-get), and wit-bindgen-cli and wasm-tools from crates.io into
# .tools/ here (cargo install; a few minutes the first time, cached after). DRIFT_C_TOOLS
# names another tools folder to reuse (e.g. example-migrations/users_v2_c/.tools).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../../guest-sdk/c/drift-c.sh"

drift_c_setup "${DRIFT_C_TOOLS:-$here/.tools}"
mkdir -p "$here/build"
drift_c_build "$here/build/every_feature.wasm" "$here/every_feature.c"
# drift_c_build leaves the core module next to the component: keep only the component.
rm -f "$here/build/every_feature.core.wasm"
size=$(wc -c <"$here/build/every_feature.wasm" | tr -d ' ')
printf '%s (%s bytes)\n' build/every_feature.wasm "$size"
