//! Checks a guest's actions for one item against the schemas of the tables they write to, so
//! that what DynamoDB would refuse at write time fails the item in the scan, while nothing has
//! been written, instead of stopping the apply half-way.
//!
//! What is checked (DynamoDB's own words in the messages): the primary key (its attributes,
//! their declared types, not empty, within DynamoDB's key sizes); no update that sets,
//! removes or adds to a key attribute; the keys of global and local secondary indexes written
//! with their declared type and not empty; expressions and placeholders within DynamoDB's
//! limits, every placeholder defined and used; conditions that parse and whose operands have
//! the types their operators take; and an action on the scanned item itself evaluated on it
//! (with the actions before it on the same item): its condition, and if it holds (else the
//! apply finds a conflict and writes nothing) the update, so that the item after it is known:
//! of at most 400 KB, its index keys of the right type, its operands of the types the update
//! needs. An action on another item is checked as far as the request alone tells: its item
//! is not known until the apply.

use std::borrow::Cow;
use std::collections::BTreeSet;

use drift_value::expression::{ConditionExpression, UpdateExpression};

use crate::model::action::{Action, ActionKind};
use crate::model::item::{to_json_item, Item, Value, MAX_ITEM_BYTES};
use crate::model::schema::{KeySchema, Schemas, TableSchema};
use crate::model::source::key_identity;

/// Longest expression DynamoDB takes (an update expression, a condition).
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// Longest placeholder DynamoDB takes (`#name` or `:value`, the sign included).
pub const MAX_PLACEHOLDER_BYTES: usize = 255;
/// Longest partition key value.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// Longest sort key value.
pub const MAX_SORT_KEY_BYTES: usize = 1024;

/// Checks `actions`, returned for `scanned` (an item of table `own`), against `schemas`.
/// The error names the action (its position, kind, table and key) and the reason. An action
/// on a table without a schema is not checked here: a run reads every table's, offline
/// (`exec --key`) only the scanned table's key is known.
pub fn check_actions(
    actions: &[Action],
    scanned: &Item,
    own: &str,
    schemas: &Schemas,
) -> Result<(), String> {
    let mut item = ScannedItem::new(scanned, own, schemas);
    for (n, action) in actions.iter().enumerate() {
        let Some(schema) = schemas.get(&action.table) else {
            continue;
        };
        check_action(action, schema, &mut item).map_err(|reason| {
            format!(
                "action {n}: {} on `{}` key {}: {reason}",
                action.kind.name(),
                action.table,
                to_json_item(&shown_key(action, &schema.key)),
            )
        })?;
    }
    Ok(())
}

/// The key an action names, as far as it has one (a put may lack key attributes).
fn shown_key(action: &Action, key: &KeySchema) -> Item {
    match &action.kind {
        ActionKind::Put { item } => key
            .attributes()
            .filter_map(|name| Some((name.to_owned(), item.get(name)?.clone())))
            .collect(),
        ActionKind::Update { key, .. } | ActionKind::Delete { key } => key.clone(),
    }
}

/// The scanned item as the actions so far would leave it, for evaluating updates of it.
struct ScannedItem<'a> {
    table: &'a str,
    /// Its key's identity in its table (`None` if it lacks its key, which a scan never gives).
    identity: Option<Vec<u8>>,
    /// As it is after the actions so far: `None` once deleted.
    current: Option<Cow<'a, Item>>,
}

impl<'a> ScannedItem<'a> {
    fn new(item: &'a Item, table: &'a str, schemas: &Schemas) -> ScannedItem<'a> {
        let identity = schemas
            .get(table)
            .and_then(|schema| schema.key.key_of(item))
            .map(|key| key_identity(&key));
        ScannedItem {
            table,
            identity,
            current: Some(Cow::Borrowed(item)),
        }
    }

    /// Whether `key` of `table` is this item's.
    fn is(&self, table: &str, key: &Item) -> bool {
        table == self.table && self.identity.as_deref() == Some(&key_identity(key)[..])
    }

    /// Whether a conditional action on `key` of `table` would find its condition true, as
    /// far as the scan tells: `true` for an action on another item (unknown until the apply,
    /// where a false condition is a conflict that writes nothing).
    fn holds(
        &self,
        table: &str,
        key: &Item,
        condition: Option<&ConditionExpression>,
        action: &Action,
    ) -> Result<bool, String> {
        match condition {
            Some(condition) if self.is(table, key) => {
                condition.holds(self.current.as_deref(), &action.names, &action.values)
            }
            _ => Ok(true),
        }
    }
}

