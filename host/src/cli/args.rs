//! The command line's arguments (clap), with their ranges, and their conversion into the
//! options of the library's stages.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use drift_host::aws::{Billing, Capacity, ConnectOptions, RetryPolicy};
use drift_host::engine::{self, loader, Limits, Runtime};
use drift_host::load::KeyAttribute;
use drift_host::metadata;
use drift_host::model::operation::Operation;
use drift_host::run::RunOptions;

/// Run DynamoDB data migrations compiled to WebAssembly components.
#[derive(Parser)]
#[command(name = "drift-host", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Run a migration over its table: scan, migrate every item, then apply the actions.
    #[command(
        after_help = "Example:\n  drift-host run users_v2.wasm --endpoint-url http://127.0.0.1:8000 --report -"
    )]
    Run(RunArgs),
    /// Undo an applied migration: scan its table again and apply `rollback`'s actions.
    #[command(
        after_help = "Example:\n  drift-host undo users_v2.wasm --endpoint-url http://127.0.0.1:8000"
    )]
    Undo(RunArgs),
    /// List the migrations recorded in the metadata table.
    #[command(after_help = "Example:\n  drift-host status --output json")]
    Status(StatusArgs),
    /// Run a migration over items from a file (DynamoDB JSON) and print its actions; writes nothing.
    #[command(
        after_help = "Example:\n  drift-host exec users_v2.wasm --input users.json --key id"
    )]
    Exec(ExecArgs),
    /// Print a migration's info() as JSON.
    #[command(after_help = "Example:\n  drift-host inspect users_v2.wasm")]
    Inspect(InspectArgs),
    /// Write items from a DynamoDB JSON file into a table (for samples and fixtures).
    #[command(after_help = "Example:\n  drift-host load users --input users.json --create-key id")]
    Load(LoadArgs),
    /// Remove the metadata table's lock left by a dead run (expired lease; any lease with --force).
    #[command(after_help = "Example:\n  drift-host unlock --meta-table drift_migrations")]
    Unlock(UnlockArgs),
}

/// `unlock`.
#[derive(Args)]
pub struct UnlockArgs {
    /// Remove the lock even if its lease has not expired (only if you know its run is dead).
    #[arg(long)]
    pub force: bool,
    /// The metadata table.
    #[command(flatten)]
    pub meta: MetaArgs,
    /// Where DynamoDB is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `load`.
#[derive(Args)]
pub struct LoadArgs {
    /// The table to write to.
    pub table: String,
    /// Items in DynamoDB JSON: `aws dynamodb scan` output or export lines; `-` for stdin.
    #[arg(long, short)]
    pub input: String,
    /// Create the table first (unless it exists) with this partition key, `name` or `name:N`.
    #[arg(long)]
    pub create_key: Option<KeyAttribute>,
    /// Sort key for a created table, `name` or `name:N`.
    #[arg(long, requires = "create_key")]
    pub create_sort_key: Option<KeyAttribute>,
    /// Where DynamoDB is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `run` and `undo`.
#[derive(Args)]
pub struct RunArgs {
    /// The migration: a component, or a core module implementing the drift:migration ABI.
    pub migration: PathBuf,
    /// Scan this table instead of the one the migration's info() names.
    #[arg(long)]
    pub table: Option<String>,
    /// Guest instances working in parallel.
    #[arg(long, default_value_t = default_concurrency(), value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Parallel scan segments (TotalSegments).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub segments: u32,
    /// How often progress is checkpointed while it advances, in milliseconds: a resumed run
    /// repeats about this much work.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..))]
    pub checkpoint_interval_ms: u64,
    /// Items per Scan request.
    #[arg(long, default_value_t = drift_host::source::scan::PAGE_SIZE,
          value_parser = clap::value_parser!(i32).range(1..))]
    pub page_size: i32,
    /// Stop the scan at the first item that fails.
    #[arg(long)]
    pub fail_fast: bool,
    /// Send every update as its own UpdateItem instead of batching plain updates as PartiQL
    /// statements (BatchExecuteStatement).
    #[arg(long)]
    pub no_batch_updates: bool,
    /// Concurrent write lanes while applying.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub apply_concurrency: u32,
    /// Where journals are spooled (default: ~/.local/state/drift-host/journals).
    #[arg(long, env = "DRIFT_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// Keep the journal after a successful apply.
    #[arg(long)]
    pub keep_journal: bool,
    /// Write the run's report as JSON to this file (`-` for stdout), whether it succeeded or not.
    #[arg(long)]
    pub report: Option<String>,
    /// Create the metadata table with provisioned capacity `RCU,WCU` instead of on-demand.
    #[arg(long, value_parser = parse_provisioned)]
    pub provisioned: Option<(i64, i64)>,
    /// Attempts per DynamoDB request before giving up (throttling, 5xx, timeouts).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Lease of the metadata table's lock, in seconds; renewed every third of it.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(3..))]
    pub lease_seconds: u64,
    /// Run again from the start a migration that a dead or stopped run left unfinished,
    /// instead of resuming it from its checkpoint.
    #[arg(long)]
    pub restart: bool,
    /// Most read capacity units per second the scan may consume.
    #[arg(long, value_parser = positive)]
    pub max_rcu: Option<f64>,
    /// Most write capacity units per second the apply may consume.
    #[arg(long, value_parser = positive)]
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
    /// The options of a `run` (or `undo`) with these arguments.
    pub fn options(&self, operation: Operation) -> RunOptions {
        RunOptions {
            operation,
            table: self.table.clone(),
            concurrency: self.concurrency as usize,
            segments: self.segments,
            page_size: self.page_size,
            checkpoint_every: Duration::from_millis(self.checkpoint_interval_ms),
            meta_table: self.meta.meta_table.clone(),
            billing: match self.provisioned {
                Some((read, write)) => Billing::Provisioned(read, write),
                None => Billing::PayPerRequest,
            },
            fail_fast: self.fail_fast,
            work_dir: self.work_dir.clone().unwrap_or_else(default_work_dir),
            apply_lanes: self.apply_concurrency as usize,
            batch_updates: !self.no_batch_updates,
            keep_journal: self.keep_journal,
            policy: RetryPolicy {
                max_attempts: self.max_attempts,
                ..RetryPolicy::default()
            },
            lease: Duration::from_secs(self.lease_seconds),
            restart: self.restart,
            capacity: Capacity::new(self.max_rcu, self.max_wcu),
        }
    }
}

