import pytest

from drift_sdk import Delete, ExpressionError, Item, Put, Update, Value, delete, put, update


def key():
    return Item(id="u1")


def test_update_builds_expression_with_placeholders():
    change = (
        update(key())
        .set("email_lower", "a@b.c")
        .set("address.city", "Oslo")
        .remove("name")
        .add("visits", 1)
        .delete_from_set("tags", Value.SS(["old"]))
    )
    assert change.update_expression() == (
        "SET #drift0 = :drift0, #drift1.#drift2 = :drift1 REMOVE #drift3 ADD #drift4 :drift2 DELETE #drift5 :drift3"
    )
    assert change.common.names["#drift1"] == "address"
    assert change.common.names["#drift2"] == "city"
    assert change.common.values[":drift1"] == Value.S("Oslo")
    assert not change.is_upsert
    assert change.resolved() == (
        'SET email_lower = "a@b.c", address.city = "Oslo" REMOVE name ADD visits 1 DELETE tags {"SS": ["old"]}'
    )


def test_repeated_names_share_a_placeholder_and_indices_stay_literal():
    change = update(key()).set("a.b", 1).set("a.c[3]", 2)
    assert change.update_expression() == "SET #drift0.#drift1 = :drift0, #drift0.#drift2[3] = :drift1"


def test_generated_placeholders_are_numbered_after_user_ones():
    change = (
        update(key())
        .condition("attribute_exists(#e)")
        .name("#e", "email")
        .set("email", "x")
        .value(":v", 1)
        .add("n", 1)
    )
    assert change.update_expression() == "SET #drift1 = :drift0 ADD #drift2 :drift2"


def test_condition_takes_its_placeholders():
    change = update(key()).condition("#s <> :two", names={"#s": "schema_version"}, values={":two": 2}).set("a", 1)
    assert change.common.condition == "#s <> :two"
    assert change.common.names == {"#s": "schema_version", "#drift1": "a"}
    assert change.common.values == Item({":two": 2, ":drift1": 1})
    assert change.update_expression() == "SET #drift1 = :drift1"


def test_update_without_clauses_or_with_bad_path_is_an_error():
    with pytest.raises(ExpressionError, match="an update needs at least one set/remove/add/delete"):
        update(key()).update_expression()
    with pytest.raises(ExpressionError) as error:
        update(key()).set("a..b", 1).update_expression()
    assert str(error.value) == "invalid document path `a..b`: empty name"
    with pytest.raises(ExpressionError, match="cannot mix expression"):
        update(key()).expression("SET x = :x").set("y", 1).update_expression()


def test_raw_expression_with_user_placeholders():
    change = (
        update(key())
        .expression("SET #n = :v")
        .name("#n", "name")
        .value(":v", "x")
        .condition("attribute_exists(#n)")
        .table("other")
        .upsert()
    )
    assert change.update_expression() == "SET #n = :v"
    assert change.resolved() == 'SET name = "x"'
    assert change.common.table == "other"
    assert change.common.condition == "attribute_exists(#n)"
    assert change.is_upsert
    undefined = change.copy().expression("SET #n = :w")
    with pytest.raises(ExpressionError, match="undefined value placeholder `:w`"):
        undefined.resolved()
    assert change.update_expression() == "SET #n = :v"  # the copy is independent


def test_put_and_delete_carry_table_and_condition():
    action = put(Item(id="u1", x=1)).table("copy").condition("attribute_not_exists(id)")
    assert isinstance(action, Put)
    assert action.common.table == "copy"
    assert action.item.get_i64("x") == 1
    removal = delete(key()).value(":v", 1)
    assert isinstance(removal, Delete)
    assert removal.common.values[":v"] == Value.N("1")
    assert delete({"id": "u1"}) == delete(key())
    assert put({"id": "u1"}).item == key()


def test_actions_compare_by_value():
    assert update(key()).set("a", 1) == update(key()).set("a", 1)
    assert update(key()).set("a", 1) != update(key()).set("a", 2)
    assert update(key()).set("a", 1) != update(key()).set("a", 1).upsert()
    assert put(key()) != delete(key())
    assert "SET #drift0 = :drift0" in repr(update(key()).set("a", 1))
    assert isinstance(update(key()), Update)
