//! The request checks: overlapping paths, placeholders, key attributes, names, limits.

use super::*;

#[test]
fn paths_may_not_overlap_or_conflict() {
    for text in [
        "SET a = :v REMOVE a",
        "REMOVE a SET a = :v",
        "SET a = :v, a = :w",
        "SET a = :v, a.b = :w",
        "SET a.b = :v, a = :w",
        "SET a.b.c = :v, a.b = :w",
        "SET a.b = :v, a.b.c.d.e = :w",
        "SET a = :v, a[1] = :w",
        "SET a[1][1] = :v, a[1] = :w",
        "SET a[1][1][1][1] = :v, a[1][1][1][1] = :w",
        "SET a = :v ADD a :w",
        "REMOVE a.b DELETE a :w",
    ] {
        let e = err(None, text, &[(":v", n("1")), (":w", ns(&["2"]))]);
        assert!(e.starts_with("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "), "{text}: {e}");
    }
    assert_eq!(
        err(None, "SET a.b = :v, a.b.c = :w", &[(":v", n("1")), (":w", n("2"))]),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, b, c]"
    );
    assert_eq!(
        err(None, "SET a.b = :v, a[1] = :w", &[(":v", n("1")), (":w", n("2"))]),
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"
    );
    // Compared once placeholders are resolved.
    assert!(apply_with(
        None,
        "SET #a1 = :v, #a2 = :v",
        &names(&[("#a1", "a"), ("#a2", "a")]),
        &values(&[(":v", n("1"))])
    )
    .unwrap_err()
    .contains("overlap"));
    // Paths that only share a beginning do not overlap.
    let before = item(&[
        (
            "a",
            map(&[("x", n("3")), ("y", n("4")), ("c", map(&[("y", n("3"))]))]),
        ),
        ("b", map(&[("x", n("1")), ("y", n("2"))])),
    ]);
    assert_eq!(
        ok(
            &before,
            "SET a.b = :v1, a.c.d = :v2, b.x = :v3 REMOVE a.x, b.y",
            &[(":v1", n("10")), (":v2", s("dog")), (":v3", n("17"))]
        ),
        item(&[
            (
                "a",
                map(&[
                    ("y", n("4")),
                    ("b", n("10")),
                    ("c", map(&[("y", n("3")), ("d", s("dog"))]))
                ])
            ),
            ("b", map(&[("x", n("17"))])),
        ])
    );
}

#[test]
fn placeholders_must_be_defined_and_used() {
    assert_eq!(
        err(None, "SET b = :val1", &[(":val2", n("4"))]),
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :val1"
    );
    assert_eq!(
        apply_with(None, "SET #name = :v", &names(&[("#wrong", "x")]), &values(&[(":v", n("1"))])).unwrap_err(),
        "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #name"
    );
    assert_eq!(
        err(
            None,
            "SET a = :val1",
            &[(":val1", n("3")), (":val2", n("4")), (":val3", n("5"))]
        ),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:val2, :val3}"
    );
    assert_eq!(
        apply_with(
            None,
            "SET #one = #two",
            &names(&[("#one", "c"), ("#two", "pk"), ("#three", "z")]),
            &Item::new()
        )
        .unwrap_err(),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#three}"
    );
    // Used on the right side counts.
    assert_eq!(
        apply_with(
            None,
            "SET #one = #two",
            &names(&[("#one", "c"), ("#two", "pk")]),
            &Item::new()
        )
        .unwrap(),
        item(&[("c", s("k"))])
    );
    // A condition may use the others.
    let expression = parse("SET a = :v");
    let vals = values(&[(":v", n("1")), (":expected", n("0"))]);
    let both = names(&[("#unused", "x")]);
    assert!(expression.apply(None, &key(), &both, &vals).is_err());
    assert_eq!(
        expression
            .apply_allowing_unused(None, &key(), &both, &vals)
            .unwrap(),
        item(&[("a", n("1"))])
    );
    let expression = parse(
        "SET #a = list_append(#b.c, :x), d = if_not_exists(#e, :y) REMOVE #f ADD g :z DELETE #h :w",
    );
    let used = expression.placeholders();
    assert_eq!(
        used.names.into_iter().collect::<Vec<_>>(),
        ["#a", "#b", "#e", "#f", "#h"]
    );
    assert_eq!(
        used.values.into_iter().collect::<Vec<_>>(),
        [":w", ":x", ":y", ":z"]
    );
    assert_eq!(
        apply_with(
            None,
            "SET #a = :v",
            &names(&[("#a", "")]),
            &values(&[(":v", n("1"))])
        )
        .unwrap_err(),
        "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a"
    );
}

