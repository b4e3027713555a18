"""{{name}}'s logic, natively (``./build.sh --test``); ``drift-host test`` runs cases/ on the
built component."""

import {{name}}
from drift_sdk import Item, Update

KEY = { {{key_sample}} }


def test_info():
    info = {{name}}.info()
    assert (info.number, info.name, info.table) == ({{number}}, "{{name}}", "{{table}}")


def test_stamps_an_item_and_rollback_takes_the_stamp_away():
    item = Item({**KEY, "name": "Ada"})
    [stamp] = {{name}}.migrate(item)
    assert isinstance(stamp, Update)
    assert stamp.resolved() == 'SET migrated_by = "{{name}}"'
    [unstamp] = {{name}}.rollback(Item({**KEY, "name": "Ada", "migrated_by": "{{name}}"}))
    assert unstamp.resolved() == "REMOVE migrated_by"
    assert {{name}}.rollback(item) == []
