//! Deferred writes a migration returns: [`put`], [`update`] and [`delete`] builders.
//!
//! An update built with [`Update::set`] / [`Update::remove`] / [`Update::add`] /
//! [`Update::delete_from_set`] gets its update expression and placeholders generated, so
//! attribute names never clash with DynamoDB's reserved words. Generated placeholders are
//! `#drift<N>` and `:drift<N>`; do not use that spelling for placeholders of your own.

use std::collections::BTreeMap;

use crate::path::{Path, Segment};
use crate::value::{Item, Value};

/// What every action carries besides its kind: target table, condition and placeholders.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Common {
    /// Target table; `None` means the migration's table.
    pub table: Option<String>,
    /// Condition expression, if any.
    pub condition: Option<String>,
    /// `#placeholder` → attribute name.
    pub names: BTreeMap<String, String>,
    /// `:placeholder` → value.
    pub values: BTreeMap<String, Value>,
}

/// Builder methods shared by every kind of action (bring into scope with `drift_sdk::prelude::*`).
pub trait ActionBuilder: Sized {
    /// The shared part of the action.
    fn common_mut(&mut self) -> &mut Common;

    /// Writes to `table` instead of the migration's table (it must be declared in `info`).
    fn table(mut self, table: impl Into<String>) -> Self {
        self.common_mut().table = Some(table.into());
        self
    }

    /// Applies the write only if `expression` holds (DynamoDB `ConditionExpression`).
    fn condition(mut self, expression: impl Into<String>) -> Self {
        self.common_mut().condition = Some(expression.into());
        self
    }

    /// Defines the placeholder `#placeholder` as the attribute name `name`.
    fn name(mut self, placeholder: impl Into<String>, name: impl Into<String>) -> Self {
        self.common_mut()
            .names
            .insert(placeholder.into(), name.into());
        self
    }

    /// Defines the placeholder `:placeholder` as `value`.
    fn value(mut self, placeholder: impl Into<String>, value: impl Into<Value>) -> Self {
        self.common_mut()
            .values
            .insert(placeholder.into(), value.into());
        self
    }
}

/// Write a whole item, replacing any item with the same key.
#[derive(Debug, Clone, PartialEq)]
pub struct Put {
    /// The item to write.
    pub item: Item,
    /// Table, condition and placeholders.
    pub common: Common,
}

/// Change attributes of an existing item (or create it, with [`Update::upsert`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The item's primary key.
    pub key: Item,
    /// Table, condition and placeholders.
    pub common: Common,
    /// Whether the update may create a missing item.
    pub upsert: bool,
    clauses: Clauses,
    expression: Option<String>,
}

/// Remove an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    /// The item's primary key.
    pub key: Item,
    /// Table, condition and placeholders.
    pub common: Common,
}

/// One deferred write.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// See [`Put`].
    Put(Put),
    /// See [`Update`].
    Update(Update),
    /// See [`Delete`].
    Delete(Delete),
}

/// Writes `item` (a whole item, key included).
pub fn put(item: Item) -> Put {
    Put {
        item,
        common: Common::default(),
    }
}

/// Changes the item with primary key `key`; chain [`Update::set`], [`Update::remove`], ...
///
/// Unless [`Update::upsert`] is called, the update only applies if the item still exists.
pub fn update(key: Item) -> Update {
    Update {
        key,
        common: Common::default(),
        upsert: false,
        clauses: Clauses::default(),
        expression: None,
    }
}

/// Deletes the item with primary key `key`.
pub fn delete(key: Item) -> Delete {
    Delete {
        key,
        common: Common::default(),
    }
}

/// The clauses of a generated update expression, already in placeholder form.
#[derive(Debug, Clone, PartialEq, Default)]
struct Clauses {
    set: Vec<String>,
    remove: Vec<String>,
    add: Vec<String>,
    delete: Vec<String>,
    /// A path that could not be parsed: reported when the action is returned.
    error: Option<String>,
}

impl Update {
    /// `SET path = value`. `path` is a document path such as `address.city` or `tags[0]`.
    pub fn set(mut self, path: &str, value: impl Into<Value>) -> Update {
        if let Some(path) = self.placeholder_path(path) {
            let value = self.placeholder_value(value.into());
            self.clauses.set.push(format!("{path} = {value}"));
        }
        self
    }

    /// `REMOVE path`.
    pub fn remove(mut self, path: &str) -> Update {
        if let Some(path) = self.placeholder_path(path) {
            self.clauses.remove.push(path);
        }
        self
    }

    /// `ADD path value`: adds to a number, or adds elements to a set.
    pub fn add(mut self, path: &str, value: impl Into<Value>) -> Update {
        if let Some(path) = self.placeholder_path(path) {
            let value = self.placeholder_value(value.into());
            self.clauses.add.push(format!("{path} {value}"));
        }
        self
    }

    /// `DELETE path value`: removes the elements of the set `value` from a set attribute.
    pub fn delete_from_set(mut self, path: &str, value: impl Into<Value>) -> Update {
        if let Some(path) = self.placeholder_path(path) {
            let value = self.placeholder_value(value.into());
            self.clauses.delete.push(format!("{path} {value}"));
        }
        self
    }

    /// Uses `expression` as the whole update expression, with placeholders defined through
    /// [`ActionBuilder::name`] and [`ActionBuilder::value`]. Cannot be mixed with `set`/`remove`/...
    pub fn expression(mut self, expression: impl Into<String>) -> Update {
        self.expression = Some(expression.into());
        self
    }

