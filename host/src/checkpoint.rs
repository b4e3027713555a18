//! Checkpoints: how far a run got, so that a run killed midway resumes instead of starting over.
//!
//! The checkpoint file lives next to the run's journal (`<journal>.checkpoint`, JSON, replaced
//! atomically: written aside, synced, renamed). During the scan it holds, per segment, how many
//! pages are wholly journaled and the `ExclusiveStartKey` of the next one, with the journal
//! position those pages end at (the journal is synced before the checkpoint is written). During
//! the apply it holds the journal position up to which every action is confirmed applied, and
//! the counts up to there.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::journal::PageTag;
use crate::metadata::Operation;

/// Where one scan segment stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentCheckpoint {
    /// Pages whose every item is journaled.
    pub pages: u64,
    /// Items in those pages.
    pub items: u64,
    /// `ExclusiveStartKey` of the next page (DynamoDB JSON); `None` before the first page.
    pub start_key: Option<Json>,
    /// Whether the segment's last page is among those pages.
    pub done: bool,
}

/// Which part of the run the checkpoint belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The journal is being written.
    Scan,
    /// The journal is complete and being applied.
    Apply,
}

/// Actions confirmed applied, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedCounts {
    /// Puts applied.
    pub puts: u64,
    /// Updates applied.
    pub updates: u64,
    /// Deletes applied.
    pub deletes: u64,
    /// Writes whose condition failed.
    pub conflicts: u64,
}

/// A run's progress, as saved on disk.
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
    pub segments: Vec<SegmentCheckpoint>,
    /// Journal bytes that belong to the checkpoint: the records of the journaled pages (and
    /// some of later pages, which a resume recognises and does not repeat).
    pub journal_position: u64,
    /// Records before `journal_position`.
    pub records: u64,
    /// Scan or apply.
    pub phase: Phase,
    /// Journal position up to which every action is confirmed applied (apply phase).
    pub applied_position: u64,
    /// Counts up to `applied_position`.
    pub applied: AppliedCounts,
}

impl Checkpoint {
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
        let aside = path.with_extension("checkpoint.new");
        let text = serde_json::to_vec_pretty(self)?;
        let mut file = File::create(&aside)
            .with_context(|| format!("cannot write checkpoint {}", aside.display()))?;
        file.write_all(&text)?;
        file.sync_data()?;
        fs::rename(&aside, path)
            .with_context(|| format!("cannot write checkpoint {}", path.display()))?;
        if let Some(dir) = path.parent().and_then(|d| File::open(d).ok()) {
            // The rename itself is durable only once the directory is synced.
            let _ = dir.sync_all();
        }
        Ok(())
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

/// A page handed to the guests whose items are not all journaled yet.
#[derive(Debug)]
struct PendingPage {
    page: u64,
    items: u64,
    remaining: u64,
    next_key: Option<Json>,
}

#[derive(Debug, Default)]
struct SegmentState {
    committed: SegmentCheckpoint,
    pending: VecDeque<PendingPage>,
}

impl SegmentState {
    /// Moves wholly journaled pages, in page order, into the committed state.
    fn commit_finished(&mut self) {
        while self.pending.front().is_some_and(|p| p.remaining == 0) {
            let page = self.pending.pop_front().expect("a front page");
            self.committed.pages = page.page + 1;
            self.committed.items += page.items;
            self.committed.done = page.next_key.is_none();
            self.committed.start_key = page.next_key;
        }
    }
}

/// The scan's pages in flight: which are wholly journaled, per segment, in page order.
///
/// The scanner announces each page before handing its items to the guests; the journal writer
/// reports each item it journaled. A page counts only when it and every earlier page of its
/// segment are journaled, so a checkpoint never skips an item.
#[derive(Debug)]
pub struct ScanProgress {
    segments: Mutex<Vec<SegmentState>>,
}

impl ScanProgress {
    /// Progress starting from `from` (one entry per segment).
    pub fn new(from: Vec<SegmentCheckpoint>) -> ScanProgress {
        let segments = from
            .into_iter()
            .map(|committed| SegmentState {
                committed,
                pending: VecDeque::new(),
            })
            .collect();
        ScanProgress {
            segments: Mutex::new(segments),
        }
    }

