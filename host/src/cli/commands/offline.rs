//! The commands that run a migration offline, on items from files: `inspect`, `exec`,
//! `test`, and `new`, which scaffolds one.

use std::io::{self, Write};

use anyhow::Result;
use drift_host::cases::{run_cases, CaseOptions};
use drift_host::engine::Profile;
use drift_host::exec::{exec_each, ExecInput, ExecOptions, ExecOutcome, ExecSummary};
use drift_host::model::error::{EXIT_FAILED, EXIT_OK};
use drift_host::model::operation::Operation;
use drift_host::project::config::declared_key;
use drift_host::project::scaffold::{next_number, scaffold, Language, NewMigration, SDK_DIR};
use drift_host::source::json::read_items;

use super::super::args::{
    ExecArgs, InspectArgs, Lang, NewArgs, OutputFormat, TestArgs, GUEST_LIMITS,
};
use super::super::output::{
    exec_diff, exec_document, exec_lines, exec_summary_line, profile_text, ExecRun,
};
use super::{open_input, print_json, print_stdout};

/// `inspect`.
pub fn inspect(args: InspectArgs) -> Result<u8> {
    let migration = args
        .sandbox
        .load(&args.sandbox.settings(), &args.migration, 1)?;
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
    let settings = args.settings();
    let migration = args
        .sandbox
        .load(&settings, &args.migration, settings.concurrency())?;
    let input = open_input(&args.input)?;
    let operation = if args.rollback {
        Operation::Undo
    } else {
        Operation::Migrate
    };
    let options = ExecOptions {
        operation,
        workers: settings.concurrency() as usize,
        key: args.key,
        tables: None,
    };
    let label = migration.label.clone();
    let table = migration.info.table.clone();
    let limits = migration.limits().clone();
    let started = std::time::Instant::now();
    let mut summary = ExecSummary::default();
    // Only with --profile: otherwise nothing is kept per item.
    let mut profile = args.profile.then(Profile::default);
    let exit_code = |summary: &ExecSummary| match summary.failures.is_empty() {
        true => EXIT_OK,
        false => EXIT_FAILED,
    };
    if args.diff {
        // The items are read here, to be shown with their changes.
        let mut items = Vec::new();
        read_items(input, |item| {
            items.push(item);
            Ok(())
        })?;
        let mut out = io::stdout().lock();
        let inputs = ExecInput::Items(items.clone());
        summary.items = exec_each(migration, inputs, &options, |outcome| {
            tally(&mut summary, &mut profile, &outcome);
            let item = &items[outcome.seq as usize];
            write!(out, "{}", exec_diff(&outcome, item, &table, &options.key))?;
            Ok(())
        })?;
        out.flush()?;
    } else if args.output == OutputFormat::Json {
        let mut outcomes = Vec::new();
        summary.items = exec_each(migration, ExecInput::Json(input), &options, |outcome| {
            tally(&mut summary, &mut profile, &outcome);
            outcomes.push(outcome);
            Ok(())
        })?;
        let run = ExecRun {
            label: &label,
            operation,
            summary: &summary,
            seconds: started.elapsed().as_secs_f64(),
        };
        let mut document = exec_document(&run, &outcomes);
        if let Some(profile) = &profile {
            document["profile"] = serde_json::to_value(profile.summary(&limits))?;
        }
        print_json(&document, exit_code(&summary))?;
    } else {
        let (mut out, mut errors) = (io::stdout().lock(), io::stderr());
        summary.items = exec_each(migration, ExecInput::Json(input), &options, |outcome| {
            tally(&mut summary, &mut profile, &outcome);
            write!(out, "{}", exec_lines(&outcome))?;
            if let Err(error) = &outcome.result {
                writeln!(errors, "error: {}: {error}", outcome.label)?;
            }
            Ok(())
        })?;
        out.flush()?;
    }
    eprintln!("{}", exec_summary_line(&label, operation, &summary));
    // Under `--output json` the profile is in the document.
    let text = args.output != OutputFormat::Json;
    if let Some(profiled) = profile.and_then(|p| p.summary(&limits)).filter(|_| text) {
        eprint!("{}", profile_text(&profiled));
    }
    Ok(exit_code(&summary))
}

/// Counts `outcome`, and keeps its cost when `--profile` asked for a profile.
fn tally(summary: &mut ExecSummary, profile: &mut Option<Profile>, outcome: &ExecOutcome) {
    summary.count(outcome);
    if let Some(profile) = profile {
        profile.add(outcome.label.clone(), outcome.cost);
    }
}

/// `test`.
pub fn test_command(args: TestArgs) -> Result<u8> {
    let migration = args
        .sandbox
        .load(&args.sandbox.settings(), &args.migration, 1)?;
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
            // Each case gives its own tables.
            tables: None,
        },
        update: args.update,
        idempotent: args.idempotent,
    };
    let results = run_cases(&migration, &args.cases, &options)?;
    let failed = results.iter().filter(|r| !r.passed).count();
    let passed = results.len() - failed;
    let profiled = args.profile.then(|| {
        let mut profile = Profile::default();
        for (item, cost) in results.iter().flat_map(|r| &r.costs) {
            profile.add(item.clone(), *cost);
        }
        profile.summary(migration.limits())
    });
    let profiled = profiled.flatten();
    match args.output {
        OutputFormat::Json => print_json(
            &{
                let mut document = serde_json::json!({
                    "migration": migration.label.as_ref(),
                    "cases": results,
                    "passed": passed,
                    "failed": failed,
                });
                if let Some(profiled) = &profiled {
                    document["profile"] = serde_json::to_value(profiled)?;
                }
                document
            },
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
            if let Some(profiled) = &profiled {
                eprint!("{}", profile_text(profiled));
            }
        }
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_FAILED })
}

/// `new`.
pub fn new_command(args: NewArgs) -> Result<u8> {
    args.sandbox.refuse_unused("new", GUEST_LIMITS)?;
    let settings = args.sandbox.settings();
    let number = next_number(&args.dir, |path| {
        Ok(args.sandbox.load(&settings, path, 1)?.info.number)
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
