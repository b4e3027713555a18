//! The `drift-host` command line.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use drift_host::capacity::Capacity;
use drift_host::dynamo::create_table;
use drift_host::dynamo::{connect, ConnectOptions, RetryPolicy};
use drift_host::engine::{self, loader, Call, Limits, Runtime};
use drift_host::exec::{exec, ExecOptions};
use drift_host::load::{load, KeyAttribute};
use drift_host::lock::{unlock, LostLease};
use drift_host::metadata::{self, Billing, MetadataTable, Operation, Status};
use drift_host::run::{
    report_progress, run, stop_on_signal, Progress, Refused, RunOptions, RunReport,
};
use tracing_subscriber::EnvFilter;

/// Exit code: success.
const EXIT_OK: u8 = 0;
/// Exit code: the migration ran and failed (items failed, apply failed, or it was cancelled).
const EXIT_FAILED: u8 = 1;
/// Exit code: bad input, bad module, unreachable endpoint, or another error before any item ran.
const EXIT_ERROR: u8 = 2;
/// Exit code: refused by the metadata table (already applied, changed module, running).
const EXIT_REFUSED: u8 = 3;

/// Run DynamoDB data migrations compiled to WebAssembly components.
#[derive(Parser)]
#[command(name = "drift-host", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a migration over its table: scan, migrate every item, then apply the actions.
    Run(RunArgs),
    /// Undo an applied migration: scan its table again and apply `rollback`'s actions.
    Undo(RunArgs),
    /// List the migrations recorded in the metadata table.
    Status(StatusArgs),
    /// Run a migration over items from a file (DynamoDB JSON) and print its actions; writes nothing.
    Exec(ExecArgs),
    /// Print a migration's info() as JSON.
    Inspect(InspectArgs),
    /// Write items from a DynamoDB JSON file into a table (for samples and fixtures).
    Load(LoadArgs),
    /// Remove the metadata table's lock left by a dead run (expired lease; any lease with --force).
    Unlock(UnlockArgs),
}

#[derive(Args)]
struct UnlockArgs {
    /// Remove the lock even if its lease has not expired (only if you know its run is dead).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    meta: MetaArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

#[derive(Args)]
struct LoadArgs {
    /// The table to write to.
    table: String,
    /// Items in DynamoDB JSON: `aws dynamodb scan` output or export lines; `-` for stdin.
    #[arg(long, short)]
    input: String,
    /// Create the table first (unless it exists) with this partition key, `name` or `name:N`.
    #[arg(long)]
    create_key: Option<KeyAttribute>,
    /// Sort key for a created table, `name` or `name:N`.
    #[arg(long, requires = "create_key")]
    create_sort_key: Option<KeyAttribute>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

#[derive(Args)]
struct RunArgs {
    /// The migration: a component, or a core module implementing the drift:migration ABI.
    migration: PathBuf,
    /// Scan this table instead of the one the migration's info() names.
    #[arg(long)]
    table: Option<String>,
    /// Guest instances working in parallel.
    #[arg(long, default_value_t = default_concurrency())]
    concurrency: usize,
    /// Parallel scan segments (TotalSegments).
    #[arg(long, default_value_t = 8)]
    segments: u32,
    /// How often progress is checkpointed while it advances, in milliseconds: a resumed run
    /// repeats about this much work.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..))]
    checkpoint_interval_ms: u64,
    /// Items per Scan request.
    #[arg(long, default_value_t = drift_host::source::scan::PAGE_SIZE,
          value_parser = clap::value_parser!(i32).range(1..))]
    page_size: i32,
    /// Stop the scan at the first item that fails.
    #[arg(long)]
    fail_fast: bool,
    /// Concurrent write lanes while applying.
    #[arg(long, default_value_t = 32)]
    apply_concurrency: usize,
    /// Where journals are spooled (default: ~/.local/state/drift-host/journals).
    #[arg(long, env = "DRIFT_WORK_DIR")]
    work_dir: Option<PathBuf>,
    /// Keep the journal after a successful apply.
    #[arg(long)]
    keep_journal: bool,
    /// Write the run's report as JSON to this file (`-` for stdout).
    #[arg(long)]
    report: Option<String>,
    /// Create the metadata table with provisioned capacity `RCU,WCU` instead of on-demand.
    #[arg(long, value_parser = parse_provisioned)]
    provisioned: Option<(i64, i64)>,
    /// Attempts per DynamoDB request before giving up (throttling, 5xx, timeouts).
    #[arg(long, default_value_t = 12)]
    max_attempts: u32,
    /// Lease of the metadata table's lock, in seconds; renewed every third of it.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(3..))]
    lease_seconds: u64,
    /// Run again from the start a migration that a dead or stopped run left unfinished,
    /// instead of resuming it from its checkpoint.
    #[arg(long)]
    restart: bool,
    /// Most read capacity units per second the scan may consume.
    #[arg(long, value_parser = positive)]
    max_rcu: Option<f64>,
    /// Most write capacity units per second the apply may consume.
    #[arg(long, value_parser = positive)]
    max_wcu: Option<f64>,
    #[command(flatten)]
    meta: MetaArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

#[derive(Args)]
struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    output: OutputFormat,
    #[command(flatten)]
    meta: MetaArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Table,
    Json,
}