    /// Allows the update to create the item when it does not exist.
    pub fn upsert(mut self) -> Update {
        self.upsert = true;
        self
    }

    /// The update expression, or why there is none.
    pub fn update_expression(&self) -> Result<String, String> {
        let clauses = &self.clauses;
        if let Some(error) = &clauses.error {
            return Err(error.clone());
        }
        let built = [
            ("SET", &clauses.set, ", "),
            ("REMOVE", &clauses.remove, ", "),
            ("ADD", &clauses.add, ", "),
            ("DELETE", &clauses.delete, ", "),
        ]
        .iter()
        .filter(|(_, parts, _)| !parts.is_empty())
        .map(|(keyword, parts, sep)| format!("{keyword} {}", parts.join(sep)))
        .collect::<Vec<_>>()
        .join(" ");
        match (&self.expression, built.is_empty()) {
            (Some(expression), true) => Ok(expression.clone()),
            (Some(_), false) => {
                Err("an update cannot mix expression() with set/remove/add/delete".into())
            }
            (None, false) => Ok(built),
            (None, true) => Err("an update needs at least one set/remove/add/delete".into()),
        }
    }

    fn placeholder_path(&mut self, path: &str) -> Option<String> {
        let parsed = match Path::parse(path) {
            Ok(parsed) => parsed,
            Err(error) => {
                self.clauses.error.get_or_insert(error.to_string());
                return None;
            }
        };
        let mut out = String::new();
        for segment in parsed.segments() {
            match segment {
                Segment::Name(name) => {
                    let placeholder = self.name_placeholder(name);
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(&placeholder);
                }
                Segment::Index(index) => out.push_str(&format!("[{index}]")),
            }
        }
        Some(out)
    }

    fn name_placeholder(&mut self, name: &str) -> String {
        let names = &mut self.common.names;
        if let Some((placeholder, _)) = names
            .iter()
            .find(|(p, n)| *n == name && p.starts_with("#drift"))
        {
            return placeholder.clone();
        }
        let placeholder = format!("#drift{}", names.len());
        names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    fn placeholder_value(&mut self, value: Value) -> String {
        let placeholder = format!(":drift{}", self.common.values.len());
        self.common.values.insert(placeholder.clone(), value);
        placeholder
    }
}

impl ActionBuilder for Put {
    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }
}

impl ActionBuilder for Update {
    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }
}

impl ActionBuilder for Delete {
    fn common_mut(&mut self) -> &mut Common {
        &mut self.common
    }
}

impl From<Put> for Action {
    fn from(put: Put) -> Action {
        Action::Put(put)
    }
}

impl From<Update> for Action {
    fn from(update: Update) -> Action {
        Action::Update(update)
    }
}

impl From<Delete> for Action {
    fn from(delete: Delete) -> Action {
        Action::Delete(delete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Item {
        Item::new().with("id", "u1")
    }

    #[test]
    fn update_builds_expression_with_placeholders() {
        let update = update(key())
            .set("email_lower", "a@b.c")
            .set("address.city", "Oslo")
            .remove("name")
            .add("visits", 1)
            .delete_from_set("tags", Value::Ss(vec!["old".into()]));
        assert_eq!(
            update.update_expression().unwrap(),
            "SET #drift0 = :drift0, #drift1.#drift2 = :drift1 REMOVE #drift3 ADD #drift4 :drift2 DELETE #drift5 :drift3"
        );
        assert_eq!(update.common.names["#drift1"], "address");
        assert_eq!(update.common.names["#drift2"], "city");
        assert_eq!(update.common.values[":drift1"], Value::from("Oslo"));
        assert!(!update.upsert);
    }

    #[test]
    fn repeated_names_share_a_placeholder_and_indices_stay_literal() {
        let update = update(key()).set("a.b", 1).set("a.c[3]", 2);
        assert_eq!(
            update.update_expression().unwrap(),
            "SET #drift0.#drift1 = :drift0, #drift0.#drift2[3] = :drift1"
        );
    }

    #[test]
    fn update_without_clauses_or_with_bad_path_is_an_error() {
        assert_eq!(
            update(key()).update_expression().unwrap_err(),
            "an update needs at least one set/remove/add/delete"
        );
        assert_eq!(
            update(key())
                .set("a..b", 1)
                .update_expression()
                .unwrap_err(),
            "invalid document path `a..b`: empty name"
        );
        assert!(update(key())
            .expression("SET x = :x")
            .set("y", 1)
            .update_expression()
            .is_err());
    }

    #[test]
    fn raw_expression_with_user_placeholders() {
        let update = update(key())
            .expression("SET #n = :v")
            .name("#n", "name")
            .value(":v", "x")
            .condition("attribute_exists(#n)")
            .table("other")
            .upsert();
        assert_eq!(update.update_expression().unwrap(), "SET #n = :v");
        assert_eq!(update.common.table.as_deref(), Some("other"));
        assert_eq!(
            update.common.condition.as_deref(),
            Some("attribute_exists(#n)")
        );
        assert!(update.upsert);
    }

    #[test]
    fn put_and_delete_carry_table_and_condition() {
        let action: Action = put(key().with("x", 1))
            .table("copy")
            .condition("attribute_not_exists(id)")
            .into();
        match action {
            Action::Put(put) => {
                assert_eq!(put.common.table.as_deref(), Some("copy"));
                assert_eq!(put.item.get_i64("x"), Some(1));
            }
            other => panic!("expected a put, got {other:?}"),
        }
        let delete = delete(key()).value(":v", 1);
        assert_eq!(delete.common.values[":v"], Value::from(1));
    }
}
