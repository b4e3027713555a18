//! The condition evaluator against what DynamoDB Local answered for the same item, condition
//! and values (a conditional UpdateItem: written, ConditionalCheckFailed or a
//! ValidationException).

use std::collections::BTreeMap;

use super::ConditionExpression;
use crate::{Item, Value};

fn n(text: &str) -> Value {
    Value::N(text.into())
}

fn s(text: &str) -> Value {
    Value::S(text.into())
}

/// The item the answers were recorded on.
fn item() -> Item {
    Item::new()
        .with("pk", "a")
        .with("s", "héllo")
        .with("e", "🦀a")
        .with("n", n("10"))
        .with("b", Value::B(vec![1, 2]))
        .with("ss", Value::Ss(vec!["x".into(), "y".into()]))
        .with("ns", Value::Ns(vec!["1".into(), "2".into()]))
        .with("l", Value::L(vec![s("x"), n("1")]))
        .with("m", Value::M(Item::new().with("k", "v")))
        .with("t", Value::Bool(true))
        .with("z", Value::Null)
}

/// `Ok(true)`: written, `Ok(false)`: the condition failed, `Err(part)`: an error containing
/// `part`.
fn answer(condition: &str, values: &[(&str, Value)]) -> Result<bool, String> {
    let values: Item = values
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let names = BTreeMap::from([("#n".to_owned(), "n".to_owned())]);
    ConditionExpression::parse(condition)?.holds(Some(&item()), &names, &values)
}

/// A condition, its values, and what DynamoDB Local answered.
type Case<T> = (&'static str, Vec<(&'static str, Value)>, T);

