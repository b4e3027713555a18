//! Declared tables against the account: what exists ([`describe`]), what differs
//! ([`changes`], pure), and making it so ([`apply`]): create missing tables (with their
//! indexes, waiting until active), add missing global indexes, set TTL and billing. What cannot
//! change in place (a key schema, a local index) is reported, never "fixed" by deleting.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    self as aws, AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction,
    GlobalSecondaryIndex, GlobalSecondaryIndexUpdate, KeySchemaElement, LocalSecondaryIndex,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;
use serde::Serialize;

use super::config::{
    Billing, IndexDeclaration, KeyAttribute, KeyType, LocalIndexDeclaration, Projection,
    TableDeclaration,
};
use crate::aws::retry::{error_code, RetryPolicy};
use crate::aws::table::{billed, projection, throughput, wait_active, Throughput};

/// A table as it exists, in the declaration's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct ExistingTable {
    /// Partition key.
    pub partition_key: KeyAttribute,
    /// Sort key.
    pub sort_key: Option<KeyAttribute>,
    /// Billing.
    pub billing: Billing,
    /// TTL attribute, if TTL is enabled (or being enabled).
    pub ttl: Option<String>,
    /// Global secondary indexes.
    pub indexes: Vec<IndexDeclaration>,
    /// Local secondary indexes.
    pub local_indexes: Vec<LocalIndexDeclaration>,
}

/// One difference between the declarations and the account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// The table is missing: create it.
    Create {
        /// Table name.
        table: String,
    },
    /// A declared global index is missing: add it.
    AddIndex {
        /// Table name.
        table: String,
        /// Index name.
        index: String,
    },
    /// TTL is not on the declared attribute: set it.
    SetTtl {
        /// Table name.
        table: String,
        /// The declared attribute.
        attribute: String,
        /// The attribute TTL is on now, if any (DynamoDB disables it first).
        from: Option<String>,
    },
    /// Billing differs: switch it.
    SetBilling {
        /// Table name.
        table: String,
        /// Billing now.
        from: String,
        /// Declared billing.
        to: String,
    },
    /// Differs in a way that cannot change in place: reported, left as it is.
    Differs {
        /// Table name.
        table: String,
        /// What differs.
        what: String,
    },
    /// This project created the table and no longer declares it: deleted only by
    /// `--prune --confirm NAME`.
    Undeclared {
        /// Table name.
        table: String,
    },
}

impl Change {
    /// The table it is about.
    pub fn table(&self) -> &str {
        match self {
            Change::Create { table }
            | Change::AddIndex { table, .. }
            | Change::SetTtl { table, .. }
            | Change::SetBilling { table, .. }
            | Change::Differs { table, .. }
            | Change::Undeclared { table } => table,
        }
    }

    /// Whether `--apply` makes this change.
    pub fn is_applied(&self) -> bool {
        matches!(
            self,
            Change::Create { .. }
                | Change::AddIndex { .. }
                | Change::SetTtl { .. }
                | Change::SetBilling { .. }
        )
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Change::Create { table } => format!("{table}: missing; create it"),
            Change::AddIndex { table, index } => {
                format!("{table}: global index `{index}` missing; add it")
            }
            Change::SetTtl {
                table,
                attribute,
                from,
            } => match from {
                Some(from) => format!("{table}: TTL is on `{from}`; move it to `{attribute}`"),
                None => format!("{table}: TTL is off; set it on `{attribute}`"),
            },
            Change::SetBilling { table, from, to } => {
                format!("{table}: billing is {from}; switch it to {to}")
            }
            Change::Differs { table, what } => {
                format!("{table}: {what} (cannot change in place; left as it is)")
            }
            Change::Undeclared { table } => format!(
                "{table}: created by this project but no longer declared \
                 (delete it with --prune --confirm {table})"
            ),
        }
    }
}

