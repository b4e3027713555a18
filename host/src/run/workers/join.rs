//! How a worker joins its run: which run id (a new one, the live run's, or a dead one's to
//! resume), the run's lock taken or joined, the record `running`, the run's shape, and this
//! worker index's own lease.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_dynamodb::Client;

use super::WorkerPlace;
use crate::engine::LoadedMigration;
use crate::metadata::lock::{locked_by, process_gone, read};
use crate::metadata::workers::{Coordination, RunShape};
use crate::metadata::{Lease, MetadataTable, MigrationRecord, SlotProgress, WorkerSlot};
use crate::model::counts::Counts;
use crate::model::error::{refused, RunError};
use crate::model::now;
use crate::model::operation::Status;
use crate::model::stop::Stop;
use crate::run::admission::{admit, Admission, Asking};
use crate::run::RunOptions;

/// What a worker holds once it joined its run.
pub struct Joined {
    /// The run's lock, renewed with this worker's own lease.
    pub lease: Lease,
    /// The run's coordination items.
    pub coordination: Coordination,
    /// The run's shape.
    pub shape: RunShape,
    /// The run's record, `running`.
    pub record: MigrationRecord,
    /// What this worker publishes in its lease item.
    pub progress: Arc<Mutex<SlotProgress>>,
    /// This process's UUID, which holds the index's lease.
    pub owner: String,
}

/// How long a worker waits for the lock or its index's lease held by a process that is
/// finishing or dead: past two leases, whoever holds it is alive.
fn patience(lease: Duration) -> Duration {
    lease * 2 + Duration::from_secs(5)
}

