//! Tables: their schemas (key, key types, index keys), creating one (the one path every
//! table is created by, waiting until it is active) and deleting one.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, IndexStatus, KeySchemaElement, KeyType,
    ProvisionedThroughput, ScalarAttributeType, TableStatus,
};
use aws_sdk_dynamodb::Client;

use super::retry::{error_code, RetryPolicy};
use crate::model::action::Tables;
pub use crate::model::schema::{Billing, Throughput};
use crate::model::schema::{IndexSchema, KeySchema, Projection, ScalarType, Schemas, TableSchema};

/// Reads a table's schema (key, declared key types, secondary index keys); a missing table is
/// a clear error.
pub async fn table_schema(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
) -> Result<TableSchema> {
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
    let description = described
        .table()
        .with_context(|| format!("DescribeTable `{table}` returned no table"))?;
    let key = key_of(description.key_schema())
        .with_context(|| format!("the key schema of table `{table}`"))?;
    let types = description
        .attribute_definitions()
        .iter()
        .filter_map(|definition| {
            let kind = ScalarType::parse(definition.attribute_type().as_str())?;
            Some((definition.attribute_name().to_owned(), kind))
        })
        .collect();
    let mut indexes = Vec::new();
    let globals = description
        .global_secondary_indexes()
        .iter()
        .map(|i| (i.index_name(), i.key_schema(), None));
    let locals = description.local_secondary_indexes().iter().map(|i| {
        (
            i.index_name(),
            i.key_schema(),
            Some(projection(i.projection())),
        )
    });
    for (name, elements, local) in globals.chain(locals) {
        let name = name.unwrap_or_default().to_owned();
        let key = key_of(elements)
            .with_context(|| format!("the key schema of index `{name}` of table `{table}`"))?;
        indexes.push(IndexSchema { name, key, local });
    }
    Ok(TableSchema {
        name: table.to_owned(),
        key,
        types,
        indexes,
    })
}

/// What an index's entries hold, from DescribeTable (all attributes when it does not say).
pub fn projection(projection: Option<&aws_sdk_dynamodb::types::Projection>) -> Projection {
    use aws_sdk_dynamodb::types::ProjectionType;
    match projection.and_then(|p| p.projection_type()) {
        Some(ProjectionType::KeysOnly) => Projection::KeysOnly,
        Some(ProjectionType::Include) => Projection::Include(
            projection
                .map(|p| p.non_key_attributes().to_vec())
                .unwrap_or_default(),
        ),
        _ => Projection::All,
    }
}

/// A key schema from DescribeTable's elements.
fn key_of(elements: &[KeySchemaElement]) -> Result<KeySchema> {
    let mut hash = None;
    let mut range = None;
    for element in elements {
        match element.key_type() {
            KeyType::Hash => hash = Some(element.attribute_name().to_owned()),
            KeyType::Range => range = Some(element.attribute_name().to_owned()),
            other => bail!("unknown key type {other:?}"),
        }
    }
    Ok(KeySchema {
        hash: hash.context("no partition key")?,
        range,
    })
}

/// Reads a table's key schema; a missing table is a clear error.
pub async fn key_schema(client: &Client, policy: &RetryPolicy, table: &str) -> Result<KeySchema> {
    Ok(table_schema(client, policy, table).await?.key)
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

/// The schema of each of `tables` (the scanned one and those a migration declares), read once
/// per run; a missing table is a clear error.
pub async fn table_schemas(
    client: &Client,
    policy: &RetryPolicy,
    tables: &Tables,
) -> Result<Schemas> {
    let mut schemas = HashMap::new();
    for name in tables.all() {
        let schema = table_schema(client, policy, &name).await?;
        schemas.insert(name, schema);
    }
    Ok(schemas)
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
    create(client, policy, table, billed(request, billing)?).await
}

/// `request` billed as `billing` says.
pub fn billed(
    request: CreateTableFluentBuilder,
    billing: Billing,
) -> Result<CreateTableFluentBuilder> {
    Ok(match billing {
        Billing::OnDemand => request.billing_mode(BillingMode::PayPerRequest),
        Billing::Provisioned(units) => request
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(throughput(units)?),
    })
}

/// DynamoDB's form of `units`.
pub fn throughput(units: Throughput) -> Result<ProvisionedThroughput> {
    Ok(ProvisionedThroughput::builder()
        .read_capacity_units(units.read)
        .write_capacity_units(units.write)
        .build()?)
}

/// Sends `request` (a complete CreateTable of `table`) unless the table exists, then waits
/// until it and its indexes are active: the one way tables are created.
pub async fn create(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
    request: CreateTableFluentBuilder,
) -> Result<()> {
    // "In use" means it exists: created by someone else, or by our own retried request.
    match policy.run(|| request.clone().send()).await {
        Ok(_) => tracing::info!("created table `{table}`"),
        Err(SdkError::ServiceError(e)) if e.err().is_resource_in_use_exception() => {}
        Err(e) => bail!("cannot create table `{table}`: {}", error_code(&e)),
    }
    wait_active(client, policy, table).await
}

/// Waits until `table` and all its global indexes are active (index backfills can take long
/// on a big table: up to an hour here). The SDK's `table_exists` waiter does not wait for the
/// indexes, so this polls DescribeTable itself.
pub async fn wait_active(client: &Client, policy: &RetryPolicy, table: &str) -> Result<()> {
    for _ in 0..14_400 {
        let described = policy
            .run(|| client.describe_table().table_name(table).send())
            .await
            .map_err(|e| anyhow!("cannot describe table `{table}`: {}", error_code(&e)))?;
        let description = described.table();
        let active = description.and_then(|t| t.table_status()) == Some(&TableStatus::Active)
            && description.is_some_and(|t| {
                t.global_secondary_indexes()
                    .iter()
                    .all(|i| i.index_status() == Some(&IndexStatus::Active))
            });
        if active {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("table `{table}` did not become active within an hour")
}

/// Deletes `table` (if it exists) and waits until it is gone.
pub async fn delete_table(client: &Client, policy: &RetryPolicy, table: &str) -> Result<()> {
    match policy
        .run(|| client.delete_table().table_name(table).send())
        .await
    {
        Ok(_) => {}
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {}
        Err(e) => bail!("cannot delete table `{table}`: {}", error_code(&e)),
    }
    client
        .wait_until_table_not_exists()
        .table_name(table)
        .wait(Duration::from_secs(300))
        .await
        .map_err(|e| {
            anyhow!("table `{table}` was still there five minutes after DeleteTable: {e}")
        })?;
    Ok(())
}
