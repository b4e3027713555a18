//! Limits on consumed capacity (`--max-rcu`, `--max-wcu`), so a migration leaves room for the
//! application on a provisioned table.
//!
//! Each request asks DynamoDB for the capacity it consumed (`ReturnConsumedCapacity`); a
//! request waits while the budget is spent, and what it consumed is charged after it returns.
//! The budget refills at the limit per second and holds at most one second of it, so bursts
//! stay within one second's worth.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::batch_execute_statement::BatchExecuteStatementOutput;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::scan::ScanOutput;
use aws_sdk_dynamodb::types::ConsumedCapacity;

use tokio::time::Instant;

use super::retry::RetryPolicy;

/// One capacity budget (read or write units per second).
#[derive(Debug)]
pub struct Throttle {
    /// Units per second, as f64 bits (a multi-worker run changes its share as workers come
    /// and go).
    per_second: AtomicU64,
    state: Mutex<(f64, Instant)>,
}

impl Throttle {
    /// A budget of `per_second` units per second.
    pub fn new(per_second: f64) -> Arc<Throttle> {
        Arc::new(Throttle {
            per_second: AtomicU64::new(per_second.to_bits()),
            state: Mutex::new((per_second, Instant::now())),
        })
    }

    /// Units per second.
    pub fn per_second(&self) -> f64 {
        f64::from_bits(self.per_second.load(Ordering::Relaxed))
    }

    /// Changes the budget to `per_second` units per second from now on.
    pub fn set_per_second(&self, per_second: f64) {
        let mut state = self.state.lock().expect("throttle lock");
        self.refill(&mut state);
        self.per_second
            .store(per_second.to_bits(), Ordering::Relaxed);
        state.0 = state.0.min(per_second);
    }

    fn refill(&self, state: &mut (f64, Instant)) {
        let now = Instant::now();
        let per_second = self.per_second();
        if per_second.is_infinite() {
            // No budget: always room (and no NaN from infinity times a zero interval).
            *state = (f64::INFINITY, now);
            return;
        }
        let earned = now.duration_since(state.1).as_secs_f64() * per_second;
        state.0 = (state.0 + earned).min(per_second);
        state.1 = now;
    }

    /// Waits until the budget is not overspent.
    pub async fn ready(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().expect("throttle lock");
                self.refill(&mut state);
                if state.0 > 0.0 {
                    return;
                }
                Duration::from_secs_f64(-state.0 / self.per_second() + 0.001)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Waits until the budget is not overspent, then takes `units` of it at once: a request
    /// of many writes reserves them, so that concurrent requests cannot all pass on the same
    /// remaining budget.
    pub async fn reserve(&self, units: f64) {
        loop {
            let wait = {
                let mut state = self.state.lock().expect("throttle lock");
                self.refill(&mut state);
                if state.0 > 0.0 {
                    state.0 -= units;
                    return;
                }
                Duration::from_secs_f64(-state.0 / self.per_second() + 0.001)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Charges `units` that a request consumed.
    pub fn consume(&self, units: f64) {
        let mut state = self.state.lock().expect("throttle lock");
        self.refill(&mut state);
        state.0 -= units;
    }
}

/// Holds every request of a run while it is paused (`drift-host control ... pause`), and
/// bounds how many apply lanes write at once (`control ... set --apply-concurrency`).
#[derive(Debug)]
pub struct Gate {
    paused: std::sync::atomic::AtomicBool,
    opened: tokio::sync::Notify,
    /// Lanes allowed to write at once, and lanes writing.
    lanes: std::sync::atomic::AtomicUsize,
    writing: std::sync::atomic::AtomicUsize,
    lane_freed: tokio::sync::Notify,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            paused: Default::default(),
            opened: Default::default(),
            lanes: std::sync::atomic::AtomicUsize::new(usize::MAX),
            writing: Default::default(),
            lane_freed: Default::default(),
        }
    }
}

/// A lane's turn to write (see [`Gate::lane`]); given back when dropped.
pub struct LaneTurn<'a>(&'a Gate);

impl Drop for LaneTurn<'_> {
    fn drop(&mut self) {
        self.0.writing.fetch_sub(1, Ordering::SeqCst);
        self.0.lane_freed.notify_one();
    }
}

