//! The options of the commands that run a migration (`run`, `undo`, `plan`, `apply`), and
//! which of them `plan` and `apply` do not take.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use drift_host::aws::{Billing, Capacity, RetryPolicy};
use drift_host::model::names::parse_table_name;
use drift_host::model::operation::Operation;
use drift_host::model::options;
use drift_host::project::config::Defaults;
use drift_host::run::RunOptions;

use super::*;

/// The options of `run`, `undo`, `plan` and `apply`.
#[derive(Args)]
pub struct RunArgs {
    /// Scan this table instead of the one the migration's info() names (one migration only).
    #[arg(long, value_parser = parse_table_name)]
    pub table: Option<String>,
    /// Guest instances working in parallel ([`options::CONCURRENCY`]).
    #[arg(long, help = options::CONCURRENCY.help(), value_parser = bounded(&options::CONCURRENCY))]
    pub concurrency: Option<u64>,
    /// Parallel scan segments ([`options::SEGMENTS`]).
    #[arg(long, help = options::SEGMENTS.help(), value_parser = bounded(&options::SEGMENTS))]
    pub segments: Option<u64>,
    /// How often progress is checkpointed ([`options::CHECKPOINT_INTERVAL_MS`]).
    #[arg(
        long,
        help = options::CHECKPOINT_INTERVAL_MS.help(),
        value_parser = bounded(&options::CHECKPOINT_INTERVAL_MS)
    )]
    pub checkpoint_interval_ms: Option<u64>,
    /// Items per Scan request ([`options::PAGE_SIZE`]).
    #[arg(long, help = options::PAGE_SIZE.help(), value_parser = bounded(&options::PAGE_SIZE))]
    pub page_size: Option<u64>,
    /// Stop the scan at the first item that fails.
    #[arg(long)]
    pub fail_fast: bool,
    /// Send every update as its own UpdateItem instead of batching plain updates as PartiQL
    /// statements (BatchExecuteStatement).
    #[arg(long)]
    pub no_batch_updates: bool,
    /// Concurrent write lanes while applying ([`options::APPLY_CONCURRENCY`]).
    #[arg(
        long,
        help = options::APPLY_CONCURRENCY.help(),
        value_parser = bounded(&options::APPLY_CONCURRENCY)
    )]
    pub apply_concurrency: Option<u64>,
    /// Where journals are spooled (default: ~/.local/state/drift-host/journals).
    #[arg(long, env = "DRIFT_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// Keep the journal after a successful apply.
    #[arg(long)]
    pub keep_journal: bool,
    /// Write the run's report as JSON to this file (`-` for stdout), whether it succeeded or not.
    #[arg(long)]
    pub report: Option<String>,
    /// `json`: print the report (as `--report -` does) instead of the summary line.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Create the metadata table with provisioned capacity `RCU,WCU` instead of on-demand.
    #[arg(long, value_parser = parse_provisioned)]
    pub provisioned: Option<(i64, i64)>,
    /// Attempts per DynamoDB request ([`options::MAX_ATTEMPTS`]).
    #[arg(long, help = options::MAX_ATTEMPTS.help(), value_parser = bounded(&options::MAX_ATTEMPTS))]
    pub max_attempts: Option<u64>,
    /// Lease of the metadata table's lock ([`options::LEASE_SECONDS`]).
    #[arg(long, help = options::LEASE_SECONDS.help(), value_parser = bounded(&options::LEASE_SECONDS))]
    pub lease_seconds: Option<u64>,
    /// Run again from the start a migration that a dead or stopped run left unfinished,
    /// instead of resuming it from its checkpoint.
    #[arg(long)]
    pub restart: bool,
    /// Most read capacity units per second the scan may consume.
    #[arg(long, value_parser = options::parse_rate)]
    pub max_rcu: Option<f64>,
    /// Most write capacity units per second the apply may consume.
    #[arg(long, value_parser = options::parse_rate)]
    pub max_wcu: Option<f64>,
    /// The metadata table.
    #[command(flatten)]
    pub meta: MetaArgs,
    /// Where DynamoDB is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Guest limits and caching.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

