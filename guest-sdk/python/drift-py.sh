#!/usr/bin/env bash
# drift-py.sh PROJECT MODULE NAME [--test]: builds PROJECT/build/NAME.wasm from PROJECT/MODULE.py,
# a migration in Python, as a drift:migration component (componentize-py). Every project's
# `build.sh` calls it.
#
# Needs Python 3.11+ with venv and pip, and PyPI the first time: it makes .venv/ in the project
# (or the venv named by $DRIFT_PY_VENV) and installs componentize-py into it. The SDK (drift_sdk,
# beside this script) and the world (../../wit from here) are staged next to the migration in
# build/app/, which is all componentize-py sees.
#
#   drift-py.sh PROJECT MODULE NAME         build (about 10 s once the venv exists)
#   drift-py.sh PROJECT MODULE NAME --test  run the unit tests (PROJECT/tests, pytest) first
#   PYTHON=python3.12 ...            the Python that makes the venv
#   DRIFT_PY_VENV=dir ...            use (or create) the venv `dir` instead of .venv/: one venv can
#                                    serve every Python build (a relative `dir` is from the
#                                    caller's folder)
set -euo pipefail

usage="usage: drift-py.sh PROJECT MODULE NAME [--test]"
here="$(cd "${1:?$usage}" && pwd)"
module=${2:?$usage}
name=${3:?$usage}
shift 3
sdk="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The world sits beside the SDK: ../../wit in the repository and in a project's .drift-sdk/.
wit="$(cd "$sdk/../../wit" && pwd)"
componentize_py_version="0.25.1"

# The venv: $DRIFT_PY_VENV (relative to the caller's folder) or .venv/ here.
venv="${DRIFT_PY_VENV:-$here/.venv}"
[[ "$venv" == /* ]] || venv="$PWD/$venv"

cd "$here"
mkdir -p build
# One build at a time in this folder (two would share build/app).
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

# One setup at a time per venv (builds of other folders may share it): the lock is the venv
# folder itself, which is therefore cleared (--clear), never removed, when it is broken.
mkdir -p "$venv"
if command -v flock >/dev/null 2>&1; then
    exec 8<"$venv"
    flock 8
fi
venv_python="$venv/bin/python"
if ! "$venv_python" -c "" >/dev/null 2>&1; then   # missing, or broken (the folder moved)
    echo "build: creating $venv with $("$python" --version)" >&2
    "$python" -m venv --clear "$venv"
fi
have="$("$venv_python" -m pip show componentize-py 2>/dev/null | sed -n "s/^Version: //p" || true)"
if [[ "$have" != "$componentize_py_version" ]]; then
    echo "build: installing componentize-py==$componentize_py_version into $venv" >&2
    "$venv_python" -m pip install --disable-pip-version-check -q "componentize-py==$componentize_py_version"
fi
if [[ "${1:-}" == "--test" ]]; then
    "$venv_python" -m pip show pytest >/dev/null 2>&1 \
        || "$venv_python" -m pip install --disable-pip-version-check -q pytest
fi
if command -v flock >/dev/null 2>&1; then
    exec 8<&-
fi
if [[ "${1:-}" == "--test" ]]; then
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
