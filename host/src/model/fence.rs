//! The permission to send requests while this run holds the lease of its metadata table.
//!
//! The lease is renewed every third of its length; each renewal extends the fence to a
//! quarter of the lease before the lease would expire, measured on this process's monotonic
//! clock from when the renewal was sent. The retry policy checks the fence before every
//! attempt of every request, so a run paused past its lease (SIGSTOP, a frozen VM, a long
//! partition) sends nothing once it wakes: not a data write, not a metadata write. The quarter
//! lease kept in hand covers clock differences between the hosts that take the lock over
//! (they judge expiry by their wall clock) up to that much.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::stop::{Stop, StopReason};

/// What the fence lets through.
#[derive(Debug, Clone, Copy)]
enum Until {
    /// Everything: no lease is involved (before it is taken, or outside `run`).
    Open,
    /// Requests before this instant.
    Instant(Instant),
}

/// A cloneable handle on one run's fence.
#[derive(Debug, Clone)]
pub struct Fence {
    until: Arc<Mutex<Until>>,
    /// Requested, with [`StopReason::LeaseLost`], when the fence turns a request away.
    stop: Option<Stop>,
}

impl Default for Fence {
    fn default() -> Fence {
        Fence::open()
    }
}

/// Why a request was not sent.
#[derive(Debug, thiserror::Error)]
#[error("this run's lease of its metadata table ran out before the request could be sent (was the process paused?); it stops and sends nothing more")]
pub struct LeaseExpired;

impl Fence {
    /// A fence that lets everything through until [`Fence::extend_to`] limits it.
    pub fn open() -> Fence {
        Fence {
            until: Arc::new(Mutex::new(Until::Open)),
            stop: None,
        }
    }

    /// A fence that, when it turns a request away, requests `stop`.
    pub fn stopping(stop: Stop) -> Fence {
        Fence {
            stop: Some(stop),
            ..Fence::open()
        }
    }

    /// Lets requests through until `instant` (a renewal extends it).
    pub fn extend_to(&self, instant: Instant) {
        *self.until.lock().expect("fence lock") = Until::Instant(instant);
    }

    /// Turns every request away from now on.
    pub fn close(&self) {
        self.extend_to(Instant::now());
    }

    /// Whether a request may be sent now; requests the stop if not.
    pub fn check(&self) -> Result<(), LeaseExpired> {
        let open = match *self.until.lock().expect("fence lock") {
            Until::Open => true,
            Until::Instant(until) => Instant::now() < until,
        };
        if open {
            return Ok(());
        }
        if let Some(stop) = &self.stop {
            stop.request(StopReason::LeaseLost);
        }
        Err(LeaseExpired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_fence_lets_requests_through_until_its_time_then_stops_the_run() {
        let stop = Stop::new();
        let fence = Fence::stopping(stop.clone());
        assert!(fence.check().is_ok(), "open until a lease limits it");
        fence.extend_to(Instant::now() + Duration::from_secs(60));
        assert!(fence.clone().check().is_ok());
        fence.extend_to(Instant::now() - Duration::from_millis(1));
        assert!(fence.check().is_err());
        assert_eq!(stop.reason(), Some(StopReason::LeaseLost));
    }
}
