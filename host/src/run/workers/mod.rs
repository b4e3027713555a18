//! `run --workers N`: one migration spread over N processes (pods of a Kubernetes Indexed Job,
//! jobs of an AWS Batch array), each running the same command with its own index, with no
//! coordinator: the metadata table is all they share (see `metadata::workers`).
//!
//! Every worker joins the run: the lock of the metadata table is held by the run (each worker
//! renews it together with its own lease item), the record says `running` once. Then:
//!
//! 1. **Scan**: a worker claims segments with conditional writes, in shuffled order, one at a
//!    time, scanning each into a journal of its own on its disk; a worker that is done claims
//!    more, and takes over the claims of a worker whose lease expired (scanning them again:
//!    before the barrier nothing of them was written).
//! 2. **Barrier**: the apply begins only once every segment is scanned with every item through
//!    the guest. A failed item anywhere is written to the run item, and every worker stops:
//!    nothing is written anywhere.
//! 3. **Apply**: each worker applies the journals of the segments it holds, and settles each
//!    `applied`; a segment whose worker died is applied by its replacement (same index, from
//!    its journal if its disk kept it, else scanned again) or, once that worker's lease
//!    expired, by any other.
//! 4. The worker that finds every segment applied removes the exactly-once markers and marks
//!    the record `applied`; every worker waits for that and exits with the run's outcome.

mod finish;
mod join;
mod segment;
pub mod view;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_dynamodb::Client;

use crate::aws::capacity::Capacity;
use crate::aws::client::fenced;
use crate::aws::retry::RetryPolicy;
use crate::aws::table::{approximate_item_count, table_schemas};
use crate::engine::LoadedMigration;
use crate::metadata::workers::{Coordination, RunShape, SegmentClaim, SegmentState};
use crate::metadata::{Lease, MetadataTable, MigrationRecord, SlotProgress};
use crate::model::counts::{Counts, LiveCounts};
use crate::model::error::RunError;
use crate::model::fence::Fence;
use crate::model::operation::{Phase, Status};
use crate::model::stop::{Stop, StopReason};
use crate::run::report::{ItemFailure, RunReport};
use crate::run::{failure, RunOptions, ScanContext};
use segment::SegmentScan;

/// How often a waiting worker looks at the run again at first (and a joining worker at the
/// lock); a worker that goes on waiting looks less and less often, up to [`POLL_MAX`].
const POLL: Duration = Duration::from_millis(500);
/// The longest a waiting worker goes without looking at the run.
const POLL_MAX: Duration = Duration::from_secs(3);

/// A worker's pauses while it waits for the others: [`POLL`], growing by half each time up to
/// [`POLL_MAX`], back to [`POLL`] once there is work.
struct Waiting(Duration);

impl Waiting {
    fn new() -> Waiting {
        Waiting(POLL)
    }

    async fn pause(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 3 / 2).min(POLL_MAX);
    }

    fn reset(&mut self) {
        self.0 = POLL;
    }
}

/// This process's place in a multi-worker run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerPlace {
    /// Workers in the run.
    pub workers: u32,
    /// This one's index, from 0.
    pub index: u32,
}

/// One worker of a run, once it joined it.
pub struct Worker<'a> {
    scan: ScanContext<'a>,
    meta: &'a MetadataTable,
    /// The metadata table reached without the fence: to read how the run ended after this
    /// worker's lease is gone (the worker that finished the run lets the lock go).
    unfenced: MetadataTable,
    lease: &'a Lease,
    coordination: Coordination,
    index: u32,
    workers: u32,
    segments: u32,
    work_dir: PathBuf,
    progress: Arc<Mutex<SlotProgress>>,
    /// The first items that failed in this worker's segments.
    failures: Mutex<Vec<ItemFailure>>,
    /// This process's UUID, which holds the index's lease.
    owner: String,
    /// Segments this process tried to claim (a snapshot of the claims is not read again for
    /// each).
    claimed: Mutex<BTreeSet<u32>>,
}

