//! A running run obeys `drift-host control` (see [`crate::metadata::control`]): the control
//! is read at every renewal of the lease and applied to the run's capacity (pause, budgets)
//! or its stop (a clean, resumable end).

use std::future::Future;
use std::time::Duration;

use crate::aws::capacity::Capacity;
use crate::metadata::{Control, MetadataTable};
use crate::model::stop::{Stop, StopReason};

/// Who is controlled, and through what.
pub struct Controlled<'a> {
    /// The metadata table the control is read from.
    pub meta: &'a MetadataTable,
    /// The migration's number.
    pub number: u64,
    /// The run's id: a control for another run is not this run's.
    pub run_id: &'a str,
    /// Paused and limited through here.
    pub capacity: &'a Capacity,
    /// Stopped through here.
    pub stop: &'a Stop,
    /// How often the control is read (a renewal of the lease).
    pub every: Duration,
    /// A multi-worker run's workers: its budgets are totals, this worker's part shared
    /// among them (`None`: one process).
    pub workers: Option<u32>,
}

/// Runs `work`, meanwhile obeying the run's control.
pub async fn while_obeying<T>(work: impl Future<Output = T>, controlled: Controlled<'_>) -> T {
    let done = tokio::sync::Notify::new();
    let work = async {
        let result = work.await;
        done.notify_one();
        result
    };
    let obey = async {
        let started_limits = controlled.capacity.limits();
        let mut applied: Option<Control> = None;
        loop {
            tokio::select! {
                _ = done.notified() => return,
                _ = tokio::time::sleep(controlled.every) => {}
            }
            let control = match controlled.meta.control(controlled.number).await {
                Ok(control) => control.filter(|c| c.run_id == controlled.run_id),
                Err(error) => {
                    tracing::debug!("{error:#}");
                    continue;
                }
            };
            if control == applied {
                continue;
            }
            let capacity = controlled.capacity;
            let current = control.clone().unwrap_or_default();
            if current.paused != capacity.gate().is_paused() {
                tracing::warn!(
                    "{} by drift-host control",
                    if current.paused { "paused" } else { "resumed" }
                );
            }
            capacity.gate().set_paused(current.paused);
            let limit = |given: Option<f64>, started: Option<f64>| {
                Some(given.or(started).unwrap_or(f64::INFINITY))
            };
            match controlled.workers {
                None => capacity.set_limits(
                    limit(current.max_rcu, started_limits.0),
                    limit(current.max_wcu, started_limits.1),
                ),
                Some(workers) => capacity.control_totals(current.max_rcu, current.max_wcu, workers),
            }
            capacity
                .gate()
                .set_lanes(current.apply_concurrency.map_or(usize::MAX, |n| n as usize));
            if current.stop && !controlled.stop.is_requested() {
                tracing::warn!("stopping: drift-host control asked; the next run resumes");
                capacity.gate().set_paused(false);
                controlled.stop.request(StopReason::Cancelled);
            }
            applied = control;
        }
    };
    tokio::join!(work, obey).0
}
