//! `run`, `undo` and `status` against DynamoDB Local, with real guests.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::ScalarAttributeType;
use aws_sdk_dynamodb::Client;
use drift_host::aws::convert::from_aws_item;
use drift_host::aws::{create_table, Billing};
use drift_host::load::load;
use drift_host::model::item::{to_json_item, Item, Value as AttrValue};
pub(crate) use drift_host::preview::canonical_item;
use serde_json::Value;

use crate::support::{block_on, client, drift_host, guest, stderr, stdout, table_exists, unique};

fn s(text: &str) -> AttrValue {
    AttrValue::S(text.to_owned())
}

fn n(number: impl ToString) -> AttrValue {
    AttrValue::N(number.to_string())
}

/// Deterministic users with nested maps, lists, every set type, binary and unicode.
pub(crate) fn users(count: usize) -> Vec<Item> {
    let mut rng = fastrand::Rng::with_seed(7);
    let names = [
        "Ada Lovelace",
        "Grace Hopper",
        "Kurt Gödel",
        "Émilie du Châtelet",
        "李白",
        "Алан Тьюринг",
    ];
    (0..count)
        .map(|i| {
            let mut item = Item::new();
            item.insert("id".into(), s(&format!("u-{i:05}")));
            let name = names[i % names.len()];
            item.insert(
                "email".into(),
                s(&format!(
                    "{}.{i}@Example.COM",
                    name.split(' ').next().unwrap()
                )),
            );
            if i % 7 != 0 {
                item.insert("name".into(), s(name));
            }
            let mut address = Item::new();
            address.insert("city".into(), s(["Zürich", "Oslo", "東京"][i % 3]));
            address.insert(
                "geo".into(),
                AttrValue::L(vec![
                    n(rng.i32(-90..90)),
                    n(format!("{}.{}", rng.u8(..), rng.u16(..))),
                ]),
            );
            address.insert("primary".into(), AttrValue::Bool(i % 2 == 0));
            item.insert(
                "profile".into(),
                AttrValue::M(
                    [
                        ("address".to_string(), AttrValue::M(address)),
                        ("nothing".to_string(), AttrValue::Null),
                        (
                            "history".to_string(),
                            AttrValue::L(vec![
                                AttrValue::L(vec![s("nested"), n(i)]),
                                AttrValue::M(Item::new()),
                            ]),
                        ),
                    ]
                    .into_iter()
                    .collect(),
                ),
            );
            item.insert(
                "tags".into(),
                AttrValue::Ss(vec!["a".into(), format!("t{}", i % 5), "🦀".into()]),
            );
            item.insert(
                "scores".into(),
                AttrValue::Ns(vec![
                    "1".into(),
                    format!("{}", i + 2),
                    "12345678901234567890123456789012345678".into(),
                ]),
            );
            let avatar: Vec<u8> = (0..rng.usize(1..64)).map(|_| rng.u8(..)).collect();
            item.insert("avatar".into(), AttrValue::B(avatar));
            item.insert(
                "keys".into(),
                AttrValue::Bs(vec![vec![0, 1], vec![i as u8, 255]]),
            );
            item
        })
        .collect()
}

/// What users_v2 makes of a version-1 user.
pub(crate) fn migrated(user: &Item) -> Item {
    let mut out = user.clone();
    let AttrValue::S(email) = &user["email"] else {
        panic!("email")
    };
    out.insert("email_lower".into(), s(&email.to_lowercase()));
    out.insert("schema_version".into(), n(2));
    if let Some(name) = out.remove("name") {
        out.insert("full_name".into(), name);
    }
    out
}

pub(crate) async fn fill(client: &Client, table: &str, items: &[Item]) {
    fill_keyed(client, table, "id", items).await
}

/// Creates `table` with the string partition key `key` and writes `items` into it.
pub(crate) async fn fill_keyed(client: &Client, table: &str, key: &str, items: &[Item]) {
    create_table(
        client,
        &Default::default(),
        table,
        (key, ScalarAttributeType::S),
        None,
        Billing::OnDemand,
    )
    .await
    .unwrap();
    let lines: String = items
        .iter()
        .map(|item| format!("{{\"Item\": {}}}\n", to_json_item(item)))
        .collect();
    load(
        client,
        &Default::default(),
        table,
        Box::new(std::io::Cursor::new(lines.into_bytes())),
    )
    .await
    .unwrap();
}

pub(crate) async fn scan_all(client: &Client, table: &str) -> BTreeMap<String, Item> {
    scan_keyed(client, table, "id").await
}

