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
const WORKER_OPTIONS: [&str; 8] = [
    "--segments",
    "6",
    "--page-size",
    "20",
    "--checkpoint-interval-ms",
    "20",
    "--concurrency",
    "1",
];

/// The lease of the workers here, unless a test wants them taken over sooner.
const LEASE: &str = "10";

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
    start_with(
        "drift_test_guests",
        LEASE,
        table,
        meta,
        (workers, index),
        dir,
        crash,
    )
}

/// [`start`] with another guest and lease.
fn start_with(
    guest_name: &str,
    lease: &str,
    table: &str,
    meta: &str,
    (workers, index): (u32, u32),
    dir: &Path,
    crash: Option<&str>,
) -> Child {
    let wasm = guest(guest_name);
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
    args.extend_from_slice(&["--lease-seconds", lease]);
    let mut command = command(&args);
    command
        .env("JOB_COMPLETION_INDEX", index.to_string())
        .env("DRIFT_LOG", "warn,drift_host=info")
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

/// Workers of a run of `count` slow items (50 ms of guest time each) on a fresh table.
fn slow_run(count: usize, workers: u32) -> (String, String, Vec<Child>) {
    let client = client();
    let table = unique("wslow");
    block_on(fill(
        &client,
        &table,
        &hostile_items_named(&table, count, "slow"),
    ));
    let meta = unique("meta");
    let children = (0..workers)
        .map(|i| start(&table, &meta, workers, i, &work_dir("w"), None))
        .collect();
    (table, meta, children)
}

/// `status --output json` of `meta`.
fn status_json(meta: &str) -> Value {
    let output =
        crate::support::drift_host(&["status", "--meta-table", meta, "--output", "json"], None);
    serde_json::from_str(&stdout(&output)).unwrap_or(Value::Null)
}

#[test]
fn status_shows_each_worker_and_the_whole_of_a_running_run() {
    let (_, meta, workers) = slow_run(120, 2);
    let mut seen = None;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(200));
        let status = status_json(&meta);
        let Some(run) = status["runs"].get(0) else {
            continue;
        };
        if run["worker_rows"]
            .as_array()
            .is_some_and(|rows| rows.len() == 2)
        {
            seen = Some(run.clone());
            break;
        }
    }
    let run = seen.expect("status showed the running run with both workers");
    assert_eq!(run["workers"], 2, "{run}");
    assert_eq!(run["segments"], 6, "{run}");
    for (index, row) in run["worker_rows"].as_array().unwrap().iter().enumerate() {
        assert_eq!(row["index"], index, "{run}");
        assert!(row["lease_seconds_left"].as_i64().unwrap() > 0, "{run}");
        assert!(row["host"].as_str().unwrap().contains(" pid "), "{run}");
    }
    let text = stdout(&crate::support::drift_host(
        &["status", "--meta-table", &meta],
        None,
    ));
    assert!(text.contains("2 workers, 6 segments"), "{text}");
    assert!(text.contains("worker 1: "), "{text}");
    for worker in workers {
        let (code, _, err) = ended(worker);
        assert_eq!(code, Some(0), "{err}");
    }
    let status = status_json(&meta);
    assert!(status.get("runs").is_none(), "no run is running: {status}");
}

#[test]
fn a_worker_stopped_by_sigterm_exits_4_and_its_replacement_finishes_the_run() {
    let (table, meta, mut workers) = slow_run(120, 2);
    std::thread::sleep(Duration::from_millis(1500));
    let stopped = workers.remove(1);
    unsafe { libc::kill(stopped.id() as i32, libc::SIGTERM) };
    let (code, report, err) = ended(stopped);
    assert_eq!(code, Some(4), "a worker stopped alone: {err}");
    let report = report.expect("a report");
    assert_eq!(report["status"], "running", "{report}");
    workers.push(start(&table, &meta, 2, 1, &work_dir("replacement"), None));
    for worker in workers {
        let (code, report, err) = ended(worker);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(report.unwrap()["counts"]["updates"], 120);
    }
    assert_eq!(crate::reliability::touched(&client(), &table), 120);
}

