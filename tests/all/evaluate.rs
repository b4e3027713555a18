//! drift-value's update-expression evaluator (what `plan`, `exec --diff` and `drift-host test`
//! show as the after-state) against DynamoDB Local's `UpdateItem`: for generated items and
//! expressions (SET with arithmetic, `if_not_exists`, `list_append`, list indexes and nested
//! maps; REMOVE; ADD and DELETE on numbers and sets), the same resulting item, or both refuse.
//! And its condition evaluator (what the checks before a run's apply use to know whether an
//! action on the scanned item is written) against a conditional `UpdateItem`: for generated
//! items and conditions, written when the condition holds, a conditional-check failure when
//! it does not, or both refuse.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use drift_host::aws::convert::{to_aws, to_aws_item};
use drift_host::aws::{create_table, Billing, RetryPolicy};
use drift_host::model::item::{Item, Value};
use drift_host::preview::canonical_item;
use drift_value::expression::{ConditionExpression, UpdateExpression};
use fastrand::Rng;

use crate::support::{block_on, client, unique};

/// Generated cases per run (`DRIFT_EVALUATE_CASES` for more).
fn cases() -> u64 {
    std::env::var("DRIFT_EVALUATE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400)
}

/// Top-level attributes, each with the kind of value it usually holds.
const ROOTS: [&str; 7] = ["n", "l", "m", "ss", "ns", "s", "x y"];

fn number(rng: &mut Rng) -> String {
    [
        "0",
        "1",
        "-2.5",
        "1E+3",
        "0.001",
        "99999999999999999999999999999999999999",
        "-7",
    ][rng.usize(0..7)]
    .to_owned()
}

fn scalar(rng: &mut Rng) -> Value {
    match rng.u32(0..5) {
        0 => Value::S(["", "v", "héllo"][rng.usize(0..3)].into()),
        1 => Value::N(number(rng)),
        2 => Value::Bool(rng.bool()),
        3 => Value::Null,
        _ => Value::B(vec![1, 2]),
    }
}

fn list(rng: &mut Rng) -> Value {
    Value::L((0..rng.usize(0..4)).map(|_| scalar(rng)).collect())
}

fn string_set(rng: &mut Rng) -> Value {
    let mut set: Vec<String> = ["p", "q", "r"]
        .iter()
        .filter(|_| rng.bool())
        .map(|s| s.to_string())
        .collect();
    if set.is_empty() {
        set.push("p".into());
    }
    Value::Ss(set)
}

fn number_set(rng: &mut Rng) -> Value {
    let mut set: Vec<String> = ["1", "2.5", "-3"]
        .iter()
        .filter(|_| rng.bool())
        .map(|s| s.to_string())
        .collect();
    if set.is_empty() {
        set.push("1".into());
    }
    Value::Ns(set)
}

/// What the attribute `root` holds, mostly of its kind, sometimes anything.
fn value_for(rng: &mut Rng, root: &str) -> Value {
    if rng.u32(0..8) == 0 {
        return [scalar(rng), list(rng), string_set(rng)][rng.usize(0..3)].clone();
    }
    match root {
        "n" => Value::N(number(rng)),
        "l" => list(rng),
        "m" => {
            let mut map = Item::new();
            for k in ["k1", "k2"] {
                if rng.bool() {
                    map.insert(k.into(), scalar(rng));
                }
            }
            if rng.bool() {
                map.insert("inner".into(), Value::M(Item::new().with("z", 1)));
            }
            Value::M(map)
        }
        "ss" => string_set(rng),
        "ns" => number_set(rng),
        _ => scalar(rng),
    }
}

/// Builds an expression's placeholders as it goes.
#[derive(Default)]
struct Spelling {
    names: BTreeMap<String, String>,
    values: Item,
}

impl Spelling {
    fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| *n == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.into());
        placeholder
    }

    fn value(&mut self, value: Value) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// A path from `root`: the attribute, a list element, or a map member.
    fn path(&mut self, rng: &mut Rng, root: &str) -> String {
        let top = self.name(root);
        match (root, rng.u32(0..3)) {
            ("l", 0) => format!("{top}[{}]", rng.usize(0..4)),
            ("m", 0) => {
                let member = self.name(["k1", "k2", "inner"][rng.usize(0..3)]);
                format!("{top}.{member}")
            }
            ("m", 1) => {
                let (inner, z) = (self.name("inner"), self.name("z"));
                format!("{top}.{inner}.{z}")
            }
            _ => top,
        }
    }
}

