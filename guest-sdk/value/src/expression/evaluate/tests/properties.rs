//! Property tests: generated updates on generated items.

use proptest::prelude::*;

use super::*;

/// `value` made valid for DynamoDB, numbers canonical: `arb_value` also gives malformed
/// numbers and sets holding an element twice.
fn valid(value: Value) -> Value {
    fn distinct<T: Ord + Clone>(set: Vec<T>) -> Vec<T> {
        let mut seen = BTreeSet::new();
        set.into_iter().filter(|x| seen.insert(x.clone())).collect()
    }
    match value {
        Value::N(n) => Value::N(canonical_number(&n).unwrap_or_else(|_| "1".into())),
        Value::Ns(set) => {
            let set = distinct(
                set.iter()
                    .filter_map(|n| canonical_number(n).ok())
                    .collect(),
            );
            if set.is_empty() {
                n("1")
            } else {
                Value::Ns(set)
            }
        }
        Value::Ss(set) => Value::Ss(distinct(set)),
        Value::Bs(set) => Value::Bs(distinct(set)),
        Value::L(list) => Value::L(list.into_iter().map(valid).collect()),
        Value::M(map) => Value::M(map.into_iter().map(|(k, v)| (k, valid(v))).collect()),
        other => other,
    }
}

fn arb_valid_value() -> impl Strategy<Value = Value> {
    crate::testing::arb_value().prop_map(valid)
}

/// Valid items with key `pk = "k"`.
fn arb_valid_item() -> impl Strategy<Value = Item> {
    crate::testing::arb_item().prop_map(|item| {
        let mut item: Item = item.into_iter().map(|(k, v)| (k, valid(v))).collect();
        item.set("pk", "k");
        item
    })
}

fn arb_set() -> impl Strategy<Value = Value> {
    let elements = 1..4;
    prop_oneof![
        proptest::collection::vec(any::<String>(), elements.clone()).prop_map(Value::Ss),
        proptest::collection::vec("-?[0-9]{1,5}(\\.[0-9]{1,3})?(E-?[0-9])?", elements.clone())
            .prop_map(Value::Ns),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), elements)
            .prop_map(Value::Bs),
    ]
    .prop_map(valid)
}

/// Decimal text of up to 20 + 20 digits, with an exponent.
fn arb_decimal() -> impl Strategy<Value = String> {
    "-?[0-9]{1,20}(\\.[0-9]{1,20})?(E-?[0-9]{1,2})?"
}

/// Whether every number in `value` is spelled canonically.
fn canonical(value: &Value) -> bool {
    match value {
        Value::N(n) => canonical_number(n).as_deref() == Ok(n.as_str()),
        Value::Ns(set) => set
            .iter()
            .all(|n| canonical_number(n).as_deref() == Ok(n.as_str())),
        Value::L(list) => list.iter().all(canonical),
        Value::M(map) => map.values().all(canonical),
        _ => true,
    }
}

/// Actions on the paths of [`arb_small_item`], as (clause, text): `:v` is any value, `:k`
/// a number, `:l` a list, `:w` a number or a set, `:s` a set.
fn arb_action() -> impl Strategy<Value = (usize, String)> {
    let path = prop_oneof![
        Just("a"),
        Just("b"),
        Just("a.b"),
        Just("a[0]"),
        Just("l[1]"),
        Just("l[5]"),
        Just("l[0]"),
        Just("m.x"),
        Just("m.x.y"),
        Just("l[0].x"),
        Just("#n"),
        Just("#n.b"),
    ];
    (0..8usize, path.clone(), path).prop_map(|(kind, p, q)| match kind {
        0 => (0, format!("{p} = :v")),
        1 => (0, format!("{p} = {q}")),
        2 => (0, format!("{p} = {q} + :k")),
        3 => (0, format!("{p} = list_append({q}, :l)")),
        4 => (0, format!("{p} = if_not_exists({q}, :v)")),
        5 => (1, p.to_owned()),
        6 => (2, format!("{p} :w")),
        _ => (3, format!("{p} :s")),
    })
}

