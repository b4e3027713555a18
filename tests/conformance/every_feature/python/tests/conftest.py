"""Puts the migration (this folder's parent) and the SDK (guest-sdk/python) on the path."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
for folder in (HERE, HERE.parents[3] / "guest-sdk" / "python"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
