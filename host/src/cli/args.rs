//! The command line's arguments (clap), with their ranges, and their conversion into the
//! options of the library's stages.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use drift_host::aws::{Billing, Capacity, ConnectOptions, RetryPolicy};
use drift_host::engine::{self, loader, Limits, Runtime};
use drift_host::metadata;
use drift_host::model::key::KeyAttribute;
use drift_host::model::names::parse_table_name;
use drift_host::model::operation::Operation;
use drift_host::model::options::{self, Bounded};
use drift_host::project::config::Defaults;
use drift_host::project::folder::Folder;
use drift_host::run::RunOptions;

/// The exit codes every command's help lists (README, "Exit codes").
macro_rules! exit_codes {
    () => {
        "\nExit codes:\n  0  success; also nothing to do (already applied, nothing pending)\n  \
         1  the migration ran and failed (items failed, apply failed, cancelled, lease lost); \
         plan/test/exec: failed items or cases; tables: changes pending\n  \
         2  bad input, module or configuration, unreachable DynamoDB: nothing ran\n  \
         3  refused: locked, a changed module, cannot resume, out of order\n\
         With --output json, stdout holds one JSON document with its \"exit_code\"."
    };
}

/// Run DynamoDB data migrations compiled to WebAssembly components.
#[derive(Parser)]
#[command(name = "drift-host", version, about, after_help = exit_codes!())]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Say more: debug lines (-vv: trace). `DRIFT_LOG` takes a tracing filter instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Say less: warnings and errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Run a migration over its table (scan, migrate every item, then apply the actions), or
    /// every pending migration of a folder in order.
    #[command(
        after_help = concat!("Examples:\n  drift-host run users_v2.wasm --endpoint-url http://127.0.0.1:8000 --report -\n  drift-host run migrations/", exit_codes!())
    )]
    Run(RunCommandArgs),
    /// Undo an applied migration (scan its table again and apply `rollback`'s actions), or a
    /// folder's migrations above `--to N`, newest first.
    #[command(
        after_help = concat!("Examples:\n  drift-host undo users_v2.wasm --endpoint-url http://127.0.0.1:8000\n  drift-host undo migrations/ --to 1", exit_codes!())
    )]
    Undo(UndoArgs),
    /// List the migrations recorded in the metadata table, or where each migration of a
    /// folder stands (applied, pending, modified, missing, failed, running).
    #[command(
        after_help = concat!("Examples:\n  drift-host status --output json\n  drift-host status migrations/", exit_codes!())
    )]
    Status(StatusArgs),
    /// Record a folder's migrations up to N as applied without running them (for tables that
    /// already have that shape).
    #[command(
        after_help = concat!("Example:\n  drift-host baseline migrations/ --up-to 3 --reason \"tables made by the old script\"", exit_codes!())
    )]
    Baseline(BaselineArgs),
    /// Accept the current checksum of modified applied migrations and clear failed records
    /// (the next run starts them over), noting who, when and why in each record.
    #[command(
        after_help = concat!("Example:\n  drift-host repair migrations/ --reason \"comment-only change in 0002\"", exit_codes!())
    )]
    Repair(RepairArgs),
    /// Compare the tables declared in a folder's drift.toml with the account; `--apply` creates
    /// the missing ones, adds missing global indexes, sets TTL and billing.
    #[command(
        after_help = concat!("Examples:\n  drift-host tables migrations/\n  drift-host tables migrations/ --apply\n  drift-host tables migrations/ --prune --confirm old_users", exit_codes!())
    )]
    Tables(TablesArgs),
    /// Scaffold a migration project (Rust, AssemblyScript, TypeScript, Python or C) with the
    /// next free number of a migrations folder: it builds out of the box and has a sample, a
    /// test case and a unit test.
    #[command(
        after_help = concat!("Examples:\n  drift-host new add_email_lower --lang rust --table users\n  drift-host new copy_orders --lang assemblyscript --dir migrations --table orders --key pk,sk\n  drift-host new tag_orders --lang ts --table orders --key pk,sk\n  drift-host new fix_names --lang python --table users\n  drift-host new trim_tags --lang c --table items", exit_codes!())
    )]
    New(NewArgs),
    /// Run a migration over items from a file (DynamoDB JSON) and print its actions; writes nothing.
    #[command(
        after_help = concat!("Example:\n  drift-host exec users_v2.wasm --input users.json --key id", exit_codes!())
    )]
    Exec(ExecArgs),
    /// Show what a run would do (actions by table and kind, failed items, capacity, items
    /// before and after), writing nothing; `--out PLAN` keeps it for `apply`.
    #[command(
        after_help = concat!("Examples:\n  drift-host plan users_v2.wasm --sample 5\n  drift-host plan users_v2.wasm --out plans/users_v2 --output json", exit_codes!())
    )]
    Plan(PlanArgs),
    /// Apply a plan that `plan --out` kept, and record the migration as `run` would.
    #[command(after_help = concat!("Example:\n  drift-host apply plans/users_v2", exit_codes!()))]
    Apply(ApplyArgs),
    /// Run a migration's test cases offline (input items, and the expected tables, actions or
    /// errors); `--update` rewrites the expectations.
    #[command(
        after_help = concat!("Examples:\n  drift-host test users_v2.wasm --cases cases/\n  drift-host test users_v2.wasm --cases cases/ --update", exit_codes!())
    )]
    Test(TestArgs),
    /// Print a migration's info() as JSON.
    #[command(after_help = concat!("Example:\n  drift-host inspect users_v2.wasm", exit_codes!()))]
    Inspect(InspectArgs),
    /// Write items from a DynamoDB JSON file into a table (for samples and fixtures).
    #[command(after_help = concat!("Example:\n  drift-host load users --input users.json --create-key id", exit_codes!()))]
    Load(LoadArgs),
    /// Remove the metadata table's lock left by a dead run (expired lease; any lease with --force).
    #[command(after_help = concat!("Example:\n  drift-host unlock --meta-table drift_migrations", exit_codes!()))]
    Unlock(UnlockArgs),
}

