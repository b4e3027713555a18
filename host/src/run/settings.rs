//! Every option resolved once: the command line over drift.toml over each option's default
//! (its one definition in [`crate::model::options`]). What a session on the metadata table
//! needs ([`SessionOptions`]) and what a run needs ([`RunOptions`]) both come from here, so
//! no default is written twice.

use std::path::PathBuf;
use std::time::Duration;

use crate::aws::capacity::Capacity;
use crate::aws::retry::RetryPolicy;
use crate::aws::table::Billing;
use crate::aws::ConnectOptions;
use crate::engine::Limits;
use crate::metadata;
use crate::model::guard::GuardMode;
use crate::model::operation::Operation;
use crate::model::options::{self, Given};

/// The options given, from every source, ready to be resolved.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    given: Given,
}

impl Settings {
    /// The command line's options over the project's (drift.toml), if there is a project.
    pub fn new(command_line: Given, project: Option<&Given>) -> Settings {
        let given = match project {
            Some(project) => command_line.over(project),
            None => command_line,
        };
        Settings { given }
    }

    /// Where and how to reach DynamoDB.
    pub fn connection(&self) -> ConnectOptions {
        ConnectOptions {
            endpoint_url: self.given.endpoint_url.clone(),
            region: self.given.region.clone(),
            profile: self.given.profile.clone(),
        }
    }

    /// The guests' limits.
    pub fn limits(&self) -> Limits {
        let given = &self.given;
        Limits {
            deadline: Duration::from_millis(options::DEADLINE_MS.or_default(given.deadline_ms)),
            memory_bytes: (options::MEMORY_MB.or_default(given.memory_mb) as usize) << 20,
            max_actions_per_item: options::MAX_ACTIONS_PER_ITEM
                .or_default(given.max_actions_per_item) as usize,
        }
    }

    /// Whether the command line or drift.toml gives the number of scan segments.
    pub fn segments_given(&self) -> bool {
        self.given.segments.is_some()
    }

    /// Guest instances working in parallel.
    pub fn concurrency(&self) -> u32 {
        options::concurrency(self.given.concurrency)
    }

    /// The metadata table's name.
    pub fn meta_table(&self) -> String {
        self.given
            .meta_table
            .clone()
            .unwrap_or_else(|| metadata::DEFAULT_TABLE.to_owned())
    }

    /// The retry policy of every DynamoDB request.
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: options::MAX_ATTEMPTS.or_default(self.given.max_attempts) as u32,
            ..RetryPolicy::default()
        }
    }

    /// What a session on the metadata table needs; `billing` is the metadata table's if it
    /// is created.
    pub fn session(&self, billing: Billing) -> SessionOptions {
        SessionOptions {
            meta_table: self.meta_table(),
            billing,
            policy: self.policy(),
            lease: Duration::from_secs(options::LEASE_SECONDS.or_default(self.given.lease_seconds)),
        }
    }

    /// What a run of `operation` needs, with the options only the command line gives.
    pub fn run(&self, operation: Operation, flags: RunFlags) -> RunOptions {
        let given = &self.given;
        RunOptions {
            operation,
            table: flags.table,
            concurrency: self.concurrency() as usize,
            segments: options::SEGMENTS.or_default(given.segments) as u32,
            page_size: options::PAGE_SIZE.or_default(given.page_size) as i32,
            checkpoint_every: Duration::from_millis(
                options::CHECKPOINT_INTERVAL_MS.or_default(given.checkpoint_interval_ms),
            ),
            fail_fast: flags.fail_fast,
            work_dir: given.work_dir.clone().unwrap_or_else(default_work_dir),
            batch_updates: flags.batch_updates,
            apply_lanes: options::APPLY_CONCURRENCY.or_default(given.apply_concurrency) as usize,
            keep_journal: flags.keep_journal,
            restart: flags.restart,
            capacity: Capacity::new(given.max_rcu, given.max_wcu),
            session: self.session(flags.billing),
            live: flags.live.map(|live| LiveOptions {
                connection: self.connection(),
                ..live
            }),
        }
    }
}

/// The options of a run that only the command line gives (no drift.toml key, no default but
/// "not given").
#[derive(Debug, Clone)]
pub struct RunFlags {
    /// Scan this table instead of the one `info()` names.
    pub table: Option<String>,
    /// Stop the scan at the first failed item.
    pub fail_fast: bool,
    /// Plain updates go as PartiQL statements in batches.
    pub batch_updates: bool,
    /// Keep the journal after a successful apply.
    pub keep_journal: bool,
    /// Start a dead or stopped run over instead of resuming it.
    pub restart: bool,
    /// Billing of the metadata table if it is created.
    pub billing: Billing,
    /// `--live` and its options (the connection is filled in from the settings).
    pub live: Option<LiveOptions>,
}

