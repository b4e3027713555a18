//! The fourth stage: applies a journal to DynamoDB, after the scan.
//!
//! Records are routed to lanes by `(table, key)`: actions on the same item stay in journal
//! order, lanes run concurrently. Within a lane, unconditional puts and deletes are gathered
//! into `BatchWriteItem` requests (at most 25, never the same key twice in one request, the
//! `UnprocessedItems` retried with backoff and jitter); updates and conditional writes go one
//! by one. An update carries `attribute_exists(<partition key>)` unless the guest asked for an
//! upsert, so an item deleted during the run is not recreated. A failed condition is a
//! conflict: counted and reported with the key, not an error.
//!
//! Exactly once: a write that would not leave the same item if sent twice (an update with
//! `ADD`, arithmetic or `list_append`, or any conditional write) goes in a transaction with a
//! marker item in the metadata table, named after the run and the record's journal position.
//! A retry whose first attempt landed, or a resumed run repeating a record its dead
//! predecessor applied, finds the marker and does not write again. Every other write leaves
//! the same item when repeated in journal order, which is how a resume repeats them.
//!
//! The [`Watermark`] follows the lanes: the journal position up to which every record is
//! settled, which the run checkpoints so that a resume starts there.

pub mod exactly_once;
pub mod guarded;
pub mod live;
pub mod markers;
pub mod watermark;

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use serde::Serialize;
use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use exactly_once::{already_applied, AppliedBefore, OnceRule};
pub use markers::Markers;
pub use watermark::{Settled, Watermark};

use crate::aws::capacity::Capacity;
use crate::aws::convert::to_aws_item;
use crate::aws::partiql::{update_statement, Statement};
use crate::aws::retry::RetryPolicy;
use crate::aws::write::{
    batch_statements, batch_write, write_once, Expression, SingleWrite, StatementOutcome,
    WriteError, Written,
};
use crate::journal::{Entry, JournalReader, Record};
use crate::model::action::{Action, ActionKind};
use crate::model::counts::LiveCounts;
use crate::model::item::{to_json_item, Item};
use crate::model::schema::KeySchema;
use crate::model::source::key_identity;
use crate::model::stop::{Stop, StopReason};

/// Most writes in one `BatchWriteItem`.
const BATCH_LIMIT: usize = 25;
/// Records queued per lane: one batch ahead is enough to keep a lane busy, and the queues are
/// what the apply holds in memory (lanes × this × record size), whatever the journal's length.
const LANE_QUEUE: usize = 2 * BATCH_LIMIT;
/// Conflicts kept for the report (all are counted).
const CONFLICTS_REPORTED: usize = 100;
/// Placeholder for the partition key in the existence check added to updates.
const KEY_PLACEHOLDER: &str = "#drifthostkey";

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Lanes working concurrently (each has at most one request in flight).
    pub lanes: usize,
    /// Retries for throttling and transient failures.
    pub policy: RetryPolicy,
    /// Write capacity budget, and the count of what was consumed.
    pub capacity: Capacity,
    /// Journal position to start from (a resume's watermark; the header's end otherwise).
    pub start: u64,
    /// Whether the journal may hold a repeatable upsert update (the checkpoint says): if not,
    /// the apply need not read the journal once more before it starts.
    pub repeatable_upserts: bool,
    /// The tables whose plain updates go as PartiQL statements in batches
    /// (`BatchExecuteStatement`: the server takes them, see [`crate::aws::partiql::probe`]);
    /// elsewhere each is an `UpdateItem`.
    pub statement_tables: BTreeSet<String>,
    /// Whether an earlier attempt may have applied records from `start` on (a resumed apply):
    /// the apply then first finds which, by their markers (see [`already_applied`]).
    pub resumed: bool,
    /// Where exactly-once writes leave their markers.
    pub markers: Markers,
    /// Live runs: every write guarded, an item's records together (see [`live`]).
    pub live: Option<Arc<guarded::Live>>,
}

