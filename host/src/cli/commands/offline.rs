//! The commands that run a migration offline, on items from files: `inspect`, `exec`,
//! `test`, and `new`, which scaffolds one.

use std::io::{self, Read, Write};
use std::sync::Arc;

use anyhow::Result;
use drift_host::cases::{run_cases, CaseOptions};
use drift_host::exec::{exec, exec_each, ExecOptions, ExecSummary};
use drift_host::model::error::{EXIT_FAILED, EXIT_OK};
use drift_host::model::operation::Operation;
use drift_host::preview::item_diff;
use drift_host::project::config::declared_key;
use drift_host::project::scaffold::{next_number, scaffold, Language, NewMigration, SDK_DIR};

use super::super::args::{
    ExecArgs, InspectArgs, Lang, NewArgs, OutputFormat, TestArgs, GUEST_LIMITS,
};
use super::{open_input, print_json, print_stdout};

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
        let exit_code = if summary.failures.is_empty() {
            EXIT_OK
        } else {
            EXIT_FAILED
        };
        print_json(
            &serde_json::json!({
            "migration": label.as_ref(),
            "operation": operation.export(),
            "items": summary.items,
            "actions_by_kind": summary.actions,
            "failed_items": summary.failures.len(),
            "duration_seconds": started.elapsed().as_secs_f64(),
            "failures": failures,
            "actions": actions,
            }),
            exit_code,
        )?;
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
            // Without --key: the project's drift.toml, else what the case's actions say.
            key: match args.key.is_empty() {
                true => declared_key(&args.cases, &migration.info.table).unwrap_or_default(),
                false => args.key,
            },
            workers: 1,
        },
        update: args.update,
    };
    let results = run_cases(&migration, &args.cases, &options)?;
    let failed = results.iter().filter(|r| !r.passed).count();
    let passed = results.len() - failed;
    match args.output {
        OutputFormat::Json => print_json(
            &serde_json::json!({
                "migration": migration.label.as_ref(),
                "cases": results,
                "passed": passed,
                "failed": failed,
            }),
            if failed == 0 { EXIT_OK } else { EXIT_FAILED },
        )?,
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
    args.sandbox.refuse_unused("new", GUEST_LIMITS)?;
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
