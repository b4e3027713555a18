//! The guest's `dynamodb` import: immediate get/put/update/delete/query on the tables the
//! migration declared, and nothing else, answered by a [`TableStore`]: DynamoDB in a run
//! ([`ImmediateDb`]), the case's tables in memory in `drift-host test`, none in `exec`.
//!
//! The import keeps its own state and reaches it through a [`DbView`] onto the store's data
//! (as wasmtime-wasi does with `WasiView`), so it is linked by [`add_to_linker`] and tested
//! without the rest of the sandbox.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use aws_sdk_dynamodb::Client;
use drift_value::expression::is_repeatable;
use tokio::runtime::Handle;
use wasmtime::component::{HasData, Linker};

use super::bindings::arena;
use super::bindings::drift::migration::dynamodb::{
    self as wit_db, DbError, QueryInput, QueryOutput,
};
use super::bindings::wit;
use crate::aws::capacity::Capacity;
use crate::aws::convert::{from_aws_item, to_aws_item};
use crate::aws::retry::RetryPolicy;
use crate::aws::write::{write_one, Expression, SingleWrite, WriteError};
use crate::model::action::Tables;
use crate::model::item::Item;

/// Most items one `query` call returns.
pub const MAX_QUERY_PAGE: u32 = 1000;

/// What an immediate operation gives the guest.
pub type DbResult<T> = Result<T, DbError>;

/// One immediate write, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum ImmediateWrite {
    /// `put-item`.
    Put(Item),
    /// `update-item`: the key and the update expression.
    Update(Item, String),
    /// `delete-item`: the key.
    Delete(Item),
}

/// A write's condition and the placeholders of its expressions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteExpressions {
    /// The condition expression, if any.
    pub condition: Option<String>,
    /// `ExpressionAttributeNames`.
    pub names: BTreeMap<String, String>,
    /// `ExpressionAttributeValues`.
    pub values: Item,
}

/// A `query`, decoded, its table resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ImmediateQuery {
    /// The table.
    pub table: String,
    /// A secondary index of it, if any.
    pub index: Option<String>,
    /// The key condition expression.
    pub key_condition: String,
    /// The filter expression, if any.
    pub filter: Option<String>,
    /// `ExpressionAttributeNames`.
    pub names: BTreeMap<String, String>,
    /// `ExpressionAttributeValues`.
    pub values: Item,
    /// Where the previous page ended.
    pub start: Option<Item>,
    /// Whether the sort key descends.
    pub descending: bool,
    /// Most items on the page, 1 to [`MAX_QUERY_PAGE`].
    pub limit: u32,
}

/// One page of a query's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryPage {
    /// The items.
    pub items: Vec<Item>,
    /// Where the next page starts; `None` on the last page.
    pub last_key: Option<Item>,
}

/// Where a guest's immediate operations go (one implementation per backend, as Spin's
/// key-value factor has a store per backend). Tables arrive resolved and declared.
pub trait TableStore: Send + Sync {
    /// The item of `table` with `key`, if any, read consistently.
    fn get_item(&self, table: &str, key: &Item) -> DbResult<Option<Item>>;
    /// One put, update or delete.
    fn write(
        &self,
        table: &str,
        write: ImmediateWrite,
        expressions: WriteExpressions,
    ) -> DbResult<()>;
    /// One page of a query.
    fn query(&self, query: &ImmediateQuery) -> DbResult<QueryPage>;
}

/// What a guest may reach: the tables it declared, and a store that answers for them.
#[derive(Clone)]
pub struct GuestContext {
    /// Tables the guest may use.
    pub tables: Tables,
    /// `None` (`exec`): every immediate operation is refused.
    pub store: Option<Arc<dyn TableStore>>,
    /// The schemas of those tables, when known: each action is then checked against them
    /// (see [`super::validate`]) before it leaves the engine.
    pub schemas: Option<Arc<crate::model::schema::Schemas>>,
}

/// The import's view onto a store's data: what the guest may reach, and the time its calls
/// spent waiting on the store, which the sandbox adds to the CPU deadline.
pub struct DbView<'a> {
    /// What the guest may reach.
    pub context: &'a GuestContext,
    /// Time spent in the store during the current call.
    pub blocked: &'a mut Duration,
}

