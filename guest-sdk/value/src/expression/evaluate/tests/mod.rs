//! Examples of updates, each checked against what DynamoDB answers.

mod checks;
mod properties;
mod writes;

use super::decimal::{Decimal, OVERFLOW};
use super::names::{is_reserved, RESERVED_WORDS};
use super::*;
use crate::limits::{self, canonical_number};

fn parse(text: &str) -> UpdateExpression {
    UpdateExpression::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn n(text: &str) -> Value {
    Value::N(text.to_owned())
}

fn s(text: &str) -> Value {
    Value::S(text.to_owned())
}

fn ss(elements: &[&str]) -> Value {
    Value::Ss(elements.iter().map(|e| e.to_string()).collect())
}

fn ns(elements: &[&str]) -> Value {
    Value::Ns(elements.iter().map(|e| e.to_string()).collect())
}

fn list(elements: &[Value]) -> Value {
    Value::L(elements.to_vec())
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::M(pairs.iter().cloned().collect())
}

fn key() -> Item {
    Item::new().with("pk", "k")
}

/// An item with key `pk = "k"` and these attributes.
fn item(pairs: &[(&str, Value)]) -> Item {
    let mut item: Item = pairs.iter().cloned().collect();
    item.set("pk", "k");
    item
}

fn values(pairs: &[(&str, Value)]) -> Item {
    pairs.iter().cloned().collect()
}

fn names(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(p, n)| (p.to_string(), n.to_string()))
        .collect()
}

fn apply_with(
    before: Option<&Item>,
    text: &str,
    names: &BTreeMap<String, String>,
    values: &Item,
) -> Result<Item, String> {
    parse(text).apply(before, &key(), names, values)
}

fn apply(before: Option<&Item>, text: &str, vals: &[(&str, Value)]) -> Result<Item, String> {
    apply_with(before, text, &BTreeMap::new(), &values(vals))
}

