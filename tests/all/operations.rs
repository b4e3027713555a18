//! Operating a long run: `run --metrics-addr` (the metrics scraped while a run works, read
//! with Prometheus's own exposition parser, PyPI `prometheus-client` in the test run's venv,
//! against the run's report) and `drift-host control` (pause, budgets, stop) measured on the
//! table.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dynamodb::{fill, scan_all, users};
use crate::support::{block_on, client, command, expect_exit, guest, root, stderr, stdout, unique};

/// A port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The metrics at `port`, as the Python exposition parser reads them: sample name →
/// [[labels, value]]; `None` while nothing answers.
fn scrape(port: u16) -> Option<Value> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    let venv = std::env::var("DRIFT_PY_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root().join("target").join("sdk-venv"));
    let mut parser = Command::new(venv.join("bin").join("python"))
        .args([
            "-c",
            "import sys, json\n\
             from prometheus_client.parser import text_string_to_metric_families\n\
             out = {}\n\
             for family in text_string_to_metric_families(sys.stdin.read()):\n\
             \x20   for s in family.samples:\n\
             \x20       out.setdefault(s.name, []).append([s.labels, s.value])\n\
             print(json.dumps(out))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the venv's python, with prometheus-client (scripts/test installs it)");
    parser
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let parsed = parser.wait_with_output().unwrap();
    assert!(parsed.status.success(), "the parser refused:\n{body}");
    Some(serde_json::from_slice(&parsed.stdout).unwrap())
}

/// The value of the sample `name` whose labels include `labels`.
fn sample(metrics: &Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    metrics[name]
        .as_array()
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
        .iter()
        .find(|s| labels.iter().all(|(k, v)| s[0][k] == *v))
        .and_then(|s| s[1].as_f64())
        .unwrap_or_else(|| panic!("no {name} {labels:?} in {metrics}"))
}

#[test]
fn metrics_are_served_while_a_run_works_and_agree_with_its_report() {
    let (table, meta) = (unique("metrics"), unique("meta"));
    let count = 150;
    block_on(fill(&client(), &table, &users(count)));
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let wasm = guest("users_v2");
    // A slow apply (one update at a time, 40 units a second), to be scraped in the middle.
    let child = command(&[
        "run",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--no-batch-updates",
        "--max-wcu",
        "40",
        "--metrics-addr",
        &address,
        "--output",
        "json",
    ])
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let during = loop {
        assert!(Instant::now() < deadline, "never scraped in the apply");
        if let Some(metrics) = scrape(port) {
            let applying = sample(&metrics, "drift_phase", &[("phase", "apply")]) == 1.0;
            let updates = sample(
                &metrics,
                "drift_actions_applied_total",
                &[("kind", "update")],
            );
            if applying && updates > 0.0 {
                break metrics;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = child.wait_with_output().unwrap();
    expect_exit(&output, 0);
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    // In the apply the scan is over: every item scanned, as the report says.
    assert_eq!(
        sample(&during, "drift_items_scanned_total", &[]),
        report["counts"]["items_scanned"].as_f64().unwrap()
    );
    assert_eq!(
        sample(&during, "drift_actions_journaled_total", &[]),
        report["actions_journaled"].as_f64().unwrap()
    );
    let updates = sample(
        &during,
        "drift_actions_applied_total",
        &[("kind", "update")],
    );
    assert!(updates <= report["counts"]["updates"].as_f64().unwrap());
    // By table too (read a moment later in the same scrape: as many, or a few more).
    let by_table = [("table", table.as_str()), ("kind", "update")];
    let of_table = sample(&during, "drift_table_actions_applied_total", &by_table);
    assert!(of_table >= updates, "{of_table} < {updates}");
    assert!(of_table <= report["counts"]["updates"].as_f64().unwrap());
    assert!(
        sample(&during, "drift_consumed_write_units_total", &[])
            <= report["consumed_wcu"].as_f64().unwrap()
    );
    assert_eq!(
        sample(&during, "drift_write_units_per_second_limit", &[]),
        40.0
    );
    assert!(sample(&during, "drift_request_duration_seconds_count", &[]) > 0.0);
    assert!(sample(&during, "drift_requests_total", &[]) > 0.0);
    assert_eq!(sample(&during, "drift_items_failed_total", &[]), 0.0);
    assert!(sample(&during, "drift_journal_bytes", &[]) > 0.0);
    // Once the run is over nothing listens.
    assert!(scrape(port).is_none());
}

#[test]
fn a_metrics_address_that_cannot_be_listened_on_is_refused_before_anything_runs() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let wasm = guest("users_v2");
    let output = command(&[
        "run",
        wasm.to_str().unwrap(),
        "--table",
        &unique("never"),
        "--metrics-addr",
        &address,
    ])
    .output()
    .unwrap();
    expect_exit(&output, 2);
    let bad = command(&["run", wasm.to_str().unwrap(), "--metrics-addr", "localhost"])
        .output()
        .unwrap();
    expect_exit(&bad, 2);
}

/// A slow run of users_v2 over `count` users (one update at a time, 30 units a second, a lease
/// renewed every second), its metrics at the returned port.
fn slow_run(table: &str, meta: &str, count: usize) -> (std::process::Child, u16) {
    block_on(fill(&client(), table, &users(count)));
    let port = free_port();
    let wasm = guest("users_v2");
    let child = command(&[
        "run",
        wasm.to_str().unwrap(),
        "--table",
        table,
        "--meta-table",
        meta,
        "--no-batch-updates",
        "--max-wcu",
        "30",
        "--lease-seconds",
        "3",
        "--checkpoint-interval-ms",
        "100",
        "--metrics-addr",
        &format!("127.0.0.1:{port}"),
        "--output",
        "json",
    ])
    .spawn()
    .unwrap();
    (child, port)
}

/// Scrapes until the run applies, and has applied something.
fn applying(port: u16) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the run never got to its apply");
        if let Some(metrics) = scrape(port) {
            let applying = sample(&metrics, "drift_phase", &[("phase", "apply")]) == 1.0;
            if applying
                && sample(
                    &metrics,
                    "drift_actions_applied_total",
                    &[("kind", "update")],
                ) > 0.0
            {
                return metrics;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn control(meta: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["control", "--meta-table", meta];
    all.extend_from_slice(args);
    command(&all).output().unwrap()
}

/// Items of `table` users_v2 has migrated.
fn migrated_count(table: &str) -> usize {
    block_on(scan_all(&client(), table))
        .values()
        .filter(|item| item.get("schema_version").is_some())
        .count()
}

#[test]
fn a_paused_run_writes_nothing_until_resumed_and_takes_a_new_budget() {
    let (table, meta) = (unique("paused"), unique("meta"));
    let count = 150;
    let (child, port) = slow_run(&table, &meta, count);
    applying(port);
    expect_exit(&control(&meta, &["2", "pause"]), 0);
    // Obeyed within a renewal of the lease (1 s here), a write in flight settling.
    std::thread::sleep(Duration::from_millis(2500));
    let paused = scrape(port).expect("the paused run still serves its metrics");
    assert_eq!(sample(&paused, "drift_paused", &[]), 1.0);
    let before = migrated_count(&table);
    // `status`, from anywhere, shows the control.
    let status = command(&["status", "--meta-table", &meta, "--output", "json"])
        .output()
        .unwrap();
    expect_exit(&status, 0);
    let status: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(status["controls"][0]["control"]["paused"], true, "{status}");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(migrated_count(&table), before, "writes while paused");
    // And the run's phase, counts, rate and units as it published them, its lock and lease.
    let status = command(&["status", "--meta-table", &meta, "--output", "json"])
        .output()
        .unwrap();
    let status: Value = serde_json::from_str(&stdout(&status)).unwrap();
    let progress = status["migrations"][0]["progress"]
        .as_str()
        .unwrap_or_default();
    assert!(
        progress.contains("now apply:") && progress.contains("WCU consumed"),
        "{status}"
    );
    assert!(
        status["lock"]
            .as_str()
            .unwrap_or_default()
            .contains("lease expires"),
        "{status}"
    );
    assert!(before < count, "the run finished before the pause");
    expect_exit(&control(&meta, &["2", "set", "--max-wcu", "300"]), 0);
    std::thread::sleep(Duration::from_millis(2500));
    let set = scrape(port).unwrap();
    assert_eq!(
        sample(&set, "drift_write_units_per_second_limit", &[]),
        300.0
    );
    assert_eq!(
        migrated_count(&table),
        before,
        "a new budget does not resume"
    );
    // Resumed at a budget of 5 units a second: what it consumes over 3 s stays within it
    // (the first second's budget, and one request in flight per lane, on top).
    expect_exit(&control(&meta, &["2", "set", "--max-wcu", "5"]), 0);
    expect_exit(&control(&meta, &["2", "resume"]), 0);
    std::thread::sleep(Duration::from_millis(2500));
    let from = sample(
        &scrape(port).unwrap(),
        "drift_consumed_write_units_total",
        &[],
    );
    std::thread::sleep(Duration::from_secs(3));
    let to = sample(
        &scrape(port).unwrap(),
        "drift_consumed_write_units_total",
        &[],
    );
    assert!(
        to - from <= 5.0 * 3.0 + 5.0 + 1.0,
        "{} units in 3 s at 5 a second",
        to - from
    );
    expect_exit(&control(&meta, &["2", "set", "--max-wcu", "300"]), 0);
    let output = child.wait_with_output().unwrap();
    expect_exit(&output, 0);
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["status"], "applied");
    assert_eq!(migrated_count(&table), count);
}

#[test]
fn stop_ends_a_run_cleanly_and_the_next_run_resumes_it_exactly() {
    let (table, meta) = (unique("stopped"), unique("meta"));
    let count = 150;
    let (child, port) = slow_run(&table, &meta, count);
    applying(port);
    let stopped = control(&meta, &["2", "stop", "--output", "json"]);
    expect_exit(&stopped, 0);
    let written: Value = serde_json::from_str(&stdout(&stopped)).unwrap();
    assert_eq!(written["control"]["stop"], true, "{written}");
    let output = child.wait_with_output().unwrap();
    expect_exit(&output, 1);
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["status"], "failed", "{report}");
    assert!(migrated_count(&table) < count);
    // Nothing is running any more: a control has no run to go to.
    let late = control(&meta, &["2", "pause"]);
    expect_exit(&late, 2);
    assert!(stderr(&late).contains("not running"), "{}", stderr(&late));
    let wasm = guest("users_v2");
    let resumed = command(&[
        "run",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--output",
        "json",
    ])
    .output()
    .unwrap();
    expect_exit(&resumed, 0);
    let report: Value = serde_json::from_str(&stdout(&resumed)).unwrap();
    assert_eq!(report["status"], "applied");
    assert_eq!(report["counts"]["updates"], count as u64, "{report}");
    let expected: std::collections::BTreeMap<String, _> = users(count)
        .iter()
        .map(|user| {
            let done = crate::dynamodb::canonical_item(&crate::dynamodb::migrated(user));
            (user.get_str("id").unwrap().to_owned(), done)
        })
        .collect();
    assert_eq!(block_on(scan_all(&client(), &table)), expected);
}
