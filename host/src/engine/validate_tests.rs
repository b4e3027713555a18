//! Tests of [`super::check_actions`]: each kind of action DynamoDB refuses, and generated items
//! against a model of the key and index rules.

use std::collections::BTreeMap;

use drift_value::testing::{arb_item, arb_value};
use proptest::prelude::*;

use super::*;
use crate::model::schema::{IndexSchema, Projection, ScalarType};

/// `users` (partition key `id` S) with a global index on `email` (S) and a local one on
/// `joined` (N); `events` (`pk` S, `at` N).
fn schemas() -> Schemas {
    let users = TableSchema {
        name: "users".into(),
        key: KeySchema {
            hash: "id".into(),
            range: None,
        },
        types: [
            ("id", ScalarType::S),
            ("email", ScalarType::S),
            ("joined", ScalarType::N),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t))
        .collect(),
        indexes: vec![
            IndexSchema {
                name: "by_email".into(),
                key: KeySchema {
                    hash: "email".into(),
                    range: None,
                },
                local: None,
            },
            IndexSchema {
                name: "by_joined".into(),
                key: KeySchema {
                    hash: "id".into(),
                    range: Some("joined".into()),
                },
                local: Some(Projection::KeysOnly),
            },
        ],
    };
    let events = TableSchema {
        name: "events".into(),
        key: KeySchema {
            hash: "pk".into(),
            range: Some("at".into()),
        },
        types: [("pk", ScalarType::S), ("at", ScalarType::N)]
            .into_iter()
            .map(|(n, t)| (n.to_owned(), t))
            .collect(),
        indexes: vec![],
    };
    [users, events]
        .into_iter()
        .map(|t| (t.name.clone(), t))
        .collect()
}

fn user(id: &str) -> Item {
    Item::new()
        .with("id", id)
        .with("email", "Ada@Example.com")
        .with("joined", Value::N("2024".into()))
}

fn action(table: &str, kind: ActionKind) -> Action {
    Action {
        table: table.into(),
        kind,
        condition: None,
        names: BTreeMap::new(),
        values: Item::new(),
    }
}

fn put(table: &str, item: Item) -> Action {
    action(table, ActionKind::Put { item })
}

fn update(table: &str, key: Item, expression: &str, values: Item) -> Action {
    Action {
        values,
        ..action(
            table,
            ActionKind::Update {
                key,
                expression: expression.into(),
                upsert: false,
            },
        )
    }
}

fn id(id: &str) -> Item {
    Item::new().with("id", id)
}

/// The result of checking `actions` returned for `scanned` of `users`.
fn check(actions: &[Action], scanned: &Item) -> Result<(), String> {
    check_actions(actions, scanned, "users", &schemas())
}

fn refused(actions: &[Action], scanned: &Item) -> String {
    check(actions, scanned).expect_err("refused")
}

#[test]
fn valid_actions_pass() {
    let scanned = user("u1");
    let actions = [
        update(
            "users",
            id("u1"),
            "SET email = :e REMOVE legacy",
            Item::new().with(":e", "ada@example.com"),
        ),
        put(
            "events",
            Item::new()
                .with("pk", "u1")
                .with("at", Value::N("1".into())),
        ),
        action("users", ActionKind::Delete { key: id("u2") }),
        // A table without a schema (offline, only the scanned table's key is known).
        put("audit", Item::new().with("anything", 1)),
    ];
    assert_eq!(check(&actions, &scanned), Ok(()));
}

#[test]
fn primary_keys_are_present_typed_non_empty_and_short() {
    let scanned = user("u1");
    let error = refused(&[put("users", Item::new().with("name", "x"))], &scanned);
    assert!(
        error.contains("lacks the table's key attribute `id`")
            && error.contains("One of the required keys was not given a value"),
        "{error}"
    );
    let error = refused(
        &[put("users", Item::new().with("id", Value::N("7".into())))],
        &scanned,
    );
    assert!(
        error.starts_with("action 0: put on `users` key {\"id\":{\"N\":\"7\"}}: ")
            && error.contains("Type mismatch for key id expected: S actual: N"),
        "{error}"
    );
    let error = refused(&[put("users", Item::new().with("id", ""))], &scanned);
    assert!(
        error.contains("cannot contain an empty string value"),
        "{error}"
    );
    let long = "x".repeat(MAX_PARTITION_KEY_BYTES + 1);
    let error = refused(&[put("users", Item::new().with("id", long))], &scanned);
    assert!(error.contains("over DynamoDB's limit of 2048"), "{error}");
    let sort = Item::new()
        .with("pk", "a")
        .with("at", Value::S("not a number".into()));
    let error = refused(&[put("events", sort)], &scanned);
    assert!(
        error.contains("Type mismatch for key at expected: N"),
        "{error}"
    );
    let error = refused(&[put("events", Item::new().with("pk", "a"))], &scanned);
    assert!(error.contains("key attribute `at`"), "{error}");
}