/// Every item of `table` (canonical, see [`canonical_item`]) by its string attribute `key`.
pub(crate) async fn scan_keyed(client: &Client, table: &str, key: &str) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for raw in page.items() {
            let item = canonical_item(&from_aws_item(raw).unwrap());
            let AttrValue::S(id) = &item[key] else {
                panic!("{key}")
            };
            out.insert(id.clone(), item);
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return out;
        }
    }
}

pub(crate) fn by_id(items: &[Item]) -> BTreeMap<String, Item> {
    by_key(items, "id")
}

/// `items` (canonical, see [`canonical_item`]) by their string attribute `key`.
pub(crate) fn by_key(items: &[Item], key: &str) -> BTreeMap<String, Item> {
    items
        .iter()
        .map(|item| match &item[key] {
            AttrValue::S(id) => (id.clone(), canonical_item(item)),
            other => panic!("{key} {other:?}"),
        })
        .collect()
}

/// Runs `drift-host <command> <wasm> --table <table> --meta-table <meta> --report - <extra>`;
/// returns the exit code, the report (if any) and stderr.
pub(crate) fn drift(
    command: &str,
    wasm: &str,
    table: &str,
    meta: &str,
    extra: &[&str],
) -> (i32, Option<Value>, String) {
    let mut args = vec![
        command,
        wasm,
        "--table",
        table,
        "--meta-table",
        meta,
        "--report",
        "-",
    ];
    args.extend_from_slice(extra);
    let output = drift_host(&args, None);
    let report = serde_json::from_str(&stdout(&output)).ok();
    (output.status.code().unwrap_or(-1), report, stderr(&output))
}

