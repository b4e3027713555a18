//! Crash tests: `kill -9` a run at named points (`DRIFT_CRASH_AT=<point>:<n>`, see
//! `host/src/crash.rs`), resume it, and compare both tables it writes, and its counts, with
//! an uninterrupted run's.
//!
//! The guest's `mixed` behaviour writes every kind of action per item: an update that must not
//! run twice (`ADD`, `list_append`), a batched put, a conditional put, a repeatable update or a
//! delete, into two tables. Small pages and frequent checkpoints put many pages and
//! checkpoints inside one small run.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use drift_host::model::item::{Item, Value as AttrValue};
use serde_json::Value;

use crate::dynamodb::{drift, fill, hostile_copy_table, hostile_items_named, scan_all};
use crate::support::{block_on, client, command, drift_host, guest, stderr, unique};

/// Items in each table: 3 segments of 4 pages of 20.
pub(crate) const ITEMS: usize = 240;

/// Options of every run here.
const RUN_OPTIONS: [&str; 10] = [
    "--segments",
    "3",
    "--page-size",
    "20",
    "--checkpoint-interval-ms",
    "20",
    "--lease-seconds",
    "10",
    "--concurrency",
    "2",
];

/// What a run leaves: the scanned table and the run's part of `hostile_copy`, with the run's
/// id prefix replaced by `P` so runs on different tables compare.
#[derive(Debug, PartialEq)]
pub(crate) struct Tables {
    pub(crate) own: BTreeMap<String, Item>,
    pub(crate) copy: BTreeMap<String, Item>,
}

pub(crate) fn normalized(items: BTreeMap<String, Item>, prefix: &str) -> BTreeMap<String, Item> {
    items
        .into_iter()
        .filter(|(id, _)| id.starts_with(prefix))
        .map(|(id, mut item)| {
            let id = id.replacen(prefix, "P", 1);
            item.insert("id".into(), AttrValue::S(id.clone()));
            (id, item)
        })
        .collect()
}

/// A fresh table of `mixed` items whose ids start with the table's name; returns the name.
pub(crate) fn mixed_table() -> String {
    let client = client();
    hostile_copy_table(&client);
    let table = unique("crash");
    block_on(fill(
        &client,
        &table,
        &hostile_items_named(&table, ITEMS, "mixed"),
    ));
    table
}

pub(crate) fn tables(table: &str) -> Tables {
    let client = client();
    Tables {
        own: normalized(block_on(scan_all(&client, table)), table),
        copy: normalized(block_on(scan_all(&client, "hostile_copy")), table),
    }
}

fn run(table: &str, meta: &str, extra: &[&str]) -> (i32, Option<Value>, String) {
    run_command("run", table, meta, extra)
}

fn run_command(
    command_name: &str,
    table: &str,
    meta: &str,
    extra: &[&str],
) -> (i32, Option<Value>, String) {
    let wasm = guest("drift_test_guests");
    let mut args = RUN_OPTIONS.to_vec();
    args.extend_from_slice(extra);
    drift(command_name, wasm.to_str().unwrap(), table, meta, &args)
}

/// The tables and counts of an uninterrupted run, made once.
pub(crate) fn baseline() -> &'static (Tables, Value) {
    static BASELINE: OnceLock<(Tables, Value)> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let (table, meta) = (mixed_table(), unique("meta"));
        let (code, report, err) = run(&table, &meta, &[]);
        assert_eq!(code, 0, "{err}");
        let report = report.unwrap();
        let tables = tables(&table);
        // The run did what the guest says: every kind of write, each once.
        assert_eq!(tables.own.len(), ITEMS);
        assert!(tables.own.values().all(|item| {
            item["visits"] == AttrValue::N("1".into())
                && matches!(&item["history"], AttrValue::L(l) if l.len() == 1)
        }));
        let deleted = ITEMS / 10;
        assert_eq!(tables.copy.len(), 2 * ITEMS - deleted);
        assert_eq!(report["counts"]["conflicts"], 0, "{report}");
        // The plain updates of the copies went in batches of PartiQL statements, the
        // exactly-once ones (`ADD`, `list_append`) one by one: both paths are crashed in here.
        assert_eq!(report["updates_batched"], ITEMS - ITEMS / 10, "{report}");
        assert_eq!(report["updates_single"], ITEMS, "{report}");
        (tables, report["counts"].clone())
    })
}

