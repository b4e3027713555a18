//! `drift-host test MIGRATION --cases DIR`: a migration's tests against fixtures, offline, in
//! the sandbox, whatever its language.
//!
//! A case is a folder holding `input.json` (items in DynamoDB JSON, as `exec --input` reads
//! them), `expect.json` and optionally `given.json`, or one file `NAME.json` holding
//! `{"input": [items], "given": {..}, "expect": {..}}`. `given` is `{"TABLE": [items]}`: what
//! other tables hold before the migration. The guest's immediate `get-item` and `query` read
//! the inputs (in the migration's table) and the given tables (see [`tables`]).
//! The expectation has any of:
//! - `"tables"`: `{"TABLE": [items]}`, each named table as it is once the actions are applied
//!   to the inputs (the inputs start in the migration's table, the given items in theirs,
//!   other tables start empty);
//! - `"actions"`: the actions, in input order, as `exec` prints them;
//! - `"errors"`: `[{"item": NAME, "error": TEXT}]`, the items expected to fail (NAME as `exec`
//!   names them, TEXT a part of the error); without it, any failed item fails the case;
//! - `"keys"`: `{"TABLE": ["pk", "sk"]}`, the key attributes of tables the actions `put` to
//!   (learnt from updates and deletes otherwise).
//!
//! `--update` rewrites each expectation from what the migration does (golden files).
//! `--idempotent` also runs the migration again over what it left, which must change nothing
//! (see [`idempotent`]).

mod idempotent;
mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::engine::{CallCost, LoadedMigration};
use crate::exec::{exec_each, ExecInput, ExecOptions};
use crate::model::item::{from_json_item, to_json_item, Item};
use crate::preview::{canonical_item, key_names_of, Applied, MemoryTables};
pub use tables::CaseTables;

/// How `test` runs.
#[derive(Clone)]
pub struct CaseOptions {
    /// What to run and how (the key names items in errors).
    pub exec: ExecOptions,
    /// Rewrite the expectations from what happened.
    pub update: bool,
    /// Also check that migrating the migrated tables again changes nothing
    /// (`--idempotent`, what `run --live` needs).
    pub idempotent: bool,
}

/// One case's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case's name (its folder or file name).
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What differs, one line each (`-` expected, `+` actual).
    pub diff: Vec<String>,
    /// Whether `--update` rewrote its expectation.
    pub updated: bool,
    /// What each input's guest call cost, by the item's name (for `test --profile`).
    #[serde(skip)]
    pub costs: Vec<(String, CallCost)>,
}

/// A case as read.
struct Case {
    name: String,
    input: Vec<Item>,
    /// Other tables' items before the migration.
    given: BTreeMap<String, Vec<Item>>,
    expect: Json,
    /// Where the expectation is written back: `expect.json`, or the case file's `expect`.
    place: Place,
}

enum Place {
    Folder(PathBuf),
    File(PathBuf, Json),
}

/// The cases in `dir`, by name.
fn read_cases(dir: &Path) -> Result<Vec<Case>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the cases folder {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    let mut cases = Vec::new();
    for path in entries {
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let read_json = |path: &Path| -> Result<Json> {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
        };
        if path.is_dir() {
            let input_path = path.join("input.json");
            let file = std::fs::File::open(&input_path)
                .with_context(|| format!("case {name}: cannot open {}", input_path.display()))?;
            let mut input = Vec::new();
            crate::source::json::read_items(file, |item| {
                input.push(item);
                Ok(())
            })
            .with_context(|| format!("case {name}: input.json"))?;
            let expect_path = path.join("expect.json");
            let expect = if expect_path.exists() {
                read_json(&expect_path)?
            } else {
                json!({})
            };
            let given_path = path.join("given.json");
            let given = if given_path.exists() {
                given_tables(&read_json(&given_path)?)
                    .with_context(|| format!("case {name}: given.json"))?
            } else {
                BTreeMap::new()
            };
            cases.push(Case {
                name,
                input,
                given,
                expect,
                place: Place::Folder(expect_path),
            });
        } else if path.extension().is_some_and(|e| e == "json") {
            let document = read_json(&path)?;
            let input = match &document["input"] {
                Json::Array(items) => items
                    .iter()
                    .map(from_json_item)
                    .collect::<Result<_>>()
                    .with_context(|| format!("case {name}: input"))?,
                _ => bail!("case {name}: `input` is not a list of items (DynamoDB JSON)"),
            };
            let given = match document.get("given") {
                Some(given) => {
                    given_tables(given).with_context(|| format!("case {name}: given"))?
                }
                None => BTreeMap::new(),
            };
            cases.push(Case {
                name,
                input,
                given,
                expect: document.get("expect").cloned().unwrap_or_else(|| json!({})),
                place: Place::File(path, document),
            });
        }
    }
    if cases.is_empty() {
        bail!("{} holds no test case", dir.display());
    }
    Ok(cases)
}