impl Gate {
    /// At most `lanes` apply lanes write at once from now on.
    pub fn set_lanes(&self, lanes: usize) {
        self.lanes.store(lanes.max(1), Ordering::SeqCst);
        self.lane_freed.notify_waiters();
    }

    /// The lanes allowed to write at once (`None`: as many as the apply has).
    pub fn lanes(&self) -> Option<usize> {
        Some(self.lanes.load(Ordering::SeqCst)).filter(|&n| n != usize::MAX)
    }

    /// Waits for a turn to write among the lanes allowed.
    pub async fn lane(&self) -> LaneTurn<'_> {
        loop {
            let writing = self.writing.load(Ordering::SeqCst);
            if writing < self.lanes.load(Ordering::SeqCst)
                && self
                    .writing
                    .compare_exchange(writing, writing + 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            {
                return LaneTurn(self);
            }
            let freed = self.lane_freed.notified();
            let _ = tokio::time::timeout(Duration::from_millis(100), freed).await;
        }
    }
    /// Pauses (true) or lets requests go again (false).
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
        if !paused {
            self.opened.notify_waiters();
        }
    }

    /// Whether requests are held.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Waits while paused.
    pub async fn wait_open(&self) {
        while self.is_paused() {
            let opened = self.opened.notified();
            if !self.is_paused() {
                break;
            }
            // A bounded wait: a resume between the check and the wait is not missed for long.
            let _ = tokio::time::timeout(Duration::from_millis(250), opened).await;
        }
    }
}

/// The read and write budgets of a run (unlimited unless set), what was consumed, and the
/// pause.
#[derive(Debug, Clone)]
pub struct Capacity {
    /// Read budget (scan); infinite: none.
    read: Option<Arc<Throttle>>,
    /// Write budget (apply); infinite: none.
    write: Option<Arc<Throttle>>,
    /// Units consumed so far: (read, write).
    consumed: Arc<Mutex<(f64, f64)>>,
    /// Holds requests while the run is paused.
    gate: Arc<Gate>,
    /// A multi-worker run's totals as `drift-host control` set them (read, write), which
    /// [`Capacity::share`] shares instead of the recorded ones.
    totals: Arc<Mutex<(Option<f64>, Option<f64>)>>,
}

impl Default for Capacity {
    fn default() -> Capacity {
        Capacity::new(None, None)
    }
}

impl Capacity {
    /// Budgets from the command line's limits (`None`: unlimited, which a control may change).
    pub fn new(max_rcu: Option<f64>, max_wcu: Option<f64>) -> Capacity {
        Capacity {
            read: Some(Throttle::new(max_rcu.unwrap_or(f64::INFINITY))),
            write: Some(Throttle::new(max_wcu.unwrap_or(f64::INFINITY))),
            consumed: Arc::default(),
            gate: Arc::default(),
            totals: Arc::default(),
        }
    }

    /// A multi-worker run's totals from now on, where given (see [`Capacity::share`]), and
    /// this worker's part of them at once (of `parts` workers).
    pub fn control_totals(&self, read: Option<f64>, write: Option<f64>, parts: u32) {
        let mut totals = self.totals.lock().expect("totals lock");
        totals.0 = read.or(totals.0);
        totals.1 = write.or(totals.1);
        let part = |total: Option<f64>| total.map(|t| t / f64::from(parts.max(1)));
        self.set_limits(part(read), part(write));
    }

    /// The pause every request of the run waits on.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Changes the budgets where given (units per second; infinite: none).
    pub fn set_limits(&self, read: Option<f64>, write: Option<f64>) {
        for (throttle, limit) in [(&self.read, read), (&self.write, write)] {
            if let (Some(throttle), Some(limit)) = (throttle, limit) {
                throttle.set_per_second(limit);
            }
        }
    }

    /// Waits for read budget.
    pub async fn before_read(&self) {
        self.gate.wait_open().await;
        if let Some(throttle) = &self.read {
            throttle.ready().await;
        }
    }

    /// Waits for write budget.
    pub async fn before_write(&self) {
        self.gate.wait_open().await;
        if let Some(throttle) = &self.write {
            throttle.ready().await;
        }
    }

