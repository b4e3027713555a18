//! `run DIR --workers N`: a folder's pending migrations one after another, every worker taking
//! part in each (see `run::workers`). The declared tables are made first by whichever worker
//! finds them missing, under the metadata table's lock; a worker that finds a migration done
//! by the others (a late one) goes on to the next.

use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_dynamodb::Client;

use super::tables::Change;
use super::{
    apply_tables, check_tables, in_order, reconcile, records, summaries, table_changes,
    FolderReport, FolderRun, Module,
};
use crate::metadata::MetadataTable;
use crate::model::error::{refused, up_to_date, RunError};
use crate::model::operation::Operation;
use crate::run::workers::{run_worker, WorkerPlace};
use crate::run::Session;

/// Runs the folder's pending migrations as worker `place` of each.
pub async fn run_folder_workers(
    client: &Client,
    run: FolderRun<'_>,
    place: WorkerPlace,
) -> Result<FolderReport> {
    let (folder, options) = (run.folder, run.options);
    let summaries = summaries(folder);
    let meta = MetadataTable::new(
        client.clone(),
        &options.session.meta_table,
        options.session.policy.clone(),
    );
    let pending =
        reconcile::to_run(&summaries, &records(&meta).await?, run.out_of_order).map_err(refused)?;
    let modules: Vec<&Module> = pending.iter().filter_map(|n| folder.module(*n)).collect();
    check_tables(client, &options.session, &folder.project.tables, &modules).await?;
    let table_changes = if run.apply_tables && !folder.project.tables.is_empty() {
        make_tables(client, &run).await?
    } else {
        Vec::new()
    };
    let applied = summaries
        .iter()
        .map(|s| s.number)
        .filter(|n| !pending.contains(n))
        .collect();
    let report = FolderReport::new(Operation::Migrate, table_changes, applied);
    in_order(report, modules, &run, |module| async move {
        let outcome = run_worker(
            module.migration.clone(),
            client,
            options,
            place,
            run.counts.clone(),
            run.stop.clone(),
        )
        .await;
        match outcome {
            Ok(outcome) => Ok(Some(outcome)),
            // Done by the other workers before this one got to it.
            Err(error) if up_to_date(&error).is_some() => Ok(None),
            Err(error) => Err(error),
        }
    })
    .await
}

/// Makes the declared tables so, if they are not: under the metadata table's lock, waiting
/// for it while another worker holds it (that worker is making them, or already running the
/// first migration).
async fn make_tables(client: &Client, run: &FolderRun<'_>) -> Result<Vec<Change>> {
    let options = &run.options.session;
    let declared = &run.folder.project.tables;
    let patience = options.lease * 2 + Duration::from_secs(5);
    let deadline = Instant::now() + patience;
    loop {
        let changes = table_changes(client, options, declared).await?;
        if !changes.iter().any(Change::is_applied) {
            return Ok(changes);
        }
        let purpose = format!("tables of {}", run.folder.root.display());
        match Session::open(client, options, run.stop.clone(), &purpose).await {
            Ok(session) => {
                let made = apply_tables(&session, declared).await;
                session.close().await;
                return made;
            }
            Err(error) if is_refusal(&error) && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

fn is_refusal(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|e| matches!(e.downcast_ref::<RunError>(), Some(RunError::Refused(_))))
}
