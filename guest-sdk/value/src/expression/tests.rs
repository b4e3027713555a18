use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::{Item, Value};

fn parse(text: &str) -> UpdateExpression {
    UpdateExpression::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn name(text: &str) -> Element {
    match text.strip_prefix('#') {
        Some(_) => Element::NamePlaceholder(text.into()),
        None => Element::Name(text.into()),
    }
}

fn path(names: &[&str]) -> DocumentPath {
    DocumentPath(names.iter().map(|n| name(n)).collect())
}

#[test]
fn only_updates_that_leave_the_same_item_twice_are_repeatable() {
    for expression in [
        "SET a = :a, #add = :add REMOVE b",
        "SET #d0 = :d0, #d1 = :d1 REMOVE #d2",
        "SET a = if_not_exists(a, :zero)",
        "set m.x = IF_NOT_EXISTS( m.x , :z ), b=:b",
        "REMOVE a, b SET c = :c DELETE tags :old",
        "DELETE a[0] :old",
    ] {
        assert!(is_repeatable(expression), "{expression}");
    }
    for expression in [
        "ADD visits :one",
        "SET n = n + :one",
        "SET n = :a - :b",
        "set h = LIST_APPEND(h, :x)",
        "SET a = :a add c :one",
        "SET full_name = #name REMOVE #name",
        "SET b = if_not_exists(a, :z)",
        "SET a = :a, b = list_append(:x, :y)",
        "garbage",
        // A list index shifts or appends: `REMOVE l[0]` twice removes two elements, and
        // `SET l[9] = :v` past the end appends each time.
        "REMOVE l[0]",
        "SET l[9] = :v",
        "set m.x[2] = IF_NOT_EXISTS( m.x[2] , :z ), b=:b",
        // Beyond the text-based analysis this replaces:
        "SET a = if_not_exists(a, b)",
        "SET a = :a SET b = :b",
        "SET a = :a,",
        "",
    ] {
        assert!(!is_repeatable(expression), "{expression}");
    }
}

#[test]
fn parses_every_kind_of_action() {
    let expression = parse(
        "remove a[1], #b  set c.#d[0][2] = if_not_exists(c.#d[0][2], :z), e = list_append(list_append(e, :x), :y), f = g - :one ADD n :one delete tags :old",
    );
    assert_eq!(
        expression.clauses,
        vec![
            Clause::Remove(vec![
                DocumentPath(vec![name("a"), Element::Index(1)]),
                path(&["#b"]),
            ]),
            Clause::Set(vec![
                SetAction {
                    path: DocumentPath(vec![
                        name("c"),
                        name("#d"),
                        Element::Index(0),
                        Element::Index(2)
                    ]),
                    value: Operand::Term(Term::IfNotExists(
                        DocumentPath(vec![
                            name("c"),
                            name("#d"),
                            Element::Index(0),
                            Element::Index(2)
                        ]),
                        Box::new(Term::Value(":z".into())),
                    )),
                },
                SetAction {
                    path: path(&["e"]),
                    value: Operand::Term(Term::ListAppend(
                        Box::new(Term::ListAppend(
                            Box::new(Term::Path(path(&["e"]))),
                            Box::new(Term::Value(":x".into())),
                        )),
                        Box::new(Term::Value(":y".into())),
                    )),
                },
                SetAction {
                    path: path(&["f"]),
                    value: Operand::Minus(Term::Path(path(&["g"])), Term::Value(":one".into())),
                },
            ]),
            Clause::Add(vec![AddOrDelete {
                path: path(&["n"]),
                value: ":one".into(),
            }]),
            Clause::Delete(vec![AddOrDelete {
                path: path(&["tags"]),
                value: ":old".into(),
            }]),
        ]
    );
    assert_eq!(
        expression.to_string(),
        "REMOVE a[1], #b SET c.#d[0][2] = if_not_exists(c.#d[0][2], :z), e = list_append(list_append(e, :x), :y), f = g - :one ADD n :one DELETE tags :old"
    );
}

#[test]
fn errors_say_what_was_expected_where() {
    for (text, expected) in [
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
    ] {
        assert_eq!(UpdateExpression::parse(text).unwrap_err(), expected, "{text}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let text = format!(
        "SET a = {}:x{}",
        "list_append(".repeat(depth),
        ", :y)".repeat(depth)
    );
    assert_eq!(
        UpdateExpression::parse(&text).unwrap_err(),
        "invalid update expression: functions nested deeper than 32 levels"
    );
    let text = format!(
        "SET a = {}:x{}",
        "list_append(".repeat(32),
        ", :y)".repeat(32)
    );
    assert!(UpdateExpression::parse(&text).is_ok());
}

#[test]
fn resolve_spells_out_placeholders() {
    let names: BTreeMap<String, String> =
        [("#a", "email_lower"), ("#b", "first name"), ("#c", "tags")]
            .into_iter()
            .map(|(p, n)| (p.to_owned(), n.to_owned()))
            .collect();
    let values: Item = [
        (":a", Value::from("ada@example.com")),
        (":b", Value::from(2)),
        (":c", Value::Ss(vec!["old".into()])),
    ]
    .into_iter()
    .collect();
    let expression =
        parse("SET #a = :a, version = if_not_exists(version, :b) REMOVE #b DELETE #c :c");
    assert_eq!(
        expression.resolve(&names, &values).unwrap(),
        r#"SET email_lower = "ada@example.com", version = if_not_exists(version, 2) REMOVE `first name` DELETE tags {"SS": ["old"]}"#
    );
    assert_eq!(
        parse("SET #x = :a").resolve(&names, &values).unwrap_err(),
        "undefined name placeholder `#x`"
    );
    assert_eq!(
        parse("ADD #a :x").resolve(&names, &values).unwrap_err(),
        "undefined value placeholder `:x`"
    );
}

fn build(
    steps: impl FnOnce(&mut UpdateBuilder, &mut ExpressionAttributes),
) -> (Result<String, String>, ExpressionAttributes) {
    let mut builder = UpdateBuilder::new();
    let mut attributes = ExpressionAttributes::default();
    steps(&mut builder, &mut attributes);
    (builder.build().map(|e| e.to_string()), attributes)
}

#[test]
fn the_builder_generates_numbered_placeholders() {
    let (text, attributes) = build(|b, a| {
        b.set(a, "email_lower", "a@b.c".into())
            .set(a, "address.city", "Oslo".into())
            .remove(a, "name")
            .add(a, "visits", 1.into())
            .delete(a, "tags", Value::Ss(vec!["old".into()]));
    });
    assert_eq!(
        text.unwrap(),
        "SET #drift0 = :drift0, #drift1.#drift2 = :drift1 REMOVE #drift3 ADD #drift4 :drift2 DELETE #drift5 :drift3"
    );
    assert_eq!(attributes.names["#drift1"], "address");
    assert_eq!(attributes.names["#drift2"], "city");
    assert_eq!(attributes.values[":drift1"], Value::from("Oslo"));
}

#[test]
fn the_builder_orders_clauses_and_shares_name_placeholders() {
    let (text, attributes) = build(|b, a| {
        b.remove(a, "x")
            .set(a, "a.b", 1.into())
            .set(a, "a.c[3]", 2.into())
            .remove(a, "a");
    });
    assert_eq!(
        text.unwrap(),
        "SET #drift1.#drift2 = :drift0, #drift1.#drift3[3] = :drift1 REMOVE #drift0, #drift1"
    );
    assert_eq!(attributes.names.len(), 4);
}

#[test]
fn the_builder_numbers_after_placeholders_defined_elsewhere() {
    let (text, attributes) = build(|b, a| {
        a.names.insert("#e".into(), "email".into());
        a.values.insert(":v".into(), Value::Null);
        b.set(a, "email", 1.into());
    });
    // `email` already has a placeholder, but not a generated one: it gets its own.
    assert_eq!(text.unwrap(), "SET #drift1 = :drift1");
    assert_eq!(attributes.names["#drift1"], "email");
}

#[test]
fn the_builder_reports_the_first_bad_path() {
    let (text, attributes) = build(|b, a| {
        b.set(a, "a..b", 1.into())
            .remove(a, "[0]")
            .set(a, "ok", 2.into());
    });
    assert_eq!(
        text.unwrap_err(),
        "invalid document path `a..b`: empty name"
    );
    // A bad path takes no placeholder.
    assert_eq!(attributes.values.keys().collect::<Vec<_>>(), [":drift0"]);
    let (text, _) = build(|_, _| {});
    assert_eq!(text.unwrap(), "");
}

/// Names that parse as names: not a clause keyword or function name, in any case.
fn arb_name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,6}".prop_filter("a keyword or function name", |name| {
        ![
            "set",
            "remove",
            "add",
            "delete",
            "if_not_exists",
            "list_append",
        ]
        .iter()
        .any(|reserved| name.eq_ignore_ascii_case(reserved))
    })
}

