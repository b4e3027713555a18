"""The SDKs' shared vectors (guest-sdk/vectors/sdk.json, generated from the Rust SDK): document
paths, update placeholders, item sizes, numbers from floats, floats from number texts, lowercasing and item arenas must
come out exactly as Rust's."""

import base64
import json
import struct
import unicodedata
from pathlib import Path as FilePath

import pytest

from drift_sdk import ExpressionError, Item, Value, update
from drift_sdk.arena import Codec
from drift_sdk.errors import PathError
from drift_sdk.path import Path

VECTORS = json.loads(
    (FilePath(__file__).resolve().parents[2] / "vectors" / "sdk.json").read_text(encoding="utf-8")
)


def from_json(value):
    """A value from DynamoDB JSON."""
    (kind, data), = value.items()
    if kind == "S":
        return Value.S(data)
    if kind == "N":
        return Value.N(data)
    if kind == "B":
        return Value.B(base64.b64decode(data))
    if kind == "BOOL":
        return Value.BOOL(data)
    if kind == "NULL":
        return Value.NULL()
    if kind == "SS":
        return Value.SS(data)
    if kind == "NS":
        return Value.NS(data)
    if kind == "BS":
        return Value.BS([base64.b64decode(b) for b in data])
    if kind == "L":
        return Value.L([from_json(v) for v in data])
    return Value.M(item_from_json(data))


def item_from_json(item):
    return Item({name: from_json(value) for name, value in item.items()})


def to_json(value):
    """A value in DynamoDB JSON, as the vectors spell it."""
    kind = value.type_name()
    if kind == "B":
        return {"B": base64.b64encode(value.as_bytes()).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode() for b in value.as_binary_set()]}
    if kind == "L":
        return {"L": [to_json(v) for v in value.as_list()]}
    if kind == "M":
        return {"M": {name: to_json(v) for name, v in value.as_map().items()}}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {"SS": list(value.as_string_set())}
    if kind == "NS":
        return {"NS": list(value.as_number_set())}
    return {kind: value.to_python() if kind != "N" else value.as_number()}


@pytest.mark.parametrize("vector", VECTORS["paths"], ids=lambda v: repr(v["text"]))
def test_paths_parse_as_rust(vector):
    if "error" in vector:
        with pytest.raises(PathError) as error:
            Path.parse(vector["text"])
        assert str(error.value) == vector["error"]
        return
    expected = [s["name"] if "name" in s else s["index"] for s in vector["segments"]]
    assert list(Path.parse(vector["text"]).segments) == expected


def test_updates_have_rusts_placeholders():
    for vector in VECTORS["updates"]:
        change = update(Item(id="k"))
        for op in vector["ops"]:
            name, path = op[0], op[1]
            value = from_json(op[2]) if len(op) > 2 else None
            if name == "set":
                change.set(path, value)
            elif name == "remove":
                change.remove(path)
            elif name == "add":
                change.add(path, value)
            else:
                change.delete_from_set(path, value)
        if "error" in vector:
            with pytest.raises(ExpressionError) as error:
                change.update_expression()
            assert str(error.value) == vector["error"], vector["ops"]
            continue
        assert change.update_expression() == vector["expression"], vector["ops"]
        assert change.common.names == vector["names"], vector["ops"]
        values = {name: to_json(value) for name, value in change.common.values.items()}
        assert values == vector["values"], vector["ops"]


def test_item_sizes_are_rusts():
    for vector in VECTORS["sizes"]:
        assert item_from_json(vector["item"]).size() == vector["size"], vector["item"]


def test_floats_become_rusts_numbers():
    for vector in VECTORS["numbers"]:
        (number,) = struct.unpack(">d", bytes.fromhex(vector["bits"]))
        assert Value.N(number).as_number() == vector["text"], (vector["bits"], number)


def test_number_texts_become_rusts_floats():
    for vector in VECTORS["parses"]:
        number = Value.N(vector["text"]).as_f64()
        bits = None if number is None else struct.pack(">d", number).hex()
        assert bits == vector["bits"], vector["text"]


def known_to_python(text):
    """Whether Python's Unicode database knows every character of ``text``: a character newer
    than it (Rust's std follows a later Unicode) is left as it is by ``str.lower``."""
    return all(unicodedata.category(c) != "Cn" for c in text)


def test_lowercasing_is_rusts():
    for vector in filter(lambda v: known_to_python(v["text"]), VECTORS["lowercase"]):
        assert vector["text"].lower() == vector["lower"], vector["text"]


def wit_node(wit, node):
    tag, val = node["tag"], node.get("val")
    if tag == "b":
        return wit.Value_B(bytes(val))
    if tag == "bs":
        return wit.Value_Bs([bytes(b) for b in val])
    if tag == "null":
        return wit.Value_Null()
    if tag == "m":
        return wit.Value_M([(name, index) for name, index in val])
    kind = {"s": "S", "n": "N", "boolean": "Boolean", "ss": "Ss", "ns": "Ns", "l": "L"}[tag]
    return getattr(wit, "Value_" + kind)(val)


def test_arenas_are_laid_out_as_rusts(bindings):
    codec = Codec(bindings.wit)
    for vector in VECTORS["arenas"]:
        record = codec.encode(item_from_json(vector["item"]))
        assert record.attributes == [(name, index) for name, index in vector["attributes"]]
        assert record.nodes == [wit_node(bindings.wit, node) for node in vector["nodes"]], vector["item"]
