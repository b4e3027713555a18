//! DynamoDB Streams: a table's stream (found, or enabled), its shards, and reading its
//! records, with the changes converted to our items.
//!
//! The streams client is built like the DynamoDB one ([`crate::aws::connect`]): the same
//! endpoint (DynamoDB Local serves both), region and credentials, the SDK's retries off so
//! that [`RetryPolicy`] decides.

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams::error::SdkError;
use aws_sdk_dynamodbstreams::types::{AttributeValue, OperationType, ShardIteratorType};

use super::client::{sdk_config, ConnectOptions};
use super::retry::{error_code, RetryPolicy};
use super::table::wait_active;
use crate::model::item::{from_json_item, Item, Value};
use serde_json::Value as Json;

/// The DynamoDB Streams client.
pub type StreamsClient = aws_sdk_dynamodbstreams::Client;

/// Records asked for in one `GetRecords` (its maximum).
const RECORDS_PER_READ: i32 = 1000;

/// A table's stream as DescribeTable shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStream {
    /// The stream's ARN.
    pub arn: String,
    /// `NEW_IMAGE`, `NEW_AND_OLD_IMAGES`, `KEYS_ONLY` or `OLD_IMAGE`.
    pub view: String,
}

impl TableStream {
    /// Whether its records carry the item as written (what a live run migrates).
    pub fn has_new_images(&self) -> bool {
        matches!(self.view.as_str(), "NEW_IMAGE" | "NEW_AND_OLD_IMAGES")
    }
}

/// Connects to DynamoDB Streams where `options` say DynamoDB is.
pub async fn connect_streams(options: &ConnectOptions) -> Result<StreamsClient> {
    Ok(StreamsClient::new(&sdk_config(options).await?))
}

/// The stream of `table`, if it has one enabled.
pub async fn table_stream(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
) -> Result<Option<TableStream>> {
    let described = policy
        .run(|| client.describe_table().table_name(table).send())
        .await
        .map_err(|e| anyhow!("cannot describe table `{table}`: {}", error_code(&e)))?;
    let Some(description) = described.table() else {
        return Ok(None);
    };
    let enabled = description
        .stream_specification()
        .is_some_and(|s| s.stream_enabled());
    Ok(match (enabled, description.latest_stream_arn()) {
        (true, Some(arn)) => Some(TableStream {
            arn: arn.to_owned(),
            view: description
                .stream_specification()
                .and_then(|s| s.stream_view_type())
                .map_or("NEW_AND_OLD_IMAGES", |v| v.as_str())
                .to_owned(),
        }),
        _ => None,
    })
}

/// Enables a `NEW_AND_OLD_IMAGES` stream on `table` and waits until the table is active.
pub async fn enable_stream(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
) -> Result<TableStream> {
    let specification = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()?;
    policy
        .run(|| {
            client
                .update_table()
                .table_name(table)
                .stream_specification(specification.clone())
                .send()
        })
        .await
        .map_err(|e| anyhow!("cannot enable a stream on `{table}`: {}", error_code(&e)))?;
    wait_active(client, policy, table).await?;
    table_stream(client, policy, table)
        .await?
        .with_context(|| format!("`{table}` shows no stream after it was enabled"))
}

/// One shard of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// Its id.
    pub id: String,
    /// The shard it was split from, if any.
    pub parent: Option<String>,
    /// Whether it is closed (has an ending sequence number): no record will be added.
    pub closed: bool,
}

/// Every shard of the stream `arn` (DescribeStream, page by page).
pub async fn shards(
    streams: &StreamsClient,
    policy: &RetryPolicy,
    arn: &str,
) -> Result<Vec<ShardInfo>> {
    let mut shards = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let described = policy
            .run(|| {
                streams
                    .describe_stream()
                    .stream_arn(arn)
                    .set_exclusive_start_shard_id(after.clone())
                    .send()
            })
            .await
            .map_err(|e| anyhow!("cannot describe the stream {arn}: {}", error_code(&e)))?;
        let Some(description) = described.stream_description() else {
            bail!("the stream {arn} has no description");
        };
        for shard in description.shards() {
            shards.push(ShardInfo {
                id: shard.shard_id().unwrap_or_default().to_owned(),
                parent: shard.parent_shard_id().map(str::to_owned),
                closed: shard
                    .sequence_number_range()
                    .and_then(|r| r.ending_sequence_number())
                    .is_some(),
            });
        }
        match description.last_evaluated_shard_id() {
            Some(last) => after = Some(last.to_owned()),
            None => return Ok(shards),
        }
    }
}

/// Where to start reading a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardStart {
    /// After the newest record: only what is added from now on.
    Latest,
    /// The oldest record the stream keeps.
    TrimHorizon,
    /// The record with this sequence number.
    At(String),
    /// Just after the record with this sequence number.
    After(String),
}