/// The differences between `declared` and `existing` (`None`: the table does not exist), and
/// the tables in `managed` (created by this project) that are no longer declared.
pub fn changes(
    declared: &BTreeMap<String, TableDeclaration>,
    existing: &BTreeMap<String, Option<ExistingTable>>,
    managed: &BTreeSet<String>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for (name, declaration) in declared {
        let table = || name.clone();
        let Some(Some(existing)) = existing.get(name) else {
            changes.push(Change::Create { table: table() });
            continue;
        };
        let differs = |what: String| Change::Differs {
            table: table(),
            what,
        };
        if (&existing.partition_key, &existing.sort_key)
            != (&declaration.partition_key, &declaration.sort_key)
        {
            changes.push(differs(format!(
                "key schema is {}, declared {}",
                key_text(&existing.partition_key, &existing.sort_key),
                key_text(&declaration.partition_key, &declaration.sort_key)
            )));
        }
        if !same_local_indexes(&existing.local_indexes, &declaration.local_indexes) {
            changes.push(differs(
                "local secondary indexes differ (they exist only from a table's creation)".into(),
            ));
        }
        for index in &declaration.indexes {
            match existing.indexes.iter().find(|i| i.name == index.name) {
                None => changes.push(Change::AddIndex {
                    table: table(),
                    index: index.name.clone(),
                }),
                Some(found) if !same_index(found, index) => changes.push(differs(format!(
                    "global index `{}` is {}, declared {}",
                    index.name,
                    index_text(found),
                    index_text(index)
                ))),
                Some(_) => {}
            }
        }
        for index in &existing.indexes {
            if !declaration.indexes.iter().any(|i| i.name == index.name) {
                changes.push(differs(format!(
                    "global index `{}` exists but is not declared",
                    index.name
                )));
            }
        }
        if declaration.ttl.is_some() && declaration.ttl != existing.ttl {
            changes.push(Change::SetTtl {
                table: table(),
                attribute: declaration.ttl.clone().unwrap_or_default(),
                from: existing.ttl.clone(),
            });
        } else if declaration.ttl.is_none() {
            if let Some(ttl) = &existing.ttl {
                changes.push(differs(format!("TTL is on `{ttl}` but none is declared")));
            }
        }
        if existing.billing != declaration.billing {
            changes.push(Change::SetBilling {
                table: table(),
                from: existing.billing.to_string(),
                to: declaration.billing.to_string(),
            });
        }
    }
    for name in managed {
        let exists = matches!(existing.get(name), Some(Some(_)));
        if !declared.contains_key(name) && exists {
            changes.push(Change::Undeclared {
                table: name.clone(),
            });
        }
    }
    changes
}

fn key_text(partition: &KeyAttribute, sort: &Option<KeyAttribute>) -> String {
    match sort {
        Some(sort) => format!("({partition}, {sort})"),
        None => format!("({partition})"),
    }
}

fn index_text(index: &IndexDeclaration) -> String {
    format!(
        "{} projecting {}",
        key_text(&index.partition_key, &index.sort_key),
        index.projection
    )
}

fn same_projection(a: &Projection, b: &Projection) -> bool {
    match (a, b) {
        (Projection::Include(a), Projection::Include(b)) => {
            a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
        }
        _ => a == b,
    }
}

fn same_index(a: &IndexDeclaration, b: &IndexDeclaration) -> bool {
    a.partition_key == b.partition_key
        && a.sort_key == b.sort_key
        && same_projection(&a.projection, &b.projection)
}

fn same_local_indexes(a: &[LocalIndexDeclaration], b: &[LocalIndexDeclaration]) -> bool {
    a.len() == b.len()
        && a.iter().all(|x| {
            b.iter().any(|y| {
                x.name == y.name
                    && x.sort_key == y.sort_key
                    && same_projection(&x.projection, &y.projection)
            })
        })
}

