//! One worker's part of a multi-worker run, a segment at a time: the scan of a claimed segment
//! into a journal of its own, and the apply of that journal after the barrier.
//!
//! A segment's journal is named by the run, the segment and a generation (a fresh UUID each time
//! the segment is scanned from its start), so a segment scanned again (its journal lost with a
//! worker's disk) never meets the exactly-once markers of an earlier journal of it.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};

use super::Worker;
use crate::journal::checkpoint::{Checkpoint, Phase};
use crate::journal::JournalReader;
use crate::metadata::workers::SegmentState;
use crate::model::counts::Counts;
use crate::model::error::RunError;
use crate::run::apply_phase::{apply_phase, ApplyNotes};
use crate::run::report::ItemFailure;
use crate::run::resume::{journal_path, resume_journal, Resumed};
use crate::run::scan_phase::scan_phase;
use crate::run::RunContext;
use crate::source::pages::SegmentPosition;

/// How a segment's scan ended.
pub enum SegmentScan {
    /// Every item went through the guest: the journal holds this many actions.
    Scanned {
        /// Items read.
        items: u64,
        /// Actions journaled.
        actions: u64,
    },
    /// Items failed in the guest.
    Failed {
        /// How many.
        errors: u64,
        /// The first of them.
        failures: Vec<ItemFailure>,
    },
    /// The scan stopped early (a stop request): nothing to settle.
    Stopped,
}

/// The journal of `segment` found in the work directory: its path and checkpoint.
pub struct SegmentJournal {
    /// The journal.
    pub path: PathBuf,
    /// Its checkpoint.
    pub checkpoint: Checkpoint,
}

