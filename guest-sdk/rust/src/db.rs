//! Immediate DynamoDB operations: they run at once, while the item is being migrated.
//!
//! Use them to look things up (`get_item`, `query`). Writes made here are not deferred and are
//! not undone if the migration fails later: prefer returning actions. Only the tables declared
//! in [`crate::Info`] may be used. Off wasm (native unit tests) and in `drift-host exec`, every
//! call returns [`DbError::Refused`].

use crate::action::Common;
use crate::Item;

/// Why an immediate operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// The condition expression did not hold; nothing was written.
    ConditionalCheckFailed,
    /// The host refused the call (undeclared table, offline run, bad argument).
    Refused(String),
    /// DynamoDB failed after the host's retries.
    Failed(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::ConditionalCheckFailed => f.write_str("condition check failed"),
            DbError::Refused(why) => write!(f, "refused: {why}"),
            DbError::Failed(why) => write!(f, "DynamoDB failed: {why}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<DbError> for String {
    fn from(error: DbError) -> String {
        error.to_string()
    }
}

/// A query: table (or index), key condition and options. Placeholders and an optional filter
/// go in `common` (its `table` is ignored: the query's `table` decides).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// Table to query.
    pub table: String,
    /// Secondary index, if any.
    pub index: Option<String>,
    /// Key condition expression, e.g. `#pk = :pk`.
    pub key_condition: String,
    /// Filter expression, if any, and the placeholders of both expressions.
    pub common: Common,
    /// Items per page (at most 1000).
    pub limit: Option<u32>,
    /// Descending key order.
    pub descending: bool,
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The items.
    pub items: Vec<Item>,
    /// Pass this to the next call of [`query_page`] to read the next page.
    pub last_evaluated_key: Option<Item>,
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    use crate::arena::{decode_item, encode_item};
    use crate::bindings::drift::migration::dynamodb as wit;
    use crate::bindings::drift::migration::types;

    fn error(e: wit::DbError) -> DbError {
        match e {
            wit::DbError::ConditionalCheckFailed => DbError::ConditionalCheckFailed,
            wit::DbError::Refused(why) => DbError::Refused(why),
            wit::DbError::Failed(why) => DbError::Failed(why),
        }
    }

    fn attributes(common: &Common) -> types::ExpressionAttributes {
        crate::exports::attributes(common)
    }

    fn item(arena: types::Item) -> Result<Item, DbError> {
        decode_item(arena).map_err(DbError::Failed)
    }

    pub fn get_item(table: &str, key: &Item) -> Result<Option<Item>, DbError> {
        wit::get_item(table, &encode_item(key))
            .map_err(error)?
            .map(item)
            .transpose()
    }

    pub fn put_item(table: &str, value: &Item, common: &Common) -> Result<(), DbError> {
        wit::put_item(
            table,
            &encode_item(value),
            common.condition.as_deref(),
            &attributes(common),
        )
        .map_err(error)
    }

    pub fn update_item(
        table: &str,
        key: &Item,
        expression: &str,
        common: &Common,
    ) -> Result<(), DbError> {
        wit::update_item(
            table,
            &encode_item(key),
            expression,
            common.condition.as_deref(),
            &attributes(common),
        )
        .map_err(error)
    }

    pub fn delete_item(table: &str, key: &Item, common: &Common) -> Result<(), DbError> {
        wit::delete_item(
            table,
            &encode_item(key),
            common.condition.as_deref(),
            &attributes(common),
        )
        .map_err(error)
    }

    pub fn query_page(query: &Query, start: Option<&Item>) -> Result<Page, DbError> {
        let input = wit::QueryInput {
            table: query.table.clone(),
            index: query.index.clone(),
            key_condition: query.key_condition.clone(),
            filter: query.common.condition.clone(),
            attributes: attributes(&query.common),
            limit: query.limit,
            exclusive_start_key: start.map(encode_item),
            descending: query.descending,
        };
        let output = wit::query(&input).map_err(error)?;
        Ok(Page {
            items: output
                .items
                .into_iter()
                .map(item)
                .collect::<Result<_, _>>()?,
            last_evaluated_key: output.last_evaluated_key.map(item).transpose()?,
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;

    fn refused<T>() -> Result<T, DbError> {
        Err(DbError::Refused(
            "immediate DynamoDB operations need the drift-host runtime".into(),
        ))
    }

    pub fn get_item(_: &str, _: &Item) -> Result<Option<Item>, DbError> {
        refused()
    }

    pub fn put_item(_: &str, _: &Item, _: &Common) -> Result<(), DbError> {
        refused()
    }

    pub fn update_item(_: &str, _: &Item, _: &str, _: &Common) -> Result<(), DbError> {
        refused()
    }

    pub fn delete_item(_: &str, _: &Item, _: &Common) -> Result<(), DbError> {
        refused()
    }

    pub fn query_page(_: &Query, _: Option<&Item>) -> Result<Page, DbError> {
        refused()
    }
}

/// Reads the item with primary key `key` from `table` (strongly consistent).
pub fn get_item(table: &str, key: &Item) -> Result<Option<Item>, DbError> {
    imp::get_item(table, key)
}

/// Writes `item` to `table` now; `common` may hold a condition and its placeholders.
pub fn put_item(table: &str, item: &Item, common: &Common) -> Result<(), DbError> {
    imp::put_item(table, item, common)
}

/// Updates the item with key `key` in `table` now, with a raw update expression.
pub fn update_item(
    table: &str,
    key: &Item,
    expression: &str,
    common: &Common,
) -> Result<(), DbError> {
    imp::update_item(table, key, expression, common)
}

/// Deletes the item with key `key` from `table` now.
pub fn delete_item(table: &str, key: &Item, common: &Common) -> Result<(), DbError> {
    imp::delete_item(table, key, common)
}

/// Reads one page of `query`, starting after `start` (the previous page's `last_evaluated_key`).
pub fn query_page(query: &Query, start: Option<&Item>) -> Result<Page, DbError> {
    imp::query_page(query, start)
}

/// Reads every page of `query`.
pub fn query_all(query: &Query) -> Result<Vec<Item>, DbError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = query_page(query, start.as_ref())?;
        items.extend(page.items);
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natively_every_call_is_refused() {
        let error = get_item("t", &Item::new().with("id", "x")).unwrap_err();
        assert!(matches!(error, DbError::Refused(_)));
        assert_eq!(
            String::from(DbError::ConditionalCheckFailed),
            "condition check failed"
        );
        assert!(query_all(&Query::default()).is_err());
    }
}