/// Why a shard cannot be read from where it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// The records wanted are gone: a stream keeps them 24 hours.
    #[error("the stream no longer holds the records wanted (a stream keeps them 24 hours)")]
    Trimmed,
    /// The iterator expired (15 minutes without use): ask for a new one.
    #[error("the shard iterator expired")]
    Expired,
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// An iterator on shard `shard` of the stream `arn`, from `start`; `None` if the shard is
/// gone from the stream (older than 24 hours).
pub async fn shard_iterator(
    streams: &StreamsClient,
    policy: &RetryPolicy,
    arn: &str,
    shard: &str,
    start: &ShardStart,
) -> Result<Option<String>, ShardError> {
    let (kind, sequence) = match start {
        ShardStart::Latest => (ShardIteratorType::Latest, None),
        ShardStart::TrimHorizon => (ShardIteratorType::TrimHorizon, None),
        ShardStart::At(s) => (ShardIteratorType::AtSequenceNumber, Some(s.clone())),
        ShardStart::After(s) => (ShardIteratorType::AfterSequenceNumber, Some(s.clone())),
    };
    let answer = policy
        .run(|| {
            streams
                .get_shard_iterator()
                .stream_arn(arn)
                .shard_id(shard)
                .shard_iterator_type(kind.clone())
                .set_sequence_number(sequence.clone())
                .send()
        })
        .await;
    match answer {
        Ok(output) => Ok(output.shard_iterator().map(str::to_owned)),
        Err(SdkError::ServiceError(e)) if e.err().is_trimmed_data_access_exception() => {
            Err(ShardError::Trimmed)
        }
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => Ok(None),
        Err(e) => Err(ShardError::Other(anyhow!(
            "cannot read shard {shard} of the stream: {}",
            error_code(&e)
        ))),
    }
}

/// What happened to one item, as a stream record says.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The record's sequence number.
    pub sequence: String,
    /// The item's key.
    pub key: Item,
    /// The item as written (`None` for a removal, or a stream without new images).
    pub image: Option<Item>,
    /// Whether the item was removed.
    pub removed: bool,
    /// When the change was made, approximately (seconds since the epoch).
    pub created: f64,
}

/// One `GetRecords` answer.
#[derive(Debug)]
pub struct Records {
    /// The changes, in the shard's order.
    pub changes: Vec<Change>,
    /// Where to read next; `None` once a closed shard is read to its end.
    pub next: Option<String>,
}

/// Reads the next records from `iterator`.
pub async fn records(
    streams: &StreamsClient,
    policy: &RetryPolicy,
    iterator: &str,
) -> Result<Records, ShardError> {
    /// An answer the SDK read, or one it could not (see below), as it came.
    enum Answer {
        Read(aws_sdk_dynamodbstreams::operation::get_records::GetRecordsOutput),
        Raw(Vec<u8>),
    }
    let answer = policy
        .run(|| async {
            let sent = streams
                .get_records()
                .shard_iterator(iterator)
                .limit(RECORDS_PER_READ)
                .send()
                .await;
            match sent {
                Ok(output) => Ok(Answer::Read(output)),
                // DynamoDB Local writes an empty map in a stream record as `{}`, which the SDK
                // cannot read: such an answer (a 200 the SDK did not understand) is read here.
                Err(SdkError::ServiceError(e)) if e.raw().status().is_success() => Ok(Answer::Raw(
                    e.raw().body().bytes().unwrap_or_default().to_vec(),
                )),
                Err(error) => Err(error),
            }
        })
        .await;
    let output = match answer {
        Ok(Answer::Read(output)) => output,
        Ok(Answer::Raw(body)) => return raw_records(&body).map_err(ShardError::Other),
        Err(SdkError::ServiceError(e)) if e.err().is_expired_iterator_exception() => {
            return Err(ShardError::Expired)
        }
        Err(SdkError::ServiceError(e)) if e.err().is_trimmed_data_access_exception() => {
            return Err(ShardError::Trimmed)
        }
        Err(e) => {
            return Err(ShardError::Other(anyhow!(
                "cannot read the stream: {}",
                error_code(&e)
            )))
        }
    };
    let mut changes = Vec::with_capacity(output.records().len());
    for record in output.records() {
        let Some(data) = record.dynamodb() else {
            continue;
        };
        let key = data
            .keys()
            .map(from_stream_item)
            .transpose()?
            .context("a stream record without the item's key")?;
        changes.push(Change {
            sequence: data.sequence_number().unwrap_or_default().to_owned(),
            key,
            image: data.new_image().map(from_stream_item).transpose()?,
            removed: record.event_name() == Some(&OperationType::Remove),
            created: data
                .approximate_creation_date_time()
                .map_or(0.0, |t| t.as_secs_f64()),
        });
    }
    Ok(Records {
        changes,
        next: output.next_shard_iterator().map(str::to_owned),
    })
}

