//! The DynamoDB client: connection options, table key schemas, and the retry policy every
//! request goes through.
//!
//! The SDK's own retries are switched off so that one policy, ours, decides: throttling,
//! 5xx, timeouts and broken connections are retried with exponential backoff and full
//! jitter; anything else is returned at once.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::Region;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput,
    ScalarAttributeType, TableStatus,
};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use aws_sdk_dynamodb::Client;

use crate::capacity::Capacity;
use crate::item::{AttrValue, Item};

/// Where and how to reach DynamoDB.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Endpoint, e.g. `http://127.0.0.1:8000` for DynamoDB Local.
    pub endpoint_url: Option<String>,
    /// Region; otherwise the standard AWS chain decides.
    pub region: Option<String>,
    /// Profile from the AWS config files.
    pub profile: Option<String>,
}

/// Builds a client from the standard AWS configuration chain plus `options`.
pub async fn connect(options: &ConnectOptions) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    } else if options.endpoint_url.is_some() {
        // A local endpoint (DynamoDB Local) works in any region: do not fail for want of one,
        // and do not wait for the instance metadata service either.
        let chain = aws_config::meta::region::RegionProviderChain::first_try(
            aws_config::environment::EnvironmentVariableRegionProvider::new(),
        )
        .or_else(
            aws_config::profile::ProfileFileRegionProvider::builder()
                .profile_name(options.profile.as_deref().unwrap_or("default"))
                .build(),
        )
        .or_else("us-east-1");
        loader = loader.region(chain);
    }
    if let Some(endpoint) = &options.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    let config = loader
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        )
        .load()
        .await;
    Client::new(&config)
}

/// How often and how patiently to retry a request.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt (doubles each time, before jitter).
    pub base: Duration,
    /// Longest backoff.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 12,
            base: Duration::from_millis(50),
            cap: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a random wait between zero and the exponential bound.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let bound = self
            .base
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.cap);
        bound.mul_f64(fastrand::f64())
    }

    /// Runs `request` until it succeeds, fails for good, or runs out of attempts.
    pub async fn run<T, E, R, F, Fut>(&self, mut request: F) -> Result<T, SdkError<E, R>>
    where
        E: ProvideErrorMetadata,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
    {
        let mut attempt = 0;
        loop {
            match request().await {
                Ok(value) => return Ok(value),
                Err(error) if attempt + 1 < self.max_attempts && is_transient(&error) => {
                    tracing::debug!("retrying a DynamoDB request (attempt {})", attempt + 2);
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// Throttling, server errors, timeouts and connection failures: worth another try.
pub fn is_transient<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            matches!(
                code,
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "InternalFailure"
                    | "LimitExceededException"
                    | "TransactionInProgressException"
                    // DynamoDB Local sometimes reports a fresh transaction as a mismatched replay
                    // of its idempotency token. Every transaction drift-host sends is conditional,
                    // and a retry is a new request with a new token, so retrying cannot apply twice.
                    | "IdempotentParameterMismatchException"
            ) || code.is_empty()
        }
        _ => false,
    }
}

/// The error's code, for messages and classification.
pub fn error_code<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => "unknown service error".to_owned(),
            }
        }
        SdkError::TimeoutError(_) => "request timed out".to_owned(),
        SdkError::DispatchFailure(failure) => {
            if failure.is_io() || failure.is_timeout() {
                "cannot reach DynamoDB (connection failed)".to_owned()
            } else {
                format!("request could not be sent: {}", innermost(error))
            }
        }
        SdkError::ResponseError(_) => "malformed or interrupted response".to_owned(),
        SdkError::ConstructionFailure(_) => {
            format!("request could not be built: {}", innermost(error))
        }
        _ => "unknown error".to_owned(),
    }
}

/// The useful message under the SDK's layers: missing credentials said plainly, otherwise the
/// deepest cause.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    loop {
        if cause.to_string().contains("loading credentials") {
            return "no usable AWS credentials (environment variables, profile or instance role)"
                .to_owned();
        }
        match cause.source() {
            Some(next) => cause = next,
            None => return cause.to_string(),
        }
    }
}

/// Whether the error is a failed condition (`ConditionalCheckFailedException`).
pub fn is_conditional_check_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(service) if service.err().code() == Some("ConditionalCheckFailedException"))
}

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

/// Whether a value may be a key attribute (S, N or B).
pub fn is_key_type(value: &AttrValue) -> bool {
    matches!(value, AttrValue::S(_) | AttrValue::N(_) | AttrValue::B(_))
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

/// The optional parts of a single write: condition and placeholders.
#[derive(Debug, Clone, Default)]
pub struct Expression {
    /// Condition expression.
    pub condition: Option<String>,
    /// `#placeholder` → attribute name.
    pub names: Option<HashMap<String, String>>,
    /// `:placeholder` → value.
    pub values: Option<HashMap<String, AttributeValue>>,
}

/// One item write.
#[derive(Debug, Clone)]
pub enum SingleWrite {
    /// `PutItem` of a whole item.
    Put(HashMap<String, AttributeValue>),
    /// `UpdateItem` of the item with this key, with this update expression.
    Update(HashMap<String, AttributeValue>, String),
    /// `DeleteItem` of the item with this key.
    Delete(HashMap<String, AttributeValue>),
}

/// Why a single write failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// Its condition did not hold; nothing was written.
    ConditionFailed,
    /// Anything else, after retries.
    Failed(String),
}

