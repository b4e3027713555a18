//! A multi-worker run as `status` shows it, from any machine that reaches the metadata table:
//! each worker (index, host, lease, segments held and done, items, actions) and the whole
//! (segments scanned and applied, items, rate, ETA).

use anyhow::Result;
use serde::Serialize;

use crate::aws::table::approximate_item_count;
use crate::metadata::lock::unix_now;
use crate::metadata::workers::{Coordination, SegmentState};
use crate::metadata::{MetadataTable, MigrationRecord};

/// One worker of a running multi-worker run.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerRow {
    /// Its index.
    pub index: u32,
    /// Host and pid of the process holding the index.
    pub host: String,
    /// Seconds its lease has left (negative: expired that long ago; its claims are taken over).
    pub lease_seconds_left: i64,
    /// What it does (`scan`, `waiting for the scan`, `apply`, ...).
    pub phase: String,
    /// Segments it holds.
    pub segments_held: u32,
    /// Of those, applied.
    pub segments_applied: u32,
    /// Items through its guests (this process).
    pub items: u64,
    /// Actions it journaled (this process).
    pub actions: u64,
}

/// A running multi-worker run.
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    /// The migration.
    pub number: u64,
    /// The run.
    pub run_id: String,
    /// Workers taking part.
    pub workers: u32,
    /// Scan segments.
    pub segments: u32,
    /// Segments scanned (every item through the guest).
    pub segments_scanned: u32,
    /// Segments applied.
    pub segments_applied: u32,
    /// Whether the apply has begun.
    pub applying: bool,
    /// The failure that stopped the run, if any.
    pub failed: Option<String>,
    /// Items through the guests so far (the live workers' processes).
    pub items: u64,
    /// The table's approximate size (DynamoDB's estimate, refreshed about every 6 hours).
    pub table_items: Option<u64>,
    /// Items per second since the run started.
    pub items_per_second: Option<f64>,
    /// Seconds until the scan ends at that rate (scan phase only).
    pub scan_eta_seconds: Option<u64>,
    /// Each worker.
    pub worker_rows: Vec<WorkerRow>,
}

/// The view of `record`'s run if it is a running multi-worker run.
pub async fn view(meta: &MetadataTable, record: &MigrationRecord) -> Result<Option<RunView>> {
    let coordination = Coordination::new(
        meta.client().clone(),
        meta.policy().clone(),
        meta.name(),
        record.number,
        &record.run_id,
    );
    let Some(shape) = coordination.shape().await? else {
        return Ok(None);
    };
    let claims = coordination.claims(shape.segments).await?;
    let leases = coordination.workers(shape.workers).await?;
    let now = unix_now() as i64;
    let worker_rows: Vec<WorkerRow> = leases
        .iter()
        .map(|lease| {
            let held: Vec<_> = claims.iter().filter(|c| c.worker == lease.index).collect();
            WorkerRow {
                index: lease.index,
                host: lease.host.clone(),
                lease_seconds_left: lease.expires_at as i64 - now,
                phase: lease.phase.clone(),
                segments_held: held.len() as u32,
                segments_applied: held
                    .iter()
                    .filter(|c| c.state == SegmentState::Applied)
                    .count() as u32,
                items: lease.items,
                actions: lease.actions,
            }
        })
        .collect();
    let count = |wanted: &[SegmentState]| {
        claims.iter().filter(|c| wanted.contains(&c.state)).count() as u32
    };
    let items = worker_rows.iter().map(|w| w.items).sum::<u64>();
    let table_items = approximate_item_count(meta.client(), meta.policy(), &record.table).await;
    let elapsed = humantime::parse_rfc3339(&record.started_at)
        .ok()
        .and_then(|started| started.elapsed().ok())
        .map(|e| e.as_secs_f64());
    let items_per_second = elapsed.filter(|e| *e > 0.0).map(|e| items as f64 / e);
    let scan_eta_seconds = match (shape.applying, table_items, items_per_second) {
        (false, Some(total), Some(rate)) if rate > 0.0 => {
            Some((total.saturating_sub(items) as f64 / rate).ceil() as u64)
        }
        _ => None,
    };
    Ok(Some(RunView {
        number: record.number,
        run_id: record.run_id.clone(),
        workers: shape.workers,
        segments: shape.segments,
        segments_scanned: count(&[SegmentState::Scanned, SegmentState::Applied]),
        segments_applied: count(&[SegmentState::Applied]),
        applying: shape.applying,
        failed: shape.failed,
        items,
        table_items,
        items_per_second,
        scan_eta_seconds,
        worker_rows,
    }))
}

impl RunView {
    /// The lines `status` prints under the run's record.
    pub fn lines(&self) -> String {
        let mut text = format!(
            "        {} workers, {} segments: {} scanned, {} applied{}\n",
            self.workers,
            self.segments,
            self.segments_scanned,
            self.segments_applied,
            if self.applying {
                " (applying)"
            } else {
                " (scanning)"
            }
        );
        let rate = self
            .items_per_second
            .map(|r| format!(" at {r:.0} items/s"))
            .unwrap_or_default();
        let of = self
            .table_items
            .map(|t| format!(" of ~{t}"))
            .unwrap_or_default();
        let eta = self
            .scan_eta_seconds
            .map(|s| {
                format!(
                    ", scan ETA {}",
                    humantime::format_duration(std::time::Duration::from_secs(s))
                )
            })
            .unwrap_or_default();
        text.push_str(&format!(
            "        whole: {} items{of} through the guests{rate}{eta}\n",
            self.items
        ));
        if let Some(failed) = &self.failed {
            text.push_str(&format!("        failed: {failed}\n"));
        }
        for w in &self.worker_rows {
            let lease = if w.lease_seconds_left >= 0 {
                format!("lease {} s", w.lease_seconds_left)
            } else {
                format!("lease expired {} s ago", -w.lease_seconds_left)
            };
            text.push_str(&format!(
                "        worker {}: {}, {lease}, {}; segments {} held, {} applied; {} items, {} actions\n",
                w.index, w.host, w.phase, w.segments_held, w.segments_applied, w.items, w.actions
            ));
        }
        text
    }
}