/// Store data that carries the `dynamodb` import.
pub trait DbImportView: Send {
    /// The import's view.
    fn db(&mut self) -> DbView<'_>;
}

/// Binds the import to [`DbView`] for wasmtime's generated `add_to_linker`.
pub struct HasDb;

impl HasData for HasDb {
    type Data<'a> = DbView<'a>;
}

/// Adds the `dynamodb` import to `linker`.
pub fn add_to_linker<T: DbImportView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wit_db::add_to_linker::<T, HasDb>(linker, |data| data.db())
}

impl DbView<'_> {
    /// The store and the resolved table, or why the guest may not reach them.
    fn store(&self, table: &str) -> DbResult<(Arc<dyn TableStore>, String)> {
        let store = self.context.store.clone().ok_or_else(|| {
            DbError::Refused(
                "immediate DynamoDB operations are not available offline (exec)".into(),
            )
        })?;
        let table = self
            .context
            .tables
            .resolve(Some(table.to_owned()))
            .map_err(DbError::Refused)?;
        Ok((store, table))
    }

    /// Runs `operation` on the store, counting the time it takes as blocked.
    fn timed<T>(&mut self, operation: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let output = operation();
        *self.blocked += started.elapsed();
        output
    }

    fn write(
        &mut self,
        table: &str,
        write: ImmediateWrite,
        condition: Option<String>,
        attributes: wit::ExpressionAttributes,
    ) -> DbResult<()> {
        let (store, table) = self.store(table)?;
        let expressions = WriteExpressions {
            condition,
            names: attributes.names.into_iter().collect(),
            values: decode(attributes.values, "expression values")?,
        };
        self.timed(|| store.write(&table, write, expressions))
    }
}

fn decode(item: wit::Item, what: &str) -> DbResult<Item> {
    arena::decode(item).map_err(|e| DbError::Refused(format!("{what}: {e}")))
}

impl wit_db::Host for DbView<'_> {
    fn get_item(&mut self, table: String, key: wit::Item) -> DbResult<Option<wit::Item>> {
        let (store, table) = self.store(&table)?;
        let key = decode(key, "key")?;
        let found = self.timed(|| store.get_item(&table, &key))?;
        Ok(found.map(|item| arena::encode(&item)))
    }

    fn put_item(
        &mut self,
        table: String,
        item: wit::Item,
        condition: Option<String>,
        attributes: wit::ExpressionAttributes,
    ) -> DbResult<()> {
        let item = decode(item, "item")?;
        self.write(&table, ImmediateWrite::Put(item), condition, attributes)
    }

    fn update_item(
        &mut self,
        table: String,
        key: wit::Item,
        update_expression: String,
        condition: Option<String>,
        attributes: wit::ExpressionAttributes,
    ) -> DbResult<()> {
        let key = decode(key, "key")?;
        let write = ImmediateWrite::Update(key, update_expression);
        self.write(&table, write, condition, attributes)
    }

    fn delete_item(
        &mut self,
        table: String,
        key: wit::Item,
        condition: Option<String>,
        attributes: wit::ExpressionAttributes,
    ) -> DbResult<()> {
        let key = decode(key, "key")?;
        self.write(&table, ImmediateWrite::Delete(key), condition, attributes)
    }

    fn query(&mut self, input: QueryInput) -> DbResult<QueryOutput> {
        let (store, table) = self.store(&input.table)?;
        let query = ImmediateQuery {
            table,
            index: input.index,
            key_condition: input.key_condition,
            filter: input.filter,
            names: input.attributes.names.into_iter().collect(),
            values: decode(input.attributes.values, "expression values")?,
            start: input
                .exclusive_start_key
                .map(|key| decode(key, "exclusive-start-key"))
                .transpose()?,
            descending: input.descending,
            limit: input
                .limit
                .unwrap_or(MAX_QUERY_PAGE)
                .clamp(1, MAX_QUERY_PAGE),
        };
        let page = self.timed(|| store.query(&query))?;
        Ok(QueryOutput {
            items: page.items.iter().map(arena::encode).collect(),
            last_evaluated_key: page.last_key.as_ref().map(arena::encode),
        })
    }
}

