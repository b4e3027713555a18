#!/usr/bin/env bash
# drift-rust.sh PACKAGE PROJECT: builds the workspace's guest crate PACKAGE for wasm32-wasip2
# (profile `guest`) and writes PROJECT/build/PACKAGE.wasm, for the build.sh of the Rust
# migrations in this repository. The workspace's target/guests is the cargo target folder
# (CARGO_TARGET_DIR overrides it), so guests share their dependencies' builds. Needs rustup and
# cargo with crates.io. (A project made by `drift-host new` builds with plain cargo instead.)
set -euo pipefail
package=${1:?usage: drift-rust.sh PACKAGE PROJECT}
project=$(cd "${2:?usage: drift-rust.sh PACKAGE PROJECT}" && pwd)
workspace=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rustup target add wasm32-wasip2 >/dev/null 2>&1
target="${CARGO_TARGET_DIR:-$workspace/target/guests}"
(cd "$project" && cargo build --quiet --target wasm32-wasip2 --profile guest -p "$package" --target-dir "$target")
mkdir -p "$project/build"
cp "$target/wasm32-wasip2/guest/$package.wasm" "$project/build/$package.wasm"
printf '%s (%s bytes)\n' "build/$package.wasm" "$(wc -c <"$project/build/$package.wasm" | tr -d ' ')"