#[test]
fn updates_and_deletes_name_exactly_the_key() {
    let scanned = user("u1");
    let missing_sort = action("events", ActionKind::Delete { key: id("u1") });
    let error = refused(&[missing_sort], &scanned);
    assert!(
        error.contains("exactly the table's key attributes `pk`, `at`")
            && error.contains("The provided key element does not match the schema"),
        "{error}"
    );
    let typed = update(
        "users",
        Item::new().with("id", Value::B(vec![1])),
        "SET a = :a",
        Item::new().with(":a", 1),
    );
    assert!(refused(&[typed], &scanned).contains("Type mismatch for key id"));
}

#[test]
fn no_update_touches_a_key_attribute() {
    let scanned = user("u1");
    for (expression, names, values) in [
        ("SET id = :v", vec![], Item::new().with(":v", "u2")),
        ("REMOVE #k", vec![("#k", "id")], Item::new()),
        (
            "ADD #k :n",
            vec![("#k", "at")],
            Item::new().with(":n", Value::N("1".into())),
        ),
    ] {
        let table = if expression.starts_with("ADD") {
            "events"
        } else {
            "users"
        };
        let key = if table == "events" {
            Item::new().with("pk", "a").with("at", Value::N("1".into()))
        } else {
            id("u9")
        };
        let mut action = update(table, key, expression, values);
        action.names = names
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        let error = refused(&[action], &scanned);
        assert!(
            error.contains("This attribute is part of the key"),
            "{expression}: {error}"
        );
    }
}

#[test]
fn index_keys_keep_their_declared_types() {
    let scanned = user("u1");
    let error = refused(&[put("users", id("u2").with("email", 5))], &scanned);
    assert!(
        error.contains(
            "Type mismatch for Index Key email Expected: S Actual: N IndexName: by_email"
        ),
        "{error}"
    );
    let error = refused(&[put("users", id("u2").with("joined", "soon"))], &scanned);
    assert!(error.contains("IndexName: by_joined"), "{error}");
    let error = refused(&[put("users", id("u2").with("email", ""))], &scanned);
    assert!(
        error.contains("index `by_email` key `email` is empty"),
        "{error}"
    );
    // An update of another item: the written value alone tells.
    let set = update(
        "users",
        id("u2"),
        "SET email = :e",
        Item::new().with(":e", 1),
    );
    assert!(refused(&[set], &scanned).contains("Type mismatch for Index Key email"));
    // An update of the scanned item: evaluated, so even a copied value is known.
    let copy = update("users", id("u1"), "SET email = joined", Item::new());
    assert!(refused(&[copy], &scanned).contains("Type mismatch for Index Key email"));
    // Removing an index key is fine.
    let remove = update("users", id("u1"), "REMOVE email", Item::new());
    assert_eq!(check(&[remove], &scanned), Ok(()));
}

#[test]
fn an_update_of_the_scanned_item_is_evaluated_on_it() {
    let scanned = user("u1").with("blob", vec![0u8; 300 * 1024]);
    let grow = |attribute: &str, n| {
        update(
            "users",
            id("u1"),
            &format!("SET {attribute} = :p"),
            Item::new().with(":p", vec![1u8; n]),
        )
    };
    let error = refused(&[grow("pad_x", 120 * 1024)], &scanned);
    assert!(
        error.contains("Item size to update has exceeded the maximum allowed size"),
        "{error}"
    );
    assert_eq!(check(&[grow("pad_x", 50 * 1024)], &scanned), Ok(()));
    // Two updates of the same item: the second sees the first.
    let both = [grow("pad_x", 50 * 1024), grow("pad_y", 60 * 1024)];
    assert!(refused(&both, &scanned).contains("Item size to update"));
    // The same update of another item cannot be known before the apply: it passes.
    let mut other = grow("pad_x", 120 * 1024);
    other.kind = ActionKind::Update {
        key: id("u2"),
        expression: "SET pad_x = :p".into(),
        upsert: false,
    };
    assert_eq!(check(&[other], &scanned), Ok(()));
    // Operands of the wrong type on the scanned item.
    let add = update(
        "users",
        id("u1"),
        "SET n = email + :one",
        Item::new().with(":one", 1),
    );
    assert!(refused(&[add], &scanned).contains("incorrect data type"));
    // A put replaces the scanned item for the actions after it; a delete removes it.
    let replaced = put("users", id("u1").with("count", "text"));
    let bump = update(
        "users",
        id("u1"),
        "SET #c = #c + :one",
        Item::new().with(":one", 1),
    );
    let bump = Action {
        names: [("#c".to_owned(), "count".to_owned())].into(),
        ..bump
    };
    assert!(refused(&[replaced, bump.clone()], &scanned).contains("incorrect data type"));
    let deleted = action("users", ActionKind::Delete { key: id("u1") });
    assert_eq!(check(&[deleted, bump], &scanned), Ok(()));
}

