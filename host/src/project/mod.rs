//! A migrations project: a folder of modules run in order against one metadata table, its
//! optional `drift.toml` ([`config`]) and declared [`tables`]. The decisions are pure
//! ([`reconcile`]); this module reads the records, takes the lock, and carries them out with
//! [`crate::run`].

pub mod config;
pub mod folder;
pub mod reconcile;
pub mod scaffold;
pub mod tables;
pub mod workers;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use anyhow::{Context, Result};
use aws_sdk_dynamodb::Client;
use serde::Serialize;

use crate::metadata::{MetadataTable, MigrationRecord};
use crate::model::counts::LiveCounts;
use crate::model::error::{refused, EXIT_FAILED, EXIT_OK};
use crate::model::operation::{Operation, Status};
use crate::model::stop::Stop;
use crate::model::{counted, now};
use crate::run::report::RunReport;
use crate::run::{RunOptions, Session, SessionOptions};
use config::TableDeclaration;
use folder::{Folder, Module};
use reconcile::{ModuleSummary, Repair, Row};
use tables::Change;

/// What a folder run (or undo) did.
#[derive(Debug, Clone, Serialize)]
pub struct FolderReport {
    /// `migrate` or `undo`.
    pub operation: Operation,
    /// Table changes made first.
    pub table_changes: Vec<Change>,
    /// Applied migrations left alone (already applied from the same module).
    pub up_to_date: Vec<u64>,
    /// One report per migration run, in order; the last one failed if the run stopped early.
    pub migrations: Vec<RunReport>,
    /// Migrations not reached because an earlier one failed.
    pub not_run: Vec<u64>,
    /// Whether every migration did what was asked.
    pub succeeded: bool,
    /// The process's exit code.
    pub exit_code: u8,
}

impl FolderReport {
    /// One line per migration, and one for the whole.
    pub fn summary(&self) -> String {
        let mut lines: Vec<String> = self.migrations.iter().map(|r| r.summary_line()).collect();
        let verb = match self.operation {
            Operation::Migrate => "applied",
            Operation::Undo => "undone",
        };
        let done = self.migrations.iter().filter(|r| r.succeeded).count();
        let migrations = |n: usize| counted(n as u64, "migration");
        lines.push(if self.migrations.is_empty() {
            format!(
                "nothing to do: {} up to date",
                migrations(self.up_to_date.len())
            )
        } else if self.succeeded {
            format!("{} {verb}", migrations(done))
        } else if self.not_run.is_empty() {
            format!("stopped after {} {verb}", migrations(done))
        } else {
            format!(
                "stopped after {} {verb}; not run: {}",
                migrations(done),
                numbers(&self.not_run)
            )
        });
        lines.join("\n")
    }
}

