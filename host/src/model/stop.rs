//! The request to stop a run, shared by every task of it, with the reason it was made.
//!
//! Stages look at [`Stop::is_requested`] between units of work (a page, an item, a request);
//! the run asks [`Stop::reason`] at the end to tell a cancel from a failure, instead of reading
//! error texts.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// Why a stop was requested; the first request wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Ctrl-C or SIGTERM: the user cancelled.
    Cancelled,
    /// `--fail-fast`: an item failed in the guest.
    ItemFailed,
    /// A stage failed; the others wind down.
    StageFailed,
    /// The lease of the lock was lost: nothing more may be written.
    LeaseLost,
}

impl StopReason {
    fn code(self) -> u8 {
        match self {
            StopReason::Cancelled => 1,
            StopReason::ItemFailed => 2,
            StopReason::StageFailed => 3,
            StopReason::LeaseLost => 4,
        }
    }

    fn from_code(code: u8) -> Option<StopReason> {
        [
            StopReason::Cancelled,
            StopReason::ItemFailed,
            StopReason::StageFailed,
            StopReason::LeaseLost,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// A cheap, cloneable handle on one run's stop request.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicU8>);

impl Stop {
    /// No stop requested yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Requests the stop, for `reason` unless another reason came first.
    pub fn request(&self, reason: StopReason) {
        let _ = self
            .0
            .compare_exchange(0, reason.code(), Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Whether a stop was requested.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::Relaxed) != 0
    }

    /// The first reason given, if a stop was requested.
    pub fn reason(&self) -> Option<StopReason> {
        StopReason::from_code(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_wins() {
        let stop = Stop::new();
        assert!(!stop.is_requested());
        assert_eq!(stop.reason(), None);
        let clone = stop.clone();
        clone.request(StopReason::Cancelled);
        stop.request(StopReason::StageFailed);
        assert!(stop.is_requested());
        assert_eq!(stop.reason(), Some(StopReason::Cancelled));
    }
}
