//! Checkpoints: how far a run got, so that a run killed midway resumes instead of starting over.
//!
//! The checkpoint file lives next to the run's journal (`<journal>.checkpoint`, JSON, replaced
//! atomically: written aside, synced, renamed). During the scan it holds, per segment, how many
//! pages are wholly journaled and the `ExclusiveStartKey` of the next one, with the journal
//! position those pages end at (the journal is synced before the checkpoint is written). During
//! the apply it holds the journal position up to which every action is confirmed applied, and
//! the counts up to there.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

pub use crate::durable::save_atomically;
use crate::model::counts::Counts;
use crate::model::operation::Operation;
pub use crate::model::operation::Phase;
use crate::source::pages::SegmentPosition;

/// How far a run got, as saved on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The run that writes the journal (kept by every resume).
    pub run_id: String,
    /// `migrate` or `undo`.
    pub operation: Operation,
    /// Hex SHA-256 of the module: a resume needs the same one.
    pub checksum: String,
    /// The scanned table.
    pub table: String,
    /// Per segment: pages journaled and where the next page starts.
    pub segments: Vec<SegmentPosition>,
    /// Journal bytes that belong to the checkpoint: the records of the journaled pages (and
    /// some of later pages, which a resume recognises and does not repeat).
    pub journal_position: u64,
    /// Records before `journal_position`.
    pub records: u64,
    /// Scan or apply.
    pub phase: Phase,
    /// Journal position up to which every action is confirmed applied (apply phase).
    pub applied_position: u64,
    /// Counts up to `applied_position` (puts, updates, deletes, conflicts).
    pub applied: Counts,
    /// Whether the journal holds a repeatable upsert update, which the apply must look for
    /// before it starts (see `apply::exactly_once`); a checkpoint that does not say is taken
    /// to hold one.
    #[serde(default = "yes")]
    pub repeatable_upserts: bool,
}

fn yes() -> bool {
    true
}

impl Checkpoint {
    /// The checkpoint of a scan that has not started: `segments` segments at their start.
    pub fn fresh(
        run_id: String,
        operation: Operation,
        checksum: String,
        table: String,
        segments: u32,
    ) -> Checkpoint {
        Checkpoint {
            run_id,
            operation,
            checksum,
            table,
            segments: vec![Default::default(); segments.max(1) as usize],
            journal_position: 0,
            records: 0,
            phase: Phase::Scan,
            applied_position: 0,
            applied: Counts::default(),
            repeatable_upserts: false,
        }
    }
    /// The checkpoint file of `journal`.
    pub fn path_for(journal: &Path) -> PathBuf {
        let mut name = journal.as_os_str().to_owned();
        name.push(".checkpoint");
        PathBuf::from(name)
    }

    /// Items in the journaled pages of every segment.
    pub fn items_scanned(&self) -> u64 {
        self.segments.iter().map(|s| s.items).sum()
    }

    /// Writes the checkpoint to `path` atomically and durably.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_atomically(path, &serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("cannot write checkpoint {}", path.display()))
    }

    /// Reads a checkpoint; a damaged one is a clear error, never a guess.
    pub fn load(path: &Path) -> Result<Checkpoint> {
        let text =
            fs::read(path).with_context(|| format!("cannot read checkpoint {}", path.display()))?;
        let checkpoint: Checkpoint = serde_json::from_slice(&text)
            .with_context(|| format!("checkpoint {} is corrupt", path.display()))?;
        if checkpoint.segments.is_empty() {
            bail!("checkpoint {} names no scan segment", path.display());
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = Checkpoint::path_for(&dir.path().join("run.journal"));
        let checkpoint = Checkpoint {
            run_id: "r".into(),
            operation: Operation::Migrate,
            checksum: "c".into(),
            table: "t".into(),
            segments: vec![SegmentPosition {
                pages: 3,
                items: 30,
                start_key: Some(serde_json::json!({"id": {"N": "7"}})),
                done: false,
            }],
            journal_position: 99,
            records: 4,
            phase: Phase::Apply,
            applied_position: 50,
            applied: Counts {
                puts: 1,
                ..Counts::default()
            },
            repeatable_upserts: false,
        };
        checkpoint.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), checkpoint);
        fs::write(&path, b"{\"run_id\": ").unwrap();
        let error = format!("{:#}", Checkpoint::load(&path).unwrap_err());
        assert!(error.contains("is corrupt"), "{error}");
    }
}
