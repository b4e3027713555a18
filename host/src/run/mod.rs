//! `run` and `undo`: the whole data path for one migration, composed of its phases.
//!
//! [`admission`] (may it start, resume, or must it be refused) → record `running` → [`scan_phase`]
//! (source → engine → journal) → [`apply_phase`] (journal → apply) → [`finish`] (the record's
//! status, the report). The journal is applied only when the scan finished and every item went
//! through the guest; the record becomes `applied` (or `rolled_back`) only when every action
//! was applied. A cancelled or failed run is recorded as such, with why, and still reports.

pub mod admission;
pub mod apply_phase;
pub mod control;
pub mod finish;
pub mod live;
pub mod publish;
pub mod report;
pub mod resume;
pub mod scan_phase;
mod session;
pub mod settings;
pub mod workers;

pub use session::Session;
pub use settings::{LiveOptions, RunFlags, RunOptions, SessionOptions, Settings};

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use aws_sdk_dynamodb::Client;

use crate::apply::Conflict;
use crate::aws::client::fenced;
use crate::aws::retry::RetryPolicy;
use crate::aws::stream::TableStream;
use crate::aws::table::{approximate_item_count, table_schemas};
use crate::engine::LoadedMigration;
use crate::journal::checkpoint::{Checkpoint, Phase};
use crate::journal::JournalReader;
use crate::metadata::{Lease, MetadataTable, MigrationRecord};
use crate::model::counts::{Counts, LiveCounts};
use crate::model::error::{refused, RunError, EXIT_FAILED, EXIT_OK};
use crate::model::fence::Fence;
use crate::model::now;
use crate::model::operation::{Operation, Status};
use crate::model::schema::Schemas;
use crate::model::stop::{Stop, StopReason};
use admission::{admit, Admission, Asking};
use live::LiveRun;
use publish::{describe, while_publishing, Published};
use report::{peak_rss_bytes, ItemFailure, RunReport};
use resume::{journal_path, prepare_resume, ResumeOf, Start};

/// Item failures kept for the report and the metadata record (all are counted).
const FAILURES_REPORTED: usize = 20;
/// The metadata record's progress is rewritten once every this many checkpoints.
const PUBLISH_EVERY_CHECKPOINTS: u32 = 20;

/// A plan's journal and the checkpoint at the end of its scan.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The journal the plan's scan wrote.
    pub journal: PathBuf,
    /// Its checkpoint, in the apply phase with nothing applied.
    pub checkpoint: Checkpoint,
}

/// What every phase of one run works with: the scan's context, and the lock and record of
/// the run.
pub struct RunContext<'a> {
    /// What the scan works with (and the apply reads too).
    pub scan: ScanContext<'a>,
    /// The metadata table.
    pub meta: &'a MetadataTable,
    /// The lease held for the whole run.
    pub lease: &'a Lease,
    /// This run's id, unless it resumes another's.
    pub run_id: String,
    /// Live runs: the table's stream.
    pub stream: Option<TableStream>,
}

/// What the scan phase works with: a run's, or a plan's (which holds no lock, records nothing
/// and lets guests only read).
#[derive(Clone, Copy)]
pub struct ScanContext<'a> {
    /// The migration.
    pub migration: &'a Arc<LoadedMigration>,
    /// The DynamoDB client.
    pub client: &'a Client,
    /// How to run.
    pub options: &'a RunOptions,
    /// Live counts, for the progress display.
    pub counts: &'a Arc<LiveCounts>,
    /// The stop request.
    pub stop: &'a Stop,
    /// Schema of every table the migration may write to.
    pub schemas: &'a Schemas,
    /// The scanned table.
    pub table: &'a str,
    /// Guests' immediate writes are refused (`plan`).
    pub read_only: bool,
}

