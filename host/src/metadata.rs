//! The metadata table: one record per migration (number, name, checksum, status, times,
//! counts, last error), created on first use.
//!
//! Every status change is a conditional write on the record's previous `status` and
//! `run_id`, so two runs can never both believe they own a migration, and a record is only
//! marked `applied` by the run that applied it.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ScalarAttributeType, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};

pub use crate::dynamo::Billing;
use crate::dynamo::{
    cancellation_reasons, create_table, error_code, is_conditional_check_failed, RetryPolicy,
    CONDITION_FAILED,
};
use crate::item::{from_aws_item, to_aws_item, AttrValue, Item};
use crate::lock::{Lease, LostLease};

/// Default name of the metadata table.
pub const DEFAULT_TABLE: &str = "drift_migrations";
/// The metadata table's partition key.
const KEY: &str = "id";

/// Where a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A run or undo is in progress (or died: see `run_id` and `started_at`).
    Running,
    /// Every action of `migrate` was applied.
    Applied,
    /// The last run or undo failed; `last_error` says why.
    Failed,
    /// `undo` applied every action of `rollback`.
    RolledBack,
}

impl Status {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Applied => "applied",
            Status::Failed => "failed",
            Status::RolledBack => "rolled_back",
        }
    }

    fn parse(text: &str) -> Option<Status> {
        [
            Status::Running,
            Status::Applied,
            Status::Failed,
            Status::RolledBack,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Which operation a record's last run performed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `run`: `migrate` over the table.
    Migrate,
    /// `undo`: `rollback` over the table.
    Undo,
}

impl Operation {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Migrate => "migrate",
            Operation::Undo => "undo",
        }
    }
}

/// Counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Items read by the scan.
    pub items_scanned: u64,
    /// Puts applied.
    pub puts: u64,
    /// Updates applied.
    pub updates: u64,
    /// Deletes applied.
    pub deletes: u64,
    /// Items that failed in the guest.
    pub errors: u64,
    /// Writes whose condition failed.
    pub conflicts: u64,
}

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
}

impl MigrationRecord {
    fn id(number: u64) -> String {
        // Zero-padded so ids sort like numbers.
        format!("migration#{number:020}")
    }

    fn to_item(&self) -> Item {
        let s = |v: &str| AttrValue::S(v.to_owned());
        let n = |v: u64| AttrValue::N(v.to_string());
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
        item
    }

    fn from_item(item: &Item) -> Result<MigrationRecord> {
        let id = match item.get(KEY) {
            Some(AttrValue::S(id)) => id.clone(),
            _ => bail!("a record without a string `{KEY}`"),
        };
        let s = |name: &str| match item.get(name) {
            Some(AttrValue::S(v)) => Ok(v.clone()),
            _ => Err(anyhow!("record `{id}` has no string `{name}`")),
        };
        let n = |name: &str| match item.get(name) {
            Some(AttrValue::N(v)) => v
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
            operation: match operation.as_str() {
                "migrate" => Operation::Migrate,
                "undo" => Operation::Undo,
                other => bail!("record `{id}` has unknown operation `{other}`"),
            },
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
        })
    }
}

/// The metadata table.
pub struct MetadataTable {
    client: Client,
    name: String,
    policy: RetryPolicy,
}

impl MetadataTable {
    /// The table `name` reached through `client`.
    pub fn new(client: Client, name: impl Into<String>, policy: RetryPolicy) -> MetadataTable {
        MetadataTable {
            client,
            name: name.into(),
            policy,
        }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the table exists.
    pub async fn exists(&self) -> Result<bool> {
        match self
            .policy
            .run(|| self.client.describe_table().table_name(&self.name).send())
            .await
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {
                Ok(false)
            }
            Err(e) => Err(anyhow!(
                "cannot describe metadata table `{}`: {}",
                self.name,
                error_code(&e)
            )),
        }
    }

    /// Creates the table if it is missing and waits until it is ACTIVE.
    pub async fn ensure(&self, billing: Billing) -> Result<()> {
        if self.exists().await? {
            return Ok(());
        }
        create_table(
            &self.client,
            &self.policy,
            &self.name,
            (KEY, ScalarAttributeType::S),
            None,
            billing,
        )
        .await
    }