#[test]
fn worker_options_are_checked_before_dynamodb_is_touched() {
    let wasm = guest("drift_test_guests");
    let wasm = wasm.to_str().unwrap();
    // An endpoint that answers nothing: a refusal must come before any request.
    let dead = ["--endpoint-url", "http://127.0.0.1:9"];
    let cases: [(&[&str], &str); 5] = [
        (&["--workers", "0"], "--workers"),
        (
            &["--workers", "3", "--worker-index", "3"],
            "--worker-index is 3",
        ),
        (&["--workers", "3"], "needs this worker's index"),
        (&["--worker-index", "1"], "--workers"),
        (&["--workers", "2", "--worker-index", "x"], "--worker-index"),
    ];
    for (extra, said) in cases {
        let mut args = vec!["run", wasm];
        args.extend_from_slice(&dead);
        args.extend_from_slice(extra);
        let output = command(&args)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{extra:?}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert!(err.contains(said), "{extra:?}: {err}");
        assert!(
            !err.contains("127.0.0.1:9"),
            "{extra:?} reached DynamoDB: {err}"
        );
    }
}

/// The container arguments of `deploy/kubernetes/job.yaml`, and its completions and
/// parallelism.
fn indexed_job() -> (Vec<String>, u32, u32) {
    let text = std::fs::read_to_string(root().join("deploy/kubernetes/job.yaml")).unwrap();
    let field = |name: &str| -> u32 {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("job.yaml has no {name}"))
            .parse()
            .unwrap()
    };
    let mut args = Vec::new();
    let mut lines = text
        .lines()
        .skip_while(|line| line.trim() != "args:")
        .skip(1);
    while let Some(arg) = lines.next().and_then(|l| l.trim().strip_prefix("- ")) {
        args.push(arg.trim_matches('"').to_owned());
    }
    (args, field("completions"), field("parallelism"))
}