impl RunArgs {
    /// Fills the options not given on the command line from a project's `drift.toml`.
    pub fn apply_defaults(&mut self, defaults: &Defaults) {
        self.concurrency = self.concurrency.or(defaults.concurrency);
        self.segments = self.segments.or(defaults.segments);
        self.page_size = self.page_size.or(defaults.page_size);
        self.apply_concurrency = self.apply_concurrency.or(defaults.apply_concurrency);
        self.work_dir = self.work_dir.take().or_else(|| defaults.work_dir.clone());
        self.max_attempts = self.max_attempts.or(defaults.max_attempts);
        self.lease_seconds = self.lease_seconds.or(defaults.lease_seconds);
        self.max_rcu = self.max_rcu.or(defaults.max_rcu);
        self.max_wcu = self.max_wcu.or(defaults.max_wcu);
        self.meta.apply_defaults(defaults);
        self.connection.apply_defaults(defaults);
        self.sandbox.apply_defaults(defaults);
    }

    /// Guest instances working in parallel.
    pub fn concurrency(&self) -> u32 {
        concurrency(self.concurrency)
    }

    /// Refuses the options in `unused` that were given: `command` does not use them, and an
    /// option silently ignored is worse than one refused.
    pub fn refuse_unused(&self, command: &str, unused: &[&str]) -> Result<()> {
        let given = [
            ("table", self.table.is_some()),
            ("segments", self.segments.is_some()),
            ("page-size", self.page_size.is_some()),
            ("fail-fast", self.fail_fast),
            ("max-rcu", self.max_rcu.is_some()),
            ("restart", self.restart),
            ("lease-seconds", self.lease_seconds.is_some()),
            ("provisioned", self.provisioned.is_some()),
            ("no-batch-updates", self.no_batch_updates),
            ("apply-concurrency", self.apply_concurrency.is_some()),
            ("keep-journal", self.keep_journal),
        ];
        for (flag, given) in given {
            if given && unused.contains(&flag) {
                anyhow::bail!("`{command}` does not use --{flag}: leave it out");
            }
        }
        Ok(())
    }

    /// The options of a `run` (or `undo`) with these arguments.
    pub fn options(&self, operation: Operation) -> RunOptions {
        RunOptions {
            operation,
            table: self.table.clone(),
            concurrency: self.concurrency() as usize,
            segments: options::SEGMENTS.or_default(self.segments) as u32,
            page_size: options::PAGE_SIZE.or_default(self.page_size) as i32,
            checkpoint_every: Duration::from_millis(
                options::CHECKPOINT_INTERVAL_MS.or_default(self.checkpoint_interval_ms),
            ),
            meta_table: self.meta.table(),
            billing: match self.provisioned {
                Some((read, write)) => Billing::Provisioned(read, write),
                None => Billing::PayPerRequest,
            },
            fail_fast: self.fail_fast,
            work_dir: self.work_dir.clone().unwrap_or_else(default_work_dir),
            apply_lanes: options::APPLY_CONCURRENCY.or_default(self.apply_concurrency) as usize,
            batch_updates: !self.no_batch_updates,
            keep_journal: self.keep_journal,
            policy: RetryPolicy {
                max_attempts: options::MAX_ATTEMPTS.or_default(self.max_attempts) as u32,
                ..RetryPolicy::default()
            },
            lease: Duration::from_secs(options::LEASE_SECONDS.or_default(self.lease_seconds)),
            restart: self.restart,
            capacity: Capacity::new(self.max_rcu, self.max_wcu),
        }
    }
}

/// The guest limits, which only matter when a migration runs: the commands that only read the
/// modules' info hide and refuse them.
pub const GUEST_LIMITS: &[&str] = &["deadline-ms", "memory-mb", "max-actions-per-item"];
/// What `plan` does not use: it takes no lock and writes nothing.
pub const NOT_FOR_PLAN: &[&str] = &[
    "restart",
    "lease-seconds",
    "provisioned",
    "no-batch-updates",
    "apply-concurrency",
    "keep-journal",
];
/// What `apply` does not use: the plan fixed what was scanned.
pub const NOT_FOR_APPLY: &[&str] = &[
    "table",
    "segments",
    "page-size",
    "fail-fast",
    "max-rcu",
    "restart",
];

fn parse_provisioned(text: &str) -> Result<(i64, i64), String> {
    let (read, write) = text.split_once(',').ok_or("expected RCU,WCU (e.g. 5,5)")?;
    let parse = |v: &str| {
        v.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or("capacity units are positive whole numbers")
    };
    Ok((parse(read)?, parse(write)?))
}

fn default_work_dir() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local").join("state"))
        })
        .unwrap_or_else(std::env::temp_dir)
        .join("drift-host")
        .join("journals")
}