    /// Waits for write budget and reserves `units` of it (see [`Throttle::reserve`]).
    pub async fn reserve_write(&self, units: f64) {
        self.gate.wait_open().await;
        if let Some(throttle) = &self.write {
            throttle.reserve(units).await;
        }
    }

    /// Records the write units a request consumed, of which `reserved` were reserved.
    pub fn wrote_reserved(&self, reserved: f64, units: f64) {
        self.consumed.lock().expect("consumed lock").1 += units;
        if let Some(throttle) = &self.write {
            throttle.consume(units - reserved);
        }
    }

    /// Records read units consumed.
    pub fn read(&self, units: f64) {
        self.consumed.lock().expect("consumed lock").0 += units;
        if let Some(throttle) = &self.read {
            throttle.consume(units);
        }
    }

    /// Records write units consumed.
    pub fn wrote(&self, units: f64) {
        self.consumed.lock().expect("consumed lock").1 += units;
        if let Some(throttle) = &self.write {
            throttle.consume(units);
        }
    }

    /// Records the write units of a multi-table answer (BatchWriteItem, TransactWriteItems).
    pub fn wrote_all(&self, consumed: &[aws_sdk_dynamodb::types::ConsumedCapacity]) {
        self.wrote(consumed.iter().filter_map(|c| c.capacity_units()).sum());
    }

    /// Sends a read with `policy`'s retries, after waiting for read budget, and records what
    /// it consumed.
    pub async fn metered_read<T, E, R, F, Fut>(
        &self,
        policy: &RetryPolicy,
        request: F,
    ) -> Result<T, SdkError<E, R>>
    where
        T: ConsumedUnits,
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
    {
        self.before_read().await;
        let output = policy.run(request).await?;
        self.read(output.consumed_units().unwrap_or(0.0));
        Ok(output)
    }

    /// Sends a batch of `writes` writes with `policy`'s retries: a unit per write reserved
    /// before, so that lanes share the budget, and what the batch consumed recorded (a unit
    /// per write where the answer does not say).
    pub async fn metered_batch<T, E, R, F, Fut>(
        &self,
        policy: &RetryPolicy,
        writes: usize,
        request: F,
    ) -> Result<T, SdkError<E, R>>
    where
        T: ConsumedUnits,
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
    {
        let reserved = writes as f64;
        self.reserve_write(reserved).await;
        let output = policy.run(request).await?;
        self.wrote_reserved(reserved, output.consumed_units().unwrap_or(reserved));
        Ok(output)
    }

    /// Sets the budgets to `1/parts` of `totals` (read, write): a multi-worker run's share of
    /// its budget for each of its `parts` live workers. A budget that is unlimited stays so.
    pub fn share(&self, totals: (Option<f64>, Option<f64>), parts: u32) {
        let parts = f64::from(parts.max(1));
        let controlled = *self.totals.lock().expect("totals lock");
        let pairs = [
            (&self.read, totals.0, controlled.0),
            (&self.write, totals.1, controlled.1),
        ];
        for (throttle, total, controlled) in pairs {
            let Some(throttle) = throttle else { continue };
            match (controlled, total) {
                (Some(total), _) => throttle.set_per_second(total / parts),
                (None, Some(total)) if throttle.per_second().is_finite() => {
                    throttle.set_per_second(total / parts)
                }
                _ => {}
            }
        }
    }

    /// The (read, write) budgets per second, `None` where unlimited.
    pub fn limits(&self) -> (Option<f64>, Option<f64>) {
        let limit = |throttle: &Option<Arc<Throttle>>| {
            throttle
                .as_ref()
                .map(|t| t.per_second())
                .filter(|limit| limit.is_finite())
        };
        (limit(&self.read), limit(&self.write))
    }

    /// (read, write) units consumed so far.
    pub fn total(&self) -> (f64, f64) {
        *self.consumed.lock().expect("consumed lock")
    }
}

/// What a DynamoDB answer says it consumed, in capacity units; `None` where it does not say
/// (DynamoDB Local reports nothing for statement batches).
pub trait ConsumedUnits {
    /// The units consumed, if the answer tells.
    fn consumed_units(&self) -> Option<f64>;
}

