//! The shared state of a run spread over several workers (`run --workers N`): DynamoDB's
//! metadata table is the only thing the workers share, so every decision is a conditional
//! write there.
//!
//! - The **run item** (`run#<number>#<run>`) says how many workers and segments the run has,
//!   the capacity budget they share, whether the apply has begun (the barrier passed), and the
//!   first failure, which stops every worker.
//! - A **worker item** (`worker#<number>#<run>#<index>`) is the lease of one worker index: the
//!   process holding it (`owner`, a UUID of the process), its host, when the lease expires, and
//!   its published progress. A replacement process with the same index takes it over once the
//!   old one's lease expired (at once if the old process is gone from this host).
//! - A **segment item** (`segment#<number>#<run>#<segment>`) is a claim on one scan segment by a
//!   worker index, with its state (`claimed` → `scanned` → `applied`) and counts. A claim is
//!   taken with `attribute_not_exists`, and taken over from an index whose lease expired in a
//!   transaction that checks that expiry.

mod index;
mod items;

pub use index::worker_index;
pub use items::{RunShape, SegmentClaim, SegmentState, WorkerLease};

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{anyhow, bail, Result};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;

use crate::aws::capacity::Capacity;
use crate::aws::retry::{error_code, is_conditional_check_failed, RetryPolicy};
use crate::aws::write::{batch_write, cancellation_reasons, CONDITION_FAILED};
use crate::metadata::lock::{host_name, unix_now};
use crate::metadata::record::MigrationRecord;
use crate::metadata::KEY;
use crate::model::counts::Counts;
use items::{claim_from_item, number, text, worker_from_item, Attributes};

/// Requests this process made to coordinate with the other workers (the coordination items,
/// the renewals of its lease, the reads of the run's record while waiting), for the report.
static COORDINATION_REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Counts one coordination request.
pub fn coordinating() {
    COORDINATION_REQUESTS.fetch_add(1, Ordering::Relaxed);
}

/// How many coordination requests this process made.
pub fn coordination_requests() -> u64 {
    COORDINATION_REQUESTS.load(Ordering::Relaxed)
}

/// The coordination items of one multi-worker run of one migration.
#[derive(Clone)]
pub struct Coordination {
    client: Client,
    policy: RetryPolicy,
    table: String,
    number: u64,
    run_id: String,
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn key(id: String) -> Attributes {
    [(KEY.to_owned(), AttributeValue::S(id))].into()
}

impl Coordination {
    /// The items of run `run_id` of migration `number` in metadata table `table`.
    pub fn new(
        client: Client,
        policy: RetryPolicy,
        table: &str,
        number: u64,
        run_id: &str,
    ) -> Coordination {
        Coordination {
            client,
            policy,
            table: table.to_owned(),
            number,
            run_id: run_id.to_owned(),
        }
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    fn run_item_id(&self) -> String {
        run_item_id(self.number, &self.run_id)
    }

    /// The key of worker `index`'s lease item.
    pub fn worker_id(&self, index: u32) -> String {
        format!("worker#{:020}#{}#{index:06}", self.number, self.run_id)
    }

    fn segment_id(&self, segment: u32) -> String {
        format!("segment#{:020}#{}#{segment:07}", self.number, self.run_id)
    }

    async fn get(&self, id: String) -> Result<Option<Attributes>> {
        coordinating();
        let output = self
            .policy
            .run(|| {
                self.client
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(key(id.clone())))
                    .consistent_read(true)
                    .send()
            })
            .await
            .map_err(|e| {
                anyhow!(
                    "cannot read metadata table `{}`: {}",
                    self.table,
                    error_code(&e)
                )
            })?;
        Ok(output.item)
    }

