//! The coordination items' contents: a segment's claim, a worker's lease, the run's shape,
//! and how they read back from their DynamoDB items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use crate::metadata::lock::unix_now;
use crate::model::counts::Counts;

/// An item of the metadata table, as DynamoDB gives it.
pub(super) type Attributes = HashMap<String, AttributeValue>;

/// The string attribute `name` of `item`, if it is one.
pub(super) fn text(item: &Attributes, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

/// The number attribute `name` of `item`, parsed, if it is one.
pub(super) fn number<T: std::str::FromStr>(item: &Attributes, name: &str) -> Option<T> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}

/// Where a claimed segment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentState {
    /// Claimed: being scanned into its claimant's journal.
    Claimed,
    /// Every item of it went through the guest into the journal.
    Scanned,
    /// Every action of its journal was applied.
    Applied,
}

impl SegmentState {
    /// The state as the item stores it.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            SegmentState::Claimed => "claimed",
            SegmentState::Scanned => "scanned",
            SegmentState::Applied => "applied",
        }
    }

    /// The state an item stores.
    pub(super) fn parse(text: &str) -> Option<SegmentState> {
        match text {
            "claimed" => Some(SegmentState::Claimed),
            "scanned" => Some(SegmentState::Scanned),
            "applied" => Some(SegmentState::Applied),
            _ => None,
        }
    }
}

/// One segment's claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentClaim {
    /// The segment.
    pub segment: u32,
    /// The worker index that holds it.
    pub worker: u32,
    /// Where it stands.
    pub state: SegmentState,
    /// Its counts: items scanned and actions journaled once scanned; applied counts once
    /// applied.
    pub counts: Counts,
    /// Actions its journal holds (once scanned).
    pub actions: u64,
}

/// One worker index's lease and published progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerLease {
    /// The index.
    pub index: u32,
    /// The process holding it (a UUID).
    pub owner: String,
    /// Its host and pid.
    pub host: String,
    /// When its lease ends unless renewed (Unix seconds).
    pub expires_at: u64,
    /// What it does now (`scan`, `waiting`, `apply`, `done`).
    pub phase: String,
    /// Items its guests took so far (this process).
    pub items: u64,
    /// Actions it journaled or applied so far (this process).
    pub actions: u64,
}

impl WorkerLease {
    /// Whether its holder stopped renewing it.
    pub fn expired(&self) -> bool {
        self.expires_at < unix_now()
    }
}

/// The shape of a multi-worker run, as its first worker wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunShape {
    /// Workers taking part.
    pub workers: u32,
    /// Scan segments.
    pub segments: u32,
    /// The read budget shared by the workers (capacity units per second).
    pub max_rcu: Option<f64>,
    /// The write budget shared by the workers.
    pub max_wcu: Option<f64>,
    /// Whether the apply has begun (every segment scanned, no item failed).
    pub applying: bool,
    /// The first failure of any worker, which stops them all.
    pub failed: Option<String>,
    /// Claims taken over before the barrier: the barrier is passed only by a worker that saw
    /// every segment scanned with this count unchanged (a claim taken back to `claimed` in the
    /// meantime would otherwise be missed).
    pub takeovers: u64,
}

/// A worker's lease from its item.
pub(super) fn worker_from_item(item: &Attributes) -> Option<WorkerLease> {
    Some(WorkerLease {
        index: number(item, "index")?,
        owner: text(item, "owner")?,
        host: text(item, "host").unwrap_or_default(),
        expires_at: number(item, "expires_at")?,
        phase: text(item, "phase").unwrap_or_default(),
        items: number(item, "items").unwrap_or(0),
        actions: number(item, "actions").unwrap_or(0),
    })
}

/// A segment's claim from its item.
pub(super) fn claim_from_item(item: &Attributes) -> Option<SegmentClaim> {
    Some(SegmentClaim {
        segment: number(item, "segment")?,
        worker: number(item, "worker")?,
        state: SegmentState::parse(&text(item, "state")?)?,
        counts: text(item, "counts")
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default(),
        actions: number(item, "actions").unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_states_read_back() {
        for state in [
            SegmentState::Claimed,
            SegmentState::Scanned,
            SegmentState::Applied,
        ] {
            assert_eq!(SegmentState::parse(state.as_str()), Some(state));
        }
        assert_eq!(SegmentState::parse("done"), None);
    }
}