/// A random update expression with its placeholders.
fn update(rng: &mut Rng) -> (String, BTreeMap<String, String>, Item) {
    let mut spelling = Spelling::default();
    let mut clauses: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut roots: Vec<&str> = ROOTS.to_vec();
    rng.shuffle(&mut roots);
    // Mostly distinct roots; now and then one twice, to see both refuse overlapping paths.
    let mut chosen: Vec<&str> = roots.into_iter().take(rng.usize(1..4)).collect();
    if rng.u32(0..10) == 0 {
        chosen.push(chosen[0]);
    }
    for root in chosen {
        let target = spelling.path(rng, root);
        let (clause, action) = match rng.u32(0..10) {
            0 => ("REMOVE", target),
            1 => {
                let v = spelling.value(Value::N(number(rng)));
                let source = spelling.path(rng, root);
                let op = if rng.bool() { "+" } else { "-" };
                ("SET", format!("{target} = {source} {op} {v}"))
            }
            2 => {
                let v = spelling.value(value_for(rng, root));
                let source = spelling.path(rng, root);
                ("SET", format!("{target} = if_not_exists({source}, {v})"))
            }
            3 => {
                let v = spelling.value(list(rng));
                let source = spelling.path(rng, root);
                let text = if rng.bool() {
                    format!("{target} = list_append({source}, {v})")
                } else {
                    format!("{target} = list_append({v}, {source})")
                };
                ("SET", text)
            }
            4 | 5 => {
                let operand = match root {
                    "ss" => string_set(rng),
                    "ns" => number_set(rng),
                    _ if rng.bool() => Value::N(number(rng)),
                    _ => string_set(rng),
                };
                let v = spelling.value(operand);
                let clause = if root.ends_with('s') && rng.bool() {
                    "DELETE"
                } else {
                    "ADD"
                };
                (clause, format!("{target} {v}"))
            }
            _ => {
                let v = spelling.value(value_for(rng, root));
                ("SET", format!("{target} = {v}"))
            }
        };
        clauses.entry(clause).or_default().push(action);
    }
    let expression = clauses
        .iter()
        .map(|(clause, actions)| format!("{clause} {}", actions.join(", ")))
        .collect::<Vec<_>>()
        .join(" ");
    (expression, spelling.names, spelling.values)
}

/// An operand of a condition: a path, a value (mostly of the path's kind) or `size(path)`.
fn condition_operand(rng: &mut Rng, spelling: &mut Spelling, root: &str) -> String {
    match rng.u32(0..6) {
        0 | 1 => spelling.path(rng, root),
        2 => format!("size({})", spelling.path(rng, root)),
        3 => spelling.value(Value::N(rng.u32(0..4).to_string())),
        _ => spelling.value(value_for(rng, root)),
    }
}

