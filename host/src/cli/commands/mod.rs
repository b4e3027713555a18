//! One function per command: each connects, calls the library, prints, and returns its exit
//! code; errors go back to `main`, which maps them to an exit code in one place.

mod control;
mod fixtures;
mod folder;
mod migrate;
mod offline;

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use drift_host::model::counts::LiveCounts;
use drift_host::model::stop::Stop;

use super::args::{OutputFormat, RunArgs};
use super::progress::{live_bar, report_progress};
use super::signals::stop_on_signal;

pub use control::control_command;
pub use fixtures::{load_command, unlock_command};
pub use folder::{baseline_command, repair_command, status_command, tables_command};
pub use migrate::{apply_command, plan_command, run_command, undo_command};
pub use offline::{exec_command, inspect, new_command, test_command};

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

/// Runs `work` with the progress display and Ctrl-C handling of a run.
async fn with_progress<T>(
    work: impl std::future::Future<Output = T>,
    counts: Arc<LiveCounts>,
    stop: Stop,
) -> T {
    let bar = live_bar();
    let signals = tokio::spawn(stop_on_signal(stop, bar.clone()));
    let reporter = tokio::spawn(report_progress(counts, Duration::from_secs(5), bar));
    let result = work.await;
    signals.abort();
    reporter.abort();
    // Wait until the reporter is really gone: it clears its live line on the way out.
    let _ = reporter.await;
    result
}

/// Prints `document` as the command's one JSON document on stdout, with its `exit_code`
/// (added to an object that lacks one).
fn print_json(document: &impl serde::Serialize, exit_code: u8) -> Result<()> {
    let mut value = serde_json::to_value(document)?;
    if let serde_json::Value::Object(map) = &mut value {
        map.entry("exit_code").or_insert(exit_code.into());
    }
    print_stdout(&serde_json::to_string_pretty(&value)?)
}

/// Refuses a `--report` file that cannot be written, before anything runs: a report that
/// cannot be written after the run would hide how it went.
fn check_report_target(target: Option<&str>) -> Result<()> {
    let Some(target) = target.filter(|t| *t != "-") else {
        return Ok(());
    };
    let path = Path::new(target);
    if path.is_dir() {
        bail!("--report {target}: is a folder, not a file");
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("--report {target}: cannot write it"))?;
    if !existed {
        // Leave no empty report behind if the run stops before it has one.
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Writes `report` as JSON to `target` (`-`: stdout). A failure is a warning: the run's own
/// outcome and exit code stand.
fn write_report(target: &str, report: &impl serde::Serialize, exit_code: u8) -> Result<()> {
    if target == "-" {
        return print_json(report, exit_code);
    }
    let written = serde_json::to_string_pretty(report)
        .map_err(anyhow::Error::from)
        .and_then(|json| Ok(std::fs::write(target, json + "\n")?));
    if let Err(error) = written {
        eprintln!("warning: cannot write the report to {target}: {error:#}");
    }
    Ok(())
}

/// Prints how a run or a folder went: `summary` on stderr, or the report on stdout with
/// `--output json`; and the report to `--report`'s file.
fn finish_report(
    args: &RunArgs,
    report: &impl serde::Serialize,
    summary: String,
    exit_code: u8,
) -> Result<()> {
    match args.output {
        OutputFormat::Json => print_json(report, exit_code)?,
        OutputFormat::Text => eprintln!("{summary}"),
    }
    match &args.report {
        Some(target) if !(target == "-" && args.output == OutputFormat::Json) => {
            write_report(target, report, exit_code)
        }
        _ => Ok(()),
    }
}