fn ok(before: &Item, text: &str, vals: &[(&str, Value)]) -> Item {
    apply(Some(before), text, vals).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(before: Option<&Item>, text: &str, vals: &[(&str, Value)]) -> String {
    match apply(before, text, vals) {
        Ok(after) => panic!("{text}: expected an error, got {after:?}"),
        Err(e) => e,
    }
}

#[test]
fn set_writes_top_level_and_nested_attributes() {
    let before = item(&[("a", map(&[("b", n("3")), ("c", n("4"))])), ("d", n("5"))]);
    assert_eq!(
        ok(
            &before,
            "SET a.c = :v, a.d = :w, e = :v",
            &[(":v", n("7")), (":w", s("x"))]
        ),
        item(&[
            ("a", map(&[("b", n("3")), ("c", n("7")), ("d", s("x"))])),
            ("d", n("5")),
            ("e", n("7")),
        ])
    );
    // A whole nested document is replaced, by a value of any type.
    assert_eq!(
        ok(&before, "SET a = :v", &[(":v", s("hi"))]),
        item(&[("a", s("hi")), ("d", n("5"))])
    );
    // Deep paths with placeholders, on both sides.
    let deep = item(&[(
        "a",
        map(&[(
            "c",
            list(&[
                s("hi"),
                map(&[("x", map(&[("y", list(&[n("3"), n("5"), n("7")]))]))]),
            ]),
        )]),
    )]);
    let after = apply_with(
        Some(&deep),
        "SET a.c[1].#name.y[1] = :v, z = a.c[1].#name.y[2]",
        &names(&[("#name", "x")]),
        &values(&[(":v", n("9"))]),
    )
    .unwrap();
    assert_eq!(
        after.path("a.c[1].x.y"),
        Some(&list(&[n("3"), n("9"), n("7")]))
    );
    assert_eq!(after.get("z"), Some(&n("7")));
}

#[test]
fn a_name_placeholder_stands_for_one_name_dots_included() {
    let after = apply_with(
        None,
        "SET #a = :v",
        &names(&[("#a", "a.b")]),
        &values(&[(":v", n("3"))]),
    )
    .unwrap();
    assert_eq!(after, item(&[("a.b", n("3"))]));
}

#[test]
fn set_past_the_end_of_a_list_appends_in_index_order() {
    let before = item(&[("a", list(&[s("one"), s("two"), s("three")]))]);
    let after = ok(&before, "SET a[7] = :v", &[(":v", s("hello"))]);
    assert_eq!(
        after.get("a"),
        Some(&list(&[s("one"), s("two"), s("three"), s("hello")]))
    );
    let after = ok(
        &after,
        "SET a[84] = :a1, a[37] = :a2, a[17] = :a3, a[50] = :a4, a[1] = :a5",
        &[
            (":a1", s("a1")),
            (":a2", s("a2")),
            (":a3", s("a3")),
            (":a4", s("a4")),
            (":a5", s("2")),
        ],
    );
    assert_eq!(
        after.get("a"),
        Some(&list(&[
            s("one"),
            s("2"),
            s("three"),
            s("hello"),
            s("a3"),
            s("a2"),
            s("a4"),
            s("a1")
        ]))
    );
}

#[test]
fn a_path_through_a_missing_or_wrong_typed_attribute_is_invalid() {
    let before = item(&[("a", s("hello")), ("b", list(&[s("hi")])), ("m", map(&[]))]);
    for text in [
        "SET a.c = :v",
        "SET b.c = :v",
        "SET c.c = :v",
        "SET a[0] = :v",
        "SET m[0] = :v",
        "SET c[0] = :v",
        "SET b[3].x = :v",
        "SET m.x.y = :v",
        "REMOVE a.c",
        "REMOVE b.c",
        "REMOVE c.c",
        "REMOVE a[0]",
        "REMOVE c[0]",
        "ADD c.d :v",
        "DELETE c.d :s",
    ] {
        let vals: &[(&str, Value)] = if text.starts_with("DELETE") {
            &[(":s", ss(&["x"]))]
        } else if text.starts_with("REMOVE") {
            &[]
        } else {
            &[(":v", n("7"))]
        };
        assert_eq!(err(Some(&before), text, vals), INVALID_PATH, "{text}");
    }
    // Same when the item does not exist...
    assert_eq!(err(None, "SET c.c = :v", &[(":v", n("7"))]), INVALID_PATH);
    assert_eq!(err(None, "SET b[0] = :v", &[(":v", n("7"))]), INVALID_PATH);
    // ...REMOVE below anything included (as DynamoDB Local answers); a top-level REMOVE
    // of a missing item removes nothing and creates it.
    assert_eq!(err(None, "REMOVE x.y", &[]), INVALID_PATH);
    assert_eq!(err(None, "REMOVE z[0]", &[]), INVALID_PATH);
    assert_eq!(apply(None, "REMOVE x", &[]).unwrap(), key());
}

#[test]
fn every_operand_reads_the_item_before_the_update() {
    let before = item(&[("a", s("hello"))]);
    assert_eq!(
        ok(&before, "SET a = :v, b = a", &[(":v", s("new"))]),
        item(&[("a", s("new")), ("b", s("hello"))])
    );
    assert_eq!(
        ok(&before, "REMOVE a SET b = a", &[]),
        item(&[("b", s("hello"))])
    );
    assert_eq!(
        ok(&before, "SET c = a REMOVE a", &[]),
        item(&[("c", s("hello"))])
    );
    // `x` is not there before the update, so `y = x` has nothing to read.
    assert_eq!(
        err(Some(&before), "SET x = :v, y = x", &[(":v", n("4"))]),
        MISSING
    );
    assert_eq!(err(Some(&before), "SET c = z", &[]), MISSING);
    assert_eq!(err(None, "SET c = z", &[]), MISSING);
    assert_eq!(ok(&before, "SET a = a", &[]), before);
    // The key attributes can be read, also of an item that does not exist yet.
    assert_eq!(
        apply(None, "SET dup = pk", &[]).unwrap(),
        item(&[("dup", s("k"))])
    );
}

#[test]
fn plus_and_minus_are_exact_on_numbers_only() {
    let before = item(&[("a", n("2")), ("s", s("x"))]);
    assert_eq!(
        ok(&before, "SET a = a + :v", &[(":v", n("3"))]).get("a"),
        Some(&n("5"))
    );
    assert_eq!(
        ok(&before, "SET b = :v - a", &[(":v", n("7"))]).get("b"),
        Some(&n("5"))
    );
    assert_eq!(ok(&before, "SET b = a + a", &[]).get("b"), Some(&n("4")));
    let big = [(":one", n("1")), (":big", n("10000000000000000000000"))];
    assert_eq!(
        ok(&before, "SET b = :one + :big", &big).get("b"),
        Some(&n("10000000000000000000001"))
    );
    assert_eq!(
        ok(&before, "SET b = :big - :one", &big).get("b"),
        Some(&n("9999999999999999999999"))
    );
    assert_eq!(
        ok(
            &before,
            "SET b = :x + :y",
            &[(":x", n("0.1")), (":y", n("0.2"))]
        )
        .get("b"),
        Some(&n("0.3"))
    );
    assert_eq!(
        ok(
            &before,
            "SET b = :x - :y",
            &[(":x", n("1.5E3")), (":y", n("1500.00"))]
        )
        .get("b"),
        Some(&n("0"))
    );
    // Results DynamoDB cannot store.
    for (x, y) in [("9e125", "9e125"), ("1e50", "1")] {
        assert_eq!(
            err(
                Some(&before),
                "SET b = :x + :y",
                &[(":x", n(x)), (":y", n(y))]
            ),
            OVERFLOW
        );
    }
    assert_eq!(
        err(
            Some(&before),
            "SET b = :x - :y",
            &[(":x", n("9e125")), (":y", n("-9e125"))]
        ),
        OVERFLOW
    );
    // Operands of another type.
    assert_eq!(
        err(Some(&before), "SET b = :x + :y", &[(":x", s("dog")), (":y", n("3"))]),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"
    );
    assert_eq!(
        err(Some(&before), "SET b = :x - :y", &[(":x", n("1")), (":y", list(&[]))]),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: -, operand type: L"
    );
    assert_eq!(
        err(Some(&before), "SET b = s + :y", &[(":y", n("3"))]),
        WRONG_TYPE
    );
    // A wrong type is reported before a missing operand.
    assert_eq!(err(Some(&before), "SET b = gone + s", &[]), WRONG_TYPE);
    assert_eq!(err(Some(&before), "SET b = gone + a", &[]), MISSING);
    // if_not_exists gives the starting value of a counter.
    let counter = "SET c = if_not_exists(c, :zero) + :one";
    let vals = [(":zero", n("0")), (":one", n("1"))];
    let once = ok(&before, counter, &vals);
    assert_eq!(once.get("c"), Some(&n("1")));
    assert_eq!(ok(&once, counter, &vals).get("c"), Some(&n("2")));
}

#[test]
fn numbers_written_are_canonical() {
    let after = apply(
        None,
        "SET a = :a, b = :b, c = :c ADD d :d",
        &[
            (":a", n("1.50")),
            (":b", list(&[n("1e3"), map(&[("x", n("-0"))])])),
            (":c", ns(&["1.0", "2E1"])),
            (":d", n("+007")),
        ],
    )
    .unwrap();
    assert_eq!(
        after,
        item(&[
            ("a", n("1.5")),
            ("b", list(&[n("1000"), map(&[("x", n("0"))])])),
            ("c", ns(&["1", "20"])),
            ("d", n("7")),
        ])
    );
}

#[test]
fn if_not_exists_reads_the_path_or_falls_back() {
    let before = item(&[("a", n("2"))]);
    let vals = [(":v", n("9"))];
    assert_eq!(
        ok(&before, "SET a = if_not_exists(a, :v)", &vals).get("a"),
        Some(&n("2"))
    );
    assert_eq!(
        ok(&before, "SET b = if_not_exists(c, :v)", &vals).get("b"),
        Some(&n("9"))
    );
    assert_eq!(
        ok(&before, "SET b = if_not_exists(a, :v)", &vals).get("b"),
        Some(&n("2"))
    );
    assert_eq!(
        ok(
            &before,
            "SET b = if_not_exists(x, if_not_exists(a, :v))",
            &vals
        )
        .get("b"),
        Some(&n("2"))
    );
    // A path below something that is not a map is missing too.
    assert_eq!(
        ok(&before, "SET b = if_not_exists(a.x, :v)", &vals).get("b"),
        Some(&n("9"))
    );
    // The default is evaluated only when needed: a missing path there fails then.
    assert_eq!(
        ok(&before, "SET b = if_not_exists(a, z)", &[]).get("b"),
        Some(&n("2"))
    );
    assert_eq!(
        err(Some(&before), "SET b = if_not_exists(c, z)", &[]),
        MISSING
    );
    assert_eq!(
        err(Some(&before), "SET b = if_not_exists(a, a)", &[]),
        "Invalid UpdateExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: if_not_exists, first operand: [a]"
    );
}

#[test]
fn list_append_concatenates_two_lists() {
    let before = item(&[("a", list(&[s("hi"), n("2")])), ("b", n("7"))]);
    let vals = [(":v", list(&[n("4"), s("hello")]))];
    assert_eq!(
        ok(&before, "SET a = list_append(a, :v)", &vals).get("a"),
        Some(&list(&[s("hi"), n("2"), n("4"), s("hello")]))
    );
    assert_eq!(
        ok(&before, "SET a = list_append(:v, a)", &vals).get("a"),
        Some(&list(&[n("4"), s("hello"), s("hi"), n("2")]))
    );
    assert_eq!(
        ok(&before, "SET c = list_append(a, a)", &[]).get("c"),
        Some(&list(&[s("hi"), n("2"), s("hi"), n("2")]))
    );
    // The usual way to append to a list that may not exist yet.
    let text = "SET h = list_append(if_not_exists(h, :empty), :v)";
    let vals = [(":empty", list(&[])), (":v", list(&[n("1")]))];
    let once = ok(&before, text, &vals);
    assert_eq!(once.get("h"), Some(&list(&[n("1")])));
    assert_eq!(
        ok(&once, text, &vals).get("h"),
        Some(&list(&[n("1"), n("1")]))
    );
    // Not lists.
    for text in ["SET c = list_append(b, :v)", "SET c = list_append(:v, b)"] {
        assert_eq!(err(Some(&before), text, &[(":v", list(&[]))]), WRONG_TYPE);
    }
    for text in ["SET c = list_append(z, :v)", "SET c = list_append(:v, z)"] {
        assert_eq!(err(Some(&before), text, &[(":v", list(&[]))]), MISSING);
    }
    assert_eq!(
        err(Some(&before), "SET c = list_append(a, :v)", &[(":v", s("hi"))]),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S"
    );
    assert_eq!(
        err(
            Some(&before),
            "SET c = list_append(list_append(:x, :y), :z)",
            &[(":x", list(&[])), (":y", list(&[])), (":z", list(&[]))]
        ),
        "Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: list_append"
    );
}
