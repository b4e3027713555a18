//! Tables: their key schemas, and creating one.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput,
    ScalarAttributeType, TableStatus,
};
use aws_sdk_dynamodb::Client;

use super::retry::{error_code, RetryPolicy};
use crate::model::action::Tables;
use crate::model::item::Item;

/// A table's primary key attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchema {
    /// Partition key attribute.
    pub hash: String,
    /// Sort key attribute, if the table has one.
    pub range: Option<String>,
}

impl KeySchema {
    /// The key attributes of `item`, or `None` if one is missing.
    pub fn key_of(&self, item: &Item) -> Option<Item> {
        let mut key = Item::new();
        key.insert(self.hash.clone(), item.get(&self.hash)?.clone());
        if let Some(range) = &self.range {
            key.insert(range.clone(), item.get(range)?.clone());
        }
        Some(key)
    }

    /// Whether `key` has exactly this schema's attributes.
    pub fn matches(&self, key: &Item) -> bool {
        key.len() == 1 + self.range.is_some() as usize
            && key.contains_key(&self.hash)
            && self.range.as_ref().is_none_or(|r| key.contains_key(r))
    }
}

/// Reads a table's key schema; a missing table is a clear error.
pub async fn key_schema(client: &Client, policy: &RetryPolicy, table: &str) -> Result<KeySchema> {
    let described = policy
        .run(|| client.describe_table().table_name(table).send())
        .await
        .map_err(|e| {
            if matches!(&e, SdkError::ServiceError(s) if s.err().is_resource_not_found_exception())
            {
                anyhow!("table `{table}` does not exist")
            } else {
                anyhow!("cannot describe table `{table}`: {}", error_code(&e))
            }
        })?;
    let table_description = described
        .table()
        .with_context(|| format!("DescribeTable `{table}` returned no table"))?;
    let mut hash = None;
    let mut range = None;
    for element in table_description.key_schema() {
        match element.key_type() {
            KeyType::Hash => hash = Some(element.attribute_name().to_owned()),
            KeyType::Range => range = Some(element.attribute_name().to_owned()),
            other => bail!("table `{table}` has an unknown key type {other:?}"),
        }
    }
    Ok(KeySchema {
        hash: hash.with_context(|| format!("table `{table}` has no partition key"))?,
        range,
    })
}

/// The table's approximate item count (DynamoDB updates it about every six hours), for
/// progress estimates; `None` if it cannot be read.
pub async fn approximate_item_count(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
) -> Option<u64> {
    let described = policy
        .run(|| client.describe_table().table_name(table).send())
        .await
        .ok()?;
    described
        .table()?
        .item_count()
        .and_then(|n| u64::try_from(n).ok())
}

/// When `table` was created (Unix seconds): a table deleted and created again since a plan
/// is another table.
pub async fn created_at(client: &Client, policy: &RetryPolicy, table: &str) -> Result<Option<f64>> {
    let described = policy
        .run(|| client.describe_table().table_name(table).send())
        .await
        .map_err(|e| anyhow!("cannot describe table `{table}`: {}", error_code(&e)))?;
    Ok(described
        .table()
        .and_then(|t| t.creation_date_time())
        .map(|time| time.as_secs_f64()))
}

/// The key schema of each of `tables` (the scanned one and those a migration declares); a
/// missing table is a clear error.
pub async fn key_schemas(
    client: &Client,
    policy: &RetryPolicy,
    tables: &Tables,
) -> Result<HashMap<String, KeySchema>> {
    let mut schemas = HashMap::new();
    for name in tables.all() {
        let schema = key_schema(client, policy, &name).await?;
        schemas.insert(name, schema);
    }
    Ok(schemas)
}

/// How a created table is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    /// On-demand capacity.
    PayPerRequest,
    /// Provisioned read and write capacity units.
    Provisioned(i64, i64),
}

/// Creates `table` with partition key `hash` and optional sort key `range` (name and type),
/// unless it exists, then waits until it is ACTIVE.
pub async fn create_table(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
    hash: (&str, ScalarAttributeType),
    range: Option<(&str, ScalarAttributeType)>,
    billing: Billing,
) -> Result<()> {
    let mut request = client.create_table().table_name(table);
    for (attribute, key_type) in [(Some(hash), KeyType::Hash), (range, KeyType::Range)] {
        if let Some((name, kind)) = attribute {
            request = request
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(name)
                        .attribute_type(kind)
                        .build()?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(name)
                        .key_type(key_type)
                        .build()?,
                );
        }
    }
    request = match billing {
        Billing::PayPerRequest => request.billing_mode(BillingMode::PayPerRequest),
        Billing::Provisioned(read, write) => request
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(
                ProvisionedThroughput::builder()
                    .read_capacity_units(read)
                    .write_capacity_units(write)
                    .build()?,
            ),
    };
    // "In use" means it exists: created by someone else, or by our own retried request.
    match policy.run(|| request.clone().send()).await {
        Ok(_) => tracing::info!("created table `{table}`"),
        Err(SdkError::ServiceError(e)) if e.err().is_resource_in_use_exception() => {}
        Err(e) => bail!("cannot create table `{table}`: {}", error_code(&e)),
    }
    for _ in 0..240 {
        let described = policy
            .run(|| client.describe_table().table_name(table).send())
            .await
            .map_err(|e| anyhow!("cannot describe table `{table}`: {}", error_code(&e)))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("table `{table}` did not become ACTIVE within a minute")
}
