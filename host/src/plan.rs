//! `drift-host plan` and `apply`: what a run would do, without writing, and later applying
//! exactly that.
//!
//! `plan` scans the table and runs the guest as `run` does, into a journal, but takes no lock,
//! writes no record and no item (guests' immediate writes are refused): it may only read. It
//! counts the actions by table and kind, lists the failed items, estimates the write capacity
//! and shows a before/after view of some items ([`crate::preview`]). With `--out PLAN` the
//! journal is kept in the folder PLAN with `plan.json` (module checksum, table and its creation
//! time, scan time, counts, the checkpoint at the end of the scan); `apply PLAN` checks that
//! the module, the table and the record still fit and applies that journal as `run` would.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::aws::convert::{from_aws_item, to_aws_item};
use crate::aws::table::{created_at, table_schemas};
use crate::engine::{LoadedMigration, MigrationInfo};
use crate::journal::checkpoint::{Checkpoint, Phase};
use crate::journal::{Entry, JournalReader};
use crate::metadata::MetadataTable;
use crate::model::action::{Action, ActionKind};
use crate::model::counts::LiveCounts;
use crate::model::error::{refused, RunError, EXIT_FAILED, EXIT_OK};
use crate::model::item::{to_json_item, Item};
use crate::model::now;
use crate::model::operation::{Operation, Status};
use crate::model::source::key_identity;
use crate::model::stop::Stop;
use crate::preview::{changes, describe, MemoryTables};
use crate::run::report::{ItemFailure, RunReport};
use crate::run::scan_phase::scan_phase;
use crate::run::{run, Planned, RunOptions, ScanContext};

/// The plan file's name inside the plan folder.
pub const PLAN_FILE: &str = "plan.json";
/// The journal's name inside the plan folder.
pub const JOURNAL_FILE: &str = "journal";
/// Items the report lists with their errors.
const FAILURES_LISTED: usize = 20;

/// How to plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The run's options (`operation` migrate or undo).
    pub run: RunOptions,
    /// Items shown before and after.
    pub sample: usize,
    /// Keep the plan in this folder.
    pub out: Option<PathBuf>,
    /// Replace a plan already kept there (`--force`).
    pub replace: bool,
    /// The module's file, recorded in the plan.
    pub module: PathBuf,
}

/// One item before and after its actions.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// The item's key (DynamoDB JSON).
    pub key: Json,
    /// As scanned (read again when the sample is shown).
    pub before: Option<Json>,
    /// Once its actions are applied.
    pub after: Option<Json>,
    /// What changes, one line per attribute.
    pub changes: Vec<String>,
    /// Its actions on other tables, one line each.
    pub elsewhere: Vec<String>,
}

/// What a plan found.
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    /// The migration.
    pub migration: MigrationInfo,
    /// Hex SHA-256 of the module.
    pub checksum: String,
    /// `migrate` or `undo`.
    pub operation: Operation,
    /// The scanned table.
    pub table: String,
    /// When the scan started (RFC 3339).
    pub scanned_at: String,
    /// Wall time in seconds.
    pub duration_seconds: f64,
    /// Items scanned.
    pub items_scanned: u64,
    /// Items the guest failed on: a run would apply nothing.
    pub failed_items: u64,
    /// The first of them, with their keys.
    pub failures: Vec<ItemFailure>,
    /// Actions by table and kind.
    pub actions: BTreeMap<String, BTreeMap<String, u64>>,
    /// All actions.
    pub actions_total: u64,
    /// Read capacity units the scan consumed (a run's scan consumes as much).
    pub consumed_rcu: f64,
    /// Write capacity units the actions need at least (puts by item size; updates and deletes
    /// one unit each, more for items over 1 KB).
    pub estimated_wcu: f64,
    /// How long they take at `--max-wcu`, if given.
    pub estimated_seconds_at_max_wcu: Option<f64>,
    /// Items before and after.
    pub samples: Vec<Sample>,
    /// The kept plan folder (`--out`).
    pub plan: Option<PathBuf>,
    /// The process's exit code: failed items make it 1.
    pub exit_code: u8,
}

