//! The commands that run a migration against DynamoDB: `run`, `undo`, `plan` and `apply`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Result};
use drift_host::aws::connect;
use drift_host::metadata::MetadataTable;
use drift_host::model::counts::LiveCounts;
use drift_host::model::error::{up_to_date, EXIT_OK};
use drift_host::model::operation::Operation;
use drift_host::model::stop::Stop;
use drift_host::plan::{age, apply_plan, plan, read_plan, PlanOptions};
use drift_host::project::folder::Folder;
use drift_host::project::workers::run_folder_workers;
use drift_host::project::{self, run_folder, undo_to, FolderRun};
use drift_host::run::run;
use drift_host::run::workers::{run_worker, WorkerPlace};
use drift_host::run::RunOptions;

use super::super::args::{
    ApplyArgs, OutputFormat, PlanArgs, RunArgs, RunCommandArgs, UndoArgs, NOT_FOR_APPLY,
    NOT_FOR_PLAN,
};
use super::super::metrics::{serve, RunMetrics};
use super::super::output::plan_text;
use super::{
    check_report_target, finish_report, print_json, print_stdout, with_progress, write_report,
};

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

/// `run` and `undo` of one migration: the report is written (with `--report`) whatever the
/// outcome.
async fn single_command(path: &Path, args: RunArgs, operation: Operation) -> Result<u8> {
    check_report_target(args.report.as_deref())?;
    let place = args.place()?;
    let settings = args.settings(None);
    let migration = args.sandbox.load(&settings, path, settings.concurrency())?;
    let options = args.options(&settings, operation);
    let counts = Arc::new(LiveCounts::default());
    serve_metrics(&args, &options, &counts, place.as_ref()).await?;
    let client = connect(&settings.connection()).await?;
    let stop = Stop::new();
    let work = async {
        match place {
            Some(place) => {
                run_worker(
                    migration,
                    &client,
                    &options,
                    place,
                    counts.clone(),
                    stop.clone(),
                )
                .await
            }
            None => {
                run(
                    migration,
                    &client,
                    &options,
                    None,
                    counts.clone(),
                    stop.clone(),
                )
                .await
            }
        }
    };
    let report = match with_progress(work, counts.clone(), stop.clone()).await {
        Ok(report) => report,
        Err(error) => {
            let Some(message) = up_to_date(&error) else {
                return Err(error);
            };
            // Nothing to do is a success, as for a folder with nothing pending.
            let done = serde_json::json!({ "up_to_date": true, "message": message });
            finish_report(&args, &done, message.to_owned(), EXIT_OK)?;
            return Ok(EXIT_OK);
        }
    };
    finish_report(&args, &report, report.summary_line(), report.exit_code)?;
    Ok(report.exit_code)
}

/// Serves the run's metrics if `--metrics-addr` asks (before DynamoDB is touched: an address
/// that cannot be listened on is an input error).
async fn serve_metrics(
    args: &RunArgs,
    options: &RunOptions,
    counts: &Arc<LiveCounts>,
    place: Option<&WorkerPlace>,
) -> Result<()> {
    let Some(addr) = args.metrics_addr else {
        return Ok(());
    };
    let metrics = RunMetrics {
        counts: counts.clone(),
        capacity: options.capacity.clone(),
        worker: place.map(|place| place.index),
    };
    serve(addr, metrics).await
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
    args: RunArgs,
    operation: Operation,
    folder: FolderArgs,
) -> Result<u8> {
    if args.table.is_some() {
        bail!("--table is for one migration; a folder's migrations scan the tables they name");
    }
    if args.follow {
        bail!("--follow is for one migration: a folder's migrations run one after another");
    }
    if args.workers.is_some() && folder.to.is_some() {
        bail!("--workers is for run: undo a folder's migrations with `undo DIR --to N` alone");
    }
    let place = args.place()?;
    check_report_target(args.report.as_deref())?;
    let settings = args.settings(Some(&Folder::project(dir)?.defaults));
    let loaded = args
        .sandbox
        .load_folder(&settings, dir, settings.concurrency())?;
    let options = args.options(&settings, operation);
    let counts = Arc::new(LiveCounts::default());
    serve_metrics(&args, &options, &counts, place.as_ref()).await?;
    let client = connect(&settings.connection()).await?;
    let stop = Stop::new();
    let run = FolderRun {
        folder: &loaded,
        options: &options,
        out_of_order: folder.out_of_order,
        apply_tables: folder.apply_tables,
        counts: &counts,
        stop: &stop,
    };
    let work = async {
        match (folder.to, place) {
            (Some(to), _) => undo_to(&client, run, to).await,
            (None, Some(place)) => run_folder_workers(&client, run, place).await,
            (None, None) => run_folder(&client, run).await,
        }
    };
    let report = with_progress(work, counts.clone(), stop.clone()).await?;
    let mut summary = String::new();
    for change in &report.table_changes {
        let done = if change.is_applied() { ": done" } else { "" };
        summary.push_str(&format!("{}{done}\n", change.describe()));
    }
    summary.push_str(&report.summary());
    finish_report(&args, &report, summary, report.exit_code)?;
    Ok(report.exit_code)
}

