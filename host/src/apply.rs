//! Applies a journal to DynamoDB, after the scan.
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

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, ReturnConsumedCapacity, WriteRequest};
use aws_sdk_dynamodb::Client;
use serde::Serialize;
use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::action::{Action, ActionKind};
use crate::capacity::Capacity;
use crate::checkpoint::AppliedCounts;
use crate::dynamo::{
    error_code, write_once, Expression, KeySchema, RetryPolicy, SingleWrite, WriteError, Written,
};
use crate::item::{to_aws_item, to_json_item, AttrValue, Item};
use crate::journal::{Entry, JournalReader, Record};

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
    /// Where exactly-once writes leave their markers.
    pub markers: Markers,
}

/// Marker items of exactly-once writes: `<prefix><journal position>` in `table`'s `id`.
#[derive(Debug, Clone)]
pub struct Markers {
    /// The metadata table.
    pub table: String,
    /// `applied#<migration number>#<run id>#`.
    pub prefix: String,
}

impl Markers {
    /// The markers of migration `number`'s run `run_id`.
    pub fn new(table: &str, number: u64, run_id: &str) -> Markers {
        Markers {
            table: table.to_owned(),
            prefix: format!("{}{run_id}#", Markers::migration_prefix(number)),
        }
    }

    /// The prefix shared by every marker of migration `number`, whatever the run.
    pub fn migration_prefix(number: u64) -> String {
        format!("applied#{number:020}#")
    }

    fn item(&self, position: u64) -> HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
        let item: Item = [(
            "id".to_owned(),
            AttrValue::S(format!("{}{position:020}", self.prefix)),
        )]
        .into_iter()
        .collect();
        to_aws_item(&item)
    }
}

/// How one journal record ended.
#[derive(Debug, Clone, Copy)]
enum Settled {
    Put,
    Update,
    Delete,
    Conflict,
    /// Nothing to apply (a failure entry).
    Nothing,
}

impl Settled {
    fn of(kind: &ActionKind) -> Settled {
        match kind {
            ActionKind::Put { .. } => Settled::Put,
            ActionKind::Update { .. } => Settled::Update,
            ActionKind::Delete { .. } => Settled::Delete,
        }
    }
}

/// The journal position up to which every record is settled, and the counts up to there.
#[derive(Debug)]
pub struct Watermark {
    state: Mutex<WatermarkState>,
}

#[derive(Debug)]
struct WatermarkState {
    /// Sequence number of the first record not settled yet.
    next: u64,
    position: u64,
    counts: AppliedCounts,
    /// Records settled ahead of `next`: sequence → (position after it, outcome). Bounded by
    /// the records in the lanes' queues.
    ahead: BTreeMap<u64, (u64, Settled)>,
}

impl Watermark {
    /// Starts at journal `position`, with `counts` for the records before it.
    pub fn new(position: u64, counts: AppliedCounts) -> Watermark {
        Watermark {
            state: Mutex::new(WatermarkState {
                next: 0,
                position,
                counts,
                ahead: BTreeMap::new(),
            }),
        }
    }

    /// The position and the counts up to it.
    pub fn get(&self) -> (u64, AppliedCounts) {
        let state = self.state.lock().expect("watermark lock");
        (state.position, state.counts)
    }

    fn settle(&self, sequence: u64, end: u64, how: Settled) {
        let mut state = self.state.lock().expect("watermark lock");
        state.ahead.insert(sequence, (end, how));
        while let Some((end, how)) = {
            let next = state.next;
            state.ahead.remove(&next)
        } {
            state.next += 1;
            state.position = end;
            let counts = &mut state.counts;
            match how {
                Settled::Put => counts.puts += 1,
                Settled::Update => counts.updates += 1,
                Settled::Delete => counts.deletes += 1,
                Settled::Conflict => counts.conflicts += 1,
                Settled::Nothing => {}
            }
        }
    }
}

/// Applied actions so far, by kind, and conflicts; shared with the progress display.
#[derive(Debug, Default)]
pub struct ApplyProgress {
    /// Puts applied.
    pub put: AtomicU64,
    /// Updates applied.
    pub update: AtomicU64,
    /// Deletes applied.
    pub delete: AtomicU64,
    /// Writes whose condition failed.
    pub conflicts: AtomicU64,
}

impl ApplyProgress {
    /// Actions applied, all kinds.
    pub fn applied(&self) -> u64 {
        self.put.load(Ordering::Relaxed)
            + self.update.load(Ordering::Relaxed)
            + self.delete.load(Ordering::Relaxed)
    }

