//! `drift-host load`: writes items from DynamoDB JSON into a table, creating the table if
//! asked. For fixtures, samples and tests: a migration never goes through here.

use std::collections::HashMap;
use std::io::Read;

use anyhow::{anyhow, Context, Result};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use tokio::task::JoinSet;

use crate::aws::capacity::Capacity;
use crate::aws::convert::to_aws_item;
use crate::aws::retry::RetryPolicy;
use crate::aws::write::batch_write;
use crate::model::item::Item;
use crate::source::json::read_items;

/// Requests in flight while loading.
const IN_FLIGHT: usize = 8;

/// Writes every item of `input` into `table`; returns how many.
pub async fn load(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
    input: Box<dyn Read + Send>,
) -> Result<u64> {
    let (sender, mut batches) = tokio::sync::mpsc::channel::<Vec<Item>>(IN_FLIGHT);
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(25);
        let count = read_items(input, |item| {
            batch.push(item);
            if batch.len() == 25 {
                sender
                    .blocking_send(std::mem::take(&mut batch))
                    .map_err(|_| anyhow!("the writer stopped"))?;
            }
            Ok(())
        })?;
        if !batch.is_empty() {
            sender
                .blocking_send(batch)
                .map_err(|_| anyhow!("the writer stopped"))?;
        }
        Ok::<u64, anyhow::Error>(count)
    });
    let mut writes = JoinSet::new();
    while let Some(batch) = batches.recv().await {
        while writes.len() >= IN_FLIGHT {
            writes.join_next().await.expect("a write in flight")??;
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
        writes.spawn(async move {
            batch_write(
                &client,
                &policy,
                &Capacity::default(),
                HashMap::from([(table, requests)]),
            )
            .await
        });
    }
    while let Some(done) = writes.join_next().await {
        done??;
    }
    reader.await.context("input reader failed")?
}
