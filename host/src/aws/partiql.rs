//! Updates as PartiQL statements, so that up to 25 of them go in one `BatchExecuteStatement`
//! request instead of one `UpdateItem` each: fewer requests, less client and server CPU.
//!
//! The translation is structural, from the parsed update expression: every attribute name is
//! quoted (no reserved word can clash, a `"` in a name is doubled), every value is a `?`
//! parameter, nothing is substituted into text. It covers the updates that go out in batches:
//! `SET path = :value` and `REMOVE path`, on map paths without list indexes, of an item that
//! must exist. A PartiQL `UPDATE` never creates an item (a missing key fails the statement with
//! `ConditionalCheckFailed`), which is exactly the guard an update without `upsert` carries.
//! Anything else (an upsert, a condition, `if_not_exists`, arithmetic, `ADD`, `DELETE`, list
//! indexes) is not translated: it goes by `UpdateItem` (or a transaction) as before.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use drift_value::expression::{Clause, DocumentPath, Element, Operand, Term, UpdateExpression};

use super::convert::to_aws;
use crate::model::item::Item;
use crate::model::schema::KeySchema;

/// One PartiQL statement and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The statement's text, with `?` for every value.
    pub text: String,
    /// The values, in the order of the `?`.
    pub parameters: Vec<AttributeValue>,
}

/// `"name"` with `"` doubled: a PartiQL quoted identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The PartiQL spelling of `path` (`"a"."b"`), resolving name placeholders; `None` for a path
/// through a list index or with an undefined placeholder.
fn path(path: &DocumentPath, names: &BTreeMap<String, String>) -> Option<String> {
    let parts = path
        .0
        .iter()
        .map(|element| match element {
            Element::Name(name) => Some(quoted(name)),
            Element::NamePlaceholder(placeholder) => names.get(placeholder).map(|n| quoted(n)),
            Element::Index(_) => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(parts.join("."))
}

/// The `UPDATE` statement doing what `expression` does to the existing item `key` of `table`
/// (with `schema`), or `None` when the update is not one that translates (see the module doc).
pub fn update_statement(
    table: &str,
    schema: &KeySchema,
    key: &Item,
    expression: &str,
    names: &BTreeMap<String, String>,
    values: &Item,
) -> Option<Statement> {
    let parsed = UpdateExpression::parse(expression).ok()?;
    let mut text = format!("UPDATE {}", quoted(table));
    let mut parameters = Vec::new();
    for clause in &parsed.clauses {
        match clause {
            Clause::Set(actions) => {
                for action in actions {
                    let Operand::Term(Term::Value(placeholder)) = &action.value else {
                        return None;
                    };
                    parameters.push(to_aws(values.get(placeholder)?));
                    text.push_str(&format!(" SET {}=?", path(&action.path, names)?));
                }
            }
            Clause::Remove(paths) => {
                for removed in paths {
                    text.push_str(&format!(" REMOVE {}", path(removed, names)?));
                }
            }
            Clause::Add(_) | Clause::Delete(_) => return None,
        }
    }
    text.push_str(&format!(" WHERE {}=?", quoted(&schema.hash)));
    parameters.push(to_aws(key.get(&schema.hash)?));
    if let Some(range) = &schema.range {
        text.push_str(&format!(" AND {}=?", quoted(range)));
        parameters.push(to_aws(key.get(range)?));
    }
    Some(Statement { text, parameters })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::item::Value;

    fn schema(range: Option<&str>) -> KeySchema {
        KeySchema {
            hash: "id".into(),
            range: range.map(str::to_owned),
        }
    }

    #[test]
    fn sets_and_removes_become_one_quoted_statement_with_parameters() {
        let names = BTreeMap::from([
            ("#d0".to_owned(), "email lower".to_owned()),
            ("#d1".to_owned(), "we\"ird".to_owned()),
        ]);
        let values = Item::new().with(":v0", "a@b.c").with(":v1", 2);
        let key = Item::new().with("id", "u1").with("sk", 7);
        let statement = update_statement(
            "users",
            &schema(Some("sk")),
            &key,
            "SET #d0 = :v0, m.#d1 = :v1 REMOVE name, m.x",
            &names,
            &values,
        )
        .unwrap();
        assert_eq!(
            statement.text,
            r#"UPDATE "users" SET "email lower"=? SET "m"."we""ird"=? REMOVE "name" REMOVE "m"."x" WHERE "id"=? AND "sk"=?"#
        );
        assert_eq!(
            statement.parameters,
            vec![
                AttributeValue::S("a@b.c".into()),
                AttributeValue::N("2".into()),
                AttributeValue::S("u1".into()),
                AttributeValue::N("7".into()),
            ]
        );
    }

    #[test]
    fn what_does_not_translate_exactly_is_left_alone() {
        let values = Item::new()
            .with(":v", 1)
            .with(":s", Value::Ss(vec!["x".into()]));
        let key = Item::new().with("id", "u1");
        for expression in [
            "SET a = if_not_exists(a, :v)",
            "SET a = a + :v",
            "SET a = list_append(a, :v)",
            "SET a = b",
            "ADD n :v",
            "DELETE s :s",
            "SET l[0] = :v",
            "REMOVE l[1]",
            "SET a = :undefined",
            "SET #undefined = :v",
            "not an expression",
        ] {
            let statement = update_statement(
                "t",
                &schema(None),
                &key,
                expression,
                &BTreeMap::new(),
                &values,
            );
            assert_eq!(statement, None, "{expression}");
        }
    }
}
