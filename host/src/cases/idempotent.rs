//! `drift-host test --idempotent`: a migration run again over what it left changes nothing.
//!
//! A live run (`run --live`) migrates an item again whenever the stream shows it written,
//! its own writes included, and a resumed live run repeats the writes of its last moments:
//! migrating a migrated item must give no action, or actions that leave it as it is. The
//! second pass takes the case's tables as the first pass left them (the migration's table
//! as input, every other table as given), migrates every item of the migration's table
//! again, applies the actions, and compares: any difference, or an item the second pass
//! fails on, makes the case fail.

use std::sync::Arc;

use anyhow::Result;

use super::{item_diff, CaseTables};
use crate::engine::LoadedMigration;
use crate::exec::{exec_each, ExecInput, ExecOptions};
use crate::preview::{Applied, MemoryTables};

/// What a second pass over `after` (the tables the case's first pass left) changes, one line
/// each; empty when nothing. Items named in `failed` failed the first pass already: that they
/// fail again says nothing of idempotence.
pub fn second_pass(
    migration: &Arc<LoadedMigration>,
    case: &str,
    options: &ExecOptions,
    after: &MemoryTables,
    failed: &[String],
) -> Result<Vec<String>> {
    let own = migration.info.table.clone();
    let input = after.items(&own);
    let given = after
        .table_names()
        .into_iter()
        .filter(|table| *table != own)
        .map(|table| {
            let items = after.items(&table);
            (table, items)
        })
        .collect();
    let mut options = options.clone();
    options.tables = Some(Arc::new(CaseTables::new(&own, &input, &given)));
    let mut actions = Vec::new();
    let mut lines = Vec::new();
    exec_each(
        migration.clone(),
        ExecInput::Items(input),
        &options,
        |outcome| {
            match outcome.result {
                Ok(list) => actions.extend(list),
                Err(_) if failed.contains(&outcome.label) => {}
                Err(error) => lines.push(format!(
                    "not idempotent: migrated again, {} fails: {error}",
                    outcome.label
                )),
            }
            Ok(())
        },
    )?;
    let mut again = after.clone();
    for action in &actions {
        match again.apply(action) {
            Ok(Applied::Written) => {}
            Ok(Applied::Conflict(why)) => tracing::debug!("case {case}: second pass: {why}"),
            Err(why) => lines.push(format!("not idempotent: migrated again, {why}")),
        }
    }
    let mut tables = after.table_names();
    for table in again.table_names() {
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    for table in tables {
        let changed = item_diff(&table, &after.items(&table), &again.items(&table));
        if !changed.is_empty() {
            lines.push(format!(
                "not idempotent: migrating the migrated items again changes `{table}` \
                 (- after one pass, + after two):"
            ));
            lines.extend(changed);
        }
    }
    Ok(lines)
}
