#!/usr/bin/env bash
# Builds build/every_feature.wasm, the conformance migration in AssemblyScript: a core module that
# drift-host wraps into a component itself. Needs Node 20+ and npm with the npm registry.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent
npm run build --silent
printf '%s (%s bytes)\n' build/every_feature.wasm "$(wc -c <build/every_feature.wasm | tr -d ' ')"
