//! One item at a time, from async code: a [`Pool`] whose outcomes come back to each caller.
//!
//! The scan streams items through the pool and takes outcomes in bulk; a live run also needs
//! to migrate one item now and then (an item written again between the scan and the apply,
//! a change read from the stream) and wait for its actions. Each job carries its own reply
//! channel; a thread hands every outcome to the caller waiting for it.

use std::fmt;
use std::sync::Arc;
use std::thread;

use crossbeam_channel::{Sender, TrySendError};
use tokio::sync::oneshot;

use super::immediate::GuestContext;
use super::loader::LoadedMigration;
use super::pool::{ItemError, Job, Pool};
use crate::model::action::Action;
use crate::model::item::Item;
use crate::model::operation::Operation;

/// The checked actions of one item, or why it failed.
pub type Migrated = Result<Vec<Action>, ItemError>;

/// A job's tag: how the item is named in guest logs, and where its outcome goes.
struct Reply {
    name: String,
    answer: oneshot::Sender<Migrated>,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Guest instances that migrate one item per call, for async callers.
pub struct Migrator {
    // Dropped before the pool, so that its workers see the job channel close.
    jobs: Sender<Vec<Job<Reply>>>,
    _pool: Pool<Reply>,
}

impl Migrator {
    /// Starts `workers` guest instances calling `operation`'s export on `migration`.
    pub fn start(
        migration: Arc<LoadedMigration>,
        operation: Operation,
        workers: usize,
        context: GuestContext,
    ) -> Migrator {
        let pool = Pool::<Reply>::start(migration, operation, workers, context);
        let jobs = pool.sender();
        let outcomes = pool.outcomes().clone();
        thread::Builder::new()
            .name("guest-replies".into())
            .spawn(move || {
                for chunk in outcomes.iter() {
                    for outcome in chunk {
                        // The caller may have stopped waiting (a stopped run): nothing to do.
                        let _ = outcome.tag.answer.send(outcome.result);
                    }
                }
            })
            .expect("spawn the guest reply thread");
        Migrator { jobs, _pool: pool }
    }

    /// Migrates `item` (named `name` in guest logs and errors) and waits for its actions.
    pub async fn migrate(&self, name: String, item: Item) -> Migrated {
        let (answer, reply) = oneshot::channel();
        let job = vec![Job {
            tag: Reply { name, answer },
            item,
        }];
        let stopped = || ItemError::Trapped("the guest pool stopped".into());
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => {
                // The pool is busy: wait for room off the async threads.
                let jobs = self.jobs.clone();
                tokio::task::spawn_blocking(move || jobs.send(job))
                    .await
                    .map_err(|_| stopped())?
                    .map_err(|_| stopped())?;
            }
            Err(TrySendError::Disconnected(_)) => return Err(stopped()),
        }
        reply.await.map_err(|_| stopped())?
    }
}