/// `status`.
#[derive(Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// The metadata table.
    #[command(flatten)]
    pub meta: MetaArgs,
    /// Where DynamoDB is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// How `status` prints.
#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// A text table.
    Table,
    /// One JSON document.
    Json,
}

/// The metadata table's name.
#[derive(Args)]
pub struct MetaArgs {
    /// The metadata table.
    #[arg(long, default_value = metadata::DEFAULT_TABLE)]
    pub meta_table: String,
}

/// Where DynamoDB is; otherwise the standard AWS configuration chain decides.
#[derive(Args)]
pub struct ConnectionArgs {
    /// Endpoint URL, e.g. http://127.0.0.1:8000 for DynamoDB Local.
    #[arg(long, env = "DRIFT_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// AWS region.
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile.
    #[arg(long)]
    pub profile: Option<String>,
}

impl ConnectionArgs {
    /// The connection options.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions {
            endpoint_url: self.endpoint_url.clone(),
            region: self.region.clone(),
            profile: self.profile.clone(),
        }
    }
}

/// `exec`.
#[derive(Args)]
pub struct ExecArgs {
    /// The migration: a component, or a core module implementing the drift:migration ABI.
    pub migration: PathBuf,
    /// Items in DynamoDB JSON: `aws dynamodb scan` output or export lines; `-` for stdin.
    #[arg(long, short)]
    pub input: String,
    /// Call `rollback` instead of `migrate`.
    #[arg(long)]
    pub rollback: bool,
    /// Key attribute names (e.g. `id` or `pk,sk`), to name items in output and errors.
    #[arg(long, value_delimiter = ',')]
    pub key: Vec<String>,
    /// Guest instances working in parallel.
    #[arg(long, default_value_t = default_concurrency(), value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Guest limits and caching.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// `inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// The migration.
    pub migration: PathBuf,
    /// Guest limits and caching.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Limits and caching shared by every command that loads a migration.
#[derive(Args)]
pub struct SandboxArgs {
    /// CPU deadline of one guest call, in milliseconds.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub deadline_ms: u64,
    /// Memory cap of one guest instance, in MiB.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub memory_mb: u64,
    /// Most actions one item may produce.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_actions_per_item: u64,
    /// Directory for compiled components (default: ~/.cache/drift-host/components).
    #[arg(long, env = "DRIFT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Compile every time; read and write no cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl SandboxArgs {
    /// Loads the migration at `path` for `instances` guest instances.
    pub fn load(&self, path: &Path, instances: u32) -> Result<Arc<engine::LoadedMigration>> {
        let limits = Limits {
            deadline: Duration::from_millis(self.deadline_ms),
            memory_bytes: (self.memory_mb as usize) << 20,
            max_actions_per_item: self.max_actions_per_item as usize,
        };
        let runtime = Runtime::new(limits, instances)?;
        let cache = match (self.no_cache, &self.cache_dir) {
            (true, _) => None,
            (false, Some(dir)) => Some(dir.clone()),
            (false, None) => loader::default_cache_dir(),
        };
        Ok(Arc::new(engine::load(&runtime, path, cache.as_deref())?))
    }
}

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

fn positive(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n > 0.0)
        .ok_or_else(|| "expected a positive number".to_owned())
}

fn default_concurrency() -> u32 {
    std::thread::available_parallelism().map_or(2, |n| n.get() as u32)
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
