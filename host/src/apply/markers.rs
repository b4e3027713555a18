//! The marker items of exactly-once writes, in the metadata table.

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::exactly_once::Marked;
use crate::aws::capacity::Capacity;
use crate::aws::retry::{error_code, RetryPolicy};

/// The attribute of a conflict marker that says so.
const OUTCOME: &str = "outcome";

/// Marker items of exactly-once writes: `<prefix><journal position>` in `table`'s `id`.
#[derive(Debug, Clone)]
pub struct Markers {
    /// The metadata table.
    pub table: String,
    /// `applied#<migration number>#<run id>#`.
    pub prefix: String,
}

impl Markers {
    /// The markers of migration `number`'s run `run_id`.
    pub fn new(table: &str, number: u64, run_id: &str) -> Markers {
        Markers {
            table: table.to_owned(),
            prefix: format!("{}{run_id}#", Markers::migration_prefix(number)),
        }
    }

    /// The prefix shared by every marker of migration `number`, whatever the run.
    pub fn migration_prefix(number: u64) -> String {
        format!("applied#{number:020}#")
    }

    /// The journal positions, from `from` on, whose marker exists, and what it says: the
    /// exactly-once writes of this run that were settled.
    pub async fn existing(
        &self,
        client: &Client,
        policy: &RetryPolicy,
        from: u64,
    ) -> Result<HashMap<u64, Marked>> {
        let mut positions = HashMap::new();
        let mut start = None;
        loop {
            let page = policy
                .run(|| {
                    client
                        .scan()
                        .table_name(&self.table)
                        .consistent_read(true)
                        .filter_expression("begins_with(#id, :prefix) AND #id >= :from")
                        .expression_attribute_names("#id", "id")
                        .expression_attribute_values(
                            ":prefix",
                            AttributeValue::S(self.prefix.clone()),
                        )
                        .expression_attribute_values(":from", AttributeValue::S(self.id(from)))
                        .set_exclusive_start_key(start.clone())
                        .send()
                })
                .await
                .map_err(|e| {
                    anyhow!(
                        "cannot read the exactly-once markers in `{}`: {}",
                        self.table,
                        error_code(&e)
                    )
                })?;
            for item in page.items() {
                let position = match item.get("id") {
                    Some(AttributeValue::S(id)) => id
                        .strip_prefix(&self.prefix)
                        .and_then(|p| p.parse::<u64>().ok()),
                    _ => None,
                };
                let marked = match item.get(OUTCOME) {
                    Some(AttributeValue::S(outcome)) if outcome == "conflict" => Marked::Conflict,
                    _ => Marked::Applied,
                };
                positions.extend(position.map(|p| (p, marked)));
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(positions);
            }
        }
    }

    /// The id of the marker of the record at journal `position` (zero-padded: ids sort like
    /// positions).
    fn id(&self, position: u64) -> String {
        format!("{}{position:020}", self.prefix)
    }

    /// Records that the exactly-once record at journal `position` found its condition false.
    /// Put before the item's next record is sent, so that a resume knows the record settled
    /// (and is not tempted to try it again on an item changed by later records).
    pub async fn put_conflict(
        &self,
        client: &Client,
        policy: &RetryPolicy,
        capacity: &Capacity,
        position: u64,
    ) -> Result<()> {
        let mut item = self.item(position);
        item.insert(OUTCOME.to_owned(), AttributeValue::S("conflict".into()));
        capacity.before_write().await;
        let output = policy
            .run(|| {
                client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item.clone()))
                    .return_consumed_capacity(
                        aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total,
                    )
                    .send()
            })
            .await
            .map_err(|e| {
                anyhow!(
                    "cannot write a conflict marker in `{}`: {}",
                    self.table,
                    error_code(&e)
                )
            })?;
        capacity.wrote(
            output
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or(0.0),
        );
        Ok(())
    }

    /// The marker item of the record at journal `position`.
    pub fn item(&self, position: u64) -> HashMap<String, AttributeValue> {
        HashMap::from([("id".to_owned(), AttributeValue::S(self.id(position)))])
    }
}