/// Runs this process's part of a multi-worker run of `migration` (or its rollback): joins the
/// run (starting it if it is the first), works until the run is applied or failed, and reports
/// the run's outcome. Errors before the run is joined (refused, missing table) are `Err`.
pub async fn run_worker(
    migration: Arc<LoadedMigration>,
    client: &Client,
    options: &RunOptions,
    place: WorkerPlace,
    counts: Arc<LiveCounts>,
    stop: Stop,
) -> Result<RunReport> {
    let started = Instant::now();
    let tables = migration.tables(options.table.as_deref());
    let schemas = table_schemas(client, &options.session.policy, &tables).await?;
    // Every request goes through one fence, extended while both the run's lock and this
    // worker's own lease are renewed.
    let fence = Fence::stopping(stop.clone());
    let unfenced = MetadataTable::new(
        client.clone(),
        &options.session.meta_table,
        options.session.policy.clone(),
    );
    let client = fenced(client, fence.clone());
    let policy = RetryPolicy {
        fence,
        ..options.session.policy.clone()
    };
    let mut options = options.clone();
    options.session.policy = policy.clone();
    let meta = MetadataTable::new(client.clone(), &options.session.meta_table, policy.clone());
    meta.ensure(options.session.billing).await?;
    let joined = join::join(&client, &meta, &migration, &options, place, &stop).await?;
    let join::Joined {
        lease,
        coordination,
        shape,
        record,
        progress,
        owner,
    } = joined;
    // The run's budgets are shared: each worker takes its part (of the live workers, see
    // `watch`).
    let share = |total: Option<f64>| total.map(|t| t / f64::from(shape.workers));
    // Set on the capacity the command line made, which its metrics read.
    let limit = |total: Option<f64>| Some(share(total).unwrap_or(f64::INFINITY));
    options
        .capacity
        .set_limits(limit(shape.max_rcu), limit(shape.max_wcu));
    options.segments = shape.segments;
    let heartbeat = tokio::spawn(lease.clone().heartbeat(stop.clone()));
    let watcher = tokio::spawn(watch(
        coordination.clone(),
        stop.clone(),
        options.capacity.clone(),
        shape.clone(),
    ));
    let own = tables.own();
    let estimate = approximate_item_count(&client, &policy, own).await;
    counts.expected.store(
        estimate.unwrap_or(0) / u64::from(place.workers),
        Ordering::Relaxed,
    );
    std::fs::create_dir_all(&options.work_dir)?;
    let worker = Worker {
        scan: ScanContext {
            migration: &migration,
            client: &client,
            options: &options,
            counts: &counts,
            stop: &stop,
            schemas: &schemas,
            table: own,
            read_only: false,
        },
        meta: &meta,
        unfenced,
        lease: &lease,
        coordination,
        index: place.index,
        workers: shape.workers,
        segments: shape.segments,
        work_dir: options.work_dir.canonicalize()?,
        progress,
        failures: Mutex::default(),
        owner,
        claimed: Mutex::default(),
    };
    // Every worker obeys `drift-host control`; its budgets are the run's totals, shared among
    // the workers.
    let controlled = crate::run::control::Controlled {
        meta: &meta,
        number: migration.info.number,
        run_id: &record.run_id,
        capacity: &options.capacity,
        stop: &stop,
        every: options.session.lease / 3,
        workers: Some(shape.workers),
    };
    let outcome = crate::run::control::while_obeying(worker.work(), controlled).await;
    options.capacity.gate().set_paused(false);
    let report = worker.finish(outcome, &record, started).await;
    watcher.abort();
    heartbeat.abort();
    report
}

/// How often a working worker looks for another worker's failure (a request each time: a
/// failure stops every worker within this, and before the barrier nothing was written).
const WATCH: Duration = Duration::from_secs(5);
/// Every how many looks it counts the live workers, to share the run's budget among them.
const SHARE_EVERY: u32 = 2;