#[test]
fn conditions_hold_where_dynamodb_local_wrote_the_item() {
    let cases: Vec<Case<bool>> = vec![
        ("n <> :v", vec![(":v", s("x"))], true),
        ("n < :v", vec![(":v", s("x"))], false),
        ("n < :v", vec![(":v", n("11"))], true),
        ("#n < :v", vec![(":v", n("11"))], true),
        (
            "ss = :v",
            vec![(":v", Value::Ss(vec!["y".into(), "x".into()]))],
            true,
        ),
        ("size(s) = :v", vec![(":v", n("6"))], false),
        ("size(s) = :v", vec![(":v", n("5"))], true),
        ("size(e) = :v", vec![(":v", n("3"))], true),
        ("size(n) = :v", vec![(":v", n("2"))], false),
        ("size(t) = :v", vec![(":v", n("1"))], false),
        ("size(z) = :v", vec![(":v", n("1"))], false),
        ("size(l) = :v", vec![(":v", n("2"))], true),
        ("size(m) = :v", vec![(":v", n("1"))], true),
        ("size(b) = :v", vec![(":v", n("2"))], true),
        ("size(ss) = :v", vec![(":v", n("2"))], true),
        ("size(:v) = :w", vec![(":v", s("ab")), (":w", n("2"))], true),
        ("attribute_type(s, :v)", vec![(":v", s("S"))], true),
        ("attribute_type(nope, :v)", vec![(":v", s("S"))], false),
        ("begins_with(s, :v)", vec![(":v", s("hé"))], true),
        ("begins_with(n, :v)", vec![(":v", s("1"))], false),
        ("begins_with(b, :v)", vec![(":v", Value::B(vec![1]))], true),
        ("begins_with(:v, s)", vec![(":v", s("1"))], false),
        ("contains(s, :v)", vec![(":v", s("ll"))], true),
        ("contains(s, :v)", vec![(":v", n("1"))], false),
        ("contains(:v, s)", vec![(":v", s("1"))], false),
        ("contains(ss, :v)", vec![(":v", s("x"))], true),
        ("contains(ns, :v)", vec![(":v", n("1.0"))], true),
        ("contains(l, :v)", vec![(":v", n("1"))], true),
        ("contains(l, :v)", vec![(":v", s("x"))], true),
        ("contains(m, :v)", vec![(":v", s("k"))], false),
        (
            "contains(ss, :v)",
            vec![(":v", Value::Ss(vec!["x".into()]))],
            false,
        ),
        ("contains(b, :v)", vec![(":v", Value::B(vec![2]))], true),
        ("contains(nope, :v)", vec![(":v", s("S"))], false),
        (
            "n BETWEEN :a AND :b",
            vec![(":a", n("1")), (":b", n("20"))],
            true,
        ),
        ("n between :v and :v", vec![(":v", n("10"))], true),
        ("nope BETWEEN :v AND :v", vec![(":v", s("S"))], false),
        ("NOT (nope BETWEEN :v AND :v)", vec![(":v", s("S"))], true),
        (
            "n IN (:a, :b)",
            vec![(":a", n("1")), (":b", n("10.0"))],
            true,
        ),
        ("n in (:v)", vec![(":v", n("10"))], true),
        ("s IN (:a)", vec![(":a", s("x"))], false),
        ("n IN (:a)", vec![(":a", Value::L(vec![]))], false),
        ("nope IN (:v)", vec![(":v", s("S"))], false),
        ("NOT nope IN (:v)", vec![(":v", s("S"))], true),
        (":a = :a", vec![(":a", s("x"))], true),
        ("nope <> :v", vec![(":v", s("x"))], true),
        ("NOT nope = :v", vec![(":v", s("x"))], true),
        ("size(nope) <> :v", vec![(":v", n("1"))], true),
        (
            "attribute_exists(m.k) AND NOT attribute_exists(l[5])",
            vec![],
            true,
        ),
        (
            "attribute_exists(pk) OR n < :v AND n > :v",
            vec![(":v", n("1"))],
            true,
        ),
        (
            "(attribute_exists(pk) OR n < :v) AND n > :v",
            vec![(":v", n("10"))],
            false,
        ),
        ("n <= :v", vec![(":v", n("1E1"))], true),
        ("n <> :v", vec![(":v", n("10.00"))], false),
        ("n >= :v", vec![(":v", n("10.5"))], false),
        ("n > :v", vec![(":v", n("-3E2"))], true),
        ("s > :v", vec![(":v", s("h"))], true),
        ("e > :v", vec![(":v", s("\u{ffff}"))], true),
        ("b > :v", vec![(":v", Value::B(vec![1]))], true),
        ("t = :v", vec![(":v", Value::Bool(true))], true),
        ("z = :v", vec![(":v", Value::Null)], true),
        (
            "l = :v",
            vec![(":v", Value::L(vec![s("x"), n("1.0")]))],
            true,
        ),
        (
            "m = :v",
            vec![(":v", Value::M(Item::new().with("k", "v")))],
            true,
        ),
        ("size(s) > size(b)", vec![], true),
        ("n = :v", vec![(":v", Value::L(vec![]))], false),
        ("n < size(s)", vec![], false),
        ("(n = :a)", vec![(":a", n("10"))], true),
        ("((n = :a) AND (n = :a))", vec![(":a", n("10"))], true),
        ("(NOT (n <> :a))", vec![(":a", n("10"))], true),
        ("n =:a", vec![(":a", n("10"))], true),
        ("not n = :v", vec![(":v", n("10"))], false),
        ("NOT NOT n = :v", vec![(":v", n("10"))], true),
        ("n = :v AND n = :v OR n = :v", vec![(":v", n("10"))], true),
        ("l[0] = :v", vec![(":v", s("x"))], true),
        ("m.k = :v", vec![(":v", s("v"))], true),
    ];
    for (condition, values, holds) in cases {
        assert_eq!(
            answer(condition, &values),
            Ok(holds),
            "{condition} with {values:?}"
        );
    }
}