/// A write whose condition did not hold.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// The table written to.
    pub table: String,
    /// `put`, `update` or `delete`.
    pub kind: &'static str,
    /// The written item's key, DynamoDB JSON.
    pub key: Json,
    /// The key of the scanned item that produced the action.
    pub source: Json,
    /// What failed.
    pub reason: String,
}

/// What an apply works with besides its options: the client, the tables' key schemas, and
/// what it shares with the run while it works.
#[derive(Clone)]
pub struct ApplyContext {
    /// The DynamoDB client.
    pub client: Client,
    /// Key schema of every table actions may target.
    pub schemas: HashMap<String, KeySchema>,
    /// Live counts, bumped as actions are applied.
    pub counts: Arc<LiveCounts>,
    /// Follows what is settled; the run checkpoints it.
    pub watermark: Arc<Watermark>,
    /// Ends the apply early, between requests.
    pub stop: Stop,
}

/// How an apply ended without an error.
#[derive(Debug)]
pub struct Applied {
    /// The first [`CONFLICTS_REPORTED`] conflicts (all are counted).
    pub conflicts: Vec<Conflict>,
    /// Whether every record was settled; false when a stop was requested first.
    pub complete: bool,
}

/// What the lanes share.
struct Shared {
    /// See [`ApplyOptions::statement_tables`].
    statement_tables: BTreeSet<String>,
    /// Which records go exactly once.
    rule: Arc<OnceRule>,
    /// What an earlier attempt of this apply settled (see [`exactly_once`]).
    applied_before: AppliedBefore,
    context: ApplyContext,
    policy: RetryPolicy,
    capacity: Capacity,
    conflicts: Mutex<Vec<Conflict>>,
    markers: Markers,
}

/// A record with its action and target key worked out.
struct Prepared {
    /// The key of the scanned item the action came from.
    source: Item,
    action: Action,
    key: Item,
    /// The key's identity within its table, for duplicate detection.
    identity: Vec<u8>,
    /// The record's sequence number in this apply, for the watermark.
    sequence: u64,
    /// Journal position of the record (names its marker).
    position: u64,
    /// Journal position just after it.
    end: u64,
    /// Whether it goes exactly once (with a marker).
    once: bool,
}

/// Applies every record of `journal` from `options.start`. Counts go to `context.counts`,
/// and `context.watermark` follows what is settled; a stop ends it early, between requests.
pub async fn apply(
    journal: &Path,
    options: &ApplyOptions,
    context: ApplyContext,
) -> Result<Applied> {
    if let Some(live) = &options.live {
        return live::apply_live(journal, options, context, live.clone()).await;
    }
    let lanes = options.lanes.max(1);
    let stop = context.stop.clone();
    let rule = if options.repeatable_upserts {
        let (journal, start, schemas) =
            (journal.to_owned(), options.start, context.schemas.clone());
        tokio::task::spawn_blocking(move || OnceRule::read(&journal, start, &schemas))
            .await
            .map_err(|e| anyhow!("journal reader failed: {e}"))??
    } else {
        OnceRule::default()
    };
    let rule = Arc::new(rule);
    let applied_before = if options.resumed {
        already_applied(journal, options, &context, &rule).await?
    } else {
        AppliedBefore::default()
    };
    let shared = Arc::new(Shared {
        statement_tables: options.statement_tables.clone(),
        rule,
        applied_before,
        context,
        policy: options.policy.clone(),
        capacity: options.capacity.clone(),
        conflicts: Mutex::new(Vec::new()),
        markers: options.markers.clone(),
    });
    let mut senders = Vec::with_capacity(lanes);
    let mut tasks = JoinSet::new();
    for _ in 0..lanes {
        let (tx, rx) = mpsc::channel::<Prepared>(LANE_QUEUE);
        senders.push(tx);
        let shared = shared.clone();
        tasks.spawn(async move { run_lane(rx, &shared).await });
    }
    let reader = {
        let (journal, shared, start) = (journal.to_owned(), shared.clone(), options.start);
        tokio::task::spawn_blocking(move || route(&journal, start, &shared, senders))
    };
    join_lanes(tasks, reader, &stop).await?;
    let conflicts = std::mem::take(&mut *shared.conflicts.lock().expect("conflicts lock"));
    Ok(Applied {
        conflicts,
        complete: !stop.is_requested(),
    })
}