/// Reads `table` as it exists; `None` if it does not.
pub async fn describe(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
) -> Result<Option<ExistingTable>> {
    let described = match policy
        .run(|| client.describe_table().table_name(table).send())
        .await
    {
        Ok(described) => described,
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {
            return Ok(None)
        }
        Err(e) => bail!("cannot describe table `{table}`: {}", error_code(&e)),
    };
    let description = described
        .table()
        .with_context(|| format!("DescribeTable `{table}` returned no table"))?;
    let types: BTreeMap<&str, KeyType> = description
        .attribute_definitions()
        .iter()
        .map(|d| {
            let kind = match d.attribute_type() {
                ScalarAttributeType::N => KeyType::N,
                ScalarAttributeType::B => KeyType::B,
                _ => KeyType::S,
            };
            (d.attribute_name(), kind)
        })
        .collect();
    let keys = |schema: &[KeySchemaElement]| -> Result<(KeyAttribute, Option<KeyAttribute>)> {
        let attribute = |element: &KeySchemaElement| KeyAttribute {
            name: element.attribute_name().to_owned(),
            kind: types
                .get(element.attribute_name())
                .copied()
                .unwrap_or(KeyType::S),
        };
        let hash = schema
            .iter()
            .find(|e| e.key_type() == &aws::KeyType::Hash)
            .map(attribute)
            .ok_or_else(|| anyhow!("table `{table}` has a key schema without a partition key"))?;
        let range = schema
            .iter()
            .find(|e| e.key_type() == &aws::KeyType::Range)
            .map(attribute);
        Ok((hash, range))
    };
    let (partition_key, sort_key) = keys(description.key_schema())?;
    let billing = match description
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
    {
        Some(BillingMode::PayPerRequest) => Billing::OnDemand,
        _ => {
            let throughput = description.provisioned_throughput();
            let units = |n: Option<i64>| n.unwrap_or(0);
            match throughput {
                Some(t) if units(t.read_capacity_units()) > 0 => Billing::Provisioned(Throughput {
                    read: units(t.read_capacity_units()),
                    write: units(t.write_capacity_units()),
                }),
                _ => Billing::OnDemand,
            }
        }
    };
    let mut indexes = Vec::new();
    for index in description.global_secondary_indexes() {
        let (partition_key, sort_key) = keys(index.key_schema())?;
        indexes.push(IndexDeclaration {
            name: index.index_name().unwrap_or_default().to_owned(),
            partition_key,
            sort_key,
            projection: projection(index.projection()),
            capacity: None,
        });
    }
    let mut local_indexes = Vec::new();
    for index in description.local_secondary_indexes() {
        let (_, sort_key) = keys(index.key_schema())?;
        local_indexes.push(LocalIndexDeclaration {
            name: index.index_name().unwrap_or_default().to_owned(),
            sort_key: sort_key
                .ok_or_else(|| anyhow!("local index of `{table}` without a sort key"))?,
            projection: projection(index.projection()),
        });
    }
    let ttl = policy
        .run(|| client.describe_time_to_live().table_name(table).send())
        .await
        .map_err(|e| anyhow!("cannot describe TTL of `{table}`: {}", error_code(&e)))?;
    let ttl = ttl.time_to_live_description().and_then(|d| {
        let on = matches!(
            d.time_to_live_status(),
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        );
        on.then(|| d.attribute_name().map(str::to_owned)).flatten()
    });
    Ok(Some(ExistingTable {
        partition_key,
        sort_key,
        billing,
        ttl,
        indexes,
        local_indexes,
    }))
}

fn aws_projection(projection: &Projection) -> aws::Projection {
    let builder = aws::Projection::builder();
    match projection {
        Projection::KeysOnly => builder.projection_type(ProjectionType::KeysOnly),
        Projection::All => builder.projection_type(ProjectionType::All),
        Projection::Include(names) => builder
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(names.clone())),
    }
    .build()
}

fn key_schema(
    partition: &KeyAttribute,
    sort: &Option<KeyAttribute>,
) -> Result<Vec<KeySchemaElement>> {
    let mut schema = vec![KeySchemaElement::builder()
        .attribute_name(&partition.name)
        .key_type(aws::KeyType::Hash)
        .build()?];
    if let Some(sort) = sort {
        schema.push(
            KeySchemaElement::builder()
                .attribute_name(&sort.name)
                .key_type(aws::KeyType::Range)
                .build()?,
        );
    }
    Ok(schema)
}

fn attribute_definition(key: &KeyAttribute) -> Result<AttributeDefinition> {
    Ok(AttributeDefinition::builder()
        .attribute_name(&key.name)
        .attribute_type(ScalarAttributeType::from(key.kind.as_str()))
        .build()?)
}

fn index_throughput(
    billing: Billing,
    index: &IndexDeclaration,
) -> Result<Option<ProvisionedThroughput>> {
    match billing {
        Billing::OnDemand => Ok(None),
        Billing::Provisioned(table) => Ok(Some(throughput(index.capacity.unwrap_or(table))?)),
    }
}

fn global_index(billing: Billing, index: &IndexDeclaration) -> Result<GlobalSecondaryIndex> {
    Ok(GlobalSecondaryIndex::builder()
        .index_name(&index.name)
        .set_key_schema(Some(key_schema(&index.partition_key, &index.sort_key)?))
        .projection(aws_projection(&index.projection))
        .set_provisioned_throughput(index_throughput(billing, index)?)
        .build()?)
}

