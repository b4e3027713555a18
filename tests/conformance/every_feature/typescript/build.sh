#!/usr/bin/env bash
# Builds build/every_feature.wasm, the conformance migration in TypeScript (see ../README.md), as
# a drift:migration component with the QuickJS engine (npm `componentize-qjs --sync`). Needs
# Node 20+ and npm with the npm registry; nothing else.
#
#   ./build.sh              # build/every_feature.wasm
#   ./build.sh --test       # run the unit tests (node --test) first, then build
#   ./build.sh --test-only  # only the unit tests (what `npm test` runs)
#
# The steps are the SDK's: ../../../../guest-sdk/js/drift-js.sh.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../../guest-sdk/js/drift-js.sh every_feature "$@"
