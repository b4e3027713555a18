from decimal import Decimal

import pytest

from drift_sdk import Item, MissingKeyError, Value
from drift_sdk.value import number_text


def user() -> Item:
    return Item(
        id="u1",
        age=42,
        active=True,
        address={"city": "Oslo", "zip": 150},
        tags=["a", "b"],
    )


def test_plain_python_converts_to_values():
    item = user()
    assert item["id"] == Value.S("u1")
    assert item["age"] == Value.N("42")
    assert item["active"] == Value.BOOL(True)
    assert item["address"] == Value.M({"city": Value.S("Oslo"), "zip": Value.N("150")})
    assert item["tags"] == Value.L([Value.S("a"), Value.S("b")])
    assert Value.of(None) == Value.NULL()
    assert Value.of(b"\x00\x01") == Value.B(b"\x00\x01")
    assert Value.of(bytearray(b"x")) == Value.B(b"x")
    assert Value.of({"b", "a"}) == Value.SS(["a", "b"])
    assert Value.of({3, 1, 2.5}) == Value.NS(["1", "2.5", "3"])
    assert Value.of(frozenset({b"z", b"a"})) == Value.BS([b"a", b"z"])
    assert Value.of(Decimal("1.50")) == Value.N("1.50")
    with pytest.raises(ValueError, match="no empty sets"):
        Value.of(set())
    with pytest.raises(TypeError):
        Value.of({1, "a"})
    with pytest.raises(TypeError):
        Value.of(object())
    with pytest.raises(TypeError):
        Item({1: "x"})


def test_typed_accessors_match_only_their_type():
    item = user()
    assert item.get_str("id") == "u1"
    assert item.get_i64("age") == 42
    assert item.get_str("age") is None
    assert item.get_bool("active") is True
    assert item.get_f64("age") == 42.0
    assert item.get_number("age") == "42"
    assert item.get_decimal("age") == Decimal(42)
    assert item.get_map("address") == Item(city="Oslo", zip=150)
    assert item.get_list("tags") == [Value.S("a"), Value.S("b")]
    assert item["age"].type_name() == "N"
    assert item.get("missing") is None
    assert item.get_str("missing") is None
    item["blob"] = b"\x01"
    item["names"] = Value.SS(["x"])
    item["numbers"] = Value.NS([1, "2"])
    item["blobs"] = Value.BS([b"a"])
    assert item.get_bytes("blob") == b"\x01"
    assert item.get_string_set("names") == ["x"]
    assert item.get_number_set("numbers") == ["1", "2"]
    assert item.get_binary_set("blobs") == [b"a"]
    assert item.get_string_set("numbers") is None


def test_i64_is_strict_like_rust_and_int_is_not():
    assert Value.N("2").as_i64() == 2
    assert Value.N("-9223372036854775808").as_i64() == -(2**63)
    assert Value.N("9223372036854775808").as_i64() is None
    assert Value.N("2.0").as_i64() is None
    assert Value.N("1e3").as_i64() is None
    assert Value.N("+5").as_i64() == 5
    assert Value.N(" 5").as_i64() is None
    assert Value.N("1_000").as_i64() is None
    assert Value.S("2").as_i64() is None
    assert Value.N("2.0").as_int() == 2
    assert Value.N("1E+3").as_int() == 1000
    assert Value.N("1.5").as_int() is None
    big = "12345678901234567890123456789012345678"
    assert Value.N(big).as_int() == int(big)
    assert Value.N(big).as_i64() is None


def test_paths_reach_nested_maps_and_lists():
    item = user()
    assert item.path("address.city") == Value.S("Oslo")
    assert item.path("tags[1]") == Value.S("b")
    assert item.path("tags[2]") is None
    assert item.path("address.city.x") is None
    assert item.path("id[0]") is None
    assert item.path("a..b") is None
    assert item.path("missing.x") is None
    assert item["address"].at("zip") == Value.N("150")


def test_key_picks_attributes_or_names_the_missing_one():
    item = user()
    assert item.key(["id"]) == Item(id="u1")
    assert item.key("id") == Item(id="u1")
    with pytest.raises(MissingKeyError) as error:
        item.key(["id", "sk"])
    assert str(error.value) == "item has no key attribute `sk`"
    assert isinstance(error.value, LookupError)


def test_set_and_remove_change_top_level_attributes():
    item = user()
    assert item.set("age", 43) == Value.N("42")
    assert item.remove("active") == Value.BOOL(True)
    assert item.remove("active") is None
    assert not item.contains("active")
    assert len(item) == 4
    assert Item().with_("a", 1).with_("b", "x") == Item(a=1, b="x")
    item.update({"x": 1}, y=True)
    assert item["x"] == Value.N("1") and item["y"] == Value.BOOL(True)
    assert item.setdefault("z", "d") == Value.S("d")
    merged = Item(a=1) | {"b": 2}
    assert type(merged) is Item and merged["b"] == Value.N("2")


def test_numbers_keep_their_decimal_text_and_floats_print_like_rust():
    assert Value.N(1.5) == Value.N("1.5")
    assert number_text(2.0) == "2"
    assert number_text(-0.0) == "-0"
    assert number_text(0.1 + 0.2) == "0.30000000000000004"
    assert number_text(1e20) == "100000000000000000000"
    assert number_text(1e-7) == "0.0000001"
    assert number_text(2**128) == str(2**128)
    big = "12345678901234567890123456789012345678"
    assert Value.number(big).as_number() == big
    for bad in (float("nan"), float("inf"), Decimal("NaN")):
        with pytest.raises(ValueError):
            number_text(bad)
    with pytest.raises(TypeError):
        number_text(True)


def test_sizes_follow_dynamodb_rules():
    item = Item(id="abc", n=Value.N("1234"))
    assert item.size() == 2 + 3 + 1 + 3
    assert Value.N("-1.5E+10").size() == 2 + 1
    nested = Value.L([Value.NULL(), Value.of(item)])
    assert nested.size() == 3 + (1 + 1) + (1 + 3 + (2 + 1 + 3) + (1 + 1 + 3))
    assert Value.S("é").size() == 2


def test_copies_are_deep_and_equality_is_by_value():
    item = user()
    copy = item.copy()
    assert copy == item and copy is not item
    copy["address"].value["city"] = "Bergen"
    assert item.path("address.city") == Value.S("Oslo")
    assert Value.S("1") != Value.N("1")
    assert Value.S("x") != "x"
    with pytest.raises(TypeError):
        hash(Value.S("x"))


def test_to_python_and_repr():
    item = Item(id="u1", n=Value.N("1.5"), s={"a"}, l=[None, b"x"])
    assert item.to_python() == {"id": "u1", "n": Decimal("1.5"), "s": {"a"}, "l": [None, b"x"]}
    assert repr(Value.S("x")) == "Value.S('x')"
    assert repr(Value.NULL()) == "Value.NULL()"
    assert repr(Item(a=1)) == "Item({'a': Value.N('1')})"


def test_constructors_check_their_argument():
    with pytest.raises(TypeError):
        Value.S(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Value.BOOL(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Value.B("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Value.SS([1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Value.BS(["x"])  # type: ignore[list-item]
