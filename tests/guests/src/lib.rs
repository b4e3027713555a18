//! A migration that misbehaves on purpose, chosen per item by its `behave` attribute.
//!
//! One component covers every scenario, so the tests build a single guest. It implements the
//! raw WIT bindings (not the SDK's `Migration` trait) because some scenarios return arenas the
//! SDK can never produce.

use drift_sdk::bindings::drift::migration::dynamodb as db;
use drift_sdk::bindings::drift::migration::types::{
    Action, DeleteAction, ExpressionAttributes, Info, Item, PutAction, UpdateAction, Value,
};
use drift_sdk::bindings::Guest;

struct Hostile;

fn empty() -> Item {
    Item {
        attributes: vec![],
        nodes: vec![],
    }
}

fn put(item: Item, table: Option<&str>) -> Action {
    Action::Put(PutAction {
        table: table.map(str::to_owned),
        item,
        condition: None,
        attributes: ExpressionAttributes {
            names: vec![],
            values: empty(),
        },
    })
}

/// The item's `id` attribute alone, as a key.
fn key_of(item: &Item) -> Item {
    let (_, index) = item
        .attributes
        .iter()
        .find(|(name, _)| name == "id")
        .expect("an id");
    Item {
        attributes: vec![("id".into(), 0)],
        nodes: vec![item.nodes[*index as usize].clone()],
    }
}

/// `SET touched = :t` on the item's key.
fn touch(item: &Item) -> Action {
    Action::Update(UpdateAction {
        table: None,
        key: key_of(item),
        update_expression: "SET touched = :t".into(),
        condition: None,
        attributes: ExpressionAttributes {
            names: vec![],
            values: Item {
                attributes: vec![(":t".into(), 0)],
                nodes: vec![Value::Boolean(true)],
            },
        },
        upsert: false,
    })
}

/// An item of top-level values, in order.
fn flat(pairs: Vec<(&str, Value)>) -> Item {
    Item {
        attributes: pairs
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.to_string(), i as u32))
            .collect(),
        nodes: pairs.into_iter().map(|(_, value)| value).collect(),
    }
}

fn placeholders(values: Item) -> ExpressionAttributes {
    ExpressionAttributes {
        names: vec![],
        values,
    }
}

/// Every kind of write, for the crash tests: on the item, an update that must not run twice
/// (`ADD`, `list_append`); in `hostile_copy`, a copy (batched put), a conditional put of a
/// ledger entry, then a repeatable update of the copy, or for ids ending in 7 its delete.
fn mixed(item: &Item) -> Result<Vec<Action>, String> {
    let key = key_of(item);
    let Some(Value::S(id)) = key.nodes.first().cloned() else {
        return Err("the id is not a string".into());
    };
    let n = item
        .attributes
        .iter()
        .find(|(name, _)| name == "n")
        .map(|(_, index)| item.nodes[*index as usize].clone())
        .ok_or("no n")?;
    let mut values = flat(vec![
        (":one", Value::N("1".into())),
        (":t", Value::Boolean(true)),
        (":empty", Value::L(vec![])),
        (":entry", Value::L(vec![4])),
    ]);
    values.nodes.push(Value::S("visit".into()));
    let copy = Some("hostile_copy".to_string());
    let mut actions = vec![
        Action::Update(UpdateAction {
            table: None,
            key: key.clone(),
            update_expression:
                "ADD visits :one SET touched = :t, history = list_append(if_not_exists(history, :empty), :entry)"
                    .into(),
            condition: None,
            attributes: placeholders(values),
            upsert: false,
        }),
        Action::Put(PutAction {
            table: copy.clone(),
            item: flat(vec![("id", Value::S(id.clone())), ("n", n.clone())]),
            condition: None,
            attributes: placeholders(empty()),
        }),
        Action::Put(PutAction {
            table: copy.clone(),
            item: flat(vec![("id", Value::S(format!("{id}#ledger"))), ("n", n)]),
            condition: Some("attribute_not_exists(id)".into()),
            attributes: placeholders(empty()),
        }),
    ];
    // A repeatable update of a copy that a later delete removes would, when repeated by a
    // resume, find it gone: the table is the same, but the repeat counts as a conflict. The
    // deleted copies are not updated, so the counts compare exactly.
    actions.push(if id.ends_with('7') {
        Action::Delete(DeleteAction {
            table: copy,
            key,
            condition: None,
            attributes: placeholders(empty()),
        })
    } else {
        Action::Update(UpdateAction {
            table: copy,
            key,
            update_expression: "SET stamped = :t".into(),
            condition: None,
            attributes: placeholders(flat(vec![(":t", Value::Boolean(true))])),
            upsert: false,
        })
    });
    Ok(actions)
}

fn db_error(error: db::DbError) -> String {
    match error {
        db::DbError::ConditionalCheckFailed => "condition check failed".into(),
        db::DbError::Refused(why) => format!("refused: {why}"),
        db::DbError::Failed(why) => format!("failed: {why}"),
    }
}