/// The kept plan, `PLAN/plan.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanFile {
    /// The module's file when planned.
    pub module: PathBuf,
    /// The module's checksum.
    pub checksum: String,
    /// The migration's number and name.
    pub migration: MigrationInfo,
    /// `migrate` or `undo`.
    pub operation: Operation,
    /// The scanned table.
    pub table: String,
    /// When that table was created (Unix seconds), to tell it from a re-created one.
    pub table_created_at: Option<f64>,
    /// When the scan started (RFC 3339) and in Unix seconds.
    pub scanned_at: String,
    /// The same in Unix seconds.
    pub scanned_at_unix: u64,
    /// Items scanned.
    pub items_scanned: u64,
    /// Failed items: such a plan cannot be applied.
    pub failed_items: u64,
    /// Actions in the journal.
    pub actions: u64,
    /// The checkpoint at the end of the scan, in the apply phase.
    pub checkpoint: Checkpoint,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Plans `migration`: scans, runs the guest, writes nothing but the journal (kept with
/// `--out`).
pub async fn plan(
    migration: Arc<LoadedMigration>,
    client: &Client,
    options: &PlanOptions,
    counts: Arc<LiveCounts>,
    stop: Stop,
) -> Result<PlanReport> {
    let started = Instant::now();
    let run_options = &options.run;
    let policy = &run_options.session.policy;
    let tables = migration.tables(run_options.table.as_deref());
    let table = tables.own().to_owned();
    let schemas = table_schemas(client, policy, &tables).await?;
    let meta = MetadataTable::new(
        client.clone(),
        &run_options.session.meta_table,
        policy.clone(),
    );
    let record = match meta.exists().await? {
        true => meta.get(migration.info.number).await?,
        false => None,
    };
    let who = format!(
        "migration {} ({})",
        migration.info.number, migration.info.name
    );
    let applied = record
        .as_ref()
        .is_some_and(|r| r.status == Status::Applied && r.checksum == migration.checksum);
    match run_options.operation {
        Operation::Migrate if applied => {
            return Err(refused(format!(
                "{who} is applied already; there is nothing to plan"
            )))
        }
        Operation::Undo if !applied => {
            return Err(refused(format!(
                "{who} is not applied from this module; there is nothing to undo"
            )))
        }
        _ => {}
    }
    let table_created_at = created_at(client, policy, &table).await?;
    let scanned_at = (now(), unix_now());
    let plan_id = format!("plan-{}", uuid::Uuid::new_v4());
    let journal = match &options.out {
        Some(folder) => {
            if folder.join(PLAN_FILE).exists() {
                if !options.replace {
                    bail!(
                        "{} holds a plan already: choose another folder, or --force to replace it",
                        folder.display()
                    );
                }
                for file in [PLAN_FILE, JOURNAL_FILE] {
                    let path = folder.join(file);
                    if path.exists() {
                        std::fs::remove_file(&path)
                            .with_context(|| format!("cannot replace {}", path.display()))?;
                    }
                }
            }
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
            folder.join(JOURNAL_FILE)
        }
        None => {
            std::fs::create_dir_all(&run_options.work_dir)?;
            run_options.work_dir.join(format!("{plan_id}.journal"))
        }
    };
    let checkpoint = Checkpoint::fresh(
        plan_id,
        run_options.operation,
        migration.checksum.clone(),
        table.clone(),
        run_options.segments,
    );
    let context = ScanContext {
        migration: &migration,
        client,
        options: run_options,
        counts: &counts,
        stop: &stop,
        schemas: &schemas,
        table: &table,
        read_only: true,
    };
    let scanned = scan_phase(&context, journal.clone(), checkpoint, None).await;
    let checkpoint_path = Checkpoint::path_for(&journal);
    let _ = std::fs::remove_file(&checkpoint_path);
    let scanned = match scanned {
        Ok(scanned) if !stop.is_requested() => scanned,
        outcome => {
            let _ = std::fs::remove_file(&journal);
            outcome?;
            return Err(RunError::Cancelled { phase: Phase::Scan }.into());
        }
    };
    let summary = summarize(&journal, options.sample)?;
    let samples = samples(client, run_options, &schemas, &table, &summary.sampled).await?;
    let (consumed_rcu, _) = run_options.capacity.total();
    let estimated_seconds_at_max_wcu = run_options
        .capacity
        .limits()
        .1
        .map(|max_wcu| summary.wcu / max_wcu);
    let plan = match &options.out {
        Some(folder) => {
            let mut checkpoint = scanned.checkpoint.clone();
            checkpoint.phase = Phase::Apply;
            checkpoint.applied_position = JournalReader::start_position();
            let file = PlanFile {
                module: options
                    .module
                    .canonicalize()
                    .unwrap_or(options.module.clone()),
                checksum: migration.checksum.clone(),
                migration: migration.info.clone(),
                operation: run_options.operation,
                table: table.clone(),
                table_created_at,
                scanned_at: scanned_at.0.clone(),
                scanned_at_unix: scanned_at.1,
                items_scanned: scanned.items,
                failed_items: scanned.errors,
                actions: summary.total,
                checkpoint,
            };
            let path = folder.join(PLAN_FILE);
            std::fs::write(&path, serde_json::to_string_pretty(&file)? + "\n")
                .with_context(|| format!("cannot write {}", path.display()))?;
            Some(folder.clone())
        }
        None => {
            let _ = std::fs::remove_file(&journal);
            None
        }
    };
    Ok(PlanReport {
        migration: migration.info.clone(),
        checksum: migration.checksum.clone(),
        operation: run_options.operation,
        table,
        scanned_at: scanned_at.0,
        duration_seconds: started.elapsed().as_secs_f64(),
        items_scanned: scanned.items,
        failed_items: scanned.errors,
        failures: scanned.failures.into_iter().take(FAILURES_LISTED).collect(),
        actions: summary.by_table,
        actions_total: summary.total,
        consumed_rcu,
        estimated_wcu: summary.wcu,
        estimated_seconds_at_max_wcu,
        samples,
        plan,
        exit_code: if scanned.errors == 0 {
            EXIT_OK
        } else {
            EXIT_FAILED
        },
    })
}

/// What the journal holds.
struct Summary {
    by_table: BTreeMap<String, BTreeMap<String, u64>>,
    total: u64,
    wcu: f64,
    /// The first sampled items' keys, with their actions in order.
    sampled: Vec<(Item, Vec<Action>)>,
}

fn summarize(journal: &Path, sample: usize) -> Result<Summary> {
    let mut summary = Summary {
        by_table: BTreeMap::new(),
        total: 0,
        wcu: 0.0,
        sampled: Vec::new(),
    };
    let mut sampled: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut reader = JournalReader::open(journal)?;
    while let Some((record, _)) = reader.next_record()? {
        let Entry::Action(action) = record.entry else {
            continue;
        };
        summary.total += 1;
        *summary
            .by_table
            .entry(action.table.clone())
            .or_default()
            .entry(action.kind.name().to_owned())
            .or_default() += 1;
        summary.wcu += match &action.kind {
            ActionKind::Put { item } => (item.size() as f64 / 1024.0).ceil().max(1.0),
            ActionKind::Update { .. } | ActionKind::Delete { .. } => 1.0,
        };
        let identity = key_identity(&record.source);
        let index = match sampled.get(&identity) {
            Some(index) => Some(*index),
            None if summary.sampled.len() < sample => {
                sampled.insert(identity, summary.sampled.len());
                summary.sampled.push((record.source.clone(), Vec::new()));
                Some(summary.sampled.len() - 1)
            }
            None => None,
        };
        if let Some(index) = index {
            summary.sampled[index].1.push(action);
        }
    }
    Ok(summary)
}

/// Each sampled item as it is now and once its actions are applied (read again, with a
/// strongly consistent read: a plan only reads).
async fn samples(
    client: &Client,
    options: &RunOptions,
    schemas: &crate::model::schema::Schemas,
    table: &str,
    sampled: &[(Item, Vec<Action>)],
) -> Result<Vec<Sample>> {
    let schema = &schemas[table].key;
    let mut key_names = vec![schema.hash.clone()];
    key_names.extend(schema.range.clone());
    let mut out = Vec::new();
    for (key, actions) in sampled {
        let read = options
            .session
            .policy
            .run(|| {
                client
                    .get_item()
                    .table_name(table)
                    .set_key(Some(to_aws_item(key)))
                    .consistent_read(true)
                    .send()
            })
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot read a sample item: {}",
                    crate::aws::retry::error_code(&e)
                )
            })?;
        let before = read.item.map(|item| from_aws_item(&item)).transpose()?;
        let mut memory = MemoryTables::new();
        memory.set_key(table, key_names.clone());
        for (name, schema) in schemas {
            let mut names = vec![schema.key.hash.clone()];
            names.extend(schema.key.range.clone());
            memory.set_key(name, names);
        }
        if let Some(before) = &before {
            memory
                .insert(table, before.clone())
                .map_err(anyhow::Error::msg)?;
        }
        let mut elsewhere = Vec::new();
        for action in actions {
            if action.table != table {
                elsewhere.push(describe(action));
            }
            if let Err(why) = memory.apply(action) {
                elsewhere.push(format!("refused: {why}"));
            }
        }
        let after = memory.get(table, key).cloned();
        out.push(Sample {
            key: to_json_item(key),
            changes: changes(before.as_ref(), after.as_ref()),
            before: before.as_ref().map(to_json_item),
            after: after.as_ref().map(to_json_item),
            elsewhere,
        });
    }
    Ok(out)
}

