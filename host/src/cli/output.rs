//! What the commands print: the status table (from a list of columns) and reports.

use comfy_table::{presets, CellAlignment, Table};
use drift_host::metadata::MigrationRecord;
use drift_host::model::operation::Status;
use drift_host::project::reconcile::{Row, State};

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
