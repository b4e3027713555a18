//! What a migration's guest calls cost over many items (`exec --profile`, `test --profile`):
//! time and memory per item as p50 / p99 / max, and the slowest items by name, against the
//! deadline and the memory cap a run would hold them to. A migration that would blow its
//! deadline or cap on some items is seen before the run.

use std::time::Duration;

use serde::Serialize;

use super::pool::CallCost;
use super::Limits;

/// The slowest items a profile names.
pub const SLOWEST: usize = 5;

/// The costs of the calls seen so far.
#[derive(Debug, Default)]
pub struct Profile {
    calls: Vec<(String, CallCost)>,
}

/// p50, p99 and max of one measure (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread<T> {
    /// The median.
    pub p50: T,
    /// The 99th percentile.
    pub p99: T,
    /// The largest.
    pub max: T,
}

/// One of the slowest items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowItem {
    /// The item's name: its key as DynamoDB JSON, or `item #N`.
    pub item: String,
    /// Its guest time, in microseconds.
    pub guest_us: u64,
}

/// A profile's figures, as `exec` and `test` report them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileSummary {
    /// Items profiled.
    pub items: usize,
    /// Guest time per item (microseconds), as the deadline counts it.
    pub guest_us: Spread<u64>,
    /// The instance's linear memory after each item (bytes).
    pub memory_bytes: Spread<u64>,
    /// The deadline per call (milliseconds).
    pub deadline_ms: u64,
    /// The memory cap per instance (bytes).
    pub memory_cap_bytes: u64,
    /// The slowest items, slowest first.
    pub slowest: Vec<SlowItem>,
}

impl Profile {
    /// Adds the cost of the call for the item named `item`.
    pub fn add(&mut self, item: impl Into<String>, cost: CallCost) {
        self.calls.push((item.into(), cost));
    }

    /// The figures, against `limits`; `None` before any call.
    pub fn summary(&self, limits: &Limits) -> Option<ProfileSummary> {
        if self.calls.is_empty() {
            return None;
        }
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let times: Vec<u64> = self
            .calls
            .iter()
            .map(|(_, c)| micros(c.guest_time))
            .collect();
        let memory: Vec<u64> = self
            .calls
            .iter()
            .map(|(_, c)| c.memory_bytes as u64)
            .collect();
        let mut by_time: Vec<&(String, CallCost)> = self.calls.iter().collect();
        // Slowest first; among equals, the first in the input.
        by_time.sort_by_key(|(_, cost)| std::cmp::Reverse(cost.guest_time));
        let slowest = by_time
            .into_iter()
            .take(SLOWEST)
            .map(|(item, cost)| SlowItem {
                item: item.clone(),
                guest_us: micros(cost.guest_time),
            })
            .collect();
        Some(ProfileSummary {
            items: self.calls.len(),
            guest_us: spread(times),
            memory_bytes: spread(memory),
            deadline_ms: micros(limits.deadline) / 1000,
            memory_cap_bytes: limits.memory_bytes as u64,
            slowest,
        })
    }
}

/// p50 / p99 / max of `values` (not empty), by nearest rank.
fn spread(mut values: Vec<u64>) -> Spread<u64> {
    values.sort_unstable();
    let rank = |p: usize| values[(values.len() * p).div_ceil(100).max(1) - 1];
    Spread {
        p50: rank(50),
        p99: rank(99),
        max: values[values.len() - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(micros: u64, memory: usize) -> CallCost {
        CallCost {
            guest_time: Duration::from_micros(micros),
            memory_bytes: memory,
        }
    }

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(
            spread(values),
            Spread {
                p50: 50,
                p99: 99,
                max: 100
            }
        );
        assert_eq!(
            spread(vec![7]),
            Spread {
                p50: 7,
                p99: 7,
                max: 7
            }
        );
        // Unsorted, with one outlier: the median does not see it, the max does.
        let spread3 = spread(vec![30, 10, 20, 5000, 40]);
        assert_eq!((spread3.p50, spread3.p99, spread3.max), (30, 5000, 5000));
    }

    #[test]
    fn the_slowest_items_are_named_slowest_first() {
        let mut profile = Profile::default();
        for n in 0..20u64 {
            profile.add(format!("item #{}", n + 1), cost(10 + n * n, 1 << 20));
        }
        profile.add("{\"id\":{\"S\":\"slow\"}}", cost(90_000, 2 << 20));
        let summary = profile.summary(&limits()).unwrap();
        assert_eq!(summary.items, 21);
        assert_eq!(summary.slowest.len(), SLOWEST);
        assert_eq!(summary.slowest[0].item, "{\"id\":{\"S\":\"slow\"}}");
        assert_eq!(summary.slowest[0].guest_us, 90_000);
        assert_eq!(summary.slowest[1].item, "item #20");
        assert!(summary
            .slowest
            .windows(2)
            .all(|w| w[0].guest_us >= w[1].guest_us));
        assert_eq!(summary.guest_us.max, 90_000);
        assert_eq!(summary.memory_bytes.max, 2 << 20);
        assert_eq!(summary.memory_bytes.p50, 1 << 20);
        assert_eq!(summary.deadline_ms, limits().deadline.as_millis() as u64);
    }

    #[test]
    fn no_calls_no_summary() {
        assert_eq!(Profile::default().summary(&limits()), None);
    }
}