impl Worker<'_> {
    /// The id a segment journal's generation goes by (also its checkpoint's run id, and so
    /// the prefix of its exactly-once markers).
    fn generation_prefix(&self, segment: u32) -> String {
        format!("{}-s{segment}-", self.coordination.run_id())
    }

    /// The journal of `segment` this worker's work directory holds, if any (the newest one if
    /// several generations are there: earlier ones are left from a scan started over).
    pub fn find_journal(&self, segment: u32) -> Result<Option<SegmentJournal>> {
        let prefix = self.generation_prefix(segment);
        let mut found: Option<SegmentJournal> = None;
        let entries = match std::fs::read_dir(&self.work_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        for entry in entries {
            let path = entry?.path();
            if !path.to_string_lossy().ends_with(".checkpoint") {
                continue;
            }
            let Ok(checkpoint) = Checkpoint::load(&path) else {
                continue;
            };
            if !checkpoint.run_id.starts_with(&prefix) || checkpoint.checksum != self.checksum() {
                continue;
            }
            let journal = self.journal_of(&checkpoint.run_id);
            if !journal.exists() {
                continue;
            }
            let newer = found
                .as_ref()
                .is_none_or(|f| modified(&path) > modified(&Checkpoint::path_for(&f.path)));
            if newer {
                found = Some(SegmentJournal {
                    path: journal,
                    checkpoint,
                });
            }
        }
        Ok(found)
    }

    fn journal_of(&self, generation: &str) -> PathBuf {
        journal_path(
            &self.work_dir,
            &self.scan.migration.info,
            self.scan.options.operation,
            generation,
        )
    }

    fn checksum(&self) -> &str {
        &self.scan.migration.checksum
    }

    /// Scans `segment` into its journal, from its checkpoint if this worker's disk has one in
    /// the scan phase; a journal already past its scan is taken as it is.
    pub async fn scan_segment(&self, segment: u32) -> Result<SegmentScan> {
        let found = self.find_journal(segment)?;
        let (journal, checkpoint, resumed) = match found {
            Some(found) if found.checkpoint.phase == Phase::Apply => {
                return Ok(SegmentScan::Scanned {
                    items: found.checkpoint.items_scanned(),
                    actions: found.checkpoint.records,
                })
            }
            Some(found) => {
                let resumed = resume_journal(&found.path, found.checkpoint.clone())
                    .map_err(|why| anyhow!("cannot resume segment {segment}: {why}"))?;
                (found.path, found.checkpoint, Some(resumed))
            }
            None => {
                let generation = format!(
                    "{}{}",
                    self.generation_prefix(segment),
                    &uuid::Uuid::new_v4().simple().to_string()[..12]
                );
                let checkpoint = self.fresh_checkpoint(generation.clone(), segment);
                (self.journal_of(&generation), checkpoint, None)
            }
        };
        self.scan_into(journal, checkpoint, resumed).await
    }

    /// A checkpoint whose scan reads `segment` alone of the run's segments.
    fn fresh_checkpoint(&self, generation: String, segment: u32) -> Checkpoint {
        let mut checkpoint = Checkpoint::fresh(
            generation,
            self.scan.options.operation,
            self.checksum().to_owned(),
            self.scan.table.to_owned(),
            self.segments,
        );
        for (n, position) in checkpoint.segments.iter_mut().enumerate() {
            if n as u32 != segment {
                *position = SegmentPosition {
                    done: true,
                    ..SegmentPosition::default()
                };
            }
        }
        checkpoint
    }

    async fn scan_into(
        &self,
        journal: PathBuf,
        checkpoint: Checkpoint,
        resumed: Option<Resumed>,
    ) -> Result<SegmentScan> {
        let scanned = scan_phase(&self.scan, journal.clone(), checkpoint, resumed).await?;
        if scanned.errors > 0 {
            return Ok(SegmentScan::Failed {
                errors: scanned.errors,
                failures: scanned.failures,
            });
        }
        if self.scan.stop.is_requested() {
            return Ok(SegmentScan::Stopped);
        }
        let mut checkpoint = scanned.checkpoint;
        checkpoint.phase = Phase::Apply;
        checkpoint.applied_position = JournalReader::start_position();
        checkpoint.save(&Checkpoint::path_for(&journal))?;
        crate::crash::point("segment-scanned");
        Ok(SegmentScan::Scanned {
            items: checkpoint.items_scanned(),
            actions: checkpoint.records,
        })
    }

    /// Applies `segment`'s journal (scanning the segment again first if this worker's disk
    /// does not hold it) and settles the segment `applied` with its counts. `Ok(None)`: the
    /// apply stopped before it was complete.
    pub async fn apply_segment(&self, segment: u32) -> Result<Option<Counts>, RunError> {
        let fail = |e: anyhow::Error| super::failure(self.scan.stop, Phase::Apply, Some(e));
        let found = self.find_journal(segment).map_err(fail)?;
        let found = match found {
            Some(found) if found.checkpoint.phase == Phase::Apply => found,
            _ => {
                tracing::warn!(
                    "segment {segment}'s journal is not in {}: scanning it again",
                    self.work_dir.display()
                );
                match self.scan_segment(segment).await.map_err(fail)? {
                    SegmentScan::Scanned { .. } => {}
                    SegmentScan::Stopped => return Ok(None),
                    SegmentScan::Failed { failures, .. } => {
                        let first = failures.first().map(|f| format!("{}: {}", f.key, f.error));
                        return Err(RunError::ItemsFailed { failed: 1, first });
                    }
                }
                self.find_journal(segment)
                    .map_err(fail)?
                    .ok_or_else(|| fail(anyhow!("segment {segment}'s journal vanished")))?
            }
        };
        let SegmentJournal {
            path,
            mut checkpoint,
        } = found;
        let run = RunContext {
            scan: self.scan,
            meta: self.meta,
            lease: self.lease,
            run_id: self.coordination.run_id().to_owned(),
            stream: None,
        };
        let mut notes = ApplyNotes::default();
        // A journal found on disk may have been applied in part by an earlier process.
        let applied = apply_phase(&run, &path, &mut checkpoint, true, &mut notes, None)
            .await
            .map_err(fail)?;
        if !applied.complete {
            return Ok(None);
        }
        let counts = Counts {
            items_scanned: checkpoint.items_scanned(),
            ..notes.settled.apply_part()
        };
        self.coordination
            .settle(
                segment,
                self.index,
                SegmentState::Applied,
                &counts,
                checkpoint.records,
            )
            .await
            .map_err(fail)?;
        crate::crash::point("segment-applied");
        if !self.scan.options.keep_journal {
            for file in [Checkpoint::path_for(&path), path.clone()] {
                let _ = std::fs::remove_file(file);
            }
        }
        Ok(Some(counts))
    }
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::UNIX_EPOCH)
}