/// Requests `stop` soon after another worker records the run's failure; with a capacity
/// budget, keeps this worker's share of it at the run's total over the workers not known dead
/// (a worker whose lease expired gives its share to the others; its replacement takes it back,
/// the others giving it up within [`SHARE_EVERY`] looks).
async fn watch(coordination: Coordination, stop: Stop, capacity: Capacity, shape: RunShape) {
    let budget = (shape.max_rcu, shape.max_wcu);
    let shared = budget.0.is_some() || budget.1.is_some();
    for look in 1u32.. {
        tokio::time::sleep(WATCH).await;
        if let Ok(Some(now)) = coordination.shape().await {
            if now.failed.is_some() {
                stop.request(StopReason::ItemFailed);
                return;
            }
        }
        if shared && look % SHARE_EVERY == 0 {
            // An index not started yet keeps its share (so the first ones do not take the
            // whole budget); only an expired lease gives it up.
            if let Ok(leases) = coordination.workers(shape.workers).await {
                let dead = leases.iter().filter(|l| l.expired()).count() as u32;
                capacity.share(budget, shape.workers - dead);
            }
        }
    }
}

/// How a worker's part ended.
struct Ended {
    /// The run's record at the end (applied by this worker or another).
    record: MigrationRecord,
    /// The counts of the whole run.
    counts: Counts,
}