/// `{"TABLE": [items]}`: tables' items in DynamoDB JSON.
fn given_tables(document: &Json) -> Result<BTreeMap<String, Vec<Item>>> {
    let Json::Object(tables) = document else {
        bail!("not an object of table names");
    };
    tables
        .iter()
        .map(|(table, items)| {
            let Json::Array(items) = items else {
                bail!("`{table}` is not a list of items (DynamoDB JSON)");
            };
            let items = items
                .iter()
                .map(from_json_item)
                .collect::<Result<_>>()
                .with_context(|| format!("`{table}`"))?;
            Ok((table.clone(), items))
        })
        .collect()
}

/// What the migration did with a case's inputs.
struct Outcome {
    actions: Vec<Json>,
    errors: Vec<(String, String)>,
    tables: Option<BTreeMap<String, Vec<Item>>>,
    /// Why the tables could not be computed (an unknown key, an update DynamoDB refuses).
    tables_error: Option<String>,
    costs: Vec<(String, CallCost)>,
    /// The tables after the actions, for the second pass of `--idempotent`.
    after: Option<MemoryTables>,
    /// The options the case ran with (its key learnt).
    options: ExecOptions,
}

fn run_case(
    migration: &Arc<LoadedMigration>,
    case: &Case,
    options: &ExecOptions,
) -> Result<Outcome> {
    let own = migration.info.table.clone();
    let keys = case.expect.get("keys").and_then(Json::as_object);
    let key_names = |table: &str| -> Option<Vec<String>> {
        let names = keys?.get(table)?.as_array()?;
        Some(
            names
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )
    };
    // Items are named by `--key`, else by the case's key of the migration's table.
    let mut options = options.clone();
    if options.key.is_empty() {
        options.key = key_names(&own).unwrap_or_default();
    }
    options.tables = Some(Arc::new(CaseTables::new(&own, &case.input, &case.given)));
    let mut actions = Vec::new();
    let mut errors = Vec::new();
    let mut typed = Vec::new();
    let mut costs = Vec::new();
    exec_each(
        migration.clone(),
        ExecInput::Items(case.input.clone()),
        &options,
        |outcome| {
            actions.extend(outcome.action_documents());
            costs.push((outcome.label.clone(), outcome.cost));
            match outcome.result {
                Ok(list) => typed.extend(list),
                Err(error) => errors.push((outcome.label, error)),
            }
            Ok(())
        },
    )?;
    // Without a key given, learn it from the actions (the updates and deletes of the
    // migration's table name it) and run again, so that items are named by their keys.
    if options.key.is_empty() {
        if let Some(key) = key_names_of(&own, &typed) {
            options.key = key;
            return run_case(migration, case, &options);
        }
    }
    // The after-state: inputs in the migration's table, then every action in order.
    let own = migration.info.table.clone();
    let mut memory = MemoryTables::new();
    let keys = case.expect.get("keys").and_then(Json::as_object);
    for (table, names) in keys.into_iter().flatten() {
        let names = names.as_array().map(|n| {
            n.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        });
        if let Some(names) = names {
            memory.set_key(table, names);
        }
    }
    if !memory.knows_key(&own) {
        if !options.key.is_empty() {
            memory.set_key(&own, options.key.clone());
        } else if let Some(key) = key_names_of(&own, &typed) {
            memory.set_key(&own, key);
        }
    }
    let simulated = (|| -> Result<BTreeMap<String, Vec<Item>>, String> {
        for item in &case.input {
            memory.insert(&own, item.clone())?;
        }
        for (table, items) in &case.given {
            if !memory.knows_key(table) {
                return Err(format!(
                    "the case gives items of `{table}` but not its key attributes: name them in `keys`"
                ));
            }
            for item in items {
                memory.insert(table, item.clone())?;
            }
        }
        for action in &typed {
            if let Applied::Conflict(why) = memory.apply(action)? {
                tracing::debug!("case {}: conflict: {why}", case.name);
            }
        }
        let mut names = memory.table_names();
        if !names.contains(&own) {
            names.push(own.clone());
        }
        Ok(names
            .into_iter()
            .map(|table| {
                let items = memory.items(&table);
                (table, items)
            })
            .collect())
    })();
    let (tables, tables_error) = match simulated {
        Ok(tables) => (Some(tables), None),
        Err(why) => (None, Some(why)),
    };
    Ok(Outcome {
        actions,
        errors,
        after: tables.is_some().then_some(memory),
        tables,
        tables_error,
        costs,
        options,
    })
}