fn expression_text(actions: &[(usize, String)]) -> String {
    ["SET", "REMOVE", "ADD", "DELETE"]
        .iter()
        .enumerate()
        .filter_map(|(kind, keyword)| {
            let mine: Vec<&str> = actions
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, text)| text.as_str())
                .collect();
            (!mine.is_empty()).then(|| format!("{keyword} {}", mine.join(", ")))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Items whose attributes `a`, `b`, `l`, `m` and `n` the small expressions reach, mostly
/// shaped as their paths need, or no item.
fn arb_small_item() -> impl Strategy<Value = Option<Item>> {
    let number = || (-1000i64..1000).prop_map(Value::from);
    let scalar = || prop_oneof![number(), arb_valid_value()];
    let with = |name: &'static str, inner: BoxedStrategy<Value>| {
        proptest::collection::btree_map(Just(name.to_owned()), inner, 0..2)
            .prop_map(|m| Value::M(m.into()))
    };
    let a = prop_oneof![3 => with("b", scalar().boxed()), 1 => scalar()];
    let l = prop_oneof![
        3 => proptest::collection::vec(prop_oneof![with("x", scalar().boxed()), scalar()], 0..4)
            .prop_map(Value::L),
        1 => scalar(),
    ];
    let m = prop_oneof![
        3 => with("x", with("y", scalar().boxed()).boxed()),
        1 => scalar(),
    ];
    let n = prop_oneof![
        number(),
        arb_set(),
        with("b", scalar().boxed()),
        arb_valid_value()
    ];
    let attributes = (
        proptest::option::weighted(0.8, a),
        proptest::option::weighted(0.5, scalar()),
        proptest::option::weighted(0.8, l),
        proptest::option::weighted(0.8, m),
        proptest::option::weighted(0.7, n),
    );
    proptest::option::weighted(
        0.9,
        attributes.prop_map(|(a, b, l, m, n)| {
            let mut item = key();
            for (name, value) in [("a", a), ("b", b), ("l", l), ("m", m), ("n", n)] {
                if let Some(value) = value {
                    item.set(name, value);
                }
            }
            item
        }),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decimal_arithmetic_agrees_with_integers(
        a in -(10i128.pow(37))..10i128.pow(37),
        b in -(10i128.pow(37))..10i128.pow(37),
    ) {
        prop_assert_eq!(add_numbers(&a.to_string(), &b.to_string()), Ok((a + b).to_string()));
        prop_assert_eq!(subtract_numbers(&a.to_string(), &b.to_string()), Ok((a - b).to_string()));
    }

    #[test]
    fn decimal_addition_commutes_and_associates_where_exact(
        a in arb_decimal(),
        b in arb_decimal(),
        c in arb_decimal(),
    ) {
        let ab = add_numbers(&a, &b);
        prop_assert_eq!(&ab, &add_numbers(&b, &a));
        let bc = add_numbers(&b, &c);
        if let (Ok(ab), Ok(bc)) = (&ab, &bc) {
            if let (Ok(left), Ok(right)) = (add_numbers(ab, &c), add_numbers(&a, bc)) {
                prop_assert_eq!(left, right);
            }
        }
        // a - b = -(b - a), a + 0 = a, a - a = 0.
        let ba = subtract_numbers(&b, &a);
        prop_assert_eq!(
            subtract_numbers(&a, &b),
            ba.and_then(|ba| subtract_numbers("0", &ba))
        );
        prop_assert_eq!(add_numbers(&a, "0"), canonical_number(&a));
        prop_assert_eq!(Decimal::parse(&a).map(|d| d.to_text()), canonical_number(&a));
        if canonical_number(&a).is_ok() {
            prop_assert_eq!(subtract_numbers(&a, &a), Ok("0".to_owned()));
        }
    }

    #[test]
    fn set_writes_exactly_the_value(before in arb_valid_item(), value in arb_valid_value()) {
        let after = apply(Some(&before), "SET a = :v", &[(":v", value.clone())]);
        if value.size() + before.size() < limits::MAX_ITEM_BYTES / 2 {
            let mut after = after.unwrap();
            prop_assert_eq!(after.remove("a"), Some(value));
            let mut rest = before.clone();
            rest.remove("a");
            prop_assert_eq!(after, rest);
        }
    }

    #[test]
    fn set_then_remove_of_a_fresh_attribute_is_the_identity(
        before in arb_valid_item(),
        value in arb_valid_value(),
    ) {
        let mut before = before;
        before.remove("fresh");
        let set = apply(Some(&before), "SET fresh = :v", &[(":v", value)]).unwrap();
        prop_assert_eq!(apply(Some(&set), "REMOVE fresh", &[]), Ok(before));
    }

    #[test]
    fn add_then_delete_of_a_set_leaves_no_attribute(
        before in proptest::option::of(arb_valid_item()),
        set in arb_set(),
    ) {
        let mut before = before;
        if let Some(item) = &mut before {
            item.remove("s");
        }
        let added = apply(before.as_ref(), "ADD s :v", &[(":v", set.clone())]).unwrap();
        prop_assert_eq!(added.get("s"), Some(&set));
        let deleted = apply(Some(&added), "DELETE s :v", &[(":v", set)]).unwrap();
        prop_assert_eq!(deleted, before.unwrap_or_else(key));
    }

    #[test]
    fn any_update_gives_a_storable_item_or_an_error(
        before in arb_small_item(),
        actions in proptest::collection::vec(arb_action(), 1..4),
        v in arb_valid_value(),
        k in (-1000i64..1000).prop_map(Value::from),
        l in proptest::collection::vec(arb_valid_value(), 0..3).prop_map(Value::L),
        w in prop_oneof![arb_set(), (-1000i64..1000).prop_map(Value::from)],
        set in arb_set(),
    ) {
        let text = expression_text(&actions);
        let expression = parse(&text);
        let names = names(&[("#n", "n")]);
        let values = values(&[(":v", v), (":k", k), (":l", l), (":w", w), (":s", set)]);
        let result = expression.apply_allowing_unused(before.as_ref(), &key(), &names, &values);
        if let Ok(after) = &result {
            prop_assert_eq!(limits::check_item(after), Ok(()), "{}", text);
            prop_assert_eq!(after.get("pk"), Some(&s("k")));
            prop_assert!(after.values().all(canonical), "{}", text);
        }
        // Every action reads the item before the update: their order does not matter.
        let mut reversed = actions.clone();
        reversed.reverse();
        let other = parse(&expression_text(&reversed))
            .apply_allowing_unused(before.as_ref(), &key(), &names, &values);
        prop_assert_eq!(result.ok(), other.ok(), "{}", text);
    }
}