fn behaviour(item: &Item) -> String {
    item.attributes
        .iter()
        .find(|(name, _)| name == "behave")
        .and_then(|(_, index)| match item.nodes.get(*index as usize) {
            Some(Value::S(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "echo".into())
}

/// Recursion with no end; each frame stays live across the call, so it cannot become a loop.
#[allow(unconditional_recursion)]
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    let below = recurse(frame[1] + 1);
    std::hint::black_box(&frame);
    below + frame[2]
}

impl Guest for Hostile {
    fn info() -> Info {
        Info {
            number: 900,
            name: "hostile".into(),
            description: "Misbehaves on purpose.".into(),
            table: "hostile".into(),
            other_tables: vec!["hostile_copy".into()],
        }
    }

    fn migrate(item: Item) -> Result<Vec<Action>, String> {
        match behaviour(&item).as_str() {
            "echo" => Ok(vec![put(item, None)]),
            "remove" => Ok(vec![Action::Delete(DeleteAction {
                table: None,
                key: key_of(&item),
                condition: None,
                attributes: placeholders(empty()),
            })]),
            "sdk-echo" => {
                let tree = drift_sdk::arena::decode_item(item)?;
                Ok(vec![put(drift_sdk::arena::encode_item(&tree), None)])
            }
            "copy" => Ok(vec![put(item, Some("hostile_copy"))]),
            "none" => Ok(vec![]),
            "touch" => Ok(vec![touch(&item)]),
            // Not idempotent: every call adds one more.
            "count" => Ok(vec![Action::Update(UpdateAction {
                table: None,
                key: key_of(&item),
                update_expression: "ADD visits :one".into(),
                condition: None,
                attributes: placeholders(flat(vec![(":one", Value::N("1".into()))])),
                upsert: false,
            })]),
            "mixed" => mixed(&item),
            // 50 puts of ~8 KB per item, into the scanned table under new ids.
            "fanout" => {
                let Some(Value::S(id)) = key_of(&item).nodes.into_iter().next() else {
                    return Err("the id is not a string".into());
                };
                Ok((0..50)
                    .map(|k| {
                        put(
                            Item {
                                attributes: vec![("id".into(), 0), ("pad".into(), 1)],
                                nodes: vec![
                                    Value::S(format!("{id}#{k}")),
                                    Value::B(vec![k as u8; 8000]),
                                ],
                            },
                            None,
                        )
                    })
                    .collect())
            }
            "slow" => {
                let start = std::time::Instant::now();
                while start.elapsed() < std::time::Duration::from_millis(50) {
                    std::hint::black_box(0);
                }
                Ok(vec![touch(&item)])
            }
            // The application deletes the item while the migration runs: the deferred update
            // must then be a conflict, not a resurrection.
            "deleted-meanwhile" => {
                let none = ExpressionAttributes {
                    names: vec![],
                    values: empty(),
                };
                db::delete_item("hostile", &key_of(&item), None, &none).map_err(db_error)?;
                Ok(vec![touch(&item)])
            }
            "lookup" => match db::get_item("hostile", &key_of(&item)).map_err(db_error)? {
                Some(_) => Ok(vec![touch(&item)]),
                None => Err("the item was not found by its own key".into()),
            },
            "db-undeclared" => db::get_item("not_declared", &key_of(&item))
                .map(|_| vec![])
                .map_err(db_error),
            "error" => Err("refused on purpose".into()),
            "trap" => panic!("trapped on purpose"),
            "loop" => loop {
                std::hint::black_box(0);
            },
            "recurse" => Ok(vec![put(empty(), Some(&recurse(0).to_string()))]),
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "bad-index" => Ok(vec![put(
                Item {
                    attributes: vec![("id".into(), 7)],
                    nodes: vec![Value::S("x".into())],
                },
                None,
            )]),
            "cycle" => Ok(vec![put(
                Item {
                    attributes: vec![("id".into(), 0), ("l".into(), 1)],
                    nodes: vec![Value::S("x".into()), Value::L(vec![1])],
                },
                None,
            )]),
            "undeclared-table" => Ok(vec![put(item, Some("not_declared"))]),
            "big-item" => {
                let mut big = item;
                big.attributes.push(("blob".into(), big.nodes.len() as u32));
                big.nodes.push(Value::B(vec![7; 500 * 1024]));
                Ok(vec![put(big, None)])
            }
            "many-actions" => Ok((0..20_000).map(|_| put(item.clone(), None)).collect()),
            other => Err(format!("unknown behaviour `{other}`")),
        }
    }

    fn rollback(item: Item) -> Result<Vec<Action>, String> {
        Self::migrate(item)
    }
}

drift_sdk::bindings::export!(Hostile with_types_in drift_sdk::bindings);