/// `plan`: one migration, or a folder's first pending one.
pub async fn plan_command(mut args: PlanArgs) -> Result<u8> {
    args.run.refuse_unused("plan", NOT_FOR_PLAN)?;
    check_report_target(args.run.report.as_deref())?;
    let operation = if args.undo {
        Operation::Undo
    } else {
        Operation::Migrate
    };
    let project = match args.migration.is_dir() {
        true => Some(Folder::project(&args.migration)?.defaults),
        false => None,
    };
    let settings = args.run.settings(project.as_ref());
    let (migration, client, later) = if args.migration.is_dir() {
        let folder =
            args.run
                .sandbox
                .load_folder(&settings, &args.migration, settings.concurrency())?;
        let client = connect(&settings.connection()).await?;
        let meta = MetadataTable::new(client.clone(), settings.meta_table(), settings.policy());
        let pending = project::pending(&folder, &meta).await?;
        let Some(first) = pending.first().and_then(|n| folder.module(*n)) else {
            let message = format!(
                "nothing to plan: every migration of {} is applied",
                args.migration.display()
            );
            eprintln!("{message}");
            if args.run.output == OutputFormat::Json {
                let done = serde_json::json!({ "up_to_date": true, "message": message });
                print_json(&done, EXIT_OK)?;
            }
            return Ok(EXIT_OK);
        };
        let later: Vec<u64> = pending[1..].to_vec();
        args.migration = args.migration.join(&first.file);
        (first.migration.clone(), client, later)
    } else {
        let migration =
            args.run
                .sandbox
                .load(&settings, &args.migration, settings.concurrency())?;
        let client = connect(&settings.connection()).await?;
        (migration, client, Vec::new())
    };
    let options = PlanOptions {
        run: args.run.options(&settings, operation),
        sample: args.sample,
        out: args.out.clone(),
        replace: args.force,
        module: args.migration.clone(),
    };
    let stop = Stop::new();
    let counts = Arc::new(LiveCounts::default());
    let work = plan(migration, &client, &options, counts.clone(), stop.clone());
    let report = with_progress(work, counts, stop).await?;
    let mut text = plan_text(&report);
    let mut document = serde_json::to_value(&report)?;
    if !later.is_empty() {
        // Each later migration runs on the tables as the ones before it leave them, which
        // no plan can know before those are applied: say so rather than plan them wrongly.
        let numbers: Vec<String> = later.iter().map(u64::to_string).collect();
        let why = format!(
            "also pending: {}, not planned: each runs on the tables as the migrations before \
             it leave them, which a plan cannot know until those are applied; plan them once \
             this one is applied",
            numbers.join(", ")
        );
        text.push_str(&format!("\n{why}"));
        document["also_pending"] = serde_json::json!(later);
        document["not_planned"] = serde_json::json!(why);
    }
    match args.run.output {
        OutputFormat::Json => print_json(&document, report.exit_code)?,
        OutputFormat::Text => print_stdout(&text)?,
    }
    if let Some(target) = &args.run.report {
        write_report(target, &document, report.exit_code)?;
    }
    Ok(report.exit_code)
}

/// `apply PLAN`.
pub async fn apply_command(args: ApplyArgs) -> Result<u8> {
    args.run.refuse_unused("apply", NOT_FOR_APPLY)?;
    check_report_target(args.run.report.as_deref())?;
    let planned = read_plan(&args.plan)?;
    let module = args.migration.clone().unwrap_or(planned.module.clone());
    let settings = args.run.settings(None);
    let migration = args
        .run
        .sandbox
        .load(&settings, &module, settings.concurrency())?;
    eprintln!(
        "applying the plan of {} #{} on `{}` made {} ago ({} actions)",
        planned.migration.name,
        planned.migration.number,
        planned.table,
        age(&planned),
        planned.actions
    );
    let client = connect(&settings.connection()).await?;
    let options = args.run.options(&settings, planned.operation);
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
    finish_report(&args.run, &report, report.summary_line(), report.exit_code)?;
    Ok(report.exit_code)
}
