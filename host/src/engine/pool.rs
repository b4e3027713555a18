//! A pool of worker threads, each owning one store and one guest instance.
//!
//! Items go in through a bounded channel (backpressure on the scan), outcomes come out tagged
//! with what the caller sent along (the item's key, a sequence number). Both channels carry
//! chunks of up to [`CHUNK`] items: a hand-off per item made the threads wake each other once
//! per item, which cost more than the guest call itself. A trap, a deadline or
//! a memory cap hit fails only that item: the worker drops the instance, which may be in any
//! state, and instantiates a fresh one for the next item.

use std::fmt;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};
use wasmtime::{Store, Trap};

use super::bindings::{self, arena};
use super::guest_action;
use super::immediate::GuestContext;
use super::loader::{one_line, LoadedMigration};
use super::sandbox::{self, HostState};
use super::validate;
use crate::model::action::Action;
use crate::model::item::Item;
use crate::model::operation::Operation;

/// One item to process, with the caller's tag (shown in log lines and errors).
pub struct Job<T> {
    /// Identifies the item for the caller; its `Display` form names the item in guest logs.
    pub tag: T,
    /// The item.
    pub item: Item,
}

/// A source hands over `(tag, item)` pairs without knowing the pool's types.
impl<T> From<(T, Item)> for Job<T> {
    fn from((tag, item): (T, Item)) -> Job<T> {
        Job { tag, item }
    }
}

/// The result for one item.
pub struct Outcome<T> {
    /// The tag the item was sent with.
    pub tag: T,
    /// The checked actions, or why the item failed.
    pub result: Result<Vec<Action>, ItemError>,
    /// What the guest's call cost.
    pub cost: CallCost,
}

/// What one guest call cost: its time as the deadline counts it, and its instance's memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCost {
    /// The call's time on its thread, less the time blocked in immediate operations (zero if
    /// the guest could not be instantiated).
    pub guest_time: Duration,
    /// The instance's linear memory after the call, in bytes (memories only grow).
    pub memory_bytes: usize,
}

/// Why an item failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemError {
    /// The guest returned an error.
    Rejected(String),
    /// The call ran past its CPU deadline.
    DeadlineExceeded(Duration),
    /// The instance tried to grow its memory past the cap.
    MemoryExceeded(usize),
    /// The guest trapped (panic, stack overflow, ...), with what it printed, if anything.
    Trapped(String),
    /// The guest's output broke the rules (see [`super::guest_action`]).
    InvalidOutput(String),
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemError::Rejected(message) => write!(f, "migration error: {message}"),
            ItemError::DeadlineExceeded(deadline) => {
                write!(f, "guest exceeded its CPU deadline of {deadline:?}")
            }
            ItemError::MemoryExceeded(cap) => {
                write!(f, "guest exceeded its memory cap of {} MiB", cap >> 20)
            }
            ItemError::Trapped(message) => write!(f, "guest trapped: {message}"),
            ItemError::InvalidOutput(message) => write!(f, "invalid action: {message}"),
        }
    }
}

/// Items a producer should put in one message to the pool (it may send fewer).
pub const CHUNK: usize = 32;
/// Actions after which a worker sends the outcomes it holds, whatever the chunk.
const OUTCOME_ACTIONS: usize = 64;

/// Running workers for one migration.
pub struct Pool<T> {
    jobs: Option<Sender<Vec<Job<T>>>>,
    outcomes: Receiver<Vec<Outcome<T>>>,
    workers: Vec<JoinHandle<()>>,
}

impl<T: fmt::Display + Send + 'static> Pool<T> {
    /// Starts `workers` threads calling `operation`'s export on `migration`, whose guests reach what
    /// `context` allows.
    pub fn start(
        migration: Arc<LoadedMigration>,
        operation: Operation,
        workers: usize,
        context: GuestContext,
    ) -> Pool<T> {
        let workers = workers.max(1);
        let (job_tx, job_rx) = bounded::<Vec<Job<T>>>(workers * 2);
        let (out_tx, out_rx) = bounded::<Vec<Outcome<T>>>(workers * 2);
        let handles = (0..workers)
            .map(|n| {
                let (migration, jobs, outcomes) =
                    (migration.clone(), job_rx.clone(), out_tx.clone());
                let context = context.clone();
                thread::Builder::new()
                    .name(format!("guest-{n}"))
                    .spawn(move || Worker::new(migration, operation, context).run(jobs, outcomes))
                    .expect("spawn a guest worker thread")
            })
            .collect();
        Pool {
            jobs: Some(job_tx),
            outcomes: out_rx,
            workers: handles,
        }
    }

    /// A handle to send chunks of items with (see [`CHUNK`]); the pool ends when every handle
    /// and [`Pool::close`] are done.
    pub fn sender(&self) -> Sender<Vec<Job<T>>> {
        self.jobs.clone().expect("pool is open")
    }

    /// No more items from this handle; outcomes end once the workers drain the queue.
    pub fn close(&mut self) {
        self.jobs = None;
    }

    /// The outcomes, a chunk per chunk of items, in completion order; ends once the pool is
    /// closed and drained.
    pub fn outcomes(&self) -> &Receiver<Vec<Outcome<T>>> {
        &self.outcomes
    }
}

