//! What the commands print: the status table (from a list of columns) and reports.

use comfy_table::{presets, CellAlignment, Table};
use drift_host::metadata::MigrationRecord;
use drift_host::model::operation::Status;

/// One column of the status table: its header, how it aligns, and its cell of a record.
struct Column {
    header: &'static str,
    right: bool,
    cell: fn(&MigrationRecord) -> String,
}

/// The status table's columns, in order.
const COLUMNS: &[Column] = &[
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
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_header(COLUMNS.iter().map(|c| c.header));
    for (index, column) in COLUMNS.iter().enumerate() {
        if let Some(table_column) = table.column_mut(index) {
            table_column.set_cell_alignment(if column.right {
                CellAlignment::Right
            } else {
                CellAlignment::Left
            });
        }
    }
    let mut notes = Vec::new();
    for record in records {
        table.add_row(COLUMNS.iter().map(|c| (c.cell)(record)));
        let mut note = String::new();
        if let Some(error) = &record.last_error {
            note.push_str(&format!("        last error: {error}\n"));
        }
        if matches!(record.status, Status::Running | Status::Failed) {
            if let Some(progress) = &record.progress {
                note.push_str(&format!("        progress: {progress}\n"));
            }
        }
        notes.push(note);
    }
    let mut lines = table.lines();
    let mut out = String::new();
    if let Some(header) = lines.next() {
        out.push_str(header.trim_end());
        out.push('\n');
    }
    for (line, note) in lines.zip(notes) {
        out.push_str(line.trim_end());
        out.push('\n');
        out.push_str(&note);
    }
    out
}
