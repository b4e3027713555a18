"""The componentize-py glue, over stand-in bindings and (when componentize-py is installed)
over generated ones."""

import types

import pytest

from drift_sdk import Info, Item, MigrationError, Value, db, delete, log, put, update


def module(**functions):
    m = types.ModuleType("m")
    m.info = lambda: Info(2, "users_v2", "users", description="d", other_tables=["audit"])
    m.migrate = lambda item: []
    for name, function in functions.items():
        setattr(m, name, function)
    return m


def world(bindings, **functions):
    return bindings.component.export(module(**functions))()


def test_info_is_lowered(bindings):
    info = world(bindings).info()
    assert info == bindings.wit.Info(2, "users_v2", "d", "users", ["audit"])


def test_actions_are_lowered_with_sorted_placeholders(bindings):
    wit = bindings.wit

    def migrate(item):
        key = item.key(["id"])
        change = update(key).table("users").set("b", 1).set("a", item["name"])
        for i in range(9):
            change.remove(f"x{i}")  # #drift2 .. #drift10: sorted as text, like Rust's BTreeMap
        return [
            change,
            put(item).condition("attribute_not_exists(#i)", names={"#i": "id"}),
            delete(key).table("audit"),
        ]

    record = bindings.component.codec.encode(Item(id="u1", name="Ada"))
    [up, pt, dl] = world(bindings, migrate=migrate).migrate(record)
    assert isinstance(up, wit.Action_Update)
    u = up.value
    assert u.table == "users"
    assert u.key == wit.Item([("id", 0)], [wit.Value_S("u1")])
    assert u.update_expression == (
        "SET #drift0 = :drift0, #drift1 = :drift1 REMOVE "
        + ", ".join(f"#drift{i}" for i in range(2, 11))
    )
    assert u.condition is None and u.upsert is False
    names = [p for p, _ in u.attributes.names]
    assert names == sorted(names) and names[:3] == ["#drift0", "#drift1", "#drift10"]
    assert u.attributes.values == wit.Item([(":drift0", 0), (":drift1", 1)], [wit.Value_N("1"), wit.Value_S("Ada")])
    assert isinstance(pt, wit.Action_Put)
    assert pt.value.item == record
    assert pt.value.condition == "attribute_not_exists(#i)"
    assert pt.value.attributes == wit.ExpressionAttributes([("#i", "id")], wit.Item([], []))
    assert isinstance(dl, wit.Action_Delete)
    assert dl.value.table == "audit"


def test_every_failure_becomes_the_items_error(bindings):
    Err = bindings.Err
    codec = bindings.component.codec

    def failing(error):
        def migrate(item):
            raise error

        return migrate

    cases = [
        (failing(MigrationError("user has no `email` attribute")), "user has no `email` attribute"),
        (failing(ZeroDivisionError("division by zero")), "division by zero"),
        (failing(KeyError("email")), "KeyError: 'email'"),
        (failing(Err("raised as in componentize-py")), "raised as in componentize-py"),
        (lambda item: [update(item.key(["id"]))], "item has no key attribute `id`"),
        (lambda item: [update({"id": "u1"})], "an update needs at least one set/remove/add/delete"),
        (lambda item: None, "the migration returned None; return a list of actions ([] for none)"),
    ]
    for migrate, message in cases:
        with pytest.raises(Err) as error:
            world(bindings, migrate=migrate).migrate(codec.encode(Item(name="x")))
        assert error.value.value == message
    with pytest.raises(Err) as error:
        world(bindings).rollback(codec.encode(Item()))
    assert error.value.value == "this migration has no rollback"
    bad = bindings.wit.Item([("a", 5)], [])
    with pytest.raises(Err) as error:
        world(bindings).migrate(bad)
    assert error.value.value == "item arena: node index 5 is out of range"


def test_log_goes_to_the_host(bindings, monkeypatch):
    seen = []
    monkeypatch.setattr(bindings.world, "log", lambda level, message: seen.append((level, message)))
    log.warn("careful")
    log.trace("t")
    assert seen == [(bindings.wit.Level.WARN, "careful"), (bindings.wit.Level.TRACE, "t")]


def test_db_calls_go_to_the_host(bindings, monkeypatch):
    wit, wdb, Err, codec = bindings.wit, bindings.db, bindings.Err, bindings.component.codec
    calls = []

    def get_item(table, key):
        calls.append(("get", table, codec.decode(key)))
        return codec.encode(Item(id="u1", n=1)) if table == "users" else None

    def put_item(table, item, condition, attributes):
        calls.append(("put", table, codec.decode(item), condition, attributes.names))
        raise Err(wdb.DbError_ConditionalCheckFailed())

    def update_item(table, key, expression, condition, attributes):
        calls.append(("update", table, expression, codec.decode(attributes.values)))

    def delete_item(table, key, condition, attributes):
        raise Err(wdb.DbError_Refused("table `x` is not declared"))

    def query(request):
        calls.append(("query", request.table, request.index, request.key_condition, request.limit))
        if request.exclusive_start_key is None:
            return wdb.QueryOutput([codec.encode(Item(id="a"))], codec.encode(Item(id="a")))
        raise Err(wdb.DbError_Failed("throttled"))

    for name, function in dict(
        get_item=get_item, put_item=put_item, update_item=update_item, delete_item=delete_item, query=query
    ).items():
        monkeypatch.setattr(wdb, name, function)

    assert db.get_item("users", {"id": "u1"}) == Item(id="u1", n=1)
    assert db.get_item("other", {"id": "u1"}) is None
    with pytest.raises(db.ConditionalCheckFailed):
        db.put_item("users", {"id": "u2"}, "attribute_not_exists(#i)", names={"#i": "id"})
    db.update_item("users", {"id": "u1"}, "SET n = :n", values={":n": 2})
    with pytest.raises(db.Refused, match="refused: table `x` is not declared"):
        db.delete_item("x", {"id": "u1"})
    page = db.query_page(db.Query("users", "#pk = :pk", index="by_email", limit=10))
    assert page.items == [Item(id="a")] and page.last_evaluated_key == Item(id="a")
    with pytest.raises(db.Failed, match="DynamoDB failed: throttled"):
        db.query_all(db.Query("users", "#pk = :pk"))
    assert calls[:4] == [
        ("get", "users", Item(id="u1")),
        ("get", "other", Item(id="u1")),
        ("put", "users", Item(id="u2"), "attribute_not_exists(#i)", [("#i", "id")]),
        ("update", "users", "SET n = :n", Item({":n": 2})),
    ]
    assert calls[4] == ("query", "users", "by_email", "#pk = :pk", 10)