/// Waits for the lanes and the journal reader feeding them; the first lane that fails stops
/// the others (and the reader), and its error is the apply's.
pub(crate) async fn join_lanes(
    mut lanes: JoinSet<Result<()>>,
    reader: tokio::task::JoinHandle<Result<()>>,
    stop: &crate::model::stop::Stop,
) -> Result<()> {
    let mut first_error = None;
    while let Some(joined) = lanes.join_next().await {
        if let Err(error) = joined
            .map_err(|e| anyhow!("apply task failed: {e}"))
            .and_then(|r| r)
        {
            stop.request(StopReason::StageFailed);
            first_error.get_or_insert(error);
        }
    }
    let routed = reader
        .await
        .map_err(|e| anyhow!("journal reader failed: {e}"))
        .and_then(|r| r);
    if let Some(error) = first_error {
        return Err(error);
    }
    routed
}

/// Which item an action writes: its table and its key ([`key_identity`]).
pub(crate) fn identity(table: &str, key: &Item) -> Vec<u8> {
    [table.as_bytes(), &[0], &key_identity(key)].concat()
}

/// The key of the item `action` writes, in a table with `schema`.
pub(crate) fn target_key(action: &Action, schema: &KeySchema) -> Option<Item> {
    match &action.kind {
        ActionKind::Put { item } => schema.key_of(item),
        ActionKind::Update { key, .. } | ActionKind::Delete { key } => Some(key.clone()),
    }
}

