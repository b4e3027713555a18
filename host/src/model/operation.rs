//! Which operation a run performs, and where a migration stands.

use serde::{Deserialize, Serialize};

/// What a run does: `run` calls the guest's `migrate`, `undo` its `rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `run`: `migrate` over the table.
    Migrate,
    /// `undo`: `rollback` over the table.
    Undo,
}

impl Operation {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Migrate => "migrate",
            Operation::Undo => "undo",
        }
    }

    /// The spelling read back from the metadata table.
    pub fn parse(text: &str) -> Option<Operation> {
        [Operation::Migrate, Operation::Undo]
            .into_iter()
            .find(|o| o.as_str() == text)
    }

    /// The guest export this operation calls.
    pub fn export(self) -> &'static str {
        match self {
            Operation::Migrate => "migrate",
            Operation::Undo => "rollback",
        }
    }
}

/// Which part of a run: the scan writes the journal, the apply writes the tables (a
/// checkpoint says which it belongs to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The journal is being written.
    Scan,
    /// The journal is complete and being applied.
    Apply,
    /// Live runs: the journal is applied; the changes made since the scan started are being
    /// caught up from the table's stream.
    CatchUp,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Scan => "scan",
            Phase::Apply => "apply",
            Phase::CatchUp => "catch-up",
        })
    }
}

/// Where a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A run or undo is in progress (or died: see `run_id` and `started_at`).
    Running,
    /// Every action of `migrate` was applied.
    Applied,
    /// The last run or undo failed; `last_error` says why.
    Failed,
    /// `undo` applied every action of `rollback`.
    RolledBack,
    /// Recorded but not applied: `repair` cleared a failed run (its note says which), so the
    /// next run starts from the beginning.
    Pending,
}

impl Status {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Applied => "applied",
            Status::Failed => "failed",
            Status::RolledBack => "rolled_back",
            Status::Pending => "pending",
        }
    }

    /// The spelling read back from the metadata table.
    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::Running,
            Status::Applied,
            Status::Failed,
            Status::RolledBack,
            Status::Pending,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}