fn check_action(
    action: &Action,
    schema: &TableSchema,
    scanned: &mut ScannedItem<'_>,
) -> Result<(), String> {
    let condition = match &action.condition {
        Some(text) => {
            check_expression("condition", text)?;
            let condition = ConditionExpression::parse(text)?;
            condition.check(&action.names, &action.values)?;
            Some(condition)
        }
        None => None,
    };
    let condition = condition.as_ref();
    match &action.kind {
        ActionKind::Put { item } => {
            check_placeholders(action, None, condition)?;
            for name in schema.key.attributes() {
                if !item.contains_key(name) {
                    return Err(format!(
                        "the item lacks the table's key attribute `{name}` (DynamoDB: One of \
                         the required keys was not given a value)"
                    ));
                }
            }
            check_primary_key(item, schema)?;
            check_index_keys(item, schema)?;
            check_local_entries(item, schema)?;
            if let Some(key) = schema.key.key_of(item) {
                if scanned.is(&action.table, &key)
                    && scanned.holds(&action.table, &key, condition, action)?
                {
                    scanned.current = Some(Cow::Owned(item.clone()));
                }
            }
        }
        ActionKind::Delete { key } => {
            check_placeholders(action, None, condition)?;
            check_exact_key(key, schema)?;
            if scanned.is(&action.table, key)
                && scanned.holds(&action.table, key, condition, action)?
            {
                scanned.current = None;
            }
        }
        ActionKind::Update {
            key,
            expression,
            upsert,
        } => {
            check_expression("update expression", expression)?;
            check_exact_key(key, schema)?;
            let parsed = UpdateExpression::parse(expression)
                .map_err(|e| format!("Invalid UpdateExpression: {e}"))?;
            check_placeholders(action, Some(&parsed), condition)?;
            let key_names: Vec<&str> = schema.key.attributes().collect();
            let writes = parsed.check_request(&key_names, &action.names, &action.values, false)?;
            for write in &writes {
                if let Some(value) = &write.value {
                    check_index_value(schema, &write.attribute, value)?;
                }
            }
            if !scanned.is(&action.table, key)
                || !scanned.holds(&action.table, key, condition, action)?
            {
                return Ok(());
            }
            let before = match &scanned.current {
                Some(item) => Some(item.as_ref()),
                // Deleted by an earlier action: a plain update of it is a conflict at the
                // apply (nothing written), an upsert creates it from its key.
                None if !upsert => return Ok(()),
                None => None,
            };
            let after = parsed.apply_allowing_unused(before, key, &action.names, &action.values)?;
            check_index_keys(&after, schema)?;
            check_local_entries(&after, schema)?;
            scanned.current = Some(Cow::Owned(after));
        }
    }
    Ok(())
}

/// An item and its entry in each local index it is in must fit in 400 KB together.
fn check_local_entries(item: &Item, schema: &TableSchema) -> Result<(), String> {
    for index in &schema.indexes {
        let Some(entry) = schema.local_entry_size(index, item) else {
            continue;
        };
        let size = item.size();
        if size + entry > MAX_ITEM_BYTES {
            return Err(format!(
                "the item would be {size} bytes and its entry in local index `{}` {entry}: \
                 over DynamoDB's limit of {MAX_ITEM_BYTES} for the two together (DynamoDB: \
                 Item size has exceeded the maximum allowed size)",
                index.name
            ));
        }
    }
    Ok(())
}

/// An expression within DynamoDB's length.
fn check_expression(what: &str, text: &str) -> Result<(), String> {
    if text.len() > MAX_EXPRESSION_BYTES {
        return Err(format!(
            "the {what} is {} bytes, over DynamoDB's limit of {MAX_EXPRESSION_BYTES} \
             (DynamoDB: Expression size has exceeded the maximum allowed size)",
            text.len()
        ));
    }
    Ok(())
}

/// The placeholders of a request that carries an expression: each defined one used, each used
/// one defined, none too long. A put or delete without a condition carries none to DynamoDB
/// (the apply sends no expression for it), so there is nothing to check.
fn check_placeholders(
    action: &Action,
    update: Option<&UpdateExpression>,
    condition: Option<&ConditionExpression>,
) -> Result<(), String> {
    if update.is_none() && condition.is_none() {
        return Ok(());
    }
    let mut used_names: BTreeSet<&str> = BTreeSet::new();
    let mut used_values: BTreeSet<&str> = BTreeSet::new();
    if let Some(update) = update {
        let used = update.placeholders();
        used_names.extend(used.names);
        used_values.extend(used.values);
    }
    if let Some(condition) = condition {
        let used = condition.placeholders();
        used_names.extend(used.names);
        used_values.extend(used.values);
    }
    for placeholder in action.names.keys().chain(action.values.keys()) {
        if placeholder.len() > MAX_PLACEHOLDER_BYTES {
            return Err(format!(
                "placeholder `{}…` is {} bytes, over DynamoDB's limit of {MAX_PLACEHOLDER_BYTES}",
                &placeholder[..placeholder.floor_char_boundary(20)],
                placeholder.len()
            ));
        }
    }
    let defined_names: BTreeSet<&str> = action.names.keys().map(String::as_str).collect();
    let defined_values: BTreeSet<&str> = action.values.keys().map(String::as_str).collect();
    if let Some(name) = used_names.difference(&defined_names).next() {
        return Err(format!(
            "An expression attribute name used in the document path is not defined; \
             attribute name: {name}"
        ));
    }
    if let Some(value) = used_values.difference(&defined_values).next() {
        return Err(format!(
            "An expression attribute value used in expression is not defined; \
             attribute value: {value}"
        ));
    }
    let unused = |defined: &BTreeSet<&str>, used: &BTreeSet<&str>| -> Option<String> {
        let unused: Vec<&str> = defined.difference(used).copied().collect();
        (!unused.is_empty()).then(|| unused.join(", "))
    };
    if let Some(keys) = unused(&defined_names, &used_names) {
        return Err(format!(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{keys}}}"
        ));
    }
    if let Some(keys) = unused(&defined_values, &used_values) {
        return Err(format!(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{keys}}}"
        ));
    }
    Ok(())
}

