//! Live runs' writes: an item's actions applied only while the item is still the version they
//! were computed from, and computed again when it is not.
//!
//! Every write carries the item's [`Guard`]: an action on the item itself has the guard in
//! its condition; actions on other items go in one `TransactWriteItems` with the item's own
//! write (or a `ConditionCheck` of its guard), so they land together or not at all. A guard
//! that fails is not an error: the item is read again (strongly consistent), migrated again,
//! and its new actions written under its new guard, a bounded number of times; an item still
//! changing after that is left to the catch-up, which will see its latest write in the
//! stream. A guest's own condition that fails is a conflict, as in any run: the item's other
//! actions are then written one by one (each still guarded), so that they all apply.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Result};
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use aws_sdk_dynamodb::Client;

use super::{identity, single_write, target_key};
use crate::aws::capacity::Capacity;
use crate::aws::convert::{from_aws_item, to_aws_item};
use crate::aws::retry::{error_code, RetryPolicy};
use crate::aws::write::{
    condition_check, transact, transact_item, write_one, Expression, SingleWrite, TransactError,
    WriteError,
};
use crate::engine::Migrator;
use crate::model::action::Action;
use crate::model::counts::{Counts, LiveCounts};
use crate::model::guard::{Guard, GuardMode};
use crate::model::item::{to_json_item, Item};
use crate::model::schema::KeySchema;
use crate::preview::{canonical_item, MemoryTables};

/// Times an item is migrated again because it changed under the run, before it is left to
/// the catch-up.
pub const MAX_REWRITES: u32 = 5;
/// Most items in one `TransactWriteItems`.
const TRANSACTION_LIMIT: usize = 100;
/// Own writes remembered (their fingerprints), enough to meet the first ones again in the
/// stream; memory stays bounded whatever the table's size.
const WRITES_REMEMBERED: usize = 200_000;

/// What guarded writes work with.
pub struct Live {
    /// The DynamoDB client.
    pub client: Client,
    /// Retries.
    pub policy: RetryPolicy,
    /// Capacity budgets, and the count of what was consumed.
    pub capacity: Capacity,
    /// Key schema of every table actions may target.
    pub schemas: HashMap<String, KeySchema>,
    /// The migrated table (the source of every item).
    pub table: String,
    /// How writes are guarded.
    pub mode: GuardMode,
    /// Migrates an item that changed.
    pub migrator: Arc<Migrator>,
    /// Live counts, bumped as actions are applied.
    pub counts: Arc<LiveCounts>,
    /// Fingerprints of items as this run's own writes left them (see [`Live::settle`]).
    pub written: Mutex<HashSet<u64>>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("table", &self.table)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Where an item's migration starts.
pub enum Start {
    /// Actions already computed from the version `guard` describes (the journal's).
    Computed {
        /// The version they were computed from.
        guard: Guard,
        /// The actions.
        actions: Vec<Action>,
    },
    /// This version of the item (a stream record's image, or the item as just read).
    Item(Item),
}

/// How an item's migration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Its actions for its latest version are applied (or it needed none).
    Written,
    /// The item is gone (deleted during the run): nothing is written for it.
    Gone,
    /// It kept changing: its latest write, in the stream, is the catch-up's.
    Deferred,
}

/// What one attempt to write an item's actions found.
enum Attempt {
    /// Applied (guest conditions that failed counted as conflicts).
    Applied,
    /// The item is no longer the guarded version: here it is as it is now.
    Changed(Option<Item>),
}

impl Live {
    /// Migrates the item with `key` from `start` until its actions are written for its
    /// latest version, counting what was applied into `tally`.
    ///
    /// The stream shows this run's own writes too. An item met as one of them (its
    /// fingerprint remembered) whose migration would change it again means a migration that
    /// is not idempotent: a live run would write it forever, so it fails, with why. One whose
    /// actions would leave it as it is is not written again.
    pub async fn settle(&self, key: &Item, start: Start, tally: &mut Counts) -> Result<Settled> {
        let mut start = start;
        for rewrite in 0..=MAX_REWRITES {
            if rewrite > 0 {
                self.counts.rewritten.fetch_add(1, Ordering::Relaxed);
            }
            let (guard, actions, source) = match start {
                Start::Computed { guard, actions } => {
                    let source = match &guard {
                        Guard::Image(item) => Some(item.clone()),
                        Guard::Version { .. } => None,
                    };
                    (guard, actions, source)
                }
                Start::Item(item) => {
                    let actions = self.migrate(key, &item).await?;
                    if !actions.is_empty() && self.is_own_write(key, &item) {
                        if self.after(key, &item, &actions).as_ref() == Some(&item) {
                            return Ok(Settled::Written);
                        }
                        bail!(
                            "the migration is not idempotent: item {} as this run wrote it is \
                             migrated into another change, so a live run would write it again \
                             and again (check the migration with `drift-host test --idempotent`)",
                            to_json_item(key)
                        );
                    }
                    (Guard::of(&self.mode, &item), actions, Some(item))
                }
            };
            if actions.is_empty() {
                return Ok(Settled::Written);
            }
            match self.write(key, &guard, &actions, tally).await? {
                Attempt::Applied => {
                    if let Some(source) = source {
                        self.remember(key, &source, &actions);
                    }
                    return Ok(Settled::Written);
                }
                Attempt::Changed(None) => return Ok(Settled::Gone),
                Attempt::Changed(Some(current)) => start = Start::Item(current),
            }
        }
        tracing::info!(
            key = %to_json_item(key),
            "the item kept changing while it was migrated: the catch-up takes its latest write"
        );
        Ok(Settled::Deferred)
    }