    /// The record of migration `number`, if any.
    pub async fn get(&self, number: u64) -> Result<Option<MigrationRecord>> {
        let key: Item = [(KEY.to_owned(), AttrValue::S(MigrationRecord::id(number)))]
            .into_iter()
            .collect();
        let output = self
            .policy
            .run(|| {
                self.client
                    .get_item()
                    .table_name(&self.name)
                    .set_key(Some(to_aws_item(&key)))
                    .consistent_read(true)
                    .send()
            })
            .await
            .map_err(|e| self.unreadable_table(&error_code(&e)))?;
        output
            .item
            .map(|item| MigrationRecord::from_item(&from_aws_item(&item)?))
            .transpose()
            .with_context(|| self.foreign_record())
    }

    fn unreadable_table(&self, why: &str) -> anyhow::Error {
        anyhow!("cannot read metadata table `{}`: {why}", self.name)
    }

    fn foreign_record(&self) -> String {
        format!(
            "metadata table `{}` holds a record drift-host cannot read",
            self.name
        )
    }

    /// Every migration record, by number.
    pub async fn list(&self) -> Result<Vec<MigrationRecord>> {
        let mut records = BTreeMap::new();
        // Only our records: other kinds (the lock, exactly-once markers) share the table.
        let mut pages = self.pages_with_prefix("migration#");
        while let Some(page) = pages.next().await? {
            for item in page {
                let record = MigrationRecord::from_item(&from_aws_item(&item)?)
                    .with_context(|| self.foreign_record())?;
                records.insert(record.number, record);
            }
        }
        Ok(records.into_values().collect())
    }

    /// Deletes every item whose id starts with `prefix` (the markers of exactly-once writes);
    /// returns how many there were. The deletes count against `capacity`.
    pub async fn delete_with_prefix(
        &self,
        prefix: &str,
        capacity: &crate::capacity::Capacity,
    ) -> Result<u64> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let mut deleted = 0;
        let mut pages = self.pages_with_prefix(prefix);
        while let Some(page) = pages.next().await? {
            for chunk in page.chunks(25) {
                let requests = chunk
                    .iter()
                    .map(|item| {
                        let key = [(KEY.to_owned(), item[KEY].clone())].into();
                        DeleteRequest::builder()
                            .set_key(Some(key))
                            .build()
                            .map(|d| WriteRequest::builder().delete_request(d).build())
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                deleted += requests.len() as u64;
                let requests = [(self.name.clone(), requests)].into_iter().collect();
                crate::apply::batch_write(&self.client, &self.policy, capacity, requests)
                    .await
                    .with_context(|| format!("cannot clean metadata table `{}`", self.name))?;
            }
        }
        Ok(deleted)
    }

    /// The items whose id starts with `prefix`, a page at a time (strongly consistent).
    fn pages_with_prefix(&self, prefix: &str) -> PrefixPages<'_> {
        PrefixPages {
            table: self,
            prefix: prefix.to_owned(),
            start: None,
            done: false,
        }
    }

    /// Whether `record` is what the table holds: a retried write whose first attempt was applied
    /// (but whose answer was lost) fails its condition, and is a success all the same.
    async fn already_written(&self, record: &MigrationRecord) -> Result<bool> {
        Ok(self.get(record.number).await?.as_ref() == Some(record))
    }

