//! The commands on a project's records and tables: `status`, `baseline`, `repair`, `tables`.

use std::io::{self, IsTerminal};
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use aws_sdk_dynamodb::Client;
use drift_host::aws::{connect, Billing};
use drift_host::metadata::MetadataTable;
use drift_host::model::error::{EXIT_FAILED, EXIT_OK};
use drift_host::model::operation::Status;
use drift_host::model::stop::Stop;
use drift_host::project::folder::Folder;
use drift_host::project::reconcile::State;
use drift_host::project::tables::Change;
use drift_host::project::{self};
use drift_host::run::workers::view::view;
use drift_host::run::{Session, SessionOptions, Settings};

use super::super::args::{
    BaselineArgs, OutputFormat, ProjectArgs, RepairArgs, StatusArgs, TablesArgs, GUEST_LIMITS,
};
use super::super::output::{folder_status_table, status_table};
use super::{print_json, print_stdout};

/// `status`, of the metadata table or of a folder.
pub async fn status_command(args: StatusArgs) -> Result<u8> {
    args.sandbox.refuse_unused("status", GUEST_LIMITS)?;
    let given = args
        .meta
        .given()
        .over(&args.connection.given())
        .over(&args.sandbox.given());
    let (settings, folder) = match &args.dir {
        Some(dir) => {
            let settings = Settings::new(given, Some(&Folder::project(dir)?.defaults));
            let folder = args.sandbox.load_folder(&settings, dir, 1)?;
            (settings, Some(folder))
        }
        None => (Settings::new(given, None), None),
    };
    let client = connect(&settings.connection()).await?;
    let meta = MetadataTable::new(client, settings.meta_table(), settings.policy());
    let Some(seconds) = args.watch else {
        show_status(&meta, folder.as_ref(), args.output).await?;
        return Ok(EXIT_OK);
    };
    eprintln!("every {seconds} s while a migration is running (Ctrl-C to stop watching)");
    let clear = io::stdout().is_terminal();
    for shown in 0.. {
        if shown > 0 {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            // A terminal is redrawn; a pipe or a file gets each view after a blank line.
            print_stdout(if clear { "\x1b[2J\x1b[H" } else { "" })?;
        }
        if !show_status(&meta, folder.as_ref(), args.output).await? {
            break;
        }
    }
    Ok(EXIT_OK)
}

/// Prints the status once; returns whether a migration is running.
async fn show_status(
    meta: &MetadataTable,
    folder: Option<&Folder>,
    output: OutputFormat,
) -> Result<bool> {
    if let Some(folder) = folder {
        let rows = project::status(folder, meta).await?;
        match output {
            OutputFormat::Json => print_json(&serde_json::json!({ "migrations": rows }), EXIT_OK)?,
            OutputFormat::Text => print_stdout(folder_status_table(&rows).trim_end())?,
        }
        return Ok(rows.iter().any(|row| row.state == State::Running));
    }
    // No metadata table means no migration has run here: no records, not an error.
    let records = if meta.exists().await? {
        meta.list().await?
    } else {
        if output == OutputFormat::Text {
            eprintln!(
                "metadata table `{}` does not exist: no migration has run",
                meta.name()
            );
        }
        Vec::new()
    };
    // A running multi-worker run shows its workers and the whole.
    let mut runs = Vec::new();
    for record in records.iter().filter(|r| r.status == Status::Running) {
        if let Some(view) = view(meta, record).await? {
            runs.push(view);
        }
    }
    // Who holds the lock, and how long its lease has left, while something runs.
    let holder = match records.iter().any(|r| r.status == Status::Running) {
        true => drift_host::metadata::lock::read(meta.client(), meta.policy(), meta.name())
            .await?
            .map(|holder| holder.describe()),
        false => None,
    };
    // What `drift-host control` told the running runs.
    let mut controls = Vec::new();
    for record in records.iter().filter(|r| r.status == Status::Running) {
        if let Some(control) = meta.control(record.number).await? {
            if control.run_id == record.run_id {
                controls.push((record.number, control));
            }
        }
    }
    match output {
        OutputFormat::Json => {
            let mut document = serde_json::json!({ "migrations": records });
            if !runs.is_empty() {
                document["runs"] = serde_json::to_value(&runs)?;
            }
            if let Some(holder) = &holder {
                document["lock"] = holder.as_str().into();
            }
            if !controls.is_empty() {
                document["controls"] = controls
                    .iter()
                    .map(|(number, control)| serde_json::json!({"migration": number, "control": control}))
                    .collect();
            }
            print_json(&document, EXIT_OK)?
        }
        OutputFormat::Text => {
            let mut text = status_table(&records).trim_end().to_owned();
            if let Some(holder) = &holder {
                text.push_str(&format!("\nlock: {holder}"));
            }
            for (number, control) in &controls {
                text.push_str(&format!(
                    "\nmigration {number} (run {}): {} (drift-host control, {})",
                    control.run_id,
                    super::control::describe(control),
                    control.updated_at
                ));
            }
            for run in &runs {
                text.push_str(&format!(
                    "\nmigration {} (run {}):\n{}",
                    run.number,
                    run.run_id,
                    run.lines().trim_end()
                ));
            }
            print_stdout(&text)?
        }
    }
    Ok(records.iter().any(|r| r.status == Status::Running))
}

/// Reads a folder for the commands that change records or tables without running
/// migrations, and the options of their session on the metadata table.
async fn open_project(dir: &Path, args: &ProjectArgs) -> Result<(Folder, Client, SessionOptions)> {
    let settings = args.settings(&Folder::project(dir)?.defaults);
    let folder = args.sandbox.load_folder(&settings, dir, 1)?;
    let client = connect(&settings.connection()).await?;
    Ok((folder, client, settings.session(Billing::OnDemand)))
}

/// `baseline`.
pub async fn baseline_command(args: BaselineArgs) -> Result<u8> {
    args.project
        .sandbox
        .refuse_unused("baseline", GUEST_LIMITS)?;
    let (folder, client, options) = open_project(&args.dir, &args.project).await?;
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
pub async fn repair_command(args: RepairArgs) -> Result<u8> {
    args.project.sandbox.refuse_unused("repair", GUEST_LIMITS)?;
    let (folder, client, options) = open_project(&args.dir, &args.project).await?;
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
pub async fn tables_command(args: TablesArgs) -> Result<u8> {
    args.project.sandbox.refuse_unused("tables", GUEST_LIMITS)?;
    let project = Folder::project(&args.dir)?;
    let settings = args.project.settings(&project.defaults);
    let client = connect(&settings.connection()).await?;
    let options = settings.session(Billing::OnDemand);
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
    // Without --apply, differences that --apply would make are a non-zero exit, for CI checks.
    let pending = left.iter().any(|c| c.is_applied());
    let exit_code = if pending { EXIT_FAILED } else { EXIT_OK };
    match args.output {
        OutputFormat::Json => print_json(
            &serde_json::json!({
                "declared": declared.keys().collect::<Vec<_>>(),
                "applied": changes.iter().filter(|c| args.apply && c.is_applied()).collect::<Vec<_>>(),
                "pending": left,
                "deleted": deleted,
            }),
            exit_code,
        )?,
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
    Ok(exit_code)
}
