//! Which scanned pages are wholly journaled, per segment, in page order: what a scan
//! checkpoint records, and where a resumed scan starts each segment.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::model::source::PageTag;

/// Where one scan segment stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentPosition {
    /// Pages whose every item is journaled.
    pub pages: u64,
    /// Items in those pages.
    pub items: u64,
    /// `ExclusiveStartKey` of the next page (DynamoDB JSON); `None` before the first page.
    pub start_key: Option<Json>,
    /// Whether the segment's last page is among those pages.
    pub done: bool,
}

/// A page handed to the guests whose items are not all journaled yet.
#[derive(Debug)]
struct PendingPage {
    page: u64,
    items: u64,
    remaining: u64,
    next_key: Option<Json>,
}

#[derive(Debug, Default)]
struct SegmentState {
    committed: SegmentPosition,
    pending: VecDeque<PendingPage>,
}

impl SegmentState {
    /// Moves wholly journaled pages, in page order, into the committed state.
    fn commit_finished(&mut self) {
        while self.pending.front().is_some_and(|p| p.remaining == 0) {
            let page = self.pending.pop_front().expect("a front page");
            self.committed.pages = page.page + 1;
            self.committed.items += page.items;
            self.committed.done = page.next_key.is_none();
            self.committed.start_key = page.next_key;
        }
    }
}

/// The scan's pages in flight: which are wholly journaled, per segment, in page order.
///
/// The scanner announces each page before handing its items to the guests; the journal writer
/// reports each item it journaled. A page counts only when it and every earlier page of its
/// segment are journaled, so a checkpoint never skips an item.
#[derive(Debug)]
pub struct PageLedger {
    segments: Mutex<Vec<SegmentState>>,
}

impl PageLedger {
    /// A ledger starting from `from` (one entry per segment).
    pub fn new(from: Vec<SegmentPosition>) -> PageLedger {
        let segments = from
            .into_iter()
            .map(|committed| SegmentState {
                committed,
                pending: VecDeque::new(),
            })
            .collect();
        PageLedger {
            segments: Mutex::new(segments),
        }
    }

    /// Where `segment` starts: its first page number, start key, and whether it is done.
    pub fn start_of(&self, segment: u32) -> SegmentPosition {
        self.segments.lock().expect("page ledger lock")[segment as usize]
            .committed
            .clone()
    }

    /// Announces page `tag` of `items` items, of which `to_journal` go to the guests (the
    /// rest are journaled already), followed by the page at `next_key` (`None`: last page).
    pub fn page_read(&self, tag: PageTag, items: u64, to_journal: u64, next_key: Option<Json>) {
        let mut segments = self.segments.lock().expect("page ledger lock");
        let state = &mut segments[tag.segment as usize];
        state.pending.push_back(PendingPage {
            page: tag.page,
            items,
            remaining: to_journal,
            next_key,
        });
        state.commit_finished();
    }

    /// One item of page `tag` is journaled (its actions, or its failure).
    pub fn item_journaled(&self, tag: PageTag) {
        let mut segments = self.segments.lock().expect("page ledger lock");
        let state = &mut segments[tag.segment as usize];
        if let Some(page) = state.pending.iter_mut().find(|p| p.page == tag.page) {
            page.remaining = page.remaining.saturating_sub(1);
        }
        state.commit_finished();
    }

    /// The committed state of every segment.
    pub fn snapshot(&self) -> Vec<SegmentPosition> {
        self.segments
            .lock()
            .expect("page ledger lock")
            .iter()
            .map(|s| s.committed.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(segment: u32, page: u64) -> PageTag {
        PageTag { segment, page }
    }

    #[test]
    fn a_page_counts_only_when_it_and_every_earlier_page_are_journaled() {
        let ledger = PageLedger::new(vec![SegmentPosition::default(); 2]);
        ledger.page_read(tag(0, 0), 2, 2, Some(Json::from("k1")));
        ledger.page_read(tag(0, 1), 1, 1, None);
        ledger.item_journaled(tag(0, 1));
        assert_eq!(ledger.snapshot()[0], SegmentPosition::default());
        ledger.item_journaled(tag(0, 0));
        ledger.item_journaled(tag(0, 0));
        let segment = &ledger.snapshot()[0];
        assert_eq!((segment.pages, segment.items, segment.done), (2, 3, true));
        assert_eq!(ledger.snapshot()[1], SegmentPosition::default());
    }

    #[test]
    fn pages_with_nothing_to_journal_count_at_once() {
        let ledger = PageLedger::new(vec![SegmentPosition::default()]);
        ledger.page_read(tag(0, 0), 5, 0, Some(Json::from("k")));
        let segment = ledger.start_of(0);
        assert_eq!(
            (segment.pages, segment.items, segment.start_key),
            (1, 5, Some(Json::from("k")))
        );
        assert!(!segment.done);
    }
}
