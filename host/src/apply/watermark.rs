//! The apply's watermark: the journal position up to which every record is settled, across
//! lanes that finish out of order, with the counts up to there. The run checkpoints it, so a
//! resume starts there with exact counts.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::model::action::{ActionKind, AppliedKind};
use crate::model::counts::Counts;

/// How one journal record ended.
#[derive(Debug, Clone, Copy)]
pub enum Settled {
    /// Applied; the kind is all the counts need.
    Applied(AppliedKind),
    /// Its condition did not hold.
    Conflict,
    /// Nothing to apply (a failure entry).
    Nothing,
    /// What the writes of a group of records came to (a live run settles an item's records
    /// together, and may have written other actions than the journaled ones).
    Tally(Counts),
}

impl Settled {
    /// An applied action of `kind`.
    pub fn applied(kind: &ActionKind) -> Settled {
        Settled::Applied(kind.applied_kind())
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
    counts: Counts,
    /// Records settled ahead of `next`: sequence → (position after it, outcome). Bounded by
    /// the records in the lanes' queues.
    ahead: BTreeMap<u64, (u64, Settled)>,
}

impl Watermark {
    /// Starts at journal `position`, with `counts` for the records before it.
    pub fn new(position: u64, counts: Counts) -> Watermark {
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
    pub fn get(&self) -> (u64, Counts) {
        let state = self.state.lock().expect("watermark lock");
        (state.position, state.counts)
    }

    /// The counts of every record settled, those ahead of the watermark included: what was
    /// really applied when an apply stops early (a resume starts at the watermark and repeats
    /// the records ahead of it, counting them again from there).
    pub fn settled(&self) -> Counts {
        let state = self.state.lock().expect("watermark lock");
        let mut counts = state.counts;
        for (_, how) in state.ahead.values() {
            count(&mut counts, *how);
        }
        counts
    }

    /// Record `sequence` (ending at journal position `end`) is settled, `how`.
    pub fn settle(&self, sequence: u64, end: u64, how: Settled) {
        let mut state = self.state.lock().expect("watermark lock");
        state.ahead.insert(sequence, (end, how));
        while let Some((end, how)) = {
            let next = state.next;
            state.ahead.remove(&next)
        } {
            state.next += 1;
            state.position = end;
            count(&mut state.counts, how);
        }
    }
}

/// Adds one settled record to `counts`.
fn count(counts: &mut Counts, how: Settled) {
    match how {
        Settled::Applied(kind) => counts.count_applied(kind),
        Settled::Conflict => counts.conflicts += 1,
        Settled::Nothing => {}
        Settled::Tally(tally) => counts.add(&tally),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watermark_rises_only_over_settled_records_in_order() {
        let watermark = Watermark::new(8, Counts::default());
        watermark.settle(1, 30, Settled::Applied(AppliedKind::Update));
        assert_eq!(watermark.get().0, 8);
        watermark.settle(0, 20, Settled::Applied(AppliedKind::Put));
        watermark.settle(3, 50, Settled::Conflict);
        let (position, counts) = watermark.get();
        assert_eq!(position, 30);
        assert_eq!((counts.puts, counts.updates, counts.conflicts), (1, 1, 0));
        watermark.settle(2, 40, Settled::Nothing);
        let (position, counts) = watermark.get();
        assert_eq!((position, counts.conflicts), (50, 1));
        // Settled ahead of a gap: not under the watermark, but counted as settled.
        watermark.settle(5, 70, Settled::Applied(AppliedKind::Delete));
        assert_eq!(watermark.get().1.deletes, 0);
        assert_eq!(watermark.settled().deletes, 1);
        assert_eq!(watermark.settled().puts, 1);
    }
}
