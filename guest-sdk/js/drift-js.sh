#!/usr/bin/env bash
# drift-js.sh NAME [--test | --test-only]: builds build/NAME.wasm, a migration in TypeScript or
# JavaScript, as a drift:migration component with the QuickJS engine (npm `componentize-qjs
# --sync`), from the project folder it is run in. Every project's `build.sh` calls it. Needs
# Node 20+ and npm with the npm registry; nothing else. About 5 s after the first `npm ci`.
#
#   drift-js.sh NAME              # build/NAME.wasm
#   drift-js.sh NAME --test       # run the unit tests (node --test) first, then build
#   drift-js.sh NAME --test-only  # only the unit tests (what `npm test` runs)
#
# The project: package.json (dependencies @drift/sdk-js, typescript, componentize-qjs,
# @types/node), tsconfig.json (src/ into build/js/), tsconfig.test.json (test/ into
# build/node/), src/component.ts (the entry file) and src/migration.ts.
#
# Steps: npm ci (or npm install without a lock file), compile the SDK (a `file:` dependency)
# when its dist/ is missing or older than its sources, tsc the migration into build/js/, copy
# the SDK next to it (componentize-qjs resolves imports only inside its module root, and the
# npm link points outside), then componentize build/js/component.js.
set -euo pipefail

name=${1:?usage: drift-js.sh NAME [--test | --test-only]}
shift
# The world sits beside the SDK: ../../wit in the repository and in a project's .drift-sdk/.
wit=${DRIFT_WIT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../wit" && pwd)}
out=build/$name.wasm
run_tests=false
build=true
case "${1:-}" in
  "") ;;
  --test) run_tests=true ;;
  --test-only) run_tests=true build=false ;;
  *) echo "usage: $0 NAME [--test | --test-only]" >&2; exit 2 ;;
esac

step() { printf '==> %s\n' "$*" >&2; }

# 1. Dependencies, exactly as locked (reinstalled only when package.json or the lock changed).
if [[ -f package-lock.json ]]; then
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json || package.json -nt node_modules/.package-lock.json ]]; then
    step "npm ci"
    npm ci --no-audit --no-fund
  fi
else
  step "npm install (no package-lock.json yet)"
  npm install --no-audit --no-fund
fi
tsc=node_modules/.bin/tsc

# 2. The SDK's JavaScript (a registry install ships dist/; the repository's sources need tsc).
sdk=$(cd node_modules/@drift/sdk-js && pwd -P)
if [[ ! -f "$sdk/dist/index.js" ]] || [[ -n "$(find "$sdk/src" "$sdk/tsconfig.json" -newer "$sdk/dist/index.js" -print -quit 2>/dev/null)" ]]; then
  step "tsc -p $sdk/tsconfig.json"
  "$tsc" -p "$sdk/tsconfig.json"
fi

# 3. Unit tests, natively with node (they import src/migration.ts, never the engine glue).
if $run_tests; then
  step "unit tests"
  rm -rf build/node
  "$tsc" -p tsconfig.test.json
  node --test build/node/test/
fi
$build || exit 0

# 4. The migration's JavaScript, with the SDK beside it under the module root.
step "tsc -p tsconfig.json"
rm -rf build/js
"$tsc" -p tsconfig.json
mkdir -p build/js/node_modules/@drift/sdk-js
cp -RL "$sdk/package.json" "$sdk/dist" build/js/node_modules/@drift/sdk-js/

# 5. The component.
step "componentize-qjs --sync -> $out"
node_modules/.bin/componentize-qjs --sync --wit "$wit" --js build/js/component.js --module-root build/js -o "$out" >/dev/null
printf '%s (%s bytes)\n' "$out" "$(wc -c <"$out" | tr -d ' ')"