/// A random condition expression over the generated attributes, `depth` levels of `AND`,
/// `OR`, `NOT` and parentheses at most.
fn condition(rng: &mut Rng, spelling: &mut Spelling, depth: u32) -> String {
    let root = ROOTS[rng.usize(0..ROOTS.len())];
    let choice = rng.u32(0..if depth > 0 { 14 } else { 10 });
    match choice {
        0 | 1 => {
            let comparator = ["=", "<>", "<", "<=", ">", ">="][rng.usize(0..6)];
            let left = spelling.path(rng, root);
            let right = condition_operand(rng, spelling, root);
            format!("{left} {comparator} {right}")
        }
        2 => {
            let left = condition_operand(rng, spelling, root);
            let (low, high) = match rng.u32(0..3) {
                0 => (Value::N(number(rng)), Value::N(number(rng))),
                1 => (Value::S("a".into()), Value::S("w".into())),
                _ => (value_for(rng, root), value_for(rng, root)),
            };
            let (low, high) = (spelling.value(low), spelling.value(high));
            format!("{left} BETWEEN {low} AND {high}")
        }
        3 => {
            let left = spelling.path(rng, root);
            let list: Vec<String> = (0..rng.usize(1..4))
                .map(|_| {
                    let value = value_for(rng, root);
                    spelling.value(value)
                })
                .collect();
            format!("{left} IN ({})", list.join(", "))
        }
        4 => format!("attribute_exists({})", spelling.path(rng, root)),
        5 => format!("attribute_not_exists({})", spelling.path(rng, root)),
        6 => {
            let names = [
                "S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M", "X",
            ];
            let path = spelling.path(rng, root);
            let name = spelling.value(Value::S(names[rng.usize(0..names.len())].into()));
            format!("attribute_type({path}, {name})")
        }
        7 => {
            let path = spelling.path(rng, root);
            let prefix = match rng.u32(0..4) {
                0 => Value::S("hé".into()),
                1 => Value::S(String::new()),
                2 => Value::B(vec![1]),
                _ => scalar(rng),
            };
            let prefix = spelling.value(prefix);
            format!("begins_with({path}, {prefix})")
        }
        8 | 9 => {
            let path = spelling.path(rng, root);
            let element = match rng.u32(0..3) {
                0 => Value::S(["p", "l", "v"][rng.usize(0..3)].into()),
                1 => Value::N(["1", "2.50", "-3"][rng.usize(0..3)].into()),
                _ => scalar(rng),
            };
            let element = spelling.value(element);
            format!("contains({path}, {element})")
        }
        10 => format!("NOT {}", condition(rng, spelling, depth - 1)),
        11 => format!("({})", condition(rng, spelling, depth - 1)),
        _ => {
            let keyword = if choice == 12 { "AND" } else { "or" };
            let left = condition(rng, spelling, depth - 1);
            let right = condition(rng, spelling, depth - 1);
            format!("{left} {keyword} {right}")
        }
    }
}

#[test]
fn the_condition_holds_where_update_item_writes() {
    let (client, table) = keyed_table("conditions");
    let mut rng = generator(20261203);
    let mut outcomes: BTreeMap<&str, u64> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for case in 0..cases() {
        let key = Item::new().with("id", format!("c{case}"));
        let item = generated_item(&mut rng, &key, 4);
        put(&client, &table, &item);
        let mut spelling = Spelling::default();
        let text = condition(&mut rng, &mut spelling, 2);
        let (names, values) = (spelling.names.clone(), spelling.values.clone());
        let mut sent_names: HashMap<String, String> = names.clone().into_iter().collect();
        sent_names.insert("#written".into(), "written".into());
        let mut sent_values: HashMap<String, AttributeValue> =
            values.iter().map(|(k, v)| (k.clone(), to_aws(v))).collect();
        sent_values.insert(":written".into(), AttributeValue::Bool(true));
        let answer = block_on(
            client
                .update_item()
                .table_name(&table)
                .set_key(Some(to_aws_item(&key)))
                .update_expression("SET #written = :written")
                .condition_expression(&text)
                .set_expression_attribute_names(Some(sent_names))
                .set_expression_attribute_values(Some(sent_values))
                .send(),
        );
        let expected = match answer {
            Ok(_) => Ok(true),
            Err(error) => match error.into_service_error() {
                error if error.is_conditional_check_failed_exception() => Ok(false),
                error => Err(format!("{error:?}")),
            },
        };
        let evaluated = ConditionExpression::parse(&text)
            .and_then(|parsed| parsed.holds(Some(&item), &names, &values));
        let kind = match (&expected, &evaluated) {
            (Ok(true), Ok(true)) => "holds",
            (Ok(false), Ok(false)) => "fails",
            (Err(_), Err(_)) => "both refused",
            _ => {
                mismatches.push(format!(
                    "case {case}: `{text}` names {names:?} values {values:?} on {item:?}:\n  \
                     UpdateItem: {expected:?}\n  evaluator:  {evaluated:?}"
                ));
                "differ"
            }
        };
        *outcomes.entry(kind).or_default() += 1;
    }
    eprintln!("conditions: {outcomes:?}");
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        cases(),
        mismatches.join("\n")
    );
    for kind in ["holds", "fails", "both refused"] {
        assert!(
            outcomes.get(kind).copied().unwrap_or(0) >= cases() / 20,
            "{outcomes:?}"
        );
    }
}