/// Reads the journal from `start` and sends each record to its lane.
fn route(
    journal: &Path,
    start: u64,
    shared: &Shared,
    lanes: Vec<mpsc::Sender<Prepared>>,
) -> Result<()> {
    let mut reader = JournalReader::open(journal)?;
    reader.seek(start)?;
    let mut position = start;
    let mut sequence = 0;
    while let Some((record, end)) = reader.next_record()? {
        if shared.context.stop.is_requested() {
            return Ok(());
        }
        let (this_sequence, this_position) = (sequence, position);
        sequence += 1;
        position = end;
        let Record { source, entry, .. } = record;
        let action = match entry {
            Entry::Action(action) => action,
            Entry::Failed(_) => {
                shared
                    .context
                    .watermark
                    .settle(this_sequence, end, Settled::Nothing);
                continue;
            }
        };
        let schema = shared
            .context
            .schemas
            .get(&action.table)
            .with_context(|| format!("no key schema for table `{}`", action.table))?;
        let key = target_key(&action, schema)
            .with_context(|| format!("an action on `{}` lacks the table's key", action.table))?;
        let identity = identity(&action.table, &key);
        let earlier = shared
            .applied_before
            .settled(&identity, this_position, &action);
        if let Some(settled) = earlier {
            match settled {
                Settled::Applied(kind) => shared.context.counts.count_applied(&action.table, kind),
                _ => {
                    shared
                        .context
                        .counts
                        .conflicts
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
            shared.context.watermark.settle(this_sequence, end, settled);
            continue;
        }
        let mut hasher = DefaultHasher::new();
        identity.hash(&mut hasher);
        let lane = (hasher.finish() % lanes.len() as u64) as usize;
        let once = shared.rule.once(this_position, &action, &identity);
        let prepared = Prepared {
            source,
            action,
            key,
            once,
            identity,
            sequence: this_sequence,
            position: this_position,
            end,
        };
        if lanes[lane].blocking_send(prepared).is_err() {
            return Ok(()); // the lane stopped on an error, which apply() reports
        }
    }
    Ok(())
}

/// How a record is written.
enum Route {
    /// In a `BatchWriteItem` (an unconditional put or delete).
    Batch,
    /// As a PartiQL statement in a `BatchExecuteStatement` (a plain update, see
    /// [`crate::aws::partiql`]).
    Statement(Statement),
    /// On its own: `UpdateItem`, a conditional write, or an exactly-once transaction.
    Single,
}

/// How `prepared` is written.
fn route_of(prepared: &Prepared, shared: &Shared) -> Route {
    let action = &prepared.action;
    if prepared.once || action.condition.is_some() {
        return Route::Single;
    }
    match &action.kind {
        ActionKind::Put { .. } | ActionKind::Delete { .. } => Route::Batch,
        ActionKind::Update { upsert: true, .. } => Route::Single,
        ActionKind::Update { expression, .. }
            if shared.statement_tables.contains(&action.table) =>
        {
            let schema = &shared.context.schemas[&action.table];
            update_statement(
                &action.table,
                schema,
                &prepared.key,
                expression,
                &action.names,
                &action.values,
            )
            .map_or(Route::Single, Route::Statement)
        }
        ActionKind::Update { .. } => Route::Single,
    }
}

/// Applies a lane's records: puts and deletes gathered into batches, plain updates into batches
/// of statements, the rest one by one. A record whose item is in a batch not yet sent sends the
/// batches first, so each item's records keep their journal order.
async fn run_lane(mut records: mpsc::Receiver<Prepared>, shared: &Shared) -> Result<()> {
    let mut writes: Vec<Prepared> = Vec::with_capacity(BATCH_LIMIT);
    let mut updates: Vec<(Prepared, Statement)> = Vec::with_capacity(BATCH_LIMIT);
    while let Some(prepared) = records.recv().await {
        if shared.context.stop.is_requested() {
            return Ok(());
        }
        let _turn = shared.capacity.gate().lane().await;
        let pending = writes.iter().chain(updates.iter().map(|(p, _)| p));
        if pending.into_iter().any(|p| p.identity == prepared.identity) {
            flush(&mut writes, shared).await?;
            flush_statements(&mut updates, shared).await?;
        }
        match route_of(&prepared, shared) {
            Route::Batch => {
                writes.push(prepared);
                if writes.len() == BATCH_LIMIT {
                    flush(&mut writes, shared).await?;
                }
            }
            Route::Statement(statement) => {
                updates.push((prepared, statement));
                if updates.len() == BATCH_LIMIT {
                    flush_statements(&mut updates, shared).await?;
                }
            }
            Route::Single => apply_one(prepared, shared).await?,
        }
    }
    if shared.context.stop.is_requested() {
        return Ok(());
    }
    flush(&mut writes, shared).await?;
    flush_statements(&mut updates, shared).await
}

/// Applies `updates` with `BatchExecuteStatement`: each applied, or a conflict (its item is
/// gone), or sent again as `UpdateItem` (which applies it, finds the conflict, or fails the
/// apply with DynamoDB's answer).
async fn flush_statements(updates: &mut Vec<(Prepared, Statement)>, shared: &Shared) -> Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let statements: Vec<Statement> = updates.iter().map(|(_, s)| s.clone()).collect();
    let batched = batch_statements(
        &shared.context.client,
        &shared.policy,
        &shared.capacity,
        &statements,
    )
    .await;
    // A statement the server did not take (or a whole batch it failed) goes again as
    // `UpdateItem`, whose answer is the final word: these updates leave the same item when
    // repeated, so one the server applied after all is not changed twice.
    let outcomes = match batched {
        Ok(outcomes) => outcomes,
        Err(error) if !shared.context.stop.is_requested() => {
            tracing::debug!("a batch of statements failed ({error:#}): sending it as UpdateItem");
            for (prepared, _) in updates.drain(..) {
                apply_one(prepared, shared).await?;
            }
            return Ok(());
        }
        Err(error) => return Err(error),
    };
    crate::crash::point("batch-written");
    let mut again = Vec::new();
    for ((prepared, _), outcome) in updates.drain(..).zip(outcomes) {
        match outcome {
            StatementOutcome::Applied => applied(&prepared, shared, Via::Statements),
            StatementOutcome::ConditionFailed => conflict(&prepared, shared),
            StatementOutcome::Failed(error) => {
                tracing::debug!("a statement failed ({error}): sending it as UpdateItem");
                again.push(prepared);
            }
        }
    }
    for prepared in again {
        apply_one(prepared, shared).await?;
    }
    Ok(())
}

/// The error of a write DynamoDB did not take: what it was, where, and DynamoDB's answer.
fn write_failed(prepared: &Prepared, error: &str) -> anyhow::Error {
    anyhow!(
        "{} on `{}` key {} failed: {error}",
        prepared.action.kind.name(),
        prepared.action.table,
        to_json_item(&prepared.key)
    )
}

/// How an applied action went out, for the counts of the paths updates take.
#[derive(Clone, Copy)]
enum Via {
    /// A `BatchExecuteStatement` (updates only).
    Statements,
    /// A `BatchWriteItem` (puts and deletes only) or a single request.
    Request,
}

/// Counts an applied action (an update also by how it went out) and settles it, whichever
/// path wrote it.
fn applied(prepared: &Prepared, shared: &Shared, via: Via) {
    let kind = &prepared.action.kind;
    let counts = &shared.context.counts;
    counts.count_applied(&prepared.action.table, kind.applied_kind());
    if matches!(kind, ActionKind::Update { .. }) {
        let path = match via {
            Via::Statements => &counts.updates_batched,
            Via::Request => &counts.updates_single,
        };
        path.fetch_add(1, Ordering::Relaxed);
    }
    shared
        .context
        .watermark
        .settle(prepared.sequence, prepared.end, Settled::applied(kind));
}

/// Counts and reports `prepared` as a conflict: its condition (or its item's existence) did
/// not hold, and nothing was written.
fn conflict(prepared: &Prepared, shared: &Shared) {
    let action = &prepared.action;
    shared
        .context
        .counts
        .conflicts
        .fetch_add(1, Ordering::Relaxed);
    shared
        .context
        .watermark
        .settle(prepared.sequence, prepared.end, Settled::Conflict);
    let reason = match (&action.kind, &action.condition) {
        (ActionKind::Update { upsert: false, .. }, None) => {
            "the item no longer exists (deleted during the run); it was not recreated".to_owned()
        }
        (ActionKind::Update { upsert: false, .. }, Some(condition)) => {
            format!("the item no longer exists, or its condition `{condition}` did not hold")
        }
        (_, Some(condition)) => format!("condition `{condition}` did not hold"),
        (_, None) => "condition did not hold".to_owned(),
    };
    let conflict = Conflict {
        table: action.table.clone(),
        kind: action.kind.name(),
        key: to_json_item(&prepared.key),
        source: to_json_item(&prepared.source),
        reason,
    };
    tracing::warn!(table = %conflict.table, key = %conflict.key, "conflict: {}", conflict.reason);
    let mut conflicts = shared.conflicts.lock().expect("conflicts lock");
    if conflicts.len() < CONFLICTS_REPORTED {
        conflicts.push(conflict);
    }
}

/// Writes `batch` with `BatchWriteItem`, retrying what DynamoDB leaves unprocessed.
async fn flush(batch: &mut Vec<Prepared>, shared: &Shared) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut requests: HashMap<String, Vec<WriteRequest>> = HashMap::new();
    for prepared in batch.iter() {
        let action = &prepared.action;
        let request = match &action.kind {
            ActionKind::Put { item } => WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(to_aws_item(item)))
                        .build()?,
                )
                .build(),
            ActionKind::Delete { .. } => WriteRequest::builder()
                .delete_request(
                    DeleteRequest::builder()
                        .set_key(Some(to_aws_item(&prepared.key)))
                        .build()?,
                )
                .build(),
            ActionKind::Update { .. } => unreachable!("updates are never batched"),
        };
        requests
            .entry(action.table.clone())
            .or_default()
            .push(request);
    }
    let written = batch_write(
        &shared.context.client,
        &shared.policy,
        &shared.capacity,
        requests,
    )
    .await;
    match written {
        Ok(()) => {}
        // One write DynamoDB refuses refuses the whole batch, and nothing of it is written:
        // the batch's writes go one by one (each leaves the same item when repeated), so the
        // one refused is named and those before it are applied and counted.
        Err(WriteError::Refused(why)) => {
            tracing::debug!("a batch was refused ({why}): writing it one by one");
            for prepared in batch.drain(..) {
                apply_one(prepared, shared).await?;
            }
            return Ok(());
        }
        Err(error) => bail!("{error}"),
    }
    crate::crash::point("batch-written");
    for prepared in batch.drain(..) {
        applied(&prepared, shared, Via::Request);
    }
    Ok(())
}