fn numbers(numbers: &[u64]) -> String {
    numbers
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The decision inputs of `folder`'s modules.
pub fn summaries(folder: &Folder) -> Vec<ModuleSummary> {
    folder
        .modules
        .iter()
        .map(|m| ModuleSummary {
            number: m.migration.info.number,
            name: m.migration.info.name.clone(),
            file: m.file.clone(),
            checksum: m.migration.checksum.clone(),
            table: m.migration.info.table.clone(),
        })
        .collect()
}

/// Every record of the metadata table; none if the table does not exist yet.
async fn records(meta: &MetadataTable) -> Result<Vec<MigrationRecord>> {
    if meta.exists().await? {
        meta.list().await
    } else {
        Ok(Vec::new())
    }
}

/// The migrations of `folder` that `run` would apply, in order, by the records in `meta`
/// (those below the last applied one too: a plan of a folder shows what is pending).
pub async fn pending(folder: &Folder, meta: &MetadataTable) -> Result<Vec<u64>> {
    reconcile::to_run(&summaries(folder), &records(meta).await?, true).map_err(refused)
}

/// `status DIR`: every migration of the folder and every recorded one.
pub async fn status(folder: &Folder, meta: &MetadataTable) -> Result<Vec<Row>> {
    Ok(reconcile::rows(&summaries(folder), &records(meta).await?))
}

/// The differences between the declared tables and the account (read-only).
pub async fn table_changes(
    client: &Client,
    options: &SessionOptions,
    declared: &BTreeMap<String, TableDeclaration>,
) -> Result<Vec<Change>> {
    let meta = MetadataTable::new(client.clone(), &options.meta_table, options.policy.clone());
    let managed = if meta.exists().await? {
        meta.managed_tables().await?
    } else {
        BTreeSet::new()
    };
    let mut existing = BTreeMap::new();
    for name in declared.keys().chain(&managed) {
        existing.insert(
            name.clone(),
            tables::describe(client, &options.policy, name).await?,
        );
    }
    Ok(tables::changes(declared, &existing, &managed))
}

/// Makes the declared tables so under `session`'s lock and records them as the project's;
/// returns every difference found (the applied ones and those left as they are).
pub async fn apply_tables(
    session: &Session,
    declared: &BTreeMap<String, TableDeclaration>,
) -> Result<Vec<Change>> {
    let options = session.options();
    let changes = table_changes(session.client(), options, declared).await?;
    tables::apply(session.client(), &options.policy, declared, &changes).await?;
    for name in declared.keys() {
        session.meta().set_managed(name, true).await?;
    }
    Ok(changes)
}

/// Deletes the tables named in `confirm`, each of which this project created and no longer
/// declares; refuses (deleting nothing) unless every such table is named and every name is one.
pub async fn prune(
    session: &Session,
    declared: &BTreeMap<String, TableDeclaration>,
    confirm: &[String],
) -> Result<Vec<String>> {
    let options = session.options();
    let changes = table_changes(session.client(), options, declared).await?;
    let undeclared: BTreeSet<&str> = changes
        .iter()
        .filter(|c| matches!(c, Change::Undeclared { .. }))
        .map(Change::table)
        .collect();
    let confirmed: BTreeSet<&str> = confirm.iter().map(String::as_str).collect();
    if let Some(stranger) = confirmed.iter().find(|t| !undeclared.contains(*t)) {
        return Err(refused(format!(
            "`{stranger}` is not a table this project created and no longer declares; \
             nothing deleted"
        )));
    }
    if undeclared.is_empty() {
        return Ok(Vec::new());
    }
    let unconfirmed: Vec<&str> = undeclared.difference(&confirmed).copied().collect();
    if !unconfirmed.is_empty() {
        let flags: Vec<String> = unconfirmed
            .iter()
            .map(|t| format!("--confirm {t}"))
            .collect();
        return Err(refused(format!(
            "--prune would delete {}: repeat each table's name ({}) to delete it; nothing deleted",
            unconfirmed.join(", "),
            flags.join(" ")
        )));
    }
    let mut deleted = Vec::new();
    for table in confirmed {
        crate::aws::table::delete_table(session.client(), &options.policy, table).await?;
        session.meta().set_managed(table, false).await?;
        tracing::info!("deleted table `{table}`");
        deleted.push(table.to_owned());
    }
    Ok(deleted)
}

/// Refuses (before anything runs) a migration that names a table which neither exists nor is
/// declared.
async fn check_tables(
    client: &Client,
    options: &SessionOptions,
    declared: &BTreeMap<String, TableDeclaration>,
    modules: &[&Module],
) -> Result<()> {
    let mut checked = BTreeSet::new();
    for module in modules {
        for table in module.migration.tables(None).all() {
            if declared.contains_key(&table) || !checked.insert(table.clone()) {
                continue;
            }
            if tables::describe(client, &options.policy, &table)
                .await?
                .is_none()
            {
                let info = &module.migration.info;
                return Err(refused(format!(
                    "migration {} ({}, {}) names table `{table}`, which neither exists nor is \
                     declared in drift.toml",
                    info.number, info.name, module.file
                )));
            }
        }
    }
    Ok(())
}

/// How a folder runs.
pub struct FolderRun<'a> {
    /// The folder.
    pub folder: &'a Folder,
    /// The options of each run (`table` must be `None`).
    pub options: &'a RunOptions,
    /// Run pending migrations numbered below the highest applied one.
    pub out_of_order: bool,
    /// Apply the declared tables first.
    pub apply_tables: bool,
    /// The progress counters, reset for each migration.
    pub counts: &'a Arc<LiveCounts>,
    /// The stop request.
    pub stop: &'a Stop,
}

/// `run DIR`: the declared tables first, then every pending migration in order under one
/// lock, stopping at the first that does not succeed. Refusals come before anything runs.
pub async fn run_folder(client: &Client, run: FolderRun<'_>) -> Result<FolderReport> {
    let FolderRun {
        folder, options, ..
    } = run;
    let declared = &folder.project.tables;
    let summaries = summaries(folder);
    let meta = MetadataTable::new(
        client.clone(),
        &options.session.meta_table,
        options.session.policy.clone(),
    );
    let pending =
        reconcile::to_run(&summaries, &records(&meta).await?, run.out_of_order).map_err(refused)?;
    let modules: Vec<&Module> = pending.iter().filter_map(|n| folder.module(*n)).collect();
    check_tables(client, &options.session, declared, &modules).await?;
    let purpose = format!("run {} ({} pending)", folder.root.display(), pending.len());
    let session = Session::open(client, &options.session, run.stop.clone(), &purpose).await?;
    let result = run_pending(&session, &run, &summaries).await;
    session.close().await;
    result
}

