//! The command line's arguments (clap), with their ranges, and their conversion into the
//! options of the library's stages.

mod run;
mod shared;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use drift_host::model::key::KeyAttribute;
use drift_host::model::names::parse_table_name;
use drift_host::model::options::{self, Given};
use drift_host::run::Settings;

pub use run::*;
pub use shared::*;

/// Leaves an option a command does not use out of its help (it is refused if given: see
/// [`RunArgs::refuse_unused`]).
fn hidden(arg: clap::Arg) -> clap::Arg {
    arg.hide(true)
}

/// The exit codes every command's help lists (README, "Exit codes").
macro_rules! exit_codes {
    () => {
        "\nExit codes:\n  0  success; also nothing to do (already applied, nothing pending)\n  \
         1  the migration ran and failed (items failed, apply failed, cancelled, lease lost); \
         plan/test/exec: failed items or cases; tables: changes pending\n  \
         2  bad input, module or configuration, unreachable DynamoDB: nothing ran\n  \
         3  refused: locked, a changed module, cannot resume, out of order\n  \
         4  run --workers: this worker stopped alone (cancelled, lease lost); the run goes on\n\
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
    ,
        mut_arg("deadline_ms", hidden),
        mut_arg("memory_mb", hidden),
        mut_arg("max_actions_per_item", hidden))]
    Status(StatusArgs),
    /// Record a folder's migrations up to N as applied without running them (for tables that
    /// already have that shape).
    #[command(
        after_help = concat!("Example:\n  drift-host baseline migrations/ --up-to 3 --reason \"tables made by the old script\"", exit_codes!())
    ,
        mut_arg("deadline_ms", hidden),
        mut_arg("memory_mb", hidden),
        mut_arg("max_actions_per_item", hidden))]
    Baseline(BaselineArgs),
    /// Accept the current checksum of modified applied migrations and clear failed records
    /// (the next run starts them over), noting who, when and why in each record.
    #[command(
        after_help = concat!("Example:\n  drift-host repair migrations/ --reason \"comment-only change in 0002\"", exit_codes!())
    ,
        mut_arg("deadline_ms", hidden),
        mut_arg("memory_mb", hidden),
        mut_arg("max_actions_per_item", hidden))]
    Repair(RepairArgs),
    /// Compare the tables declared in a folder's drift.toml with the account; `--apply` creates
    /// the missing ones, adds missing global indexes, sets TTL and billing.
    #[command(
        after_help = concat!("Examples:\n  drift-host tables migrations/\n  drift-host tables migrations/ --apply\n  drift-host tables migrations/ --prune --confirm old_users", exit_codes!())
    ,
        mut_arg("deadline_ms", hidden),
        mut_arg("memory_mb", hidden),
        mut_arg("max_actions_per_item", hidden))]
    Tables(TablesArgs),
    /// Scaffold a migration project (Rust, AssemblyScript, TypeScript, Python or C) with the
    /// next free number of a migrations folder: it builds out of the box and has a sample, a
    /// test case and a unit test.
    #[command(
        after_help = concat!("Examples:\n  drift-host new add_email_lower --lang rust --table users\n  drift-host new copy_orders --lang assemblyscript --dir migrations --table orders --key pk,sk\n  drift-host new tag_orders --lang ts --table orders --key pk,sk\n  drift-host new fix_names --lang python --table users\n  drift-host new trim_tags --lang c --table items", exit_codes!())
    ,
        mut_arg("deadline_ms", hidden),
        mut_arg("memory_mb", hidden),
        mut_arg("max_actions_per_item", hidden))]
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
    ,
        mut_arg("restart", hidden),
        mut_arg("lease_seconds", hidden),
        mut_arg("provisioned", hidden),
        mut_arg("no_batch_updates", hidden),
        mut_arg("apply_concurrency", hidden),
        mut_arg("keep_journal", hidden))]
    Plan(PlanArgs),
    /// Apply a plan that `plan --out` kept, and record the migration as `run` would.
    #[command(after_help = concat!("Example:\n  drift-host apply plans/users_v2", exit_codes!()),
        mut_arg("table", hidden),
        mut_arg("segments", hidden),
        mut_arg("page_size", hidden),
        mut_arg("fail_fast", hidden),
        mut_arg("max_rcu", hidden),
        mut_arg("restart", hidden))]
    Apply(ApplyArgs),
    /// Run a migration's test cases offline (input items, and the expected tables, actions or
    /// errors); `--update` rewrites the expectations.
    #[command(
        after_help = concat!("Examples:\n  drift-host test users_v2.wasm --cases cases/\n  drift-host test users_v2.wasm --cases cases/ --update\n  drift-host test users_v2.wasm --cases cases/ --idempotent", exit_codes!())
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
    /// Pause, resume, change the budgets of, or stop a running run (obeyed within a renewal of
    /// its lease).
    #[command(
        after_help = concat!("Examples:\n  drift-host control 2 pause\n  drift-host control 2 set --max-wcu 500\n  drift-host control 2 resume\n  drift-host control --run 7f3c... stop", exit_codes!())
    )]
    Control(ControlArgs),
}