/// Joins (or starts) the run of `migration` that `place` belongs to.
pub async fn join(
    client: &Client,
    meta: &MetadataTable,
    migration: &Arc<LoadedMigration>,
    options: &RunOptions,
    place: WorkerPlace,
    stop: &Stop,
) -> Result<Joined> {
    let info = &migration.info;
    let table = migration.tables(options.table.as_deref()).own().to_owned();
    let asking = Asking {
        operation: options.operation,
        number: info.number,
        name: &info.name,
        checksum: &migration.checksum,
        restart: options.restart,
        table: &table,
    };
    // A late worker of a run that ended has nothing to do, as any run of a done migration.
    if let Admission::UpToDate(why) = admit(asking, meta.get(info.number).await?.as_ref()) {
        return Err(RunError::UpToDate(why).into());
    }
    let group = format!(
        "{} #{} {} x{}",
        options.operation.as_str(),
        info.number,
        &migration.checksum[..migration.checksum.len().min(16)],
        place.workers
    );
    let purpose = format!(
        "{} {} on `{table}`, {} workers",
        options.operation.as_str(),
        migration.label,
        place.workers
    );
    let policy = &options.session.policy;
    let lease_length = options.session.lease;
    let deadline = Instant::now() + patience(lease_length);
    let foreign_deadline = Instant::now() + lease_length;
    let mut waited = false;
    let (lease, run_id) = loop {
        if stop.is_requested() {
            return Err(RunError::WorkerStopped(
                "cancelled before joining the run; the run goes on without this worker".into(),
            )
            .into());
        }
        let previous = meta.get(info.number).await?;
        let holder = read(client, policy, meta.name()).await?;
        let candidate = match &holder {
            Some(h) if h.group.as_deref() == Some(group.as_str()) && !h.expired() => {
                let ended = previous
                    .as_ref()
                    .is_some_and(|r| r.run_id == h.owner && r.status != Status::Running);
                if ended {
                    // The workers of a run that just ended are letting the lock go.
                    if Instant::now() > deadline {
                        return Err(locked_by(meta.name(), holder));
                    }
                    tokio::time::sleep(super::POLL).await;
                    continue;
                }
                h.owner.clone()
            }
            // Another run holds it: the run of a previous migration whose workers are
            // letting it go, or the tables being made. Wait for it a lease at most (the
            // longest a dead holder keeps it), then refuse.
            Some(h) if !h.expired() => {
                if Instant::now() > foreign_deadline {
                    return Err(locked_by(meta.name(), holder));
                }
                if !waited {
                    tracing::info!(
                        "waiting for the lock of `{}`: {}",
                        meta.name(),
                        h.describe()
                    );
                    waited = true;
                }
                tokio::time::sleep(super::POLL).await;
                continue;
            }
            _ => match resumable(client, meta, previous.as_ref(), options, place).await? {
                Some(run_id) => run_id,
                None => uuid::Uuid::new_v4().to_string(),
            },
        };
        let joined = Lease::join(
            client,
            policy,
            meta.name(),
            &candidate,
            &purpose,
            &group,
            lease_length,
        )
        .await?;
        match joined {
            Ok(lease) => break (lease, candidate),
            Err(holder) if Instant::now() > deadline => return Err(locked_by(meta.name(), holder)),
            Err(_) => continue,
        }
    };
    let coordination = Coordination::new(
        client.clone(),
        policy.clone(),
        meta.name(),
        info.number,
        &run_id,
    );
    let record = match running(meta, &lease, &coordination, migration, options, asking).await {
        Ok(record) => record,
        Err(error) => {
            if let Err(release) = lease.release().await {
                tracing::warn!("{release:#}");
            }
            return Err(error);
        }
    };
    let wanted = RunShape {
        workers: place.workers,
        segments: options.segments,
        max_rcu: options.capacity.limits().0,
        max_wcu: options.capacity.limits().1,
        applying: false,
        failed: None,
        takeovers: 0,
    };
    let shape = match coordination.create(&wanted).await {
        Ok(shape) => shape,
        // The run ended as this worker joined it: nothing is left for it.
        Err(error) => match meta.get(info.number).await? {
            Some(record) if record.run_id == run_id && record.status == Status::Failed => {
                return Err(RunError::PhaseFailed {
                    phase: crate::model::operation::Phase::Scan,
                    cause: anyhow::anyhow!(
                        "run {run_id} failed while this worker joined it: {}",
                        record.last_error.unwrap_or_default()
                    )
                    .into(),
                }
                .into());
            }
            Some(record) if record.run_id == run_id && record.status != Status::Running => {
                if let Err(release) = lease.release().await {
                    tracing::warn!("{release:#}");
                }
                return Err(RunError::UpToDate(format!(
                    "migration {} ({}) run {run_id} ended ({}) while this worker joined it; \
                     nothing to do",
                    info.number,
                    info.name,
                    record.status.as_str()
                ))
                .into());
            }
            _ => return Err(error),
        },
    };
    if shape.workers != place.workers {
        return Err(refused(format!(
            "run {run_id} of migration {} has {} workers; this one was started with --workers {}",
            info.number, shape.workers, place.workers
        )));
    }
    let progress = Arc::new(Mutex::new(SlotProgress::default()));
    let owner = uuid::Uuid::new_v4().to_string();
    take_index(&coordination, place.index, &owner, lease_length, stop).await?;
    let lease = lease.with_slot(WorkerSlot {
        id: coordination.worker_id(place.index),
        owner: owner.clone(),
        progress: progress.clone(),
    });
    tracing::info!(
        "worker {} of {} joined run {run_id} of {} ({} segments)",
        place.index,
        place.workers,
        migration.label,
        shape.segments
    );
    Ok(Joined {
        lease,
        coordination,
        shape,
        record,
        progress,
        owner,
    })
}

/// The run id of a multi-worker run of the same module, operation and worker count that a
/// resume goes on with: one left `running`, or one that failed after its apply began (whose
/// segments are in part applied). A run that failed before its apply wrote nothing: the next
/// starts afresh.
async fn resumable(
    client: &Client,
    meta: &MetadataTable,
    previous: Option<&MigrationRecord>,
    options: &RunOptions,
    place: WorkerPlace,
) -> Result<Option<String>> {
    let Some(record) = previous else {
        return Ok(None);
    };
    let unfinished = matches!(record.status, Status::Running | Status::Failed);
    if options.restart || !unfinished || record.operation != options.operation {
        return Ok(None);
    }
    let coordination = Coordination::new(
        client.clone(),
        options.session.policy.clone(),
        meta.name(),
        record.number,
        &record.run_id,
    );
    let shape = coordination.shape().await?;
    match shape {
        None if record.status == Status::Running => Err(refused(format!(
            "migration {} ({}) was left running by run {}, which ran without --workers: resume \
             it without --workers, or --restart to start over",
            record.number, record.name, record.run_id
        ))),
        None => Ok(None),
        Some(shape) if shape.workers != place.workers => Err(refused(format!(
            "migration {} ({}) was left unfinished by run {} of {} workers; resume it with \
             --workers {}, or --restart to start over",
            record.number, record.name, record.run_id, shape.workers, shape.workers
        ))),
        Some(shape) if record.status == Status::Running || shape.applying => {
            Ok(Some(record.run_id.clone()))
        }
        Some(_) => Ok(None),
    }
}