    /// The item with `key`, `item` before, as `actions` leave it (those on it: the others do
    /// not change it); `None` if they delete it or cannot be worked out here.
    fn after(&self, key: &Item, item: &Item, actions: &[Action]) -> Option<Item> {
        let schema = self.schemas.get(&self.table)?;
        let mut memory = MemoryTables::new();
        let names = std::iter::once(schema.hash.clone())
            .chain(schema.range.clone())
            .collect();
        memory.set_key(&self.table, names);
        memory.insert(&self.table, item.clone()).ok()?;
        for action in actions.iter().filter(|a| a.table == self.table) {
            memory.apply(action).ok()?;
        }
        memory.get(&self.table, key).cloned()
    }

    /// Remembers how `actions` left the item (computed from `item`), if they wrote it.
    fn remember(&self, key: &Item, item: &Item, actions: &[Action]) {
        let own = identity(&self.table, key);
        let writes_item = actions.iter().any(|action| {
            self.schemas
                .get(&action.table)
                .and_then(|schema| target_key(action, schema))
                .is_some_and(|target| identity(&action.table, &target) == own)
        });
        if !writes_item {
            return;
        }
        if let Some(after) = self.after(key, item, actions) {
            let mut written = self.written.lock().expect("own writes lock");
            if written.len() < WRITES_REMEMBERED {
                written.insert(fingerprint(key, &after));
            }
        }
    }

    fn is_own_write(&self, key: &Item, item: &Item) -> bool {
        let written = self.written.lock().expect("own writes lock");
        written.contains(&fingerprint(key, item))
    }