#[test]
fn placeholders_are_defined_used_and_short() {
    let scanned = user("u1");
    let unused = update(
        "users",
        id("u2"),
        "SET a = :a",
        Item::new().with(":a", 1).with(":b", 2),
    );
    assert!(refused(&[unused], &scanned)
        .contains("Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"));
    let undefined = update("users", id("u2"), "SET #a = :a", Item::new().with(":a", 1));
    assert!(refused(&[undefined], &scanned).contains("attribute name: #a"));
    // The condition's placeholders count as used, and must be defined.
    let mut conditional = update(
        "users",
        id("u2"),
        "SET a = :a",
        Item::new().with(":a", 1).with(":min", 0),
    );
    conditional.condition = Some("attribute_exists(id) AND #n > :min".into());
    conditional.names = [("#n".to_owned(), "n".to_owned())].into();
    assert_eq!(check(&[conditional.clone()], &scanned), Ok(()));
    conditional.condition = Some("#n > :max".into());
    assert!(refused(&[conditional], &scanned).contains("attribute value: :max"));
    let mut put_if = put("users", id("u3"));
    put_if.condition = Some("attribute_not_exists(id)".into());
    put_if.values = Item::new().with(":x", 1);
    assert!(refused(&[put_if], &scanned).contains("unused in expressions: keys: {:x}"));
    let long = format!(":{}", "v".repeat(MAX_PLACEHOLDER_BYTES));
    let too_long = update(
        "users",
        id("u2"),
        &format!("SET a = {long}"),
        Item::new().with(long.as_str(), 1),
    );
    assert!(refused(&[too_long], &scanned).contains("over DynamoDB's limit of 255"));
}

#[test]
fn expressions_are_within_limits_and_parse() {
    let scanned = user("u1");
    let long = format!("SET a = :a{}", " ".repeat(MAX_EXPRESSION_BYTES));
    let error = refused(
        &[update("users", id("u2"), &long, Item::new().with(":a", 1))],
        &scanned,
    );
    assert!(error.contains("Expression size has exceeded"), "{error}");
    let error = refused(
        &[update(
            "users",
            id("u2"),
            "SET = :a",
            Item::new().with(":a", 1),
        )],
        &scanned,
    );
    assert!(error.contains("Invalid UpdateExpression"), "{error}");
    let mut garbled = update("users", id("u2"), "SET a = :a", Item::new().with(":a", 1));
    garbled.condition = Some("attribute_exists(id) AND".into());
    let error = refused(&[garbled.clone()], &scanned);
    assert!(error.contains("invalid condition expression"), "{error}");
    garbled.condition = Some("a < :a".into());
    garbled.values = Item::new().with(":a", Value::L(vec![]));
    garbled.kind = ActionKind::Delete { key: id("u2") };
    let error = refused(&[garbled], &scanned);
    assert!(error.contains("operand type: L"), "{error}");
}

/// DynamoDB evaluates a condition before the update: an update of the scanned item that would
/// fail on it is refused only when its condition holds (else the apply finds a conflict and
/// writes nothing); a put or delete whose condition fails leaves the item as it was for the
/// actions after it.
#[test]
fn an_action_on_the_scanned_item_counts_only_if_its_condition_holds() {
    let scanned = user("u1").with("name", "Ada");
    let mut add = update(
        "users",
        id("u1"),
        "ADD #name :one",
        Item::new().with(":one", 1),
    );
    add.names = [("#name".to_owned(), "name".to_owned())].into();
    assert!(refused(&[add.clone()], &scanned).contains("incorrect data type"));
    add.condition = Some("attribute_not_exists(#name)".into());
    assert_eq!(check(&[add.clone()], &scanned), Ok(()));
    add.condition = Some("begins_with(#name, :ad)".into());
    add.values = add.values.with(":ad", "Ad");
    assert!(refused(&[add.clone()], &scanned).contains("incorrect data type"));
    // A put that replaces the item with one whose `name` is a number, only if the item is
    // gone: it is not, so the add after it still meets a string.
    let mut replace = put("users", user("u1").with("name", Value::N("1".into())));
    replace.condition = Some("attribute_not_exists(id)".into());
    assert!(refused(&[replace.clone(), add.clone()], &scanned).contains("incorrect data type"));
    replace.condition = Some("attribute_exists(id)".into());
    add.condition = None;
    add.values = Item::new().with(":one", 1);
    assert_eq!(check(&[replace, add.clone()], &scanned), Ok(()));
    // A delete whose condition fails leaves the item; one that holds removes it, and a plain
    // update of a deleted item is a conflict, not an error.
    let mut delete = action("users", ActionKind::Delete { key: id("u1") });
    delete.condition = Some("#name = :other".into());
    delete.names = [("#name".to_owned(), "name".to_owned())].into();
    delete.values = Item::new().with(":other", "Grace");
    assert!(refused(&[delete.clone(), add.clone()], &scanned).contains("incorrect data type"));
    delete.values = Item::new().with(":other", "Ada");
    assert_eq!(check(&[delete, add], &scanned), Ok(()));
}

