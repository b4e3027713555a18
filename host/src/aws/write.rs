//! Writes: one item (`PutItem`, `UpdateItem`, `DeleteItem`), one item exactly once (a
//! transaction with a marker item), and batches of puts and deletes (`BatchWriteItem`).

use std::collections::HashMap;

use anyhow::{anyhow, bail, Result};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, WriteRequest};
use aws_sdk_dynamodb::Client;

use super::capacity::Capacity;
use super::partiql::Statement;
use super::retry::{error_code, is_conditional_check_failed, is_transient, RetryPolicy};

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

/// Why a write failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Its condition did not hold; nothing was written.
    #[error("condition check failed")]
    ConditionFailed,
    /// DynamoDB refused the request with an error a retry cannot change (a validation error,
    /// say): nothing was written.
    #[error("{0}")]
    Refused(String),
    /// Anything else, after retries.
    #[error("{0}")]
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
        } else if matches!(error, SdkError::ServiceError(_)) && !is_transient(&error) {
            WriteError::Refused(error_code(&error))
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
    use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
    let Some((marker_table, marker_item)) = marker else {
        return write_one(client, policy, capacity, table, write, expression)
            .await
            .map(|()| Written::Applied);
    };
    let marker = TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(marker_table)
                .set_item(Some(marker_item))
                .condition_expression("attribute_not_exists(#id)")
                .expression_attribute_names("#id", "id")
                .build()
                .map_err(build_failed)?,
        )
        .build();
    let items = vec![transact_item(table, write, expression)?, marker];
    match transact(client, policy, capacity, items).await {
        Ok(()) => Ok(Written::Applied),
        Err(TransactError::Conditions(failed)) if failed.contains(&1) => {
            Ok(Written::AlreadyApplied)
        }
        Err(TransactError::Conditions(_)) => Err(WriteError::ConditionFailed),
        Err(TransactError::Write(error)) => Err(error),
    }
}

fn build_failed(error: aws_sdk_dynamodb::error::BuildError) -> WriteError {
    WriteError::Failed(error.to_string())
}

/// `write` on `table` as one item of a transaction.
pub fn transact_item(
    table: &str,
    write: &SingleWrite,
    expression: &Expression,
) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, WriteError> {
    use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
    let Expression {
        condition,
        names,
        values,
    } = expression;
    // The transaction items are distinct types with the same expression setters.
    macro_rules! with_expression {
        ($builder:expr) => {
            $builder
                .table_name(table)
                .set_condition_expression(condition.clone())
                .set_expression_attribute_names(names.clone())
                .set_expression_attribute_values(values.clone())
                .build()
                .map_err(build_failed)?
        };
    }
    Ok(match write {
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
    })
}

/// A transaction item that writes nothing and requires `expression`'s condition of the item
/// with `key` in `table`.
pub fn condition_check(
    table: &str,
    key: HashMap<String, AttributeValue>,
    expression: &Expression,
) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, WriteError> {
    use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_condition_expression(expression.condition.clone())
        .set_expression_attribute_names(expression.names.clone())
        .set_expression_attribute_values(expression.values.clone())
        .build()
        .map_err(build_failed)?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// Why a transaction wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactError {
    /// The conditions of these items (by index) did not hold.
    Conditions(Vec<usize>),
    /// Anything else, after retries.
    Write(WriteError),
}

/// Sends `items` in one `TransactWriteItems`: all written, or none. A transaction cancelled by
/// a conflicting one or by throttling is sent again; one cancelled by conditions says which.
pub async fn transact(
    client: &Client,
    policy: &RetryPolicy,
    capacity: &Capacity,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> Result<(), TransactError> {
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
                return Ok(());
            }
            Err(error) => error,
        };
        let Some(reasons) = cancellation_reasons(&error) else {
            return Err(TransactError::Write(WriteError::from(error)));
        };
        let failed: Vec<usize> = (0..reasons.len())
            .filter(|&i| reasons[i] == CONDITION_FAILED)
            .collect();
        if !failed.is_empty() {
            return Err(TransactError::Conditions(failed));
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
            return Err(TransactError::Write(WriteError::Failed(format!(
                "transaction cancelled: {}",
                reasons.join(", ")
            ))));
        }
        tokio::time::sleep(policy.backoff(attempt)).await;
    }
}

