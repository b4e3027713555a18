//! `--metrics-addr HOST:PORT`: a running `run`/`undo` serves its progress as Prometheus text
//! exposition (`prometheus-client`), read from the same live counters as the progress line at
//! each scrape, so the figures are the run's own, never a copy that could drift.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use drift_host::aws::capacity::Capacity;
use drift_host::aws::client::requests_sent;
use drift_host::aws::retry::stats;
use drift_host::model::counts::LiveCounts;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Error codes counted as throttling.
const THROTTLING: [&str; 3] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
];

/// What a run's metrics are read from.
#[derive(Debug, Clone)]
pub struct RunMetrics {
    /// The run's live counters.
    pub counts: Arc<LiveCounts>,
    /// Its capacity budgets and what it consumed.
    pub capacity: Capacity,
    /// The worker index of a multi-worker run (the `worker` label).
    pub worker: Option<u32>,
}

/// Labels of one sample: the worker's, then the sample's own.
type Labels = Vec<(String, String)>;

impl RunMetrics {
    fn labels(&self, own: &[(&str, &str)]) -> Labels {
        let mut labels: Labels = own
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(worker) = self.worker {
            labels.push(("worker".into(), worker.to_string()));
        }
        labels
    }

    /// One metric with its samples (labels, value).
    fn family(
        &self,
        encoder: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        samples: &[(Labels, Sample)],
    ) -> std::fmt::Result {
        let kind = match samples.first().map(|(_, s)| s) {
            Some(Sample::Gauge(_)) => MetricType::Gauge,
            _ => MetricType::Counter,
        };
        let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
        for (labels, sample) in samples {
            let family = metric.encode_family(labels)?;
            match sample {
                Sample::Counter(v) => ConstCounter::new(*v).encode(family)?,
                Sample::Gauge(v) => ConstGauge::new(*v).encode(family)?,
            }
        }
        Ok(())
    }
}

/// One sample's value.
enum Sample {
    Counter(f64),
    Gauge(f64),
}