impl Command {
    /// The output format the command was asked for (text for commands without `--output`).
    pub fn output(&self) -> OutputFormat {
        match self {
            Command::Run(args) => args.run.output,
            Command::Undo(args) => args.run.output,
            Command::Plan(args) => args.run.output,
            Command::Apply(args) => args.run.output,
            Command::Status(args) => args.output,
            Command::Tables(args) => args.output,
            Command::Exec(args) => args.output,
            Command::Test(args) => args.output,
            _ => OutputFormat::Text,
        }
    }
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
    #[arg(value_parser = parse_table_name)]
    pub table: String,
    /// Items in DynamoDB JSON: `aws dynamodb scan` output or export lines; `-` for stdin.
    #[arg(long, short)]
    pub input: String,
    /// Create the table first (unless it exists) with this partition key, `name` (a string)
    /// or `name:S|N|B`.
    #[arg(long, value_parser = KeyAttribute::parse_or_string)]
    pub create_key: Option<KeyAttribute>,
    /// Sort key for a created table, `name` (a string) or `name:S|N|B`.
    #[arg(long, requires = "create_key", value_parser = KeyAttribute::parse_or_string)]
    pub create_sort_key: Option<KeyAttribute>,
    /// Where DynamoDB is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `run`.
#[derive(Args)]
pub struct RunCommandArgs {
    /// The migration (a component, or a core module implementing the drift:migration ABI), or
    /// a folder of them (`*.wasm`, with an optional drift.toml).
    pub migration: PathBuf,
    /// How to run.
    #[command(flatten)]
    pub run: RunArgs,
    /// For a folder: also run pending migrations numbered below the highest applied one.
    #[arg(long)]
    pub out_of_order: bool,
    /// For a folder: do not create or change the tables declared in drift.toml first.
    #[arg(long)]
    pub no_tables: bool,
}

/// `undo`.
#[derive(Args)]
pub struct UndoArgs {
    /// The migration, or a folder of them.
    pub migration: PathBuf,
    /// How to undo.
    #[command(flatten)]
    pub run: RunArgs,
    /// For a folder: undo the applied migrations numbered above N, newest first (0: all).
    #[arg(long)]
    pub to: Option<u64>,
}

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
            planned: None,
        }
    }
}