#[test]
fn conditions_fail_where_dynamodb_local_refused_the_request() {
    let cases: Vec<Case<&str>> = vec![
        (
            "missing <> :v",
            vec![(":v", s("x"))],
            "reserved keyword: missing",
        ),
        (
            "size(missing) = :v",
            vec![(":v", n("1"))],
            "reserved keyword: missing",
        ),
        (
            "n < :v",
            vec![(":v", Value::L(vec![]))],
            "operator or function: <, operand type: L",
        ),
        (
            "n < :v",
            vec![(":v", Value::Bool(true))],
            "operand type: BOOL",
        ),
        (
            "attribute_type(s, :v)",
            vec![(":v", s("X"))],
            "Invalid attribute type name found; type: X",
        ),
        (
            "attribute_type(s, :v)",
            vec![(":v", n("1"))],
            "function: attribute_type, operand type: N",
        ),
        (
            "begins_with(s, :v)",
            vec![(":v", n("1"))],
            "function: begins_with, operand type: N",
        ),
        (
            "n BETWEEN :a AND :b",
            vec![(":a", n("20")), (":b", n("1"))],
            "upper bound to be greater",
        ),
        (
            "n BETWEEN :a AND :b",
            vec![(":a", s("1")), (":b", n("20"))],
            "same data type",
        ),
        ("n = n", vec![], "must be distinct"),
        ("contains(s, s)", vec![], "must be distinct"),
        ("begins_with(s, s)", vec![], "must be distinct"),
        (
            "ATTRIBUTE_EXISTS(n)",
            vec![],
            "unknown function `ATTRIBUTE_EXISTS`",
        ),
        (
            "attribute_exists(n) = :v",
            vec![(":v", n("10"))],
            "expected AND, OR or the end",
        ),
        (
            "n",
            vec![],
            "expected a comparator, BETWEEN or IN, found the end",
        ),
        (
            "attribute_exists(:v)",
            vec![(":v", n("10"))],
            "attribute_exists takes a document path",
        ),
        ("n < = :a", vec![(":a", n("10"))], "expected a path"),
        ("n = :undefined", vec![], "attribute value: :undefined"),
        (
            "#undefined = :v",
            vec![(":v", n("1"))],
            "attribute name: #undefined",
        ),
        ("", vec![], "it is empty"),
        ("n = :v AND", vec![(":v", n("1"))], "found the end"),
        ("(n = :v", vec![(":v", n("1"))], "expected `)`"),
        ("((n = :v))", vec![(":v", n("1"))], "redundant parentheses"),
        (
            "n = :v AND (NOT ((n = :v)))",
            vec![(":v", n("1"))],
            "redundant parentheses",
        ),
    ];
    for (condition, values, part) in cases {
        match answer(condition, &values) {
            Err(message) => assert!(
                message.contains(part),
                "{condition}: `{message}` lacks `{part}`"
            ),
            Ok(holds) => panic!("{condition} with {values:?}: {holds}, not an error"),
        }
    }
}

#[test]
fn without_an_item_only_absence_and_inequality_hold() {
    let values = Item::new().with(":v", "x");
    let names = BTreeMap::new();
    for (condition, holds) in [
        ("attribute_not_exists(pk)", true),
        ("attribute_exists(pk)", false),
        ("pk <> :v", true),
        ("pk = :v", false),
        ("NOT contains(pk, :v)", true),
    ] {
        let parsed = ConditionExpression::parse(condition).unwrap();
        assert_eq!(
            parsed.holds(None, &names, &values),
            Ok(holds),
            "{condition}"
        );
    }
}

#[test]
fn placeholders_are_those_written_anywhere_in_the_condition() {
    let parsed = ConditionExpression::parse(
        "attribute_exists(#a.#b[1]) AND (size(#c) > :one OR #d IN (:x, :y)) AND attribute_type(#e, :t)",
    )
    .unwrap();
    let used = parsed.placeholders();
    assert_eq!(
        used.names.into_iter().collect::<Vec<_>>(),
        ["#a", "#b", "#c", "#d", "#e"]
    );
    assert_eq!(
        used.values.into_iter().collect::<Vec<_>>(),
        [":one", ":t", ":x", ":y"]
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowing_the_stack() {
    let deep = format!("{}n = :v{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(ConditionExpression::parse(&deep).is_err());
    let nots = format!("{}n = :v", "NOT ".repeat(10_000));
    assert!(ConditionExpression::parse(&nots).is_err());
}
