//! `run` and `undo`: the whole data path for one migration.
//!
//! scan (source) → pool of guests (engine) → journal → apply → metadata. The metadata record
//! is `running` from the start; the journal is applied only when the scan finished and every
//! item went through the guest; the record becomes `applied` (or `rolled_back`) only when
//! every action was applied. A cancelled or failed run is recorded as such, with why.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use aws_sdk_dynamodb::Client;
use serde::Serialize;
use serde_json::Value as Json;

use crate::action::{Action, ActionKind};
use crate::apply::{apply, ApplyOptions, ApplyProgress, Conflict, Markers, Watermark};
use crate::capacity::Capacity;
use crate::checkpoint::{AppliedCounts, Checkpoint, Phase, ScanProgress};
use crate::dynamo::{key_schema, KeySchema, RetryPolicy};
use crate::engine::{
    Call, GuestContext, ImmediateDb, LoadedMigration, MigrationInfo, Outcome, Pool,
};
use crate::item::to_json_item;
use crate::journal::{Entry, JournalReader, JournalWriter, Record};
use crate::lock::Lease;
use crate::metadata::{now, Billing, Counts, MetadataTable, MigrationRecord, Operation, Status};
use crate::source::scan::{key_identity, scan, ScanOptions};
use crate::source::ScanTag;

/// Item failures kept for the report and the metadata record (all are counted).
const FAILURES_REPORTED: usize = 20;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `migrate` (run) or `rollback` (undo).
    pub operation: Operation,
    /// Scan this table instead of the one `info()` names.
    pub table: Option<String>,
    /// Guest instances working in parallel.
    pub concurrency: usize,
    /// Parallel scan segments (a resume keeps those of its checkpoint).
    pub segments: u32,
    /// Items per Scan request.
    pub page_size: i32,
    /// Checkpoints are saved about this often while there is progress (and at each phase's
    /// end): a resume repeats at most about this much work.
    pub checkpoint_every: Duration,
    /// Metadata table name.
    pub meta_table: String,
    /// Billing of the metadata table if it is created.
    pub billing: Billing,
    /// Stop the scan at the first failed item.
    pub fail_fast: bool,
    /// Where journals are written.
    pub work_dir: PathBuf,
    /// Concurrent apply lanes.
    pub apply_lanes: usize,
    /// Keep the journal after a successful apply.
    pub keep_journal: bool,
    /// Retry policy of every DynamoDB request.
    pub policy: RetryPolicy,
    /// Lease of the metadata table's lock; renewed every third of it while running.
    pub lease: Duration,
    /// Run again from the start a migration that a dead or stopped run left unfinished,
    /// instead of resuming it.
    pub restart: bool,
    /// Read and write capacity budgets (`--max-rcu`, `--max-wcu`) and what was consumed.
    pub capacity: Capacity,
}

/// A migration refused before anything was written (already applied, changed module, ...).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// An item the guest could not migrate.
#[derive(Debug, Clone, Serialize)]
pub struct ItemFailure {
    /// The item's key, DynamoDB JSON.
    pub key: Json,
    /// What went wrong.
    pub error: String,
}