/// `status`.
#[derive(Args)]
pub struct StatusArgs {
    /// A migrations folder: show each of its migrations against the records.
    pub dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// The metadata table.
    #[command(flatten)]
    pub meta: MetaArgs,
    /// Where DynamoDB is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Guest limits and caching (to read a folder's modules).
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// `baseline`.
#[derive(Args)]
pub struct BaselineArgs {
    /// The migrations folder.
    pub dir: PathBuf,
    /// Record the migrations numbered up to this one.
    #[arg(long)]
    pub up_to: u64,
    /// Why (kept in each record's notes with who and when).
    #[arg(long)]
    pub reason: String,
    /// Where and how.
    #[command(flatten)]
    pub project: ProjectArgs,
}

/// `repair`.
#[derive(Args)]
pub struct RepairArgs {
    /// The migrations folder.
    pub dir: PathBuf,
    /// Why (kept in each record's notes with who and when).
    #[arg(long)]
    pub reason: String,
    /// Where and how.
    #[command(flatten)]
    pub project: ProjectArgs,
}

/// `tables`.
#[derive(Args)]
pub struct TablesArgs {
    /// The migrations folder, whose drift.toml declares the tables.
    pub dir: PathBuf,
    /// Create missing tables, add missing global indexes, set TTL and billing.
    #[arg(long)]
    pub apply: bool,
    /// Delete the tables this project created and no longer declares: each must be named
    /// with --confirm.
    #[arg(long)]
    pub prune: bool,
    /// A table --prune may delete (repeat the option for several).
    #[arg(long, requires = "prune")]
    pub confirm: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Where and how.
    #[command(flatten)]
    pub project: ProjectArgs,
}

/// `new`.
#[derive(Args)]
pub struct NewArgs {
    /// The migration's name: lower-case letters, digits and `_`.
    pub name: String,
    /// Its language.
    #[arg(long, value_enum)]
    pub lang: Lang,
    /// The migrations folder (its modules and project folders decide the number).
    #[arg(long, default_value = "migrations")]
    pub dir: PathBuf,
    /// The table it scans.
    #[arg(long, default_value = "items", value_parser = parse_table_name)]
    pub table: String,
    /// The table's key attributes: partition key, and sort key if any.
    #[arg(long, value_delimiter = ',', default_value = "id")]
    pub key: Vec<String>,
    /// Guest limits and caching (to read the folder's modules).
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// A language `new` scaffolds; each also answers to its short name.
#[derive(Clone, Copy, ValueEnum)]
pub enum Lang {
    /// A cdylib crate on drift-sdk (also `rs`).
    #[value(alias = "rs")]
    Rust,
    /// An npm project on @drift/sdk (also `as`).
    #[value(alias = "as")]
    Assemblyscript,
    /// A TypeScript npm project on @drift/sdk-js, run by QuickJS (also `ts`, `js`,
    /// `javascript`).
    #[value(aliases = ["ts", "js", "javascript"])]
    Typescript,
    /// A Python module on drift_sdk, built by componentize-py (also `py`).
    #[value(alias = "py")]
    Python,
    /// A C file on the C SDK, built by clang and wasi-libc.
    C,
}

/// The options of the folder commands that take the lock without running a migration.
#[derive(Args)]
pub struct ProjectArgs {
    /// Lease of the metadata table's lock ([`options::LEASE_SECONDS`]).
    #[arg(long, help = options::LEASE_SECONDS.help(), value_parser = bounded(&options::LEASE_SECONDS))]
    pub lease_seconds: Option<u64>,
    /// The metadata table.
    #[command(flatten)]
    pub meta: MetaArgs,
    /// Where DynamoDB is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Guest limits and caching (to read the folder's modules).
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

impl ExecArgs {
    /// Guest instances working in parallel.
    pub fn concurrency(&self) -> u32 {
        concurrency(self.concurrency)
    }
}

impl ProjectArgs {
    /// Fills the options not given on the command line from a project's `drift.toml`.
    pub fn apply_defaults(&mut self, defaults: &Defaults) {
        self.lease_seconds = self.lease_seconds.or(defaults.lease_seconds);
        self.meta.apply_defaults(defaults);
        self.connection.apply_defaults(defaults);
        self.sandbox.apply_defaults(defaults);
    }

