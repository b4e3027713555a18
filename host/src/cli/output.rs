//! What the commands print: the status table (from a list of columns), `exec`'s outcomes and
//! `plan`'s report. The library hands on structured results; only this module renders them.

use std::time::Duration;

use comfy_table::{presets, CellAlignment, Table};
use drift_host::engine::ProfileSummary;
use drift_host::exec::{ExecOutcome, ExecSummary};
use drift_host::metadata::MigrationRecord;
use drift_host::model::item::Item;
use drift_host::model::operation::{Operation, Status};
use drift_host::plan::PlanReport;
use drift_host::preview::item_diff;
use drift_host::project::reconcile::{Row, State};
use serde_json::{json, Value as Json};

/// One column of a table: its header, how it aligns, and its cell of a row.
struct Column<R> {
    header: &'static str,
    right: bool,
    cell: fn(&R) -> String,
}

/// The status table's columns, in order.
const COLUMNS: &[Column<MigrationRecord>] = &[
    Column {
        header: "NUMBER",
        right: true,
        cell: |r| r.number.to_string(),
    },
    Column {
        header: "NAME",
        right: false,
        cell: |r| r.name.clone(),
    },
    Column {
        header: "TABLE",
        right: false,
        cell: |r| r.table.clone(),
    },
    Column {
        header: "STATUS",
        right: false,
        cell: |r| r.status.as_str().to_owned(),
    },
    Column {
        header: "OP",
        right: false,
        cell: |r| r.operation.as_str().to_owned(),
    },
    Column {
        header: "STARTED",
        right: false,
        cell: |r| r.started_at.clone(),
    },
    Column {
        header: "FINISHED",
        right: false,
        cell: |r| r.finished_at.clone().unwrap_or_else(|| "-".into()),
    },
    Column {
        header: "SCANNED",
        right: true,
        cell: |r| r.counts.items_scanned.to_string(),
    },
    Column {
        header: "PUT",
        right: true,
        cell: |r| r.counts.puts.to_string(),
    },
    Column {
        header: "UPDATE",
        right: true,
        cell: |r| r.counts.updates.to_string(),
    },
    Column {
        header: "DELETE",
        right: true,
        cell: |r| r.counts.deletes.to_string(),
    },
    Column {
        header: "ERRORS",
        right: true,
        cell: |r| r.counts.errors.to_string(),
    },
    Column {
        header: "CONFLICTS",
        right: true,
        cell: |r| r.counts.conflicts.to_string(),
    },
    Column {
        header: "CHECKSUM",
        right: false,
        cell: |r| r.checksum.chars().take(12).collect(),
    },
];

/// The records as a text table; the last error and the progress of unfinished runs follow
/// each row, indented.
pub fn status_table(records: &[MigrationRecord]) -> String {
    render(COLUMNS, records, record_notes)
}

/// The lines under a record's row: its last error, the progress of an unfinished run, and the
/// notes of manual changes.
fn record_notes(record: &MigrationRecord) -> String {
    let mut note = String::new();
    if let Some(error) = &record.last_error {
        note.push_str(&format!("        last error: {error}\n"));
    }
    if matches!(record.status, Status::Running | Status::Failed) {
        if let Some(progress) = &record.progress {
            note.push_str(&format!("        progress: {progress}\n"));
        }
    }
    for line in &record.notes {
        note.push_str(&format!("        note: {line}\n"));
    }
    note
}

/// The columns of `status DIR`.
const FOLDER_COLUMNS: &[Column<Row>] = &[
    Column {
        header: "NUMBER",
        right: true,
        cell: |r| r.number.to_string(),
    },
    Column {
        header: "NAME",
        right: false,
        cell: |r| r.name.clone(),
    },
    Column {
        header: "STATE",
        right: false,
        cell: |r| r.state.as_str().to_owned(),
    },
    Column {
        header: "FILE",
        right: false,
        cell: |r| r.file.clone().unwrap_or_else(|| "-".into()),
    },
    Column {
        header: "TABLE",
        right: false,
        cell: |r| {
            r.record
                .as_ref()
                .map_or_else(|| "-".into(), |r| r.table.clone())
        },
    },
    Column {
        header: "RECORDED",
        right: false,
        cell: |r| {
            r.record.as_ref().map_or_else(
                || "-".into(),
                |r| format!("{} ({})", r.status.as_str(), r.operation.as_str()),
            )
        },
    },
    Column {
        header: "FINISHED",
        right: false,
        cell: |r| {
            r.record
                .as_ref()
                .and_then(|r| r.finished_at.clone())
                .unwrap_or_else(|| "-".into())
        },
    },
    Column {
        header: "CHECKSUM",
        right: false,
        cell: |r| {
            r.checksum
                .as_ref()
                .or(r.record.as_ref().map(|r| &r.checksum))
                .map_or_else(|| "-".into(), |c| c.chars().take(12).collect())
        },
    },
];

/// Where each migration of a folder stands, as a text table.
pub fn folder_status_table(rows: &[Row]) -> String {
    render(FOLDER_COLUMNS, rows, |row| {
        let mut note = row.record.as_ref().map(record_notes).unwrap_or_default();
        if let (State::Modified, Some(record)) = (row.state, &row.record) {
            note.insert_str(
                0,
                &format!("        applied from checksum {}\n", record.checksum),
            );
        }
        note
    })
}

