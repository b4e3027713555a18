//! The AssemblyScript SDK through its example: the same migration as the Rust one must give the
//! same output, offline and against DynamoDB Local, and its memory must not grow across calls.

use std::sync::Arc;
use std::time::Duration;

use drift_host::engine::{self, GuestContext, ItemError, Job, Limits, Pool, Runtime};
use drift_host::model::item::{Item, Value};
use drift_host::model::operation::Operation;

use crate::dynamodb::{by_id, drift, fill, scan_all, users};
use crate::support::{
    as_db_probe, as_guest, block_on, client, drift_host, guest, root, stderr, stdout, unique,
};

/// `exec` of both examples over `input`: stdout and stderr must be identical.
fn same_exec(input: &str, extra: &[&str]) {
    let run = |wasm: &str| {
        let mut args = vec!["exec", wasm, "--input", input, "--key", "id"];
        args.extend_from_slice(extra);
        drift_host(&args, None)
    };
    let rust = run(guest("users_v2").to_str().unwrap());
    let assemblyscript = run(as_guest().to_str().unwrap());
    assert!(
        !stdout(&rust).is_empty(),
        "{input}: no output at all: {}",
        stderr(&rust)
    );
    assert_eq!(
        stdout(&assemblyscript),
        stdout(&rust),
        "{input} {extra:?}: stdout differs"
    );
    assert_eq!(
        stderr(&assemblyscript),
        stderr(&rust),
        "{input} {extra:?}: stderr differs"
    );
    assert_eq!(assemblyscript.status.code(), rust.status.code());
}

#[test]
fn assemblyscript_and_rust_print_identical_actions() {
    let data = |name: &str| root().join("tests/data").join(name).display().to_string();
    let sample = root()
        .join("example-migrations/users_v2/sample/users.json")
        .display()
        .to_string();
    for input in [
        data("users_mixed.json"),
        data("users_unicode.jsonl"),
        sample,
    ] {
        same_exec(&input, &[]);
    }
    same_exec(&data("users_v2.migrated.jsonl"), &["--rollback"]);
    // The lowercasing itself, beyond "both agree": final sigma, dotted İ, capital ẞ.
    let wasm = as_guest();
    let output = drift_host(
        &[
            "exec",
            wasm.to_str().unwrap(),
            "--input",
            &data("users_unicode.jsonl"),
            "--key",
            "id",
        ],
        None,
    );
    let out = stdout(&output);
    for expected in [
        "οδυσσευς@ithaca.gr",
        "i\u{307}stanbul@örnek.com.tr",
        "strasse@ß.de",
        "𐐨𐐩@deseret.example",
    ] {
        assert!(out.contains(expected), "{expected} missing from {out}");
    }
    assert!(stderr(&output).contains("user's `email` is of type N, expected a string (S)"));
}

fn user(id: usize, blob: usize) -> Item {
    [
        ("id".to_string(), Value::S(format!("u-{id:06}"))),
        (
            "email".to_string(),
            Value::S(format!("Someone.{id}@Example.COM")),
        ),
        (
            "name".to_string(),
            Value::S("Ünïcödé ñame 🦀".repeat(1 + blob / 40_000)),
        ),
        ("blob".to_string(), Value::B(vec![7; blob])),
        ("tags".to_string(), Value::Ss(vec!["a".into(), "b".into()])),
    ]
    .into_iter()
    .collect()
}

/// Runs `count` items of `blob` bytes through the AS example under a memory cap.
fn run_many(count: usize, blob: usize, memory_mib: usize) -> Vec<Result<usize, ItemError>> {
    let limits = Limits {
        deadline: Duration::from_secs(5),
        memory_bytes: memory_mib << 20,
        max_actions_per_item: 10,
    };
    let runtime = Runtime::new(limits, 2).unwrap();
    let migration = Arc::new(engine::load(&runtime, &as_guest(), None).unwrap());
    let context = GuestContext {
        tables: migration.tables(None),
        store: None,
        schemas: None,
    };
    let mut pool: Pool<usize> = Pool::start(migration, Operation::Migrate, 2, context);
    let sender = pool.sender();
    pool.close();
    let feeder = std::thread::spawn(move || {
        for n in 0..count {
            sender
                .send(vec![Job {
                    tag: n,
                    item: user(n, blob),
                }])
                .unwrap();
        }
    });
    let results = pool
        .outcomes()
        .iter()
        .flatten()
        .map(|o| o.result.map(|a| a.len()))
        .collect();
    feeder.join().unwrap();
    results
}