impl<E, R> From<SdkError<E, R>> for WriteError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    fn from(error: SdkError<E, R>) -> WriteError {
        if is_conditional_check_failed(&error) {
            WriteError::ConditionFailed
        } else {
            WriteError::Failed(error_code(&error))
        }
    }
}

/// Performs one put, update or delete on `table` through `policy`.
pub async fn write_one(
    client: &Client,
    policy: &RetryPolicy,
    capacity: &Capacity,
    table: &str,
    write: &SingleWrite,
    expression: &Expression,
) -> Result<(), WriteError> {
    let Expression {
        condition,
        names,
        values,
    } = expression;
    // The three request builders are distinct types with the same expression setters.
    macro_rules! send_with_expression {
        ($request:expr) => {
            policy
                .run(|| {
                    $request
                        .table_name(table)
                        .set_condition_expression(condition.clone())
                        .set_expression_attribute_names(names.clone())
                        .set_expression_attribute_values(values.clone())
                        .return_consumed_capacity(ReturnConsumedCapacity::Total)
                        .send()
                })
                .await
                .map(|output| {
                    let units = output.consumed_capacity().and_then(|c| c.capacity_units());
                    capacity.wrote(units.unwrap_or(0.0))
                })
                .map_err(WriteError::from)
        };
    }
    capacity.before_write().await;
    match write {
        SingleWrite::Put(item) => {
            send_with_expression!(client.put_item().set_item(Some(item.clone())))
        }
        SingleWrite::Update(key, update) => {
            send_with_expression!(client
                .update_item()
                .set_key(Some(key.clone()))
                .update_expression(update))
        }
        SingleWrite::Delete(key) => {
            send_with_expression!(client.delete_item().set_key(Some(key.clone())))
        }
    }
}

/// The cancellation reason of a transaction item whose condition did not hold.
pub const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// The reason codes, item by item, of a cancelled transaction (`None` for an item that was
/// fine); `None` when the error is not a cancellation.
pub fn cancellation_reasons<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<Vec<String>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match error {
        SdkError::ServiceError(service) => match service.err() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => Some(
                cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None").to_owned())
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a write made a change, or found its marker: made by an earlier attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// This call wrote it.
    Applied,
    /// The marker was there: an earlier attempt (or an earlier run) wrote it.
    AlreadyApplied,
}

/// Performs one put, update or delete on `table`. With a `marker` (table and item, written
/// only if absent) the write goes in one transaction with the marker's put, so it happens at
/// most once per marker, however often it is retried; without one it is [`write_one`].
pub async fn write_once(
    client: &Client,
    policy: &RetryPolicy,
    capacity: &Capacity,
    table: &str,
    write: &SingleWrite,
    expression: &Expression,
    marker: Option<(&str, HashMap<String, AttributeValue>)>,
) -> Result<Written, WriteError> {
    use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
    let Some((marker_table, marker_item)) = marker else {
        return write_one(client, policy, capacity, table, write, expression)
            .await
            .map(|()| Written::Applied);
    };
    let Expression {
        condition,
        names,
        values,
    } = expression;
    let build = |error: aws_sdk_dynamodb::error::BuildError| WriteError::Failed(error.to_string());
    // The three transaction items are distinct types with the same expression setters.
    macro_rules! with_expression {
        ($builder:expr) => {
            $builder
                .table_name(table)
                .set_condition_expression(condition.clone())
                .set_expression_attribute_names(names.clone())
                .set_expression_attribute_values(values.clone())
                .build()
                .map_err(build)?
        };
    }
    let item = match write {
        SingleWrite::Put(item) => TransactWriteItem::builder()
            .put(with_expression!(Put::builder().set_item(Some(item.clone()))))
            .build(),
        SingleWrite::Update(key, update) => TransactWriteItem::builder()
            .update(with_expression!(Update::builder()
                .set_key(Some(key.clone()))
                .update_expression(update)))
            .build(),
        SingleWrite::Delete(key) => TransactWriteItem::builder()
            .delete(with_expression!(
                Delete::builder().set_key(Some(key.clone()))
            ))
            .build(),
    };
    let marker = TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(marker_table)
                .set_item(Some(marker_item))
                .condition_expression("attribute_not_exists(#id)")
                .expression_attribute_names("#id", "id")
                .build()
                .map_err(build)?,
        )
        .build();
    let items = vec![item, marker];
    let mut attempt = 0;
    loop {
        capacity.before_write().await;
        let result = policy
            .run(|| {
                client
                    .transact_write_items()
                    .set_transact_items(Some(items.clone()))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
            })
            .await;
        let error = match result {
            Ok(output) => {
                capacity.wrote_all(output.consumed_capacity());
                return Ok(Written::Applied);
            }
            Err(error) => error,
        };
        let Some(reasons) = cancellation_reasons(&error) else {
            return Err(WriteError::from(error));
        };
        let failed = |i: usize| reasons.get(i).map(String::as_str) == Some(CONDITION_FAILED);
        if failed(1) {
            return Ok(Written::AlreadyApplied);
        }
        if failed(0) {
            return Err(WriteError::ConditionFailed);
        }
        // Cancelled by a conflicting transaction or by throttling: try again; anything else
        // (a validation error, an item collection too large) would fail again.
        let transient = reasons.iter().any(|r| {
            matches!(
                r.as_str(),
                "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"
            )
        });
        attempt += 1;
        if !transient || attempt >= policy.max_attempts {
            return Err(WriteError::Failed(format!(
                "transaction cancelled: {}",
                reasons.join(", ")
            )));
        }
        tokio::time::sleep(policy.backoff(attempt)).await;
    }
}