    /// The run's shape, if a worker wrote it.
    pub async fn shape(&self) -> Result<Option<RunShape>> {
        Ok(self.get(self.run_item_id()).await?.map(|item| RunShape {
            workers: number(&item, "workers").unwrap_or(0),
            segments: number(&item, "segments").unwrap_or(0),
            max_rcu: number(&item, "max_rcu"),
            max_wcu: number(&item, "max_wcu"),
            applying: item.get("applying") == Some(&AttributeValue::Bool(true)),
            failed: text(&item, "failed"),
            takeovers: number(&item, "takeovers").unwrap_or(0),
        }))
    }

    /// Writes the run's shape unless a worker did already; returns the shape stored.
    pub async fn create(&self, shape: &RunShape) -> Result<RunShape> {
        let mut item = key(self.run_item_id());
        item.insert("workers".into(), n(shape.workers));
        item.insert("segments".into(), n(shape.segments));
        item.insert("created_at".into(), s(&crate::model::now()));
        if let Some(rcu) = shape.max_rcu {
            item.insert("max_rcu".into(), n(rcu));
        }
        if let Some(wcu) = shape.max_wcu {
            item.insert("max_wcu".into(), n(wcu));
        }
        // Only while the run's record says it is running: a worker joining just as the run
        // ends (its items removed) must not bring the run back to life.
        let running = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(MigrationRecord::id(self.number))))
            .condition_expression("#status = :running AND #run = :run")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#run", "run_id")
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":run", s(&self.run_id))
            .build()?;
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", KEY)
            .build()?;
        let items = vec![
            TransactWriteItem::builder()
                .condition_check(running)
                .build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        match self.transact(items).await? {
            // The record no longer says running.
            Some(failed) if failed.first() == Some(&true) => {
                bail!("run {} ended while this worker joined it", self.run_id)
            }
            // Written, or there already (another worker made it): read it.
            _ => {}
        }
        self.shape()
            .await?
            .ok_or_else(|| anyhow!("run {} ended while this worker joined it", self.run_id))
    }

    /// Records the run's first failure (a later one is kept out); every worker stops on it.
    pub async fn fail(&self, why: &str) -> Result<()> {
        coordinating();
        let result = self
            .policy
            .run(|| {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(self.run_item_id())))
                    .update_expression("SET #failed = :failed")
                    .condition_expression("attribute_exists(#id) AND attribute_not_exists(#failed)")
                    .expression_attribute_names("#failed", "failed")
                    .expression_attribute_names("#id", KEY)
                    .expression_attribute_values(":failed", s(why))
                    .send()
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_check_failed(&e) => Ok(()),
            Err(e) => Err(self.unwritable(&error_code(&e))),
        }
    }

    /// Forgets the run's failure: a failed run resumed goes on.
    pub async fn clear_failure(&self) -> Result<()> {
        coordinating();
        self.policy
            .run(|| {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(self.run_item_id())))
                    .update_expression("REMOVE #failed")
                    .expression_attribute_names("#failed", "failed")
                    .send()
            })
            .await
            .map_err(|e| self.unwritable(&error_code(&e)))?;
        Ok(())
    }

    /// Marks the barrier passed (the apply has begun) if no worker failed the run and no claim
    /// was taken over since `seen` was read with every segment scanned. `Ok(false)`: a claim
    /// was taken over meanwhile; look again.
    pub async fn begin_apply(&self, seen: &RunShape) -> Result<bool> {
        coordinating();
        let result = self
            .policy
            .run(|| {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(self.run_item_id())))
                    .update_expression("SET #applying = :yes")
                    .condition_expression(
                        "attribute_exists(#id) AND attribute_not_exists(#failed) AND \
                         (attribute_not_exists(#takeovers) OR #takeovers = :seen)",
                    )
                    .expression_attribute_names("#applying", "applying")
                    .expression_attribute_names("#failed", "failed")
                    .expression_attribute_names("#takeovers", "takeovers")
                    .expression_attribute_names("#id", KEY)
                    .expression_attribute_values(":yes", AttributeValue::Bool(true))
                    .expression_attribute_values(":seen", n(seen.takeovers))
                    .send()
            })
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failed(&e) => match self.shape().await? {
                Some(shape) if shape.failed.is_none() => Ok(shape.applying),
                _ => bail!("another worker failed the run before its apply began"),
            },
            Err(e) => Err(self.unwritable(&error_code(&e))),
        }
    }

    /// Takes the lease of worker `index` for process `owner` for `lease_seconds`: if nobody
    /// holds it, its holder's lease expired, `owner` holds it already, or `previous` (an owner
    /// known to be dead) holds it. `Ok(None)`: taken; `Ok(Some(holder))`: held by a live one.
    pub async fn take_worker(
        &self,
        index: u32,
        owner: &str,
        previous: Option<&str>,
        lease_seconds: u64,
    ) -> Result<Option<WorkerLease>> {
        let mut item = key(self.worker_id(index));
        item.insert("owner".into(), s(owner));
        item.insert(
            "host".into(),
            s(&format!("{} pid {}", host_name(), std::process::id())),
        );
        item.insert("expires_at".into(), n(unix_now() + lease_seconds));
        item.insert("phase".into(), s("starting"));
        item.insert("index".into(), n(index));
        coordinating();
        let written = self
            .policy
            .run(|| {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item.clone()))
                    .condition_expression(
                        "attribute_not_exists(#id) OR #expires < :now OR #owner = :owner \
                         OR #owner = :previous",
                    )
                    .expression_attribute_names("#id", KEY)
                    .expression_attribute_names("#expires", "expires_at")
                    .expression_attribute_names("#owner", "owner")
                    .expression_attribute_values(":now", n(unix_now()))
                    .expression_attribute_values(":owner", s(owner))
                    .expression_attribute_values(":previous", s(previous.unwrap_or(owner)))
                    .send()
            })
            .await;
        match written {
            Ok(_) => Ok(None),
            Err(e) if is_conditional_check_failed(&e) => {
                let holder = self.worker(index).await?;
                Ok(holder.filter(|h| h.owner != owner))
            }
            Err(e) => Err(self.unwritable(&error_code(&e))),
        }
    }

    /// Gives worker `index`'s lease back if process `owner` still holds it: marked expired
    /// now, so its replacement takes it at once (and the others take its segments over as
    /// from an expired lease).
    pub async fn give_back(&self, index: u32, owner: &str) -> Result<()> {
        coordinating();
        let result = self
            .policy
            .run(|| {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(self.worker_id(index))))
                    .update_expression("SET #expires = :now")
                    .condition_expression("#owner = :owner")
                    .expression_attribute_names("#expires", "expires_at")
                    .expression_attribute_names("#owner", "owner")
                    .expression_attribute_values(":now", n(unix_now().saturating_sub(1)))
                    .expression_attribute_values(":owner", s(owner))
                    .send()
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_check_failed(&e) => Ok(()),
            Err(e) => Err(self.unwritable(&error_code(&e))),
        }
    }

    /// Worker `index`'s lease, if any.
    pub async fn worker(&self, index: u32) -> Result<Option<WorkerLease>> {
        Ok(self
            .get(self.worker_id(index))
            .await?
            .and_then(|item| worker_from_item(&item)))
    }

    /// Every worker lease of the run (of its `workers` indexes).
    pub async fn workers(&self, workers: u32) -> Result<Vec<WorkerLease>> {
        let ids = (0..workers).map(|index| self.worker_id(index)).collect();
        let mut leases: Vec<WorkerLease> = self
            .get_all(ids)
            .await?
            .iter()
            .filter_map(worker_from_item)
            .collect();
        leases.sort_by_key(|w| w.index);
        Ok(leases)
    }

    /// Every segment claim of the run (of its `segments` segments).
    pub async fn claims(&self, segments: u32) -> Result<Vec<SegmentClaim>> {
        let ids = (0..segments)
            .map(|segment| self.segment_id(segment))
            .collect();
        let mut claims: Vec<SegmentClaim> = self
            .get_all(ids)
            .await?
            .iter()
            .filter_map(claim_from_item)
            .collect();
        claims.sort_by_key(|c| c.segment);
        Ok(claims)
    }

    /// The items of `ids` that exist, read by key (BatchGetItem, strongly consistent, 100 a
    /// request): the metadata table may hold many other items (exactly-once markers), which
    /// a scan would read too.
    async fn get_all(&self, ids: Vec<String>) -> Result<Vec<Attributes>> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut items = Vec::new();
        for chunk in ids.chunks(100) {
            let mut keys: Vec<Attributes> = chunk.iter().map(|id| key(id.clone())).collect();
            let mut attempt = 0;
            while !keys.is_empty() {
                let wanted = KeysAndAttributes::builder()
                    .set_keys(Some(keys.clone()))
                    .consistent_read(true)
                    .build()?;
                coordinating();
                let output = self
                    .policy
                    .run(|| {
                        self.client
                            .batch_get_item()
                            .request_items(&self.table, wanted.clone())
                            .send()
                    })
                    .await
                    .map_err(|e| {
                        anyhow!(
                            "cannot read metadata table `{}`: {}",
                            self.table,
                            error_code(&e)
                        )
                    })?;
                if let Some(mut found) = output.responses {
                    items.extend(found.remove(&self.table).unwrap_or_default());
                }
                keys = output
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&self.table))
                    .map(|left| left.keys)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    // Keys DynamoDB did not get to (throttled): again after a backoff.
                    tokio::time::sleep(self.policy.backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
        Ok(items)
    }

    /// Deletes every coordination item of the run (`workers` leases, `segments` claims, the
    /// run item), by key.
    pub async fn remove(&self, workers: u32, segments: u32, capacity: &Capacity) -> Result<()> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let ids: Vec<String> = std::iter::once(self.run_item_id())
            .chain((0..workers).map(|index| self.worker_id(index)))
            .chain((0..segments).map(|segment| self.segment_id(segment)))
            .collect();
        for chunk in ids.chunks(25) {
            let requests = chunk
                .iter()
                .map(|id| {
                    DeleteRequest::builder()
                        .set_key(Some(key(id.clone())))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<Result<Vec<_>, _>>()?;
            coordinating();
            batch_write(
                &self.client,
                &self.policy,
                capacity,
                [(self.table.clone(), requests)].into_iter().collect(),
            )
            .await?;
        }
        Ok(())
    }

    /// Claims `segment` for worker `index` if nobody has. Returns whether it did.
    pub async fn claim(&self, segment: u32, index: u32) -> Result<bool> {
        let mut item = key(self.segment_id(segment));
        item.insert("segment".into(), n(segment));
        item.insert("worker".into(), n(index));
        item.insert("state".into(), s(SegmentState::Claimed.as_str()));
        self.put_new(item).await
    }

    /// Puts `item` unless an item with its id exists; returns whether it did.
    async fn put_new(&self, item: Attributes) -> Result<bool> {
        coordinating();
        let written = self
            .policy
            .run(|| {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item.clone()))
                    .condition_expression("attribute_not_exists(#id)")
                    .expression_attribute_names("#id", KEY)
                    .send()
            })
            .await;
        match written {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failed(&e) => Ok(false),
            Err(e) => Err(self.unwritable(&error_code(&e))),
        }
    }

    /// The error of a write to the metadata table that failed for `why`.
    fn unwritable(&self, why: &str) -> anyhow::Error {
        anyhow!("cannot write metadata table `{}`: {why}", self.table)
    }

    /// Takes `claim` over for worker `index` from a worker whose lease expired, back to
    /// `claimed` (its journal is on the other worker's disk). Returns whether it did: not if
    /// the other worker renewed its lease, another worker took the claim first, or (before the
    /// barrier, `applying` false) the barrier was passed meanwhile.
    pub async fn take_over(
        &self,
        claim: &SegmentClaim,
        index: u32,
        applying: bool,
    ) -> Result<bool> {
        let expired = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(self.worker_id(claim.worker))))
            .condition_expression("attribute_not_exists(#id) OR #expires < :now")
            .expression_attribute_names("#id", KEY)
            .expression_attribute_names("#expires", "expires_at")
            .expression_attribute_values(":now", n(unix_now()))
            .build()?;
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(self.segment_id(claim.segment))))
            .update_expression("SET #worker = :index, #state = :claimed")
            .condition_expression("#worker = :old AND #state = :state")
            .expression_attribute_names("#worker", "worker")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":index", n(index))
            .expression_attribute_values(":old", n(claim.worker))
            .expression_attribute_values(":claimed", s(SegmentState::Claimed.as_str()))
            .expression_attribute_values(":state", s(claim.state.as_str()))
            .build()?;
        let mut items = vec![
            TransactWriteItem::builder()
                .condition_check(expired)
                .build(),
            TransactWriteItem::builder().update(update).build(),
        ];
        if !applying {
            // Before the barrier: only while it is not passed, and so that a worker about
            // to pass it sees the change.
            let counted = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(self.run_item_id())))
                .update_expression("ADD #takeovers :one")
                .condition_expression("attribute_exists(#id) AND attribute_not_exists(#applying)")
                .expression_attribute_names("#takeovers", "takeovers")
                .expression_attribute_names("#applying", "applying")
                .expression_attribute_names("#id", KEY)
                .expression_attribute_values(":one", n(1))
                .build()?;
            items.push(TransactWriteItem::builder().update(counted).build());
        }
        Ok(self.transact(items).await?.is_none())
    }

    /// Writes `items` in one transaction. `Ok(None)`: written; `Ok(Some(failed))`: refused
    /// because conditions failed, `failed[i]` saying whether item `i`'s did.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Option<Vec<bool>>> {
        coordinating();
        let result = self
            .policy
            .run(|| {
                self.client
                    .transact_write_items()
                    .set_transact_items(Some(items.clone()))
                    .send()
            })
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) => match cancellation_reasons(&e) {
                Some(reasons) if reasons.iter().any(|r| r == CONDITION_FAILED) => Ok(Some(
                    reasons.iter().map(|r| r == CONDITION_FAILED).collect(),
                )),
                _ => Err(self.unwritable(&error_code(&e))),
            },
        }
    }

    /// Moves worker `index`'s `segment` to `state` with its counts; fails if the claim is no
    /// longer that worker's (another took it over after its lease expired).
    pub async fn settle(
        &self,
        segment: u32,
        index: u32,
        state: SegmentState,
        counts: &Counts,
        actions: u64,
    ) -> Result<()> {
        let counts_json = serde_json::to_string(counts)?;
        coordinating();
        let result = self
            .policy
            .run(|| {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(self.segment_id(segment))))
                    .update_expression(
                        "SET #state = :state, #counts = :counts, #actions = :actions",
                    )
                    .condition_expression("#worker = :index")
                    .expression_attribute_names("#state", "state")
                    .expression_attribute_names("#counts", "counts")
                    .expression_attribute_names("#actions", "actions")
                    .expression_attribute_names("#worker", "worker")
                    .expression_attribute_values(":state", s(state.as_str()))
                    .expression_attribute_values(":counts", s(&counts_json))
                    .expression_attribute_values(":actions", n(actions))
                    .expression_attribute_values(":index", n(index))
                    .send()
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_check_failed(&e) => {
                bail!("segment {segment} was taken over by another worker while this one was away")
            }
            Err(e) => Err(self.unwritable(&error_code(&e))),
        }
    }
}

/// The key of the run item of run `run_id` of migration `number`.
pub fn run_item_id(number: u64, run_id: &str) -> String {
    format!("run#{number:020}#{run_id}")
}
