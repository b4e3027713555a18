//! Deferred writes a migration returns: [`put`], [`update`] and [`delete`] builders.
//!
//! Builder methods take `&mut self` and return `&mut Self`, like `std::process::Command`: chain
//! them in one expression (`update(key).set("a", 1).into()`), or call them one by one on a
//! variable and convert the variable. `Action` converts from the builder or from a `&mut` to it.
//!
//! An update built with [`Update::set`] / [`Update::remove`] / [`Update::add`] /
//! [`Update::delete_from_set`] gets its update expression and placeholders generated, so
//! attribute names never clash with DynamoDB's reserved words. Generated placeholders are
//! `#drift<N>` and `:drift<N>`; do not use that spelling for placeholders of your own.
//! [`Update::resolved`] gives the update with the placeholders spelled out, for tests.

use std::collections::BTreeMap;

use drift_value::expression::{Placeholders, UpdateBuilder, UpdateExpression};

use crate::{Item, Value};

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
    pub values: Item,
}

impl Placeholders for Common {
    fn names_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.names
    }

    fn values_mut(&mut self) -> &mut Item {
        &mut self.values
    }
}

/// Builder methods shared by every kind of action (bring into scope with `drift_sdk::prelude::*`).
pub trait ActionBuilder {
    /// The shared part of the action.
    fn common_mut(&mut self) -> &mut Common;

    /// Writes to `table` instead of the migration's table (it must be declared in `info`).
    fn table(&mut self, table: impl Into<String>) -> &mut Self {
        self.common_mut().table = Some(table.into());
        self
    }

    /// Applies the write only if `expression` holds (DynamoDB `ConditionExpression`).
    fn condition(&mut self, expression: impl Into<String>) -> &mut Self {
        self.common_mut().condition = Some(expression.into());
        self
    }

    /// Defines the placeholder `#placeholder` as the attribute name `name`.
    fn name(&mut self, placeholder: impl Into<String>, name: impl Into<String>) -> &mut Self {
        self.common_mut()
            .names
            .insert(placeholder.into(), name.into());
        self
    }