/// DynamoDB for the guests of one run.
pub struct ImmediateDb {
    /// The client.
    pub client: Client,
    /// The runtime the client's futures run on: guest calls are synchronous, and each blocks
    /// its worker thread on it.
    pub handle: Handle,
    /// Retries for throttling and transient failures, as the rest of the host has them.
    pub policy: RetryPolicy,
    /// The run's read and write budgets (`--max-rcu`, `--max-wcu`): guests share them.
    pub capacity: Capacity,
    /// Writes are refused (`plan` writes nothing); reads go through.
    pub read_only: bool,
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

fn from_aws(item: &HashMap<String, AttributeValue>) -> DbResult<Item> {
    from_aws_item(item).map_err(|e| DbError::Failed(format!("{e:#}")))
}

/// `None` for no placeholders, as the SDK's requests want them.
fn non_empty<K, V>(map: impl IntoIterator<Item = (K, V)>) -> Option<HashMap<K, V>>
where
    K: std::hash::Hash + Eq,
{
    let map: HashMap<K, V> = map.into_iter().collect();
    (!map.is_empty()).then_some(map)
}

impl TableStore for ImmediateDb {
    fn get_item(&self, table: &str, key: &Item) -> DbResult<Option<Item>> {
        let key = to_aws_item(key);
        let reading = self.capacity.metered_read(&self.policy, || {
            self.client
                .get_item()
                .table_name(table)
                .set_key(Some(key.clone()))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
        });
        let output = self.handle.block_on(reading).map_err(failure)?;
        output.item.as_ref().map(from_aws).transpose()
    }

    /// Through the same code as the apply. A write that would not leave the same item when
    /// repeated (a condition, `ADD`, arithmetic, ...) is sent again only when DynamoDB
    /// rejected it (throttling): after a timeout its outcome is unknown, and the guest gets
    /// that error rather than a write that may land twice.
    fn write(
        &self,
        table: &str,
        write: ImmediateWrite,
        expressions: WriteExpressions,
    ) -> DbResult<()> {
        if self.read_only {
            return Err(DbError::Refused(
                "immediate writes are refused in `plan`, which writes nothing".into(),
            ));
        }
        let repeatable = expressions.condition.is_none()
            && match &write {
                ImmediateWrite::Update(_, expression) => is_repeatable(expression),
                ImmediateWrite::Put(_) | ImmediateWrite::Delete(_) => true,
            };
        let policy = if repeatable {
            self.policy.clone()
        } else {
            self.policy.rejections_only()
        };
        let write = match write {
            ImmediateWrite::Put(item) => SingleWrite::Put(to_aws_item(&item)),
            ImmediateWrite::Update(key, expression) => {
                SingleWrite::Update(to_aws_item(&key), expression)
            }
            ImmediateWrite::Delete(key) => SingleWrite::Delete(to_aws_item(&key)),
        };
        let expression = Expression {
            condition: expressions.condition,
            names: non_empty(expressions.names),
            values: (!expressions.values.is_empty()).then(|| to_aws_item(&expressions.values)),
        };
        let writing = write_one(
            &self.client,
            &policy,
            &self.capacity,
            table,
            &write,
            &expression,
        );
        self.handle.block_on(writing).map_err(db_error)
    }

    fn query(&self, query: &ImmediateQuery) -> DbResult<QueryPage> {
        let names = non_empty(query.names.clone());
        let values = (!query.values.is_empty()).then(|| to_aws_item(&query.values));
        let start = query.start.as_ref().map(to_aws_item);
        let querying = self.capacity.metered_read(&self.policy, || {
            self.client
                .query()
                .table_name(&query.table)
                .set_index_name(query.index.clone())
                .key_condition_expression(&query.key_condition)
                .set_filter_expression(query.filter.clone())
                .set_expression_attribute_names(names.clone())
                .set_expression_attribute_values(values.clone())
                .set_exclusive_start_key(start.clone())
                .scan_index_forward(!query.descending)
                .limit(query.limit as i32)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
        });
        let output = self.handle.block_on(querying).map_err(failure)?;
        Ok(QueryPage {
            items: output
                .items()
                .iter()
                .map(from_aws)
                .collect::<DbResult<_>>()?,
            last_key: output.last_evaluated_key().map(from_aws).transpose()?,
        })
    }
}

#[cfg(test)]
#[path = "immediate_tests.rs"]
mod tests;