/// The run's record `running`: as another worker wrote it, or written now after the same
/// admission a single run passes.
async fn running(
    meta: &MetadataTable,
    lease: &Lease,
    coordination: &Coordination,
    migration: &LoadedMigration,
    options: &RunOptions,
    asking: Asking<'_>,
) -> Result<MigrationRecord> {
    let run_id = coordination.run_id();
    let previous = meta.get(asking.number).await?;
    if let Some(record) = previous
        .as_ref()
        .filter(|r| r.run_id == run_id && r.status == Status::Running)
    {
        return Ok(record.clone());
    }
    match admit(asking, previous.as_ref()) {
        Admission::Refuse(why) => return Err(refused(why)),
        Admission::UpToDate(why) => return Err(RunError::UpToDate(why).into()),
        Admission::Fresh | Admission::Resume => {}
    }
    let info = &migration.info;
    let same_run = previous.as_ref().filter(|r| r.run_id == run_id);
    let record = MigrationRecord {
        number: info.number,
        name: info.name.clone(),
        description: info.description.clone(),
        table: asking.table.to_owned(),
        checksum: migration.checksum.clone(),
        status: Status::Running,
        operation: options.operation,
        run_id: run_id.to_owned(),
        started_at: same_run.map_or_else(now, |r| r.started_at.clone()),
        finished_at: None,
        host_version: env!("CARGO_PKG_VERSION").to_owned(),
        counts: Counts::default(),
        last_error: None,
        journal: None,
        progress: Some("workers: starting".to_owned()),
        notes: previous
            .as_ref()
            .map(|p| p.notes.clone())
            .unwrap_or_default(),
    };
    if let Err(error) = meta.write(&record, previous.as_ref(), Some(lease)).await {
        // Another worker of the run wrote it first.
        return match meta.get(asking.number).await? {
            Some(stored) if stored.run_id == run_id && stored.status == Status::Running => {
                Ok(stored)
            }
            _ => Err(error),
        };
    }
    if same_run.is_some() {
        // A failed run resumed: its failure no longer stops its workers.
        coordination.clear_failure().await?;
    }
    crate::crash::point("record-running");
    Ok(record)
}

/// Takes the lease of worker `index` for process `owner`: at once if free, expired, or held
/// by a process of this host that is gone; else waits for the lease of the process this one
/// replaces to run out.
async fn take_index(
    coordination: &Coordination,
    index: u32,
    owner: &str,
    lease: Duration,
    stop: &Stop,
) -> Result<()> {
    let deadline = Instant::now() + patience(lease);
    let mut dead: Option<String> = None;
    let mut said = false;
    loop {
        let holder = coordination
            .take_worker(index, owner, dead.as_deref(), lease.as_secs())
            .await?;
        let Some(holder) = holder else {
            return Ok(());
        };
        if process_gone(&holder.host) {
            dead = Some(holder.owner);
            continue;
        }
        if stop.is_requested() {
            return Err(RunError::WorkerStopped(
                "cancelled before joining the run; the run goes on without this worker".into(),
            )
            .into());
        }
        if Instant::now() > deadline {
            return Err(refused(format!(
                "worker index {index} is held by a live process ({}); each index runs once",
                holder.host
            )));
        }
        if !said {
            tracing::info!(
                "worker {index}'s previous process ({}) holds its lease: waiting for it to run out",
                holder.host
            );
            said = true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
