#!/usr/bin/env bash
# Builds build/users_v2_py.wasm, the users_v2 migration in Python, as a drift:migration component.
#
#   ./build.sh                    build (about 10 s once the venv exists)
#   ./build.sh --test             run the unit tests (pytest, installed into the venv) first
#   PYTHON=python3.12 ./build.sh  the Python that makes the venv (3.11 or newer)
#   DRIFT_PY_VENV=dir ./build.sh  use (or create) the venv `dir` instead of .venv/ here
#
# Needs Python 3.11+ with venv and pip, and PyPI the first time. The steps are the SDK's:
# ../../guest-sdk/python/drift-py.sh.
set -euo pipefail
here="$(dirname "$0")"
exec "$here/../../guest-sdk/python/drift-py.sh" "$here" users_v2 users_v2_py "$@"
