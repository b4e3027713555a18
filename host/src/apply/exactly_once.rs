//! Which records go exactly once, and what an earlier attempt of an apply already wrote: the
//! rule that makes a resumed apply leave exactly the table an uninterrupted one leaves.
//!
//! **Order.** The records of one item (table and key) are applied one after the other in
//! journal order: one lane per item, and the next record of the item is sent only once the
//! last one is settled. So what an attempt that died did to an item is a prefix of the item's
//! records from the watermark on.
//!
//! **Markers.** A record that goes exactly once is written in a transaction with its marker
//! (`applied#…#<position>`); when its condition fails, a conflict marker is put before the
//! item's next record is sent. So a marker exists exactly when that record was settled, and
//! says how (applied, or a conflict). The records that go exactly once are those that would
//! not leave the same item when repeated ([`Action::is_repeatable`]: conditions, `ADD`,
//! arithmetic, `list_append`, `SET` from another attribute, list indexes), and an update that
//! only applies to an existing item when a later record of the same item is a repeatable
//! upsert (repeating the first after the second created the item would change it twice).
//!
//! **Resume.** Per item, every record up to the last marked one was settled before the crash:
//! those are skipped (counted as the marker says; a skipped repeatable record as applied). The
//! records after it are applied in order: an exactly-once one through its marker (absent, so
//! not yet applied), a repeatable one again. That is exact, even for the repeatable records
//! after the last marker that had been applied: such a record sets attributes to given values,
//! keeps one that exists, removes attributes or set elements, or replaces or deletes the whole
//! item, and an update of an existing item is repeated only when no later repeatable record
//! can create the item; running such a sequence again from where it left off leaves what
//! running it once does. The one thing a resume does not know is whether a skipped repeatable
//! update found its item: it counts as applied, never as a conflict.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use anyhow::{anyhow, Context, Result};

use super::watermark::Settled;
use super::{identity, target_key, ApplyContext, ApplyOptions};
use crate::journal::{Entry, JournalReader};
use crate::model::action::{Action, ActionKind};
use crate::model::schema::KeySchema;

/// How a marker says its record was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// Applied.
    Applied,
    /// Its condition did not hold.
    Conflict,
}

/// Decides which records go exactly once, from what the journal holds from the apply's start.
#[derive(Debug, Default)]
pub struct OnceRule {
    /// Per item (a hash of its identity: a collision only makes more records exactly-once),
    /// the position of its last repeatable upsert update.
    last_upsert: HashMap<u64, u64>,
}

impl OnceRule {
    /// Reads the journal from `start` to find the items that repeatable upserts write.
    pub fn read(
        journal: &Path,
        start: u64,
        schemas: &HashMap<String, KeySchema>,
    ) -> Result<OnceRule> {
        let mut rule = OnceRule::default();
        each_action(journal, start, schemas, |position, action, identity| {
            if matches!(action.kind, ActionKind::Update { upsert: true, .. })
                && action.is_repeatable()
            {
                rule.last_upsert.insert(hash(identity), position);
            }
        })?;
        Ok(rule)
    }

    /// Whether the record at `position`, `action` on the item `identity`, goes exactly once.
    pub fn once(&self, position: u64, action: &Action, identity: &[u8]) -> bool {
        if !action.is_repeatable() {
            return true;
        }
        matches!(action.kind, ActionKind::Update { upsert: false, .. })
            && self
                .last_upsert
                .get(&hash(identity))
                .is_some_and(|last| *last > position)
    }
}

fn hash(identity: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    identity.hash(&mut hasher);
    hasher.finish()
}

/// Calls `each` with every action of the journal from `start`: its position, the action, and
/// the identity of the item it writes.
fn each_action(
    journal: &Path,
    start: u64,
    schemas: &HashMap<String, KeySchema>,
    mut each: impl FnMut(u64, &Action, &[u8]),
) -> Result<()> {
    let mut reader = JournalReader::open(journal)?;
    reader.seek(start)?;
    let mut position = start;
    while let Some((record, end)) = reader.next_record()? {
        if let Entry::Action(action) = &record.entry {
            let key = schemas
                .get(&action.table)
                .and_then(|schema| target_key(action, schema))
                .with_context(|| {
                    format!("an action on `{}` lacks the table's key", action.table)
                })?;
            each(position, action, &identity(&action.table, &key));
        }
        position = end;
    }
    Ok(())
}

/// What an earlier attempt of this apply settled, from its start on.
#[derive(Debug, Default)]
pub struct AppliedBefore {
    /// Per item, the position of its last marked record.
    last: HashMap<Vec<u8>, u64>,
    /// The markers found, by position.
    marked: HashMap<u64, Marked>,
}

impl AppliedBefore {
    /// How the earlier attempt settled the record at `position` (`action` on the item
    /// `identity`), if it did; `None` when it is to be applied now.
    pub fn settled(&self, identity: &[u8], position: u64, action: &Action) -> Option<Settled> {
        let last = *self.last.get(identity)?;
        if position > last {
            return None;
        }
        Some(match self.marked.get(&position) {
            Some(Marked::Conflict) => Settled::Conflict,
            Some(Marked::Applied) => Settled::applied(&action.kind),
            // A record before the item's last marked one was settled: only an exactly-once
            // record could have found its condition false, and it would have a marker.
            None => Settled::applied(&action.kind),
        })
    }
}

/// Finds what an earlier attempt of this apply settled: the exactly-once records from
/// `options.start` on whose marker exists.
pub async fn already_applied(
    journal: &Path,
    options: &ApplyOptions,
    context: &ApplyContext,
    rule: &std::sync::Arc<OnceRule>,
) -> Result<AppliedBefore> {
    let exactly_once = {
        let (journal, start) = (journal.to_owned(), options.start);
        let (schemas, rule) = (context.schemas.clone(), rule.clone());
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            each_action(&journal, start, &schemas, |position, action, identity| {
                if rule.once(position, action, identity) {
                    found.push((position, identity.to_vec()));
                }
            })
            .map(|()| found)
        })
        .await
        .map_err(|e| anyhow!("journal reader failed: {e}"))??
    };
    if exactly_once.is_empty() {
        return Ok(AppliedBefore::default());
    }
    let marked = options
        .markers
        .existing(&context.client, &options.policy, options.start)
        .await?;
    let mut last = HashMap::new();
    for (position, identity) in exactly_once {
        if marked.contains_key(&position) {
            // Positions come in journal order: the last one stays.
            last.insert(identity, position);
        }
    }
    Ok(AppliedBefore { last, marked })
}
