# drift-c.sh (bash): shell functions to build drift-host migrations in C. Source it from a build script:
#
#     . path/to/guest-sdk/c/drift-c.sh
#     drift_c_setup "$here/.tools"                       # apt packages + crates.io tools, cached
#     drift_c_build "$here/build/my_migration.wasm" "$here/my_migration.c"
#     drift_c_native "$here/build/test" "$here/test.c" "$here/my_migration.c"   # native tests
#
# What it needs, installed when missing:
#   - Debian packages clang-19, lld-19, wasi-libc, libclang-rt-19-dev-wasm32 (apt-get);
#   - wit-bindgen-cli 0.63.0 (feature c only) and wasm-tools 1.263.0 (feature component only),
#     from crates.io with `cargo install --locked` into the tools folder given to drift_c_setup
#     (bin/ is kept between runs; the build folder of cargo install is removed afterwards).
#
# The bindings are generated from the repository's wit/ at every build (a few milliseconds),
# so they always match the world the host implements.

# (bash: BASH_SOURCE finds this file wherever it is sourced from)
DRIFT_C_SDK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

DRIFT_C_WIT_BINDGEN_VERSION=0.63.0
DRIFT_C_WASM_TOOLS_VERSION=1.263.0
DRIFT_C_APT_PACKAGES="clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32"
DRIFT_C_CLANG=${DRIFT_C_CLANG:-clang-19}

drift_c_log() { echo "drift-c: $*" >&2; }

# Installs the apt packages and the crates.io tools that are missing; sets DRIFT_C_TOOLS.
drift_c_setup() {
    mkdir -p "$1" && DRIFT_C_TOOLS=$(cd "$1" && pwd)
    missing=""
    for package in $DRIFT_C_APT_PACKAGES; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing="$missing $package"
        fi
    done
    if [ -n "$missing" ]; then
        sudo=""
        if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
        drift_c_log "installing$missing (apt-get)"
        # A fresh machine has no package lists yet: update them once.
        if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; then
            $sudo apt-get update || return 1
            $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing \
                || return 1
        fi
    fi
    drift_c_install wit-bindgen wit-bindgen-cli "$DRIFT_C_WIT_BINDGEN_VERSION" c || return 1
    drift_c_install wasm-tools wasm-tools "$DRIFT_C_WASM_TOOLS_VERSION" component || return 1
    rm -rf "$DRIFT_C_TOOLS/target"
}

# drift_c_install BINARY CRATE VERSION FEATURES: cargo install into $DRIFT_C_TOOLS unless the
# right version is there already.
drift_c_install() {
    if [ "$("$DRIFT_C_TOOLS/bin/$1" --version 2>/dev/null | cut -d' ' -f2)" = "$3" ]; then return 0; fi
    if ! command -v cargo >/dev/null; then
        drift_c_log "cargo is needed to install $2 $3 (https://rustup.rs)"
        return 1
    fi
    # Both tools need Rust 1.88 or newer (Debian's own cargo may be older).
    minor=$(cargo --version | sed -n 's/^cargo 1\.\([0-9]*\).*/\1/p')
    if [ -n "$minor" ] && [ "$minor" -lt 88 ]; then
        drift_c_log "$2 $3 needs cargo/rustc 1.88 or newer; this cargo is $(cargo --version)"
        return 1
    fi
    drift_c_log "installing $2 $3 into $DRIFT_C_TOOLS (cargo install, a few minutes once)"
    CARGO_TARGET_DIR="$DRIFT_C_TOOLS/target" cargo install --quiet --locked --root "$DRIFT_C_TOOLS" \
        --no-default-features --features "$4" "$2@$3"
}

# drift_c_bindings DIR: generates migration.h, migration.c, migration_component_type.o.
drift_c_bindings() {
    repo_wit="$DRIFT_C_SDK/../../wit"
    mkdir -p "$1"
    if ! output=$("$DRIFT_C_TOOLS/bin/wit-bindgen" c "$repo_wit" --world migration --out-dir "$1" 2>&1); then
        echo "$output" >&2
        return 1
    fi
}

# drift_c_build OUT.wasm SOURCES...: compiles the migration with the SDK for wasm32 and wraps
# it into a component (also leaves OUT.core.wasm, the core module, next to it).
drift_c_build() {
    out=$1
    shift
    build_dir=$(dirname "$out")
    gen="$build_dir/bindings"
    drift_c_bindings "$gen" || return 1
    core="${out%.wasm}.core.wasm"
    # reactor model without crt1: no _start, no WASI imports; --gc-sections drops what the
    # migration does not use (an import it never calls is not even declared).
    "$DRIFT_C_CLANG" --target=wasm32-wasi -std=c11 ${DRIFT_C_OPT:--O2} -Wall -Wextra \
        -ffunction-sections -fdata-sections -nostartfiles \
        -Wl,--no-entry -Wl,--gc-sections -Wl,--strip-all \
        -I"$DRIFT_C_SDK/include" -I"$gen" \
        "$DRIFT_C_SDK"/src/*.c "$gen/migration.c" "$gen/migration_component_type.o" "$@" \
        -o "$core" || {
        drift_c_log "compiling failed (an undefined drift_registered_migration means a missing DRIFT_MIGRATION(...))"
        return 1
    }
    if grep -q wasi_snapshot_preview1 "$core"; then
        drift_c_log "$core imports WASI (stdio?): the component would not load"
        return 1
    fi
    "$DRIFT_C_TOOLS/bin/wasm-tools" component new "$core" -o "$out" || return 1
}

# drift_c_native OUT SOURCES...: a native executable of SOURCES with the SDK (the bindings'
# wasm-only parts stubbed by tests/native_stubs.c), for unit tests. CC defaults to cc.
drift_c_native() {
    out=$1
    shift
    build_dir=$(dirname "$out")
    gen="$build_dir/bindings"
    drift_c_bindings "$gen" || return 1
    # -Wno-attributes: the wasm import/export attributes; -Wno-maybe-uninitialized: gcc on the
    # generated import wrappers.
    ${CC:-cc} -std=c11 -g -O1 -Wall -Wextra -Wno-attributes -Wno-maybe-uninitialized \
        -Wno-unknown-warning-option ${DRIFT_C_NATIVE_FLAGS:-} \
        -I"$DRIFT_C_SDK/include" -I"$DRIFT_C_SDK/src" -I"$gen" \
        "$DRIFT_C_SDK"/src/*.c "$gen/migration.c" "$DRIFT_C_SDK/tests/native_stubs.c" "$@" \
        -o "$out"
}
