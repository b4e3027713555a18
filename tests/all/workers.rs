//! `run --workers N`: one migration spread over local processes started as an Indexed Job
//! starts them (the same command, `JOB_COMPLETION_INDEX` set), coordinated only through the
//! metadata table; killed workers replaced with and without their work directory.
//!
//! The `mixed` guest (see `crash.rs`) writes every kind of action, non-repeatable ones
//! included, into two tables: every run here must leave exactly what one uninterrupted
//! single-process run leaves.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use serde_json::Value;

use crate::crash::{baseline, mixed_table, normalized, tables, ITEMS};
use crate::dynamodb::{fill, hostile_items_named, scan_all};
use crate::support::{block_on, client, command, guest, root, stderr, stdout, unique};

/// Options of every worker here: 6 segments of about 2 pages, frequent checkpoints; a killed
/// worker's replacement on the same host takes its lease over at once.
const WORKER_OPTIONS: [&str; 10] = [
    "--segments",
    "6",
    "--page-size",
    "20",
    "--checkpoint-interval-ms",
    "20",
    "--lease-seconds",
    "10",
    "--concurrency",
    "1",
];

/// A fresh work directory for one worker.
fn work_dir(name: &str) -> PathBuf {
    let dir = root()
        .join("target")
        .join("test-workers")
        .join(unique(name));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts worker `index` of `workers` as a pod of an Indexed Job would be, optionally killed
/// at a crash point.
fn start(
    table: &str,
    meta: &str,
    workers: u32,
    index: u32,
    dir: &Path,
    crash: Option<&str>,
) -> Child {
    let wasm = guest("drift_test_guests");
    let workers = workers.to_string();
    let mut args = vec![
        "run",
        wasm.to_str().unwrap(),
        "--table",
        table,
        "--meta-table",
        meta,
        "--workers",
        &workers,
        "--report",
        "-",
    ];
    args.extend_from_slice(&WORKER_OPTIONS);
    let mut command = command(&args);
    command
        .env("JOB_COMPLETION_INDEX", index.to_string())
        .env("DRIFT_WORK_DIR", dir)
        .stdin(std::process::Stdio::null());
    if let Some(point) = crash {
        command.env("DRIFT_CRASH_AT", point);
    }
    command.spawn().expect("start a worker")
}

/// How a worker ended: its exit code (None: killed by SIGKILL), its report, its stderr.
fn ended(child: Child) -> (Option<i32>, Option<Value>, String) {
    let output = child.wait_with_output().unwrap();
    if output.status.signal() == Some(9) {
        return (None, None, stderr(&output));
    }
    let report = serde_json::from_str(&stdout(&output)).ok();
    (output.status.code(), report, stderr(&output))
}

/// Checks that every worker succeeded and the tables are what one run leaves.
fn exact(table: &str, workers: Vec<Child>) {
    let (expected, expected_counts) = baseline();
    for (index, worker) in workers.into_iter().enumerate() {
        let (code, report, err) = ended(worker);
        assert_eq!(code, Some(0), "worker {index}: {err}");
        if let Some(report) = report {
            assert_eq!(report["status"], "applied", "worker {index}: {report}");
            assert_eq!(
                &report["counts"], expected_counts,
                "worker {index}: {report}"
            );
        }
    }
    assert_eq!(&tables(table), expected);
}

fn record(meta: &str) -> drift_host::model::item::Item {
    block_on(scan_all(&client(), meta))
        .into_iter()
        .find(|(id, _)| id.starts_with("migration#"))
        .map(|(_, item)| item)
        .expect("the migration's record")
}

/// No coordination item, marker or lock is left once the run is applied.
fn clean(meta: &str) {
    let left: Vec<String> = block_on(scan_all(&client(), meta))
        .into_keys()
        .filter(|id| !id.starts_with("migration#"))
        .collect();
    assert!(left.is_empty(), "left in the metadata table: {left:?}");
}

#[test]
fn three_workers_leave_exactly_what_one_run_leaves() {
    let (table, meta) = (mixed_table(), unique("meta"));
    let workers = (0..3)
        .map(|i| start(&table, &meta, 3, i, &work_dir("w"), None))
        .collect();
    exact(&table, workers);
    let record = record(&meta);
    assert_eq!(
        record["status"],
        drift_host::model::item::Value::S("applied".into())
    );
    clean(&meta);
}

#[test]
fn a_worker_started_late_takes_part_or_finds_the_run_done() {
    let (table, meta) = (mixed_table(), unique("meta"));
    let mut workers: Vec<Child> = (0..2)
        .map(|i| start(&table, &meta, 3, i, &work_dir("w"), None))
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    workers.push(start(&table, &meta, 3, 2, &work_dir("late"), None));
    exact(&table, workers);
    clean(&meta);
}

#[test]
fn an_item_failing_in_one_worker_stops_every_worker_and_nothing_is_written() {
    let client = client();
    let table = unique("wfail");
    let mut items = hostile_items_named(&table, ITEMS, "mixed");
    items[ITEMS / 2].insert(
        "behave".into(),
        drift_host::model::item::Value::S("error".into()),
    );
    block_on(fill(&client, &table, &items));
    let before = block_on(scan_all(&client, &table));
    let meta = unique("meta");
    let workers: Vec<Child> = (0..3)
        .map(|i| start(&table, &meta, 3, i, &work_dir("w"), None))
        .collect();
    for (index, worker) in workers.into_iter().enumerate() {
        let (code, _, err) = ended(worker);
        assert_eq!(code, Some(1), "worker {index} must fail: {err}");
    }
    assert_eq!(
        block_on(scan_all(&client, &table)),
        before,
        "nothing written"
    );
    let copies = normalized(block_on(scan_all(&client, "hostile_copy")), &table);
    assert!(copies.is_empty(), "nothing written to the other table");
    let record = record(&meta);
    assert_eq!(
        record["status"],
        drift_host::model::item::Value::S("failed".into())
    );
}

/// Kills worker 1 at `point`, replaces it (same index) with or without its work directory,
/// and checks the run is exact.
fn killed_and_replaced(point: &str, keep_work_dir: bool) {
    let (table, meta) = (mixed_table(), unique("meta"));
    let dirs: Vec<PathBuf> = (0..3).map(|_| work_dir("w")).collect();
    let mut workers = vec![
        start(&table, &meta, 3, 0, &dirs[0], None),
        start(&table, &meta, 3, 1, &dirs[1], Some(point)),
        start(&table, &meta, 3, 2, &dirs[2], None),
    ];
    let killed = workers.remove(1);
    let (code, _, err) = ended(killed);
    assert_eq!(code, None, "worker 1 was to be killed at {point}: {err}");
    let dir = if keep_work_dir {
        dirs[1].clone()
    } else {
        work_dir("replacement")
    };
    workers.insert(1, start(&table, &meta, 3, 1, &dir, None));
    exact(&table, workers);
    clean(&meta);
}

#[test]
fn a_worker_killed_mid_scan_and_replaced_with_its_work_dir_resumes_exactly() {
    killed_and_replaced("scan-checkpoint:2", true);
}

#[test]
fn a_worker_killed_mid_scan_and_replaced_without_its_work_dir_is_exact() {
    killed_and_replaced("scan-checkpoint:2", false);
}

#[test]
fn a_worker_killed_after_scanning_a_segment_and_replaced_without_its_work_dir_is_exact() {
    killed_and_replaced("segment-scanned:1", false);
}

#[test]
fn a_worker_killed_mid_apply_and_replaced_with_its_work_dir_resumes_exactly() {
    killed_and_replaced("apply-checkpoint:1", true);
}

#[test]
fn a_worker_killed_after_applying_a_segment_and_replaced_with_its_work_dir_is_exact() {
    killed_and_replaced("segment-applied:1", true);
}
