//! One migration's record in the metadata table, and its item form.

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::KEY;
use crate::model::counts::Counts;
use crate::model::item::{Item, Value};
use crate::model::operation::{Operation, Status};

/// One migration's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationRecord {
    /// Migration number (the record's identity).
    pub number: u64,
    /// Name from `info()`.
    pub name: String,
    /// Description from `info()`.
    pub description: String,
    /// The scanned table.
    pub table: String,
    /// Hex SHA-256 of the wasm file.
    pub checksum: String,
    /// Where it stands.
    pub status: Status,
    /// The last operation.
    pub operation: Operation,
    /// Identifies the run that wrote the record last.
    pub run_id: String,
    /// When that run started (RFC 3339).
    pub started_at: String,
    /// When it ended (RFC 3339), if it did.
    pub finished_at: Option<String>,
    /// drift-host version of that run.
    pub host_version: String,
    /// Its counts.
    pub counts: Counts,
    /// Why it failed, if it did.
    pub last_error: Option<String>,
    /// The run's journal (its checkpoint is beside it), from the start of its apply for as
    /// long as a resume needs it.
    pub journal: Option<String>,
    /// How far the run got, as of its last checkpoint written here.
    pub progress: Option<String>,
    /// Manual changes (`baseline`, `repair`): who, when, what and why, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl MigrationRecord {
    /// The record's key in the metadata table.
    pub fn id(number: u64) -> String {
        // Zero-padded so ids sort like numbers.
        format!("migration#{number:020}")
    }

    /// The record as a metadata table item.
    pub fn to_item(&self) -> Item {
        let s = |v: &str| Value::S(v.to_owned());
        let n = |v: u64| Value::N(v.to_string());
        let mut item: Item = [
            (KEY, s(&Self::id(self.number))),
            ("number", n(self.number)),
            ("name", s(&self.name)),
            ("description", s(&self.description)),
            ("table", s(&self.table)),
            ("checksum", s(&self.checksum)),
            ("status", s(self.status.as_str())),
            ("operation", s(self.operation.as_str())),
            ("run_id", s(&self.run_id)),
            ("started_at", s(&self.started_at)),
            ("host_version", s(&self.host_version)),
            ("items_scanned", n(self.counts.items_scanned)),
            ("puts", n(self.counts.puts)),
            ("updates", n(self.counts.updates)),
            ("deletes", n(self.counts.deletes)),
            ("errors", n(self.counts.errors)),
            ("conflicts", n(self.counts.conflicts)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if let Some(finished) = &self.finished_at {
            item.insert("finished_at".into(), s(finished));
        }
        for (name, value) in [
            ("last_error", &self.last_error),
            ("journal", &self.journal),
            ("progress", &self.progress),
        ] {
            if let Some(value) = value {
                item.insert(name.into(), s(value));
            }
        }
        if !self.notes.is_empty() {
            let notes = self.notes.iter().map(|note| s(note)).collect();
            item.insert("notes".into(), Value::L(notes));
        }
        item
    }

    /// Reads a record back; anything missing or unknown is an error naming it.
    pub fn from_item(item: &Item) -> Result<MigrationRecord> {
        let id = match item.get(KEY) {
            Some(Value::S(id)) => id.clone(),
            _ => bail!("a record without a string `{KEY}`"),
        };
        let s = |name: &str| match item.get(name) {
            Some(Value::S(v)) => Ok(v.clone()),
            _ => Err(anyhow!("record `{id}` has no string `{name}`")),
        };
        let n = |name: &str| match item.get(name) {
            Some(Value::N(v)) => v
                .parse::<u64>()
                .with_context(|| format!("record `{id}`: `{name}`")),
            _ => Err(anyhow!("record `{id}` has no number `{name}`")),
        };
        let status = s("status")?;
        let operation = s("operation")?;
        Ok(MigrationRecord {
            number: n("number")?,
            name: s("name")?,
            description: s("description")?,
            table: s("table")?,
            checksum: s("checksum")?,
            status: Status::parse(&status)
                .with_context(|| format!("record `{id}` has unknown status `{status}`"))?,
            operation: Operation::parse(&operation)
                .with_context(|| format!("record `{id}` has unknown operation `{operation}`"))?,
            run_id: s("run_id")?,
            started_at: s("started_at")?,
            finished_at: s("finished_at").ok(),
            host_version: s("host_version")?,
            counts: Counts {
                items_scanned: n("items_scanned")?,
                puts: n("puts")?,
                updates: n("updates")?,
                deletes: n("deletes")?,
                errors: n("errors")?,
                conflicts: n("conflicts")?,
            },
            last_error: s("last_error").ok(),
            journal: s("journal").ok(),
            progress: s("progress").ok(),
            notes: match item.get("notes") {
                None => Vec::new(),
                Some(Value::L(notes)) => notes
                    .iter()
                    .map(|note| match note {
                        Value::S(note) => Ok(note.clone()),
                        _ => Err(anyhow!("record `{id}` has a note that is not a string")),
                    })
                    .collect::<Result<_>>()?,
                Some(_) => bail!("record `{id}` has `notes` that are not a list"),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::now;

    #[test]
    fn records_round_trip_through_items() {
        let record = MigrationRecord {
            number: 2,
            name: "users_v2".into(),
            description: "d".into(),
            table: "users".into(),
            checksum: "ab".repeat(32),
            status: Status::RolledBack,
            operation: Operation::Undo,
            run_id: "r".into(),
            started_at: now(),
            finished_at: Some(now()),
            host_version: "0.1.0".into(),
            counts: Counts {
                items_scanned: 5,
                puts: 1,
                updates: 2,
                deletes: 3,
                errors: 0,
                conflicts: 4,
            },
            last_error: Some("x".into()),
            journal: Some("/w/j".into()),
            progress: None,
            notes: vec!["baseline by ada at 2026-01-01T00:00:00Z: shape exists".into()],
        };
        let item = record.to_item();
        assert_eq!(item[KEY], Value::S("migration#00000000000000000002".into()));
        assert_eq!(MigrationRecord::from_item(&item).unwrap(), record);
        let mut foreign = item.clone();
        foreign.insert("status".into(), Value::S("weird".into()));
        assert!(MigrationRecord::from_item(&foreign)
            .unwrap_err()
            .to_string()
            .contains("unknown status `weird`"));
    }
}
