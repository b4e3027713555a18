//! One function per command: each connects, calls the library, prints, and returns its exit
//! code; errors go back to `main`, which maps them to an exit code in one place.

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use drift_host::aws::{connect, create_table, Billing, RetryPolicy};
use drift_host::exec::{exec, ExecOptions};
use drift_host::load::load;
use drift_host::metadata::lock::unlock;
use drift_host::metadata::MetadataTable;
use drift_host::model::counts::LiveCounts;
use drift_host::model::error::{EXIT_FAILED, EXIT_OK};
use drift_host::model::operation::Operation;
use drift_host::model::stop::Stop;
use drift_host::run::run;

use super::args::{ExecArgs, InspectArgs, LoadArgs, OutputFormat, RunArgs, StatusArgs, UnlockArgs};
use super::output::status_table;
use super::progress::report_progress;
use super::signals::stop_on_signal;

/// Writes `text` and a newline to stdout; a reader that went away (`| head`) is not an error.
fn print_stdout(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The file named by `--input`, or stdin for `-`.
fn open_input(input: &str) -> Result<Box<dyn Read + Send>> {
    Ok(if input == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(input).with_context(|| format!("cannot open {input}"))?)
    })
}

/// `inspect`.
pub fn inspect(args: InspectArgs) -> Result<u8> {
    let migration = args.sandbox.load(&args.migration, 1)?;
    let report = serde_json::json!({
        "info": migration.info,
        "checksum": migration.checksum,
        "kind": migration.kind,
    });
    print_stdout(&serde_json::to_string_pretty(&report)?)?;
    Ok(EXIT_OK)
}

/// `exec`.
pub fn exec_command(args: ExecArgs) -> Result<u8> {
    let migration = args.sandbox.load(&args.migration, args.concurrency)?;
    let input = open_input(&args.input)?;
    let operation = if args.rollback {
        Operation::Undo
    } else {
        Operation::Migrate
    };
    let options = ExecOptions {
        operation,
        key: args.key,
        workers: args.concurrency as usize,
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
        operation.export(),
        summary.items,
        summary.failures.len()
    );
    Ok(if summary.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// `run` and `undo`: the report is written (with `--report`) whatever the outcome.
pub async fn run_command(args: RunArgs, operation: Operation) -> Result<u8> {
    let migration = args.sandbox.load(&args.migration, args.concurrency)?;
    let client = connect(&args.connection.options()).await;
    let options = args.options(operation);
    let stop = Stop::new();
    let counts = Arc::new(LiveCounts::default());
    let signals = tokio::spawn(stop_on_signal(stop.clone()));
    let reporter = tokio::spawn(report_progress(counts.clone(), Duration::from_secs(5)));
    let report = run(migration, &client, &options, counts, stop).await;
    signals.abort();
    reporter.abort();
    // Wait until the reporter is really gone: it clears its live line on the way out.
    let _ = reporter.await;
    let report = report?;
    eprintln!("{}", report.summary_line());
    if let Some(target) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        if target == "-" {
            print_stdout(&json)?;
        } else {
            std::fs::write(target, json + "\n")
                .with_context(|| format!("cannot write report {target}"))?;
        }
    }
    Ok(report.exit_code)
}

/// `status`.
pub async fn status_command(args: StatusArgs) -> Result<u8> {
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
        OutputFormat::Json => print_stdout(&serde_json::to_string_pretty(&records)?)?,
        OutputFormat::Table => print_stdout(status_table(&records).trim_end())?,
    }
    Ok(EXIT_OK)
}

/// `load`.
pub async fn load_command(args: LoadArgs) -> Result<u8> {
    let input = open_input(&args.input)?;
    let client = connect(&args.connection.options()).await;
    let policy = RetryPolicy::default();
    if let Some(hash) = &args.create_key {
        let range = args
            .create_sort_key
            .as_ref()
            .map(|k| (k.name.as_str(), k.kind.clone()));
        let hash = (hash.name.as_str(), hash.kind.clone());
        create_table(
            &client,
            &policy,
            &args.table,
            hash,
            range,
            Billing::PayPerRequest,
        )
        .await?;
    }
    let count = load(&client, &policy, &args.table, input).await?;
    eprintln!("loaded {count} items into `{}`", args.table);
    Ok(EXIT_OK)
}

/// `unlock`.
pub async fn unlock_command(args: UnlockArgs) -> Result<u8> {
    let client = connect(&args.connection.options()).await;
    let table = &args.meta.meta_table;
    match unlock(&client, &RetryPolicy::default(), table, args.force).await? {
        Some(holder) => eprintln!(
            "removed the lock of `{table}` held by {}",
            holder.describe()
        ),
        None => eprintln!("metadata table `{table}` is not locked"),
    }
    Ok(EXIT_OK)
}