pub(crate) fn status_json(meta: &str) -> Value {
    let output = drift_host(&["status", "--meta-table", meta, "--output", "json"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["exit_code"], 0, "{document}");
    document["migrations"].clone()
}

#[test]
fn users_v2_migrates_thousands_of_items_and_undo_restores_them_exactly() {
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    let original = users(3000);
    block_on(fill(&client, &table, &original));
    let wasm = guest("users_v2");
    let wasm = wasm.to_str().unwrap();

    let (code, report, err) = drift(
        "run",
        wasm,
        &table,
        &meta,
        &["--segments", "4", "--concurrency", "2"],
    );
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    assert_eq!(report["status"], "applied");
    assert_eq!(report["counts"]["items_scanned"], 3000);
    assert_eq!(report["counts"]["updates"], 3000);
    let expected: BTreeMap<_, _> = by_id(&original)
        .into_iter()
        .map(|(id, item)| (id, canonical_item(&migrated(&item))))
        .collect();
    let after = block_on(scan_all(&client, &table));
    assert_eq!(after.len(), expected.len());
    for (id, item) in &expected {
        assert_eq!(after.get(id), Some(item), "item {id}");
    }

    // Running it again has nothing to do: a success that writes nothing, as for a folder.
    let (code, report, err) = drift("run", wasm, &table, &meta, &[]);
    assert_eq!(code, 0, "a re-run has nothing to do: {err}");
    assert!(err.contains("is already applied"), "{err}");
    let report = report.unwrap();
    assert_eq!(report["up_to_date"], true, "{report}");
    assert_eq!(report["exit_code"], 0, "{report}");
    assert_eq!(block_on(scan_all(&client, &table)), after);

    let records = status_json(&meta);
    assert_eq!(records[0]["status"], "applied");
    assert_eq!(records[0]["number"], 2);
    assert_eq!(records[0]["table"], table.as_str());

    let (code, report, err) = drift("undo", wasm, &table, &meta, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(report.unwrap()["status"], "rolled_back");
    assert_eq!(
        block_on(scan_all(&client, &table)),
        by_id(&original),
        "undo restores every item exactly"
    );
    assert_eq!(status_json(&meta)[0]["status"], "rolled_back");

    // Undoing it again has nothing to do: a success.
    let (code, _, err) = drift("undo", wasm, &table, &meta, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("is already rolled back"), "{err}");
}

/// `module` with a custom section appended: same behaviour, another checksum (a file of its own
/// per call, so tests running at once never read one half written).
pub(crate) fn changed_module(module: &std::path::Path) -> std::path::PathBuf {
    let mut bytes = std::fs::read(module).unwrap();
    let name = b"drift-test";
    let payload = b"changed";
    bytes.push(0); // custom section
    bytes.push((1 + name.len() + payload.len()) as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    let path = crate::support::root()
        .join("target")
        .join(format!("{}.wasm", unique("changed_module")));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_changed_module_is_refused_for_an_applied_migration() {
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    block_on(fill(&client, &table, &users(10)));
    let wasm = guest("users_v2");
    let (code, _, err) = drift("run", wasm.to_str().unwrap(), &table, &meta, &[]);
    assert_eq!(code, 0, "{err}");
    let changed = changed_module(&guest("users_v2"));
    for command in ["run", "undo"] {
        let (code, _, err) = drift(command, changed.to_str().unwrap(), &table, &meta, &[]);
        assert_eq!(code, 3, "{command}: {err}");
        assert!(
            err.contains("was applied from a different module"),
            "{command}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn a_table_of_exactly_one_item_gets_its_one_action() {
    // dynamo-drift dropped a lone queued action and still marked the migration applied.
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    let one = users(1);
    block_on(fill(&client, &table, &one));
    let (code, report, err) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &table,
        &meta,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(report.unwrap()["counts"]["updates"], 1);
    let after = block_on(scan_all(&client, &table));
    assert_eq!(after["u-00000"], canonical_item(&migrated(&one[0])));
}

#[test]
fn a_guest_error_leaves_the_table_untouched_and_the_status_failed() {
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    let mut items = users(500);
    items[321].remove("email");
    block_on(fill(&client, &table, &items));
    let (code, report, err) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &table,
        &meta,
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let report = report.unwrap();
    assert_eq!(report["status"], "failed");
    assert_eq!(report["counts"]["errors"], 1);
    assert_eq!(
        report["failures"][0]["key"],
        serde_json::json!({"id": {"S": "u-00321"}})
    );
    assert_eq!(
        report["failures"][0]["error"],
        "migration error: user has no `email` attribute"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        block_on(scan_all(&client, &table)),
        by_id(&items),
        "not one item changed"
    );
    let record = &status_json(&meta)[0];
    assert_eq!(record["status"], "failed");
    assert!(
        record["last_error"].as_str().unwrap().contains("u-00321"),
        "{record}"
    );

    // --fail-fast stops at the first failure; the result is the same: nothing written.
    let meta = unique("meta");
    let (code, report, _) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &table,
        &meta,
        &["--fail-fast"],
    );
    assert_eq!(code, 1);
    assert_eq!(report.unwrap()["status"], "failed");
    assert_eq!(block_on(scan_all(&client, &table)), by_id(&items));
}

/// The test guest declares `hostile_copy` as another table, and a run checks every declared
/// table before it starts: create it once per test run (never dropped: tests share it).
pub(crate) fn hostile_copy_table(client: &Client) {
    static CREATED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    CREATED.get_or_init(|| {
        block_on(create_table(
            client,
            &Default::default(),
            "hostile_copy",
            ("id", ScalarAttributeType::S),
            None,
            Billing::OnDemand,
        ))
        .unwrap()
    });
}

pub(crate) fn hostile_items(count: usize, behave: &str) -> Vec<Item> {
    hostile_items_named("h", count, behave)
}

pub(crate) fn hostile_items_named(prefix: &str, count: usize, behave: &str) -> Vec<Item> {
    (0..count)
        .map(|i| {
            [
                ("id".to_string(), s(&format!("{prefix}-{i:04}"))),
                ("behave".to_string(), s(behave)),
                ("n".to_string(), n(i)),
            ]
            .into_iter()
            .collect()
        })
        .collect()
}

#[test]
fn an_item_deleted_during_the_run_is_a_conflict_not_a_resurrection() {
    let client = client();
    let (table, meta) = (unique("hostile"), unique("meta"));
    hostile_copy_table(&client);
    let mut items = hostile_items(50, "touch");
    items[17].insert("behave".into(), s("deleted-meanwhile"));
    block_on(fill(&client, &table, &items));
    let (code, report, err) = drift(
        "run",
        guest("drift_test_guests").to_str().unwrap(),
        &table,
        &meta,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    assert_eq!(report["status"], "applied");
    assert_eq!(report["counts"]["updates"], 49);
    assert_eq!(report["counts"]["conflicts"], 1);
    assert_eq!(
        report["conflicts"][0]["key"],
        serde_json::json!({"id": {"S": "h-0017"}})
    );
    assert_eq!(
        report["conflicts"][0]["reason"],
        "the item no longer exists (deleted during the run); it was not recreated"
    );
    let after = block_on(scan_all(&client, &table));
    assert_eq!(after.len(), 49, "the deleted item stays deleted");
    assert!(after
        .values()
        .all(|item| item.get("touched") == Some(&AttrValue::Bool(true))));
}

/// Immediate reads count against `--max-rcu`, and the time a guest waits for them (here, for
/// the budget) is not charged to its CPU deadline.
#[test]
fn immediate_operations_share_the_budget_and_waiting_is_not_the_guests_cpu() {
    let client = client();
    let (table, meta) = (unique("hostile"), unique("meta"));
    hostile_copy_table(&client);
    block_on(fill(&client, &table, &hostile_items(6, "lookup")));
    let wasm = guest("drift_test_guests");
    let options = [
        "--max-rcu",
        "2",
        "--deadline-ms",
        "150",
        "--concurrency",
        "1",
    ];
    let (code, report, err) = drift("run", wasm.to_str().unwrap(), &table, &meta, &options);
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    assert_eq!(report["counts"]["updates"], 6, "{report}");
    // Six strongly consistent reads of one unit each, besides the scan's.
    assert!(report["consumed_rcu"].as_f64().unwrap() >= 6.0, "{report}");
    assert!(
        report["duration_seconds"].as_f64().unwrap() >= 1.0,
        "{report}"
    );
}

#[test]
fn immediate_operations_reach_declared_tables_only() {
    let client = client();
    let (table, meta) = (unique("hostile"), unique("meta"));
    hostile_copy_table(&client);
    block_on(fill(&client, &table, &hostile_items(20, "lookup")));
    let wasm = guest("drift_test_guests");
    let (code, report, err) = drift("run", wasm.to_str().unwrap(), &table, &meta, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(report.unwrap()["counts"]["updates"], 20);

    let (table, meta) = (unique("hostile"), unique("meta"));

    hostile_copy_table(&client);
    block_on(fill(&client, &table, &hostile_items(3, "db-undeclared")));
    let (code, report, _) = drift("run", wasm.to_str().unwrap(), &table, &meta, &[]);
    assert_eq!(code, 1);
    let report = report.unwrap();
    assert_eq!(
        report["failures"][0]["error"],
        "migration error: refused: table `not_declared` is not declared in the migration's info()"
    );
}

#[test]
fn a_migration_can_copy_items_into_another_table() {
    // `hostile_copy` is shared by every run: the items carry ids of this test's own.
    let client = client();
    let (table, meta) = (unique("hostile"), unique("meta"));
    hostile_copy_table(&client);
    let items = hostile_items_named(&table, 700, "copy");
    block_on(fill(&client, &table, &items));
    let (code, report, err) = drift(
        "run",
        guest("drift_test_guests").to_str().unwrap(),
        &table,
        &meta,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(report.unwrap()["counts"]["puts"], 700);
    let copied: BTreeMap<String, Item> = block_on(scan_all(&client, "hostile_copy"))
        .into_iter()
        .filter(|(id, _)| id.starts_with(&format!("{table}-")))
        .collect();
    assert_eq!(copied, by_id(&items));
    assert_eq!(
        block_on(scan_all(&client, &table)),
        by_id(&items),
        "the source is unchanged"
    );
}

#[test]
fn a_missing_table_is_one_line_and_nothing_is_recorded() {
    let meta = unique("meta");
    let (code, _, err) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &unique("absent"),
        &meta,
        &[],
    );
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: table `absent_") && err.trim_end().ends_with("` does not exist"),
        "{err}"
    );
    assert!(!table_exists(&meta), "no metadata table was created");
}

#[test]
fn memory_does_not_grow_with_the_number_of_actions() {
    // Actions are spooled to the journal, not held: ten times the actions (80 MB of puts
    // instead of 8 MB) must not cost anything near ten times the memory.
    let client = client();
    let peak = |items: usize| {
        let (table, meta) = (unique("fanout"), unique("meta"));
        hostile_copy_table(&client);
        block_on(fill(&client, &table, &hostile_items(items, "fanout")));
        let (code, report, err) = drift(
            "run",
            guest("drift_test_guests").to_str().unwrap(),
            &table,
            &meta,
            &[],
        );
        assert_eq!(code, 0, "{err}");
        let report = report.unwrap();
        assert_eq!(report["counts"]["puts"], (items * 50) as u64);
        assert_eq!(block_on(scan_all(&client, &table)).len(), items * 51);
        report["peak_rss_bytes"]
            .as_u64()
            .expect("peak RSS is reported on Linux")
    };
    let small = peak(20);
    let large = peak(200);
    let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
    assert!(
        large < small + (40 << 20),
        "peak RSS {:.0} MiB for 10 000 actions vs {:.0} MiB for 1 000: actions are being held in memory",
        mib(large),
        mib(small)
    );
}