impl<T> Drop for Pool<T> {
    fn drop(&mut self) {
        self.jobs = None;
        // Disconnect the outcomes: a worker whose send fails stops, and once every worker has
        // stopped, a feeder still sending jobs sees the job channel close too. (Only draining
        // here could leave a worker and a feeder blocked on each other's full channel.)
        drop(std::mem::replace(
            &mut self.outcomes,
            crossbeam_channel::never(),
        ));
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

struct Worker {
    migration: Arc<LoadedMigration>,
    operation: Operation,
    context: GuestContext,
    instance: Option<(Store<HostState>, bindings::Migration)>,
}

impl Worker {
    fn new(migration: Arc<LoadedMigration>, operation: Operation, context: GuestContext) -> Worker {
        Worker {
            migration,
            operation,
            context,
            instance: None,
        }
    }

    fn run<T: fmt::Display>(
        mut self,
        jobs: Receiver<Vec<Job<T>>>,
        outcomes: Sender<Vec<Outcome<T>>>,
    ) {
        for chunk in jobs {
            let mut done = Vec::with_capacity(chunk.len());
            let mut actions = 0;
            for job in chunk {
                let (result, cost) = self.process(&job);
                actions += result.as_ref().map_or(1, Vec::len);
                done.push(Outcome {
                    tag: job.tag,
                    result,
                    cost,
                });
                // Items with many actions go out sooner: what waits in the channel stays
                // bounded by actions, not by items.
                if actions >= OUTCOME_ACTIONS {
                    if outcomes.send(std::mem::take(&mut done)).is_err() {
                        return;
                    }
                    actions = 0;
                }
            }
            if !done.is_empty() && outcomes.send(done).is_err() {
                return;
            }
        }
    }

    fn process<T: fmt::Display>(
        &mut self,
        job: &Job<T>,
    ) -> (Result<Vec<Action>, ItemError>, CallCost) {
        let runtime = &self.migration.runtime;
        if self.instance.is_none() {
            let mut store =
                sandbox::store(runtime, self.migration.label.clone(), self.context.clone());
            store.set_epoch_deadline(runtime.deadline_ticks());
            match self.migration.pre.instantiate(&mut store) {
                Ok(instance) => self.instance = Some((store, instance)),
                Err(e) => {
                    let why = format!("cannot instantiate the guest: {}", one_line(&e));
                    return (Err(ItemError::Trapped(why)), CallCost::default());
                }
            }
        }
        let (store, instance) = self.instance.as_mut().expect("instance present");
        store.data_mut().begin_call(job.tag.to_string());
        store.set_epoch_deadline(runtime.deadline_ticks());
        let input = arena::encode(&job.item);
        let started = Instant::now();
        let returned = match self.operation {
            Operation::Migrate => instance.call_migrate(&mut *store, &input),
            Operation::Undo => instance.call_rollback(&mut *store, &input),
        };
        let cost = CallCost {
            guest_time: store.data().guest_time(started.elapsed()),
            memory_bytes: store.data().memory_bytes(),
        };
        store.data_mut().end_call();
        let result = match returned {
            Ok(Ok(actions)) => self.check(actions, &job.item),
            Ok(Err(message)) => Err(ItemError::Rejected(message)),
            Err(error) => {
                let (store, _) = self.instance.take().expect("instance present");
                Err(classify_trap(&error, store.data(), runtime.limits()))
            }
        };
        (result, cost)
    }

    /// Converts the guest's actions, checking each (and, where the tables' schemas are known,
    /// against them, with the item they were returned for).
    fn check(
        &self,
        actions: Vec<bindings::wit::Action>,
        item: &Item,
    ) -> Result<Vec<Action>, ItemError> {
        let max = self.migration.runtime.limits().max_actions_per_item;
        if actions.len() > max {
            return Err(ItemError::InvalidOutput(format!(
                "{} actions for one item, more than the limit of {max}",
                actions.len()
            )));
        }
        let actions = actions
            .into_iter()
            .enumerate()
            .map(|(n, a)| {
                guest_action::from_guest(a, &self.context.tables)
                    .map_err(|e| ItemError::InvalidOutput(format!("action {n}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(schemas) = &self.context.schemas {
            let own = self.context.tables.own();
            validate::check_actions(&actions, item, own, schemas)
                .map_err(ItemError::InvalidOutput)?;
        }
        Ok(actions)
    }
}

fn classify_trap(error: &wasmtime::Error, state: &HostState, limits: &super::Limits) -> ItemError {
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => return ItemError::DeadlineExceeded(limits.deadline),
        Some(Trap::StackOverflow) => return ItemError::Trapped("stack overflow".into()),
        _ => {}
    }
    // The outermost message is wasmtime's backtrace header; the cause is at the root.
    let cause = error.root_cause().to_string();
    if cause.starts_with("forcing trap when growing memory") {
        return ItemError::MemoryExceeded(limits.memory_bytes);
    }
    let printed = state.output_tail();
    let printed = printed
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.contains("note: run with `RUST_BACKTRACE"))
        .collect::<Vec<_>>()
        .join(" / ");
    match (printed.is_empty(), state.last_log()) {
        (false, _) => ItemError::Trapped(format!("{cause} ({printed})")),
        (true, Some(logged)) => ItemError::Trapped(format!("{cause} (last log: {logged})")),
        (true, None) => ItemError::Trapped(cause),
    }
}