/// The model of the rules for a put into `users`: the key `id` a non-empty S of at most 2048
/// bytes, `email` absent or the same, `joined` absent or N.
fn put_allowed(item: &Item) -> bool {
    let key_like = |value: Option<&Value>, required: bool, s: bool| match value {
        None => !required,
        Some(Value::S(text)) if s => !text.is_empty() && text.len() <= 2048,
        Some(Value::N(_)) if !s => true,
        Some(_) => false,
    };
    key_like(item.get("id"), true, true)
        && key_like(item.get("email"), false, true)
        && key_like(item.get("joined"), false, false)
}

proptest! {
    #[test]
    fn puts_of_generated_items_follow_the_model(
        mut item in arb_item(),
        id in prop_oneof![Just(None), arb_value().prop_map(Some), "[a-z]{0,3}".prop_map(|s| Some(Value::S(s)))],
        email in prop_oneof![Just(None), arb_value().prop_map(Some), "[a-z@.]{0,5}".prop_map(|s| Some(Value::S(s)))],
        joined in prop_oneof![Just(None), arb_value().prop_map(Some)],
    ) {
        for (name, value) in [("id", id), ("email", email), ("joined", joined)] {
            match value {
                Some(value) => { item.insert(name.to_owned(), value); }
                None => { item.remove(name); }
            }
        }
        let result = check(&[put("users", item.clone())], &user("u1"));
        prop_assert_eq!(result.is_ok(), put_allowed(&item), "{:?}", result);
    }

    #[test]
    fn an_update_setting_generated_values_passes_exactly_when_dynamodb_would_store_it(
        value in arb_value(),
        attribute in prop_oneof![Just("email"), Just("joined"), Just("other_x")],
    ) {
        let scanned = user("u1");
        let set = update("users", id("u1"), &format!("SET {attribute} = :v"), Item::new().with(":v", value.clone()));
        let value_checked = value.clone();
        let after = scanned.clone().with(attribute, value);
        let result = check(&[set], &scanned);
        let stored = put_allowed(&after)
            && after.size() <= crate::model::item::MAX_ITEM_BYTES
            && crate::model::item::validate_value(&value_checked, 1).is_ok();
        prop_assert_eq!(result.is_ok(), stored, "{:?}", result);
    }
}

#[test]
fn an_item_and_its_local_index_entries_fit_in_400_kb_together() {
    let mut schemas = schemas();
    let users = schemas.get_mut("users").unwrap();
    users.indexes[1].local = Some(Projection::All);
    let big = |joined: bool| {
        let item = id("u2").with("blob", vec![0u8; 210 * 1024]);
        if joined {
            item.with("joined", Value::N("1".into()))
        } else {
            item
        }
    };
    let check = |item: Item| check_actions(&[put("users", item)], &user("u1"), "users", &schemas);
    let error = check(big(true)).unwrap_err();
    assert!(
        error.contains("entry in local index `by_joined`")
            && error.contains("Item size has exceeded the maximum allowed size"),
        "{error}"
    );
    // Not in the index (no sort key of it): the item alone counts.
    assert_eq!(check(big(false)), Ok(()));
    // Keys only: the entry is small.
    schemas.get_mut("users").unwrap().indexes[1].local = Some(Projection::KeysOnly);
    let check = |item: Item| check_actions(&[put("users", item)], &user("u1"), "users", &schemas);
    assert_eq!(check(big(true)), Ok(()));
    schemas.get_mut("users").unwrap().indexes[1].local =
        Some(Projection::Include(vec!["blob".into()]));
    let check = |item: Item| check_actions(&[put("users", item)], &user("u1"), "users", &schemas);
    assert!(check(big(true)).is_err());
}