#[test]
fn key_attributes_cannot_change() {
    let key = Item::new().with("p", "x").with("c", 7);
    let before = key.clone().with("a", 1);
    for text in [
        "SET p = :v",
        "SET c = :v",
        "REMOVE p",
        "REMOVE c",
        "ADD c :v",
        "DELETE p :s",
        "SET #k = :v",
    ] {
        let result = parse(text).apply_allowing_unused(
            Some(&before),
            &key,
            &names(&[("#k", "c")]),
            &values(&[(":v", n("4")), (":s", ss(&["cat"]))]),
        );
        let expected = if text.contains('p') { "p" } else { "c" };
        assert_eq!(
            result.unwrap_err(),
            format!("One or more parameter values were invalid: Cannot update attribute {expected}. This attribute is part of the key"),
            "{text}"
        );
    }
    // Reading them is fine; a new item starts from the key.
    let after = parse("SET n = p, nn = c + c")
        .apply(None, &key, &BTreeMap::new(), &Item::new())
        .unwrap();
    assert_eq!(after, key.clone().with("n", "x").with("nn", 14));
    // A key DynamoDB would reject, or an item that is not the key's.
    let expression = parse("REMOVE a");
    assert_eq!(
        expression
            .apply(
                None,
                &Item::new().with("p", ""),
                &BTreeMap::new(),
                &Item::new()
            )
            .unwrap_err(),
        "key attribute `p` is an empty string"
    );
    assert!(expression
        .apply(
            Some(&before),
            &Item::new().with("p", "y").with("c", 7),
            &BTreeMap::new(),
            &Item::new()
        )
        .unwrap_err()
        .contains("does not hold its key"));
    assert!(expression
        .apply(
            Some(&before),
            &Item::new().with("p", "x").with("c", "7.0"),
            &BTreeMap::new(),
            &Item::new()
        )
        .is_err());
    assert_eq!(
        expression
            .apply(
                Some(&before),
                &Item::new().with("p", "x").with("c", Value::number("7.0")),
                &BTreeMap::new(),
                &Item::new()
            )
            .unwrap(),
        key
    );
}

#[test]
fn names_dynamodb_cannot_read_are_errors() {
    assert_eq!(
        err(None, "SET name = :v", &[(":v", n("1"))]),
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"
    );
    assert_eq!(
        err(None, "SET a = Status", &[]),
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Status"
    );
    assert!(err(None, "REMOVE a.data", &[]).contains("reserved keyword: data"));
    assert!(
        err(None, "SET a = if_not_exists(b.ttl, :v)", &[(":v", n("1"))])
            .contains("reserved keyword: ttl")
    );
    assert!(err(None, "SET _a = :v", &[(":v", n("1"))]).contains("Syntax error"));
    assert!(err(None, "SET a = b.in", &[]).contains("Syntax error"));
    for fine in ["nameless", "size", "convert", "a_b", "Statuses"] {
        assert!(!is_reserved(fine), "{fine}");
        assert_eq!(
            apply(None, &format!("SET {fine} = :v"), &[(":v", n("1"))])
                .unwrap()
                .get(fine),
            Some(&n("1"))
        );
    }
    assert_eq!(
        apply_with(
            None,
            "SET #n = :v",
            &names(&[("#n", "name")]),
            &values(&[(":v", n("1"))])
        )
        .unwrap(),
        item(&[("name", n("1"))])
    );
    assert!(RESERVED_WORDS.windows(2).all(|w| w[0] < w[1]));
    assert!(RESERVED_WORDS
        .iter()
        .all(|w| is_reserved(w) && is_reserved(&w.to_lowercase())));
    // The guide lists 573 words; SET, ADD, DELETE, AND, OR, NOT, BETWEEN, IN, CONVERT, SIZE left out.
    assert_eq!(RESERVED_WORDS.len(), 573 - 10);
}

#[test]
fn paths_have_limits() {
    assert_eq!(
        err(None, "SET a[2147483648] = :v", &[(":v", n("1"))]),
        "Invalid UpdateExpression: List index is not within the allowable range; index: [2147483648]"
    );
    let deep = format!("SET a{} = :v", "[0]".repeat(32));
    assert_eq!(
        err(None, &deep, &[(":v", n("1"))]),
        "Invalid UpdateExpression: The document path has too many nesting levels; nesting levels: 33"
    );
    // The result must be an item DynamoDB stores.
    let big = "x".repeat(limits::MAX_ITEM_BYTES);
    assert!(err(None, "SET a = :v", &[(":v", s(&big))]).contains("over DynamoDB's limit"));
    let mut nested = n("1");
    for _ in 0..MAX_PATH_ELEMENTS {
        nested = list(&[nested]);
    }
    assert_eq!(
        err(None, "SET a = :v", &[(":v", nested)]),
        "ExpressionAttributeValues contains invalid value: nesting deeper than DynamoDB's 32 levels for key :v"
    );
}
