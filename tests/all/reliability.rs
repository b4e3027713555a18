//! The lease lock, a run that dies or loses its lease, and DynamoDB failing under a run.

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use drift_host::model::item::Item;

use crate::dynamodb::{
    by_id, drift, fill, hostile_copy_table, hostile_items, scan_all, status_json, users,
};
use crate::support::{block_on, client, drift_host, guest, spawn_drift_host, stderr, unique};

/// The status of migration `number`'s record in `meta`, read directly.
pub(crate) fn record_status(client: &Client, meta: &str, number: u64) -> Option<String> {
    block_on(async {
        let key = [(
            "id".to_string(),
            AttributeValue::S(format!("migration#{number:020}")),
        )]
        .into_iter()
        .collect();
        let output = client
            .get_item()
            .table_name(meta)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .ok()?;
        match output.item?.get("status")? {
            AttributeValue::S(status) => Some(status.clone()),
            _ => None,
        }
    })
}

/// Starts a slow run of the hostile guest (50 ms per item, one instance) and waits until its
/// record says `running`.
pub(crate) fn start_slow_run(
    client: &Client,
    items: usize,
    meta: &str,
    extra: &[&str],
) -> (Child, String) {
    let table = unique("hostile");
    hostile_copy_table(client);
    block_on(fill(client, &table, &hostile_items(items, "slow")));
    let wasm = guest("drift_test_guests");
    let mut args = vec![
        "run",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        meta,
        "--concurrency",
        "1",
        "--segments",
        "1",
    ];
    args.extend_from_slice(extra);
    let mut child = spawn_drift_host(&args);
    let deadline = Instant::now() + Duration::from_secs(60);
    while record_status(client, meta, 900).as_deref() != Some("running") {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!(
                "the run ended ({status}) early: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, table)
}

/// Writes a lock item held by `owner` until `expires_at` (Unix seconds), as another run would.
fn plant_lock(client: &Client, meta: &str, owner: &str, expires_at: u64) {
    let item = [
        ("id", AttributeValue::S("lock".into())),
        ("owner", AttributeValue::S(owner.into())),
        (
            "purpose",
            AttributeValue::S("migrate other #1 on `x`".into()),
        ),
        ("host", AttributeValue::S("elsewhere pid 1".into())),
        (
            "acquired_at",
            AttributeValue::S("2026-01-01T00:00:00Z".into()),
        ),
        ("expires_at", AttributeValue::N(expires_at.to_string())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    block_on(
        client
            .put_item()
            .table_name(meta)
            .set_item(Some(item))
            .send(),
    )
    .unwrap();
}

pub(crate) fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_cancelled_run_is_never_marked_applied() {
    let client = client();
    let meta = unique("meta");
    let (child, table) = start_slow_run(&client, 600, &meta, &[]);
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "-TERM");
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record = &status_json(&meta)[0];
    assert_eq!(record["status"], "failed");
    assert!(
        record["last_error"].as_str().unwrap().contains("cancelled"),
        "{record}"
    );
    assert_eq!(
        block_on(scan_all(&client, &table)),
        by_id(&hostile_items(600, "slow")),
        "nothing was written"
    );
    assert!(
        record["last_error"].as_str().unwrap().contains("resume"),
        "{record}"
    );

    // The next run resumes where the cancelled one stopped (slowly: 50 ms an item; a quick
    // guest would not show that the scan did not start over, the counts do).
    let (code, report, err) = drift(
        "run",
        guest("drift_test_guests").to_str().unwrap(),
        &table,
        &meta,
        &["--concurrency", "2", "--segments", "1"],
    );
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    assert_eq!(report["counts"]["items_scanned"], 600, "{report}");
    assert_eq!(report["counts"]["updates"], 600, "{report}");
    assert!(
        report["actions_journaled"].as_u64().unwrap() == 600,
        "{report}"
    );
}

#[test]
fn a_running_migration_publishes_its_progress_in_the_metadata_record() {
    let client = client();
    let meta = unique("meta");
    // Pages of 5 slow items complete every quarter second; checkpoints every 20 ms are
    // published every 400 ms.
    let (mut child, _) = start_slow_run(
        &client,
        200,
        &meta,
        &["--page-size", "5", "--checkpoint-interval-ms", "20"],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let progress = loop {
        let record = &status_json(&meta)[0];
        let progress = record["progress"].as_str().unwrap_or_default().to_owned();
        let items: u64 = progress
            .strip_prefix("scan: ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if items >= 10 {
            break progress;
        }
        assert!(Instant::now() < deadline, "no progress published: {record}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(progress.contains("pages journaled"), "{progress}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_second_run_is_refused_while_a_live_lease_exists() {
    let client = client();
    let meta = unique("meta");
    let (child, _) = start_slow_run(&client, 600, &meta, &[]);

    let other = unique("users");
    block_on(fill(&client, &other, &users(5)));
    let (code, _, err) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &other,
        &meta,
        &[],
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!(
            "metadata table `{meta}` is locked by migrate hostile #900"
        )),
        "{err}"
    );
    assert!(err.contains("lease expires in"), "{err}");

    let output = drift_host(&["unlock", "--meta-table", &meta], None);
    assert_eq!(
        output.status.code(),
        Some(3),
        "a live lease is not removed without --force"
    );
    assert!(stderr(&output).contains("that run looks alive"));

    // The holder stops cleanly and gives the lock back: the other migration can run.
    signal(&child, "-TERM");
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(1));
    let (code, report, err) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &other,
        &meta,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(report.unwrap()["status"], "applied");
}

#[test]
fn a_killed_run_leaves_an_expiring_lease_and_is_resumed() {
    let client = client();
    let meta = unique("meta");
    let (mut child, table) = start_slow_run(&client, 60, &meta, &["--lease-seconds", "3"]);
    signal(&child, "-KILL");
    child.wait().unwrap();

    // Until the lease runs out, the dead run still holds the lock; then the next run takes
    // over and resumes: every item is counted and updated once.
    let mut attempts = 0;
    let (code, report, err) = loop {
        let (code, report, err) = drift(
            "run",
            guest("drift_test_guests").to_str().unwrap(),
            &table,
            &meta,
            &[],
        );
        attempts += 1;
        if code == 3 && err.contains("is locked by") && attempts < 3 {
            assert_eq!(
                record_status(&client, &meta, 900).as_deref(),
                Some("running")
            );
            std::thread::sleep(Duration::from_secs(2));
            continue;
        }
        break (code, report, err);
    };
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    assert_eq!(report["counts"]["updates"], 60, "{report}");
    assert_eq!(report["counts"]["items_scanned"], 60, "{report}");
    assert_eq!(status_json(&meta)[0]["status"], "applied");
}

#[test]
fn unlock_removes_an_expired_lock_and_a_live_one_only_with_force() {
    let client = client();
    let meta = unique("meta");
    // Create the metadata table through a first run, then plant locks by hand.
    let table = unique("users");
    block_on(fill(&client, &table, &users(2)));
    let (code, _, err) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &table,
        &meta,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let plant = |expires_at: u64| plant_lock(&client, &meta, "someone-else", expires_at);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    plant(now - 10);
    let output = drift_host(&["unlock", "--meta-table", &meta], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("removed the lock") && stderr(&output).contains("someone-else")
    );

    plant(now + 3600);
    assert_eq!(
        drift_host(&["unlock", "--meta-table", &meta], None)
            .status
            .code(),
        Some(3)
    );
    let output = drift_host(&["unlock", "--meta-table", &meta, "--force"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&drift_host(&["unlock", "--meta-table", &meta], None)).contains("is not locked")
    );

    // An expired lock does not stop a run: it is taken over.
    plant(now - 10);
    let other = unique("users");
    block_on(fill(&client, &other, &users(2)));
    let (code, _, err) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &other,
        &unique("meta"),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let meta_table_of_planted = meta.clone();
    let (code, _, err) = drift(
        "undo",
        guest("users_v2").to_str().unwrap(),
        &table,
        &meta_table_of_planted,
        &[],
    );
    assert_eq!(code, 0, "an expired lease is taken over: {err}");
}

#[test]
fn a_run_that_loses_its_lease_stops_and_is_never_marked_applied() {
    let client = client();
    let meta = unique("meta");
    let (child, table) = start_slow_run(&client, 600, &meta, &["--lease-seconds", "3"]);
    // Another run takes the lock over (as if this one had been paused past its lease).
    plant_lock(&client, &meta, "usurper", 99_999_999_999);
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("lost the lock"), "{err}");
    assert!(
        err.contains("(another run took it over); it stopped and wrote nothing more"),
        "{err}"
    );
    assert_eq!(
        record_status(&client, &meta, 900).as_deref(),
        Some("running"),
        "the record was not overwritten"
    );
    let before = by_id(&hostile_items(600, "slow"));
    let after: BTreeMap<String, Item> = block_on(scan_all(&client, &table));
    assert_eq!(after, before, "nothing was written");
}

#[test]
fn hostile_guests_in_a_run_are_contained_named_and_nothing_is_applied() {
    let client = client();
    let (table, meta) = (unique("hostile"), unique("meta"));
    hostile_copy_table(&client);
    let behaviours = [
        "loop",
        "memory",
        "recurse",
        "trap",
        "bad-index",
        "cycle",
        "undeclared-table",
        "big-item",
        "many-actions",
        "db-undeclared",
    ];
    let mut items = hostile_items(40, "touch");
    for (n, behave) in behaviours.iter().enumerate() {
        items[n * 4].insert(
            "behave".into(),
            drift_host::model::item::Value::S((*behave).into()),
        );
    }
    block_on(fill(&client, &table, &items));
    let (code, report, err) = drift(
        "run",
        guest("drift_test_guests").to_str().unwrap(),
        &table,
        &meta,
        &[
            "--deadline-ms",
            "300",
            "--memory-mb",
            "64",
            "--max-actions-per-item",
            "1000",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let report = report.unwrap();
    assert_eq!(report["status"], "failed");
    assert_eq!(report["counts"]["errors"], behaviours.len() as u64);
    let failures = report["failures"].as_array().unwrap();
    for (n, behave) in behaviours.iter().enumerate() {
        let id = format!("h-{:04}", n * 4);
        let failure = failures
            .iter()
            .find(|f| f["key"]["id"]["S"] == id.as_str())
            .unwrap_or_else(|| panic!("{behave} ({id}) is not reported: {failures:?}"));
        let expected = match *behave {
            "loop" => "CPU deadline",
            "memory" => "memory cap",
            "recurse" => "guest trapped",
            "trap" => "trapped on purpose",
            "bad-index" => "out of range",
            "cycle" => "referenced more than once",
            "undeclared-table" | "db-undeclared" => "is not declared in the migration's info()",
            "big-item" => "over DynamoDB's limit",
            _ => "more than the limit of 1000",
        };
        assert!(
            failure["error"].as_str().unwrap().contains(expected),
            "{behave}: {failure}"
        );
    }
    assert_eq!(
        block_on(scan_all(&client, &table)),
        by_id(&items),
        "nothing was applied"
    );
    assert_eq!(status_json(&meta)[0]["status"], "failed");
}

#[test]
fn bad_input_is_one_line_a_nonzero_exit_and_writes_nothing() {
    let client = client();
    let table = unique("users");
    block_on(fill(&client, &table, &users(3)));
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let not_wasm = write("notes.wasm", b"this is not wasm");
    let other_world = write(
        "other.wasm",
        &wat::parse_str(r#"(component (import "wasi:foo/bar" (func)))"#).unwrap(),
    );
    let no_rollback = write(
        "partial.wasm",
        &wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "info") (result i32) (i32.const 0)))"#).unwrap(),
    );
    let users_v2 = guest("users_v2").display().to_string();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["run", &not_wasm], 2, "not a WebAssembly file"),
        (
            vec!["run", &other_world],
            2,
            "not a drift:migration component",
        ),
        (
            vec!["run", &no_rollback],
            2,
            "does not implement the drift:migration world",
        ),
        (
            vec![
                "run",
                &users_v2,
                "--endpoint-url",
                "http://127.0.0.1:9",
                "--max-attempts",
                "2",
            ],
            2,
            "cannot reach DynamoDB",
        ),
        (
            vec!["run", &users_v2, "--table", "no_such_table"],
            2,
            "table `no_such_table` does not exist",
        ),
    ];
    for (args, code, expected) in cases {
        let meta = unique("meta");
        let mut args = args.clone();
        args.extend_from_slice(&["--meta-table", &meta]);
        let output = drift_host(&args, None);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        block_on(scan_all(&client, &table)),
        by_id(&users(3)),
        "nothing was written"
    );

    // A metadata table holding records drift-host did not write.
    let meta = unique("meta");
    block_on(fill(&client, &meta, &[]));
    let foreign = [
        (
            "id".to_string(),
            AttributeValue::S("migration#00000000000000000002".into()),
        ),
        ("status".to_string(), AttributeValue::S("done?".into())),
    ]
    .into_iter()
    .collect();
    block_on(
        client
            .put_item()
            .table_name(&meta)
            .set_item(Some(foreign))
            .send(),
    )
    .unwrap();
    let (code, _, err) = drift("run", &users_v2, &table, &meta, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("holds a record drift-host cannot read"),
        "{err}"
    );
    assert_eq!(
        block_on(scan_all(&client, &table)),
        by_id(&users(3)),
        "nothing was written"
    );
}

#[test]
fn consumed_capacity_is_reported_and_capped() {
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    block_on(fill(&client, &table, &users(300)));
    let (code, report, err) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &table,
        &meta,
        &["--max-wcu", "100", "--max-rcu", "100"],
    );
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    let (wcu, rcu) = (
        report["consumed_wcu"].as_f64().unwrap(),
        report["consumed_rcu"].as_f64().unwrap(),
    );
    assert!(
        wcu >= 300.0,
        "every update consumes at least one WCU: {wcu}"
    );
    assert!(rcu > 0.0, "the scan's read units are counted: {rcu}");
    // A budget of 100 WCU/s holds one second's worth: the rest of the units take their time.
    // (A lower bound only: a slow machine can only make the run longer.)
    let floor = (wcu - 100.0) / 100.0;
    assert!(
        report["duration_seconds"].as_f64().unwrap() >= floor * 0.95,
        "{report}"
    );
}