#[derive(Args)]
struct MetaArgs {
    /// The metadata table.
    #[arg(long, default_value = metadata::DEFAULT_TABLE)]
    meta_table: String,
}

/// Where DynamoDB is; otherwise the standard AWS configuration chain decides.
#[derive(Args)]
struct ConnectionArgs {
    /// Endpoint URL, e.g. http://127.0.0.1:8000 for DynamoDB Local.
    #[arg(long, env = "DRIFT_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// AWS region.
    #[arg(long)]
    region: Option<String>,
    /// AWS profile.
    #[arg(long)]
    profile: Option<String>,
}

impl ConnectionArgs {
    fn options(&self) -> ConnectOptions {
        ConnectOptions {
            endpoint_url: self.endpoint_url.clone(),
            region: self.region.clone(),
            profile: self.profile.clone(),
        }
    }
}

#[derive(Args)]
struct ExecArgs {
    /// The migration: a component, or a core module implementing the drift:migration ABI.
    migration: PathBuf,
    /// Items in DynamoDB JSON: `aws dynamodb scan` output or export lines; `-` for stdin.
    #[arg(long, short)]
    input: String,
    /// Call `rollback` instead of `migrate`.
    #[arg(long)]
    rollback: bool,
    /// Key attribute names (e.g. `id` or `pk,sk`), to name items in output and errors.
    #[arg(long, value_delimiter = ',')]
    key: Vec<String>,
    /// Guest instances working in parallel.
    #[arg(long, default_value_t = default_concurrency())]
    concurrency: usize,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

#[derive(Args)]
struct InspectArgs {
    /// The migration.
    migration: PathBuf,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// Limits and caching shared by every command that loads a migration.
#[derive(Args)]
struct SandboxArgs {
    /// CPU deadline of one guest call, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    deadline_ms: u64,
    /// Memory cap of one guest instance, in MiB.
    #[arg(long, default_value_t = 256)]
    memory_mb: usize,
    /// Most actions one item may produce.
    #[arg(long, default_value_t = 10_000)]
    max_actions_per_item: usize,
    /// Directory for compiled components (default: ~/.cache/drift-host/components).
    #[arg(long, env = "DRIFT_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile every time; read and write no cache.
    #[arg(long)]
    no_cache: bool,
}

impl SandboxArgs {
    fn load(&self, path: &Path, instances: usize) -> Result<Arc<engine::LoadedMigration>> {
        let limits = Limits {
            deadline: Duration::from_millis(self.deadline_ms),
            memory_bytes: self.memory_mb << 20,
            max_actions_per_item: self.max_actions_per_item,
        };
        let runtime = Runtime::new(limits, instances as u32)?;
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

fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("DRIFT_LOG").unwrap_or_else(|_| {
                EnvFilter::new("warn,aws_config=error,drift_host=info,guest=info")
            }),
        )
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
    match dispatch(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", format!("{error:#}").replace('\n', " "));
            let code = if error.chain().any(|cause| cause.is::<Refused>()) {
                EXIT_REFUSED
            } else if error.chain().any(|cause| cause.is::<LostLease>()) {
                EXIT_FAILED
            } else {
                EXIT_ERROR
            };
            ExitCode::from(code)
        }
    }
}

fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Exec(args) => exec_command(args),
        Command::Inspect(args) => {
            let migration = args.sandbox.load(&args.migration, 1)?;
            let report = serde_json::json!({
                "info": migration.info,
                "checksum": migration.checksum,
                "kind": migration.kind,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(EXIT_OK)
        }
        Command::Run(args) => tokio_runtime()?.block_on(run_command(args, Operation::Migrate)),
        Command::Undo(args) => tokio_runtime()?.block_on(run_command(args, Operation::Undo)),
        Command::Status(args) => tokio_runtime()?.block_on(status_command(args)),
        Command::Load(args) => tokio_runtime()?.block_on(load_command(args)),
        Command::Unlock(args) => tokio_runtime()?.block_on(unlock_command(args)),
    }
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The file named by `--input`, or stdin for `-`.
fn open_input(input: &str) -> Result<Box<dyn Read + Send>> {
    Ok(if input == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(input).with_context(|| format!("cannot open {input}"))?)
    })
}

async fn unlock_command(args: UnlockArgs) -> Result<u8> {
    let client = connect(&args.connection.options()).await;
    match unlock(
        &client,
        &RetryPolicy::default(),
        &args.meta.meta_table,
        args.force,
    )
    .await?
    {
        Some(holder) => eprintln!(
            "removed the lock of `{}` held by {}",
            args.meta.meta_table,
            holder.describe()
        ),
        None => eprintln!("metadata table `{}` is not locked", args.meta.meta_table),
    }
    Ok(EXIT_OK)
}

async fn load_command(args: LoadArgs) -> Result<u8> {
    let input = open_input(&args.input)?;
    let client = connect(&args.connection.options()).await;
    if let Some(hash) = &args.create_key {
        let range = args
            .create_sort_key
            .as_ref()
            .map(|k| (k.name.as_str(), k.kind.clone()));
        let policy = RetryPolicy::default();
        create_table(
            &client,
            &policy,
            &args.table,
            (&hash.name, hash.kind.clone()),
            range,
            Billing::PayPerRequest,
        )
        .await?;
    }
    let count = load(&client, &RetryPolicy::default(), &args.table, input).await?;
    eprintln!("loaded {count} items into `{}`", args.table);
    Ok(EXIT_OK)
}

fn exec_command(args: ExecArgs) -> Result<u8> {
    let migration = args.sandbox.load(&args.migration, args.concurrency)?;
    let input = open_input(&args.input)?;
    let call = if args.rollback {
        Call::Rollback
    } else {
        Call::Migrate
    };
    let options = ExecOptions {
        call,
        key: args.key,
        workers: args.concurrency,
    };
    let summary = exec(
        migration.clone(),
        input,
        &options,
        &mut io::stdout().lock(),
        &mut io::stderr(),
    )?;
    let actions: u64 = summary.actions.values().sum();
    let by_kind = ["put", "update", "delete"]
        .map(|kind| format!("{} {kind}", summary.actions.get(kind).copied().unwrap_or(0)))
        .join(", ");
    eprintln!(
        "{} ({}): {} items, {actions} actions ({by_kind}), {} failed",
        migration.label,
        if args.rollback { "rollback" } else { "migrate" },
        summary.items,
        summary.failures.len()
    );
    Ok(if summary.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

async fn run_command(args: RunArgs, operation: Operation) -> Result<u8> {
    let migration = args.sandbox.load(&args.migration, args.concurrency)?;
    let client = connect(&args.connection.options()).await;
    let options = RunOptions {
        operation,
        table: args.table,
        concurrency: args.concurrency.max(1),
        segments: args.segments.max(1),
        page_size: args.page_size,
        checkpoint_every: Duration::from_millis(args.checkpoint_interval_ms),
        meta_table: args.meta.meta_table,
        billing: match args.provisioned {
            Some((read, write)) => Billing::Provisioned(read, write),
            None => Billing::PayPerRequest,
        },
        fail_fast: args.fail_fast,
        work_dir: args.work_dir.unwrap_or_else(default_work_dir),
        apply_lanes: args.apply_concurrency.max(1),
        keep_journal: args.keep_journal,
        policy: RetryPolicy {
            max_attempts: args.max_attempts.max(1),
            ..RetryPolicy::default()
        },
        lease: Duration::from_secs(args.lease_seconds),
        restart: args.restart,
        capacity: Capacity::new(args.max_rcu, args.max_wcu),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress::default());
    let signals = tokio::spawn(stop_on_signal(stop.clone()));
    let reporter = tokio::spawn(report_progress(progress.clone(), Duration::from_secs(5)));
    let report = run(migration, &client, &options, progress, stop).await;
    signals.abort();
    reporter.abort();
    // Wait until the reporter is really gone: it clears its live line on the way out.
    let _ = reporter.await;
    let report = report?;
    eprintln!("{}", summary_line(&report));
    if let Some(target) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        if target == "-" {
            println!("{json}");
        } else {
            std::fs::write(target, json + "\n")
                .with_context(|| format!("cannot write report {target}"))?;
        }
    }
    Ok(if report.succeeded {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

fn summary_line(report: &RunReport) -> String {
    let c = &report.counts;
    let mut line = format!(
        "{} #{} ({}) on `{}`: {}: {} items scanned, {} put, {} update, {} delete, {} conflicts, {} failed items, {:.1} s",
        report.migration.name,
        report.migration.number,
        report.operation.as_str(),
        report.table,
        report.status.as_str(),
        c.items_scanned,
        c.puts,
        c.updates,
        c.deletes,
        c.conflicts,
        c.errors,
        report.duration_seconds
    );
    if let Some(error) = &report.error {
        line.push_str(&format!("\nerror: {error}"));
    }
    line
}

/// One line of the status table: numbers right-aligned, text left-aligned.
fn status_row(cells: [String; 14]) -> String {
    const WIDTHS: [usize; 14] = [6, 20, 16, 12, 8, 20, 20, 8, 8, 8, 8, 6, 9, 12];
    const RIGHT: [bool; 14] = [
        true, false, false, false, false, false, false, true, true, true, true, true, true, false,
    ];
    cells
        .iter()
        .zip(WIDTHS.iter().zip(RIGHT))
        .map(|(cell, (&width, right))| {
            if right {
                format!("{cell:>width$}")
            } else {
                format!("{cell:<width$}")
            }
        })
        .collect::<Vec<_>>()
        .join("  ")
        .trim_end()
        .to_owned()
}

async fn status_command(args: StatusArgs) -> Result<u8> {
    let client = connect(&args.connection.options()).await;
    let meta = MetadataTable::new(client, &args.meta.meta_table, RetryPolicy::default());
    if !meta.exists().await? {
        bail!(
            "metadata table `{}` does not exist (no migration has run)",
            meta.name()
        );
    }
    let records = meta.list().await?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&records)?),
        OutputFormat::Table => {
            let header = [
                "NUMBER",
                "NAME",
                "TABLE",
                "STATUS",
                "OP",
                "STARTED",
                "FINISHED",
                "SCANNED",
                "PUT",
                "UPDATE",
                "DELETE",
                "ERRORS",
                "CONFLICTS",
                "CHECKSUM",
            ];
            println!("{}", status_row(header.map(str::to_owned)));
            for r in &records {
                let c = &r.counts;
                println!(
                    "{}",
                    status_row([
                        r.number.to_string(),
                        r.name.clone(),
                        r.table.clone(),
                        r.status.as_str().to_owned(),
                        r.operation.as_str().to_owned(),
                        r.started_at.clone(),
                        r.finished_at.clone().unwrap_or_else(|| "-".into()),
                        c.items_scanned.to_string(),
                        c.puts.to_string(),
                        c.updates.to_string(),
                        c.deletes.to_string(),
                        c.errors.to_string(),
                        c.conflicts.to_string(),
                        r.checksum.chars().take(12).collect(),
                    ])
                );
                if let Some(error) = &r.last_error {
                    println!("        last error: {error}");
                }
                if matches!(r.status, Status::Running | Status::Failed) {
                    if let Some(progress) = &r.progress {
                        println!("        progress: {progress}");
                    }
                }
            }
        }
    }
    Ok(EXIT_OK)
}
