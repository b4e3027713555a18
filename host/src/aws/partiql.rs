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

use aws_sdk_dynamodb::Client;

use super::convert::{to_aws, to_aws_item};
use super::retry::{error_code, RetryPolicy};
use crate::model::item::{Item, Value};
use crate::model::schema::{KeySchema, ScalarType, TableSchema};

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

/// Why a server does not take our statements on a table, as [`probe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementsRefused(pub String);

/// Finds whether the server takes our batched `UPDATE` statements on `table`, writing nothing:
/// an update of a key that does not exist, in the shape [`update_statement`] writes (`SET`
/// and `REMOVE`), must fail with `ConditionalCheckFailed`, as DynamoDB's does. A server
/// without PartiQL (ScyllaDB Alternator), with a parser that cannot read the statement
/// (moto), or whose `UPDATE` creates a missing item, is refused: its updates must go as
/// `UpdateItem`. The probe is tried a few times at most: a server that keeps failing it is
/// not one to send batches to.
pub async fn probe(
    client: &Client,
    policy: &RetryPolicy,
    schema: &TableSchema,
) -> Result<(), StatementsRefused> {
    use aws_sdk_dynamodb::types::{BatchStatementErrorCodeEnum as Code, BatchStatementRequest};
    let refused = |why: String| Err(StatementsRefused(why));
    let key = probe_key(schema);
    let values = Item::new().with(":p", "drift-host probe");
    let Some(statement) = update_statement(
        &schema.name,
        &schema.key,
        &key,
        "SET drift_host_probe = :p REMOVE drift_host_probe_removed",
        &BTreeMap::new(),
        &values,
    ) else {
        return refused("the probe statement does not translate".into());
    };
    let request = BatchStatementRequest::builder()
        .statement(&statement.text)
        .set_parameters(Some(statement.parameters.clone()))
        .build()
        .map_err(|e| StatementsRefused(e.to_string()))?;
    let policy = RetryPolicy {
        max_attempts: policy.max_attempts.min(3),
        ..policy.clone()
    };
    let output = match policy
        .run(|| {
            client
                .batch_execute_statement()
                .statements(request.clone())
                .send()
        })
        .await
    {
        Ok(output) => output,
        Err(error) => return refused(format!("BatchExecuteStatement: {}", error_code(&error))),
    };
    match output.responses() {
        [response] => match response.error() {
            Some(error) if error.code() == Some(&Code::ConditionalCheckFailed) => Ok(()),
            Some(error) => refused(format!(
                "its UPDATE statement failed with {}: {}",
                error.code().map_or("no code", |c| c.as_str()),
                error.message().unwrap_or_default()
            )),
            None => {
                // It created the item: remove it again, and never let it recreate items.
                let _ = policy
                    .run(|| {
                        client
                            .delete_item()
                            .table_name(&schema.name)
                            .set_key(Some(to_aws_item(&key)))
                            .send()
                    })
                    .await;
                refused("its UPDATE statement created a missing item".into())
            }
        },
        responses => refused(format!(
            "BatchExecuteStatement answered {} responses to one statement",
            responses.len()
        )),
    }
}

/// A key of `schema` that no real item has: random values of the declared types.
fn probe_key(schema: &TableSchema) -> Item {
    let random = uuid::Uuid::new_v4();
    schema
        .key
        .attributes()
        .map(|name| {
            let value = match schema.types.get(name) {
                Some(ScalarType::N) => {
                    Value::N(format!("-0.{}1", random.as_u128() % 10u128.pow(30)))
                }
                Some(ScalarType::B) => Value::B(random.as_bytes().to_vec()),
                _ => Value::S(format!("drift-host-probe-{random}")),
            };
            (name.to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