async fn run_pending(
    session: &Session,
    run: &FolderRun<'_>,
    summaries: &[ModuleSummary],
) -> Result<FolderReport> {
    let folder = run.folder;
    let table_changes = if run.apply_tables && !folder.project.tables.is_empty() {
        apply_tables(session, &folder.project.tables).await?
    } else {
        Vec::new()
    };
    // Again under the lock: another run may have changed the records since.
    let pending = reconcile::to_run(summaries, &session.meta().list().await?, run.out_of_order)
        .map_err(refused)?;
    let up_to_date = summaries
        .iter()
        .map(|s| s.number)
        .filter(|n| !pending.contains(n))
        .collect();
    let modules = pending.iter().filter_map(|n| folder.module(*n)).collect();
    run_in_order(
        session,
        Operation::Migrate,
        modules,
        run,
        table_changes,
        up_to_date,
    )
    .await
}

/// Runs `modules` in order with `run_one` (`Ok(None)`: the migration turned out to be done
/// already), stopping at the first that does not succeed; the rest are reported not run.
async fn in_order<'m, F, Fut>(
    report: FolderReport,
    modules: Vec<&'m Module>,
    run: &FolderRun<'_>,
    mut run_one: F,
) -> Result<FolderReport>
where
    F: FnMut(&'m Module) -> Fut,
    Fut: std::future::Future<Output = Result<Option<RunReport>>>,
{
    let mut report = report;
    for module in modules {
        let number = module.migration.info.number;
        if !report.succeeded || run.stop.is_requested() {
            report.not_run.push(number);
            report.succeeded = false;
            report.exit_code = report.exit_code.max(EXIT_FAILED);
            continue;
        }
        run.counts.reset();
        let outcome = run_one(module)
            .await
            .with_context(|| format!("migration {number} ({})", module.file))?;
        match outcome {
            Some(outcome) => {
                report.succeeded = outcome.succeeded;
                report.exit_code = outcome.exit_code;
                report.migrations.push(outcome);
            }
            None => report.up_to_date.push(number),
        }
    }
    Ok(report)
}

impl FolderReport {
    /// A report of `operation` before any migration ran.
    fn new(operation: Operation, table_changes: Vec<Change>, up_to_date: Vec<u64>) -> Self {
        FolderReport {
            operation,
            table_changes,
            up_to_date,
            migrations: Vec::new(),
            not_run: Vec::new(),
            succeeded: true,
            exit_code: EXIT_OK,
        }
    }
}

async fn run_in_order(
    session: &Session,
    operation: Operation,
    modules: Vec<&Module>,
    run: &FolderRun<'_>,
    table_changes: Vec<Change>,
    up_to_date: Vec<u64>,
) -> Result<FolderReport> {
    let report = FolderReport::new(operation, table_changes, up_to_date);
    in_order(report, modules, run, |module| async move {
        let outcome = session
            .run(module.migration.clone(), run.options, run.counts.clone())
            .await?;
        Ok(Some(outcome))
    })
    .await
}

/// `undo DIR --to N`: undoes the applied migrations numbered above `to`, newest first, under
/// one lock, stopping at the first that does not succeed.
pub async fn undo_to(client: &Client, run: FolderRun<'_>, to: u64) -> Result<FolderReport> {
    let options = run.options;
    let summaries = summaries(run.folder);
    let meta = MetadataTable::new(
        client.clone(),
        &options.session.meta_table,
        options.session.policy.clone(),
    );
    reconcile::to_undo(&summaries, &records(&meta).await?, to).map_err(refused)?;
    let purpose = format!("undo {} --to {to}", run.folder.root.display());
    let session = Session::open(client, &options.session, run.stop.clone(), &purpose).await?;
    let result = async {
        let undo =
            reconcile::to_undo(&summaries, &session.meta().list().await?, to).map_err(refused)?;
        let modules = undo.iter().filter_map(|n| run.folder.module(*n)).collect();
        run_in_order(
            &session,
            Operation::Undo,
            modules,
            &run,
            Vec::new(),
            Vec::new(),
        )
        .await
    }
    .await;
    session.close().await;
    result
}

/// Who makes a manual change: the user and the host.
fn who() -> String {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_or_else(|_| "?".to_owned(), |h| h.trim().to_owned());
    format!("{user}@{host}")
}

/// `baseline DIR --up-to N`: records the folder's migrations up to `up_to` as applied without
/// running them, each with a note; returns their numbers.
pub async fn baseline(
    client: &Client,
    folder: &Folder,
    options: &SessionOptions,
    up_to: u64,
    reason: &str,
) -> Result<Vec<u64>> {
    let summaries = summaries(folder);
    let purpose = format!("baseline {} --up-to {up_to}", folder.root.display());
    let session = Session::open(client, options, Stop::new(), &purpose).await?;
    let result = async {
        let records = session.meta().list().await?;
        let numbers = reconcile::to_baseline(&summaries, &records, up_to).map_err(refused)?;
        for &number in &numbers {
            let Some(module) = folder.module(number) else {
                continue;
            };
            let previous = records.iter().find(|r| r.number == number);
            let info = &module.migration.info;
            let was = previous.map_or(String::new(), |p| format!(" (was {})", p.status.as_str()));
            let mut notes = previous.map(|p| p.notes.clone()).unwrap_or_default();
            notes.push(format!(
                "baseline by {} at {}: recorded as applied without running{was}: {reason}",
                who(),
                now()
            ));
            let record = MigrationRecord {
                number,
                name: info.name.clone(),
                description: info.description.clone(),
                table: info.table.clone(),
                checksum: module.migration.checksum.clone(),
                status: Status::Applied,
                operation: Operation::Migrate,
                run_id: format!("baseline-{}", uuid::Uuid::new_v4()),
                started_at: now(),
                finished_at: Some(now()),
                host_version: env!("CARGO_PKG_VERSION").to_owned(),
                counts: Default::default(),
                last_error: None,
                journal: None,
                progress: None,
                notes,
            };
            session
                .meta()
                .write(&record, previous, Some(session.lease()))
                .await?;
        }
        Ok(numbers)
    }
    .await;
    session.close().await;
    result
}

/// `repair DIR`: accepts the module's checksum of each modified applied migration, and clears
/// each failed record (it becomes `pending`, so the next run starts over), each with a note;
/// returns one line per change.
pub async fn repair(
    client: &Client,
    folder: &Folder,
    options: &SessionOptions,
    reason: &str,
) -> Result<Vec<String>> {
    let summaries = summaries(folder);
    let purpose = format!("repair {}", folder.root.display());
    let session = Session::open(client, options, Stop::new(), &purpose).await?;
    let result = async {
        let records = session.meta().list().await?;
        let mut done = Vec::new();
        for repair in reconcile::repairs(&summaries, &records) {
            let (number, change) = match &repair {
                Repair::AcceptChecksum { number, checksum } => {
                    (*number, format!("accepted checksum {checksum}"))
                }
                Repair::ClearFailed { number } => (*number, String::new()),
            };
            let Some(previous) = records.iter().find(|r| r.number == number) else {
                continue;
            };
            let mut record = previous.clone();
            if let Some(module) = folder.module(number) {
                record.name = module.migration.info.name.clone();
                record.description = module.migration.info.description.clone();
            }
            let change = match repair {
                Repair::AcceptChecksum { checksum, .. } => {
                    record.checksum = checksum;
                    format!("{change} (was {})", previous.checksum)
                }
                Repair::ClearFailed { .. } => {
                    if let Some(journal) = record.journal.take() {
                        forget_journal(&journal);
                    }
                    record.status = Status::Pending;
                    record.progress = None;
                    format!(
                        "cleared the failed {} run {} ({}); the next run starts over",
                        previous.operation.as_str(),
                        previous.run_id,
                        previous
                            .last_error
                            .as_deref()
                            .unwrap_or("no error recorded")
                    )
                }
            };
            record.last_error = None;
            record.notes.push(format!(
                "repair by {} at {}: {change}: {reason}",
                who(),
                now()
            ));
            session
                .meta()
                .write(&record, Some(previous), Some(session.lease()))
                .await?;
            done.push(format!("migration {number} ({}): {change}", record.name));
        }
        Ok(done)
    }
    .await;
    session.close().await;
    result
}

/// Removes a cleared run's journal and checkpoint if they are on this machine: no resume will
/// read them again.
fn forget_journal(journal: &str) {
    let journal = std::path::Path::new(journal);
    let checkpoint = crate::journal::checkpoint::Checkpoint::path_for(journal);
    for path in [journal, checkpoint.as_path()] {
        match std::fs::remove_file(path) {
            Ok(()) => tracing::info!("removed {}", path.display()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::warn!("could not remove {}: {error}", path.display()),
        }
    }
}
