"""Puts the SDK (guest-sdk/python) on the path, so that `python -m pytest guest-sdk/python/tests`
runs from anywhere without installing it, and provides `bindings`: the componentize-py glue
(`drift_sdk.component`) imported over stand-in bindings, and over really generated ones when
componentize-py is installed."""

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

SDK = Path(__file__).resolve().parent.parent
if str(SDK) not in sys.path:
    sys.path.insert(0, str(SDK))

WIT = SDK.parent.parent / "wit"
FAKE = Path(__file__).resolve().parent / "fake_bindings"


def _componentize_py():
    return os.environ.get("COMPONENTIZE_PY") or shutil.which("componentize-py")


@pytest.fixture(scope="session")
def generated_bindings(tmp_path_factory):
    tool = _componentize_py()
    if tool is None or not WIT.is_dir():
        pytest.skip("componentize-py is not installed (or $COMPONENTIZE_PY not set)")
    out = tmp_path_factory.mktemp("bindings")
    subprocess.run([tool, "-q", "-d", str(WIT), "-w", "migration", "bindings", str(out)], check=True)
    return out


def _purge():
    for name in list(sys.modules):
        if name == "wit_world" or name.startswith("wit_world.") or name in (
            "componentize_py_types",
            "drift_sdk.component",
        ):
            del sys.modules[name]


@pytest.fixture(params=["fake", "generated"])
def bindings(request):
    """`drift_sdk.component` over stand-in (`fake`) or generated bindings."""
    from drift_sdk import db, log

    folder = FAKE if request.param == "fake" else request.getfixturevalue("generated_bindings")
    previous_log = log.set_backend(lambda level, message: None)
    previous_db = db.set_backend(None)
    _purge()
    sys.path.insert(0, str(folder))
    try:
        component = importlib.import_module("drift_sdk.component")
        import wit_world
        from componentize_py_types import Err
        from wit_world.imports import dynamodb, types

        yield SimpleNamespace(component=component, world=wit_world, wit=types, db=dynamodb, Err=Err)
    finally:
        sys.path.remove(str(folder))
        _purge()
        log.set_backend(previous_log)
        db.set_backend(previous_db)
