//! One function per command: each connects, calls the library, prints, and returns its exit
//! code; errors go back to `main`, which maps them to an exit code in one place.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::types::ScalarAttributeType;
use aws_sdk_dynamodb::Client;
use drift_host::aws::{connect, create_table, Billing, RetryPolicy};
use drift_host::cases::{run_cases, CaseOptions};
use drift_host::exec::{exec, exec_each, ExecOptions, ExecSummary};
use drift_host::load::load;
use drift_host::metadata::lock::unlock;
use drift_host::metadata::MetadataTable;
use drift_host::model::counts::LiveCounts;
use drift_host::model::error::{EXIT_FAILED, EXIT_OK};
use drift_host::model::key::KeyAttribute;
use drift_host::model::operation::Operation;
use drift_host::model::stop::Stop;
use drift_host::plan::{age, apply_plan, plan, read_plan, PlanOptions, PlanReport};
use drift_host::preview::item_diff;
use drift_host::project::folder::Folder;
use drift_host::project::scaffold::{next_number, scaffold, Language, NewMigration, SDK_DIR};
use drift_host::project::tables::Change;
use drift_host::project::{self, run_folder, undo_to, FolderRun};
use drift_host::run::{run, Session};

use super::args::{
    ApplyArgs, BaselineArgs, ExecArgs, InspectArgs, Lang, LoadArgs, NewArgs, OutputFormat,
    PlanArgs, ProjectArgs, RepairArgs, RunArgs, RunCommandArgs, StatusArgs, TablesArgs, TestArgs,
    UndoArgs, UnlockArgs,
};
use super::output::{folder_status_table, status_table};
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
    let migration = args.sandbox.load(&args.migration, args.concurrency())?;
    let input = open_input(&args.input)?;
    let operation = if args.rollback {
        Operation::Undo
    } else {
        Operation::Migrate
    };
    let options = ExecOptions {
        operation,
        workers: args.concurrency() as usize,
        key: args.key,
    };
    let label = migration.label.clone();
    let started = std::time::Instant::now();
    let summary = if args.diff {
        exec_diff(migration, input, &options)?
    } else if args.output == OutputFormat::Json {
        let mut lines = Vec::new();
        let summary = exec(migration, input, &options, &mut lines, &mut io::sink())?;
        let actions = String::from_utf8(lines)?
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<Vec<serde_json::Value>, _>>()?;
        let failures: Vec<_> = summary
            .failures
            .iter()
            .map(|(item, error)| serde_json::json!({"item": item, "error": error}))
            .collect();
        print_stdout(&serde_json::to_string_pretty(&serde_json::json!({
            "migration": label.as_ref(),
            "operation": operation.export(),
            "items": summary.items,
            "actions_by_kind": summary.actions,
            "failed_items": summary.failures.len(),
            "duration_seconds": started.elapsed().as_secs_f64(),
            "failures": failures,
            "actions": actions,
        }))?)?;
        summary
    } else {
        exec(
            migration,
            input,
            &options,
            &mut io::stdout().lock(),
            &mut io::stderr(),
        )?
    };
    let actions: u64 = summary.actions.values().sum();
    let by_kind = ["put", "update", "delete"]
        .map(|kind| format!("{} {kind}", summary.actions.get(kind).copied().unwrap_or(0)))
        .join(", ");
    eprintln!(
        "{label} ({}): {} items, {actions} actions ({by_kind}), {} failed",
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

/// Runs `work` with the progress display and Ctrl-C handling of a run.
async fn with_progress<T>(
    work: impl std::future::Future<Output = T>,
    counts: Arc<LiveCounts>,
    stop: Stop,
) -> T {
    let signals = tokio::spawn(stop_on_signal(stop));
    let reporter = tokio::spawn(report_progress(counts, Duration::from_secs(5)));
    let result = work.await;
    signals.abort();
    reporter.abort();
    // Wait until the reporter is really gone: it clears its live line on the way out.
    let _ = reporter.await;
    result
}

/// Writes `report` as JSON to `target` (`-`: stdout).
fn write_report(target: &str, report: &impl serde::Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(report)?;
    if target == "-" {
        print_stdout(&json)
    } else {
        std::fs::write(target, json + "\n").with_context(|| format!("cannot write report {target}"))
    }
}

/// Prints how a run or a folder went: `summary` on stderr, or the report on stdout with
/// `--output json`; and the report to `--report`'s file.
fn finish_report(args: &RunArgs, report: &impl serde::Serialize, summary: String) -> Result<()> {
    match args.output {
        OutputFormat::Json => print_stdout(&serde_json::to_string_pretty(report)?)?,
        OutputFormat::Text => eprintln!("{summary}"),
    }
    match &args.report {
        Some(target) if !(target == "-" && args.output == OutputFormat::Json) => {
            write_report(target, report)
        }
        _ => Ok(()),
    }
}

/// `run`: one migration, or a folder's pending ones.
pub async fn run_command(args: RunCommandArgs) -> Result<u8> {
    if args.migration.is_dir() {
        let folder_args = FolderArgs {
            out_of_order: args.out_of_order,
            apply_tables: !args.no_tables,
            to: None,
        };
        return folder_command(&args.migration, args.run, Operation::Migrate, folder_args).await;
    }
    if args.out_of_order || args.no_tables {
        bail!("--out-of-order and --no-tables are for a folder of migrations");
    }
    single_command(&args.migration, args.run, Operation::Migrate).await
}

/// `undo`: one migration, or a folder's above `--to`.
pub async fn undo_command(args: UndoArgs) -> Result<u8> {
    if args.migration.is_dir() {
        let Some(to) = args.to else {
            bail!("undo of a folder needs --to N: the migrations above N are undone");
        };
        let folder_args = FolderArgs {
            out_of_order: false,
            apply_tables: false,
            to: Some(to),
        };
        return folder_command(&args.migration, args.run, Operation::Undo, folder_args).await;
    }
    if args.to.is_some() {
        bail!("--to is for a folder of migrations");
    }
    single_command(&args.migration, args.run, Operation::Undo).await
}

/// `exec --diff`: each item, then what its actions change.
fn exec_diff(
    migration: Arc<drift_host::engine::LoadedMigration>,
    input: Box<dyn Read + Send>,
    options: &ExecOptions,
) -> Result<ExecSummary> {
    // The items are read here too, to be shown with their changes.
    let mut items = Vec::new();
    drift_host::source::json::read_items(input, |item| {
        items.push(item);
        Ok(())
    })?;
    let lines: String = items
        .iter()
        .map(|item| {
            format!(
                "{{\"Item\": {}}}\n",
                drift_host::model::item::to_json_item(item)
            )
        })
        .collect();
    let table = migration.info.table.clone();
    let mut summary = ExecSummary::default();
    let mut out = io::stdout().lock();
    summary.items = exec_each(
        migration,
        Box::new(io::Cursor::new(lines.into_bytes())),
        options,
        |outcome| {
            let item = &items[outcome.seq as usize];
            writeln!(out, "{}", outcome.label)?;
            match outcome.result {
                Ok(actions) => {
                    for action in &actions {
                        *summary.actions.entry(action.kind.name()).or_default() += 1;
                    }
                    let diff = item_diff(item, &table, &options.key, &actions);
                    if diff.is_empty() {
                        writeln!(out, "    (unchanged)")?;
                    }
                    for line in diff {
                        writeln!(out, "    {line}")?;
                    }
                }
                Err(error) => {
                    writeln!(out, "    error: {error}")?;
                    summary.failures.push((outcome.label, error));
                }
            }
            Ok(())
        },
    )?;
    out.flush()?;
    Ok(summary)
}

/// `run` and `undo` of one migration: the report is written (with `--report`) whatever the
/// outcome.
async fn single_command(path: &Path, args: RunArgs, operation: Operation) -> Result<u8> {
    let migration = args.sandbox.load(path, args.concurrency())?;
    let client = connect(&args.connection.options()).await?;
    let options = args.options(operation);
    let stop = Stop::new();
    let counts = Arc::new(LiveCounts::default());
    let work = run(migration, &client, &options, counts.clone(), stop.clone());
    let report = with_progress(work, counts, stop).await?;
    finish_report(&args, &report, report.summary_line())?;
    Ok(report.exit_code)
}

/// What the folder commands add to `run`'s arguments.
struct FolderArgs {
    out_of_order: bool,
    apply_tables: bool,
    to: Option<u64>,
}

/// `run DIR` and `undo DIR --to N`.
async fn folder_command(
    dir: &Path,
    mut args: RunArgs,
    operation: Operation,
    folder: FolderArgs,
) -> Result<u8> {
    if args.table.is_some() {
        bail!("--table is for one migration; a folder's migrations scan the tables they name");
    }
    args.apply_defaults(&Folder::project(dir)?.defaults);
    let loaded = args.sandbox.load_folder(dir, args.concurrency())?;
    let client = connect(&args.connection.options()).await?;
    let options = args.options(operation);
    let stop = Stop::new();
    let counts = Arc::new(LiveCounts::default());
    let run = FolderRun {
        folder: &loaded,
        options: &options,
        out_of_order: folder.out_of_order,
        apply_tables: folder.apply_tables,
        counts: &counts,
        stop: &stop,
    };
    let work = async {
        match folder.to {
            Some(to) => undo_to(&client, run, to).await,
            None => run_folder(&client, run).await,
        }
    };
    let report = with_progress(work, counts.clone(), stop.clone()).await?;
    let mut summary = String::new();
    for change in &report.table_changes {
        let done = if change.is_applied() { ": done" } else { "" };
        summary.push_str(&format!("{}{done}\n", change.describe()));
    }
    summary.push_str(&report.summary());
    finish_report(&args, &report, summary)?;
    Ok(report.exit_code)
}

/// `status`, of the metadata table or of a folder.
pub async fn status_command(mut args: StatusArgs) -> Result<u8> {
    let folder = match &args.dir {
        Some(dir) => {
            let defaults = Folder::project(dir)?.defaults;
            args.meta.apply_defaults(&defaults);
            args.connection.apply_defaults(&defaults);
            args.sandbox.apply_defaults(&defaults);
            Some(args.sandbox.load_folder(dir, 1)?)
        }
        None => None,
    };
    let client = connect(&args.connection.options()).await?;
    let meta = MetadataTable::new(client, args.meta.table(), RetryPolicy::default());
    if let Some(folder) = folder {
        let rows = project::status(&folder, &meta).await?;
        match args.output {
            OutputFormat::Json => print_stdout(&serde_json::to_string_pretty(&rows)?)?,
            OutputFormat::Text => print_stdout(folder_status_table(&rows).trim_end())?,
        }
        return Ok(EXIT_OK);
    }
    if !meta.exists().await? {
        bail!(
            "metadata table `{}` does not exist (no migration has run)",
            meta.name()
        );
    }
    let records = meta.list().await?;
    match args.output {
        OutputFormat::Json => print_stdout(&serde_json::to_string_pretty(&records)?)?,
        OutputFormat::Text => print_stdout(status_table(&records).trim_end())?,
    }
    Ok(EXIT_OK)
}

/// Reads a folder for the commands that change records or tables without running migrations.
async fn open_project(dir: &Path, args: &mut ProjectArgs) -> Result<(Folder, Client)> {
    args.apply_defaults(&Folder::project(dir)?.defaults);
    let folder = args.sandbox.load_folder(dir, 1)?;
    let client = connect(&args.connection.options()).await?;
    Ok((folder, client))
}

/// `baseline`.
pub async fn baseline_command(mut args: BaselineArgs) -> Result<u8> {
    let (folder, client) = open_project(&args.dir, &mut args.project).await?;
    let options = args.project.options();
    let numbers = project::baseline(&client, &folder, &options, args.up_to, &args.reason).await?;
    if numbers.is_empty() {
        eprintln!(
            "nothing to baseline: the migrations up to {} are applied",
            args.up_to
        );
    }
    for number in numbers {
        let name = folder
            .module(number)
            .map_or("", |m| m.migration.info.name.as_str());
        eprintln!("migration {number} ({name}): recorded as applied (baseline)");
    }
    Ok(EXIT_OK)
}

/// `repair`.
pub async fn repair_command(mut args: RepairArgs) -> Result<u8> {
    let (folder, client) = open_project(&args.dir, &mut args.project).await?;
    let options = args.project.options();
    let repaired = project::repair(&client, &folder, &options, &args.reason).await?;
    if repaired.is_empty() {
        eprintln!("nothing to repair: no modified applied migration, no failed record");
    }
    for line in repaired {
        eprintln!("{line}");
    }
    Ok(EXIT_OK)
}

/// `tables`.
pub async fn tables_command(mut args: TablesArgs) -> Result<u8> {
    let project = Folder::project(&args.dir)?;
    args.project.apply_defaults(&project.defaults);
    let client = connect(&args.project.connection.options()).await?;
    let options = args.project.options();
    let declared = &project.tables;
    let mut deleted = Vec::new();
    let changes = if args.apply || args.prune {
        let purpose = format!("tables {}", args.dir.display());
        let session = Session::open(&client, &options, Stop::new(), &purpose).await?;
        let result = async {
            if args.prune {
                deleted = project::prune(&session, declared, &args.confirm).await?;
            }
            if args.apply {
                project::apply_tables(&session, declared).await
            } else {
                project::table_changes(session.client(), &options, declared).await
            }
        }
        .await;
        session.close().await;
        result?
    } else {
        project::table_changes(&client, &options, declared).await?
    };
    let left: Vec<&Change> = changes
        .iter()
        .filter(|c| !(args.apply && c.is_applied()))
        .collect();
    match args.output {
        OutputFormat::Json => print_stdout(&serde_json::to_string_pretty(&serde_json::json!({
            "declared": declared.keys().collect::<Vec<_>>(),
            "applied": changes.iter().filter(|c| args.apply && c.is_applied()).collect::<Vec<_>>(),
            "pending": left,
            "deleted": deleted,
        }))?)?,
        OutputFormat::Text => {
            for table in &deleted {
                eprintln!("{table}: deleted");
            }
            for change in changes.iter().filter(|c| args.apply && c.is_applied()) {
                eprintln!("{}: done", change.describe());
            }
            for change in &left {
                eprintln!("{}", change.describe());
            }
            if changes.is_empty() && deleted.is_empty() {
                eprintln!("{} declared tables: all as declared", declared.len());
            }
        }
    }
    // Without --apply, differences that --apply would make are a non-zero exit, for CI checks.
    let pending = left.iter().any(|c| c.is_applied());
    Ok(if pending { EXIT_FAILED } else { EXIT_OK })
}

/// `plan`: one migration, or a folder's first pending one.
pub async fn plan_command(mut args: PlanArgs) -> Result<u8> {
    let operation = if args.undo {
        Operation::Undo
    } else {
        Operation::Migrate
    };
    let (migration, client, later) = if args.migration.is_dir() {
        args.run
            .apply_defaults(&Folder::project(&args.migration)?.defaults);
        let folder = args
            .run
            .sandbox
            .load_folder(&args.migration, args.run.concurrency())?;
        let client = connect(&args.run.connection.options()).await?;
        let meta = MetadataTable::new(
            client.clone(),
            args.run.meta.table(),
            RetryPolicy::default(),
        );
        let records = if meta.exists().await? {
            meta.list().await?
        } else {
            Vec::new()
        };
        let pending = project::reconcile::to_run(&project::summaries(&folder), &records, true)
            .map_err(drift_host::model::error::refused)?;
        let Some(first) = pending.first().and_then(|n| folder.module(*n)) else {
            eprintln!(
                "nothing to plan: every migration of {} is applied",
                args.migration.display()
            );
            return Ok(EXIT_OK);
        };
        let later: Vec<u64> = pending[1..].to_vec();
        args.migration = args.migration.join(&first.file);
        (first.migration.clone(), client, later)
    } else {
        let migration = args
            .run
            .sandbox
            .load(&args.migration, args.run.concurrency())?;
        let client = connect(&args.run.connection.options()).await?;
        (migration, client, Vec::new())
    };
    let options = PlanOptions {
        run: args.run.options(operation),
        sample: args.sample,
        out: args.out.clone(),
        module: args.migration.clone(),
    };
    let stop = Stop::new();
    let counts = Arc::new(LiveCounts::default());
    let work = plan(migration, &client, &options, counts.clone(), stop.clone());
    let report = with_progress(work, counts, stop).await?;
    let mut text = plan_text(&report);
    if !later.is_empty() {
        text.push_str(&format!(
            "\nalso pending, to plan once this one is applied: {}",
            later
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match args.run.output {
        OutputFormat::Json => print_stdout(&serde_json::to_string_pretty(&report)?)?,
        OutputFormat::Text => print_stdout(&text)?,
    }
    if let Some(target) = &args.run.report {
        write_report(target, &report)?;
    }
    Ok(report.exit_code)
}

/// A plan for people.
fn plan_text(report: &PlanReport) -> String {
    let mut out = String::new();
    let by_table: Vec<String> = report
        .actions
        .iter()
        .map(|(table, kinds)| {
            let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
            format!("{table}: {}", kinds.join(", "))
        })
        .collect();
    out.push_str(&format!(
        "plan: {} #{} ({}) on `{}`: {} items scanned, {} actions{}, {} failed items\n",
        report.migration.name,
        report.migration.number,
        report.operation.export(),
        report.table,
        report.items_scanned,
        report.actions_total,
        if by_table.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_table.join("; "))
        },
        report.failed_items
    ));
    out.push_str(&format!(
        "capacity: the scan read {:.1} RCU; the actions need at least {:.0} WCU{}\n",
        report.consumed_rcu,
        report.estimated_wcu,
        report
            .estimated_seconds_at_max_wcu
            .map(|s| format!(
                ", about {} at --max-wcu",
                humantime::format_duration(Duration::from_secs(s.ceil() as u64))
            ))
            .unwrap_or_default()
    ));
    for failure in &report.failures {
        out.push_str(&format!("failed: {}: {}\n", failure.key, failure.error));
    }
    if report.failed_items > 0 {
        out.push_str("a run would apply nothing: every item must go through the guest\n");
    }
    if !report.samples.is_empty() {
        out.push_str(&format!(
            "{} items before and after:\n",
            report.samples.len()
        ));
    }
    for sample in &report.samples {
        out.push_str(&format!("  {}\n", sample.key));
        if sample.changes.is_empty() && sample.elsewhere.is_empty() {
            out.push_str("      (unchanged)\n");
        }
        if sample.after.is_none() && sample.before.is_some() {
            out.push_str("      deleted\n");
        }
        for line in sample.changes.iter().chain(&sample.elsewhere) {
            out.push_str(&format!("      {line}\n"));
        }
    }
    if let Some(folder) = &report.plan {
        out.push_str(&format!(
            "plan kept in {0}: apply it with `drift-host apply {0}`\n",
            folder.display()
        ));
    }
    out.trim_end().to_owned()
}

/// `apply PLAN`.
pub async fn apply_command(args: ApplyArgs) -> Result<u8> {
    let planned = read_plan(&args.plan)?;
    let module = args.migration.clone().unwrap_or(planned.module.clone());
    let migration = args.run.sandbox.load(&module, args.run.concurrency())?;
    eprintln!(
        "applying the plan of {} #{} on `{}` made {} ago ({} actions)",
        planned.migration.name,
        planned.migration.number,
        planned.table,
        age(&planned),
        planned.actions
    );
    let client = connect(&args.run.connection.options()).await?;
    let options = args.run.options(planned.operation);
    let stop = Stop::new();
    let counts = Arc::new(LiveCounts::default());
    let work = apply_plan(
        &args.plan,
        migration,
        &client,
        &options,
        counts.clone(),
        stop.clone(),
    );
    let report = with_progress(work, counts, stop).await?;
    finish_report(&args.run, &report, report.summary_line())?;
    Ok(report.exit_code)
}

/// `test`.
pub fn test_command(args: TestArgs) -> Result<u8> {
    let migration = args.sandbox.load(&args.migration, 1)?;
    let options = CaseOptions {
        exec: ExecOptions {
            operation: if args.rollback {
                Operation::Undo
            } else {
                Operation::Migrate
            },
            key: args.key,
            workers: 1,
        },
        update: args.update,
    };
    let results = run_cases(&migration, &args.cases, &options)?;
    let failed = results.iter().filter(|r| !r.passed).count();
    let passed = results.len() - failed;
    match args.output {
        OutputFormat::Json => print_stdout(&serde_json::to_string_pretty(&serde_json::json!({
            "migration": migration.label.as_ref(),
            "cases": results,
            "passed": passed,
            "failed": failed,
        }))?)?,
        OutputFormat::Text => {
            let mut out = String::new();
            for result in &results {
                let status = match (result.passed, result.updated) {
                    (_, true) => "updated",
                    (true, false) => "ok",
                    (false, false) => "FAILED",
                };
                out.push_str(&format!("{status:<8}{}\n", result.name));
                if !result.passed {
                    for line in &result.diff {
                        out.push_str(&format!("        {line}\n"));
                    }
                }
            }
            out.push_str(&format!("{passed} passed, {failed} failed"));
            print_stdout(&out)?;
        }
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_FAILED })
}

/// `new`.
pub fn new_command(args: NewArgs) -> Result<u8> {
    let number = next_number(&args.dir, |path| {
        Ok(args.sandbox.load(path, 1)?.info.number)
    })?;
    let new = NewMigration {
        name: args.name,
        language: match args.lang {
            Lang::Rust => Language::Rust,
            Lang::Assemblyscript => Language::AssemblyScript,
            Lang::Typescript => Language::TypeScript,
            Lang::Python => Language::Python,
            Lang::C => Language::C,
        },
        dir: args.dir,
        table: args.table,
        key: args.key,
    };
    let made = scaffold(&new, number)?;
    eprintln!(
        "created migration {} in {} (SDKs in {})",
        made.number,
        made.project.display(),
        new.dir.join(SDK_DIR).display()
    );
    eprintln!("build and test it there:");
    for command in &made.commands {
        eprintln!("  {command}");
    }
    Ok(EXIT_OK)
}

/// `load`.
pub async fn load_command(args: LoadArgs) -> Result<u8> {
    let input = open_input(&args.input)?;
    let client = connect(&args.connection.options()).await?;
    let policy = RetryPolicy::default();
    if let Some(hash) = &args.create_key {
        fn typed(k: &KeyAttribute) -> (&str, ScalarAttributeType) {
            (k.name.as_str(), ScalarAttributeType::from(k.kind.as_str()))
        }
        let range = args.create_sort_key.as_ref().map(typed);
        let hash = typed(hash);
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
    let client = connect(&args.connection.options()).await?;
    let table = &args.meta.table();
    match unlock(&client, &RetryPolicy::default(), table, args.force).await? {
        Some(holder) => eprintln!(
            "removed the lock of `{table}` held by {}",
            holder.describe()
        ),
        None => eprintln!("metadata table `{table}` is not locked"),
    }
    Ok(EXIT_OK)
}
