//! The options of the commands that run a migration (`run`, `undo`, `plan`, `apply`), and
//! which of them `plan` and `apply` do not take.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use drift_host::aws::{Billing, Throughput};
use drift_host::metadata::workers::worker_index;
use drift_host::model::guard::GuardMode;
use drift_host::model::names::parse_table_name;
use drift_host::model::operation::Operation;
use drift_host::model::options::{self, Given};
use drift_host::run::workers::WorkerPlace;
use drift_host::run::{LiveOptions, RunFlags, RunOptions, Settings};

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
    #[arg(long, value_parser = str::parse::<Throughput>)]
    pub provisioned: Option<Throughput>,
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
    /// Processes sharing this run ([`options::WORKERS`]); segments are claimed in the metadata
    /// table, and the apply waits until every worker's scan is done.
    #[arg(long, help = options::WORKERS.help(), value_parser = bounded(&options::WORKERS))]
    pub workers: Option<u64>,
    /// This worker's index, 0 to N-1 (default: JOB_COMPLETION_INDEX, else
    /// AWS_BATCH_JOB_ARRAY_INDEX).
    #[arg(long, requires = "workers")]
    pub worker_index: Option<u32>,
    /// Migrate a table the application keeps writing: every write is conditioned on the item
    /// being as it was read, and the changes made during the run are caught up from the
    /// table's stream (the migration must be idempotent).
    #[arg(long, conflicts_with = "workers")]
    pub live: bool,
    /// With --live: enable a NEW_AND_OLD_IMAGES stream on a table that has none.
    #[arg(long, requires = "live")]
    pub enable_stream: bool,
    /// With --live: guard writes by this attribute, which the application changes on every
    /// write (default: every attribute of the item as read).
    #[arg(long, requires = "live", value_name = "NAME", value_parser = parse_attribute_name)]
    pub version_attribute: Option<String>,
    /// With --live: seconds of quiet on the stream that end the run ([`options::LIVE_QUIET_SECONDS`]).
    #[arg(
        long,
        requires = "live",
        value_name = "SECONDS",
        help = options::LIVE_QUIET_SECONDS.help(),
        value_parser = bounded(&options::LIVE_QUIET_SECONDS)
    )]
    pub live_quiet: Option<u64>,
    /// Serve the run's metrics at this address (Prometheus text exposition, any path), e.g.
    /// 127.0.0.1:9464 or 0.0.0.0:9464.
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// With --live: keep following the stream until SIGTERM or Ctrl-C, then catch up and end.
    #[arg(long, requires = "live", conflicts_with = "live_quiet")]
    pub follow: bool,
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
    /// What the command line gives, for [`Settings`].
    pub fn given(&self) -> Given {
        Given {
            concurrency: self.concurrency,
            segments: self.segments,
            page_size: self.page_size,
            apply_concurrency: self.apply_concurrency,
            checkpoint_interval_ms: self.checkpoint_interval_ms,
            work_dir: self.work_dir.clone(),
            lease_seconds: self.lease_seconds,
            max_attempts: self.max_attempts,
            max_rcu: self.max_rcu,
            max_wcu: self.max_wcu,
            ..self
                .meta
                .given()
                .over(&self.connection.given())
                .over(&self.sandbox.given())
        }
    }

    /// The command line over `project`'s drift.toml (if any) over the defaults.
    pub fn settings(&self, project: Option<&Given>) -> Settings {
        Settings::new(self.given(), project)
    }

    /// The options only the command line gives.
    pub fn flags(&self) -> RunFlags {
        RunFlags {
            table: self.table.clone(),
            fail_fast: self.fail_fast,
            batch_updates: !self.no_batch_updates,
            keep_journal: self.keep_journal,
            restart: self.restart,
            billing: self
                .provisioned
                .map_or(Billing::OnDemand, Billing::Provisioned),
            live: self.live.then(|| LiveOptions {
                mode: match &self.version_attribute {
                    Some(name) => GuardMode::Version(name.clone()),
                    None => GuardMode::Image,
                },
                enable_stream: self.enable_stream,
                quiet: std::time::Duration::from_secs(
                    options::LIVE_QUIET_SECONDS.or_default(self.live_quiet),
                ),
                follow: self.follow,
                connection: Default::default(),
            }),
        }
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
            ("workers", self.workers.is_some()),
            ("live", self.live),
            ("metrics-addr", self.metrics_addr.is_some()),
        ];
        for (flag, given) in given {
            if given && unused.contains(&flag) {
                anyhow::bail!("`{command}` does not use --{flag}: leave it out");
            }
        }
        Ok(())
    }

    /// The options of a `run` (or `undo`) with these arguments and `settings`; with
    /// `--workers N` and no segment count given, 4 segments per worker, so that a worker done
    /// early claims more.
    pub fn options(&self, settings: &Settings, operation: Operation) -> RunOptions {
        let mut options = settings.run(operation, self.flags());
        if let (Some(workers), false) = (self.workers, settings.segments_given()) {
            options.segments = (workers * 4).min(options::SEGMENTS.max) as u32;
        }
        options
    }

    /// This process's place in a multi-worker run (`--workers`), its index from
    /// `--worker-index` or the job engine's environment; `None` without `--workers`.
    pub fn place(&self) -> Result<Option<WorkerPlace>> {
        let Some(workers) = self.workers else {
            return Ok(None);
        };
        let workers = workers as u32;
        let index = worker_index(self.worker_index, |name| std::env::var(name).ok(), workers)?;
        Ok(Some(WorkerPlace { workers, index }))
    }
}

/// An attribute name as DynamoDB takes it: 1 to 255 bytes.
fn parse_attribute_name(name: &str) -> Result<String, String> {
    match name.len() {
        1..=255 => Ok(name.to_owned()),
        _ => Err("an attribute name is 1 to 255 bytes long".to_owned()),
    }
}

/// The guest limits, which only matter when a migration runs: the commands that only read the
/// modules' info hide and refuse them.
pub const GUEST_LIMITS: &[&str] = &["deadline-ms", "memory-mb", "max-actions-per-item"];
/// What `plan` does not use: it takes no lock and writes nothing.
pub const NOT_FOR_PLAN: &[&str] = &[
    "workers",
    "live",
    "metrics-addr",
    "restart",
    "lease-seconds",
    "provisioned",
    "no-batch-updates",
    "apply-concurrency",
    "keep-journal",
];
/// What `apply` does not use: the plan fixed what was scanned.
pub const NOT_FOR_APPLY: &[&str] = &[
    "workers",
    "live",
    "metrics-addr",
    "table",
    "segments",
    "page-size",
    "fail-fast",
    "max-rcu",
    "restart",
];
