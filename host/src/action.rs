//! The host's form of a guest's action, checked before it may reach the journal.
//!
//! Everything DynamoDB would reject that can be seen here (undeclared tables, bad keys,
//! oversized items, empty sets, malformed numbers, placeholders) is rejected now, while
//! nothing has been written, instead of failing half-way through the apply.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::arena;
use crate::bindings::wit;
use crate::item::{item_size, to_json_item, validate_value, AttrValue, Item, MAX_ITEM_BYTES};

/// A deferred write, with its table resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// The table written to.
    pub table: String,
    /// What is written.
    pub kind: ActionKind,
    /// Condition expression, if the guest gave one.
    pub condition: Option<String>,
    /// `#placeholder` → attribute name, for the update expression and the condition.
    pub names: BTreeMap<String, String>,
    /// `:placeholder` → value, for the update expression and the condition.
    pub values: Item,
}

/// The three kinds of write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ActionKind {
    /// Write a whole item.
    Put {
        /// The item, key included.
        item: Item,
    },
    /// Change attributes of an item.
    Update {
        /// The item's primary key.
        key: Item,
        /// DynamoDB update expression.
        expression: String,
        /// Whether the update may create a missing item.
        upsert: bool,
    },
    /// Remove an item.
    Delete {
        /// The item's primary key.
        key: Item,
    },
}

impl ActionKind {
    /// `put`, `update` or `delete`.
    pub fn name(&self) -> &'static str {
        match self {
            ActionKind::Put { .. } => "put",
            ActionKind::Update { .. } => "update",
            ActionKind::Delete { .. } => "delete",
        }
    }
}

/// The tables a migration may write to: its own and the ones `info()` declares.
#[derive(Debug, Clone)]
pub struct Tables {
    /// The table `info()` names.
    declared: String,
    /// The table actually scanned: `declared`, unless `--table` overrides it.
    own: String,
    others: BTreeSet<String>,
}

impl Tables {
    /// The migration's table and the other tables it declared.
    pub fn new(own: impl Into<String>, others: impl IntoIterator<Item = String>) -> Tables {
        let own = own.into();
        Tables {
            declared: own.clone(),
            own,
            others: others.into_iter().collect(),
        }
    }

    /// Runs the migration on `table` instead of the one `info()` names: actions addressed to
    /// either go to `table`.
    pub fn with_own(mut self, table: Option<&str>) -> Tables {
        if let Some(table) = table {
            self.own = table.to_owned();
        }
        self
    }

    /// The scanned table.
    pub fn own(&self) -> &str {
        &self.own
    }

    /// Every table actions may reach: the scanned one first.
    pub fn all(&self) -> Vec<String> {
        let mut all = vec![self.own.clone()];
        all.extend(self.others.iter().filter(|t| **t != self.own).cloned());
        all
    }

    /// The table an action writes to; `None` is the migration's own.
    pub fn resolve(&self, requested: Option<String>) -> Result<String, String> {
        match requested {
            None => Ok(self.own.clone()),
            Some(table) if table == self.own || table == self.declared => Ok(self.own.clone()),
            Some(table) if self.others.contains(&table) => Ok(table),
            Some(table) => Err(format!(
                "table `{table}` is not declared in the migration's info()"
            )),
        }
    }
}

/// Converts and checks one guest action.
pub fn from_guest(action: wit::Action, tables: &Tables) -> Result<Action, String> {
    let (table, kind, condition, attributes) = match action {
        wit::Action::Put(put) => {
            let item = arena::decode(put.item).map_err(|e| format!("put item: {e}"))?;
            check_item(&item)?;
            (
                put.table,
                ActionKind::Put { item },
                put.condition,
                put.attributes,
            )
        }
        wit::Action::Update(update) => {
            let key = arena::decode(update.key).map_err(|e| format!("update key: {e}"))?;
            check_key(&key)?;
            if update.update_expression.trim().is_empty() {
                return Err("update has an empty update expression".into());
            }
            let kind = ActionKind::Update {
                key,
                expression: update.update_expression,
                upsert: update.upsert,
            };
            (update.table, kind, update.condition, update.attributes)
        }
        wit::Action::Delete(delete) => {
            let key = arena::decode(delete.key).map_err(|e| format!("delete key: {e}"))?;
            check_key(&key)?;
            (
                delete.table,
                ActionKind::Delete { key },
                delete.condition,
                delete.attributes,
            )
        }
    };
    if condition.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err("condition expression is empty".into());
    }
    let names: BTreeMap<String, String> = attributes.names.into_iter().collect();
    if let Some(bad) = names.keys().find(|p| !p.starts_with('#') || p.len() < 2) {
        return Err(format!("name placeholder `{bad}` must start with `#`"));
    }
    let values = arena::decode(attributes.values).map_err(|e| format!("expression values: {e}"))?;
    if let Some(bad) = values.keys().find(|p| !p.starts_with(':') || p.len() < 2) {
        return Err(format!("value placeholder `{bad}` must start with `:`"));
    }
    for (placeholder, value) in &values {
        validate_value(value, 1).map_err(|e| format!("value `{placeholder}`: {e}"))?;
    }
    Ok(Action {
        table: tables.resolve(table)?,
        kind,
        condition,
        names,
        values,
    })
}

