import random

import pytest

from drift_sdk import ExpressionError, Item, Value, parse, readable
from drift_sdk.expression import (
    AddOrDelete,
    Clause,
    DocumentPath,
    IfNotExists,
    ListAppend,
    Operand,
    PathTerm,
    SetAction,
    UpdateBuilder,
    UpdateExpression,
    ValueTerm,
)


def name(text):
    return ("placeholder", text) if text.startswith("#") else ("name", text)


def path(*elements):
    return DocumentPath(tuple(e if isinstance(e, int) else name(e) for e in elements))


def test_parses_every_kind_of_action():
    expression = parse(
        "remove a[1], #b  set c.#d[0][2] = if_not_exists(c.#d[0][2], :z), "
        "e = list_append(list_append(e, :x), :y), f = g - :one ADD n :one delete tags :old"
    )
    cd = path("c", "#d", 0, 2)
    assert expression.clauses == (
        Clause("REMOVE", (path("a", 1), path("#b"))),
        Clause(
            "SET",
            (
                SetAction(cd, Operand(IfNotExists(cd, ValueTerm(":z")))),
                SetAction(
                    path("e"),
                    Operand(ListAppend(ListAppend(PathTerm(path("e")), ValueTerm(":x")), ValueTerm(":y"))),
                ),
                SetAction(path("f"), Operand(PathTerm(path("g")), "-", ValueTerm(":one"))),
            ),
        ),
        Clause("ADD", (AddOrDelete(path("n"), ":one"),)),
        Clause("DELETE", (AddOrDelete(path("tags"), ":old"),)),
    )
    assert str(expression) == (
        "REMOVE a[1], #b SET c.#d[0][2] = if_not_exists(c.#d[0][2], :z), "
        "e = list_append(list_append(e, :x), :y), f = g - :one ADD n :one DELETE tags :old"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "invalid update expression: it is empty"),
        ("garbage", "invalid update expression: expected SET, REMOVE, ADD or DELETE, found `garbage` (at byte 0)"),
        ("SET a = :a b = :b", "invalid update expression: expected `,`, SET, REMOVE, ADD, DELETE or the end, found `b` (at byte 11)"),
        ("SET a :a", "invalid update expression: expected `=`, found `:a` (at byte 6)"),
        ("SET a = :a,", "invalid update expression: expected an attribute name or #placeholder, found the end"),
        ("REMOVE a SET b = :b remove c", "invalid update expression: the REMOVE clause appears twice (at byte 20)"),
        ("SET a = size(b)", "invalid update expression: unknown function `size` (at byte 8); SET knows if_not_exists and list_append"),
        ("SET a-b = :c", "invalid update expression: expected `=`, found `-` (at byte 5)"),
        ("SET a = :", "invalid update expression: `:` must be followed by letters, digits or `_` (at byte 8)"),
        ("SET é = :a", "invalid update expression: unexpected `é` (at byte 4); names other than letters, digits and `_` need a #placeholder"),
        ("ADD a b", "invalid update expression: expected a :placeholder, found `b` (at byte 6)"),
        ("SET a[x] = :a", "invalid update expression: expected a list index, found `x` (at byte 6)"),
        ("SET a[99999999999999999999999] = :a", "invalid update expression: list index 99999999999999999999999 is too large"),
        ("SET é = :é", "invalid update expression: unexpected `é` (at byte 4); names other than letters, digits and `_` need a #placeholder"),
    ],
)
def test_errors_say_what_was_expected_where(text, expected):
    with pytest.raises(ExpressionError) as error:
        parse(text)
    assert str(error.value) == expected


def test_deep_nesting_is_an_error_not_a_recursion_error():
    deep = "SET a = " + "list_append(" * 10_000 + ":x" + ", :y)" * 10_000
    with pytest.raises(ExpressionError, match="functions nested deeper than 32 levels"):
        parse(deep)
    assert parse("SET a = " + "list_append(" * 32 + ":x" + ", :y)" * 32)


def test_resolve_spells_out_placeholders():
    names = {"#a": "email_lower", "#b": "first name", "#c": "tags"}
    values = Item({":a": "ada@example.com", ":b": 2, ":c": Value.SS(["old"])})
    expression = parse("SET #a = :a, version = if_not_exists(version, :b) REMOVE #b DELETE #c :c")
    assert expression.resolve(names, values) == (
        'SET email_lower = "ada@example.com", version = if_not_exists(version, 2) '
        'REMOVE `first name` DELETE tags {"SS": ["old"]}'
    )
    with pytest.raises(ExpressionError, match="undefined name placeholder `#x`"):
        parse("SET #x = :a").resolve(names, values)
    with pytest.raises(ExpressionError, match="undefined value placeholder `:x`"):
        parse("ADD #a :x").resolve(names, values)


def test_values_read_like_json():
    inner = Item(k=Value.NS(["1"]), b=b"\x01\x02")
    cases = [
        (Value.S('a "q"\n\x01é'), '"a \\"q\\"\\n\\u0001é"'),
        (Value.N("-1.5E3"), "-1.5E3"),
        (Value.BOOL(False), "false"),
        (Value.NULL(), "null"),
        (Value.SS(["x", "y"]), '{"SS": ["x", "y"]}'),
        (Value.BS([b"\xff"]), '{"BS": ["/w=="]}'),
        (Value.L([1, inner]), '[1, {"b": {"B": "AQI="}, "k": {"NS": ["1"]}}]'),
    ]
    for value, expected in cases:
        assert readable(value) == expected


def build(steps):
    builder = UpdateBuilder()
    names, values = {}, Item()
    steps(builder, names, values)
    try:
        text = str(builder.build())
    except ExpressionError as error:
        text = f"error: {error}"
    try:
        fast = builder.text()
    except ExpressionError as error:
        fast = f"error: {error}"
    assert fast == text
    return text, names, values