/// Writes `requests` (at most 25 in all) with `BatchWriteItem`, retrying what DynamoDB leaves
/// unprocessed with backoff and jitter until everything is written. A request DynamoDB refuses
/// (one invalid write refuses the whole batch) is [`WriteError::Refused`]: nothing of it was
/// written.
pub async fn batch_write(
    client: &Client,
    policy: &RetryPolicy,
    capacity: &Capacity,
    mut requests: HashMap<String, Vec<WriteRequest>>,
) -> Result<(), WriteError> {
    // Throttled batches can take a while to drain: allow twice the usual attempts.
    let max_rounds = policy.max_attempts * 2;
    let mut round = 0;
    loop {
        let writes = requests.values().map(Vec::len).sum();
        let output = capacity
            .metered_batch(policy, writes, || {
                client
                    .batch_write_item()
                    .set_request_items(Some(requests.clone()))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
            })
            .await
            .map_err(|e| match WriteError::from(e) {
                WriteError::Refused(why) => WriteError::Refused(format!("BatchWriteItem: {why}")),
                other => WriteError::Failed(format!("BatchWriteItem failed: {other}")),
            })?;
        requests = output
            .unprocessed_items
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, writes)| !writes.is_empty())
            .collect();
        if requests.is_empty() {
            return Ok(());
        }
        round += 1;
        if round >= max_rounds {
            let left: usize = requests.values().map(Vec::len).sum();
            return Err(WriteError::Failed(format!(
                "BatchWriteItem still left {left} writes unprocessed after {round} rounds"
            )));
        }
        tokio::time::sleep(policy.backoff(round)).await;
    }
}

/// How one statement of a batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementOutcome {
    /// It was applied.
    Applied,
    /// Its condition did not hold (for an `UPDATE`: the item does not exist); nothing was written.
    ConditionFailed,
    /// Anything else, after retries.
    Failed(String),
}

/// Runs `statements` (at most 25, on distinct items, writes that leave the same item when
/// repeated) in one `BatchExecuteStatement`. Errors come back per statement: a statement that
/// was throttled or hit a transient failure is sent again, with the others that were, after a
/// backoff with jitter; the outcomes are in the order of `statements`.
pub async fn batch_statements(
    client: &Client,
    policy: &RetryPolicy,
    capacity: &Capacity,
    statements: &[Statement],
) -> Result<Vec<StatementOutcome>> {
    use aws_sdk_dynamodb::types::{BatchStatementErrorCodeEnum as Code, BatchStatementRequest};
    let mut outcomes: Vec<Option<StatementOutcome>> = vec![None; statements.len()];
    let mut pending: Vec<usize> = (0..statements.len()).collect();
    // Throttled statements can take a while to drain: allow twice the usual attempts.
    let max_rounds = policy.max_attempts * 2;
    let mut round = 0;
    while !pending.is_empty() {
        let requests = pending
            .iter()
            .map(|&i| {
                BatchStatementRequest::builder()
                    .statement(&statements[i].text)
                    .set_parameters(Some(statements[i].parameters.clone()))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = capacity
            .metered_batch(policy, pending.len(), || {
                client
                    .batch_execute_statement()
                    .set_statements(Some(requests.clone()))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
            })
            .await
            .map_err(|e| anyhow!("BatchExecuteStatement failed: {}", error_code(&e)))?;
        if output.responses().len() != pending.len() {
            bail!(
                "BatchExecuteStatement answered {} of {} statements",
                output.responses().len(),
                pending.len()
            );
        }
        let mut again = Vec::new();
        for (&i, response) in pending.iter().zip(output.responses()) {
            outcomes[i] = match response.error() {
                None => Some(StatementOutcome::Applied),
                Some(error) => match error.code() {
                    Some(Code::ConditionalCheckFailed) => Some(StatementOutcome::ConditionFailed),
                    Some(
                        Code::ThrottlingError
                        | Code::ProvisionedThroughputExceeded
                        | Code::RequestLimitExceeded
                        | Code::InternalServerError
                        | Code::TransactionConflict,
                    ) if round + 1 < max_rounds => {
                        again.push(i);
                        None
                    }
                    code => Some(StatementOutcome::Failed(format!(
                        "{}: {}",
                        code.map_or("unknown error", |c| c.as_str()),
                        error.message().unwrap_or_default()
                    ))),
                },
            };
        }
        pending = again;
        if !pending.is_empty() {
            round += 1;
            tokio::time::sleep(policy.backoff(round)).await;
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|outcome| outcome.expect("every statement settled"))
        .collect())
}