impl Default for RunFlags {
    fn default() -> RunFlags {
        RunFlags {
            table: None,
            fail_fast: false,
            batch_updates: true,
            keep_journal: false,
            restart: false,
            billing: Billing::OnDemand,
            live: None,
        }
    }
}

/// What a session on the metadata table (its lock, its records) needs.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Metadata table name.
    pub meta_table: String,
    /// Billing of the metadata table if it is created.
    pub billing: Billing,
    /// Retry policy of every DynamoDB request.
    pub policy: RetryPolicy,
    /// Lease of the metadata table's lock; renewed every third of it while running.
    pub lease: Duration,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `migrate` (run) or `rollback` (undo).
    pub operation: Operation,
    /// Scan this table instead of the one `info()` names.
    pub table: Option<String>,
    /// Guest instances working in parallel.
    pub concurrency: usize,
    /// Parallel scan segments (a resume keeps those of its checkpoint).
    pub segments: u32,
    /// Items per Scan request.
    pub page_size: i32,
    /// Checkpoints are saved about this often while there is progress (and at each phase's
    /// end): a resume repeats at most about this much work.
    pub checkpoint_every: Duration,
    /// Stop the scan at the first failed item.
    pub fail_fast: bool,
    /// Where journals are written.
    pub work_dir: PathBuf,
    /// Plain updates go as PartiQL statements in batches (`--no-batch-updates`: `UpdateItem`).
    pub batch_updates: bool,
    /// Concurrent apply lanes.
    pub apply_lanes: usize,
    /// Keep the journal after a successful apply.
    pub keep_journal: bool,
    /// Run again from the start a migration that a dead or stopped run left unfinished,
    /// instead of resuming it.
    pub restart: bool,
    /// Read and write capacity budgets (`--max-rcu`, `--max-wcu`) and what was consumed.
    pub capacity: Capacity,
    /// The session the run holds the lock in: the metadata table, the retry policy, the lease.
    pub session: SessionOptions,
    /// `--live`: the table is written while it is migrated.
    pub live: Option<LiveOptions>,
}

/// How a live run (`--live`) works.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// How writes are guarded (`--version-attribute`).
    pub mode: GuardMode,
    /// Enable a stream on a table that has none (`--enable-stream`).
    pub enable_stream: bool,
    /// The catch-up ends once the stream has been quiet this long (`--live-quiet`).
    pub quiet: Duration,
    /// Follow the stream until SIGTERM instead (`--follow`).
    pub follow: bool,
    /// Where DynamoDB Streams is (where DynamoDB is).
    pub connection: ConnectOptions,
}

/// Where journals go unless said otherwise: the user's state directory
/// (`$XDG_STATE_HOME`, `~/.local/state`), else the temporary directory.
fn default_work_dir() -> PathBuf {
    dirs::state_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("drift-host")
        .join("journals")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_wins_over_the_project_over_the_defaults() {
        let project = Given {
            segments: Some(4),
            lease_seconds: Some(30),
            deadline_ms: Some(100),
            meta_table: Some("app_migrations".into()),
            ..Given::default()
        };
        let command_line = Given {
            segments: Some(16),
            ..Given::default()
        };
        let settings = Settings::new(command_line, Some(&project));
        let run = settings.run(Operation::Migrate, RunFlags::default());
        assert_eq!(run.segments, 16);
        assert_eq!(run.session.lease, Duration::from_secs(30));
        assert_eq!(run.session.meta_table, "app_migrations");
        assert_eq!(settings.limits().deadline, Duration::from_millis(100));
        assert_eq!(run.page_size as u64, options::PAGE_SIZE.default.unwrap());
        assert!(run.batch_updates);

        let none = Settings::default();
        let run = none.run(Operation::Undo, RunFlags::default());
        assert_eq!(run.session.meta_table, metadata::DEFAULT_TABLE);
        assert_eq!(
            run.session.policy.max_attempts as u64,
            options::MAX_ATTEMPTS.default.unwrap()
        );
        assert_eq!(none.limits(), Limits::default());
        assert!(run.work_dir.ends_with("drift-host/journals"));
    }
}