/// Runs `migration` (or its rollback) over its table, or applies `plan`'s journal instead of
/// scanning (`drift-host apply`); a stop request ends it cleanly. Once the record is
/// `running`, whatever happens ends in a report (`Ok`): its `error` and `exit_code` say how it
/// went; errors before that (refused, missing table, locked) are `Err`.
pub async fn run(
    migration: Arc<LoadedMigration>,
    client: &Client,
    options: &RunOptions,
    plan: Option<&Planned>,
    counts: Arc<LiveCounts>,
    stop: Stop,
) -> Result<RunReport> {
    // Read-only checks first: a missing table writes nothing, not even the lock.
    let tables = migration.tables(options.table.as_deref());
    let schemas = table_schemas(client, &options.session.policy, &tables).await?;
    if let Some(live) = &options.live {
        // Refused before the lock is taken: the table has no stream to catch up from.
        live::table_stream_for(client, &options.session.policy, tables.own(), live).await?;
    }
    let purpose = format!(
        "{} {} on `{}`",
        options.operation.as_str(),
        migration.label,
        tables.own()
    );
    let session = Session::open(client, &options.session, stop, &purpose).await?;
    let report = session
        .run_with_schemas(migration, options, counts, schemas, plan)
        .await;
    session.close().await;
    report
}

/// What a run gathers for its report besides the record's counts.
#[derive(Default)]
struct Tally {
    actions_journaled: u64,
    failures: Vec<ItemFailure>,
    conflicts: Vec<Conflict>,
    statements_refused: Option<String>,
}

/// The record as stored (the condition of the next write) and as it is being changed.
struct Recording {
    stored: MigrationRecord,
    next: MigrationRecord,
}

impl Recording {
    /// Writes `next`, fenced by the lease, conditional on `stored`.
    async fn write(&mut self, run: &RunContext<'_>) -> Result<()> {
        run.meta
            .write(&self.next, Some(&self.stored), Some(run.lease))
            .await?;
        self.stored = self.next.clone();
        Ok(())
    }
}

async fn run_locked(
    run: &RunContext<'_>,
    plan: Option<&Planned>,
    started: Instant,
) -> Result<RunReport> {
    let info = &run.scan.migration.info;
    let options = run.scan.options;
    let previous = run.meta.get(info.number).await?;
    std::fs::create_dir_all(&options.work_dir).with_context(|| {
        format!(
            "cannot create work directory {}",
            options.work_dir.display()
        )
    })?;
    let work_dir = options.work_dir.canonicalize()?;
    let start = match plan {
        Some(plan) => start_planned(run, plan, previous.as_ref(), &work_dir)?,
        None => start_run(run, previous.as_ref(), &work_dir)?,
    };
    let (mut recording, mut checkpoint) = begin(run, &start, previous.as_ref(), &work_dir).await?;
    let journal = journal_path(&work_dir, info, options.operation, &recording.next.run_id);
    let mut tally = Tally::default();
    let run_id = recording.next.run_id.clone();
    let controlled = control::Controlled {
        meta: run.meta,
        number: info.number,
        run_id: &run_id,
        capacity: &options.capacity,
        stop: run.scan.stop,
        every: options.session.lease / 3,
        workers: None,
    };
    let working = work(
        run,
        start,
        &journal,
        &mut checkpoint,
        &mut recording,
        &mut tally,
    );
    let outcome = control::while_obeying(working, controlled).await;
    // A run paused at its end writes its record all the same.
    options.capacity.gate().set_paused(false);
    finish(
        run,
        outcome,
        recording,
        &checkpoint,
        &journal,
        tally,
        started,
    )
    .await
}

