//! Runs migration components: one wasmtime [`Runtime`] per process, [`loader`] to turn a
//! `.wasm` into a ready-to-instantiate migration (compiled-component cache included),
//! [`sandbox`] for what a guest may touch, [`pool`] for the worker threads that call it, and
//! [`guest_action`] and [`validate`] for the checks of what it returns.

pub mod bindings;
pub mod guest_action;
pub mod immediate;
pub mod loader;
pub mod migrator;
pub mod pool;
pub mod profile;
pub mod sandbox;
pub mod validate;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::model::options;
use anyhow::Result;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

pub use bindings::drift::migration::dynamodb::DbError;
pub use immediate::{
    DbResult, GuestContext, ImmediateDb, ImmediateQuery, ImmediateWrite, QueryPage, TableStore,
    WriteExpressions, MAX_QUERY_PAGE,
};
pub use loader::{load, load_bytes, CacheOutcome, LoadedMigration, MigrationInfo, ModuleKind};
pub use migrator::{Migrated, Migrator};
pub use pool::{CallCost, ItemError, Job, Outcome, Pool, CHUNK};
pub use profile::{Profile, ProfileSummary};

/// How often the epoch advances: the granularity of the CPU deadline.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits applied to every guest instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock budget of one call (`migrate`/`rollback`/`info`), enforced by epoch
    /// interruption: cheaper than fuel, and what matters is that no item stalls the run.
    pub deadline: Duration,
    /// Linear memory one instance may grow to.
    pub memory_bytes: usize,
    /// Actions one item may produce; more fails the item.
    pub max_actions_per_item: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        // The options' defaults, from their one definition.
        let default = |option: options::Bounded| option.default.expect("a fixed default");
        Limits {
            deadline: Duration::from_millis(default(options::DEADLINE_MS)),
            memory_bytes: (default(options::MEMORY_MB) as usize) << 20,
            max_actions_per_item: default(options::MAX_ACTIONS_PER_ITEM) as usize,
        }
    }
}

/// The wasmtime engine, configured for migrations, with the thread that advances its epoch.
pub struct Runtime {
    engine: Engine,
    limits: Limits,
    stop: Arc<AtomicBool>,
}

impl Runtime {
    /// An engine whose pooling allocator has room for `instances` live guest instances.
    pub fn new(limits: Limits, instances: u32) -> Result<Arc<Runtime>> {
        let slots = instances.max(1) + 2;
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(slots)
            .total_core_instances(slots * 16)
            .total_memories(slots * 2)
            .total_tables(slots * 8)
            // Slightly above the cap so that the store's limiter, which reports the cap in
            // its trap, is what refuses growth.
            .max_memory_size(limits.memory_bytes + (64 << 10));
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .concurrency_support(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
        let engine = Engine::new(&config)?;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = (engine.weak(), stop.clone());
        thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                let (engine, stop) = ticker;
                while !stop.load(Ordering::Relaxed) {
                    thread::sleep(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        Ok(Arc::new(Runtime {
            engine,
            limits,
            stop,
        }))
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The limits every instance runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Epoch ticks that make up one call's deadline.
    fn deadline_ticks(&self) -> u64 {
        (self.limits.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
