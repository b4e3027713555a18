#!/usr/bin/env bash
# Builds build/users_v2_ts.wasm, the users_v2 migration in TypeScript, as a drift:migration
# component with the QuickJS engine (npm `componentize-qjs --sync`). Needs Node 20+ and npm
# with the npm registry; nothing else. About 5 s after the first `npm ci`.
#
#   ./build.sh              # build/users_v2_ts.wasm
#   ./build.sh --test       # run the unit tests (node --test) first, then build
#   ./build.sh --test-only  # only the unit tests (what `npm test` runs)
#
# The steps are the SDK's: ../../guest-sdk/js/drift-js.sh.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../guest-sdk/js/drift-js.sh users_v2_ts "$@"