/// A `GetRecords` answer read from its JSON, an empty attribute value (`{}`) taken for the
/// empty map it stands for.
fn raw_records(body: &[u8]) -> Result<Records> {
    let answer: Json = serde_json::from_slice(body).context("a GetRecords answer is not JSON")?;
    let item = |value: Option<&Json>| -> Result<Option<Item>> {
        value
            .map(|value| from_json_item(&empty_maps_named(value.clone())))
            .transpose()
    };
    let mut changes = Vec::new();
    for record in answer["Records"].as_array().into_iter().flatten() {
        let data = &record["dynamodb"];
        changes.push(Change {
            sequence: data["SequenceNumber"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            key: item(data.get("Keys"))?.context("a stream record without the item's key")?,
            image: item(data.get("NewImage"))?,
            removed: record["eventName"] == "REMOVE",
            created: data["ApproximateCreationDateTime"].as_f64().unwrap_or(0.0),
        });
    }
    Ok(Records {
        changes,
        next: answer["NextShardIterator"].as_str().map(str::to_owned),
    })
}

/// `item` (DynamoDB JSON) with every empty attribute value made an empty map.
fn empty_maps_named(item: Json) -> Json {
    fn value(attribute: Json) -> Json {
        match attribute {
            Json::Object(object) if object.is_empty() => serde_json::json!({ "M": {} }),
            Json::Object(mut object) => {
                if let Some(map) = object.remove("M") {
                    object.insert("M".into(), empty_maps_named(map));
                } else if let Some(Json::Array(list)) = object.remove("L") {
                    object.insert(
                        "L".into(),
                        Json::Array(list.into_iter().map(value).collect()),
                    );
                }
                object.into()
            }
            other => other,
        }
    }
    match item {
        Json::Object(object) => object
            .into_iter()
            .map(|(name, v)| (name, value(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        other => other,
    }
}

fn from_stream_item(
    item: &std::collections::HashMap<String, AttributeValue>,
) -> Result<Item, ShardError> {
    item.iter()
        .map(|(name, value)| Ok((name.clone(), from_stream(value)?)))
        .collect::<Result<Item>>()
        .map_err(ShardError::Other)
}

/// A stream record's value as ours (the streams SDK has its own `AttributeValue`).
fn from_stream(value: &AttributeValue) -> Result<Value> {
    Ok(match value {
        AttributeValue::S(s) => Value::S(s.clone()),
        AttributeValue::N(n) => Value::N(n.clone()),
        AttributeValue::B(b) => Value::B(b.as_ref().to_vec()),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Ss(s) => Value::Ss(s.clone()),
        AttributeValue::Ns(s) => Value::Ns(s.clone()),
        AttributeValue::Bs(s) => Value::Bs(s.iter().map(|b| b.as_ref().to_vec()).collect()),
        AttributeValue::L(list) => Value::L(list.iter().map(from_stream).collect::<Result<_>>()?),
        AttributeValue::M(map) => Value::M(
            map.iter()
                .map(|(name, value)| Ok((name.clone(), from_stream(value)?)))
                .collect::<Result<Item>>()?,
        ),
        other => bail!("unsupported stream attribute value {other:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_with_empty_maps_written_as_empty_objects_is_read() {
        let body = br#"{"Records":[{"eventName":"MODIFY","dynamodb":{
            "ApproximateCreationDateTime":1796636040.000,"Keys":{"id":{"S":"a"}},
            "NewImage":{"id":{"S":"a"},"em":{},"l":{"L":[{},{"L":[]}]},"m":{"M":{"x":{}}}},
            "SequenceNumber":"0001"}},{"eventName":"REMOVE","dynamodb":{
            "Keys":{"id":{"S":"b"}},"SequenceNumber":"0002"}}],"NextShardIterator":"it"}"#;
        let read = raw_records(body).unwrap();
        assert_eq!(read.next.as_deref(), Some("it"));
        let image = read.changes[0].image.clone().unwrap();
        assert_eq!(image.get("em"), Some(&Value::M(Item::new())));
        assert_eq!(
            image.get("l"),
            Some(&Value::L(vec![Value::M(Item::new()), Value::L(vec![])]))
        );
        assert_eq!(
            image.get("m"),
            Some(&Value::M(Item::new().with("x", Value::M(Item::new()))))
        );
        assert_eq!(read.changes[0].created, 1796636040.0);
        assert!(read.changes[1].removed && read.changes[1].image.is_none());
    }

    #[test]
    fn stream_values_convert_like_table_values() {
        use aws_sdk_dynamodbstreams::primitives::Blob;
        let value = AttributeValue::M(
            [
                ("s".to_owned(), AttributeValue::S("x".into())),
                ("n".to_owned(), AttributeValue::N("1.5".into())),
                ("b".to_owned(), AttributeValue::B(Blob::new(vec![1, 2]))),
                (
                    "l".to_owned(),
                    AttributeValue::L(vec![AttributeValue::Null(true), AttributeValue::Bool(true)]),
                ),
                ("ss".to_owned(), AttributeValue::Ss(vec!["a".into()])),
            ]
            .into(),
        );
        let converted = from_stream(&value).unwrap();
        let map = converted.as_map().unwrap();
        assert_eq!(map.get_str("s"), Some("x"));
        assert_eq!(map.get("n"), Some(&Value::N("1.5".into())));
        assert_eq!(map.get("b"), Some(&Value::B(vec![1, 2])));
        assert_eq!(
            map.get("l"),
            Some(&Value::L(vec![Value::Null, Value::Bool(true)]))
        );
        assert_eq!(map.get("ss"), Some(&Value::Ss(vec!["a".into()])));
    }
}