/// The start of `run`/`undo`: fresh, or resuming what a dead or stopped run left; refused or
/// up to date as [`admit`] decides.
fn start_run(
    run: &RunContext<'_>,
    previous: Option<&MigrationRecord>,
    work_dir: &Path,
) -> Result<Start> {
    let info = &run.scan.migration.info;
    let options = run.scan.options;
    let asking = Asking {
        operation: options.operation,
        number: info.number,
        name: &info.name,
        checksum: &run.scan.migration.checksum,
        restart: options.restart,
        table: run.scan.table,
    };
    match (admit(asking, previous), previous) {
        (Admission::Refuse(why), _) => Err(refused(why)),
        (Admission::UpToDate(why), _) => Err(RunError::UpToDate(why).into()),
        (Admission::Resume, Some(record)) => {
            let of = ResumeOf {
                info,
                checksum: &run.scan.migration.checksum,
                operation: options.operation,
                table: run.scan.table,
            };
            prepare_resume(work_dir, of, record)
        }
        _ => Ok(Start::Fresh),
    }
}

/// The start of `apply PLAN`: the plan's journal copied into the work directory under this
/// run's id, and its checkpoint; refused if the migration was applied since, or is left
/// running by a dead run (which `run` resumes or `--restart` restarts).
fn start_planned(
    run: &RunContext<'_>,
    planned: &Planned,
    previous: Option<&MigrationRecord>,
    work_dir: &Path,
) -> Result<Start> {
    let info = &run.scan.migration.info;
    let who = format!("migration {} ({})", info.number, info.name);
    match (run.scan.options.operation, previous.map(|r| r.status)) {
        (Operation::Undo, Some(Status::Applied)) => {}
        (Operation::Undo, _) => {
            return Err(refused(format!(
                "{who} is not applied (any more): there is nothing to undo"
            )))
        }
        (_, Some(Status::Applied)) => {
            return Err(refused(format!(
                "{who} has been applied since the plan was made"
            )))
        }
        (_, Some(Status::Running)) => {
            return Err(refused(format!(
                "{who} was left running by a run that is no longer alive: resume it with \
                 `drift-host run`, or `--restart` it, before applying a plan"
            )))
        }
        _ => {}
    }
    if planned.checkpoint.phase != Phase::Apply
        || planned.checkpoint.checksum != run.scan.migration.checksum
    {
        return Err(refused(format!(
            "the plan does not belong to {who} as it is now"
        )));
    }
    let journal = journal_path(work_dir, info, run.scan.options.operation, &run.run_id);
    std::fs::copy(&planned.journal, &journal).with_context(|| {
        format!(
            "cannot copy the plan's journal {} to {}",
            planned.journal.display(),
            journal.display()
        )
    })?;
    let checkpoint = Checkpoint {
        run_id: run.run_id.clone(),
        ..planned.checkpoint.clone()
    };
    checkpoint.save(&Checkpoint::path_for(&journal))?;
    Ok(Start::Planned(checkpoint))
}

/// Writes the record `running` (a fresh run's, or the resumed run's again) and returns it
/// with the checkpoint to start from.
async fn begin(
    run: &RunContext<'_>,
    start: &Start,
    previous: Option<&MigrationRecord>,
    work_dir: &Path,
) -> Result<(Recording, Checkpoint)> {
    let info = &run.scan.migration.info;
    let options = run.scan.options;
    let (run_id, started_at) = match (start, previous) {
        (Start::Resume(resumed), Some(record)) => {
            (resumed.checkpoint.run_id.clone(), record.started_at.clone())
        }
        _ => (run.run_id.clone(), now()),
    };
    let checkpoint = match start {
        Start::Resume(resumed) => resumed.checkpoint.clone(),
        Start::Planned(checkpoint) => checkpoint.clone(),
        Start::Fresh => Checkpoint::fresh(
            run_id.clone(),
            options.operation,
            run.scan.migration.checksum.clone(),
            run.scan.table.to_owned(),
            options.segments,
        ),
    };
    let journal = journal_path(work_dir, info, options.operation, &run_id);
    let record = MigrationRecord {
        number: info.number,
        name: info.name.clone(),
        description: info.description.clone(),
        table: run.scan.table.to_owned(),
        checksum: run.scan.migration.checksum.clone(),
        status: Status::Running,
        operation: options.operation,
        run_id,
        started_at,
        finished_at: None,
        host_version: env!("CARGO_PKG_VERSION").to_owned(),
        counts: Counts::default(),
        last_error: None,
        // Named once the apply starts: before that, a resume that cannot find the checkpoint
        // may start over, as nothing was written.
        journal: (checkpoint.phase != Phase::Scan).then(|| journal.display().to_string()),
        progress: Some(match start {
            Start::Fresh => "scan: starting".to_owned(),
            Start::Planned(_) => "applying a plan".to_owned(),
            Start::Resume(_) => format!("resumed: {}", describe(&checkpoint)),
        }),
        notes: previous.map(|p| p.notes.clone()).unwrap_or_default(),
    };
    run.meta.write(&record, previous, Some(run.lease)).await?;
    crate::crash::point("record-running");
    let verb = match start {
        Start::Fresh => "",
        Start::Planned(_) => "applying the plan of ",
        Start::Resume(_) => "resuming ",
    };
    tracing::info!(
        "{verb}{} {} on `{}` (run {}): {}",
        options.operation.as_str(),
        run.scan.migration.label,
        run.scan.table,
        record.run_id,
        record.progress.as_deref().unwrap_or_default()
    );
    let recording = Recording {
        stored: record.clone(),
        next: record,
    };
    Ok((recording, checkpoint))
}

