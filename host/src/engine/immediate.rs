//! The guest's `dynamodb` import: immediate get/put/update/delete/query on the tables the
//! migration declared, and nothing else.
//!
//! Guest calls are synchronous; each blocks its worker thread on the tokio runtime that owns
//! the client. Requests go through the same retry policy as the rest of the host.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::Client;
use tokio::runtime::Handle;

use super::bindings::arena;
use super::bindings::drift::migration::dynamodb::{
    self as wit_db, DbError, QueryInput, QueryOutput,
};
use super::bindings::wit;
use super::sandbox::HostState;
use crate::aws::capacity::Capacity;
use crate::aws::convert::{from_aws_item, to_aws_item};
use crate::aws::retry::RetryPolicy;
use crate::aws::write::{write_one, Expression, SingleWrite, WriteError};
use crate::model::action::Tables;
use crate::model::item::Item;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use drift_value::expression::is_repeatable;

/// Most items one `query` call returns.
const MAX_QUERY_PAGE: u32 = 1000;

/// DynamoDB access for guests of one run.
pub struct ImmediateDb {
    /// The client.
    pub client: Client,
    /// The runtime the client's futures run on.
    pub handle: Handle,
    /// Retries for throttling and transient failures.
    pub policy: RetryPolicy,
    /// The run's read and write budgets (`--max-rcu`, `--max-wcu`): guests share them.
    pub capacity: Capacity,
    /// Writes are refused (`plan` writes nothing); reads go through.
    pub read_only: bool,
}

/// What a guest may reach: the tables it declared, and DynamoDB if the run is online.
#[derive(Clone)]
pub struct GuestContext {
    /// Tables the guest may use.
    pub tables: Tables,
    /// `None` offline (`exec`): every immediate operation is refused.
    pub db: Option<Arc<ImmediateDb>>,
    /// The schemas of those tables, when known: each action is then checked against them
    /// (see [`super::validate`]) before it leaves the engine.
    pub schemas: Option<Arc<crate::model::schema::Schemas>>,
}

type DbResult<T> = Result<T, DbError>;

impl HostState {
    /// One immediate put/update/delete, through the same code as the apply.
    /// One immediate put/update/delete, through the same code as the apply. A write that
    /// would not leave the same item when repeated (a condition, `ADD`, arithmetic, ...) is
    /// sent again only when DynamoDB rejected it (throttling): after a timeout its outcome is
    /// unknown, and the guest gets that error rather than a write that may land twice.
    fn write(
        &mut self,
        table: &str,
        write: SingleWrite,
        condition: Option<String>,
        attributes: wit::ExpressionAttributes,
    ) -> DbResult<()> {
        let (db, table) = self.db(table)?;
        if db.read_only {
            return Err(DbError::Refused(
                "immediate writes are refused in `plan`, which writes nothing".into(),
            ));
        }
        let (names, values) = expression_parts(attributes)?;
        let repeatable = condition.is_none()
            && match &write {
                SingleWrite::Update(_, expression) => is_repeatable(expression),
                SingleWrite::Put(_) | SingleWrite::Delete(_) => true,
            };
        let policy = if repeatable {
            db.policy.clone()
        } else {
            db.policy.rejections_only()
        };
        let expression = Expression {
            condition,
            names,
            values,
        };
        let writing = write_one(
            &db.client,
            &policy,
            &db.capacity,
            &table,
            &write,
            &expression,
        );
        self.wait(&db.handle, writing).map_err(db_error)
    }

    fn db(&self, table: &str) -> DbResult<(Arc<ImmediateDb>, String)> {
        let db = self.context.db.clone().ok_or_else(|| {
            DbError::Refused(
                "immediate DynamoDB operations are not available offline (exec)".into(),
            )
        })?;
        let table = self
            .context
            .tables
            .resolve(Some(table.to_owned()))
            .map_err(DbError::Refused)?;
        Ok((db, table))
    }
}

fn decode(item: wit::Item, what: &str) -> DbResult<Item> {
    arena::decode(item).map_err(|e| DbError::Refused(format!("{what}: {e}")))
}

