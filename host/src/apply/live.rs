//! The apply of a live run's journal: each item's records together, guarded.
//!
//! The scan journals an item's actions one after another, each with the item's guard. Here
//! they are gathered back per item and written by [`Live::settle`] (one request, or one
//! transaction, conditioned on the item being as it was scanned; migrated again if it is
//! not). Lanes are chosen by the scanned item, so an item's writes keep their order. No
//! exactly-once markers: the guard makes a repeated write of the item fail and find the item
//! migrated already, which is why a live migration must be idempotent.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Result};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::guarded::{Live, Start};
use super::{identity, join_lanes, Applied, ApplyContext, ApplyOptions, Settled};
use crate::journal::{Entry, JournalReader, Record};
use crate::model::action::Action;
use crate::model::counts::Counts;
use crate::model::guard::Guard;
use crate::model::item::{to_json_item, Item};

/// Items queued per lane.
const LANE_QUEUE: usize = 16;

/// One scanned item's journal records.
struct Group {
    source: Item,
    identity: Vec<u8>,
    guard: Guard,
    actions: Vec<Action>,
    /// Each record's sequence number in this apply and the journal position after it.
    records: Vec<(u64, u64)>,
}

/// Applies every record of `journal` from `options.start`, an item at a time, guarded.
pub async fn apply_live(
    journal: &Path,
    options: &ApplyOptions,
    context: ApplyContext,
    live: Arc<Live>,
) -> Result<Applied> {
    let lanes = options.lanes.max(1);
    let stop = context.stop.clone();
    let mut senders = Vec::with_capacity(lanes);
    let mut tasks = JoinSet::new();
    for _ in 0..lanes {
        let (tx, mut rx) = mpsc::channel::<Group>(LANE_QUEUE);
        senders.push(tx);
        let (live, context) = (live.clone(), context.clone());
        tasks.spawn(async move {
            while let Some(group) = rx.recv().await {
                if context.stop.is_requested() {
                    return Ok(());
                }
                let _turn = live.capacity.gate().lane().await;
                let mut tally = Counts::default();
                let start = Start::Computed {
                    guard: group.guard,
                    actions: group.actions,
                };
                live.settle(&group.source, start, &mut tally).await?;
                let last = group.records.len() - 1;
                for (n, (sequence, end)) in group.records.into_iter().enumerate() {
                    let how = if n == last {
                        Settled::Tally(tally)
                    } else {
                        Settled::Nothing
                    };
                    context.watermark.settle(sequence, end, how);
                }
            }
            Ok::<(), anyhow::Error>(())
        });
    }
    let reader = {
        let (journal, start, context) = (journal.to_owned(), options.start, context.clone());
        tokio::task::spawn_blocking(move || route(&journal, start, &context, senders))
    };
    join_lanes(tasks, reader, &stop).await?;
    Ok(Applied {
        conflicts: Vec::new(),
        complete: !stop.is_requested(),
    })
}

/// Reads the journal from `start`, gathers each item's consecutive records and sends them to
/// the item's lane.
fn route(
    journal: &Path,
    start: u64,
    context: &ApplyContext,
    lanes: Vec<mpsc::Sender<Group>>,
) -> Result<()> {
    let mut reader = JournalReader::open(journal)?;
    reader.seek(start)?;
    let mut sequence = 0;
    let mut pending: Option<Group> = None;
    let send = |group: Group| {
        let mut hasher = DefaultHasher::new();
        group.identity.hash(&mut hasher);
        let lane = (hasher.finish() % lanes.len() as u64) as usize;
        // A closed lane stopped on an error, which the apply reports.
        lanes[lane].blocking_send(group).is_ok()
    };
    while let Some((record, end)) = reader.next_record()? {
        if context.stop.is_requested() {
            return Ok(());
        }
        let this = sequence;
        sequence += 1;
        let Record {
            source,
            entry,
            guard,
            ..
        } = record;
        let action = match entry {
            Entry::Action(action) => action,
            Entry::Failed(_) => {
                context.watermark.settle(this, end, Settled::Nothing);
                continue;
            }
        };
        let Some(guard) = guard else {
            bail!(
                "the journal's action for {} has no guard: it was not written by a live run",
                to_json_item(&source)
            );
        };
        let source_identity = identity("", &source);
        match &mut pending {
            Some(group) if group.identity == source_identity => {
                group.actions.push(action);
                group.records.push((this, end));
            }
            _ => {
                if let Some(group) = pending.take() {
                    if !send(group) {
                        return Ok(());
                    }
                }
                pending = Some(Group {
                    source,
                    identity: source_identity,
                    guard,
                    actions: vec![action],
                    records: vec![(this, end)],
                });
            }
        }
    }
    if let Some(group) = pending {
        send(group);
    }
    Ok(())
}