/// The scan (unless a resume is past it) and the apply. `Err` says why the run cannot be
/// marked applied; the record's counts and the tally say how far it got.
async fn work(
    run: &RunContext<'_>,
    start: Start,
    journal: &Path,
    checkpoint: &mut Checkpoint,
    recording: &mut Recording,
    tally: &mut Tally,
) -> Result<(), RunError> {
    let checkpoint_path = Checkpoint::path_for(journal);
    let published = Published {
        meta: run.meta,
        lease: run.lease,
        checkpoint: &checkpoint_path,
        every: run.scan.options.checkpoint_every * PUBLISH_EVERY_CHECKPOINTS,
        live: Some((run.scan.counts, &run.scan.options.capacity)),
    };
    // A resume in the apply phase follows an attempt that may have written past its watermark
    // (a plan's apply starts with nothing written).
    let apply_resumed = matches!(start, Start::Resume(_)) && checkpoint.phase == Phase::Apply;
    let positions = crate::source::changes::StreamPositions::path_for(journal);
    if matches!(start, Start::Resume(_)) && run.scan.options.live.is_none() && positions.exists() {
        return Err(failure(
            run.scan.stop,
            checkpoint.phase,
            Some(refused(
                "this run was started with --live: resume it with --live (its writes are \
                 guarded, and the changes made since its scan started are still to catch up)",
            )),
        ));
    }
    // A live run notes the stream's positions before it reads anything of the table.
    let live_run = match (&run.scan.options.live, run.stream.as_ref()) {
        (Some(_), Some(stream)) => Some(
            LiveRun::start(run, stream, journal, checkpoint.phase == Phase::Scan)
                .await
                .map_err(|e| failure(run.scan.stop, checkpoint.phase, Some(e)))?,
        ),
        _ => None,
    };
    if checkpoint.phase == Phase::Scan {
        let resumed = match start {
            Start::Resume(resumed) => Some(*resumed),
            Start::Fresh | Start::Planned(_) => None,
        };
        scan(
            run, resumed, published, journal, checkpoint, recording, tally,
        )
        .await?;
    } else {
        recording.next.counts.items_scanned = checkpoint.items_scanned();
        tally.actions_journaled = checkpoint.records;
    }
    let guarded = live_run.as_ref().map(|live_run| live_run.guarded(run));
    let mut notes = apply_phase::ApplyNotes {
        settled: checkpoint.applied,
        ..Default::default()
    };
    if checkpoint.phase == Phase::Apply {
        let applying = async {
            let applied = apply_phase::apply_phase(
                run,
                journal,
                checkpoint,
                apply_resumed,
                &mut notes,
                guarded.clone(),
            )
            .await?;
            if applied.complete {
                apply_phase::remove_markers(run).await?;
            }
            Ok(applied)
        };
        let applied = while_publishing(applying, published, &recording.stored).await;
        tally.statements_refused = notes.statements_refused.take();
        settle_counts(recording, &notes.settled);
        match applied {
            Ok(applied) if applied.complete => tally.conflicts = applied.conflicts,
            Ok(_) => return Err(failure(run.scan.stop, Phase::Apply, None)),
            Err(error) => return Err(failure(run.scan.stop, Phase::Apply, Some(error))),
        }
    }
    let (Some(live_run), Some(guarded)) = (live_run, guarded) else {
        return Ok(());
    };
    if checkpoint.phase != Phase::CatchUp {
        checkpoint.phase = Phase::CatchUp;
        checkpoint
            .save(published.checkpoint)
            .map_err(|e| failure(run.scan.stop, Phase::Apply, Some(e)))?;
        crate::crash::point("apply-complete-live");
    }
    let mut caught_up = notes.settled;
    let catching_up = live_run.catch_up(run, guarded, &mut caught_up);
    let caught = while_publishing(catching_up, published, &recording.stored).await;
    settle_counts(recording, &caught_up);
    caught.map_err(|e| failure(run.scan.stop, Phase::CatchUp, Some(e)))?;
    if run.scan.stop.is_requested() && !run.scan.options.live.as_ref().is_some_and(|l| l.follow) {
        return Err(failure(run.scan.stop, Phase::CatchUp, None));
    }
    match run.scan.stop.reason() {
        None | Some(StopReason::Cancelled) => Ok(()),
        Some(_) => Err(failure(run.scan.stop, Phase::CatchUp, None)),
    }
}

