//! The metadata table: reading, listing and writing records (every status change conditional,
//! fenced by the lease), creating the table on first use, cleaning up marker items.

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ScalarAttributeType, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use super::lock::Lease;
use super::record::MigrationRecord;
use super::KEY;
use crate::aws::capacity::Capacity;
use crate::aws::convert::{from_aws_item, to_aws_item};
use crate::aws::retry::{error_code, is_conditional_check_failed, RetryPolicy};
use crate::aws::table::{create_table, Billing};
use crate::aws::write::{batch_write, cancellation_reasons, CONDITION_FAILED};
use crate::model::error::RunError;
use crate::model::item::{Item, Value};

/// Id prefix of the items that name the tables a project manages.
const MANAGED_TABLE: &str = "table#";

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

    /// The client it is reached through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The retry policy of its requests.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
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
        let key: Item = [(KEY.to_owned(), Value::S(MigrationRecord::id(number)))]
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

    /// The tables a project's `tables --apply` made its own (created or found declared): only
    /// these can be pruned once they are no longer declared.
    pub async fn managed_tables(&self) -> Result<std::collections::BTreeSet<String>> {
        let mut tables = std::collections::BTreeSet::new();
        let mut pages = self.pages_with_prefix(MANAGED_TABLE);
        while let Some(page) = pages.next().await? {
            for item in page {
                if let Some(AttributeValue::S(id)) = item.get(KEY) {
                    tables.insert(id[MANAGED_TABLE.len()..].to_owned());
                }
            }
        }
        Ok(tables)
    }

    /// Records that the project manages `table` (`true`), or no longer does.
    pub async fn set_managed(&self, table: &str, managed: bool) -> Result<()> {
        let id = AttributeValue::S(format!("{MANAGED_TABLE}{table}"));
        if managed {
            let put = self
                .client
                .put_item()
                .table_name(&self.name)
                .item(KEY, id)
                .item("since", AttributeValue::S(crate::model::now()));
            let sent = self.policy.run(|| put.clone().send()).await;
            sent.map_err(|e| self.unreadable_table(&error_code(&e)))?;
        } else {
            let delete = self
                .client
                .delete_item()
                .table_name(&self.name)
                .key(KEY, id);
            let sent = self.policy.run(|| delete.clone().send()).await;
            sent.map_err(|e| self.unreadable_table(&error_code(&e)))?;
        }
        Ok(())
    }

    /// Deletes every item whose id starts with `prefix` (the markers of exactly-once writes);
    /// returns how many there were. The deletes count against `capacity`.
    pub async fn delete_with_prefix(&self, prefix: &str, capacity: &Capacity) -> Result<u64> {
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
                batch_write(&self.client, &self.policy, capacity, requests)
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
                        Err(anyhow::Error::new(RunError::LostLease(format!(
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
    start: Option<HashMap<String, AttributeValue>>,
    done: bool,
}

impl PrefixPages<'_> {
    /// The next page, or `None` after the last.
    async fn next(&mut self) -> Result<Option<Vec<HashMap<String, AttributeValue>>>> {
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
