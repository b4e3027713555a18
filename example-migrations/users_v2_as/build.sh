#!/usr/bin/env bash
# Builds build/users_v2_as.wasm, the users_v2 migration in AssemblyScript: a core module that
# drift-host wraps into a component itself. Needs Node 20+ and npm with the npm registry.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent
npm run build --silent
printf '%s (%s bytes)\n' build/users_v2_as.wasm "$(wc -c <build/users_v2_as.wasm | tr -d ' ')"
