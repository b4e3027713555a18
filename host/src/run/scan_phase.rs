//! The scan phase: the scan feeding the pool of guests, and a consumer spooling the pool's
//! output to the journal and checkpointing it.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};

use super::report::ItemFailure;
use super::resume::Resumed;
use super::{ScanContext, FAILURES_REPORTED};
use crate::engine::{GuestContext, ImmediateDb, Job, Outcome, Pool, CHUNK};
use crate::journal::checkpoint::Checkpoint;
use crate::journal::{Entry, JournalWriter, Record};
use crate::model::action::ActionKind;
use crate::model::counts::LiveCounts;
use crate::model::item::to_json_item;
use crate::model::source::ScanTag;
use crate::model::stop::{Stop, StopReason};
use crate::source::pages::{PageLedger, SegmentPosition};
use crate::source::scan::{scan, ScanOptions};

/// What the scan phase produced.
pub struct Scanned {
    /// Items read by the scan.
    pub items: u64,
    /// Items the guest failed on.
    pub errors: u64,
    /// The first of them.
    pub failures: Vec<ItemFailure>,
    /// The checkpoint saved last, at the end of the scan.
    pub checkpoint: Checkpoint,
}

/// Scans the table into the journal at `journal`, from `checkpoint` (and what a resume found).
pub async fn scan_phase(
    run: &ScanContext<'_>,
    journal: PathBuf,
    mut checkpoint: Checkpoint,
    resumed: Option<Resumed>,
) -> Result<Scanned> {
    let checkpoint_path = Checkpoint::path_for(&journal);
    let (writer, journaled, errors, failures) = match resumed {
        None => {
            let mut writer = JournalWriter::create(&journal)?;
            checkpoint.journal_position = writer.sync()?;
            checkpoint.save(&checkpoint_path)?;
            (writer, HashSet::new(), 0, Vec::new())
        }
        Some(resumed) => (
            JournalWriter::resume(&journal, checkpoint.journal_position, checkpoint.records)?,
            resumed.journaled,
            resumed.errors,
            resumed.failures,
        ),
    };
    run.counts.errors.store(errors, Ordering::Relaxed);
    let ledger = Arc::new(PageLedger::new(checkpoint.segments.clone()));
    let segments = checkpoint.segments.len() as u32;
    let options = run.options;
    let mut pool = start_pool(run);
    let jobs = pool.sender();
    pool.close();
    let consumer = {
        let spool = Spool {
            writer,
            checkpoint,
            checkpoint_path,
            ledger: ledger.clone(),
            every: options.checkpoint_every,
            errors,
            failures,
            fail_fast: options.fail_fast,
        };
        let outcomes = pool.outcomes().clone();
        let (counts, stop) = (run.counts.clone(), run.stop.clone());
        tokio::task::spawn_blocking(move || {
            let spooled = spool.run(outcomes.clone(), &counts, &stop);
            if spooled.is_err() {
                // A journal that cannot be written (a full disk, say) ends the scan: stop it,
                // and keep taking the guests' outcomes so that no worker, and so no feeder,
                // stays blocked on a full channel.
                stop.request(StopReason::StageFailed);
                outcomes.iter().for_each(drop);
            }
            spooled
        })
    };
    let scan_options = ScanOptions {
        table: run.table.to_owned(),
        schema: run.schemas[run.table].key.clone(),
        segments,
        capacity: options.capacity.clone(),
        page_size: options.page_size,
        ledger,
        chunk: CHUNK,
        journaled: Arc::new(journaled),
        guard: options.live.as_ref().map(|live| live.mode.clone()),
    };
    let items = scan::<Job<ScanTag>>(
        run.client,
        &options.session.policy,
        &scan_options,
        jobs,
        run.stop,
    )
    .await;
    let spooled = consumer
        .await
        .map_err(|e| anyhow!("journal writer failed: {e}"))?;
    drop(pool);
    let items = items?;
    let (checkpoint, errors, failures) = spooled?;
    if !run.stop.is_requested() {
        every_item_journaled(items, &checkpoint.segments)?;
    }
    Ok(Scanned {
        items,
        errors,
        failures,
        checkpoint,
    })
}

/// Checks that a scan that was not stopped read every segment to its end and that every item
/// it read went through the guest into the journal: an item lost on the way (a worker that
/// died, a channel closed early) must fail the run, never let it be marked applied.
fn every_item_journaled(read: u64, segments: &[SegmentPosition]) -> Result<()> {
    if let Some((n, _)) = segments.iter().enumerate().find(|(_, s)| !s.done) {
        bail!(
            "scan segment {n} ended before its last page was journaled: \
             some items did not go through the guest; nothing was applied"
        );
    }
    let journaled: u64 = segments.iter().map(|s| s.items).sum();
    if journaled != read {
        bail!(
            "the scan read {read} items but {journaled} went through the guest into the \
             journal; nothing was applied"
        );
    }
    Ok(())
}

/// The guests of the scan, reaching the migration's declared tables through DynamoDB.
fn start_pool(run: &ScanContext<'_>) -> Pool<ScanTag> {
    Pool::start(
        run.migration.clone(),
        run.options.operation,
        run.options.concurrency,
        guest_context(run),
    )
}