/// The units of a multi-table answer, `None` when it lists none.
fn units_of(consumed: &[ConsumedCapacity]) -> Option<f64> {
    (!consumed.is_empty()).then(|| consumed.iter().filter_map(|c| c.capacity_units()).sum())
}

impl ConsumedUnits for GetItemOutput {
    fn consumed_units(&self) -> Option<f64> {
        self.consumed_capacity().and_then(|c| c.capacity_units())
    }
}

impl ConsumedUnits for ScanOutput {
    fn consumed_units(&self) -> Option<f64> {
        self.consumed_capacity().and_then(|c| c.capacity_units())
    }
}

impl ConsumedUnits for QueryOutput {
    fn consumed_units(&self) -> Option<f64> {
        self.consumed_capacity().and_then(|c| c.capacity_units())
    }
}

impl ConsumedUnits for BatchWriteItemOutput {
    fn consumed_units(&self) -> Option<f64> {
        units_of(self.consumed_capacity())
    }
}

impl ConsumedUnits for BatchExecuteStatementOutput {
    fn consumed_units(&self) -> Option<f64> {
        units_of(self.consumed_capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spending_faster_than_the_limit_waits() {
        let throttle = Throttle::new(100.0);
        let start = Instant::now();
        for _ in 0..30 {
            throttle.ready().await;
            throttle.consume(10.0); // 300 units at 100 per second
        }
        let elapsed = start.elapsed().as_secs_f64();
        // The first second's budget is spent at once; the other 200 units take 2 s.
        assert!((1.9..2.2).contains(&elapsed), "{elapsed}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_share_of_the_budget_spends_at_its_own_rate() {
        let capacity = Capacity::new(Some(400.0), None);
        capacity.share((Some(400.0), None), 4);
        assert_eq!(capacity.limits(), (Some(100.0), None));
        let throttle = capacity.read.clone().unwrap();
        let start = Instant::now();
        for _ in 0..30 {
            throttle.ready().await;
            throttle.consume(10.0);
        }
        // 300 units at 100 per second (the share), the first second's at once.
        let elapsed = start.elapsed().as_secs_f64();
        assert!((1.9..2.2).contains(&elapsed), "{elapsed}");
        // A worker gone: the three left share the total.
        capacity.share((Some(400.0), Some(50.0)), 3);
        assert_eq!(
            capacity.limits(),
            (Some(400.0 / 3.0), None),
            "unlimited stays so"
        );
    }

    #[test]
    fn controlled_totals_replace_the_recorded_ones_in_every_share() {
        let capacity = Capacity::new(None, Some(90.0));
        capacity.control_totals(Some(300.0), None, 3);
        assert_eq!(capacity.limits(), (Some(100.0), Some(90.0)));
        // A worker gone: the recorded totals are shared, the controlled read total instead
        // of the recorded (unlimited) one.
        capacity.share((None, Some(90.0)), 2);
        assert_eq!(capacity.limits(), (Some(150.0), Some(45.0)));
        capacity.control_totals(None, Some(10.0), 2);
        capacity.share((None, Some(90.0)), 1);
        assert_eq!(capacity.limits(), (Some(300.0), Some(10.0)));
    }

    #[tokio::test]
    async fn a_paused_gate_holds_requests_until_opened_and_lanes_take_turns() {
        let capacity = Capacity::default();
        capacity.gate().set_paused(true);
        let held = tokio::time::timeout(Duration::from_millis(300), capacity.before_write()).await;
        assert!(held.is_err(), "a request went while paused");
        capacity.gate().set_paused(false);
        capacity.before_write().await;
        capacity.gate().set_lanes(1);
        let first = capacity.gate().lane().await;
        let second = tokio::time::timeout(Duration::from_millis(300), capacity.gate().lane()).await;
        assert!(second.is_err(), "two lanes wrote at once with one allowed");
        drop(first);
        let _second = capacity.gate().lane().await;
        assert_eq!(capacity.gate().lanes(), Some(1));
    }

    #[tokio::test(start_paused = true)]
    async fn within_the_limit_nothing_waits() {
        let throttle = Throttle::new(100.0);
        let start = Instant::now();
        for _ in 0..9 {
            throttle.ready().await;
            throttle.consume(10.0);
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
