#!/usr/bin/env bash
# Builds build/users_v2_c.wasm, the users_v2 migration in C, as a drift:migration component
# (tests/all/conformance.rs runs this script, as the other examples' build.sh).
#
#   ./build.sh          # installs what is missing (once), then compiles (about a second)
#   ./build.sh --test   # also runs the native unit tests (test.c) with the host's cc first
#
# Installs, when missing: Debian packages clang-19, lld-19, wasi-libc and
# libclang-rt-19-dev-wasm32 (apt-get), and wit-bindgen-cli 0.63.0 and wasm-tools 1.263.0 from
# crates.io into .tools/ here (cargo install; a few minutes the first time, cached after).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../guest-sdk/c/drift-c.sh"

drift_c_setup "${DRIFT_C_TOOLS:-$here/.tools}"
mkdir -p "$here/build"
drift_c_build "$here/build/users_v2_c.wasm" "$here/users_v2.c"
printf '%s (%s bytes)\n' build/users_v2_c.wasm "$(wc -c <"$here/build/users_v2_c.wasm" | tr -d ' ')"

case "${1:-}" in
    "" | --test | test) ;;
    *) echo "usage: ./build.sh [--test]" >&2; exit 2 ;;
esac
if [ "${1:-}" = --test ] || [ "${1:-}" = test ]; then
    drift_c_native "$here/build/test" "$here/test.c" "$here/users_v2.c" -I"$here"
    "$here/build/test"
fi