fn json_items(items: &[Item]) -> Json {
    Json::Array(items.iter().map(to_json_item).collect())
}

/// Compares `outcome` with the case's expectation; the diff lines say what differs.
fn compare(case: &Case, outcome: &Outcome) -> Result<Vec<String>> {
    let expect = &case.expect;
    let mut diff = Vec::new();
    // `"tables": {}` checks nothing: it counts as no expectation.
    let has_tables = expect
        .get("tables")
        .filter(|t| t.as_object().is_none_or(|o| !o.is_empty()));
    let has_actions = expect.get("actions");
    if has_tables.is_none() && has_actions.is_none() && expect.get("errors").is_none() {
        diff.push(
            "no expectation: give `tables`, `actions` or `errors` (or run with --update)".into(),
        );
    }
    if let Some(expected) = has_tables {
        let Some(expected) = expected.as_object() else {
            bail!(
                "case {}: `tables` is not an object of table names",
                case.name
            );
        };
        match (&outcome.tables, &outcome.tables_error) {
            (Some(actual), _) => {
                for (table, items) in expected {
                    let want: Vec<Item> = match items {
                        Json::Array(items) => items
                            .iter()
                            .map(|i| from_json_item(i).map(|i| canonical_item(&i)))
                            .collect::<Result<_>>()
                            .with_context(|| format!("case {}: tables.{table}", case.name))?,
                        _ => bail!("case {}: tables.{table} is not a list of items", case.name),
                    };
                    let got = actual.get(table).cloned().unwrap_or_default();
                    diff.extend(item_diff(table, &want, &got));
                }
            }
            (None, Some(why)) => diff.push(format!("cannot compute the tables: {why}")),
            (None, None) => {}
        }
    }
    if let Some(expected) = has_actions {
        let Some(expected) = expected.as_array() else {
            bail!("case {}: `actions` is not a list", case.name);
        };
        let longest = expected.len().max(outcome.actions.len());
        for index in 0..longest {
            let (want, got) = (expected.get(index), outcome.actions.get(index));
            if want != got {
                if let Some(want) = want {
                    diff.push(format!("- action {}: {want}", index + 1));
                }
                if let Some(got) = got {
                    diff.push(format!("+ action {}: {got}", index + 1));
                }
            }
        }
    }
    let expected_errors: Vec<(String, String)> = match expect.get("errors") {
        None => Vec::new(),
        Some(Json::Array(errors)) => errors
            .iter()
            .map(|e| {
                let item = match &e["item"] {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (item, e["error"].as_str().unwrap_or_default().to_owned())
            })
            .collect(),
        Some(_) => bail!("case {}: `errors` is not a list", case.name),
    };
    for (item, text) in &expected_errors {
        if !outcome
            .errors
            .iter()
            .any(|(got, error)| got == item && error.contains(text.as_str()))
        {
            diff.push(format!("- error of {item}: …{text}…"));
        }
    }
    for (item, error) in &outcome.errors {
        if !expected_errors
            .iter()
            .any(|(want, text)| want == item && error.contains(text.as_str()))
        {
            diff.push(format!("+ error of {item}: {error}"));
        }
    }
    Ok(diff)
}

/// Lines for the items of `table` that differ, by key (`-` expected, `+` actual).
fn item_diff(table: &str, want: &[Item], got: &[Item]) -> Vec<String> {
    let mut lines = Vec::new();
    for item in want.iter().filter(|i| !got.contains(i)) {
        lines.push(format!("- {table}: {}", to_json_item(item)));
    }
    for item in got.iter().filter(|i| !want.contains(i)) {
        lines.push(format!("+ {table}: {}", to_json_item(item)));
    }
    lines
}

/// The expectation rewritten from `outcome`: the kinds the case had (tables by default), and
/// the errors of failed items.
fn updated_expectation(case: &Case, outcome: &Outcome) -> Result<Json> {
    let mut expect = case.expect.as_object().cloned().unwrap_or_default();
    let wants_actions = expect.contains_key("actions");
    let wants_tables = expect.contains_key("tables") || !wants_actions;
    if wants_tables {
        let tables = outcome.tables.as_ref().with_context(|| {
            format!(
                "case {}: cannot compute the tables: {}",
                case.name,
                outcome.tables_error.as_deref().unwrap_or("?")
            )
        })?;
        let tables: serde_json::Map<String, Json> = tables
            .iter()
            .map(|(table, items)| (table.clone(), json_items(items)))
            .collect();
        expect.insert("tables".into(), Json::Object(tables));
    }
    if wants_actions {
        expect.insert("actions".into(), Json::Array(outcome.actions.clone()));
    }
    if outcome.errors.is_empty() {
        expect.remove("errors");
    } else {
        let errors = outcome
            .errors
            .iter()
            .map(|(item, error)| json!({"item": item, "error": error}))
            .collect();
        expect.insert("errors".into(), Json::Array(errors));
    }
    Ok(Json::Object(expect))
}

fn write_expectation(case: &Case, expect: Json) -> Result<()> {
    let (path, document) = match &case.place {
        Place::Folder(path) => (path, expect),
        Place::File(path, document) => {
            let mut document = document.clone();
            document["expect"] = expect;
            (path, document)
        }
    };
    std::fs::write(path, serde_json::to_string_pretty(&document)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs every case of `dir` through `migration`.
pub fn run_cases(
    migration: &Arc<LoadedMigration>,
    dir: &Path,
    options: &CaseOptions,
) -> Result<Vec<CaseResult>> {
    let mut results = Vec::new();
    for case in read_cases(dir)? {
        let outcome = run_case(migration, &case, &options.exec)?;
        let mut diff = compare(&case, &outcome)?;
        let updated = options.update && !diff.is_empty();
        if updated {
            write_expectation(&case, updated_expectation(&case, &outcome)?)?;
        }
        let not_idempotent = match (&outcome.after, options.idempotent) {
            (Some(after), true) => {
                let failed: Vec<String> = outcome
                    .errors
                    .iter()
                    .map(|(item, _)| item.clone())
                    .collect();
                idempotent::second_pass(migration, &case.name, &outcome.options, after, &failed)?
            }
            (None, true) => vec![format!(
                "idempotence not checked: {}",
                outcome.tables_error.as_deref().unwrap_or("no after-state")
            )],
            (_, false) => Vec::new(),
        };
        let passed = (diff.is_empty() || updated) && not_idempotent.is_empty();
        diff.extend(not_idempotent);
        let costs = outcome
            .costs
            .into_iter()
            .map(|(item, cost)| (format!("{}: {item}", case.name), cost))
            .collect();
        results.push(CaseResult {
            name: case.name,
            passed,
            diff,
            updated,
            costs,
        });
    }
    Ok(results)
}
