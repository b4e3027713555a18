//! What a run did, as printed with `--report`: counts, failures with their keys, conflicts.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value as Json;

use crate::apply::Conflict;
use crate::engine::MigrationInfo;
use crate::model::counted;
use crate::model::counts::Counts;
use crate::model::operation::{Operation, Status};

/// An item the guest could not migrate.
#[derive(Debug, Clone, Serialize)]
pub struct ItemFailure {
    /// The item's key, DynamoDB JSON.
    pub key: Json,
    /// What went wrong.
    pub error: String,
}

/// What a live run (`--live`) did besides its scan and apply.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveSummary {
    /// Items migrated again because they were written after they were read.
    pub items_rewritten: u64,
    /// Stream records the catch-up read.
    pub changes_read: u64,
}

/// What a run did: printed as JSON with `--report`, whether it succeeded or not.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The migration's `info()`.
    pub migration: MigrationInfo,
    /// The table that was scanned.
    pub table: String,
    /// Hex SHA-256 of the module.
    pub checksum: String,
    /// `migrate` or `undo`.
    pub operation: Operation,
    /// The record's status at the end.
    pub status: Status,
    /// Whether the operation did what it was asked (`status` is applied / rolled_back).
    pub succeeded: bool,
    /// This run's id in the metadata record.
    pub run_id: String,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End (RFC 3339).
    pub finished_at: String,
    /// Wall time in seconds.
    pub duration_seconds: f64,
    /// Counts.
    pub counts: Counts,
    /// Actions written to the journal.
    pub actions_journaled: u64,
    /// Updates this process applied in batches of PartiQL statements.
    pub updates_batched: u64,
    /// Updates this process applied one by one (`UpdateItem`, or a transaction for the
    /// exactly-once ones): those that do not translate to PartiQL, or all with
    /// `--no-batch-updates`.
    pub updates_single: u64,
    /// Why updates went one by one instead of in batches of PartiQL statements, when the
    /// server did not take them (see `aws::partiql::probe`).
    pub statements_refused: Option<String>,
    /// The first failed items.
    pub failures: Vec<ItemFailure>,
    /// The first conflicts.
    pub conflicts: Vec<Conflict>,
    /// Why the run failed, if it did.
    pub error: Option<String>,
    /// The exit code this outcome maps to.
    pub exit_code: u8,
    /// The journal, if it was kept.
    pub journal: Option<PathBuf>,
    /// Peak resident memory of this process, in bytes (Linux only).
    pub peak_rss_bytes: Option<u64>,
    /// Read capacity units consumed by the scan.
    pub consumed_rcu: f64,
    /// Write capacity units consumed by the apply.
    pub consumed_wcu: f64,
    /// DynamoDB requests this process sent (every attempt).
    pub requests: u64,
    /// Of those, the requests a worker of a multi-worker run made to coordinate (claims,
    /// lease renewals, waiting); 0 without `--workers`.
    pub coordination_requests: u64,
    /// Live runs: what the guarded writes and the catch-up did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveSummary>,
}

impl RunReport {
    /// The report in one line (two with the error), for the end of a run. The counts of a
    /// run that stopped are those confirmed settled, a lower bound: writes in flight when it
    /// stopped are settled by the resume, which counts them exactly.
    pub fn summary_line(&self) -> String {
        let c = &self.counts;
        let confirmed = match self.succeeded {
            true => "",
            false => " (confirmed so far; the resume settles the rest exactly)",
        };
        let mut line = format!(
            "{} #{} ({}) on `{}`: {}: {} scanned, {} put, {} update, {} delete{confirmed}, {}, {}, {:.1} s",
            self.migration.name,
            self.migration.number,
            self.operation.as_str(),
            self.table,
            self.status.as_str(),
            counted(c.items_scanned, "item"),
            c.puts,
            c.updates,
            c.deletes,
            counted(c.conflicts, "conflict"),
            counted(c.errors, "failed item"),
            self.duration_seconds
        );
        if let Some(error) = &self.error {
            line.push_str(&format!("\nerror: {error}"));
        }
        line
    }
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`), on Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