/// Runs with `DRIFT_CRASH_AT=<point>` and checks the process died of SIGKILL there.
fn killed_run(table: &str, meta: &str, point: &str, extra: &[&str]) {
    killed("run", table, meta, point, extra)
}

/// `drift-host <command>` with `DRIFT_CRASH_AT=<point>`, checked to die of SIGKILL there.
fn killed(command_name: &str, table: &str, meta: &str, point: &str, extra: &[&str]) {
    let wasm = guest("drift_test_guests");
    let mut args = vec![
        command_name,
        wasm.to_str().unwrap(),
        "--table",
        table,
        "--meta-table",
        meta,
    ];
    args.extend_from_slice(&RUN_OPTIONS);
    args.extend_from_slice(extra);
    let output = command(&args)
        .env("DRIFT_CRASH_AT", point)
        .output()
        .unwrap();
    assert_eq!(
        output.status.signal(),
        Some(9),
        "the run was to be killed at {point}: {}",
        stderr(&output)
    );
}

/// Takes over the lock a killed run left.
pub(crate) fn force_unlock(meta: &str) {
    let unlock = drift_host(&["unlock", "--force", "--meta-table", meta], None);
    assert_eq!(unlock.status.code(), Some(0), "{}", stderr(&unlock));
}

/// Runs with `DRIFT_CRASH_AT=<point>`, checks the process died of SIGKILL there, takes its
/// lock over, resumes, and compares with the baseline. Returns the resumed run's report.
fn crash_and_resume(point: &str) -> Option<Value> {
    let (expected, expected_counts) = baseline();
    let (table, meta) = (mixed_table(), unique("meta"));
    killed_run(&table, &meta, point, &[]);
    // The dead run still holds the lock: an operator takes it over.
    force_unlock(&meta);
    let (code, report, err) = run(&table, &meta, &[]);
    let report = match code {
        // Killed after its final write landed: there is nothing left to do.
        0 if err.contains("is already applied") => None,
        0 => {
            let report = report.unwrap();
            assert_eq!(report["status"], "applied", "{report}");
            assert_eq!(&report["counts"], expected_counts, "{point}: {report}");
            Some(report)
        }
        _ => panic!("{point}: resume failed ({code}): {err}"),
    };
    assert_eq!(&tables(&table), expected, "{point}");
    let markers = block_on(scan_all(&client(), &meta))
        .into_keys()
        .filter(|id| id.starts_with("applied#"))
        .count();
    assert_eq!(markers, 0, "{point}: exactly-once markers are removed");
    report
}

macro_rules! crash_points {
    ($($name:ident => $point:literal,)*) => {
        $(
            #[test]
            fn $name() {
                crash_and_resume($point);
            }
        )*
    };
}

crash_points! {
    killed_after_the_record_says_running => "record-running:1",
    killed_after_the_first_page => "scan-page:1",
    killed_mid_scan_between_checkpoints => "journal-append:500",
    killed_mid_scan_after_a_checkpoint => "scan-checkpoint:2",
    killed_mid_scan_after_half_the_pages => "scan-page:6",
    killed_at_the_end_of_the_scan => "scan-page:12",
    killed_between_scan_and_apply => "scan-complete:1",
    killed_after_the_first_batch => "batch-written:1",
    killed_mid_apply_of_batches => "batch-written:100",
    killed_after_the_first_exactly_once_update => "single-written:1",
    killed_mid_apply_of_updates => "single-written:300",
    killed_after_an_apply_checkpoint => "apply-checkpoint:2",
    killed_after_the_apply => "apply-complete:1",
    killed_after_removing_markers => "markers-removed:1",
    killed_before_the_final_metadata_write => "before-final-write:1",
    killed_after_the_final_metadata_write => "final-written:1",
}

