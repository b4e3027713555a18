//! Nothing is written unless every action can be written: actions DynamoDB would refuse at
//! write time, a few among many good ones, fail their run in the scan, with the keys named,
//! before anything is written (against DynamoDB Local, with the scripted model guest). And an
//! apply that fails on what no check can know beforehand names what failed, with exact counts.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, LocalSecondaryIndex, Projection, ProjectionType, ScalarAttributeType,
};
use drift_host::aws::convert::{from_aws_item, to_aws_item};
use drift_host::model::item::{Item, Value};
use serde_json::Value as Json;

use crate::support::{block_on, client, drift_output, guest, stderr, stdout, unique, MODEL_TABLES};

/// Good items per table.
const ITEMS: usize = 120;

/// A table with partition key `pk` (S), sort key `sk` (N), a global index on `email` (S) and
/// a local one on `rank` (N).
fn indexed_table(name: &str) {
    let client = client();
    let attribute = |name: &str, kind| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let all = Projection::builder()
        .projection_type(ProjectionType::All)
        .build();
    block_on(
        client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("pk", ScalarAttributeType::S))
            .attribute_definitions(attribute("sk", ScalarAttributeType::N))
            .attribute_definitions(attribute("email", ScalarAttributeType::S))
            .attribute_definitions(attribute("rank", ScalarAttributeType::N))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name("by_email")
                    .key_schema(key("email", KeyType::Hash))
                    .projection(all.clone())
                    .build()
                    .unwrap(),
            )
            .local_secondary_indexes(
                LocalSecondaryIndex::builder()
                    .index_name("by_rank")
                    .key_schema(key("pk", KeyType::Hash))
                    .key_schema(key("rank", KeyType::Range))
                    .projection(all)
                    .build()
                    .unwrap(),
            )
            .send(),
    )
    .unwrap();
}

/// The model guest's other tables, which every run of it reads the schemas of.
fn model_tables() {
    crate::support::model_tables(false);
}

fn s(text: &str) -> Value {
    Value::S(text.into())
}

