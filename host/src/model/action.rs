//! A deferred write as the host keeps it: checked (see `engine::guest_action`), journaled,
//! applied; and the tables a migration may write to.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use drift_value::expression::UpdateExpression;

use super::item::{to_json_item, Item};

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
        self.applied_kind().name()
    }

    /// The kind alone, without what is written.
    pub fn applied_kind(&self) -> AppliedKind {
        match self {
            ActionKind::Put { .. } => AppliedKind::Put,
            ActionKind::Update { .. } => AppliedKind::Update,
            ActionKind::Delete { .. } => AppliedKind::Delete,
        }
    }
}

/// The kind of a write, without what is written: what counts are kept by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliedKind {
    /// A put.
    Put,
    /// An update.
    Update,
    /// A delete.
    Delete,
}

impl AppliedKind {
    /// `put`, `update` or `delete`.
    pub fn name(self) -> &'static str {
        match self {
            AppliedKind::Put => "put",
            AppliedKind::Update => "update",
            AppliedKind::Delete => "delete",
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

impl Action {
    /// Whether applying this action twice in a row leaves what applying it once does, so a
    /// resume may simply repeat it. Puts, deletes, and updates that only SET values
    /// (`a = :v`, `a = if_not_exists(a, :v)`), REMOVE, or DELETE from sets do. A condition may
    /// not hold the second time; `ADD`, arithmetic and `list_append` add again; a SET from
    /// another attribute reads what the first time changed; an expression that does not
    /// parse is taken as not repeatable.
    pub fn is_repeatable(&self) -> bool {
        if self.condition.is_some() {
            return false;
        }
        match &self.kind {
            ActionKind::Update { expression, .. } => {
                UpdateExpression::parse(expression).is_ok_and(|parsed| parsed.is_repeatable())
            }
            ActionKind::Put { .. } | ActionKind::Delete { .. } => true,
        }
    }

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

    fn update(expression: &str, condition: Option<&str>) -> Action {
        Action {
            table: "t".into(),
            kind: ActionKind::Update {
                key: Item::new(),
                expression: expression.into(),
                upsert: false,
            },
            condition: condition.map(str::to_owned),
            names: Default::default(),
            values: Item::new(),
        }
    }

    #[test]
    fn conditions_and_unrepeatable_expressions_go_exactly_once() {
        assert!(update("SET a = :a REMOVE b", None).is_repeatable());
        assert!(!update("ADD visits :one", None).is_repeatable());
        assert!(!update("garbage", None).is_repeatable());
        assert!(!update("SET a = :a", Some("attribute_exists(a)")).is_repeatable());
    }
}
