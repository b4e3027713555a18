#!/usr/bin/env bash
# Builds build/{{name}}.wasm, migration {{number}} `{{name}}` in C, as a drift:migration component.
#
#   ./build.sh          # installs what is missing (once), then compiles (about a second)
#   ./build.sh --test   # also runs the native unit tests (test.c) with the host's cc first
#
# Installs, when missing: Debian packages clang-19, lld-19, wasi-libc and
# libclang-rt-19-dev-wasm32 (apt-get), and wit-bindgen-cli and wasm-tools from crates.io into
# .tools/ here (DRIFT_C_TOOLS overrides it; a few minutes the first time, cached after).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../.drift-sdk/guest-sdk/c/drift-c.sh"

drift_c_setup "${DRIFT_C_TOOLS:-$here/.tools}"
mkdir -p "$here/build"
case "${1:-}" in
    "" | --test | test) ;;
    *) echo "usage: ./build.sh [--test]" >&2; exit 2 ;;
esac
if [ "${1:-}" = --test ] || [ "${1:-}" = test ]; then
    drift_c_native "$here/build/test" "$here/test.c" "$here/{{name}}.c" -I"$here"
    "$here/build/test"
fi
drift_c_build "$here/build/{{name}}.wasm" "$here/{{name}}.c"
rm -f "$here/build/{{name}}.core.wasm"
printf '%s (%s bytes)\n' build/{{name}}.wasm "$(wc -c <"$here/build/{{name}}.wasm" | tr -d ' ')"