/// The record's counts: the items scanned, and what the apply (and catch-up) settled, past
/// the watermark too (a resume starts at the watermark, whose counts the checkpoint keeps).
fn settle_counts(recording: &mut Recording, settled: &Counts) {
    let counts = &mut recording.next.counts;
    *counts = Counts {
        items_scanned: counts.items_scanned,
        ..settled.apply_part()
    };
}

/// The scan phase, then the switch to the apply phase: the checkpoint says so, and the record
/// names the journal (from now on a resume needs it).
async fn scan(
    run: &RunContext<'_>,
    resumed: Option<resume::Resumed>,
    published: Published<'_>,
    journal: &Path,
    checkpoint: &mut Checkpoint,
    recording: &mut Recording,
    tally: &mut Tally,
) -> Result<(), RunError> {
    let scanning =
        scan_phase::scan_phase(&run.scan, journal.to_owned(), checkpoint.clone(), resumed);
    let scanned = while_publishing(scanning, published, &recording.stored)
        .await
        .map_err(|e| failure(run.scan.stop, Phase::Scan, Some(e)))?;
    let counts = &mut recording.next.counts;
    counts.items_scanned = scanned.items;
    counts.errors = scanned.errors;
    tally.actions_journaled = scanned.checkpoint.records;
    tally.failures = scanned.failures;
    if scanned.errors > 0 {
        return Err(RunError::ItemsFailed {
            failed: scanned.errors,
            first: tally
                .failures
                .first()
                .map(|f| format!("{}: {}", f.key, f.error)),
        });
    }
    if run.scan.stop.is_requested() {
        return Err(failure(run.scan.stop, Phase::Scan, None));
    }
    *checkpoint = scanned.checkpoint;
    checkpoint.phase = Phase::Apply;
    checkpoint.applied_position = JournalReader::start_position();
    let started_apply = async {
        checkpoint.save(published.checkpoint)?;
        recording.next.journal = Some(journal.display().to_string());
        recording.next.progress = Some(describe(checkpoint));
        recording.write(run).await
    };
    started_apply
        .await
        .map_err(|e| failure(run.scan.stop, Phase::Scan, Some(e)))?;
    crate::crash::point("scan-complete");
    Ok(())
}

