//! REMOVE, ADD and DELETE.

use super::*;

#[test]
fn remove_drops_attributes_and_list_elements() {
    let before = item(&[
        (
            "a",
            map(&[
                ("b", n("3")),
                (
                    "c",
                    list(&[
                        s("hi"),
                        map(&[
                            ("x", map(&[("y", list(&[n("3"), n("5"), n("7")]))])),
                            ("q", n("2")),
                        ]),
                    ]),
                ),
            ]),
        ),
        ("l", list(&[n("2"), n("3"), n("4"), n("5"), n("6"), n("7")])),
    ]);
    let after = ok(
        &before,
        "REMOVE a.c[1].x.y[1], a.c[1].q, gone, a.nothing",
        &[],
    );
    assert_eq!(
        after.get("a"),
        Some(&map(&[
            ("b", n("3")),
            (
                "c",
                list(&[
                    s("hi"),
                    map(&[("x", map(&[("y", list(&[n("3"), n("7")]))]))])
                ])
            )
        ]))
    );
    // Several indexes of one list are those of the list before the update.
    assert_eq!(
        ok(&before, "REMOVE l[1], l[2], l[17]", &[]).get("l"),
        Some(&list(&[n("2"), n("5"), n("6"), n("7")]))
    );
    for text in ["REMOVE l[1] SET l[3] = :v", "SET l[3] = :v REMOVE l[1]"] {
        assert_eq!(
            ok(&before, text, &[(":v", n("17"))]).get("l"),
            Some(&list(&[n("2"), n("4"), n("17"), n("6"), n("7")]))
        );
    }
    // Writes inside an element and removals before it, in one list.
    assert_eq!(
        ok(
            &item(&[(
                "l",
                list(&[list(&[n("1"), n("2")]), n("3"), list(&[n("4")])])
            )]),
            "REMOVE l[0][0], l[1] SET l[2][5] = :v",
            &[(":v", n("5"))]
        )
        .get("l"),
        Some(&list(&[list(&[n("2")]), list(&[n("4"), n("5")])]))
    );
    // An emptied map or list stays.
    let single = item(&[("m", map(&[("b", n("1"))])), ("k", list(&[n("1")]))]);
    assert_eq!(
        ok(&single, "REMOVE m.b, k[0]", &[]),
        item(&[("m", map(&[])), ("k", list(&[]))])
    );
    assert_eq!(ok(&single, "REMOVE k[7], m.x, zz", &[]), single);
}

#[test]
fn add_adds_to_numbers_and_sets() {
    let before = item(&[
        ("a", n("3")),
        ("b", s("hi")),
        ("t", ss(&["dog", "cat"])),
        ("m", map(&[])),
    ]);
    assert_eq!(
        ok(&before, "ADD a :v", &[(":v", n("4"))]).get("a"),
        Some(&n("7"))
    );
    assert_eq!(
        ok(&before, "ADD a :v", &[(":v", n("-4.5"))]).get("a"),
        Some(&n("-1.5"))
    );
    // A missing attribute starts from nothing: 0, or the empty set.
    assert_eq!(
        ok(&before, "ADD c :v", &[(":v", n("8"))]).get("c"),
        Some(&n("8"))
    );
    assert_eq!(
        apply(None, "ADD c :v", &[(":v", n("8"))]).unwrap(),
        item(&[("c", n("8"))])
    );
    assert_eq!(
        ok(&before, "ADD t :v", &[(":v", ss(&["cat", "pig"]))]).get("t"),
        Some(&ss(&["dog", "cat", "pig"]))
    );
    assert_eq!(
        ok(&before, "ADD u :v", &[(":v", ss(&["x"]))]).get("u"),
        Some(&ss(&["x"]))
    );
    assert_eq!(
        ok(
            &item(&[("n", ns(&["1", "2"]))]),
            "ADD n :v",
            &[(":v", ns(&["2.0", "3"]))]
        )
        .get("n"),
        Some(&ns(&["1", "2", "3"]))
    );
    // A document path works too.
    assert_eq!(
        ok(&before, "ADD m.x :v", &[(":v", n("1"))]).get("m"),
        Some(&map(&[("x", n("1"))]))
    );
    // Mismatched types.
    for (text, value) in [
        ("ADD b :v", n("1")),
        ("ADD a :v", ss(&["x"])),
        ("ADD t :v", ns(&["1"])),
        ("ADD t :v", Value::Bs(vec![vec![1]])),
    ] {
        assert_eq!(
            err(Some(&before), text, &[(":v", value)]),
            WRONG_TYPE,
            "{text}"
        );
    }
    assert_eq!(
        err(Some(&before), "ADD a :v", &[(":v", s("hello"))]),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"
    );
    assert_eq!(
        err(Some(&before), "ADD a :v", &[(":v", list(&[n("3")]))]),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: LIST, typeSet: ALLOWED_FOR_ADD_OPERAND"
    );
    assert_eq!(
        err(
            Some(&item(&[("a", n("9e125"))])),
            "ADD a :v",
            &[(":v", n("9e125"))]
        ),
        OVERFLOW
    );
}

#[test]
fn delete_takes_elements_out_of_sets() {
    let before = item(&[
        ("a", ss(&["dog", "cat", "mouse"])),
        ("b", s("hi")),
        ("n", ns(&["1", "2"])),
    ]);
    let after = ok(
        &before,
        "DELETE a :v",
        &[(":v", ss(&["cat", "mouse", "pig"]))],
    );
    assert_eq!(after.get("a"), Some(&ss(&["dog"])));
    // Emptied, the set goes: DynamoDB stores no empty set.
    assert_eq!(
        ok(&after, "DELETE a :v", &[(":v", ss(&["dog"]))]).get("a"),
        None
    );
    assert_eq!(
        ok(&before, "DELETE n :v", &[(":v", ns(&["1.0"]))]).get("n"),
        Some(&ns(&["2"]))
    );
    // Nothing to take from.
    assert_eq!(ok(&before, "DELETE z :v", &[(":v", ss(&["dog"]))]), before);
    assert_eq!(
        apply(None, "DELETE z :v", &[(":v", ss(&["dog"]))]).unwrap(),
        key()
    );
    for (text, value) in [("DELETE b :v", ss(&["x"])), ("DELETE a :v", ns(&["1"]))] {
        assert_eq!(err(Some(&before), text, &[(":v", value)]), WRONG_TYPE);
    }
    assert_eq!(
        err(Some(&before), "DELETE a :v", &[(":v", s("hello"))]),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: STRING, typeSet: ALLOWED_FOR_DELETE_OPERAND"
    );
    assert_eq!(
        err(Some(&before), "DELETE n :v", &[(":v", n("1"))]),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"
    );
    // An empty set is not a value.
    assert_eq!(
        err(Some(&before), "DELETE a :v", &[(":v", ss(&[]))]),
        "ExpressionAttributeValues contains invalid value: string set is empty; DynamoDB has no empty sets for key :v"
    );
}