    /// Where `segment` starts: its first page number, start key, and whether it is done.
    pub fn start_of(&self, segment: u32) -> SegmentCheckpoint {
        self.segments.lock().expect("scan progress lock")[segment as usize]
            .committed
            .clone()
    }

    /// Announces page `tag` of `items` items, of which `to_journal` go to the guests (the
    /// rest are journaled already), followed by the page at `next_key` (`None`: last page).
    pub fn page_read(&self, tag: PageTag, items: u64, to_journal: u64, next_key: Option<Json>) {
        let mut segments = self.segments.lock().expect("scan progress lock");
        let state = &mut segments[tag.segment as usize];
        state.pending.push_back(PendingPage {
            page: tag.page,
            items,
            remaining: to_journal,
            next_key,
        });
        state.commit_finished();
    }

    /// One item of page `tag` is journaled (its actions, or its failure).
    pub fn item_journaled(&self, tag: PageTag) {
        let mut segments = self.segments.lock().expect("scan progress lock");
        let state = &mut segments[tag.segment as usize];
        if let Some(page) = state.pending.iter_mut().find(|p| p.page == tag.page) {
            page.remaining = page.remaining.saturating_sub(1);
        }
        state.commit_finished();
    }

    /// The committed state of every segment.
    pub fn snapshot(&self) -> Vec<SegmentCheckpoint> {
        self.segments
            .lock()
            .expect("scan progress lock")
            .iter()
            .map(|s| s.committed.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(segment: u32, page: u64) -> PageTag {
        PageTag { segment, page }
    }

    #[test]
    fn a_page_counts_only_when_it_and_every_earlier_page_are_journaled() {
        let progress = ScanProgress::new(vec![SegmentCheckpoint::default(); 2]);
        progress.page_read(tag(0, 0), 2, 2, Some(Json::from("k1")));
        progress.page_read(tag(0, 1), 1, 1, None);
        progress.item_journaled(tag(0, 1));
        assert_eq!(progress.snapshot()[0], SegmentCheckpoint::default());
        progress.item_journaled(tag(0, 0));
        progress.item_journaled(tag(0, 0));
        let segment = &progress.snapshot()[0];
        assert_eq!((segment.pages, segment.items, segment.done), (2, 3, true));
        assert_eq!(progress.snapshot()[1], SegmentCheckpoint::default());
    }

    #[test]
    fn pages_with_nothing_to_journal_count_at_once() {
        let progress = ScanProgress::new(vec![SegmentCheckpoint::default()]);
        progress.page_read(tag(0, 0), 5, 0, Some(Json::from("k")));
        let segment = progress.start_of(0);
        assert_eq!(
            (segment.pages, segment.items, segment.start_key),
            (1, 5, Some(Json::from("k")))
        );
        assert!(!segment.done);
    }

    #[test]
    fn checkpoints_round_trip_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = Checkpoint::path_for(&dir.path().join("run.journal"));
        let checkpoint = Checkpoint {
            run_id: "r".into(),
            operation: Operation::Migrate,
            checksum: "c".into(),
            table: "t".into(),
            segments: vec![SegmentCheckpoint {
                pages: 3,
                items: 30,
                start_key: Some(serde_json::json!({"id": {"N": "7"}})),
                done: false,
            }],
            journal_position: 99,
            records: 4,
            phase: Phase::Apply,
            applied_position: 50,
            applied: AppliedCounts {
                puts: 1,
                ..AppliedCounts::default()
            },
        };
        checkpoint.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), checkpoint);
        fs::write(&path, b"{\"run_id\": ").unwrap();
        let error = format!("{:#}", Checkpoint::load(&path).unwrap_err());
        assert!(error.contains("is corrupt"), "{error}");
    }
}