/// What a run's guests may reach: the migration's declared tables, through DynamoDB.
pub fn guest_context(run: &ScanContext<'_>) -> GuestContext {
    let options = run.options;
    GuestContext {
        tables: run.migration.tables(options.table.as_deref()),
        store: Some(Arc::new(ImmediateDb {
            client: run.client.clone(),
            handle: tokio::runtime::Handle::current(),
            policy: options.session.policy.clone(),
            capacity: options.capacity.clone(),
            read_only: run.read_only,
        })),
        schemas: Some(Arc::new(run.schemas.clone())),
    }
}

/// The journal writer's state: the journal, its checkpoint, and the failures so far.
struct Spool {
    writer: JournalWriter,
    checkpoint: Checkpoint,
    checkpoint_path: PathBuf,
    ledger: Arc<PageLedger>,
    every: Duration,
    errors: u64,
    failures: Vec<ItemFailure>,
    fail_fast: bool,
}

impl Spool {
    /// Syncs the journal, then records which pages it wholly holds. Only this thread reports
    /// journaled items, so every page counted here has its records before the synced position.
    fn checkpoint(&mut self, counts: &LiveCounts) -> Result<()> {
        self.checkpoint.journal_position = self.writer.sync()?;
        counts
            .journal_bytes
            .store(self.checkpoint.journal_position, Ordering::Relaxed);
        self.checkpoint.records = self.writer.records();
        self.checkpoint.segments = self.ledger.snapshot();
        self.checkpoint.save(&self.checkpoint_path)?;
        crate::crash::point("scan-checkpoint");
        Ok(())
    }

    /// Appends every outcome (its actions, or its failure) to the journal, checkpointing as
    /// often as configured and at the end. Returns the last checkpoint and the failures.
    fn run(
        mut self,
        outcomes: crossbeam_channel::Receiver<Vec<Outcome<ScanTag>>>,
        counts: &LiveCounts,
        stop: &Stop,
    ) -> Result<(Checkpoint, u64, Vec<ItemFailure>)> {
        let mut saved = Instant::now();
        loop {
            let chunk = match outcomes.recv_timeout(self.every) {
                Ok(chunk) => chunk,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    self.checkpoint(counts)?;
                    saved = Instant::now();
                    continue;
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            };
            counts
                .processed
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            for outcome in chunk {
                self.journal(outcome, counts, stop)?;
            }
            if saved.elapsed() >= self.every {
                self.checkpoint(counts)?;
                saved = Instant::now();
            }
        }
        self.checkpoint(counts)?;
        Ok((self.checkpoint, self.errors, self.failures))
    }

    /// Journals one outcome: its checked actions, or its failure.
    fn journal(
        &mut self,
        outcome: Outcome<ScanTag>,
        counts: &LiveCounts,
        stop: &Stop,
    ) -> Result<()> {
        // The engine checked the actions against the tables' schemas (see
        // `engine::validate`): an action DynamoDB would refuse is a failed item here.
        let checked = outcome.result.map_err(|e| e.to_string());
        let source = outcome.tag.key.0.clone();
        let page = Some(outcome.tag.page);
        match checked {
            Ok(actions) => {
                for action in actions {
                    if matches!(action.kind, ActionKind::Update { upsert: true, .. })
                        && action.is_repeatable()
                    {
                        self.checkpoint.repeatable_upserts = true;
                    }
                    self.writer.append(&Record {
                        source: source.clone(),
                        page,
                        entry: Entry::Action(action),
                        guard: outcome.tag.guard.clone(),
                    })?;
                    counts.journaled.fetch_add(1, Ordering::Relaxed);
                    crate::crash::point("journal-append");
                }
            }
            Err(error) => {
                self.errors += 1;
                counts.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!("{}: {error}", outcome.tag);
                self.writer.append(&Record {
                    source: source.clone(),
                    page,
                    entry: Entry::Failed(error.clone()),
                    guard: None,
                })?;
                if self.failures.len() < FAILURES_REPORTED {
                    self.failures.push(ItemFailure {
                        key: to_json_item(&source),
                        error,
                    });
                }
                if self.fail_fast {
                    stop.request(StopReason::ItemFailed);
                }
            }
        }
        self.ledger.item_journaled(outcome.tag.page);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(items: u64, done: bool) -> SegmentPosition {
        SegmentPosition {
            pages: 1,
            items,
            start_key: None,
            done,
        }
    }

    #[test]
    fn a_scan_is_complete_only_if_every_item_read_was_journaled() {
        let whole = [segment(3, true), segment(4, true)];
        assert!(every_item_journaled(7, &whole).is_ok());
        let lost = every_item_journaled(8, &whole).unwrap_err().to_string();
        assert!(lost.contains("read 8 items but 7"), "{lost}");
        let unfinished = [segment(3, true), segment(4, false)];
        let error = every_item_journaled(7, &unfinished)
            .unwrap_err()
            .to_string();
        assert!(error.contains("segment 1 ended"), "{error}");
    }
}