    /// The item with `key` as it is now (strongly consistent), `None` if there is none.
    pub async fn read(&self, key: &Item) -> Result<Option<Item>> {
        let aws_key = to_aws_item(key);
        let output = self
            .capacity
            .metered_read(&self.policy, || {
                self.client
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(aws_key.clone()))
                    .consistent_read(true)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
            })
            .await
            .map_err(|e| {
                anyhow!(
                    "cannot read {} from `{}`: {}",
                    to_json_item(key),
                    self.table,
                    error_code(&e)
                )
            })?;
        output.item.as_ref().map(from_aws_item).transpose()
    }

    async fn migrate(&self, key: &Item, item: &Item) -> Result<Vec<Action>> {
        let name = to_json_item(key).to_string();
        self.migrator
            .migrate(name.clone(), item.clone())
            .await
            .map_err(|error| {
                anyhow!(
                    "item {name} was written while the run migrated the table, and the \
                     migration fails on its new version: {error}"
                )
            })
    }

    /// Writes `actions` of the item with `key` under `guard`: all in one request if they can
    /// go so, else (a guest condition failed) one by one.
    async fn write(
        &self,
        key: &Item,
        guard: &Guard,
        actions: &[Action],
        tally: &mut Counts,
    ) -> Result<Attempt> {
        let writes = self.prepare(key, guard, actions)?;
        let all_at_once = match writes.as_slice() {
            [only] if only.own => self.send_single(only).await?,
            _ => self.send_together(key, guard, &writes).await?,
        };
        if all_at_once {
            crate::crash::point("live-written");
            writes.iter().for_each(|w| self.applied(w, tally));
            return Ok(Attempt::Applied);
        }
        let current = self.read(key).await?;
        if !guard.holds_for(current.as_ref()) {
            return Ok(Attempt::Changed(current));
        }
        // The guard held: a guest's condition failed. Each write alone, the item's own last
        // (it changes the item, which the others' checks compare with).
        let (own, others): (Vec<&Write>, Vec<&Write>) = writes.iter().partition(|w| w.own);
        for write in others.into_iter().chain(own) {
            let sent = if write.own {
                self.send_single(write).await?
            } else {
                self.send_together(key, guard, std::slice::from_ref(write))
                    .await?
            };
            if sent {
                self.applied(write, tally);
                continue;
            }
            let current = self.read(key).await?;
            if !guard.holds_for(current.as_ref()) {
                return Ok(Attempt::Changed(current));
            }
            tally.conflicts += 1;
            self.counts.conflicts.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                table = %write.table,
                source = %to_json_item(key),
                "conflict: a condition of the migration did not hold"
            );
        }
        Ok(Attempt::Applied)
    }

    fn applied(&self, write: &Write, tally: &mut Counts) {
        tally.count_applied(write.action.kind.applied_kind());
        self.counts
            .count_applied(&write.table, write.action.kind.applied_kind());
    }

    /// Each action as a request, the item's own write with the guard in its condition.
    fn prepare<'a>(
        &self,
        key: &Item,
        guard: &Guard,
        actions: &'a [Action],
    ) -> Result<Vec<Write<'a>>> {
        let condition = guard
            .condition()
            .map_err(|why| anyhow!("item {}: {why}", to_json_item(key)))?;
        let own_identity = identity(&self.table, key);
        let mut seen = HashSet::new();
        let mut writes = Vec::with_capacity(actions.len());
        for action in actions {
            let schema = self
                .schemas
                .get(&action.table)
                .ok_or_else(|| anyhow!("no key schema for table `{}`", action.table))?;
            let target = target_key(action, schema)
                .ok_or_else(|| anyhow!("an action on `{}` lacks the table's key", action.table))?;
            let target_identity = identity(&action.table, &target);
            if !seen.insert(target_identity.clone()) {
                bail!(
                    "the migration of item {} writes {} in `{}` twice: a live run writes an \
                     item's actions in one transaction, where each item may appear once",
                    to_json_item(key),
                    to_json_item(&target),
                    action.table
                );
            }
            let (write, mut expression) = single_write(action, &target, schema);
            let own = target_identity == own_identity;
            if own {
                and_condition(&mut expression, &condition);
            }
            writes.push(Write {
                action,
                table: action.table.clone(),
                write,
                expression,
                own,
            });
        }
        if writes.len() + 1 > TRANSACTION_LIMIT {
            bail!(
                "the migration of item {} gives {} actions: a live run writes an item's actions \
                 in one transaction, of at most {} writes",
                to_json_item(key),
                writes.len(),
                TRANSACTION_LIMIT - 1
            );
        }
        Ok(writes)
    }

    /// Sends one write on the item itself; false if a condition failed.
    async fn send_single(&self, write: &Write<'_>) -> Result<bool> {
        let sent = write_one(
            &self.client,
            &self.policy,
            &self.capacity,
            &write.table,
            &write.write,
            &write.expression,
        )
        .await;
        match sent {
            Ok(()) => Ok(true),
            Err(WriteError::ConditionFailed) => Ok(false),
            Err(WriteError::Refused(error) | WriteError::Failed(error)) => Err(anyhow!(
                "{} on `{}` failed: {error}",
                write.action.kind.name(),
                write.table
            )),
        }
    }

    /// Sends `writes` in one transaction, with a check of the guard unless the item's own
    /// write (which carries it) is among them; false if a condition failed.
    async fn send_together(&self, key: &Item, guard: &Guard, writes: &[Write<'_>]) -> Result<bool> {
        let mut items = Vec::with_capacity(writes.len() + 1);
        for write in writes {
            items.push(transact_item(
                &write.table,
                &write.write,
                &write.expression,
            )?);
        }
        if !writes.iter().any(|w| w.own) {
            let condition = guard
                .condition()
                .map_err(|why| anyhow!("item {}: {why}", to_json_item(key)))?;
            let mut expression = Expression::default();
            and_condition(&mut expression, &condition);
            items.push(condition_check(&self.table, to_aws_item(key), &expression)?);
        }
        match transact(&self.client, &self.policy, &self.capacity, items).await {
            Ok(()) => Ok(true),
            Err(TransactError::Conditions(_)) => Ok(false),
            Err(TransactError::Write(error)) => Err(anyhow!(
                "the writes of item {} failed: {error}",
                to_json_item(key)
            )),
        }
    }
}

/// A fingerprint of the item with `key` as `item`, whatever the spelling of its numbers and
/// the order of its sets.
fn fingerprint(key: &Item, item: &Item) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    crate::model::source::key_identity(key).hash(&mut hasher);
    let canonical = rmp_serde::to_vec(&canonical_item(item)).unwrap_or_default();
    canonical.hash(&mut hasher);
    hasher.finish()
}

/// One action as a request.
struct Write<'a> {
    action: &'a Action,
    table: String,
    write: SingleWrite,
    expression: Expression,
    /// Whether it writes the migrated item itself.
    own: bool,
}

/// Adds `guard` to `expression`'s condition (both must hold), with its placeholders.
fn and_condition(expression: &mut Expression, guard: &crate::model::guard::GuardCondition) {
    expression.condition = Some(match expression.condition.take() {
        Some(condition) => format!("({condition}) AND ({})", guard.expression),
        None => guard.expression.clone(),
    });
    let names = expression.names.get_or_insert_with(HashMap::new);
    names.extend(guard.names.clone());
    if !guard.values.is_empty() {
        let values = expression.values.get_or_insert_with(HashMap::new);
        values.extend(to_aws_item(&guard.values));
    }
}