/// `rows` as a text table of `columns`; each row's note (indented lines) follows it.
fn render<R>(columns: &[Column<R>], rows: &[R], note: impl Fn(&R) -> String) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_header(columns.iter().map(|c| c.header));
    for (index, column) in columns.iter().enumerate() {
        if let Some(table_column) = table.column_mut(index) {
            table_column.set_cell_alignment(if column.right {
                CellAlignment::Right
            } else {
                CellAlignment::Left
            });
        }
    }
    for row in rows {
        table.add_row(columns.iter().map(|c| (c.cell)(row)));
    }
    let mut lines = table.lines();
    let mut out = String::new();
    if let Some(header) = lines.next() {
        out.push_str(header.trim_end());
        out.push('\n');
    }
    for (line, row) in lines.zip(rows) {
        out.push_str(line.trim_end());
        out.push('\n');
        out.push_str(&note(row));
    }
    out
}

/// What `exec --output json` reports besides the outcomes.
pub struct ExecRun<'a> {
    /// The migration's label.
    pub label: &'a str,
    /// `migrate` or `rollback`.
    pub operation: Operation,
    /// What was counted.
    pub summary: &'a ExecSummary,
    /// How long it took.
    pub seconds: f64,
}

/// `exec --output json`: one document with the summary, the failures and every action.
pub fn exec_document(run: &ExecRun<'_>, outcomes: &[ExecOutcome]) -> Json {
    let failures: Vec<Json> = run
        .summary
        .failures
        .iter()
        .map(|(item, error)| json!({"item": item, "error": error}))
        .collect();
    let actions: Vec<Json> = outcomes
        .iter()
        .flat_map(ExecOutcome::action_documents)
        .collect();
    json!({
        "migration": run.label,
        "operation": run.operation.export(),
        "items": run.summary.items,
        "actions_by_kind": run.summary.actions,
        "failed_items": run.summary.failures.len(),
        "duration_seconds": run.seconds,
        "failures": failures,
        "actions": actions,
    })
}

/// `exec`: one JSON line per action of an item.
pub fn exec_lines(outcome: &ExecOutcome) -> String {
    outcome
        .action_documents()
        .iter()
        .map(|document| format!("{document}\n"))
        .collect()
}

/// `exec --diff`: the item's name, then what its actions change (or why it failed).
pub fn exec_diff(outcome: &ExecOutcome, item: &Item, table: &str, key: &[String]) -> String {
    let mut out = format!("{}\n", outcome.label);
    match &outcome.result {
        Ok(actions) => {
            let diff = item_diff(item, table, key, actions);
            if diff.is_empty() {
                out.push_str("    (unchanged)\n");
            }
            for line in diff {
                out.push_str(&format!("    {line}\n"));
            }
        }
        Err(error) => out.push_str(&format!("    error: {error}\n")),
    }
    out
}

/// `exec`'s last line: items, actions by kind, failures.
pub fn exec_summary_line(label: &str, operation: Operation, summary: &ExecSummary) -> String {
    let actions: u64 = summary.actions.values().sum();
    let by_kind = ["put", "update", "delete"]
        .map(|kind| format!("{} {kind}", summary.actions.get(kind).copied().unwrap_or(0)))
        .join(", ");
    format!(
        "{label} ({}): {} items, {actions} actions ({by_kind}), {} failed",
        operation.export(),
        summary.items,
        summary.failures.len()
    )
}

/// `exec --profile` and `test --profile` for people: time and memory per item against the
/// run's limits, then the slowest items.
pub fn profile_text(profile: &ProfileSummary) -> String {
    let time = |us: u64| match us {
        0..=999 => format!("{us} µs"),
        1_000..=999_999 => format!("{:.1} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", us as f64 / 1e6),
    };
    let mib = |bytes: u64| format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20));
    let share = |part: u64, whole: u64| match 100.0 * part as f64 / whole.max(1) as f64 {
        tiny if tiny < 0.1 => "under 0.1%".to_owned(),
        share => format!("{share:.1}%"),
    };
    let (t, m) = (&profile.guest_us, &profile.memory_bytes);
    let mut out = format!(
        "guest time per item ({} items): p50 {}, p99 {}, max {} (deadline {} ms: the slowest \
         item used {} of it)\n",
        profile.items,
        time(t.p50),
        time(t.p99),
        time(t.max),
        profile.deadline_ms,
        share(t.max, profile.deadline_ms * 1000),
    );
    out.push_str(&format!(
        "guest memory after each item: p50 {}, p99 {}, max {} (cap {}: {} of it)\n",
        mib(m.p50),
        mib(m.p99),
        mib(m.max),
        mib(profile.memory_cap_bytes),
        share(m.max, profile.memory_cap_bytes),
    ));
    out.push_str("slowest items:\n");
    for slow in &profile.slowest {
        out.push_str(&format!("  {:>9}  {}\n", time(slow.guest_us), slow.item));
    }
    out
}

/// `plan`'s report for people.
pub fn plan_text(report: &PlanReport) -> String {
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
    match &report.plan {
        Some(folder) if report.failed_items > 0 => out.push_str(&format!(
            "plan kept in {}, but `apply` refuses a plan with failed items: fix the migration \
             (or the items) and plan again, with --force to replace it\n",
            folder.display()
        )),
        Some(folder) => out.push_str(&format!(
            "plan kept in {0}: apply it with `drift-host apply {0}`\n",
            folder.display()
        )),
        None => {}
    }
    out.trim_end().to_owned()
}
