//! Converts a guest's action into the host's [`Action`], checking it before it may reach the
//! journal.
//!
//! Everything DynamoDB would reject that can be seen here (undeclared tables, bad keys,
//! oversized items, empty sets, malformed numbers, placeholders) is rejected now, while
//! nothing has been written, instead of failing half-way through the apply.

use std::collections::BTreeMap;

use super::bindings::{arena, wit};
use crate::model::action::{Action, ActionKind, Tables};
use crate::model::item::{check_item, check_key, validate_value};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::item::{Item, Value, MAX_ITEM_BYTES};

    fn tables() -> Tables {
        Tables::new("users", ["audit".to_string()])
    }

    fn key(value: Value) -> wit::Item {
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
        let ok = from_guest(delete(None, key(Value::S("u1".into()))), &tables()).unwrap();
        assert_eq!(ok.table, "users");
        let ok = from_guest(delete(Some("audit"), key(Value::S("u1".into()))), &tables()).unwrap();
        assert_eq!(ok.table, "audit");
        let error =
            from_guest(delete(Some("other"), key(Value::S("u1".into()))), &tables()).unwrap_err();
        assert_eq!(
            error,
            "table `other` is not declared in the migration's info()"
        );
    }

    #[test]
    fn keys_must_be_scalar_and_non_empty() {
        for (value, expected) in [
            (Value::S(String::new()), "empty string"),
            (Value::Bool(true), "of type BOOL"),
            (Value::N("x".into()), "not a DynamoDB number"),
        ] {
            let error = from_guest(delete(None, key(value)), &tables()).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn oversized_put_is_rejected() {
        let item: Item = [
            ("id".to_string(), Value::S("u1".into())),
            ("blob".to_string(), Value::B(vec![0; MAX_ITEM_BYTES])),
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
            key: key(Value::S("u1".into())),
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
