#!/usr/bin/env bash
# Builds build/users_v2_py.wasm, the users_v2 migration in Python, as a drift:migration component.
#
# Needs Python 3.11+ with venv and pip, and PyPI the first time: it makes .venv/ here and installs
# componentize-py into it. The SDK is vendored from ../../guest-sdk/python (drift_sdk) and the
# world from ../../wit, next to the migration in build/app/, which is all componentize-py sees.
#
#   ./build.sh         build (about 10 s once the venv exists)
#   ./build.sh --test  run the unit tests (pytest, installed into .venv) first
#   PYTHON=python3.12 ./build.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
sdk="$root/guest-sdk/python"
wit="$root/wit"
componentize_py_version="0.25.1"
name="users_v2_py"
module="users_v2"

cd "$here"
mkdir -p build
# One build at a time in this folder (two would share .venv and build/app).
if command -v flock >/dev/null 2>&1; then
    exec 9>build/.lock
    flock 9
fi

python="${PYTHON:-}"
if [[ -z "$python" ]]; then
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
    done
fi
[[ -n "$python" ]] || { echo "build: no python3 found (set PYTHON)" >&2; exit 1; }
"$python" - <<'PY' || { echo "build: Python 3.11 or newer is needed" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

venv_python="$here/.venv/bin/python"
if ! "$venv_python" -c "" >/dev/null 2>&1; then   # missing, or broken (the folder moved)
    echo "build: creating .venv with $("$python" --version)" >&2
    rm -rf .venv
    "$python" -m venv .venv
fi
have="$("$venv_python" -m pip show componentize-py 2>/dev/null | sed -n "s/^Version: //p" || true)"
if [[ "$have" != "$componentize_py_version" ]]; then
    echo "build: installing componentize-py==$componentize_py_version into .venv" >&2
    "$venv_python" -m pip install --disable-pip-version-check -q "componentize-py==$componentize_py_version"
fi

if [[ "${1:-}" == "--test" ]]; then
    "$venv_python" -m pip show pytest >/dev/null 2>&1 \
        || "$venv_python" -m pip install --disable-pip-version-check -q pytest
    "$venv_python" -m pytest -q "$here/tests"
fi

# Stage exactly what goes into the component: the migration module and the SDK. The path is
# fixed: module paths end up in the component.
rm -rf build/app
mkdir -p build/app
cp "$here/$module.py" build/app/
cp -R "$sdk/drift_sdk" build/app/drift_sdk
find build/app -name __pycache__ -type d -prune -exec rm -rf {} +

# Without VIRTUAL_ENV, which would add the venv's site-packages to what componentize-py sees.
# (Through the venv's python rather than its script, whose #! line breaks if the folder moves.)
env -u VIRTUAL_ENV "$venv_python" -c 'import sys; from componentize_py import script; sys.argv[0] = "componentize-py"; sys.exit(script())' \
    -q -d "$wit" -w migration componentize -p build/app "$module" -o "build/$name.wasm.tmp"
mv "build/$name.wasm.tmp" "build/$name.wasm"
# componentize-py 0.25 output is not byte-reproducible (its snapshot holds build-time randomness):
# every build has a new checksum, so keep the .wasm that was applied rather than rebuilding it.
echo "build: wrote build/$name.wasm ($(wc -c < "build/$name.wasm") bytes)" >&2