/// `action` on the item with `key` as one request: the write, and its condition and
/// placeholders. An update carries `attribute_exists(<partition key>)` unless it is an upsert.
pub(crate) fn single_write(
    action: &Action,
    key: &Item,
    schema: &KeySchema,
) -> (SingleWrite, Expression) {
    let Action {
        kind,
        condition,
        names,
        values,
        ..
    } = action;
    let mut names: HashMap<String, String> = names.clone().into_iter().collect();
    let mut condition_sent = condition.clone();
    let write = match kind {
        ActionKind::Put { item } => SingleWrite::Put(to_aws_item(item)),
        ActionKind::Delete { .. } => SingleWrite::Delete(to_aws_item(key)),
        ActionKind::Update {
            expression, upsert, ..
        } => {
            if !upsert {
                // Never resurrect an item deleted during the run.
                names.insert(KEY_PLACEHOLDER.to_owned(), schema.hash.clone());
                let exists = format!("attribute_exists({KEY_PLACEHOLDER})");
                condition_sent = Some(match condition {
                    Some(condition) => format!("({condition}) AND {exists}"),
                    None => exists,
                });
            }
            SingleWrite::Update(to_aws_item(key), expression.clone())
        }
    };
    // A put or delete without a condition has no expression for the placeholders (a batch
    // does not send them either).
    let has_expression = condition_sent.is_some() || matches!(kind, ActionKind::Update { .. });
    let expression = Expression {
        condition: condition_sent,
        names: (has_expression && !names.is_empty()).then_some(names),
        values: (has_expression && !values.is_empty()).then(|| to_aws_item(values)),
    };
    (write, expression)
}

/// Applies one update or conditional write, exactly once (with its marker) when it goes so.
async fn apply_one(prepared: Prepared, shared: &Shared) -> Result<()> {
    let table = &prepared.action.table;
    let (write, expression) = single_write(
        &prepared.action,
        &prepared.key,
        &shared.context.schemas[table],
    );
    let marker = prepared.once.then(|| {
        (
            shared.markers.table.as_str(),
            shared.markers.item(prepared.position),
        )
    });
    let result = write_once(
        &shared.context.client,
        &shared.policy,
        &shared.capacity,
        table,
        &write,
        &expression,
        marker,
    )
    .await;
    match result {
        Ok(written) => {
            if written == Written::Applied {
                crate::crash::point("single-written");
            }
            applied(&prepared, shared, Via::Request);
            Ok(())
        }
        Err(WriteError::ConditionFailed) => {
            if prepared.once {
                let (client, policy) = (&shared.context.client, &shared.policy);
                shared
                    .markers
                    .put_conflict(client, policy, &shared.capacity, prepared.position)
                    .await?;
            }
            conflict(&prepared, shared);
            Ok(())
        }
        Err(WriteError::Failed(error) | WriteError::Refused(error)) => {
            Err(write_failed(&prepared, &error))
        }
    }
}