/// Items of `table` the `touch` behaviour has written.
pub(crate) fn touched(client: &Client, table: &str) -> usize {
    block_on(scan_all(client, table))
        .values()
        .filter(|item| item.contains_key("touched"))
        .count()
}

/// A run paused (SIGSTOP) past its lease while it applies, whose lock another run takes over,
/// writes nothing once it is woken (SIGCONT): its requests are fenced by the lease, not only
/// its metadata writes.
#[test]
fn a_run_paused_past_its_lease_writes_nothing_after_waking() {
    let client = client();
    let (table, meta) = (unique("hostile"), unique("meta"));
    hostile_copy_table(&client);
    block_on(fill(&client, &table, &hostile_items(4000, "touch")));
    let wasm = guest("drift_test_guests");
    let args = [
        "run",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--lease-seconds",
        "3",
        "--apply-concurrency",
        "1",
        // One item per request, so that "one request in flight" is one item below (batched
        // statements go through the same fence).
        "--no-batch-updates",
    ];
    let child = spawn_drift_host(&args);
    let deadline = Instant::now() + Duration::from_secs(120);
    while touched(&client, &table) < 200 {
        assert!(Instant::now() < deadline, "the apply never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(&child, "-STOP");
    // Requests already sent land now; after that, nothing may change.
    std::thread::sleep(Duration::from_secs(1));
    let before = touched(&client, &table);
    assert!(before < 4000, "the apply finished before the pause");
    // Past the lease: another run takes the lock over and runs to the end.
    std::thread::sleep(Duration::from_secs(4));
    let other = unique("users");
    block_on(fill(&client, &other, &users(5)));
    let (code, _, err) = drift(
        "run",
        guest("users_v2").to_str().unwrap(),
        &other,
        &meta,
        &[],
    );
    assert_eq!(code, 0, "the other run takes the expired lock: {err}");
    signal(&child, "-CONT");
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("lost the lock"), "{err}");
    // No request starts after the lease ran out. One write lane has at most one request in
    // flight, and one handed to the network just before the process froze may still land
    // when it wakes: no client can take back bytes already on their way.
    let after = touched(&client, &table);
    assert!(
        after <= before + 1,
        "the woken run wrote {} items after losing its lease",
        after - before
    );
    assert_eq!(
        record_status(&client, &meta, 900).as_deref(),
        Some("running")
    );
}
