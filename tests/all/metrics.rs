//! `run --metrics-addr`: the metrics scraped while a run works, read with Prometheus's own
//! exposition parser (PyPI `prometheus-client`, in the test run's venv), against the run's
//! report.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dynamodb::{fill, users};
use crate::support::{block_on, client, command, expect_exit, guest, root, stdout, unique};

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