/// A fresh table keyed by `id` (S), for one property test's cases.
fn keyed_table(prefix: &str) -> (aws_sdk_dynamodb::Client, String) {
    let client = client();
    let table = unique(prefix);
    block_on(create_table(
        &client,
        &RetryPolicy::default(),
        &table,
        ("id", ScalarAttributeType::S),
        None,
        Billing::OnDemand,
    ))
    .unwrap();
    (client, table)
}

/// `key` with each generated attribute but one in `one_in`, of its usual kind mostly.
fn generated_item(rng: &mut Rng, key: &Item, one_in: u32) -> Item {
    let mut item = key.clone();
    for root in ROOTS {
        if rng.u32(0..one_in) > 0 {
            item.insert(root.into(), value_for(rng, root));
        }
    }
    item
}

/// Writes `item` into `table`.
fn put(client: &aws_sdk_dynamodb::Client, table: &str, item: &Item) {
    block_on(
        client
            .put_item()
            .table_name(table)
            .set_item(Some(to_aws_item(item)))
            .send(),
    )
    .unwrap();
}

/// The cases' generator: seeded by `DRIFT_EVALUATE_SEED`, else by `default`.
fn generator(default: u64) -> Rng {
    Rng::with_seed(
        std::env::var("DRIFT_EVALUATE_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default),
    )
}

fn stored(table: &str, key: &Item) -> Option<Item> {
    crate::partiql::stored(table, key).map(|item| canonical_item(&Item::from(item)))
}

#[test]
fn the_evaluator_leaves_what_update_item_leaves_or_both_refuse() {
    let (client, table) = keyed_table("evaluate");
    let mut rng = generator(20261130);
    let mut outcomes: BTreeMap<&str, u64> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for case in 0..cases() {
        let key = Item::new().with("id", format!("e{case}"));
        // Now and then the item is missing: the update creates it.
        let before = (rng.u32(0..6) > 0).then(|| {
            let item = generated_item(&mut rng, &key, 3);
            put(&client, &table, &item);
            item
        });
        let (expression, names, values) = update(&mut rng);
        let sent_names: HashMap<String, String> = names.clone().into_iter().collect();
        let sent_values: HashMap<String, AttributeValue> =
            values.iter().map(|(k, v)| (k.clone(), to_aws(v))).collect();
        let updated = block_on(
            client
                .update_item()
                .table_name(&table)
                .set_key(Some(to_aws_item(&key)))
                .update_expression(&expression)
                .set_expression_attribute_names(Some(sent_names))
                .set_expression_attribute_values((!sent_values.is_empty()).then_some(sent_values))
                .send(),
        );
        let expected = match updated {
            Ok(_) => Ok(stored(&table, &key)),
            Err(error) => Err(format!("{:?}", error.into_service_error())),
        };
        let evaluated = UpdateExpression::parse(&expression)
            .and_then(|parsed| parsed.apply(before.as_ref(), &key, &names, &values))
            .map(|item| Some(canonical_item(&item)));
        let kind = match (&expected, &evaluated) {
            (Ok(a), Ok(b)) if a == b => "same item",
            (Err(_), Err(_)) => "both refused",
            _ => {
                mismatches.push(format!(
                    "case {case}: `{expression}` names {names:?} values {values:?} on {before:?}:\n  \
                     UpdateItem: {expected:?}\n  evaluator:  {evaluated:?}"
                ));
                "differ"
            }
        };
        *outcomes.entry(kind).or_default() += 1;
        // Leave the table as the next case's put finds it: gone.
        block_on(
            client
                .delete_item()
                .table_name(&table)
                .set_key(Some(to_aws_item(&key)))
                .send(),
        )
        .unwrap();
    }
    eprintln!("evaluate: {outcomes:?}");
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        cases(),
        mismatches.join("\n")
    );
    assert!(outcomes["same item"] >= cases() / 3, "{outcomes:?}");
    assert!(
        outcomes.get("both refused").copied().unwrap_or(0) >= cases() / 20,
        "{outcomes:?}"
    );
}