#[test]
fn assemblyscript_memory_does_not_grow_across_calls() {
    // 100 000 calls on ~1 KB items and 1 000 on ~300 KB items, each under a cap that a leak of
    // even a fraction of the items would exceed (100 MB and 300 MB of input in all).
    let small = run_many(100_000, 900, 8);
    assert_eq!(small.len(), 100_000);
    assert!(
        small.iter().all(|r| r == &Ok(1)),
        "{:?}",
        small.iter().find(|r| r != &&Ok(1))
    );
    let large = run_many(1_000, 300 * 1024, 16);
    assert_eq!(large.len(), 1_000);
    assert!(
        large.iter().all(|r| r == &Ok(1)),
        "{:?}",
        large.iter().find(|r| r != &&Ok(1))
    );
}

#[test]
fn assemblyscript_and_rust_leave_identical_tables() {
    let client = client();
    let items = users(1000);
    let (rust_table, as_table) = (unique("users_rs"), unique("users_as"));
    block_on(fill(&client, &rust_table, &items));
    block_on(fill(&client, &as_table, &items));
    let rust = guest("users_v2");
    let assemblyscript = as_guest();
    for (wasm, table) in [
        (rust.to_str().unwrap(), &rust_table),
        (assemblyscript.to_str().unwrap(), &as_table),
    ] {
        let (code, report, err) = drift("run", wasm, table, &unique("meta"), &[]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(report.unwrap()["counts"]["updates"], 1000);
    }
    let migrated = block_on(scan_all(&client, &rust_table));
    assert_ne!(migrated, by_id(&items), "the migration changed the table");
    assert_eq!(block_on(scan_all(&client, &as_table)), migrated);
}

#[test]
fn assemblyscript_reaches_every_immediate_operation() {
    use crate::dynamodb::fill;
    use drift_host::aws::{create_table, Billing};
    let client = client();
    let (table, meta) = (unique("asdb"), unique("meta"));
    // `asdb_side` is the probe's declared other table, shared by runs: ids are this test's own.
    block_on(create_table(
        &client,
        &Default::default(),
        "asdb_side",
        ("id", aws_sdk_dynamodb::types::ScalarAttributeType::S),
        None,
        Billing::OnDemand,
    ))
    .unwrap();
    let items: Vec<Item> = (0..30)
        .map(|n| {
            let mut item: Item = [("id".to_string(), Value::S(format!("{table}-{n:02}")))]
                .into_iter()
                .collect();
            if n % 3 == 0 {
                item.insert("drop".into(), Value::Bool(true));
            }
            item
        })
        .collect();
    block_on(fill(&client, &table, &items));
    let (code, report, err) = drift("run", as_db_probe().to_str().unwrap(), &table, &meta, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(report.unwrap()["counts"]["updates"], 30);
    let main = block_on(scan_all(&client, &table));
    assert!(main
        .values()
        .all(|item| item.get("probed") == Some(&Value::Bool(true))));
    let side: Vec<Item> = block_on(scan_all(&client, "asdb_side"))
        .into_iter()
        .filter(|(id, _)| id.starts_with(&format!("{table}-")))
        .map(|(_, item)| item)
        .collect();
    assert_eq!(
        side.len(),
        20,
        "the side items of the 10 `drop` items were deleted"
    );
    assert!(side
        .iter()
        .all(|item| item.get("n") == Some(&Value::N("7".into()))
            && item.get("copied") == Some(&Value::Bool(true))));
}