    /// Defines the placeholder `:placeholder` as `value`.
    fn value(&mut self, placeholder: impl Into<String>, value: impl Into<Value>) -> &mut Self {
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
    builder: UpdateBuilder,
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
        builder: UpdateBuilder::new(),
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

impl Update {
    /// `SET path = value`. `path` is a document path such as `address.city` or `tags[0]`.
    pub fn set(&mut self, path: &str, value: impl Into<Value>) -> &mut Update {
        self.builder.set(&mut self.common, path, value.into());
        self
    }

    /// `REMOVE path`.
    pub fn remove(&mut self, path: &str) -> &mut Update {
        self.builder.remove(&mut self.common, path);
        self
    }

    /// `ADD path value`: adds to a number, or adds elements to a set.
    pub fn add(&mut self, path: &str, value: impl Into<Value>) -> &mut Update {
        self.builder.add(&mut self.common, path, value.into());
        self
    }

    /// `DELETE path value`: removes the elements of the set `value` from a set attribute.
    pub fn delete_from_set(&mut self, path: &str, value: impl Into<Value>) -> &mut Update {
        self.builder.delete(&mut self.common, path, value.into());
        self
    }

    /// Uses `expression` as the whole update expression, with placeholders defined through
    /// [`ActionBuilder::name`] and [`ActionBuilder::value`]. Cannot be mixed with `set`/`remove`/...
    pub fn expression(&mut self, expression: impl Into<String>) -> &mut Update {
        self.expression = Some(expression.into());
        self
    }

    /// Allows the update to create the item when it does not exist.
    pub fn upsert(&mut self) -> &mut Update {
        self.upsert = true;
        self
    }

    /// The update expression, or why there is none.
    pub fn update_expression(&self) -> Result<String, String> {
        let built = self.builder.build()?;
        match (&self.expression, self.builder.is_empty()) {
            (Some(expression), true) => Ok(expression.clone()),
            (Some(_), false) => {
                Err("an update cannot mix expression() with set/remove/add/delete".into())
            }
            (None, false) => Ok(built.to_string()),
            (None, true) => Err("an update needs at least one set/remove/add/delete".into()),
        }
    }

    /// What the update does, placeholders spelled out: `SET email_lower = "ada@example.com",
    /// schema_version = 2 REMOVE name` (see [`UpdateExpression::resolve`]). Fails as
    /// [`Update::update_expression`] does, on an expression that does not parse, or on a
    /// placeholder that is not defined.
    pub fn resolved(&self) -> Result<String, String> {
        UpdateExpression::parse(&self.update_expression()?)?
            .resolve(&self.common.names, &self.common.values)
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

/// The end of a chain of builder calls (`put(item).table("t").into()`): a copy.
impl From<&mut Put> for Action {
    fn from(put: &mut Put) -> Action {
        Action::Put(put.clone())
    }
}

/// The end of a chain of builder calls (`update(key).set("a", 1).into()`): a copy.
impl From<&mut Update> for Action {
    fn from(update: &mut Update) -> Action {
        Action::Update(update.clone())
    }
}

/// The end of a chain of builder calls (`delete(key).condition("..").into()`): a copy.
impl From<&mut Delete> for Action {
    fn from(delete: &mut Delete) -> Action {
        Action::Delete(delete.clone())
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
        let mut update = update(key());
        update
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
        assert_eq!(
            update.resolved().unwrap(),
            r#"SET email_lower = "a@b.c", address.city = "Oslo" REMOVE name ADD visits 1 DELETE tags {"SS": ["old"]}"#
        );
    }

    #[test]
    fn repeated_names_share_a_placeholder_and_indices_stay_literal() {
        let mut update = update(key());
        update.set("a.b", 1).set("a.c[3]", 2);
        assert_eq!(
            update.update_expression().unwrap(),
            "SET #drift0.#drift1 = :drift0, #drift0.#drift2[3] = :drift1"
        );
    }

    #[test]
    fn generated_placeholders_are_numbered_after_user_ones() {
        let mut update = update(key());
        update
            .condition("attribute_exists(#e)")
            .name("#e", "email")
            .set("email", "x")
            .value(":v", 1)
            .add("n", 1);
        assert_eq!(
            update.update_expression().unwrap(),
            "SET #drift1 = :drift0 ADD #drift2 :drift2"
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
        let mut update = update(key());
        update
            .expression("SET #n = :v")
            .name("#n", "name")
            .value(":v", "x")
            .condition("attribute_exists(#n)")
            .table("other")
            .upsert();
        assert_eq!(update.update_expression().unwrap(), "SET #n = :v");
        assert_eq!(update.resolved().unwrap(), r#"SET name = "x""#);
        assert_eq!(update.common.table.as_deref(), Some("other"));
        assert_eq!(
            update.common.condition.as_deref(),
            Some("attribute_exists(#n)")
        );
        assert!(update.upsert);
        let mut undefined = update.clone();
        undefined.expression("SET #n = :w");
        assert_eq!(
            undefined.resolved().unwrap_err(),
            "undefined value placeholder `:w`"
        );
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
        let mut delete = delete(key());
        delete.value(":v", 1);
        assert_eq!(delete.common.values[":v"], Value::from(1));
        let action: Action = delete.into();
        assert!(matches!(action, Action::Delete(_)));
    }

    #[test]
    fn chains_end_in_an_action() {
        let actions: Vec<Action> = vec![
            update(key()).set("a", 1).upsert().into(),
            delete(key()).condition("attribute_exists(id)").into(),
        ];
        let Action::Update(update) = &actions[0] else {
            panic!("expected an update")
        };
        assert!(update.upsert);
        assert_eq!(update.resolved().unwrap(), "SET a = 1");
    }
}