    /// Writes `record` if the stored one is still `previous` (same status and run), or absent
    /// when `previous` is `None`, and, with a `fence`, only while that lease is still held.
    /// Fails with a clear message when another run got there first.
    pub async fn write(
        &self,
        record: &MigrationRecord,
        previous: Option<&MigrationRecord>,
        fence: Option<&Lease>,
    ) -> Result<()> {
        let mut put = Put::builder()
            .table_name(&self.name)
            .set_item(Some(to_aws_item(&record.to_item())));
        put = match previous {
            None => put
                .condition_expression("attribute_not_exists(#id)")
                .expression_attribute_names("#id", KEY),
            Some(previous) => put
                .condition_expression("#status = :status AND #run = :run")
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#run", "run_id")
                .expression_attribute_values(
                    ":status",
                    AttributeValue::S(previous.status.as_str().to_owned()),
                )
                .expression_attribute_values(":run", AttributeValue::S(previous.run_id.clone())),
        };
        let put = put.build()?;
        let changed = || {
            anyhow!(
                "migration {} was changed by another run meanwhile; its record was not overwritten",
                record.number
            )
        };
        let Some(lease) = fence else {
            let request = self
                .client
                .put_item()
                .table_name(&self.name)
                .set_item(put.item.clone().into());
            let request = request
                .set_condition_expression(put.condition_expression.clone())
                .set_expression_attribute_names(put.expression_attribute_names.clone())
                .set_expression_attribute_values(put.expression_attribute_values.clone());
            return match self.policy.run(|| request.clone().send()).await {
                Ok(_) => Ok(()),
                Err(e) if is_conditional_check_failed(&e) => self
                    .already_written(record)
                    .await?
                    .then_some(())
                    .ok_or_else(changed),
                Err(e) => bail!(
                    "cannot write metadata table `{}`: {}",
                    self.name,
                    error_code(&e)
                ),
            };
        };
        let items = vec![
            TransactWriteItem::builder()
                .condition_check(lease.fence())
                .build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        match self
            .policy
            .run(|| {
                self.client
                    .transact_write_items()
                    .set_transact_items(Some(items.clone()))
                    .send()
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_reasons(&e) {
                Some(reasons) => {
                    let failed =
                        |i: usize| reasons.get(i).map(String::as_str) == Some(CONDITION_FAILED);
                    if failed(0) {
                        Err(anyhow::Error::new(LostLease(format!(
                            "this run lost the lock of metadata table `{}` (another run took it over); its record was not updated",
                            self.name
                        ))))
                    } else if failed(1) {
                        self.already_written(record)
                            .await?
                            .then_some(())
                            .ok_or_else(changed)
                    } else {
                        bail!(
                            "cannot write metadata table `{}`: transaction cancelled ({})",
                            self.name,
                            reasons.join(", ")
                        )
                    }
                }
                None => bail!(
                    "cannot write metadata table `{}`: {}",
                    self.name,
                    error_code(&e)
                ),
            },
        }
    }
}

/// Pages of a scan of the metadata table for the items whose id starts with a prefix.
struct PrefixPages<'a> {
    table: &'a MetadataTable,
    prefix: String,
    start: Option<std::collections::HashMap<String, AttributeValue>>,
    done: bool,
}

impl PrefixPages<'_> {
    /// The next page, or `None` after the last.
    async fn next(
        &mut self,
    ) -> Result<Option<Vec<std::collections::HashMap<String, AttributeValue>>>> {
        if self.done {
            return Ok(None);
        }
        let table = self.table;
        let page = table
            .policy
            .run(|| {
                table
                    .client
                    .scan()
                    .table_name(&table.name)
                    .consistent_read(true)
                    .filter_expression("begins_with(#id, :prefix)")
                    .expression_attribute_names("#id", KEY)
                    .expression_attribute_values(":prefix", AttributeValue::S(self.prefix.clone()))
                    .set_exclusive_start_key(self.start.clone())
                    .send()
            })
            .await
            .map_err(|e| table.unreadable_table(&error_code(&e)))?;
        self.start = page.last_evaluated_key;
        self.done = self.start.is_none();
        Ok(Some(page.items.unwrap_or_default()))
    }
}

/// Now, as RFC 3339 with seconds.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        };
        let item = record.to_item();
        assert_eq!(
            item[KEY],
            AttrValue::S("migration#00000000000000000002".into())
        );
        assert_eq!(MigrationRecord::from_item(&item).unwrap(), record);
        let mut foreign = item.clone();
        foreign.insert("status".into(), AttrValue::S("weird".into()));
        assert!(MigrationRecord::from_item(&foreign)
            .unwrap_err()
            .to_string()
            .contains("unknown status `weird`"));
    }
}