/// Reads the plan in `folder`.
pub fn read_plan(folder: &Path) -> Result<PlanFile> {
    let path = folder.join(PLAN_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{} is not a plan (no {PLAN_FILE})", folder.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a valid plan", path.display()))
}

/// How old a plan is, for people.
pub fn age(plan: &PlanFile) -> String {
    let seconds = unix_now().saturating_sub(plan.scanned_at_unix);
    humantime::format_duration(Duration::from_secs(seconds)).to_string()
}

/// Applies the plan in `folder` with `migration` (which must be the planned module), as `run`
/// would, after checking that the table was not re-created and the plan has no failed item.
pub async fn apply_plan(
    folder: &Path,
    migration: Arc<LoadedMigration>,
    client: &Client,
    options: &RunOptions,
    counts: Arc<LiveCounts>,
    stop: Stop,
) -> Result<RunReport> {
    let plan = read_plan(folder)?;
    let short = |c: &str| c.chars().take(12).collect::<String>();
    if plan.checksum != migration.checksum {
        return Err(refused(format!(
            "the module changed since the plan (planned {}, now {}): plan again",
            short(&plan.checksum),
            short(&migration.checksum)
        )));
    }
    if plan.failed_items > 0 {
        return Err(refused(format!(
            "the plan has {} failed items: nothing of it may be applied",
            plan.failed_items
        )));
    }
    let now_created = created_at(client, &options.session.policy, &plan.table).await?;
    if now_created != plan.table_created_at {
        return Err(refused(format!(
            "table `{}` was re-created since the plan: plan again",
            plan.table
        )));
    }
    let options = RunOptions {
        operation: plan.operation,
        table: Some(plan.table.clone()),
        ..options.clone()
    };
    let planned = Planned {
        journal: folder.join(JOURNAL_FILE),
        checkpoint: plan.checkpoint.clone(),
    };
    run(migration, client, &options, Some(&planned), counts, stop).await
}