/// Why a phase ended early: a lost lease or a cancel first (they explain whatever error
/// followed), then a typed failure in `error`'s chain, then `error` itself, whole.
fn failure(stop: &Stop, phase: Phase, error: Option<anyhow::Error>) -> RunError {
    match stop.reason() {
        Some(StopReason::LeaseLost) => return RunError::LostLease(
            "this run lost the lock of the metadata table (another run took it over); it stopped \
                 and wrote nothing more"
                .to_owned(),
        ),
        Some(StopReason::Cancelled) => return RunError::Cancelled { phase },
        _ => {}
    }
    let Some(error) = error else {
        return RunError::Cancelled { phase };
    };
    match error.chain().find_map(|e| e.downcast_ref::<RunError>()) {
        Some(typed) => typed.clone(),
        None => RunError::PhaseFailed {
            phase,
            cause: error.into(),
        },
    }
}

/// Records how the run ended, cleans up what no resume needs, and reports.
async fn finish(
    run: &RunContext<'_>,
    outcome: Result<(), RunError>,
    mut recording: Recording,
    checkpoint: &Checkpoint,
    journal: &Path,
    tally: Tally,
    started: Instant,
) -> Result<RunReport> {
    let options = run.scan.options;
    let record = &mut recording.next;
    let done = finish::Done {
        counts: record.counts,
        journaled: tally.actions_journaled,
    };
    let ending = finish::ending(options.operation, outcome.as_ref().map(|_| ()), done);
    record.finished_at = Some(now());
    record.status = ending.status;
    record.last_error = ending.last_error.clone();
    if !ending.resumable {
        record.journal = None;
    }
    record.progress = Some(describe(checkpoint));
    crate::crash::point("before-final-write");
    let written = recording.write(run).await;
    crate::crash::point("final-written");
    let record = &recording.next;
    let mut error = ending.last_error;
    if let Err(failed) = &written {
        let failed = format!("{failed:#}");
        error = Some(match error {
            Some(error) => format!("{error}; {failed}"),
            None => failed,
        });
    }
    let keep_journal = options.keep_journal || outcome.is_err();
    if !ending.resumable && written.is_ok() {
        remove_if_present(&Checkpoint::path_for(journal));
        remove_if_present(&crate::source::changes::StreamPositions::path_for(journal));
        if !keep_journal {
            remove_if_present(journal);
        }
    }
    let succeeded = outcome.is_ok() && written.is_ok();
    let (consumed_rcu, consumed_wcu) = options.capacity.total();
    Ok(RunReport {
        migration: run.scan.migration.info.clone(),
        table: run.scan.table.to_owned(),
        checksum: run.scan.migration.checksum.clone(),
        operation: options.operation,
        status: recording.stored.status,
        succeeded,
        run_id: record.run_id.clone(),
        started_at: record.started_at.clone(),
        finished_at: record.finished_at.clone().unwrap_or_default(),
        duration_seconds: started.elapsed().as_secs_f64(),
        counts: record.counts,
        actions_journaled: tally.actions_journaled,
        updates_batched: run.scan.counts.updates_batched.load(Ordering::Relaxed),
        updates_single: run.scan.counts.updates_single.load(Ordering::Relaxed),
        statements_refused: tally.statements_refused,
        failures: tally.failures,
        conflicts: tally.conflicts,
        error,
        exit_code: if succeeded { EXIT_OK } else { EXIT_FAILED },
        journal: (keep_journal && journal.exists()).then(|| journal.to_owned()),
        peak_rss_bytes: peak_rss_bytes(),
        consumed_rcu,
        consumed_wcu,
        requests: crate::aws::client::requests_sent(),
        coordination_requests: crate::metadata::workers::coordination_requests(),
        live: options.live.as_ref().map(|_| report::LiveSummary {
            items_rewritten: run.scan.counts.rewritten.load(Ordering::Relaxed),
            changes_read: run.scan.counts.changes.load(Ordering::Relaxed),
        }),
    })
}

fn remove_if_present(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!("could not remove {}: {error}", path.display()),
    }
}