fn check_item(item: &Item) -> Result<(), String> {
    if item.is_empty() {
        return Err("put of an empty item".into());
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(format!(
            "put item is {size} bytes, over DynamoDB's limit of {MAX_ITEM_BYTES}"
        ));
    }
    for (name, value) in item {
        validate_value(value, 1).map_err(|e| format!("attribute `{name}`: {e}"))?;
    }
    Ok(())
}

fn check_key(key: &Item) -> Result<(), String> {
    if key.is_empty() || key.len() > 2 {
        return Err(format!(
            "a key has one or two attributes (partition key, sort key), this one has {}",
            key.len()
        ));
    }
    for (name, value) in key {
        match value {
            AttrValue::S(s) if s.is_empty() => {
                return Err(format!("key attribute `{name}` is an empty string"))
            }
            AttrValue::B(b) if b.is_empty() => {
                return Err(format!("key attribute `{name}` is empty binary"))
            }
            AttrValue::N(n) => crate::item::validate_number(n)
                .map_err(|e| format!("key attribute `{name}`: {e}"))?,
            AttrValue::S(_) | AttrValue::B(_) => {}
            other => {
                return Err(format!(
                    "key attribute `{name}` is of type {}; keys are S, N or B",
                    other.type_name()
                ))
            }
        }
    }
    Ok(())
}

impl Action {
    /// The action as one JSON object: `table`, `kind`, the key or item and the expressions,
    /// values in DynamoDB JSON.
    pub fn to_json(&self) -> Json {
        let mut out = json!({ "table": self.table, "kind": self.kind.name() });
        let fields = out.as_object_mut().expect("object");
        match &self.kind {
            ActionKind::Put { item } => {
                fields.insert("item".into(), to_json_item(item));
            }
            ActionKind::Update {
                key,
                expression,
                upsert,
            } => {
                fields.insert("key".into(), to_json_item(key));
                fields.insert("update_expression".into(), json!(expression));
                fields.insert("upsert".into(), json!(upsert));
            }
            ActionKind::Delete { key } => {
                fields.insert("key".into(), to_json_item(key));
            }
        }
        if let Some(condition) = &self.condition {
            fields.insert("condition".into(), json!(condition));
        }
        if !self.names.is_empty() {
            fields.insert("names".into(), json!(self.names));
        }
        if !self.values.is_empty() {
            fields.insert("values".into(), to_json_item(&self.values));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> Tables {
        Tables::new("users", ["audit".to_string()])
    }

    fn key(value: AttrValue) -> wit::Item {
        arena::encode(&[("id".to_string(), value)].into_iter().collect())
    }

    fn no_attributes() -> wit::ExpressionAttributes {
        wit::ExpressionAttributes {
            names: vec![],
            values: wit::Item {
                attributes: vec![],
                nodes: vec![],
            },
        }
    }

    fn delete(table: Option<&str>, key: wit::Item) -> wit::Action {
        wit::Action::Delete(wit::DeleteAction {
            table: table.map(str::to_owned),
            key,
            condition: None,
            attributes: no_attributes(),
        })
    }

    #[test]
    fn tables_resolve_to_own_or_declared() {
        let ok = from_guest(delete(None, key(AttrValue::S("u1".into()))), &tables()).unwrap();
        assert_eq!(ok.table, "users");
        let ok = from_guest(
            delete(Some("audit"), key(AttrValue::S("u1".into()))),
            &tables(),
        )
        .unwrap();
        assert_eq!(ok.table, "audit");
        let error = from_guest(
            delete(Some("other"), key(AttrValue::S("u1".into()))),
            &tables(),
        )
        .unwrap_err();
        assert_eq!(
            error,
            "table `other` is not declared in the migration's info()"
        );
    }

    #[test]
    fn keys_must_be_scalar_and_non_empty() {
        for (value, expected) in [
            (AttrValue::S(String::new()), "empty string"),
            (AttrValue::Bool(true), "of type BOOL"),
            (AttrValue::N("x".into()), "not a DynamoDB number"),
        ] {
            let error = from_guest(delete(None, key(value)), &tables()).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn oversized_put_is_rejected() {
        let item: Item = [
            ("id".to_string(), AttrValue::S("u1".into())),
            ("blob".to_string(), AttrValue::B(vec![0; MAX_ITEM_BYTES])),
        ]
        .into_iter()
        .collect();
        let put = wit::Action::Put(wit::PutAction {
            table: None,
            item: arena::encode(&item),
            condition: None,
            attributes: no_attributes(),
        });
        assert!(from_guest(put, &tables())
            .unwrap_err()
            .contains("over DynamoDB's limit"));
    }

    #[test]
    fn placeholders_are_checked() {
        let update = wit::Action::Update(wit::UpdateAction {
            table: None,
            key: key(AttrValue::S("u1".into())),
            update_expression: "SET #a = :a".into(),
            condition: None,
            attributes: wit::ExpressionAttributes {
                names: vec![("a".into(), "x".into())],
                values: wit::Item {
                    attributes: vec![],
                    nodes: vec![],
                },
            },
            upsert: false,
        });
        assert_eq!(
            from_guest(update, &tables()).unwrap_err(),
            "name placeholder `a` must start with `#`"
        );
    }
}