/// `ExpressionAttributeNames` and `ExpressionAttributeValues` of a request, `None` when empty.
type ExpressionParts = (
    Option<HashMap<String, String>>,
    Option<HashMap<String, AttributeValue>>,
);

fn expression_parts(attributes: wit::ExpressionAttributes) -> DbResult<ExpressionParts> {
    let names: HashMap<_, _> = attributes.names.into_iter().collect();
    let values = decode(attributes.values, "expression values")?;
    Ok((
        (!names.is_empty()).then_some(names),
        (!values.is_empty()).then(|| to_aws_item(&values)),
    ))
}

fn failure<E, R>(error: SdkError<E, R>) -> DbError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    db_error(WriteError::from(error))
}

fn db_error(error: WriteError) -> DbError {
    match error {
        WriteError::ConditionFailed => DbError::ConditionalCheckFailed,
        WriteError::Failed(why) | WriteError::Refused(why) => DbError::Failed(why),
    }
}

impl wit_db::Host for HostState {
    fn get_item(&mut self, table: String, key: wit::Item) -> DbResult<Option<wit::Item>> {
        let (db, table) = self.db(&table)?;
        let key = to_aws_item(&decode(key, "key")?);
        let reading = db.capacity.metered_read(&db.policy, || {
            db.client
                .get_item()
                .table_name(&table)
                .set_key(Some(key.clone()))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
        });
        let output = self.wait(&db.handle, reading).map_err(failure)?;
        output
            .item
            .map(|item| from_aws_item(&item).map(|item| arena::encode(&item)))
            .transpose()
            .map_err(|e| DbError::Failed(format!("{e:#}")))
    }

    fn put_item(
        &mut self,
        table: String,
        item: wit::Item,
        condition: Option<String>,
        attributes: wit::ExpressionAttributes,
    ) -> DbResult<()> {
        let item = to_aws_item(&decode(item, "item")?);
        self.write(&table, SingleWrite::Put(item), condition, attributes)
    }

    fn update_item(
        &mut self,
        table: String,
        key: wit::Item,
        update_expression: String,
        condition: Option<String>,
        attributes: wit::ExpressionAttributes,
    ) -> DbResult<()> {
        let key = to_aws_item(&decode(key, "key")?);
        self.write(
            &table,
            SingleWrite::Update(key, update_expression),
            condition,
            attributes,
        )
    }

    fn delete_item(
        &mut self,
        table: String,
        key: wit::Item,
        condition: Option<String>,
        attributes: wit::ExpressionAttributes,
    ) -> DbResult<()> {
        let key = to_aws_item(&decode(key, "key")?);
        self.write(&table, SingleWrite::Delete(key), condition, attributes)
    }

    fn query(&mut self, input: QueryInput) -> DbResult<QueryOutput> {
        let (db, table) = self.db(&input.table)?;
        let (names, values) = expression_parts(input.attributes)?;
        let start = input
            .exclusive_start_key
            .map(|key| decode(key, "exclusive-start-key").map(|key| to_aws_item(&key)))
            .transpose()?;
        let limit = input
            .limit
            .unwrap_or(MAX_QUERY_PAGE)
            .clamp(1, MAX_QUERY_PAGE) as i32;
        let querying = db.capacity.metered_read(&db.policy, || {
            db.client
                .query()
                .table_name(&table)
                .set_index_name(input.index.clone())
                .key_condition_expression(&input.key_condition)
                .set_filter_expression(input.filter.clone())
                .set_expression_attribute_names(names.clone())
                .set_expression_attribute_values(values.clone())
                .set_exclusive_start_key(start.clone())
                .scan_index_forward(!input.descending)
                .limit(limit)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
        });
        let output = self.wait(&db.handle, querying).map_err(failure)?;
        let convert =
            |item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
                from_aws_item(item)
                    .map(|item| arena::encode(&item))
                    .map_err(|e| DbError::Failed(format!("{e:#}")))
            };
        Ok(QueryOutput {
            items: output
                .items()
                .iter()
                .map(convert)
                .collect::<DbResult<_>>()?,
            last_evaluated_key: output.last_evaluated_key().map(convert).transpose()?,
        })
    }
}
