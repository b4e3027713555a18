"""users_v2's logic, natively: the same tests as the Rust example's."""

import json
from pathlib import Path

import pytest

import users_v2
from drift_sdk import Item, MigrationError, Update, Value

DATA = Path(__file__).resolve().parents[3] / "tests" / "data"


def the_update(actions) -> Update:
    assert len(actions) == 1 and isinstance(actions[0], Update), actions
    return actions[0]


def test_info():
    info = users_v2.info()
    assert (info.number, info.name, info.table) == (2, "users_v2", "users")
    assert info.description == "Add email_lower and schema_version 2; rename name to full_name."
    assert info.other_tables == []


def test_migrates_a_version_one_user():
    user = Item(id="u1", email="Ada@Example.COM", name="Ada Lovelace")
    change = the_update(users_v2.migrate(user))
    assert change.key == Item(id="u1")
    assert change.resolved() == (
        'SET email_lower = "ada@example.com", schema_version = 2, full_name = "Ada Lovelace" REMOVE name'
    )
    # What tests/data/users_v2.migrate.jsonl and the Rust version expect, placeholder for placeholder.
    assert change.update_expression() == "SET #drift0 = :drift0, #drift1 = :drift1, #drift2 = :drift2 REMOVE #drift3"
    assert not change.is_upsert


def test_a_user_without_a_name_only_gains_attributes():
    change = the_update(users_v2.migrate(Item(id="u3", email="Kurt.Gödel@IAS.edu")))
    assert change.resolved() == 'SET email_lower = "kurt.gödel@ias.edu", schema_version = 2'


def test_user_without_email_is_an_error():
    cases = [
        (Item(id="u1"), "user has no `email` attribute"),
        (Item(id="u1", email=3), "user's `email` is of type N, expected a string (S)"),
        (Item(email="a@b"), "item has no key attribute `id`"),
    ]
    for user, message in cases:
        with pytest.raises(MigrationError) as error:
            users_v2.migrate(user)
        assert str(error.value) == message


def test_version_two_users_are_left_alone_and_rolled_back():
    user = Item(id="u1", email="a@b", email_lower="a@b", schema_version=2, full_name="A")
    assert users_v2.migrate(user) == []
    change = the_update(users_v2.rollback(user))
    assert change.resolved() == 'SET name = "A" REMOVE email_lower, schema_version, full_name'
    assert change.update_expression() == "SET #drift2 = :drift0 REMOVE #drift0, #drift1, #drift3"
    assert users_v2.rollback(Item(id="u6", email="v1@example.com")) == []


def from_json(value):
    """A DynamoDB JSON value (as in tests/data) as a Value."""
    [(kind, data)] = value.items()
    if kind == "M":
        return Value.M({k: from_json(v) for k, v in data.items()})
    if kind == "L":
        return Value.L([from_json(v) for v in data])
    if kind in ("B", "BS", "BOOL", "NULL"):
        pytest.skip(f"{kind} is not in the fixtures this test reads")
    return getattr(Value, kind)(data)


def test_the_shared_fixture_gives_the_expected_actions():
    users = json.loads((DATA / "users_mixed.json").read_text())["Items"]
    expected = [json.loads(line) for line in (DATA / "users_v2.migrate.jsonl").read_text().splitlines()]
    produced = []
    for raw in users:
        if "avatar" in raw:  # u-005, with no email: B is skipped by from_json
            raw = {k: v for k, v in raw.items() if k != "avatar"}
        user = Item({name: from_json(value) for name, value in raw.items()})
        try:
            actions = users_v2.migrate(user)
        except MigrationError:
            continue
        for change in actions:
            produced.append(
                {
                    "key": change.key.to_python(),
                    "update_expression": change.update_expression(),
                    "names": change.common.names,
                    "values": {p: v.value for p, v in change.common.values.items()},
                }
            )
    assert [p["update_expression"] for p in produced] == [e["update_expression"] for e in expected]
    assert [p["names"] for p in produced] == [e["names"] for e in expected]
    assert [p["values"] for p in produced] == [
        {p: next(iter(v.values())) for p, v in e["values"].items()} for e in expected
    ]
    assert [p["key"] for p in produced] == [{"id": e["key"]["id"]["S"]} for e in expected]