def test_the_builder_generates_numbered_placeholders():
    def steps(b, n, v):
        b.set(n, v, "email_lower", Value.S("a@b.c"))
        b.set(n, v, "address.city", Value.S("Oslo"))
        b.remove(n, "name")
        b.add(n, v, "visits", Value.N(1))
        b.delete(n, v, "tags", Value.SS(["old"]))

    text, names, values = build(steps)
    assert text == (
        "SET #drift0 = :drift0, #drift1.#drift2 = :drift1 REMOVE #drift3 ADD #drift4 :drift2 DELETE #drift5 :drift3"
    )
    assert names["#drift1"] == "address" and names["#drift2"] == "city"
    assert values[":drift1"] == Value.S("Oslo")


def test_the_builder_orders_clauses_and_shares_name_placeholders():
    def steps(b, n, v):
        b.remove(n, "x")
        b.set(n, v, "a.b", Value.N(1))
        b.set(n, v, "a.c[3]", Value.N(2))
        b.remove(n, "a")

    text, names, _ = build(steps)
    assert text == "SET #drift1.#drift2 = :drift0, #drift1.#drift3[3] = :drift1 REMOVE #drift0, #drift1"
    assert len(names) == 4


def test_the_builder_numbers_after_placeholders_defined_elsewhere():
    def steps(b, n, v):
        n["#e"] = "email"
        v[":v"] = None
        b.set(n, v, "email", Value.N(1))

    text, names, _ = build(steps)
    # `email` already has a placeholder, but not a generated one: it gets its own.
    assert text == "SET #drift1 = :drift1"
    assert names["#drift1"] == "email"


def test_the_builder_reuses_the_first_generated_placeholder_in_placeholder_order():
    def steps(b, n, v):
        for i in range(12):
            b.remove(n, f"a{i}")
        n["#drift12"] = "a1"  # a second placeholder for a1, sorting after #drift1
        b.remove(n, "a1")

    text, _, _ = build(steps)
    assert text.endswith(", #drift11, #drift1")


def test_the_builder_reports_the_first_bad_path():
    def steps(b, n, v):
        b.set(n, v, "a..b", Value.N(1))
        b.remove(n, "[0]")
        b.set(n, v, "ok", Value.N(2))

    text, _, values = build(steps)
    assert text == "error: invalid document path `a..b`: empty name"
    assert list(values) == [":drift0"]  # a bad path takes no placeholder
    assert build(lambda b, n, v: None)[0] == ""


# ----- round trips on generated expressions (a fixed-seed stand-in for Rust's proptest) -----

_RESERVED = {"set", "remove", "add", "delete", "if_not_exists", "list_append"}
_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"


def _name(rng):
    while True:
        text = rng.choice(_WORD) + "".join(rng.choice(_WORD + "0123456789") for _ in range(rng.randrange(7)))
        if text.lower() not in _RESERVED:
            return ("name", text)


def _placeholder(rng, sigil):
    return sigil + "".join(rng.choice(_WORD + "0123456789") for _ in range(1 + rng.randrange(6)))


def _path(rng):
    first = _name(rng) if rng.random() < 0.5 else ("placeholder", _placeholder(rng, "#"))
    rest = []
    for _ in range(rng.randrange(4)):
        r = rng.random()
        rest.append(_name(rng) if r < 0.33 else ("placeholder", _placeholder(rng, "#")) if r < 0.66 else rng.randrange(1000))
    return DocumentPath((first, *rest))


def _term(rng, depth=0):
    r = rng.random()
    if depth >= 3 or r < 0.5:
        return PathTerm(_path(rng)) if rng.random() < 0.5 else ValueTerm(_placeholder(rng, ":"))
    if r < 0.75:
        return IfNotExists(_path(rng), _term(rng, depth + 1))
    return ListAppend(_term(rng, depth + 1), _term(rng, depth + 1))


def _operand(rng):
    r = rng.random()
    if r < 0.5:
        return Operand(_term(rng))
    return Operand(_term(rng), "+" if r < 0.75 else "-", _term(rng))


def _expression(rng):
    kinds = ["SET", "REMOVE", "ADD", "DELETE"]
    rng.shuffle(kinds)
    clauses = []
    for kind in kinds[: 1 + rng.randrange(4)]:
        n = 1 + rng.randrange(3)
        if kind == "SET":
            actions = tuple(SetAction(_path(rng), _operand(rng)) for _ in range(n))
        elif kind == "REMOVE":
            actions = tuple(_path(rng) for _ in range(n))
        else:
            actions = tuple(AddOrDelete(_path(rng), _placeholder(rng, ":")) for _ in range(n))
        clauses.append(Clause(kind, actions))
    return UpdateExpression(tuple(clauses))


def test_rendered_expressions_parse_back_with_any_spacing_and_case():
    rng = random.Random(20261130)
    for _ in range(500):
        expression = _expression(rng)
        text = str(expression)
        assert parse(text) == expression, text
        loose = []
        for clause in expression.clauses:
            rendered = str(UpdateExpression((clause,)))
            rest = rendered[len(clause.keyword) :]
            rest = (
                rest.replace("if_not_exists(", "IF_NOT_EXISTS(")
                .replace("list_append(", "List_Append(")
                .replace("(", " ( ")
                .replace("[", " [ ")
                .replace(", ", " ,")
            )
            loose.append(clause.keyword.lower() + rest)
        assert parse("   ".join(loose)) == expression


def test_any_text_parses_or_raises_an_expression_error():
    rng = random.Random(7)
    alphabet = "SETREMOVADLsetrmovadl #:,.=+-()[]0123456789_éx\t"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        try:
            parse(text)
        except ExpressionError:
            pass