/// Makes every change that `--apply` makes, in order; the others are left for the caller to
/// report. Each waits until the table (and its indexes) are active again.
pub async fn apply(
    client: &Client,
    policy: &RetryPolicy,
    declared: &BTreeMap<String, TableDeclaration>,
    changes: &[Change],
) -> Result<()> {
    for change in changes.iter().filter(|c| c.is_applied()) {
        let name = change.table();
        let declaration = &declared[name];
        match change {
            Change::Create { .. } => create(client, policy, name, declaration).await?,
            Change::AddIndex { index, .. } => {
                let index = declaration
                    .indexes
                    .iter()
                    .find(|i| &i.name == index)
                    .with_context(|| format!("index `{index}` is not declared"))?;
                add_index(client, policy, name, declaration, index).await?
            }
            Change::SetTtl {
                attribute, from, ..
            } => set_ttl(client, policy, name, attribute, from.as_deref()).await?,
            Change::SetBilling { .. } => set_billing(client, policy, name, declaration).await?,
            Change::Differs { .. } | Change::Undeclared { .. } => {}
        }
    }
    Ok(())
}

async fn create(
    client: &Client,
    policy: &RetryPolicy,
    name: &str,
    declaration: &TableDeclaration,
) -> Result<()> {
    let mut definitions = BTreeMap::new();
    for key in declaration.key_attributes() {
        definitions.insert(key.name.clone(), key);
    }
    let mut request = client
        .create_table()
        .table_name(name)
        .set_key_schema(Some(key_schema(
            &declaration.partition_key,
            &declaration.sort_key,
        )?))
        .set_attribute_definitions(Some(
            definitions
                .values()
                .map(|k| attribute_definition(k))
                .collect::<Result<_>>()?,
        ));
    request = billed(request, declaration.billing)?;
    for index in &declaration.indexes {
        request = request.global_secondary_indexes(global_index(declaration.billing, index)?);
    }
    for index in &declaration.local_indexes {
        request = request.local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name(&index.name)
                .set_key_schema(Some(key_schema(
                    &declaration.partition_key,
                    &Some(index.sort_key.clone()),
                )?))
                .projection(aws_projection(&index.projection))
                .build()?,
        );
    }
    crate::aws::table::create(client, policy, name, request).await?;
    if let Some(ttl) = &declaration.ttl {
        set_ttl(client, policy, name, ttl, None).await?;
    }
    Ok(())
}

async fn add_index(
    client: &Client,
    policy: &RetryPolicy,
    name: &str,
    declaration: &TableDeclaration,
    index: &IndexDeclaration,
) -> Result<()> {
    let mut definitions = vec![attribute_definition(&index.partition_key)?];
    if let Some(sort) = &index.sort_key {
        definitions.push(attribute_definition(sort)?);
    }
    let create = CreateGlobalSecondaryIndexAction::builder()
        .index_name(&index.name)
        .set_key_schema(Some(key_schema(&index.partition_key, &index.sort_key)?))
        .projection(aws_projection(&index.projection))
        .set_provisioned_throughput(index_throughput(declaration.billing, index)?)
        .build()?;
    let request = client
        .update_table()
        .table_name(name)
        .set_attribute_definitions(Some(definitions))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder().create(create).build(),
        );
    policy.run(|| request.clone().send()).await.map_err(|e| {
        anyhow!(
            "cannot add index `{}` to `{name}`: {}",
            index.name,
            error_code(&e)
        )
    })?;
    wait_active(client, policy, name).await
}

async fn set_ttl(
    client: &Client,
    policy: &RetryPolicy,
    name: &str,
    attribute: &str,
    from: Option<&str>,
) -> Result<()> {
    // DynamoDB keeps TTL on one attribute: moving it means switching the old one off first.
    let mut steps = Vec::new();
    if let Some(from) = from {
        steps.push((from, false));
    }
    steps.push((attribute, true));
    for (attribute, enabled) in steps {
        let specification = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(enabled)
            .build()?;
        let request = client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(specification);
        policy
            .run(|| request.clone().send())
            .await
            .map_err(|e| anyhow!("cannot set TTL of `{name}`: {}", error_code(&e)))?;
    }
    Ok(())
}

async fn set_billing(
    client: &Client,
    policy: &RetryPolicy,
    name: &str,
    declaration: &TableDeclaration,
) -> Result<()> {
    let mut request = client.update_table().table_name(name);
    request = match declaration.billing {
        Billing::OnDemand => request.billing_mode(BillingMode::PayPerRequest),
        Billing::Provisioned(capacity) => request
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(throughput(capacity)?),
    };
    policy
        .run(|| request.clone().send())
        .await
        .map_err(|e| anyhow!("cannot change the billing of `{name}`: {}", error_code(&e)))?;
    wait_active(client, policy, name).await
}

#[cfg(test)]
#[path = "tables_tests.rs"]
mod tests;