    /// Options for a session on the metadata table (no migration runs with them).
    pub fn options(&self) -> RunOptions {
        let run = RunArgs {
            table: None,
            concurrency: Some(1),
            segments: None,
            checkpoint_interval_ms: None,
            page_size: None,
            fail_fast: false,
            no_batch_updates: false,
            apply_concurrency: None,
            work_dir: None,
            keep_journal: false,
            report: None,
            output: OutputFormat::Text,
            provisioned: None,
            max_attempts: None,
            lease_seconds: self.lease_seconds,
            restart: false,
            max_rcu: None,
            max_wcu: None,
            meta: MetaArgs {
                meta_table: self.meta.meta_table.clone(),
            },
            connection: ConnectionArgs::default(),
            sandbox: SandboxArgs::default(),
        };
        run.options(Operation::Migrate)
    }
}

/// How a command prints its result.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people: text and tables (`table` is the same).
    #[value(alias = "table")]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// The metadata table's name.
#[derive(Args)]
pub struct MetaArgs {
    /// The metadata table [default: drift_migrations].
    #[arg(long, value_parser = parse_table_name)]
    pub meta_table: Option<String>,
}

impl MetaArgs {
    /// Fills the table not given on the command line from a project's `drift.toml`.
    pub fn apply_defaults(&mut self, defaults: &Defaults) {
        self.meta_table = self
            .meta_table
            .take()
            .or_else(|| defaults.meta_table.clone());
    }

    /// The metadata table's name.
    pub fn table(&self) -> String {
        self.meta_table
            .clone()
            .unwrap_or_else(|| metadata::DEFAULT_TABLE.to_owned())
    }
}

/// Where DynamoDB is; otherwise the standard AWS configuration chain decides.
#[derive(Args, Default)]
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
    /// Fills what the command line did not give from a project's `drift.toml`.
    pub fn apply_defaults(&mut self, defaults: &Defaults) {
        self.endpoint_url = self
            .endpoint_url
            .take()
            .or_else(|| defaults.endpoint_url.clone());
        self.region = self.region.take().or_else(|| defaults.region.clone());
        self.profile = self.profile.take().or_else(|| defaults.profile.clone());
    }

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
    /// `json`: one JSON document on stdout (summary, actions, failures with keys) instead of
    /// one line per action.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Show each item before and after its actions instead of the actions.
    #[arg(long, conflicts_with = "output")]
    pub diff: bool,
    /// Key attribute names (e.g. `id` or `pk,sk`), to name items in output and errors.
    #[arg(long, value_delimiter = ',')]
    pub key: Vec<String>,
    /// Guest instances working in parallel ([`options::CONCURRENCY`]).
    #[arg(long, help = options::CONCURRENCY.help(), value_parser = bounded(&options::CONCURRENCY))]
    pub concurrency: Option<u64>,
    /// Guest limits and caching.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// `plan`.
#[derive(Args)]
pub struct PlanArgs {
    /// The migration, or a folder of them (its first pending migration is planned).
    pub migration: PathBuf,
    /// Keep the plan (journal and plan.json) in this folder, for `drift-host apply`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Items shown before and after their actions.
    #[arg(long, default_value_t = 3)]
    pub sample: usize,
    /// Plan the migration's undo (`rollback`) instead.
    #[arg(long)]
    pub undo: bool,
    /// How to scan.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `apply`.
#[derive(Args)]
pub struct ApplyArgs {
    /// The plan folder `plan --out` wrote.
    pub plan: PathBuf,
    /// The module (default: the file the plan was made from); it must be the planned one.
    #[arg(long)]
    pub migration: Option<PathBuf>,
    /// How to apply.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `test`.
#[derive(Args)]
pub struct TestArgs {
    /// The migration.
    pub migration: PathBuf,
    /// The folder of test cases.
    #[arg(long)]
    pub cases: PathBuf,
    /// Rewrite each failing case's expectation from what the migration does.
    #[arg(long)]
    pub update: bool,
    /// Call `rollback` instead of `migrate`.
    #[arg(long)]
    pub rollback: bool,
    /// Key attributes of the migration's table (e.g. `id` or `pk,sk`): name items, and key the
    /// inputs when no action says the key.
    #[arg(long, value_delimiter = ',')]
    pub key: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
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
#[derive(Args, Default)]
pub struct SandboxArgs {
    /// CPU deadline of one guest call ([`options::DEADLINE_MS`]).
    #[arg(long, help = options::DEADLINE_MS.help(), value_parser = bounded(&options::DEADLINE_MS))]
    pub deadline_ms: Option<u64>,
    /// Memory cap of one guest instance ([`options::MEMORY_MB`]).
    #[arg(long, help = options::MEMORY_MB.help(), value_parser = bounded(&options::MEMORY_MB))]
    pub memory_mb: Option<u64>,
    /// Most actions one item may produce ([`options::MAX_ACTIONS_PER_ITEM`]).
    #[arg(
        long,
        help = options::MAX_ACTIONS_PER_ITEM.help(),
        value_parser = bounded(&options::MAX_ACTIONS_PER_ITEM)
    )]
    pub max_actions_per_item: Option<u64>,
    /// Directory for compiled components (default: ~/.cache/drift-host/components).
    #[arg(long, env = "DRIFT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Compile every time; read and write no cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl SandboxArgs {
    /// Fills the limits not given on the command line from a project's `drift.toml`.
    pub fn apply_defaults(&mut self, defaults: &Defaults) {
        self.deadline_ms = self.deadline_ms.or(defaults.deadline_ms);
        self.memory_mb = self.memory_mb.or(defaults.memory_mb);
    }

