"""Migration {{number}} ``{{name}}`` over the table ``{{table}}`` (key: {{key_list}}).

As written by ``drift-host new``, it stamps every item with ``migrated_by = "{{name}}"``, and
``rollback`` takes the stamp away again: replace both with what this migration changes. An
exception fails the item (and then the run applies nothing).
"""

from __future__ import annotations

from typing import List

from drift_sdk import Action, Info, Item, export_migration, update

KEY = [{{key_literals}}]


def info() -> Info:
    return Info({{number}}, "{{name}}", "{{table}}", description="Stamps every item with migrated_by = {{name}}.")


def migrate(item: Item) -> List[Action]:
    return [update(item.key(KEY)).set("migrated_by", "{{name}}")]


def rollback(item: Item) -> List[Action]:
    if item.get_str("migrated_by") != "{{name}}":
        return []
    return [update(item.key(KEY)).remove("migrated_by")]


WitWorld = export_migration(__name__)
