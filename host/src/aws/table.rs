//! Tables: their schemas (key, key types, index keys), and creating one.

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