    fn count(&self, kind: &ActionKind) {
        let counter = match kind {
            ActionKind::Put { .. } => &self.put,
            ActionKind::Update { .. } => &self.update,
            ActionKind::Delete { .. } => &self.delete,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
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

/// What the lanes share.
struct Shared {
    client: Client,
    policy: RetryPolicy,
    capacity: Capacity,
    schemas: HashMap<String, KeySchema>,
    progress: Arc<ApplyProgress>,
    conflicts: Mutex<Vec<Conflict>>,
    stop: Arc<AtomicBool>,
    markers: Markers,
    watermark: Arc<Watermark>,
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
}

/// Applies every record of `journal` from `options.start`; `stop` ends it early (between
/// requests) with an error. Returns the conflicts (the first [`CONFLICTS_REPORTED`]); counts
/// are in `progress`, and `watermark` follows what is settled.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    client: &Client,
    journal: &Path,
    schemas: HashMap<String, KeySchema>,
    options: &ApplyOptions,
    progress: Arc<ApplyProgress>,
    watermark: Arc<Watermark>,
    stop: Arc<AtomicBool>,
) -> Result<Vec<Conflict>> {
    let lanes = options.lanes.max(1);
    let shared = Arc::new(Shared {
        client: client.clone(),
        policy: options.policy.clone(),
        capacity: options.capacity.clone(),
        schemas,
        progress,
        conflicts: Mutex::new(Vec::new()),
        stop: stop.clone(),
        markers: options.markers.clone(),
        watermark,
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
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        if let Err(error) = joined
            .map_err(|e| anyhow!("apply task failed: {e}"))
            .and_then(|r| r)
        {
            stop.store(true, Ordering::Relaxed);
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
    routed?;
    if stop.load(Ordering::Relaxed) {
        bail!("cancelled");
    }
    let conflicts = std::mem::take(&mut *shared.conflicts.lock().expect("conflicts lock"));
    Ok(conflicts)
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
        if shared.stop.load(Ordering::Relaxed) {
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
                    .watermark
                    .settle(this_sequence, end, Settled::Nothing);
                continue;
            }
        };
        let schema = shared
            .schemas
            .get(&action.table)
            .with_context(|| format!("no key schema for table `{}`", action.table))?;
        let key = match &action.kind {
            ActionKind::Put { item } => schema.key_of(item),
            ActionKind::Update { key, .. } | ActionKind::Delete { key } => Some(key.clone()),
        }
        .with_context(|| format!("an action on `{}` lacks the table's key", action.table))?;
        let identity = rmp_serde::to_vec(&(&action.table, &key)).context("encode key")?;
        let mut hasher = DefaultHasher::new();
        identity.hash(&mut hasher);
        let lane = (hasher.finish() % lanes.len() as u64) as usize;
        let prepared = Prepared {
            source,
            action,
            key,
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

async fn run_lane(mut records: mpsc::Receiver<Prepared>, shared: &Shared) -> Result<()> {
    let mut batch: Vec<Prepared> = Vec::with_capacity(BATCH_LIMIT);
    while let Some(prepared) = records.recv().await {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let action = &prepared.action;
        let batchable =
            action.condition.is_none() && !matches!(action.kind, ActionKind::Update { .. });
        if !batchable {
            flush(&mut batch, shared).await?;
            apply_one(prepared, shared).await?;
            continue;
        }
        if batch.iter().any(|p| p.identity == prepared.identity) {
            flush(&mut batch, shared).await?;
        }
        batch.push(prepared);
        if batch.len() == BATCH_LIMIT {
            flush(&mut batch, shared).await?;
        }
    }
    if shared.stop.load(Ordering::Relaxed) {
        return Ok(());
    }
    flush(&mut batch, shared).await
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
    batch_write(&shared.client, &shared.policy, &shared.capacity, requests).await?;
    crate::crash::point("batch-written");
    for prepared in batch.drain(..) {
        shared.progress.count(&prepared.action.kind);
        shared.watermark.settle(
            prepared.sequence,
            prepared.end,
            Settled::of(&prepared.action.kind),
        );
    }
    Ok(())
}

/// Writes `requests` (at most 25 in all) with `BatchWriteItem`, retrying what DynamoDB leaves
/// unprocessed with backoff and jitter until everything is written.
pub async fn batch_write(
    client: &Client,
    policy: &RetryPolicy,
    capacity: &Capacity,
    mut requests: HashMap<String, Vec<WriteRequest>>,
) -> Result<()> {
    // Throttled batches can take a while to drain: allow twice the usual attempts.
    let max_rounds = policy.max_attempts * 2;
    let mut round = 0;
    loop {
        capacity.before_write().await;
        let output = policy
            .run(|| {
                client
                    .batch_write_item()
                    .set_request_items(Some(requests.clone()))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
            })
            .await
            .map_err(|e| anyhow!("BatchWriteItem failed: {}", error_code(&e)))?;
        capacity.wrote_all(output.consumed_capacity());
        requests = output
            .unprocessed_items
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, writes)| !writes.is_empty())
            .collect();
        if requests.is_empty() {
            return Ok(());
        }
        round += 1;
        if round >= max_rounds {
            let left: usize = requests.values().map(Vec::len).sum();
            bail!("BatchWriteItem still left {left} writes unprocessed after {round} rounds");
        }
        tokio::time::sleep(policy.backoff(round)).await;
    }
}

/// Whether applying `action` twice in a row leaves what applying it once does. Puts, deletes,
/// and updates that only SET values (`a = :v`, `a = if_not_exists(a, :v)`), REMOVE, or DELETE
/// from sets do. Conditions may not hold the second time; `ADD`, arithmetic and `list_append`
/// add again; and a SET from another attribute reads what the first time changed.
pub fn repeatable(action: &Action) -> bool {
    if action.condition.is_some() {
        return false;
    }
    match &action.kind {
        ActionKind::Update { expression, .. } => update_is_repeatable(expression),
        ActionKind::Put { .. } | ActionKind::Delete { .. } => true,
    }
}

/// See [`repeatable`]; anything not recognised is not repeatable.
fn update_is_repeatable(expression: &str) -> bool {
    let is_placeholder = |text: &str| {
        text.len() > 1
            && text.starts_with(':')
            && text[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    clauses(expression).into_iter().all(|(keyword, body)| {
        match keyword.as_str() {
            "REMOVE" | "DELETE" => true,
            "SET" => split_top_level(&body, ',').into_iter().all(|action| {
                let Some((path, value)) = action.split_once('=') else {
                    return false;
                };
                let path: String = path.split_whitespace().collect();
                let value: String = value.split_whitespace().collect();
                if is_placeholder(&value) {
                    return true;
                }
                // `a = if_not_exists(a, :v)`: sets `a` once, whatever comes after.
                let lower = value.to_ascii_lowercase();
                lower
                    .strip_prefix("if_not_exists(")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .and_then(|args| args.split_once(','))
                    .is_some_and(|(first, second)| {
                        first == path.to_ascii_lowercase() && is_placeholder(second)
                    })
            }),
            _ => false,
        }
    })
}

/// An update expression's clauses: (keyword in upper case, its body).
fn clauses(expression: &str) -> Vec<(String, String)> {
    let mut clauses: Vec<(String, String)> = Vec::new();
    let mut depth = 0i32;
    let mut word = String::new();
    let mut body = String::new();
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '#' | ':' | '.');
    for c in expression.chars().chain(std::iter::once(' ')) {
        if is_word(c) {
            word.push(c);
            continue;
        }
        let keyword = word.to_ascii_uppercase();
        if depth == 0 && matches!(keyword.as_str(), "SET" | "REMOVE" | "ADD" | "DELETE") {
            if let Some(last) = clauses.last_mut() {
                last.1 = std::mem::take(&mut body);
            }
            clauses.push((keyword, String::new()));
        } else {
            body.push_str(&word);
        }
        word.clear();
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            _ => {}
        }
        body.push(c);
    }
    match clauses.last_mut() {
        Some(last) => last.1 = body,
        // Text before any keyword: not an expression this understands.
        None => clauses.push((String::new(), body)),
    }
    clauses
}

/// `text` split at `separator` outside parentheses and brackets.
fn split_top_level(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            _ => {}
        }
        if c == separator && depth == 0 {
            parts.push(String::new());
        } else {
            parts.last_mut().expect("a part").push(c);
        }
    }
    parts
}

/// Applies one update or conditional write, exactly once when it is not [`repeatable`].
async fn apply_one(prepared: Prepared, shared: &Shared) -> Result<()> {
    let Prepared {
        source,
        action,
        key,
        sequence,
        position,
        end,
        ..
    } = prepared;
    let once = !repeatable(&action);
    let Action {
        table,
        kind,
        condition,
        names,
        values,
    } = &action;
    let mut names: HashMap<String, String> = names.clone().into_iter().collect();
    let mut condition_sent = condition.clone();
    let write = match kind {
        ActionKind::Put { item } => SingleWrite::Put(to_aws_item(item)),
        ActionKind::Delete { .. } => SingleWrite::Delete(to_aws_item(&key)),
        ActionKind::Update {
            expression, upsert, ..
        } => {
            if !upsert {
                // Never resurrect an item deleted during the run.
                let schema = &shared.schemas[table];
                names.insert(KEY_PLACEHOLDER.to_owned(), schema.hash.clone());
                let exists = format!("attribute_exists({KEY_PLACEHOLDER})");
                condition_sent = Some(match condition {
                    Some(condition) => format!("({condition}) AND {exists}"),
                    None => exists,
                });
            }
            SingleWrite::Update(to_aws_item(&key), expression.clone())
        }
    };
    let expression = Expression {
        condition: condition_sent,
        names: (!names.is_empty()).then_some(names),
        values: (!values.is_empty()).then(|| to_aws_item(values)),
    };
    let marker = once.then(|| (shared.markers.table.as_str(), shared.markers.item(position)));
    let result = write_once(
        &shared.client,
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
            shared.progress.count(kind);
            shared.watermark.settle(sequence, end, Settled::of(kind));
            Ok(())
        }
        Err(WriteError::ConditionFailed) => {
            shared.progress.conflicts.fetch_add(1, Ordering::Relaxed);
            shared.watermark.settle(sequence, end, Settled::Conflict);
            let reason = match (kind, condition) {
                (ActionKind::Update { upsert: false, .. }, None) => {
                    "the item no longer exists (deleted during the run); it was not recreated"
                        .to_owned()
                }
                (ActionKind::Update { upsert: false, .. }, Some(condition)) => {
                    format!(
                        "the item no longer exists, or its condition `{condition}` did not hold"
                    )
                }
                (_, Some(condition)) => format!("condition `{condition}` did not hold"),
                (_, None) => "condition did not hold".to_owned(),
            };
            let conflict = Conflict {
                table: table.clone(),
                kind: kind.name(),
                key: to_json_item(&key),
                source: to_json_item(&source),
                reason,
            };
            tracing::warn!(table = %conflict.table, key = %conflict.key, "conflict: {}", conflict.reason);
            let mut conflicts = shared.conflicts.lock().expect("conflicts lock");
            if conflicts.len() < CONFLICTS_REPORTED {
                conflicts.push(conflict);
            }
            Ok(())
        }
        Err(WriteError::Failed(error)) => Err(anyhow!(
            "{} on `{table}` key {} failed: {error}",
            kind.name(),
            to_json_item(&key),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(expression: &str, condition: Option<&str>) -> Action {
        Action {
            table: "t".into(),
            kind: ActionKind::Update {
                key: Item::new(),
                expression: expression.into(),
                upsert: false,
            },
            condition: condition.map(str::to_owned),
            names: Default::default(),
            values: Item::new(),
        }
    }

    #[test]
    fn only_writes_that_leave_the_same_item_twice_are_repeatable() {
        for expression in [
            "SET a = :a, #add = :add REMOVE b",
            "SET #d0 = :d0, #d1 = :d1 REMOVE #d2",
            "SET a = if_not_exists(a, :zero)",
            "set m.x[2] = IF_NOT_EXISTS( m.x[2] , :z ), b=:b",
            "REMOVE a, b SET c = :c DELETE tags :old",
        ] {
            assert!(repeatable(&update(expression, None)), "{expression}");
        }
        for expression in [
            "ADD visits :one",
            "SET n = n + :one",
            "SET n = :a - :b",
            "set h = LIST_APPEND(h, :x)",
            "SET a = :a add c :one",
            "SET full_name = #name REMOVE #name",
            "SET b = if_not_exists(a, :z)",
            "SET a = :a, b = list_append(:x, :y)",
            "garbage",
        ] {
            assert!(!repeatable(&update(expression, None)), "{expression}");
        }
        assert!(!repeatable(&update(
            "SET a = :a",
            Some("attribute_exists(a)")
        )));
    }

    #[test]
    fn the_watermark_rises_only_over_settled_records_in_order() {
        let watermark = Watermark::new(8, AppliedCounts::default());
        watermark.settle(1, 30, Settled::Update);
        assert_eq!(watermark.get().0, 8);
        watermark.settle(0, 20, Settled::Put);
        watermark.settle(3, 50, Settled::Conflict);
        let (position, counts) = watermark.get();
        assert_eq!(position, 30);
        assert_eq!((counts.puts, counts.updates, counts.conflicts), (1, 1, 0));
        watermark.settle(2, 40, Settled::Nothing);
        let (position, counts) = watermark.get();
        assert_eq!((position, counts.conflicts), (50, 1));
    }
}