impl prometheus_client::collector::Collector for RunMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        use Sample::{Counter, Gauge};
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed) as f64;
        let counts = &self.counts;
        let e = &mut encoder;
        let (read, write) = self.capacity.total();
        let (max_read, max_write) = self.capacity.limits();
        let retries = stats::retries();
        let throttled: u64 = retries
            .iter()
            .filter(|(code, _)| THROTTLING.contains(&code.as_str()))
            .map(|(_, n)| n)
            .sum();
        let gate = self.capacity.gate();
        // The metrics of one sample each: name, help, value.
        let single = [
            (
                "drift_items_scanned",
                "Items read by the scan and migrated by the guest.",
                Counter(get(&counts.processed)),
            ),
            (
                "drift_actions_journaled",
                "Actions the guest returned, spooled to the journal.",
                Counter(get(&counts.journaled)),
            ),
            (
                "drift_items_failed",
                "Items the guest failed on.",
                Counter(get(&counts.errors)),
            ),
            (
                "drift_conflicts",
                "Writes whose condition did not hold (reported, not failures).",
                Counter(get(&counts.conflicts)),
            ),
            (
                "drift_items_rewritten",
                "Live runs: items migrated again because they were written after they were read.",
                Counter(get(&counts.rewritten)),
            ),
            (
                "drift_stream_changes",
                "Live runs: stream records read by the catch-up.",
                Counter(get(&counts.changes)),
            ),
            (
                "drift_catch_up_lag_seconds",
                "Live runs: how far behind the stream the catch-up is.",
                Gauge(get(&counts.lag_ms) / 1000.0),
            ),
            (
                "drift_consumed_read_units",
                "Read capacity units consumed.",
                Counter(read),
            ),
            (
                "drift_consumed_write_units",
                "Write capacity units consumed.",
                Counter(write),
            ),
            (
                "drift_read_units_per_second_limit",
                "The read budget (--max-rcu); 0: none.",
                Gauge(max_read.unwrap_or(0.0)),
            ),
            (
                "drift_write_units_per_second_limit",
                "The write budget (--max-wcu); 0: none.",
                Gauge(max_write.unwrap_or(0.0)),
            ),
            (
                "drift_requests",
                "DynamoDB requests sent (every attempt).",
                Counter(requests_sent() as f64),
            ),
            (
                "drift_throttled_requests",
                "Requests DynamoDB throttled.",
                Counter(throttled as f64),
            ),
            (
                "drift_apply_lanes_limit",
                "Apply lanes allowed to write at once by drift-host control (0: all of them).",
                Gauge(gate.lanes().map_or(0.0, |n| n as f64)),
            ),
            (
                "drift_paused",
                "1 while drift-host control holds the run's requests.",
                Gauge(f64::from(u8::from(gate.is_paused()))),
            ),
            (
                "drift_journal_bytes",
                "Bytes of the journal written and synced.",
                Gauge(get(&counts.journal_bytes)),
            ),
            (
                "drift_expected_items",
                "What the current phase expects to get through (0: unknown).",
                Gauge(get(&counts.expected)),
            ),
        ];
        for (name, help, sample) in single {
            self.family(e, name, help, &[(self.labels(&[]), sample)])?;
        }
        let by = |label: &str, samples: Vec<(&str, Sample)>| -> Vec<(Labels, Sample)> {
            samples
                .into_iter()
                .map(|(value, sample)| (self.labels(&[(label, value)]), sample))
                .collect()
        };
        let kinds = [
            ("put", &counts.puts),
            ("update", &counts.updates),
            ("delete", &counts.deletes),
        ];
        let applied = by(
            "kind",
            kinds.map(|(kind, c)| (kind, Counter(get(c)))).into(),
        );
        self.family(
            e,
            "drift_actions_applied",
            "Actions applied, by kind.",
            &applied,
        )?;
        let by_table: Vec<(Labels, Sample)> = counts
            .by_table
            .lock()
            .expect("by-table lock")
            .iter()
            .map(|((table, kind), n)| {
                let labels = self.labels(&[("table", table), ("kind", kind)]);
                (labels, Counter(*n as f64))
            })
            .collect();
        if !by_table.is_empty() {
            let help = "Actions applied, by table and kind.";
            self.family(e, "drift_table_actions_applied", help, &by_table)?;
        }
        let codes = retries
            .iter()
            .map(|(code, n)| (code.as_str(), Counter(*n as f64)));
        let by_code = by("code", codes.collect());
        if !by_code.is_empty() {
            let help = "Requests sent again, by the error code that caused it.";
            self.family(e, "drift_retries", help, &by_code)?;
        }
        let phase = if counts.catching_up.load(Ordering::Relaxed) {
            "catch-up"
        } else if counts.applying.load(Ordering::Relaxed) {
            "apply"
        } else {
            "scan"
        };
        let phases =
            ["scan", "apply", "catch-up"].map(|p| (p, Gauge(f64::from(u8::from(p == phase)))));
        let help = "The run's phase (1 for the current one).";
        self.family(e, "drift_phase", help, &by("phase", phases.into()))?;
        let (buckets, sum, count) = stats::latency();
        let bounds: Vec<(f64, u64)> = stats::BUCKETS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(buckets)
            .collect();
        let mut histogram = e.encode_descriptor(
            "drift_request_duration_seconds",
            "Time from sending a DynamoDB request to its answer, each attempt.",
            None,
            MetricType::Histogram,
        )?;
        histogram
            .encode_family(&self.labels(&[]))?
            .encode_histogram::<NoLabelSet>(sum, count, &bounds, None)
    }
}

/// Binds `addr` (an address in use is an error now, before the run starts) and serves
/// `metrics` there, on any path, until the process ends.
pub async fn serve(addr: SocketAddr, metrics: RunMetrics) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("--metrics-addr {addr}: cannot listen there"))?;
    let mut registry = Registry::default();
    registry.register_collector(Box::new(metrics));
    let registry = Arc::new(registry);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                continue;
            };
            let registry = registry.clone();
            tokio::spawn(async move {
                // The request itself does not matter: every path gets the metrics.
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let mut body = String::new();
                if prometheus_client::encoding::prometheus_text::encode(&mut body, &registry)
                    .is_err()
                {
                    return;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Ok(())
}
