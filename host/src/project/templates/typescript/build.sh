#!/usr/bin/env bash
# Builds build/{{name}}.wasm, migration {{number}} `{{name}}` in TypeScript, as a drift:migration
# component with the QuickJS engine (npm `componentize-qjs --sync`). Needs Node 20+ and npm
# with the npm registry; nothing else.
#
#   ./build.sh              # build/{{name}}.wasm
#   ./build.sh --test       # run the unit tests (node --test) first, then build
#   ./build.sh --test-only  # only the unit tests (what `npm test` runs)
#
# The steps are the SDK's: ../.drift-sdk/guest-sdk/js/drift-js.sh.
set -euo pipefail
cd "$(dirname "$0")"
exec ../.drift-sdk/guest-sdk/js/drift-js.sh {{name}} "$@"