fn arb_path() -> impl Strategy<Value = DocumentPath> {
    let first = prop_oneof![
        arb_name().prop_map(Element::Name),
        "#[a-zA-Z0-9_]{1,6}".prop_map(Element::NamePlaceholder),
    ];
    let rest = prop_oneof![
        arb_name().prop_map(Element::Name),
        "#[a-zA-Z0-9_]{1,6}".prop_map(Element::NamePlaceholder),
        (0usize..1000).prop_map(Element::Index),
    ];
    (first, proptest::collection::vec(rest, 0..4))
        .prop_map(|(first, rest)| DocumentPath(std::iter::once(first).chain(rest).collect()))
}

fn arb_value_placeholder() -> impl Strategy<Value = String> {
    ":[a-zA-Z0-9_]{1,6}"
}

fn arb_term() -> impl Strategy<Value = Term> {
    let leaf = prop_oneof![
        arb_path().prop_map(Term::Path),
        arb_value_placeholder().prop_map(Term::Value),
    ];
    leaf.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (arb_path(), inner.clone()).prop_map(|(p, t)| Term::IfNotExists(p, Box::new(t))),
            (inner.clone(), inner).prop_map(|(a, b)| Term::ListAppend(Box::new(a), Box::new(b))),
        ]
    })
}