/// Runs the Indexed Job's command as its pods would (the same arguments, JOB_COMPLETION_INDEX
/// 0..N), with the job's paths mapped to local ones; returns each worker's JSON report.
fn run_as_the_job(command_name: &str, table: &str, meta: &str) -> Vec<Value> {
    let (args, completions, parallelism) = indexed_job();
    assert_eq!(completions, parallelism, "every index runs at once");
    let workers = args
        .iter()
        .position(|a| a == "--workers")
        .map(|at| args[at + 1].parse::<u32>().unwrap())
        .expect("the job passes --workers");
    assert_eq!(workers, completions, "--workers is the job's completions");
    let wasm = guest("users_v2");
    let local = work_dir("job");
    let children: Vec<Child> = (0..workers)
        .map(|index| {
            let pod = local.join(index.to_string());
            let mapped: Vec<String> = args
                .iter()
                .map(|arg| match arg.as_str() {
                    "run" => command_name.to_owned(),
                    "/migrations/users_v2.wasm" => wasm.to_str().unwrap().to_owned(),
                    path if path.starts_with("/work") => {
                        pod.join(&path[1..]).to_str().unwrap().to_owned()
                    }
                    other => other.to_owned(),
                })
                .collect();
            let mut all: Vec<&str> = mapped.iter().map(String::as_str).collect();
            all.extend_from_slice(&["--table", table, "--meta-table", meta]);
            command(&all)
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .stdin(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .enumerate()
        .map(|(index, child)| {
            let (code, report, err) = ended(child);
            assert_eq!(code, Some(0), "pod {index}: {err}");
            report.unwrap_or_else(|| panic!("pod {index} printed its report: {err}"))
        })
        .collect()
}

#[test]
fn the_indexed_jobs_command_migrates_and_undoes_exactly_with_local_processes() {
    use crate::dynamodb::{by_id, migrated, users};
    use drift_host::preview::canonical_item;
    let client = client();
    let (table, meta) = (unique("jobusers"), unique("meta"));
    let original = users(600);
    block_on(fill(&client, &table, &original));
    for report in run_as_the_job("run", &table, &meta) {
        assert_eq!(report["status"], "applied", "{report}");
        assert_eq!(report["counts"]["items_scanned"], 600, "{report}");
        assert_eq!(report["counts"]["updates"], 600, "{report}");
    }
    let expected: std::collections::BTreeMap<_, _> = by_id(&original)
        .into_iter()
        .map(|(id, item)| (id, canonical_item(&migrated(&item))))
        .collect();
    assert_eq!(block_on(scan_all(&client, &table)), expected);
    clean(&meta);
    for report in run_as_the_job("undo", &table, &meta) {
        assert_eq!(report["status"], "rolled_back", "{report}");
    }
    assert_eq!(block_on(scan_all(&client, &table)), by_id(&original));
    clean(&meta);
}

#[test]
fn a_worker_killed_mid_scan_and_never_replaced_has_its_segments_taken_over() {
    let (table, meta) = (mixed_table(), unique("meta"));
    let mut workers: Vec<Child> = [None, Some("scan-checkpoint:2"), None]
        .into_iter()
        .enumerate()
        .map(|(i, crash)| {
            let place = (3, i as u32);
            start_with(
                "drift_test_guests",
                "4",
                &table,
                &meta,
                place,
                &work_dir("w"),
                crash,
            )
        })
        .collect();
    let killed = workers.remove(1);
    assert_eq!(ended(killed).0, None, "worker 1 was killed");
    exact(&table, workers);
    clean(&meta);
}

#[test]
fn a_worker_killed_mid_apply_and_never_replaced_has_its_segments_taken_over() {
    use crate::dynamodb::{by_id, migrated, users};
    use drift_host::preview::canonical_item;
    let client = client();
    let (table, meta) = (unique("wusers"), unique("meta"));
    let original = users(240);
    block_on(fill(&client, &table, &original));
    let mut workers: Vec<Child> = [None, Some("apply-checkpoint:1"), None]
        .into_iter()
        .enumerate()
        .map(|(i, crash)| {
            let place = (3, i as u32);
            start_with("users_v2", "4", &table, &meta, place, &work_dir("w"), crash)
        })
        .collect();
    let killed = workers.remove(1);
    assert_eq!(ended(killed).0, None, "worker 1 was killed");
    for worker in workers {
        let (code, report, err) = ended(worker);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(report.unwrap()["status"], "applied");
    }
    let expected: std::collections::BTreeMap<_, _> = by_id(&original)
        .into_iter()
        .map(|(id, item)| (id, canonical_item(&migrated(&item))))
        .collect();
    assert_eq!(block_on(scan_all(&client, &table)), expected);
    clean(&meta);
}

#[test]
fn the_write_budget_is_the_runs_total_shared_by_its_workers() {
    use crate::dynamodb::users;
    let client = client();
    let (table, meta) = (unique("wbudget"), unique("meta"));
    block_on(fill(&client, &table, &users(300)));
    let workers: Vec<Child> = (0..2)
        .map(|index| {
            let wasm = guest("users_v2");
            let args = [
                "run",
                wasm.to_str().unwrap(),
                "--table",
                &table,
                "--meta-table",
                &meta,
                "--workers",
                "2",
                "--segments",
                "4",
                "--max-wcu",
                "100",
                "--report",
                "-",
            ];
            command(&args)
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .env("DRIFT_WORK_DIR", work_dir("budget"))
                .stdin(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut consumed = 0.0;
    let mut longest: f64 = 0.0;
    for worker in workers {
        let (code, report, err) = ended(worker);
        assert_eq!(code, Some(0), "{err}");
        let report = report.unwrap();
        consumed += report["consumed_wcu"].as_f64().unwrap();
        longest = longest.max(report["duration_seconds"].as_f64().unwrap());
    }
    assert!(consumed >= 300.0, "every update consumes a WCU: {consumed}");
    // 100 WCU/s for the whole run, each worker holding one second of its share (50) at
    // first: a lower bound only, as a slow machine can only make the run longer.
    let floor = (consumed - 100.0) / 100.0;
    assert!(longest >= floor * 0.95, "{longest} s for {consumed} WCU");
}
