//! One set of counts for a run: what the metadata record stores, what a checkpoint keeps of
//! the apply, what the report prints; and [`LiveCounts`], its atomic form that the stages
//! bump while they work and the progress display reads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::action::AppliedKind;
use super::counted;

/// Counts of one run. Fields a stage does not know stay zero (a checkpoint keeps only the
/// apply's); `#[serde(default)]` lets an older checkpoint without some of them load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    /// Items read by the scan.
    pub items_scanned: u64,
    /// Puts applied.
    pub puts: u64,
    /// Updates applied.
    pub updates: u64,
    /// Deletes applied.
    pub deletes: u64,
    /// Items that failed in the guest.
    pub errors: u64,
    /// Writes whose condition failed.
    pub conflicts: u64,
}

impl Counts {
    /// Actions applied, all kinds.
    pub fn applied(&self) -> u64 {
        self.puts + self.updates + self.deletes
    }

    /// Actions settled: applied, or found in conflict.
    pub fn settled(&self) -> u64 {
        self.applied() + self.conflicts
    }

    /// Counts one applied action of `kind`.
    pub fn count_applied(&mut self, kind: AppliedKind) {
        match kind {
            AppliedKind::Put => self.puts += 1,
            AppliedKind::Update => self.updates += 1,
            AppliedKind::Delete => self.deletes += 1,
        }
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Counts) {
        self.items_scanned += other.items_scanned;
        self.puts += other.puts;
        self.updates += other.updates;
        self.deletes += other.deletes;
        self.errors += other.errors;
        self.conflicts += other.conflicts;
    }

    /// The apply's part: puts, updates, deletes and conflicts.
    pub fn apply_part(&self) -> Counts {
        Counts {
            puts: self.puts,
            updates: self.updates,
            deletes: self.deletes,
            conflicts: self.conflicts,
            ..Counts::default()
        }
    }
}

/// Counters that the scan, the journal writer and the apply bump as they go.
#[derive(Debug, Default)]
pub struct LiveCounts {
    /// Items through the guest.
    pub processed: AtomicU64,
    /// Actions journaled.
    pub journaled: AtomicU64,
    /// Items failed in the guest.
    pub errors: AtomicU64,
    /// Puts applied.
    pub puts: AtomicU64,
    /// Updates applied.
    pub updates: AtomicU64,
    /// Deletes applied.
    pub deletes: AtomicU64,
    /// Writes whose condition failed.
    pub conflicts: AtomicU64,
    /// Updates applied in batches of PartiQL statements.
    pub updates_batched: AtomicU64,
    /// Updates applied one by one (`UpdateItem`, or a transaction for exactly-once ones).
    pub updates_single: AtomicU64,
    /// Whether the apply has started.
    pub applying: AtomicBool,
    /// What the current phase expects to get through, for the rate and ETA (0: unknown): the
    /// table's approximate item count in the scan, the journal's actions left in the apply.
    pub expected: AtomicU64,
    /// Live runs: items migrated again because they were written after they were read.
    pub rewritten: AtomicU64,
    /// Live runs: stream records read by the catch-up.
    pub changes: AtomicU64,
    /// Live runs: how far behind the stream the catch-up is, in milliseconds.
    pub lag_ms: AtomicU64,
    /// Live runs: whether the catch-up has started.
    pub catching_up: AtomicBool,
    /// Bytes of the journal written and synced so far.
    pub journal_bytes: AtomicU64,
    /// Actions applied, by table and kind (for the metrics).
    pub by_table: std::sync::Mutex<std::collections::BTreeMap<(String, &'static str), u64>>,
}

impl LiveCounts {
    /// Back to zero, for the next run of a folder (the progress display keeps its handle).
    pub fn reset(&self) {
        for counter in [
            &self.processed,
            &self.journaled,
            &self.errors,
            &self.puts,
            &self.updates,
            &self.deletes,
            &self.conflicts,
            &self.updates_batched,
            &self.updates_single,
            &self.expected,
            &self.rewritten,
            &self.changes,
            &self.lag_ms,
            &self.journal_bytes,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.applying.store(false, Ordering::Relaxed);
        self.catching_up.store(false, Ordering::Relaxed);
        self.by_table.lock().expect("by-table lock").clear();
    }

    /// Counts one applied action of `kind` on `table`.
    pub fn count_applied(&self, table: &str, kind: AppliedKind) {
        *self
            .by_table
            .lock()
            .expect("by-table lock")
            .entry((table.to_owned(), kind.name()))
            .or_default() += 1;
        let counter = match kind {
            AppliedKind::Put => &self.puts,
            AppliedKind::Update => &self.updates,
            AppliedKind::Delete => &self.deletes,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> Counts {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Counts {
            items_scanned: get(&self.processed),
            puts: get(&self.puts),
            updates: get(&self.updates),
            deletes: get(&self.deletes),
            errors: get(&self.errors),
            conflicts: get(&self.conflicts),
        }
    }

    /// How far the current phase got, and how far it expects to go (0: unknown).
    pub fn progress(&self) -> (u64, u64) {
        let counts = self.snapshot();
        let done = if self.applying.load(Ordering::Relaxed) {
            counts.applied() + counts.conflicts
        } else {
            counts.items_scanned
        };
        (done, self.expected.load(Ordering::Relaxed))
    }

    /// The current state in one line, for the progress display.
    pub fn line(&self) -> String {
        let counts = self.snapshot();
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        if self.catching_up.load(Ordering::Relaxed) {
            format!(
                "catch-up: {} read, {} applied, lag {:.1} s",
                counted(get(&self.changes), "change"),
                counted(counts.applied(), "action"),
                get(&self.lag_ms) as f64 / 1000.0
            )
        } else if self.applying.load(Ordering::Relaxed) {
            format!(
                "apply: at least {} applied, {}",
                counted(counts.applied(), "action"),
                counted(counts.conflicts, "conflict")
            )
        } else {
            format!(
                "scan: {} through the guest, {} journaled, {} failed",
                counted(counts.items_scanned, "item"),
                counted(self.journaled.load(Ordering::Relaxed), "action"),
                counts.errors
            )
        }
    }
}