    /// Loads the migration at `path` for `instances` guest instances.
    pub fn load(&self, path: &Path, instances: u32) -> Result<Arc<engine::LoadedMigration>> {
        let runtime = self.runtime(instances)?;
        Ok(Arc::new(engine::load(
            &runtime,
            path,
            self.cache().as_deref(),
        )?))
    }

    /// Loads every module of the folder `dir` (one runtime for all: they run one at a time).
    pub fn load_folder(&self, dir: &Path, instances: u32) -> Result<Folder> {
        let runtime = self.runtime(instances)?;
        let cache = self.cache();
        Folder::open(dir, |path| {
            Ok(Arc::new(engine::load(&runtime, path, cache.as_deref())?))
        })
    }

    fn runtime(&self, instances: u32) -> Result<Arc<Runtime>> {
        let limits = Limits {
            deadline: Duration::from_millis(options::DEADLINE_MS.or_default(self.deadline_ms)),
            memory_bytes: (options::MEMORY_MB.or_default(self.memory_mb) as usize) << 20,
            max_actions_per_item: options::MAX_ACTIONS_PER_ITEM
                .or_default(self.max_actions_per_item) as usize,
        };
        Runtime::new(limits, instances)
    }

    fn cache(&self) -> Option<PathBuf> {
        match (self.no_cache, &self.cache_dir) {
            (true, _) => None,
            (false, Some(dir)) => Some(dir.clone()),
            (false, None) => loader::default_cache_dir(),
        }
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

/// The command line's parser of a whole-number option: its range, from its one definition.
fn bounded(option: &'static Bounded) -> impl Fn(&str) -> Result<u64, String> + Clone {
    move |text| option.parse(text)
}

/// Guest instances: as given, else one per CPU (within the option's range).
fn concurrency(given: Option<u64>) -> u32 {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get() as u64);
    given
        .unwrap_or(cpus)
        .clamp(options::CONCURRENCY.min, options::CONCURRENCY.max) as u32
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
