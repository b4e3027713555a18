//! The environment failing under a run: DynamoDB throttling and dropping connections, the
//! work folder's disk filling up.

use std::collections::BTreeMap;
use std::process::Child;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;

use crate::dynamodb::{
    by_id, canonical_item, drift, fill, hostile_copy_table, hostile_items, migrated, scan_all,
    status_json, users,
};
use crate::reliability::touched;
use crate::support::{block_on, client, drift_host, guest, spawn_drift_host, stderr, unique};

#[test]
fn a_migration_completes_exactly_through_throttling_errors_and_broken_connections() {
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    let original = users(1500);
    block_on(fill(&client, &table, &original));
    let (runtime, proxy) = crate::fault_proxy::in_front_of_test_server(20261122, 15);

    let wasm = guest("users_v2");
    let (code, report, err) = drift(
        "run",
        wasm.to_str().unwrap(),
        &table,
        &meta,
        &[
            "--endpoint-url",
            &proxy.address,
            "--segments",
            "4",
            "--max-attempts",
            "20",
        ],
    );
    let counts = &proxy.counts;
    let (requests, faulted) = (counts.requests.load(Ordering::Relaxed), counts.faulted());
    eprintln!(
        "fault proxy: {requests} requests, {faulted} faulted: {} throttled, {} 5xx, {} closed before, {} dropped after, {} delayed",
        counts.throttled.load(Ordering::Relaxed),
        counts.server_errors.load(Ordering::Relaxed),
        counts.closed_before.load(Ordering::Relaxed),
        counts.dropped_after.load(Ordering::Relaxed),
        counts.delayed.load(Ordering::Relaxed)
    );
    eprintln!(
        "statements throttled: {}",
        counts.statements_throttled.load(Ordering::Relaxed)
    );
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    assert_eq!(report["status"], "applied");
    // The updates went in batches of statements, some of them throttled one by one.
    assert!(report["updates_batched"].as_u64().unwrap() > 0, "{report}");
    assert!(counts.statements_throttled.load(Ordering::Relaxed) > 0);
    assert!(
        faulted * 10 >= requests,
        "at least 10 % of requests faulted ({faulted} of {requests})"
    );
    let expected: BTreeMap<_, _> = by_id(&original)
        .into_iter()
        .map(|(id, item)| (id, canonical_item(&migrated(&item))))
        .collect();
    assert_eq!(block_on(scan_all(&client, &table)), expected);
    assert_eq!(status_json(&meta)[0]["status"], "applied");
    drop(runtime);
}

/// A tmpfs of a given size at a fresh folder, for a work dir that fills up; unmounted on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// Mounts one (the tests run as root, as CI does).
    fn mount(size: &str) -> Tmpfs {
        let dir = std::env::temp_dir().join(unique("tmpfs"));
        std::fs::create_dir_all(&dir).unwrap();
        let tmpfs = Tmpfs(dir);
        tmpfs.mount_with(&format!("size={size}"));
        tmpfs
    }

    fn mount_with(&self, options: &str) {
        let remount = options.starts_with("remount");
        let mut mount = std::process::Command::new("mount");
        if remount {
            mount.args(["-o", options]).arg(&self.0);
        } else {
            mount
                .args(["-t", "tmpfs", "-o", options, "tmpfs"])
                .arg(&self.0);
        }
        let status = mount.status().expect("run mount");
        assert!(
            status.success(),
            "mount {options} failed (the tests need root)"
        );
    }

    /// Gives it a new size, keeping its files.
    fn resize(&self, size: &str) {
        self.mount_with(&format!("remount,size={size}"));
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Waits for `child` at most `limit`; a run that hangs is killed and fails the test.
fn wait_at_most(mut child: Child, limit: Duration) -> std::process::Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not end by itself within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

/// What a run that hit a full work dir must leave: one clear line, exit 1, the lock free, the
/// record failed and resumable; then, with room again, a resume that applies every item once.
fn after_a_full_disk(
    output: std::process::Output,
    table: &str,
    meta: &str,
    work: &Tmpfs,
    items: usize,
) {
    let client = client();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    let unlock = drift_host(&["unlock", "--meta-table", meta], None);
    assert!(
        stderr(&unlock).contains("is not locked"),
        "{}",
        stderr(&unlock)
    );
    let record = &status_json(meta)[0];
    assert_eq!(record["status"], "failed", "{record}");
    assert!(
        record["last_error"].as_str().unwrap().contains("resume"),
        "{record}"
    );
    work.resize("64m");
    let wasm = guest("drift_test_guests");
    let (code, report, err) = drift(
        "run",
        wasm.to_str().unwrap(),
        table,
        meta,
        &["--work-dir", work.path()],
    );
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    assert_eq!(report["counts"]["updates"], items as u64, "{report}");
    assert_eq!(touched(&client, table), items);
}

/// Starts a run of `items` `touch` items on a fresh table, its work dir in `work`; returns the
/// child, the table and the metadata table.
fn start_touching(
    client: &Client,
    items: usize,
    work: &Tmpfs,
    extra: &[&str],
) -> (Child, String, String) {
    let (table, meta) = (unique("hostile"), unique("meta"));
    hostile_copy_table(client);
    block_on(fill(client, &table, &hostile_items(items, "touch")));
    let wasm = guest("drift_test_guests");
    let mut args = vec![
        "run",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--work-dir",
        work.path(),
    ];
    args.extend_from_slice(extra);
    let child = spawn_drift_host(&args);
    (child, table, meta)
}

/// The work dir fills up while the scan journals: the run ends by itself, frees the lock,
/// and a later run (with room) resumes.
#[test]
fn a_full_work_dir_mid_scan_ends_the_run_which_resumes_later() {
    let client = client();
    let work = Tmpfs::mount("96k");
    let (child, table, meta) = start_touching(&client, 3000, &work, &[]);
    let output = wait_at_most(child, Duration::from_secs(60));
    assert_eq!(
        touched(&client, &table),
        0,
        "nothing is written by a failed scan"
    );
    after_a_full_disk(output, &table, &meta, &work, 3000);
}

/// The work dir fills up while the apply runs (its checkpoint can no longer be saved): the
/// run ends by itself, frees the lock, and a later run resumes exactly.
#[test]
fn a_full_work_dir_mid_apply_ends_the_run_which_resumes_exactly() {
    let client = client();
    let work = Tmpfs::mount("8m");
    let (child, table, meta) = start_touching(&client, 4000, &work, &["--apply-concurrency", "1"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    while touched(&client, &table) < 100 {
        assert!(Instant::now() < deadline, "the apply never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Fill what is left of the work dir.
    let filler = work.0.join("filler");
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "status=none"])
        .arg(format!("of={}", filler.display()))
        .status();
    let output = wait_at_most(child, Duration::from_secs(60));
    assert!(
        touched(&client, &table) < 4000,
        "the apply ended before the disk was full"
    );
    std::fs::remove_file(&filler).unwrap();
    after_a_full_disk(output, &table, &meta, &work, 4000);
}