impl Worker<'_> {
    fn publish(&self, phase: &str) {
        let mut progress = self.progress.lock().expect("progress");
        progress.phase = phase.to_owned();
        progress.items = self.scan.counts.processed.load(Ordering::Relaxed);
        progress.actions = self.scan.counts.journaled.load(Ordering::Relaxed);
    }

    /// The failure another worker recorded, or this worker's stop, as the error to end with.
    async fn interrupted(&self) -> Result<Option<RunError>> {
        let shape = self.coordination.shape().await?;
        Ok(self.failed_or_stopped(shape.as_ref()))
    }

    /// The failure `shape` records, or this worker's stop, as the error to end with.
    fn failed_or_stopped(&self, shape: Option<&RunShape>) -> Option<RunError> {
        if let Some(shape) = shape {
            if let Some(failed) = &shape.failed {
                return Some(RunError::PhaseFailed {
                    phase: if shape.applying {
                        Phase::Apply
                    } else {
                        Phase::Scan
                    },
                    cause: anyhow::anyhow!("the run failed: {failed}").into(),
                });
            }
        }
        self.scan
            .stop
            .is_requested()
            .then(|| failure(self.scan.stop, Phase::Scan, None))
    }

    /// The scan, the barrier, the apply and the wait for the whole run.
    async fn work(&self) -> Result<Ended, RunError> {
        let scan_failure = |e: anyhow::Error| failure(self.scan.stop, Phase::Scan, Some(e));
        self.publish("scan");
        let mut waiting = Waiting::new();
        loop {
            let Some(shape) = self.coordination.shape().await.map_err(scan_failure)? else {
                // The worker that finished the run removed its items.
                return match self.ended().await.map_err(scan_failure)? {
                    Some(ended) => Ok(ended),
                    None => Err(scan_failure(anyhow::anyhow!("the run's item vanished"))),
                };
            };
            if let Some(error) = self.failed_or_stopped(Some(&shape)) {
                return Err(error);
            }
            if shape.applying {
                break;
            }
            let claims = self
                .coordination
                .claims(self.segments)
                .await
                .map_err(scan_failure)?;
            if let Some(segment) = self.next_to_scan(&claims).await.map_err(scan_failure)? {
                self.scan_claimed(segment).await?;
                // The free segments of this snapshot are claimed one after another without
                // reading the claims again (a claim is conditional anyway).
                while let Some(segment) = self.claim_free(&claims).await.map_err(scan_failure)? {
                    if let Some(error) = self.failed_or_stopped(None) {
                        return Err(error);
                    }
                    self.scan_claimed(segment).await?;
                }
                waiting.reset();
                continue;
            }
            let scanned = claims.len() as u32 == self.segments
                && claims.iter().all(|c| c.state != SegmentState::Claimed);
            if scanned
                && self
                    .coordination
                    .begin_apply(&shape)
                    .await
                    .map_err(scan_failure)?
            {
                tracing::info!("every segment is scanned: the apply begins");
                break;
            }
            self.publish("waiting for the scan");
            waiting.pause().await;
        }
        self.apply().await
    }

    /// The segment this worker scans next, claimed: one of its own left unscanned (a
    /// replacement's), a free one, or one whose worker's lease expired.
    async fn next_to_scan(&self, claims: &[SegmentClaim]) -> Result<Option<u32>> {
        for claim in claims.iter().filter(|c| c.worker == self.index) {
            let unscanned = match claim.state {
                SegmentState::Claimed => true,
                // Scanned by this index's earlier process, whose journal is not on this disk.
                SegmentState::Scanned => self
                    .find_journal(claim.segment)?
                    .is_none_or(|j| j.checkpoint.phase != Phase::Apply),
                SegmentState::Applied => false,
            };
            if unscanned {
                return Ok(Some(claim.segment));
            }
        }
        match self.claim_free(claims).await? {
            Some(segment) => Ok(Some(segment)),
            None => self.take_over_one(claims, 0, false).await,
        }
    }

    /// Claims one of the segments free in `claims` (a snapshot), in shuffled order, skipping
    /// those this process claimed since; `None` when every one of them is taken.
    async fn claim_free(&self, claims: &[SegmentClaim]) -> Result<Option<u32>> {
        let taken: BTreeSet<u32> = claims.iter().map(|c| c.segment).collect();
        let mut free: Vec<u32> = (0..self.segments)
            .filter(|s| !taken.contains(s) && !self.claimed.lock().expect("claimed").contains(s))
            .collect();
        fastrand::shuffle(&mut free);
        for segment in free {
            self.claimed.lock().expect("claimed").insert(segment);
            if self.coordination.claim(segment, self.index).await? {
                return Ok(Some(segment));
            }
        }
        Ok(None)
    }

    /// Takes over one unapplied claim from a worker whose lease expired `grace` seconds ago.
    async fn take_over_one(
        &self,
        claims: &[SegmentClaim],
        grace: u64,
        applying: bool,
    ) -> Result<Option<u32>> {
        let candidates: Vec<&SegmentClaim> = claims
            .iter()
            .filter(|c| c.worker != self.index && c.state != SegmentState::Applied)
            .collect();
        if candidates.is_empty() {
            return Ok(None);
        }
        let workers = self.coordination.workers(self.workers).await?;
        let now = crate::metadata::lock::unix_now();
        let expired = |index: u32| {
            workers
                .iter()
                .find(|w| w.index == index)
                .is_none_or(|w| w.expires_at + grace < now)
        };
        for claim in candidates.into_iter().filter(|c| expired(c.worker)) {
            if self
                .coordination
                .take_over(claim, self.index, applying)
                .await?
            {
                tracing::warn!(
                    "took over segment {} from worker {}, whose lease expired",
                    claim.segment,
                    claim.worker
                );
                return Ok(Some(claim.segment));
            }
        }
        Ok(None)
    }

    /// Scans one claimed segment and settles it `scanned`; a failed item fails the run.
    async fn scan_claimed(&self, segment: u32) -> Result<(), RunError> {
        let scan_failure = |e: anyhow::Error| failure(self.scan.stop, Phase::Scan, Some(e));
        tracing::debug!("worker {} scans segment {segment}", self.index);
        match self.scan_segment(segment).await.map_err(scan_failure)? {
            SegmentScan::Scanned { items, actions } => {
                let counts = Counts {
                    items_scanned: items,
                    ..Counts::default()
                };
                self.coordination
                    .settle(segment, self.index, SegmentState::Scanned, &counts, actions)
                    .await
                    .map_err(scan_failure)?;
                Ok(())
            }
            SegmentScan::Stopped => Err(match self.interrupted().await {
                Ok(Some(error)) => error,
                _ => failure(self.scan.stop, Phase::Scan, None),
            }),
            SegmentScan::Failed { errors, failures } => {
                let first = failures.first().map(describe_failure);
                let why = format!(
                    "{} failed in worker {}'s segment {segment}{}",
                    crate::model::counted(errors, "item"),
                    self.index,
                    first
                        .as_ref()
                        .map(|f| format!(", first {f}"))
                        .unwrap_or_default()
                );
                self.coordination.fail(&why).await.map_err(scan_failure)?;
                self.failures.lock().expect("failures").extend(failures);
                Err(RunError::ItemsFailed {
                    failed: errors,
                    first,
                })
            }
        }
    }

    /// The apply: this worker's segments, then those of workers whose lease expired, until
    /// every segment is applied; then the record.
    async fn apply(&self) -> Result<Ended, RunError> {
        let apply_failure = |e: anyhow::Error| failure(self.scan.stop, Phase::Apply, Some(e));
        let mut waiting = Waiting::new();
        loop {
            self.publish("apply");
            if let Some(error) = self.failed_or_stopped(None) {
                return Err(error);
            }
            let claims = self
                .coordination
                .claims(self.segments)
                .await
                .map_err(apply_failure)?;
            if claims.len() as u32 == self.segments
                && claims.iter().all(|c| c.state == SegmentState::Applied)
            {
                return self.finalize(&claims).await.map_err(apply_failure);
            }
            let own = claims
                .iter()
                .find(|c| c.worker == self.index && c.state != SegmentState::Applied)
                .map(|c| c.segment);
            let next = match own {
                Some(segment) => Some(segment),
                // Its journal is on the dead worker's disk: give its replacement (same index,
                // maybe the same disk) time to come first.
                None => self
                    .take_over_one(
                        &claims,
                        2 * self.scan.options.session.lease.as_secs() + 5,
                        true,
                    )
                    .await
                    .map_err(apply_failure)?,
            };
            let Some(segment) = next else {
                // Nothing to apply here: the run ends when the others are done (or one of
                // them fails it, or finishes it and cleans its items up).
                if let Some(error) = self.interrupted().await.map_err(apply_failure)? {
                    return Err(error);
                }
                if let Some(ended) = self.ended().await.map_err(apply_failure)? {
                    return Ok(ended);
                }
                self.publish("waiting for the apply");
                waiting.pause().await;
                continue;
            };
            waiting.reset();
            match self.apply_segment(segment).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err(match self.interrupted().await {
                        Ok(Some(error)) => error,
                        _ => failure(self.scan.stop, Phase::Apply, None),
                    })
                }
                // This worker alone stopped: its replacement, or another worker once its
                // lease expired, goes on with the segment.
                Err(error @ (RunError::LostLease(_) | RunError::Cancelled { .. })) => {
                    return Err(error)
                }
                Err(error) => {
                    let why = format!("worker {} segment {segment}: {error}", self.index);
                    if let Err(failed) = self.coordination.fail(&why).await {
                        tracing::warn!("{failed:#}");
                    }
                    return Err(error);
                }
            }
        }
    }

    /// The run's end, if another worker recorded it.
    async fn ended(&self) -> Result<Option<Ended>> {
        crate::metadata::workers::coordinating();
        let Some(record) = self.meta.get(self.scan.migration.info.number).await? else {
            return Ok(None);
        };
        if record.run_id != self.coordination.run_id() || record.status == Status::Running {
            return Ok(None);
        }
        let counts = record.counts;
        Ok(Some(Ended { record, counts }))
    }
}

fn describe_failure(failure: &ItemFailure) -> String {
    format!("{}: {}", failure.key, failure.error)
}

/// The summed counts of every segment.
fn total(claims: &[SegmentClaim]) -> (Counts, u64) {
    let mut counts = Counts::default();
    let mut actions = 0;
    for claim in claims {
        counts.items_scanned += claim.counts.items_scanned;
        counts.puts += claim.counts.puts;
        counts.updates += claim.counts.updates;
        counts.deletes += claim.counts.deletes;
        counts.conflicts += claim.counts.conflicts;
        counts.errors += claim.counts.errors;
        actions += claim.actions;
    }
    (counts, actions)
}

/// What a report says of a run that ended with `record`.
fn succeeded(record: &MigrationRecord) -> bool {
    matches!(record.status, Status::Applied | Status::RolledBack)
}