#[test]
fn a_run_killed_twice_resumes_twice() {
    let (expected, _) = baseline();
    let (table, meta) = (mixed_table(), unique("meta"));
    for point in ["scan-page:4", "single-written:50"] {
        killed_run(&table, &meta, point, &[]);
        // This time the lease (10 s, see RUN_OPTIONS) runs out by itself (its expiry is in
        // whole seconds).
        std::thread::sleep(Duration::from_millis(11_500));
    }
    let (code, report, err) = run(&table, &meta, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(&report.unwrap()["counts"], &baseline().1);
    assert_eq!(&tables(&table), expected);
}

#[test]
fn restart_after_a_crash_in_the_scan_starts_over() {
    let (expected, _) = baseline();
    let (table, meta) = (mixed_table(), unique("meta"));
    killed_run(&table, &meta, "scan-page:5", &[]);
    force_unlock(&meta);
    // Nothing was applied before the crash, so starting over gives the same tables.
    let (code, report, err) = run(&table, &meta, &["--restart"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(report.unwrap()["counts"]["items_scanned"], ITEMS);
    assert_eq!(&tables(&table), expected);
}

#[test]
fn a_corrupt_journal_stops_the_resume_with_one_line_and_writes_nothing() {
    let (table, meta) = (mixed_table(), unique("meta"));
    let work = tempfile::tempdir().unwrap();
    let work_dir = work.path().to_str().unwrap();
    killed_run(&table, &meta, "scan-complete:1", &["--work-dir", work_dir]);
    force_unlock(&meta);
    let before = tables(&table);

    let journal = std::fs::read_dir(work.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|e| e == "journal"))
        .expect("the journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&journal, bytes).unwrap();

    let (code, _, err) = run(&table, &meta, &["--work-dir", work_dir]);
    assert_eq!(code, 3, "{err}");
    let line = err.trim();
    assert_eq!(line.lines().count(), 1, "{err}");
    assert!(
        line.contains("cannot resume")
            && (line.contains("corrupt journal") || line.contains("torn write")),
        "{err}"
    );
    assert_eq!(tables(&table), before, "nothing was written");
}

#[test]
fn lost_answers_never_apply_a_write_twice() {
    let (expected, expected_counts) = baseline();
    let table = mixed_table();
    let (runtime, proxy) = crate::fault_proxy::in_front_of_test_server(7, 20);
    let (code, report, err) = run(
        &table,
        &unique("meta"),
        &["--endpoint-url", &proxy.address, "--max-attempts", "30"],
    );
    assert_eq!(code, 0, "{err}");
    let dropped = proxy.counts.dropped_after.load(Ordering::Relaxed);
    eprintln!(
        "mixed run through faults: {} requests, {} faulted, {dropped} answers dropped after the write",
        proxy.counts.requests.load(Ordering::Relaxed),
        proxy.counts.faulted()
    );
    assert!(dropped > 0, "some writes lost their answer");
    assert_eq!(&report.unwrap()["counts"], expected_counts);
    assert_eq!(&tables(&table), expected);
    drop(runtime);
}

#[test]
fn an_undo_killed_midway_resumes_with_undo() {
    // The test guest's rollback does what its migrate does: an undo writes everything again,
    // and its conditional ledger puts all conflict.
    let run_then_undo = |point: Option<&str>| {
        let (table, meta) = (mixed_table(), unique("meta"));
        let (code, _, err) = run(&table, &meta, &[]);
        assert_eq!(code, 0, "{err}");
        if let Some(point) = point {
            killed("undo", &table, &meta, point, &[]);
            force_unlock(&meta);
        }
        let (code, report, err) = run_command("undo", &table, &meta, &[]);
        assert_eq!(code, 0, "{err}");
        let report = report.unwrap();
        assert_eq!(report["status"], "rolled_back", "{report}");
        (tables(&table), report["counts"].clone())
    };
    let (expected, expected_counts) = run_then_undo(None);
    assert_eq!(expected_counts["conflicts"], ITEMS, "{expected_counts}");
    let (resumed, resumed_counts) = run_then_undo(Some("single-written:200"));
    assert_eq!(resumed_counts, expected_counts);
    assert_eq!(resumed, expected);
}
