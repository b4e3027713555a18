//! The `drift-host` command line.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use drift_host::engine::{self, loader, Call, Limits, Runtime};
use drift_host::exec::{exec, ExecOptions};
use tracing_subscriber::EnvFilter;

/// Exit code: every item went through.
const EXIT_OK: u8 = 0;
/// Exit code: the migration ran, but some items failed.
const EXIT_ITEMS_FAILED: u8 = 1;
/// Exit code: bad input, bad module, or an error before any item ran.
const EXIT_ERROR: u8 = 2;

/// Run DynamoDB data migrations compiled to WebAssembly components.
#[derive(Parser)]
#[command(name = "drift-host", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a migration over items from a file (DynamoDB JSON) and print its actions; writes nothing.
    Exec(ExecArgs),
    /// Print a migration's info() as JSON.
    Inspect(InspectArgs),
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

fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("DRIFT_LOG")
                .unwrap_or_else(|_| EnvFilter::new("warn,drift_host=info,guest=info")),
        )
        .with_writer(io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", format!("{error:#}").replace('\n', " "));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Exec(args) => {
            let migration = args.sandbox.load(&args.migration, args.concurrency)?;
            let input: Box<dyn Read + Send> = if args.input == "-" {
                Box::new(io::stdin())
            } else {
                Box::new(
                    File::open(&args.input)
                        .with_context(|| format!("cannot open {}", args.input))?,
                )
            };
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
                EXIT_ITEMS_FAILED
            })
        }
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
    }
}
