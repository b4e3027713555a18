//! The PartiQL translation of updates (`drift_host::aws::partiql`) against DynamoDB Local's
//! `UpdateItem`: for generated items and update expressions, the statement leaves the same item
//! as the update, or both refuse (a missing item, overlapping paths, a path through a missing
//! map).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use drift_host::aws::convert::{from_aws_item, to_aws, to_aws_item};
use drift_host::aws::partiql::update_statement;
use drift_host::aws::write::{batch_statements, StatementOutcome};
use drift_host::aws::{create_table, Billing, RetryPolicy};
use drift_host::model::item::{Item, Value};
use drift_host::model::schema::KeySchema;
use fastrand::Rng;

use crate::support::{block_on, client, unique};

/// Generated cases per run.
const CASES: u64 = 150;

/// Attribute names, reserved words and odd spellings among them.
const NAMES: [&str; 6] = ["a", "size", "x y", "we\"ird", "m", "l"];

fn value(rng: &mut Rng, depth: u32) -> Value {
    match rng.u32(0..if depth > 1 { 5 } else { 7 }) {
        0 => Value::S(["", "v", "héllo"][rng.usize(0..3)].into()),
        1 => Value::N(
            ["0", "-2.5", "1E+3", "123456789012345678901234567890"][rng.usize(0..4)].into(),
        ),
        2 => Value::Bool(rng.bool()),
        3 => Value::Null,
        4 => Value::Ss(vec!["p".into(), "q".into()]),
        5 => Value::L(
            (0..rng.usize(0..3))
                .map(|_| value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut map = Item::new();
            for k in ["k1", "k2", "inner"] {
                if rng.bool() {
                    map.insert(k.to_string(), value(rng, depth + 1));
                }
            }
            Value::M(map)
        }
    }
}

/// A random document path from the top-level attribute `root`: `m` may be entered (two
/// levels at most).
fn path(rng: &mut Rng, root: &str) -> Vec<String> {
    match (root, rng.u32(0..3)) {
        ("m", 0) => vec!["m".into(), ["k1", "k2", "inner"][rng.usize(0..3)].into()],
        ("m", 1) => vec!["m".into(), "inner".into(), "z".into()],
        _ => vec![root.into()],
    }
}

/// A random update of `SET path = :v` and `REMOVE path`, with its placeholders.
fn update(rng: &mut Rng) -> (String, BTreeMap<String, String>, Item) {
    let mut names = BTreeMap::new();
    let mut values = Item::new();
    let spell = |path: Vec<String>, names: &mut BTreeMap<String, String>| {
        path.into_iter()
            .map(|name| {
                let placeholder = format!("#n{}", names.len());
                names.insert(placeholder.clone(), name);
                placeholder
            })
            .collect::<Vec<_>>()
            .join(".")
    };
    let (mut set, mut remove) = (Vec::new(), Vec::new());
    // Distinct roots: DynamoDB refuses overlapping paths, which would teach nothing here.
    let mut roots: Vec<&str> = NAMES.to_vec();
    rng.shuffle(&mut roots);
    for root in roots.into_iter().take(rng.usize(1..4)) {
        let target = spell(path(rng, root), &mut names);
        if rng.u32(0..3) == 0 {
            remove.push(target);
        } else {
            let placeholder = format!(":v{}", values.len());
            values.insert(placeholder.clone(), value(rng, 0));
            set.push(format!("{target} = {placeholder}"));
        }
    }
    let mut expression = Vec::new();
    if !set.is_empty() {
        expression.push(format!("SET {}", set.join(", ")));
    }
    if !remove.is_empty() {
        expression.push(format!("REMOVE {}", remove.join(", ")));
    }
    (expression.join(" "), names, values)
}

/// What a write did: the item it left, or how it was refused.
#[derive(Debug, PartialEq)]
enum Outcome {
    Item(Option<BTreeMap<String, Value>>),
    ConditionFailed,
    Invalid,
}

/// The item with `key` in `table` (a strongly consistent read).
pub(crate) fn stored(table: &str, key: &Item) -> Option<BTreeMap<String, Value>> {
    let output = block_on(
        client()
            .get_item()
            .table_name(table)
            .set_key(Some(to_aws_item(key)))
            .consistent_read(true)
            .send(),
    )
    .unwrap();
    output
        .item
        .map(|item| from_aws_item(&item).unwrap().into_map())
}

#[test]
fn statements_leave_what_update_item_leaves_or_both_refuse() {
    let client = client();
    let (by_update, by_statement) = (unique("pq_update"), unique("pq_statement"));
    for table in [&by_update, &by_statement] {
        block_on(create_table(
            &client,
            &RetryPolicy::default(),
            table,
            ("id", ScalarAttributeType::S),
            None,
            Billing::OnDemand,
        ))
        .unwrap();
    }
    let schema = KeySchema {
        hash: "id".into(),
        range: None,
    };
    let mut rng = Rng::with_seed(20261130);
    let mut outcomes: BTreeMap<&str, u64> = BTreeMap::new();
    for case in 0..CASES {
        let key = Item::new().with("id", format!("p{case}"));
        // Now and then the item is missing: both must refuse, never create it.
        if rng.u32(0..6) > 0 {
            let mut item = key.clone();
            for name in NAMES {
                if rng.bool() {
                    item.insert(name.into(), value(&mut rng, 0));
                }
            }
            for table in [&by_update, &by_statement] {
                block_on(
                    client
                        .put_item()
                        .table_name(table)
                        .set_item(Some(to_aws_item(&item)))
                        .send(),
                )
                .unwrap();
            }
        }
        let (expression, names, values) = update(&mut rng);
        let statement =
            update_statement(&by_statement, &schema, &key, &expression, &names, &values)
                .unwrap_or_else(|| panic!("`{expression}` translates"));

        let mut sent_names: HashMap<String, String> = names.clone().into_iter().collect();
        sent_names.insert("#key".into(), "id".into());
        let sent_values: HashMap<String, AttributeValue> =
            values.iter().map(|(k, v)| (k.clone(), to_aws(v))).collect();
        let updated = block_on(
            client
                .update_item()
                .table_name(&by_update)
                .set_key(Some(to_aws_item(&key)))
                .update_expression(&expression)
                .condition_expression("attribute_exists(#key)")
                .set_expression_attribute_names(Some(sent_names))
                .set_expression_attribute_values((!sent_values.is_empty()).then_some(sent_values))
                .send(),
        );
        let expected = match updated {
            Ok(_) => Outcome::Item(stored(&by_update, &key)),
            Err(error) => {
                let text = format!("{:?}", error.into_service_error());
                if text.contains("ConditionalCheckFailed") {
                    Outcome::ConditionFailed
                } else {
                    Outcome::Invalid
                }
            }
        };
        let outcome = block_on(batch_statements(
            &client,
            &RetryPolicy::default(),
            &Default::default(),
            std::slice::from_ref(&statement),
        ))
        .unwrap()
        .remove(0);
        let got = match outcome {
            StatementOutcome::Applied => Outcome::Item(stored(&by_statement, &key)),
            StatementOutcome::ConditionFailed => Outcome::ConditionFailed,
            StatementOutcome::Failed(_) => Outcome::Invalid,
        };
        assert_eq!(
            got, expected,
            "case {case}: `{expression}` with {names:?} {values:?} as `{}`",
            statement.text
        );
        let kind = match got {
            Outcome::Item(_) => "same item",
            Outcome::ConditionFailed => "both found no item",
            Outcome::Invalid => "both refused the expression",
        };
        *outcomes.entry(kind).or_default() += 1;
    }
    eprintln!("partiql: {outcomes:?}");
    // The generator reaches every kind of outcome, most often a written item.
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(outcomes["same item"] >= CASES / 2, "{outcomes:?}");
}
