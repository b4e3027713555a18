//! `run` and `undo`: the whole data path for one migration.
//!
//! scan (source) → pool of guests (engine) → journal → apply → metadata. The metadata record
//! is `running` from the start; the journal is applied only when the scan finished and every
//! item went through the guest; the record becomes `applied` (or `rolled_back`) only when
//! every action was applied. A cancelled or failed run is recorded as such, with why.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use aws_sdk_dynamodb::Client;
use serde::Serialize;
use serde_json::Value as Json;

use crate::action::{Action, ActionKind};
use crate::apply::{apply, ApplyOptions, ApplyProgress, Conflict};
use crate::capacity::Capacity;
use crate::dynamo::{key_schema, KeySchema, RetryPolicy};
use crate::engine::{
    Call, GuestContext, ImmediateDb, LoadedMigration, MigrationInfo, Outcome, Pool,
};
use crate::item::to_json_item;
use crate::journal::{JournalWriter, Record};
use crate::lock::Lease;
use crate::metadata::{now, Billing, Counts, MetadataTable, MigrationRecord, Operation, Status};
use crate::source::scan::{scan, ScanOptions};
use crate::source::SourceKey;

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
    /// Parallel scan segments.
    pub segments: u32,
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
    /// Run again from the start a migration that a dead run left `running`.
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
    records: u64,
    path: PathBuf,
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
    // back at the end whatever happens.
    let run_id = uuid::Uuid::new_v4().to_string();
    let purpose = format!(
        "{} {} on `{table}`",
        options.operation.as_str(),
        migration.label
    );
    let lease = Lease::acquire(
        client,
        &options.policy,
        &options.meta_table,
        &run_id,
        &purpose,
        options.lease,
    )
    .await?;
    let heartbeat = tokio::spawn(lease.clone().heartbeat(stop.clone()));
    let locked = Locked {
        meta: &meta,
        lease: &lease,
        run_id,
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
    run_id: String,
    schemas: HashMap<String, KeySchema>,
    table: String,
    started: Instant,
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
        run_id,
        schemas,
        table,
        started,
    } = locked;
    let info = &migration.info;
    let previous = meta.get(info.number).await?;
    check_allowed(
        options.operation,
        migration,
        previous.as_ref(),
        options.restart,
    )?;

    let mut record = MigrationRecord {
        number: info.number,
        name: info.name.clone(),
        description: info.description.clone(),
        table: table.clone(),
        checksum: migration.checksum.clone(),
        status: Status::Running,
        operation: options.operation,
        run_id,
        started_at: now(),
        finished_at: None,
        host_version: env!("CARGO_PKG_VERSION").to_owned(),
        counts: Counts::default(),
        last_error: None,
    };
    meta.write(&record, previous.as_ref(), Some(lease)).await?;
    let running = record.clone();
    tracing::info!(
        "{} {} on `{table}` (run {})",
        options.operation.as_str(),
        migration.label,
        record.run_id
    );

    let outcome = scan_and_journal(
        migration,
        client,
        options,
        &schemas,
        &table,
        &record.run_id,
        progress,
        stop,
    )
    .await;
    let mut report_conflicts = Vec::new();
    let mut report_failures = Vec::new();
    let mut journal_kept = None;
    let mut actions_journaled = 0;
    let result: Result<(), String> = match outcome {
        Err(error) => Err(format!("{error:#}; nothing was written")),
        Ok((scanned, journaled)) => {
            record.counts.items_scanned = scanned;
            record.counts.errors = journaled.errors;
            actions_journaled = journaled.records;
            report_failures = journaled.failures;
            if stop.load(Ordering::Relaxed) && journaled.errors == 0 {
                journal_kept = Some(journaled.path.clone());
                Err("cancelled during the scan; nothing was written".to_owned())
            } else if journaled.errors > 0 {
                journal_kept = Some(journaled.path.clone());
                let first = report_failures
                    .first()
                    .map(|f| format!(" First: {}: {}", f.key, f.error))
                    .unwrap_or_default();
                Err(format!(
                    "{} item(s) failed in the guest; nothing was written.{first}",
                    journaled.errors
                ))
            } else {
                progress.applying.store(true, Ordering::Relaxed);
                let apply_options = ApplyOptions {
                    lanes: options.apply_lanes,
                    policy: options.policy.clone(),
                    capacity: options.capacity.clone(),
                };
                let applied = apply(
                    client,
                    &journaled.path,
                    schemas.clone(),
                    &apply_options,
                    progress.apply.clone(),
                    stop.clone(),
                )
                .await;
                let counters = &progress.apply;
                record.counts.puts = counters.put.load(Ordering::Relaxed);
                record.counts.updates = counters.update.load(Ordering::Relaxed);
                record.counts.deletes = counters.delete.load(Ordering::Relaxed);
                record.counts.conflicts = counters.conflicts.load(Ordering::Relaxed);
                match applied {
                    Ok(conflicts) => {
                        report_conflicts = conflicts;
                        if options.keep_journal {
                            journal_kept = Some(journaled.path.clone());
                        } else if let Err(error) = std::fs::remove_file(&journaled.path) {
                            tracing::warn!(
                                "could not remove journal {}: {error}",
                                journaled.path.display()
                            );
                        }
                        Ok(())
                    }
                    Err(error) => {
                        journal_kept = Some(journaled.path.clone());
                        let done = counters.applied() + counters.conflicts.load(Ordering::Relaxed);
                        let what =
                            if stop.load(Ordering::Relaxed) && error.to_string() == "cancelled" {
                                "cancelled during the apply".to_owned()
                            } else {
                                format!("apply failed: {error:#}")
                            };
                        Err(format!(
                            "{what}; {done} of {} actions were applied (journal kept: {})",
                            journaled.records,
                            journaled.path.display()
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
    meta.write(&record, Some(&running), Some(lease)).await?;

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
        journal: journal_kept,
        peak_rss_bytes: peak_rss_bytes(),
        consumed_rcu: options.capacity.total().0,
        consumed_wcu: options.capacity.total().1,
    })
}

/// Refuses what the metadata record does not allow.
fn check_allowed(
    operation: Operation,
    migration: &LoadedMigration,
    previous: Option<&MigrationRecord>,
    restart: bool,
) -> Result<()> {
    let info = &migration.info;
    let who = format!("migration {} ({})", info.number, info.name);
    let short = |checksum: &str| checksum.chars().take(12).collect::<String>();
    let refuse = |message: String| Err(anyhow::Error::new(Refused(message)));
    match (operation, previous) {
        // This run holds the lock, so the run that left the record `running` is dead.
        (_, Some(record)) if record.status == Status::Running && !restart => refuse(format!(
            "{who} was left running by run {} (started {}), which is no longer alive; \
             resuming is not supported yet: `--restart` runs it again from the start",
            record.run_id, record.started_at
        )),
        (Operation::Migrate, Some(record)) if record.status == Status::Running => Ok(()),
        (Operation::Migrate, Some(record)) if record.status == Status::Applied => {
            if record.checksum == migration.checksum {
                refuse(format!(
                    "{who} is already applied (since {}); nothing to do",
                    record.finished_at.as_deref().unwrap_or("?")
                ))
            } else {
                refuse(format!(
                    "{who} was applied from a different module (checksum {} applied, {} given); \
                     a changed migration needs a new number",
                    short(&record.checksum),
                    short(&migration.checksum)
                ))
            }
        }
        (Operation::Migrate, _) => Ok(()),
        (Operation::Undo, None) => refuse(format!("{who} was never run; there is nothing to undo")),
        (Operation::Undo, Some(record)) if record.status != Status::Applied => refuse(format!(
            "{who} is {}; only an applied migration can be undone",
            record.status.as_str()
        )),
        (Operation::Undo, Some(record)) if record.checksum != migration.checksum => {
            refuse(format!(
                "{who} was applied from a different module (checksum {} applied, {} given); \
             undo needs the module that was applied",
                short(&record.checksum),
                short(&migration.checksum)
            ))
        }
        (Operation::Undo, Some(_)) => Ok(()),
    }
}

/// The scan feeding the pool, and a consumer spooling the pool's output to the journal.
#[allow(clippy::too_many_arguments)]
async fn scan_and_journal(
    migration: &Arc<LoadedMigration>,
    client: &Client,
    options: &RunOptions,
    schemas: &HashMap<String, KeySchema>,
    table: &str,
    run_id: &str,
    progress: &Arc<Progress>,
    stop: &Arc<AtomicBool>,
) -> Result<(u64, Journaled)> {
    std::fs::create_dir_all(&options.work_dir).with_context(|| {
        format!(
            "cannot create work directory {}",
            options.work_dir.display()
        )
    })?;
    let path = options.work_dir.join(format!(
        "{}-{}-{run_id}.{}.journal",
        migration.info.name,
        migration.info.number,
        options.operation.as_str()
    ));
    let writer = JournalWriter::create(&path)?;
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
    let mut pool: Pool<SourceKey> =
        Pool::start(migration.clone(), call, options.concurrency, context);
    let jobs = pool.sender();
    pool.close();
    let outcomes = pool.outcomes().clone();
    let consumer = {
        let (schemas, progress, stop, fail_fast) = (
            schemas.clone(),
            progress.clone(),
            stop.clone(),
            options.fail_fast,
        );
        tokio::task::spawn_blocking(move || {
            journal_outcomes(outcomes, writer, &schemas, &progress, &stop, fail_fast)
        })
    };
    let scan_options = ScanOptions {
        table: table.to_owned(),
        schema: schemas[table].clone(),
        segments: options.segments,
        capacity: options.capacity.clone(),
    };
    let scanned = scan(client, &options.policy, &scan_options, jobs, stop.clone()).await;
    let journaled = consumer
        .await
        .map_err(|e| anyhow!("journal writer failed: {e}"))?;
    drop(pool);
    let scanned = scanned?;
    let journaled = journaled?;
    Ok((scanned, journaled))
}

/// Appends every outcome's actions to the journal and collects the failures.
fn journal_outcomes(
    outcomes: crossbeam_channel::Receiver<Outcome<SourceKey>>,
    mut writer: JournalWriter,
    schemas: &HashMap<String, KeySchema>,
    progress: &Progress,
    stop: &AtomicBool,
    fail_fast: bool,
) -> Result<Journaled> {
    let mut errors = 0;
    let mut failures = Vec::new();
    for outcome in outcomes {
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
        match checked {
            Ok(actions) => {
                for action in actions {
                    writer.append(&Record {
                        source: outcome.tag.0.clone(),
                        action,
                    })?;
                    progress.actions.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(error) => {
                errors += 1;
                progress.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!("{}: {error}", outcome.tag);
                if failures.len() < FAILURES_REPORTED {
                    failures.push(ItemFailure {
                        key: to_json_item(&outcome.tag.0),
                        error,
                    });
                }
                if fail_fast {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
    }
    let records = writer.records();
    let path = writer.finish()?;
    Ok(Journaled {
        errors,
        failures,
        records,
        path,
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