/// An update's or a delete's key: exactly the table's key attributes, of their types.
fn check_exact_key(key: &Item, schema: &TableSchema) -> Result<(), String> {
    if !schema.key.matches(key) {
        let has: Vec<String> = key.keys().map(|name| format!("`{name}`")).collect();
        return Err(format!(
            "the key must be exactly the table's key attributes {}, not {} (DynamoDB: The \
             provided key element does not match the schema)",
            schema.key.describe(),
            has.join(", ")
        ));
    }
    check_primary_key(key, schema)
}

/// The primary key attributes `item` holds: of their declared types, not empty, not too long.
fn check_primary_key(item: &Item, schema: &TableSchema) -> Result<(), String> {
    for (name, limit) in [
        (Some(schema.key.hash.as_str()), MAX_PARTITION_KEY_BYTES),
        (schema.key.range.as_deref(), MAX_SORT_KEY_BYTES),
    ] {
        let Some((name, value)) = name.and_then(|n| Some((n, item.get(n)?))) else {
            continue;
        };
        if !matches!(value, Value::S(_) | Value::N(_) | Value::B(_)) {
            return Err(format!(
                "key attribute `{name}` is of type {}; keys are S, N or B",
                value.type_name()
            ));
        }
        if let Some(declared) = schema.types.get(name) {
            if !declared.holds(value) {
                return Err(format!(
                    "key attribute `{name}` is {}, the table declares {declared} (DynamoDB: \
                     Type mismatch for key {name} expected: {declared} actual: {})",
                    value.type_name(),
                    value.type_name()
                ));
            }
        }
        check_key_value(name, value, limit, "key attribute")?;
    }
    Ok(())
}

/// The index keys `item` holds: of their declared types, not empty, not too long.
fn check_index_keys(item: &Item, schema: &TableSchema) -> Result<(), String> {
    for index in &schema.indexes {
        for name in index.key.attributes() {
            if let Some(value) = item.get(name) {
                check_index_value(schema, name, value)?;
            }
        }
    }
    Ok(())
}

/// A value written to `attribute`: if it is a key of an index, of the declared type and valid.
fn check_index_value(schema: &TableSchema, attribute: &str, value: &Value) -> Result<(), String> {
    let Some(index) = schema.index_with(attribute) else {
        return Ok(());
    };
    if let Some(declared) = schema.types.get(attribute) {
        if !declared.holds(value) {
            return Err(format!(
                "attribute `{attribute}` is a key of index `{}` declared {declared}, and is \
                 written as {} (DynamoDB: One or more parameter values were invalid: Type \
                 mismatch for Index Key {attribute} Expected: {declared} Actual: {} IndexName: {})",
                index.name,
                value.type_name(),
                value.type_name(),
                index.name
            ));
        }
    }
    let limit = if index.key.hash == attribute {
        MAX_PARTITION_KEY_BYTES
    } else {
        MAX_SORT_KEY_BYTES
    };
    check_key_value(
        attribute,
        value,
        limit,
        &format!("index `{}` key", index.name),
    )
}

/// A key value is never empty, and at most `limit` bytes.
fn check_key_value(name: &str, value: &Value, limit: usize, what: &str) -> Result<(), String> {
    let length = match value {
        Value::S(s) => s.len(),
        Value::B(b) => b.len(),
        _ => return Ok(()),
    };
    if length == 0 {
        return Err(format!(
            "{what} `{name}` is empty (DynamoDB: One or more parameter values are not valid. \
             The AttributeValue for a key attribute cannot contain an empty {} value)",
            if matches!(value, Value::S(_)) {
                "string"
            } else {
                "binary"
            }
        ));
    }
    if length > limit {
        return Err(format!(
            "{what} `{name}` is {length} bytes, over DynamoDB's limit of {limit} for it"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
