import random

import pytest

from drift_sdk import Item, Value
from drift_sdk.arena import ArenaError, Codec


def test_round_trips_nested_values_in_preorder_like_rust(bindings):
    wit = bindings.wit
    codec = Codec(wit)
    inner = Item(k=Value.SS(["x", "ÿ🦀"]))
    item = Item(
        id="u1",
        bs=Value.BS([b"\x01", b""]),
        list=[inner, [], False],
        map=inner,
    )
    record = codec.encode(item)
    assert record.attributes == [("bs", 0), ("id", 1), ("list", 2), ("map", 7)]
    assert record.nodes[2] == wit.Value_L([3, 5, 6])
    assert record.nodes[3] == wit.Value_M([("k", 4)])
    assert record.nodes[6] == wit.Value_Boolean(False)
    assert record.nodes[0] == wit.Value_Bs([b"\x01", b""])
    assert codec.decode(record) == item


def random_value(rng, depth=0):
    kind = rng.choice(["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS"] + (["L", "M"] if depth < 4 else []))
    if kind == "S":
        return Value.S("".join(rng.choice("aé🦀\x00\"") for _ in range(rng.randrange(5))))
    if kind == "N":
        return Value.N(str(rng.randrange(-(10**38), 10**38)))
    if kind == "B":
        return Value.B(bytes(rng.randrange(256) for _ in range(rng.randrange(4))))
    if kind == "BOOL":
        return Value.BOOL(rng.random() < 0.5)
    if kind == "NULL":
        return Value.NULL()
    if kind == "SS":
        return Value.SS(sorted({str(rng.randrange(100)) for _ in range(1 + rng.randrange(3))}))
    if kind == "NS":
        return Value.NS(sorted({str(rng.randrange(100)) for _ in range(1 + rng.randrange(3))}))
    if kind == "BS":
        return Value.BS(sorted({bytes([rng.randrange(256)]) for _ in range(1 + rng.randrange(3))}))
    if kind == "L":
        return Value.L([random_value(rng, depth + 1) for _ in range(rng.randrange(4))])
    return Value.M({f"k{i}": random_value(rng, depth + 1) for i in range(rng.randrange(4))})


def test_random_items_round_trip(bindings):
    codec = Codec(bindings.wit)
    rng = random.Random(42)
    for _ in range(300):
        item = Item({f"a{i}": random_value(rng) for i in range(rng.randrange(6))})
        assert codec.decode(codec.encode(item)) == item


def test_rejects_bad_arenas(bindings):
    wit = bindings.wit
    codec = Codec(wit)
    null = wit.Value_Null
    cases = [
        (([("a", 3)], [null()]), "item arena: node index 3 is out of range"),
        (([("a", 0), ("b", 0)], [null()]), "item arena: node 0 is referenced more than once (shared or cyclic)"),
        (([("a", 0)], [wit.Value_L([0])]), "item arena: node 0 is referenced more than once (shared or cyclic)"),
        (([("a", 0)], [wit.Value_M([("x", 1), ("x", 2)]), null(), null()]), "map key `x` appears twice"),
        (([("a", 0), ("a", 1)], [null(), null()]), "attribute `a` appears twice"),
        (([("a", -1)], [null()]), "item arena: node index -1 is out of range"),
    ]
    for (attributes, nodes), expected in cases:
        with pytest.raises(ArenaError) as error:
            codec.decode(wit.Item(attributes, nodes))
        assert str(error.value) == expected


def test_nesting_is_bounded_at_dynamodbs_limit(bindings):
    wit = bindings.wit
    codec = Codec(wit)

    def chain(depth):
        nodes = [wit.Value_L([i + 1]) for i in range(depth)] + [wit.Value_Null()]
        return wit.Item([("a", 0)], nodes)

    assert codec.decode(chain(32))
    with pytest.raises(ArenaError, match="item arena nests deeper than DynamoDB's 32 levels"):
        codec.decode(chain(100_000))
