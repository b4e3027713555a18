//! `drift-host exec` (and `test`): runs a migration over items, offline, without touching
//! DynamoDB, and hands on each item's outcome, structured, in input order; the command line
//! renders them.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::thread;

use anyhow::{anyhow, Result};
use serde_json::json;

use crate::engine::{
    CallCost, GuestContext, ItemError, Job, LoadedMigration, Pool, TableStore, CHUNK,
};
use crate::model::action::Action;
use crate::model::item::{to_json_item, Item};
use crate::model::operation::Operation;
use crate::model::schema::{KeySchema, Schemas, TableSchema};
use crate::source::json::read_items;

/// How to run `exec`.
#[derive(Clone)]
pub struct ExecOptions {
    /// `migrate`, or `rollback` for [`Operation::Undo`].
    pub operation: Operation,
    /// Key attribute names, used to name items in errors and output; without them items are
    /// named by their position in the input.
    pub key: Vec<String>,
    /// Worker threads.
    pub workers: usize,
    /// What answers the guest's immediate operations: `None` refuses them (`exec` has no
    /// tables), `drift-host test` gives the case's tables.
    pub tables: Option<Arc<dyn TableStore>>,
}

/// The items `exec` runs.
pub enum ExecInput {
    /// DynamoDB JSON (`aws dynamodb scan` output or export lines), read as the guests go.
    Json(Box<dyn Read + Send>),
    /// Items already read.
    Items(Vec<Item>),
}

/// What `exec` did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExecSummary {
    /// Items read.
    pub items: u64,
    /// Actions taken, by kind.
    pub actions: BTreeMap<&'static str, u64>,
    /// Items that failed, in input order, with why.
    pub failures: Vec<(String, String)>,
}

impl ExecSummary {
    /// Counts one item's outcome (`items` is what [`exec_each`] returns).
    pub fn count(&mut self, outcome: &ExecOutcome) {
        match &outcome.result {
            Ok(actions) => {
                for action in actions {
                    *self.actions.entry(action.kind.name()).or_default() += 1;
                }
            }
            Err(error) => self.failures.push((outcome.label.clone(), error.clone())),
        }
    }
}

/// An item's position in the input and its name for messages.
struct Tag {
    seq: u64,
    /// The key as DynamoDB JSON, or the 1-based position when no key is known.
    source: serde_json::Value,
    label: String,
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl Tag {
    /// Names an item by its key attributes (DynamoDB JSON), or by its position in the input.
    fn new(item: &Item, key: &[String], seq: u64) -> Tag {
        let key_item: Item = key
            .iter()
            .filter_map(|name| Some((name.clone(), item.get(name)?.clone())))
            .collect();
        if key.is_empty() || key_item.len() != key.len() {
            Tag {
                seq,
                source: json!(seq + 1),
                label: format!("item #{}", seq + 1),
            }
        } else {
            let source = to_json_item(&key_item);
            Tag {
                seq,
                label: source.to_string(),
                source,
            }
        }
    }
}

/// One item's outcome, in input order.
#[derive(Debug, Clone)]
pub struct ExecOutcome {
    /// The item's position in the input (from 0).
    pub seq: u64,
    /// Its name for messages: its key as DynamoDB JSON, or `item #N`.
    pub label: String,
    /// Its key as DynamoDB JSON, or its 1-based position.
    pub source: serde_json::Value,
    /// The guest's actions, or why the item failed.
    pub result: Result<Vec<Action>, String>,
    /// What the guest's call for it cost.
    pub cost: CallCost,
}

impl ExecOutcome {
    /// Each action as `exec` prints it: the action's JSON, with the item it came from under
    /// `source`.
    pub fn action_documents(&self) -> Vec<serde_json::Value> {
        let actions = self.result.as_deref().unwrap_or_default();
        actions
            .iter()
            .map(|action| {
                let mut document = action.to_json();
                document["source"] = self.source.clone();
                document
            })
            .collect()
    }
}

/// Runs every item of `input` through `migration` and hands each outcome to `each`, in input
/// order; returns how many items there were.
pub fn exec_each(
    migration: Arc<LoadedMigration>,
    input: ExecInput,
    options: &ExecOptions,
    mut each: impl FnMut(ExecOutcome) -> Result<()>,
) -> Result<u64> {
    let tables = migration.tables(None);
    // With the key's names (partition key first), the scanned table's actions are checked as
    // a run checks them, as far as a key alone tells (its types and indexes are not known).
    let schemas = match options.key.as_slice() {
        [hash, rest @ ..] if rest.len() <= 1 => {
            let key = KeySchema {
                hash: hash.clone(),
                range: rest.first().cloned(),
            };
            let own = TableSchema::keys_only(tables.own(), key);
            Some(Arc::new(Schemas::from([(own.name.clone(), own)])))
        }
        _ => None,
    };
    let context = GuestContext {
        tables,
        store: options.tables.clone(),
        schemas,
    };
    let mut pool: Pool<Tag> = Pool::start(migration, options.operation, options.workers, context);
    let sender = pool.sender();
    pool.close();
    let key = options.key.clone();
    let reader = thread::spawn(move || {
        let mut seq = 0;
        let mut chunk = Vec::with_capacity(CHUNK);
        let send = |chunk: &mut Vec<Job<Tag>>| {
            sender
                .send(std::mem::take(chunk))
                .map_err(|_| anyhow!("the guest pool stopped"))
        };
        let mut push = |item: Item| {
            let tag = Tag::new(&item, &key, seq);
            seq += 1;
            chunk.push(Job { tag, item });
            if chunk.len() == CHUNK {
                send(&mut chunk)?;
            }
            Ok(())
        };
        let read = match input {
            ExecInput::Json(reader) => read_items(reader, &mut push)?,
            ExecInput::Items(items) => {
                let count = items.len() as u64;
                items.into_iter().try_for_each(&mut push)?;
                count
            }
        };
        if !chunk.is_empty() {
            send(&mut chunk)?;
        }
        Ok::<_, anyhow::Error>(read)
    });
    // Outcomes arrive in completion order; hand them on in input order.
    let mut pending: BTreeMap<u64, (Tag, Result<_, ItemError>, CallCost)> = BTreeMap::new();
    let mut next = 0;
    for outcome in pool.outcomes().iter().flatten() {
        let seq = outcome.tag.seq;
        pending.insert(seq, (outcome.tag, outcome.result, outcome.cost));
        while let Some((tag, result, cost)) = pending.remove(&next) {
            next += 1;
            each(ExecOutcome {
                seq: tag.seq,
                label: tag.label,
                source: tag.source,
                result: result.map_err(|e| e.to_string()),
                cost,
            })?;
        }
    }
    let read = reader
        .join()
        .map_err(|_| anyhow!("the input reader panicked"))??;
    debug_assert_eq!(read, next);
    Ok(next)
}