fn n(number: i64) -> Value {
    Value::N(number.to_string())
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    Value::M(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The key of item `i`.
fn key(i: usize) -> Vec<(&'static str, Value)> {
    vec![("pk", s(&format!("p{i}"))), ("sk", n(i as i64))]
}

/// A good step: `SET touched = :t` on the item itself.
fn touch(i: usize) -> Value {
    map(vec![
        ("kind", s("update")),
        ("key", map(key(i))),
        ("expr", s("SET touched = :t")),
        ("values", map(vec![(":t", Value::Bool(true))])),
    ])
}

/// A step DynamoDB would refuse, of `category`, returned for item `i`.
fn refused_step(category: &str, i: usize) -> Value {
    let update = |expr: &str, values: Vec<(&str, Value)>| {
        map(vec![
            ("kind", s("update")),
            ("key", map(key(i))),
            ("expr", s(expr)),
            ("values", map(values)),
        ])
    };
    let put = |pairs: Vec<(&str, Value)>| map(vec![("kind", s("put")), ("item", map(pairs))]);
    match category {
        "put without its sort key" => put(vec![("pk", s(&format!("new{i}")))]),
        "put with a key of the wrong type" => put(vec![("pk", n(5)), ("sk", n(1))]),
        "put with an empty key" => put(vec![("pk", s("")), ("sk", n(1))]),
        "update of a key attribute" => update("SET sk = :v", vec![(":v", n(99))]),
        "put with a global index key of the wrong type" => {
            put(vec![("pk", s("x")), ("sk", n(1)), ("email", n(3))])
        }
        "update of a local index key to the wrong type" => map(vec![
            ("kind", s("update")),
            ("key", map(key(i))),
            ("expr", s("SET #r = :v")),
            ("names", map(vec![("#r", s("rank"))])),
            ("values", map(vec![(":v", s("first"))])),
        ]),
        // The script carries the value too: the item is stored at over 110 KB, and would be
        // over 220 KB after the update, which with its entry in the local index (all
        // attributes) is over 400 KB.
        "update leaving the item over 400 KB with its local index entry" => update(
            "SET pad_x = :b",
            vec![(":b", Value::B(vec![1; 110 * 1024]))],
        ),
        "update with an unused placeholder" => {
            update("SET a_x = :a", vec![(":a", n(1)), (":b", n(2))])
        }
        "update with operands of the wrong type" => {
            update("SET email = email + :one", vec![(":one", n(1))])
        }
        "delete without the sort key" => map(vec![
            ("kind", s("delete")),
            ("key", map(vec![("pk", s(&format!("p{i}")))])),
        ]),
        "put into another table with a key of the wrong type" => map(vec![
            ("kind", s("put")),
            ("table", s("model_n")),
            ("item", map(vec![("k", s("not a number"))])),
        ]),
        other => panic!("no category {other}"),
    }
}

/// Item `i`: its key, an email, a rank, a blob of 60 KB for some, and its script.
fn item(i: usize, script: Vec<Value>) -> Item {
    let mut pairs = key(i);
    pairs.push(("email", s(&format!("u{i}@example.com"))));
    pairs.push(("rank", n(i as i64 % 7)));
    if i % 10 == 3 {
        pairs.push(("blob", Value::B(vec![7; 60 * 1024])));
    }
    pairs.push(("script", Value::L(script)));
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn put_items(table: &str, items: &[Item]) {
    let client = client();
    for item in items {
        block_on(
            client
                .put_item()
                .table_name(table)
                .set_item(Some(to_aws_item(item)))
                .send(),
        )
        .unwrap();
    }
}

fn scan(table: &str) -> Vec<Item> {
    let client = client();
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = block_on(
            client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send(),
        )
        .unwrap();
        items.extend(page.items().iter().map(|raw| from_aws_item(raw).unwrap()));
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

fn run(table: &str, meta: &str) -> (std::process::Output, Json) {
    let wasm = guest("drift_model_guest");
    let output = drift_output(&[
        "run",
        wasm.to_str().unwrap(),
        "--table",
        table,
        "--meta-table",
        meta,
        "--segments",
        "3",
        "--output",
        "json",
    ]);
    let report = serde_json::from_str(&stdout(&output)).unwrap_or(Json::Null);
    (output, report)
}

const CATEGORIES: [&str; 11] = [
    "put without its sort key",
    "put with a key of the wrong type",
    "put with an empty key",
    "update of a key attribute",
    "put with a global index key of the wrong type",
    "update of a local index key to the wrong type",
    "update leaving the item over 400 KB with its local index entry",
    "update with an unused placeholder",
    "update with operands of the wrong type",
    "delete without the sort key",
    "put into another table with a key of the wrong type",
];

#[test]
fn each_kind_of_refused_action_fails_the_run_before_anything_is_written() {
    let _tables = MODEL_TABLES.lock().unwrap_or_else(|e| e.into_inner());
    model_tables();
    for (c, category) in CATEGORIES.iter().enumerate() {
        let (table, meta) = (unique("valid"), unique("meta"));
        indexed_table(&table);
        // Two refused items among many good ones, at places that change with the category.
        let bad = [(c * 7 + 3) % ITEMS, (c * 13 + 61) % ITEMS];
        let items: Vec<Item> = (0..ITEMS)
            .map(|i| {
                let mut script = vec![touch(i)];
                if bad.contains(&i) {
                    script.push(refused_step(category, i));
                }
                item(i, script)
            })
            .collect();
        put_items(&table, &items);
        // `plan` lists them as failed items, and writes nothing either.
        let wasm = guest("drift_model_guest");
        let plan = drift_output(&[
            "plan",
            wasm.to_str().unwrap(),
            "--table",
            &table,
            "--meta-table",
            &meta,
            "--output",
            "json",
        ]);
        assert_eq!(plan.status.code(), Some(1), "{category}: {}", stderr(&plan));
        let planned: Json = serde_json::from_str(&stdout(&plan)).unwrap_or(Json::Null);
        assert_eq!(planned["failed_items"], 2, "{category}: {planned}");
        let (output, report) = run(&table, &meta);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{category}: {}",
            stderr(&output)
        );
        assert_eq!(report["status"], "failed", "{category}: {report}");
        let failed: Vec<String> = report["failures"]
            .as_array()
            .unwrap_or(&vec![])
            .iter()
            .map(|f| f["key"]["pk"]["S"].as_str().unwrap_or_default().to_owned())
            .collect();
        let mut expected: Vec<String> = bad.iter().map(|i| format!("p{i}")).collect();
        let mut found = failed.clone();
        expected.sort();
        found.sort();
        assert_eq!(found, expected, "{category}: {report}");
        let first = report["failures"][0]["error"].as_str().unwrap_or_default();
        assert!(
            first.starts_with("invalid action: action 1: "),
            "{category}: {first}"
        );
        let counts = &report["counts"];
        assert_eq!(
            (
                counts["puts"].as_u64(),
                counts["updates"].as_u64(),
                counts["deletes"].as_u64()
            ),
            (Some(0), Some(0), Some(0)),
            "{category}: {report}"
        );
        let touched = scan(&table)
            .iter()
            .filter(|item| item.contains_key("touched"))
            .count();
        assert_eq!(touched, 0, "{category}: something was written");
        let _ = block_on(client().delete_table().table_name(&table).send());
    }
}

#[test]
fn good_actions_of_every_shape_pass_the_checks_and_are_applied() {
    let _tables = MODEL_TABLES.lock().unwrap_or_else(|e| e.into_inner());
    model_tables();
    let (table, meta) = (unique("valid"), unique("meta"));
    indexed_table(&table);
    // Within the limits: index keys written with their types, an item grown to 350 KB, a put
    // into another table, placeholders shared with a condition.
    let items: Vec<Item> = (0..40)
        .map(|i| {
            let mut script = vec![touch(i)];
            script.push(map(vec![
                ("kind", s("update")),
                ("key", map(key(i))),
                ("expr", s("SET email = :e, #r = :r ADD visits_x :one")),
                ("names", map(vec![("#r", s("rank"))])),
                (
                    "values",
                    map(vec![
                        (":e", s(&format!("new{i}@example.com"))),
                        (":r", n(3)),
                        (":one", n(1)),
                        (":min", n(0)),
                    ]),
                ),
                ("cond", s("attribute_exists(pk) AND #r >= :min")),
            ]));
            if i % 10 == 3 {
                script.push(map(vec![
                    ("kind", s("update")),
                    ("key", map(key(i))),
                    ("expr", s("SET pad_x = :b")),
                    ("values", map(vec![(":b", Value::B(vec![1; 40 * 1024]))])),
                ]));
            }
            script.push(map(vec![
                ("kind", s("put")),
                ("table", s("model_n")),
                ("item", map(vec![("k", n(9_000_000 + i as i64))])),
            ]));
            item(i, script)
        })
        .collect();
    put_items(&table, &items);
    let (output, report) = run(&table, &meta);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(report["status"], "applied", "{report}");
    let after = scan(&table);
    assert_eq!(after.len(), 40);
    for item in &after {
        assert_eq!(item.get("touched"), Some(&Value::Bool(true)));
        assert_eq!(item.get("rank"), Some(&n(3)));
        assert!(2 * item.size() <= 400 * 1024);
    }
    let _ = block_on(client().delete_table().table_name(&table).send());
}

#[test]
fn an_apply_refused_by_dynamodb_names_the_write_and_counts_exactly() {
    let _tables = MODEL_TABLES.lock().unwrap_or_else(|e| e.into_inner());
    model_tables();
    let (table, meta) = (unique("valid"), unique("meta"));
    indexed_table(&table);
    // Every item updates another item, which the checks cannot read: for one of them, that
    // item's `email` is a number... which its table's index would never hold, so the other
    // item's `counter_x` is a string instead, and `+ :one` on it is refused at write time.
    let items: Vec<Item> = (0..ITEMS)
        .map(|i| {
            let other = (i + 1) % ITEMS;
            let step = map(vec![
                ("kind", s("update")),
                ("key", map(key(other))),
                ("expr", s("SET counter_x = counter_x + :one")),
                ("values", map(vec![(":one", n(1))])),
            ]);
            let mut item = item(i, vec![step]);
            let counter = if i == 57 { s("text") } else { n(0) };
            item.insert("counter_x".to_owned(), counter);
            item
        })
        .collect();
    put_items(&table, &items);
    let (output, report) = run(&table, &meta);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let error = report["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("update on `") && error.contains("\"pk\":{\"S\":\"p57\"}"),
        "{error}"
    );
    assert!(error.contains("ValidationException"), "{error}");
    let changed = scan(&table)
        .iter()
        .filter(|item| item.get("counter_x") == Some(&n(1)))
        .count() as u64;
    let applied = report["counts"]["updates"].as_u64().unwrap();
    assert_eq!(applied, changed, "{report}");
    assert!(
        error.contains(&format!("; {changed} of {ITEMS} actions were applied")),
        "{error}"
    );
    // Mended, the next run resumes the apply: every counter ends at exactly 1 (each update
    // applied once, whether before the failure or after the resume).
    let p57: Item = key(57)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    block_on(
        client()
            .update_item()
            .table_name(&table)
            .set_key(Some(to_aws_item(&p57)))
            .update_expression("SET counter_x = :zero")
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .send(),
    )
    .unwrap();
    let (output, report) = run(&table, &meta);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(report["counts"]["updates"], ITEMS as u64, "{report}");
    let counters: Vec<Option<Value>> = scan(&table)
        .iter()
        .map(|item| item.get("counter_x").cloned())
        .collect();
    assert!(counters.iter().all(|c| c == &Some(n(1))), "{counters:?}");
    let _ = block_on(client().delete_table().table_name(&table).send());
}