/// `control`.
#[derive(Args)]
pub struct ControlArgs {
    /// The migration's number (or give --run).
    #[arg(required_unless_present = "run")]
    pub migration: Option<u64>,
    /// The run's id (as `status` shows it) instead of the migration's number.
    #[arg(long, conflicts_with = "migration")]
    pub run: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: ControlAction,
    /// `json`: print the control written as JSON.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub output: OutputFormat,
    /// The metadata table.
    #[command(flatten)]
    pub meta: MetaArgs,
    /// Where DynamoDB is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// What `control` tells the run.
#[derive(clap::Subcommand, Clone, Debug)]
pub enum ControlAction {
    /// Hold every request to the migrated tables (the run keeps its lease).
    Pause,
    /// Let the requests go again.
    Resume,
    /// Change the run's budgets.
    Set {
        /// Read capacity units per second.
        #[arg(long, value_parser = options::parse_rate)]
        max_rcu: Option<f64>,
        /// Write capacity units per second.
        #[arg(long, value_parser = options::parse_rate)]
        max_wcu: Option<f64>,
        /// Apply lanes writing at once (at most the run's --apply-concurrency).
        #[arg(long, value_parser = bounded(&options::APPLY_CONCURRENCY))]
        apply_concurrency: Option<u64>,
    },
    /// End the run cleanly; the next `run` resumes it.
    Stop,
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
            Command::Control(args) => args.output,
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

/// `status`.
#[derive(Args)]
pub struct StatusArgs {
    /// A migrations folder: show each of its migrations against the records.
    pub dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Show it again every SECONDS (2 without a value) while a migration is running, and end
    /// when none is (text output only).
    #[arg(
        long,
        value_name = "SECONDS",
        num_args = 0..=1,
        default_missing_value = "2",
        conflicts_with = "output",
        help = options::WATCH_SECONDS.help(),
        value_parser = bounded(&options::WATCH_SECONDS)
    )]
    pub watch: Option<u64>,
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

impl ExecArgs {
    /// The command line over the defaults.
    pub fn settings(&self) -> Settings {
        let given = Given {
            concurrency: self.concurrency,
            ..self.sandbox.given()
        };
        Settings::new(given, None)
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
    /// After the items: guest time and memory per item (p50, p99, max) against the deadline
    /// and the memory cap, and the slowest items (on stderr; under `--output json`, in the
    /// document as `profile`).
    #[arg(long)]
    pub profile: bool,
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
    /// Replace the plan `--out` already holds.
    #[arg(long, requires = "out")]
    pub force: bool,
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
    /// Also run the migration again over what it left: it must change nothing (what `run
    /// --live` needs).
    #[arg(long)]
    pub idempotent: bool,
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
    /// After the cases: guest time and memory per input item (p50, p99, max) against the
    /// deadline and the memory cap, and the slowest items (on stderr; under `--output json`,
    /// in the document as `profile`).
    #[arg(long)]
    pub profile: bool,
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