fn arb_operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        arb_term().prop_map(Operand::Term),
        (arb_term(), arb_term()).prop_map(|(a, b)| Operand::Plus(a, b)),
        (arb_term(), arb_term()).prop_map(|(a, b)| Operand::Minus(a, b)),
    ]
}

fn arb_clause(kind: usize) -> BoxedStrategy<Clause> {
    let add_or_delete = || {
        proptest::collection::vec(
            (arb_path(), arb_value_placeholder())
                .prop_map(|(path, value)| AddOrDelete { path, value }),
            1..4,
        )
    };
    match kind {
        0 => proptest::collection::vec(
            (arb_path(), arb_operand()).prop_map(|(path, value)| SetAction { path, value }),
            1..4,
        )
        .prop_map(Clause::Set)
        .boxed(),
        1 => proptest::collection::vec(arb_path(), 1..4)
            .prop_map(Clause::Remove)
            .boxed(),
        2 => add_or_delete().prop_map(Clause::Add).boxed(),
        _ => add_or_delete().prop_map(Clause::Delete).boxed(),
    }
}

/// Expressions with one to four clauses of distinct kinds, in any order.
fn arb_expression() -> impl Strategy<Value = UpdateExpression> {
    Just(vec![0usize, 1, 2, 3])
        .prop_shuffle()
        .prop_flat_map(|kinds| (1..=4usize).prop_map(move |n| kinds[..n].to_vec()))
        .prop_flat_map(|kinds| kinds.into_iter().map(arb_clause).collect::<Vec<_>>())
        .prop_map(|clauses| UpdateExpression { clauses })
}

proptest! {
    #[test]
    fn rendered_expressions_parse_back(expression in arb_expression()) {
        let text = expression.to_string();
        prop_assert_eq!(UpdateExpression::parse(&text), Ok(expression), "{}", text);
    }

    #[test]
    fn spacing_and_case_do_not_matter(expression in arb_expression()) {
        let loose: Vec<String> = expression
            .clauses
            .iter()
            .map(|clause| {
                let text = clause.to_string();
                let (keyword, rest) = text.split_at(clause.keyword().len());
                // Only function names are followed by `(`; names and keywords stay intact.
                let rest = rest
                    .replace("if_not_exists(", "IF_NOT_EXISTS(")
                    .replace("list_append(", "List_Append(")
                    .replace('(', " ( ")
                    .replace('[', " [ ")
                    .replace(", ", " ,");
                format!("{}{rest}", keyword.to_lowercase())
            })
            .collect();
        prop_assert_eq!(parse(&loose.join("   ")), expression);
    }

    #[test]
    fn any_text_parses_or_fails_without_panicking(text in "\\PC{0,40}") {
        let _ = is_repeatable(&text);
    }
}
