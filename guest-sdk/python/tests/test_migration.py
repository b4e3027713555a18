import types

import pytest

from drift_sdk import Info, Item, Migration, MigrationError, delete, error_message, export_migration, put, update
from drift_sdk.migration import actions_of, as_migration, call


class AddFlag(Migration):
    def info(self):
        return Info(7, "add_flag", "users", description="Mark every user as active.")

    def migrate(self, item):
        return [update(item.key(["id"])).set("active", True)]


def test_a_class_or_a_module_is_a_migration():
    target = as_migration(AddFlag)
    assert target.info().name == "add_flag"
    [action] = call(target.migrate, Item(id="u1"))
    assert action.resolved() == "SET active = true"
    with pytest.raises(MigrationError, match="this migration has no rollback"):
        target.rollback(Item(id="u1"))

    module = types.ModuleType("plain")
    module.info = lambda: Info(1, "plain", "t")
    module.migrate = lambda item: []
    target = as_migration(module)
    assert target.info() == Info(1, "plain", "t")
    with pytest.raises(MigrationError, match="this migration has no rollback"):
        target.rollback(Item())
    with pytest.raises(TypeError, match="has no info"):
        as_migration(types.ModuleType("empty"))


def test_a_module_is_found_by_name():
    assert as_migration(__name__).info is info


def info():
    return Info(3, "by_name", "t")


def migrate(item):
    return []


def test_export_is_inert_natively():
    assert export_migration(__name__) is None
    assert export_migration(AddFlag) is None
    with pytest.raises(TypeError):
        export_migration(object())


def test_what_migrate_may_return():
    key = Item(id="u1")
    assert actions_of([]) == []
    assert actions_of(put(key)) == [put(key)]
    assert actions_of((a for a in [delete(key)])) == [delete(key)]
    with pytest.raises(MigrationError, match="returned None"):
        actions_of(None)
    with pytest.raises(MigrationError, match="returned a str"):
        actions_of("x")
    with pytest.raises(MigrationError, match="returned a int among its actions"):
        actions_of([put(key), 1])


def test_info_defaults_and_other_tables():
    info = Info(2, "users_v2", "users").other_table("audit")
    assert info.description == ""
    assert info.other_tables == ["audit"]
    assert Info(1, "a", "t").other_tables == []


def test_exceptions_become_messages():
    assert error_message(MigrationError("user has no `email` attribute")) == "user has no `email` attribute"
    assert error_message(ValueError("invalid literal for int() with base 10: 'x'")) == (
        "invalid literal for int() with base 10: 'x'"
    )
    assert error_message(KeyError("email")) == "KeyError: 'email'"
    assert error_message(AssertionError()) == "AssertionError"
    try:
        Item().key(["id"])
    except MigrationError as error:
        assert error_message(error) == "item has no key attribute `id`"
