//! `drift-host load`: writes items from DynamoDB JSON into a table, creating the table if
//! asked. For fixtures, samples and tests: a migration never goes through here.

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{anyhow, Context, Result};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use tokio::task::JoinSet;

use crate::aws::capacity::Capacity;
use crate::aws::convert::to_aws_item;
use crate::aws::retry::RetryPolicy;
use crate::aws::table::table_schema;
use crate::aws::write::{batch_write, WriteError};
use crate::model::item::{to_json_item, Item};
use crate::model::schema::TableSchema;
use crate::source::json::read_items;

/// Requests in flight while loading.
const IN_FLIGHT: usize = 8;

/// Writes every item of `input` into `table`; returns how many. The whole input is read and
/// checked first (valid DynamoDB JSON, valid values, the table's key attributes present with
/// their types), so a bad item writes nothing; a write that fails after that says how many
/// items were written.
pub async fn load(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
    input: Box<dyn Read + Send>,
) -> Result<u64> {
    let items = tokio::task::spawn_blocking(move || {
        let mut items = Vec::new();
        read_items(input, |item| {
            items.push(item);
            Ok(())
        })?;
        Ok::<Vec<Item>, anyhow::Error>(items)
    })
    .await
    .context("input reader failed")??;
    let schema = table_schema(client, policy, table).await.map_err(|error| {
        let text = format!("{error:#}");
        match text.ends_with("does not exist") {
            true => anyhow!(
                "{text}: create it with `--create-key NAME[:S|N|B]` (and `--create-sort-key`), \
                 or load into an existing table"
            ),
            false => error,
        }
    })?;
    for (n, item) in items.iter().enumerate() {
        check_key(item, &schema).map_err(|why| {
            anyhow!(
                "item {} of {} ({}): {why}; nothing was written",
                n + 1,
                items.len(),
                to_json_item(item)
                    .to_string()
                    .chars()
                    .take(120)
                    .collect::<String>()
            )
        })?;
    }
    let total = items.len() as u64;
    let written = AtomicU64::new(0);
    let mut writes = JoinSet::new();
    let mut failure = None;
    for batch in items.chunks(25) {
        while writes.len() >= IN_FLIGHT {
            if let Err(error) = settle(writes.join_next().await, &written) {
                failure.get_or_insert(error);
            }
        }
        if failure.is_some() {
            break;
        }
        let requests: Vec<WriteRequest> = batch
            .iter()
            .map(|item| {
                Ok(WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(to_aws_item(item)))
                            .build()?,
                    )
                    .build())
            })
            .collect::<Result<_>>()?;
        let (client, policy, table) = (client.clone(), policy.clone(), table.to_owned());
        let size = batch.len() as u64;
        writes.spawn(async move {
            batch_write(
                &client,
                &policy,
                &Capacity::default(),
                HashMap::from([(table, requests)]),
            )
            .await
            .map(|()| size)
        });
    }
    while let Some(done) = writes.join_next().await {
        if let Err(error) = settle(Some(done), &written) {
            failure.get_or_insert(error);
        }
    }
    match failure {
        Some(error) => Err(error.context(format!(
            "{} of {total} items were written to `{table}`",
            written.load(Ordering::Relaxed)
        ))),
        None => Ok(total),
    }
}

/// Counts a finished batch write.
fn settle(
    done: Option<Result<Result<u64, WriteError>, tokio::task::JoinError>>,
    written: &AtomicU64,
) -> Result<()> {
    let Some(done) = done else {
        return Ok(());
    };
    let size = done.context("a batch write panicked")??;
    written.fetch_add(size, Ordering::Relaxed);
    Ok(())
}

/// The item has the table's key attributes, of their declared types, valid as a key.
fn check_key(item: &Item, schema: &TableSchema) -> std::result::Result<(), String> {
    for name in schema.key.attributes() {
        let Some(value) = item.get(name) else {
            return Err(format!("it lacks the table's key attribute `{name}`"));
        };
        if let Some(kind) = schema.types.get(name) {
            if !kind.holds(value) {
                return Err(format!("key attribute `{name}` must be of type {kind}"));
            }
        }
    }
    let key = schema.key.key_of(item).unwrap_or_default();
    drift_value::limits::check_key(&key)
}