/// What a run did: printed as JSON with `--report`.
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
    /// The first failed items.
    pub failures: Vec<ItemFailure>,
    /// The first conflicts.
    pub conflicts: Vec<Conflict>,
    /// Why the run failed, if it did.
    pub error: Option<String>,
    /// The journal, if it was kept.
    pub journal: Option<PathBuf>,
    /// Peak resident memory of this process, in bytes (Linux only).
    pub peak_rss_bytes: Option<u64>,
    /// Read capacity units consumed by the scan.
    pub consumed_rcu: f64,
    /// Write capacity units consumed by the apply.
    pub consumed_wcu: f64,
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`), on Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Live counters, for the progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Items through the guest.
    pub processed: AtomicU64,
    /// Actions journaled.
    pub actions: AtomicU64,
    /// Items failed.
    pub errors: AtomicU64,
    /// Apply counters.
    pub apply: Arc<ApplyProgress>,
    /// Whether the apply has started.
    pub applying: AtomicBool,
}

/// What the consumer of the pool's outcomes produced.
struct Journaled {
    errors: u64,
    failures: Vec<ItemFailure>,
    /// The checkpoint saved last, at the end of the scan.
    checkpoint: Checkpoint,
}

/// Runs `migration` (or its rollback) over its table. `stop` cancels it cleanly.
pub async fn run(
    migration: Arc<LoadedMigration>,
    client: &Client,
    options: &RunOptions,
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
) -> Result<RunReport> {
    let started = Instant::now();
    let tables = migration.tables(options.table.as_deref());
    let table = tables.own().to_owned();

    // Read-only checks first: a missing table or an unreadable metadata record writes nothing.
    let mut schemas = HashMap::new();
    for name in tables.all() {
        schemas.insert(
            name.clone(),
            key_schema(client, &options.policy, &name).await?,
        );
    }
    let meta = MetadataTable::new(client.clone(), &options.meta_table, options.policy.clone());
    meta.ensure(options.billing).await?;

    // One run at a time per metadata table: take the lease, renew it while running, give it
    // back at the end whatever happens. The lease's owner id is this run's id, unless it
    // resumes another's.
    let owner = uuid::Uuid::new_v4().to_string();
    let purpose = format!(
        "{} {} on `{table}`",
        options.operation.as_str(),
        migration.label
    );
    let lease = Lease::acquire(
        client,
        &options.policy,
        &options.meta_table,
        &owner,
        &purpose,
        options.lease,
    )
    .await?;
    let heartbeat = tokio::spawn(lease.clone().heartbeat(stop.clone()));
    let locked = Locked {
        meta: &meta,
        lease: &lease,
        schemas,
        table,
        started,
    };
    let result = run_locked(&migration, client, options, &progress, &stop, locked).await;
    heartbeat.abort();
    if let Err(error) = lease.release().await {
        tracing::warn!("{error:#}");
    }
    result
}

/// What `run` has established before it holds the lock.
struct Locked<'a> {
    meta: &'a MetadataTable,
    lease: &'a Lease,
    schemas: HashMap<String, KeySchema>,
    table: String,
    started: Instant,
}

/// Where a run starts: from nothing, or from where a dead or stopped run got.
enum Start {
    Fresh,
    Resume(Box<Resumed>),
}

/// What a resume found on disk, all of it read and checked before anything is written.
struct Resumed {
    checkpoint: Checkpoint,
    /// Keys of items of pages not counted in the checkpoint that are journaled already.
    journaled: HashSet<Vec<u8>>,
    /// Items the guest failed on, journaled before the checkpoint.
    errors: u64,
    failures: Vec<ItemFailure>,
}

/// What the scan phase produced: items read, and the journal.
struct Scanned {
    items: u64,
    journaled: Journaled,
}

async fn run_locked(
    migration: &Arc<LoadedMigration>,
    client: &Client,
    options: &RunOptions,
    progress: &Arc<Progress>,
    stop: &Arc<AtomicBool>,
    locked: Locked<'_>,
) -> Result<RunReport> {
    let Locked {
        meta,
        lease,
        schemas,
        table,
        started,
    } = locked;
    let info = &migration.info;
    let previous = meta.get(info.number).await?;
    let resumable = check_allowed(
        options.operation,
        migration,
        previous.as_ref(),
        options.restart,
    )?;
    std::fs::create_dir_all(&options.work_dir).with_context(|| {
        format!(
            "cannot create work directory {}",
            options.work_dir.display()
        )
    })?;
    let work_dir = options.work_dir.canonicalize()?;
    let start = match (&previous, resumable) {
        (Some(record), true) => prepare_resume(&work_dir, migration, options, &table, record)?,
        _ => Start::Fresh,
    };
    let (run_id, started_at) = match (&start, &previous) {
        (Start::Resume(resumed), Some(record)) => {
            (resumed.checkpoint.run_id.clone(), record.started_at.clone())
        }
        _ => (lease.owner.clone(), now()),
    };
    let journal = journal_path(&work_dir, info, options.operation, &run_id);
    let checkpoint_path = Checkpoint::path_for(&journal);
    let mut checkpoint = match &start {
        Start::Resume(resumed) => resumed.checkpoint.clone(),
        Start::Fresh => Checkpoint {
            run_id: run_id.clone(),
            operation: options.operation,
            checksum: migration.checksum.clone(),
            table: table.clone(),
            segments: vec![Default::default(); options.segments.max(1) as usize],
            journal_position: 0,
            records: 0,
            phase: Phase::Scan,
            applied_position: 0,
            applied: AppliedCounts::default(),
        },
    };

    let mut record = MigrationRecord {
        number: info.number,
        name: info.name.clone(),
        description: info.description.clone(),
        table: table.clone(),
        checksum: migration.checksum.clone(),
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
        journal: (checkpoint.phase == Phase::Apply).then(|| journal.display().to_string()),
        progress: Some(match &start {
            Start::Fresh => "scan: starting".to_owned(),
            Start::Resume(_) => format!("resumed: {}", describe(&checkpoint)),
        }),
    };
    meta.write(&record, previous.as_ref(), Some(lease)).await?;
    let mut running = record.clone();
    crate::crash::point("record-running");
    match &start {
        Start::Fresh => tracing::info!(
            "{} {} on `{table}` (run {})",
            options.operation.as_str(),
            migration.label,
            record.run_id
        ),
        Start::Resume(_) => tracing::info!(
            "resuming {} {} on `{table}` (run {}): {}",
            options.operation.as_str(),
            migration.label,
            record.run_id,
            describe(&checkpoint)
        ),
    }

    let published = Published {
        meta,
        lease,
        checkpoint: &checkpoint_path,
        every: options.checkpoint_every * PUBLISH_EVERY_CHECKPOINTS,
    };
    let scanned = match start {
        Start::Resume(resumed) if resumed.checkpoint.phase == Phase::Apply => Ok(Scanned {
            items: checkpoint.items_scanned(),
            journaled: Journaled {
                errors: 0,
                failures: Vec::new(),
                checkpoint: checkpoint.clone(),
            },
        }),
        start => {
            let resumed = match start {
                Start::Resume(resumed) => Some(*resumed),
                Start::Fresh => None,
            };
            let phase = ScanPhase {
                journal: &journal,
                checkpoint: &checkpoint,
                resumed,
            };
            let scanning = scan_and_journal(
                migration, client, options, &schemas, &table, phase, progress, stop,
            );
            while_publishing(scanning, published, &running).await
        }
    };
    let mut report_conflicts = Vec::new();
    let mut report_failures = Vec::new();
    let mut resumable_after = false;
    let mut actions_journaled = 0;
    let result: Result<(), String> = match scanned {
        Err(error) => {
            resumable_after = true;
            Err(format!(
                "{error:#}; nothing was written (run it again to resume, or --restart to start over)"
            ))
        }
        Ok(scanned) => {
            let journaled = scanned.journaled;
            record.counts.items_scanned = scanned.items;
            record.counts.errors = journaled.errors;
            actions_journaled = journaled.checkpoint.records;
            report_failures = journaled.failures;
            if stop.load(Ordering::Relaxed) && journaled.errors == 0 {
                resumable_after = true;
                Err("cancelled during the scan; nothing was written \
                     (run it again to resume, or --restart to start over)"
                    .to_owned())
            } else if journaled.errors > 0 {
                let first = report_failures
                    .first()
                    .map(|f| format!(" First: {}: {}", f.key, f.error))
                    .unwrap_or_default();
                Err(format!(
                    "{} item(s) failed in the guest; nothing was written.{first}",
                    journaled.errors
                ))
            } else {
                checkpoint = journaled.checkpoint;
                if checkpoint.phase == Phase::Scan {
                    checkpoint.phase = Phase::Apply;
                    checkpoint.applied_position = JournalReader::start_position();
                    checkpoint.save(&checkpoint_path)?;
                }
                record.journal = Some(journal.display().to_string());
                record.progress = Some(describe(&checkpoint));
                meta.write(&record, Some(&running), Some(lease)).await?;
                running = record.clone();
                crate::crash::point("scan-complete");
                let applying = apply_phase(
                    client,
                    meta,
                    options,
                    &schemas,
                    (&journal, info.number),
                    &mut checkpoint,
                    progress,
                    stop,
                );
                let applied = while_publishing(applying, published, &running).await;
                let counts = &mut record.counts;
                counts.puts = checkpoint.applied.puts;
                counts.updates = checkpoint.applied.updates;
                counts.deletes = checkpoint.applied.deletes;
                counts.conflicts = checkpoint.applied.conflicts;
                match applied {
                    Ok(conflicts) => {
                        report_conflicts = conflicts;
                        Ok(())
                    }
                    Err(error) => {
                        resumable_after = true;
                        let what =
                            if stop.load(Ordering::Relaxed) && error.to_string() == "cancelled" {
                                "cancelled during the apply".to_owned()
                            } else {
                                format!("apply failed: {error:#}")
                            };
                        let settled = checkpoint.applied;
                        Err(format!(
                            "{what}; at least {} of {} actions were applied \
                             (run it again to resume, or --restart to start over)",
                            settled.puts + settled.updates + settled.deletes + settled.conflicts,
                            actions_journaled,
                        ))
                    }
                }
            }
        }
    };

    let applied_nothing = record.counts.puts + record.counts.updates + record.counts.deletes == 0;
    record.finished_at = Some(now());
    record.status = match (&result, options.operation) {
        (Ok(()), Operation::Migrate) => Status::Applied,
        (Ok(()), Operation::Undo) => Status::RolledBack,
        // An undo that wrote nothing leaves the migration applied, as it was.
        (Err(_), Operation::Undo) if applied_nothing => Status::Applied,
        (Err(_), _) => Status::Failed,
    };
    record.last_error = result.as_ref().err().map(|e| match options.operation {
        Operation::Undo => format!("undo: {e}"),
        Operation::Migrate => e.clone(),
    });
    // Only a failed run can be resumed; an undo that wrote nothing is simply not done.
    let resumable_after = resumable_after && record.status == Status::Failed;
    if !resumable_after {
        record.journal = None;
    }
    record.progress = Some(describe(&checkpoint));
    crate::crash::point("before-final-write");
    meta.write(&record, Some(&running), Some(lease)).await?;
    crate::crash::point("final-written");

    let keep_journal = options.keep_journal || result.is_err();
    if !resumable_after {
        remove_if_present(&checkpoint_path);
        if !keep_journal {
            remove_if_present(&journal);
        }
    }
    Ok(RunReport {
        migration: info.clone(),
        table,
        checksum: migration.checksum.clone(),
        operation: options.operation,
        status: record.status,
        succeeded: result.is_ok(),
        run_id: record.run_id.clone(),
        started_at: record.started_at.clone(),
        finished_at: record.finished_at.clone().unwrap_or_default(),
        duration_seconds: started.elapsed().as_secs_f64(),
        counts: record.counts.clone(),
        actions_journaled,
        failures: report_failures,
        conflicts: report_conflicts,
        error: result.err(),
        journal: (keep_journal && journal.exists()).then_some(journal),
        peak_rss_bytes: peak_rss_bytes(),
        consumed_rcu: options.capacity.total().0,
        consumed_wcu: options.capacity.total().1,
    })
}

/// The metadata record's progress is rewritten once every this many checkpoints.
const PUBLISH_EVERY_CHECKPOINTS: u32 = 20;

/// Where and how often to publish a phase's progress.
#[derive(Clone, Copy)]
struct Published<'a> {
    meta: &'a MetadataTable,
    lease: &'a Lease,
    checkpoint: &'a Path,
    every: Duration,
}

/// Runs `work`, meanwhile copying the latest checkpoint's summary into the metadata record,
/// `stored` as it is (`status` shows it). A write in flight finishes before this returns, so it never lands
/// after the record's next change; it is conditional on the record being `running` anyway.
async fn while_publishing<T>(
    work: impl std::future::Future<Output = T>,
    published: Published<'_>,
    stored: &MigrationRecord,
) -> T {
    let done = tokio::sync::Notify::new();
    let work = async {
        let result = work.await;
        done.notify_one();
        result
    };
    let publish = async {
        let mut record = stored.clone();
        loop {
            tokio::select! {
                _ = done.notified() => return,
                _ = tokio::time::sleep(published.every) => {}
            }
            let Ok(checkpoint) = Checkpoint::load(published.checkpoint) else {
                continue;
            };
            record.progress = Some(describe(&checkpoint));
            // The record written before stays the condition: only status and run id count.
            if let Err(error) = published
                .meta
                .write(&record, Some(stored), Some(published.lease))
                .await
            {
                tracing::warn!("could not publish progress: {error:#}");
            }
        }
    };
    tokio::join!(work, publish).0
}

/// The journal of run `run_id` of migration `info`.
fn journal_path(
    work_dir: &Path,
    info: &MigrationInfo,
    operation: Operation,
    run_id: &str,
) -> PathBuf {
    work_dir.join(format!(
        "{}-{}-{run_id}.{}.journal",
        info.name,
        info.number,
        operation.as_str()
    ))
}

fn remove_if_present(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!("could not remove {}: {error}", path.display()),
    }
}

/// A checkpoint in a few words, for the metadata record and the log.
fn describe(checkpoint: &Checkpoint) -> String {
    match checkpoint.phase {
        Phase::Scan => format!(
            "scan: {} items in {} pages journaled",
            checkpoint.items_scanned(),
            checkpoint.segments.iter().map(|s| s.pages).sum::<u64>()
        ),
        Phase::Apply => {
            let applied = checkpoint.applied;
            format!(
                "apply: {} of {} actions settled",
                applied.puts + applied.updates + applied.deletes + applied.conflicts,
                checkpoint.records
            )
        }
    }
}

/// Reads the checkpoint and journal a dead or stopped run left, and checks that they belong
/// to `record`. Anything damaged or missing is an error here, before anything is written.
fn prepare_resume(
    work_dir: &Path,
    migration: &LoadedMigration,
    options: &RunOptions,
    table: &str,
    record: &MigrationRecord,
) -> Result<Start> {
    let info = &migration.info;
    let journal = journal_path(work_dir, info, options.operation, &record.run_id);
    let checkpoint_path = Checkpoint::path_for(&journal);
    let cannot = |why: String| {
        anyhow::Error::new(Refused(format!(
            "cannot resume migration {} ({}): {why}; `--restart` runs it again from the start",
            info.number, info.name
        )))
    };
    if !checkpoint_path.exists() {
        return match &record.journal {
            // The run died before its apply started: nothing was written, so it starts over.
            None => Ok(Start::Fresh),
            Some(journal) => Err(cannot(format!(
                "its checkpoint is not in work directory {} (the run wrote {journal}); \
                 point --work-dir at it",
                work_dir.display()
            ))),
        };
    }
    let checkpoint = Checkpoint::load(&checkpoint_path).map_err(|e| cannot(format!("{e:#}")))?;
    if checkpoint.run_id != record.run_id
        || checkpoint.checksum != migration.checksum
        || checkpoint.operation != options.operation
        || checkpoint.table != table
    {
        return Err(cannot(format!(
            "checkpoint {} belongs to another run, module or table",
            checkpoint_path.display()
        )));
    }
    let mut reader = JournalReader::open(&journal).map_err(|e| cannot(format!("{e:#}")))?;
    let mut resumed = Resumed {
        journaled: HashSet::new(),
        errors: 0,
        failures: Vec::new(),
        checkpoint,
    };
    let checkpoint = &resumed.checkpoint;
    // The scan phase's journal ends where its checkpoint says (what follows is cut off); the
    // apply phase's is complete, and must read back whole before a single write.
    let end = match checkpoint.phase {
        Phase::Scan => checkpoint.journal_position,
        Phase::Apply => u64::MAX,
    };
    let (mut position, mut records) = (JournalReader::start_position(), 0u64);
    while position < end {
        let Some((record, next)) = reader.next_record().map_err(|e| cannot(format!("{e:#}")))?
        else {
            break;
        };
        position = next;
        records += 1;
        if let Entry::Failed(error) = &record.entry {
            resumed.errors += 1;
            if resumed.failures.len() < FAILURES_REPORTED {
                resumed.failures.push(ItemFailure {
                    key: to_json_item(&record.source),
                    error: error.clone(),
                });
            }
        }
        let uncommitted = record.page.is_some_and(|tag| {
            checkpoint
                .segments
                .get(tag.segment as usize)
                .is_some_and(|segment| tag.page >= segment.pages)
        });
        if uncommitted {
            resumed.journaled.insert(key_identity(&record.source));
        }
    }
    let expected_end = match checkpoint.phase {
        Phase::Scan => checkpoint.journal_position,
        Phase::Apply => position,
    };
    if position != expected_end || records != checkpoint.records {
        return Err(cannot(format!(
            "journal {} holds {records} records ({position} bytes), its checkpoint says {} \
             ({} bytes)",
            journal.display(),
            checkpoint.records,
            checkpoint.journal_position
        )));
    }
    Ok(Start::Resume(Box::new(resumed)))
}

/// Applies the journal from the checkpoint's watermark, saving the watermark as it rises.
#[allow(clippy::too_many_arguments)]
async fn apply_phase(
    client: &Client,
    meta: &MetadataTable,
    options: &RunOptions,
    schemas: &HashMap<String, KeySchema>,
    (journal, number): (&Path, u64),
    checkpoint: &mut Checkpoint,
    progress: &Arc<Progress>,
    stop: &Arc<AtomicBool>,
) -> Result<Vec<Conflict>> {
    progress.applying.store(true, Ordering::Relaxed);
    let checkpoint_path = &Checkpoint::path_for(journal);
    let watermark = Arc::new(Watermark::new(
        checkpoint.applied_position,
        checkpoint.applied,
    ));
    let apply_options = ApplyOptions {
        lanes: options.apply_lanes,
        policy: options.policy.clone(),
        capacity: options.capacity.clone(),
        start: checkpoint.applied_position,
        markers: Markers::new(meta.name(), number, &checkpoint.run_id),
    };
    let saver = {
        let (watermark, mut checkpoint, path, every) = (
            watermark.clone(),
            checkpoint.clone(),
            checkpoint_path.to_owned(),
            options.checkpoint_every,
        );
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            loop {
                ticker.tick().await;
                let (position, counts) = watermark.get();
                if position != checkpoint.applied_position {
                    checkpoint.applied_position = position;
                    checkpoint.applied = counts;
                    if let Err(error) = checkpoint.save(&path) {
                        tracing::warn!("{error:#}");
                    }
                    crate::crash::point("apply-checkpoint");
                }
            }
        })
    };
    let applied = apply(
        client,
        journal,
        schemas.clone(),
        &apply_options,
        progress.apply.clone(),
        watermark.clone(),
        stop.clone(),
    )
    .await;
    saver.abort();
    let _ = saver.await;
    (checkpoint.applied_position, checkpoint.applied) = watermark.get();
    checkpoint.save(checkpoint_path)?;
    let conflicts = applied?;
    crate::crash::point("apply-complete");
    // Every marker of the migration, a restarted run's included.
    let markers = meta
        .delete_with_prefix(&Markers::migration_prefix(number), &options.capacity)
        .await?;
    tracing::debug!("removed {markers} exactly-once markers");
    crate::crash::point("markers-removed");
    Ok(conflicts)
}

/// Refuses what the metadata record does not allow; says whether the previous run may be
/// resumed (it died or stopped midway, with the same module and operation).
fn check_allowed(
    operation: Operation,
    migration: &LoadedMigration,
    previous: Option<&MigrationRecord>,
    restart: bool,
) -> Result<bool> {
    let info = &migration.info;
    let who = format!("migration {} ({})", info.number, info.name);
    let short = |checksum: &str| checksum.chars().take(12).collect::<String>();
    let refuse = |message: String| Err(anyhow::Error::new(Refused(message)));
    let Some(record) = previous else {
        return match operation {
            Operation::Migrate => Ok(false),
            Operation::Undo => refuse(format!("{who} was never run; there is nothing to undo")),
        };
    };
    let same_module = record.checksum == migration.checksum;
    let unfinished = matches!(record.status, Status::Running | Status::Failed);
    if unfinished && !restart && record.operation == operation && same_module {
        return Ok(true);
    }
    // This run holds the lock, so the run that left the record `running` is dead.
    if record.status == Status::Running && !restart {
        let why = if record.operation != operation {
            format!("an `{}`", record.operation.as_str())
        } else {
            format!("a different module (checksum {})", short(&record.checksum))
        };
        return refuse(format!(
            "{who} was left running by run {} (started {}) of {why}, which is no longer alive; \
             resume it with that, or `--restart` to start over",
            record.run_id, record.started_at
        ));
    }
    match (operation, record.status) {
        (_, Status::Running) => Ok(false),
        (Operation::Migrate, Status::Applied) if same_module => refuse(format!(
            "{who} is already applied (since {}); nothing to do",
            record.finished_at.as_deref().unwrap_or("?")
        )),
        (Operation::Migrate, Status::Applied) => refuse(format!(
            "{who} was applied from a different module (checksum {} applied, {} given); \
             a changed migration needs a new number",
            short(&record.checksum),
            short(&migration.checksum)
        )),
        (Operation::Migrate, _) => Ok(false),
        (Operation::Undo, Status::Applied) if same_module => Ok(false),
        (Operation::Undo, Status::Applied) => refuse(format!(
            "{who} was applied from a different module (checksum {} applied, {} given); \
             undo needs the module that was applied",
            short(&record.checksum),
            short(&migration.checksum)
        )),
        (Operation::Undo, status) => refuse(format!(
            "{who} is {}; only an applied migration can be undone",
            status.as_str()
        )),
    }
}

/// The scan phase's journal: where it is, the checkpoint to start from, and what a resume
/// found in it.
struct ScanPhase<'a> {
    journal: &'a Path,
    checkpoint: &'a Checkpoint,
    resumed: Option<Resumed>,
}

/// The scan feeding the pool, and a consumer spooling the pool's output to the journal and
/// checkpointing it.
#[allow(clippy::too_many_arguments)]
async fn scan_and_journal(
    migration: &Arc<LoadedMigration>,
    client: &Client,
    options: &RunOptions,
    schemas: &HashMap<String, KeySchema>,
    table: &str,
    phase: ScanPhase<'_>,
    progress: &Arc<Progress>,
    stop: &Arc<AtomicBool>,
) -> Result<Scanned> {
    let ScanPhase {
        journal,
        checkpoint,
        resumed,
    } = phase;
    let mut checkpoint = checkpoint.clone();
    let checkpoint_path = Checkpoint::path_for(journal);
    let (writer, journaled, errors, failures) = match resumed {
        None => {
            let mut writer = JournalWriter::create(journal)?;
            checkpoint.journal_position = writer.sync()?;
            checkpoint.save(&checkpoint_path)?;
            (writer, HashSet::new(), 0, Vec::new())
        }
        Some(resumed) => (
            JournalWriter::resume(journal, checkpoint.journal_position, checkpoint.records)?,
            resumed.journaled,
            resumed.errors,
            resumed.failures,
        ),
    };
    progress.errors.store(errors, Ordering::Relaxed);
    let scan_progress = Arc::new(ScanProgress::new(checkpoint.segments.clone()));
    let context = GuestContext {
        tables: migration.tables(options.table.as_deref()),
        db: Some(Arc::new(ImmediateDb {
            client: client.clone(),
            handle: tokio::runtime::Handle::current(),
            policy: options.policy.clone(),
        })),
    };
    let call = match options.operation {
        Operation::Migrate => Call::Migrate,
        Operation::Undo => Call::Rollback,
    };
    let mut pool: Pool<ScanTag> =
        Pool::start(migration.clone(), call, options.concurrency, context);
    let jobs = pool.sender();
    pool.close();
    let outcomes = pool.outcomes().clone();
    let consumer = {
        let spool = Spool {
            writer,
            checkpoint,
            checkpoint_path,
            scan: scan_progress.clone(),
            every: options.checkpoint_every,
            errors,
            failures,
        };
        let (schemas, progress, stop, fail_fast) = (
            schemas.clone(),
            progress.clone(),
            stop.clone(),
            options.fail_fast,
        );
        tokio::task::spawn_blocking(move || {
            journal_outcomes(outcomes, spool, &schemas, &progress, &stop, fail_fast)
        })
    };
    let scan_options = ScanOptions {
        table: table.to_owned(),
        schema: schemas[table].clone(),
        segments: scan_progress.snapshot().len() as u32,
        capacity: options.capacity.clone(),
        page_size: options.page_size,
        progress: scan_progress,
        journaled: Arc::new(journaled),
    };
    let items = scan(client, &options.policy, &scan_options, jobs, stop.clone()).await;
    let journaled = consumer
        .await
        .map_err(|e| anyhow!("journal writer failed: {e}"))?;
    drop(pool);
    let items = items?;
    let journaled = journaled?;
    Ok(Scanned { items, journaled })
}

/// The journal writer's state: the journal, its checkpoint, and the failures so far.
struct Spool {
    writer: JournalWriter,
    checkpoint: Checkpoint,
    checkpoint_path: PathBuf,
    scan: Arc<ScanProgress>,
    every: Duration,
    errors: u64,
    failures: Vec<ItemFailure>,
}

impl Spool {
    /// Syncs the journal, then records which pages it wholly holds. Only this thread reports
    /// journaled items, so every page counted here has its records before the synced position.
    fn checkpoint(&mut self) -> Result<()> {
        self.checkpoint.journal_position = self.writer.sync()?;
        self.checkpoint.records = self.writer.records();
        self.checkpoint.segments = self.scan.snapshot();
        self.checkpoint.save(&self.checkpoint_path)?;
        crate::crash::point("scan-checkpoint");
        Ok(())
    }
}

/// Appends every outcome (its actions, or its failure) to the journal, checkpointing it as
/// often as the spool says and at the end.
fn journal_outcomes(
    outcomes: crossbeam_channel::Receiver<Outcome<ScanTag>>,
    mut spool: Spool,
    schemas: &HashMap<String, KeySchema>,
    progress: &Progress,
    stop: &AtomicBool,
    fail_fast: bool,
) -> Result<Journaled> {
    let mut saved = Instant::now();
    loop {
        let outcome = match outcomes.recv_timeout(spool.every) {
            Ok(outcome) => outcome,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                spool.checkpoint()?;
                saved = Instant::now();
                continue;
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        progress.processed.fetch_add(1, Ordering::Relaxed);
        let checked = outcome
            .result
            .map_err(|e| e.to_string())
            .and_then(|actions| {
                actions.iter().enumerate().try_for_each(|(n, a)| {
                    check_key(a, schemas).map_err(|e| format!("invalid action: action {n}: {e}"))
                })?;
                Ok(actions)
            });
        let source = outcome.tag.key.0.clone();
        let page = Some(outcome.tag.page);
        match checked {
            Ok(actions) => {
                for action in actions {
                    spool.writer.append(&Record {
                        source: source.clone(),
                        page,
                        entry: Entry::Action(action),
                    })?;
                    progress.actions.fetch_add(1, Ordering::Relaxed);
                    crate::crash::point("journal-append");
                }
            }
            Err(error) => {
                spool.errors += 1;
                progress.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!("{}: {error}", outcome.tag);
                spool.writer.append(&Record {
                    source: source.clone(),
                    page,
                    entry: Entry::Failed(error.clone()),
                })?;
                if spool.failures.len() < FAILURES_REPORTED {
                    spool.failures.push(ItemFailure {
                        key: to_json_item(&source),
                        error,
                    });
                }
                if fail_fast {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
        spool.scan.item_journaled(outcome.tag.page);
        if saved.elapsed() >= spool.every {
            spool.checkpoint()?;
            saved = Instant::now();
        }
    }
    spool.checkpoint()?;
    Ok(Journaled {
        errors: spool.errors,
        failures: spool.failures,
        checkpoint: spool.checkpoint,
    })
}

/// An action's key must be exactly its table's key (puts: contain it).
fn check_key(action: &Action, schemas: &HashMap<String, KeySchema>) -> Result<(), String> {
    let schema = &schemas[&action.table];
    let describe = || match &schema.range {
        Some(range) => format!("`{}`, `{range}`", schema.hash),
        None => format!("`{}`", schema.hash),
    };
    let ok = match &action.kind {
        ActionKind::Put { item } => schema.key_of(item).is_some(),
        ActionKind::Update { key, .. } | ActionKind::Delete { key } => schema.matches(key),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} on `{}` lacks the table's key {}",
            action.kind.name(),
            action.table,
            describe()
        ))
    }
}

/// Waits for Ctrl-C or SIGTERM, then sets `stop`.
pub async fn stop_on_signal(stop: Arc<AtomicBool>) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::warn!("stopping: the migration will not be marked applied");
    stop.store(true, Ordering::Relaxed);
}

/// Shows progress: a live line on a terminal (indicatif), a log line every `every` otherwise.
pub async fn report_progress(progress: Arc<Progress>, every: Duration) {
    /// Clears the live line when the reporter is stopped (its task is aborted).
    struct Live(indicatif::ProgressBar);
    impl Drop for Live {
        fn drop(&mut self) {
            self.0.finish_and_clear();
        }
    }
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .expect("a valid template"),
        );
        Live(bar)
    });
    let mut ticker = tokio::time::interval(if bar.is_some() {
        Duration::from_millis(200)
    } else {
        every
    });
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let line = progress.line();
        match &bar {
            Some(Live(bar)) => {
                bar.set_message(line);
                bar.tick();
            }
            None => tracing::info!("{line}"),
        }
    }
}

impl Progress {
    /// The current state in one line.
    pub fn line(&self) -> String {
        if self.applying.load(Ordering::Relaxed) {
            format!(
                "apply: {} actions applied, {} conflicts",
                self.apply.applied(),
                self.apply.conflicts.load(Ordering::Relaxed)
            )
        } else {
            format!(
                "scan: {} items through the guest, {} actions journaled, {} failed",
                self.processed.load(Ordering::Relaxed),
                self.actions.load(Ordering::Relaxed),
                self.errors.load(Ordering::Relaxed)
            )
        }
    }
}
