//! The guest of the model-based crash test (`tests/all/model/`): every scanned item carries
//! its own `script`, a list of action specs, and `migrate` returns exactly those actions. The
//! test generates the scripts from a seed and predicts the tables with an in-memory model, so
//! the guest holds no logic of its own to get wrong.
//!
//! A spec is a map: `kind` (`put`, `update` or `delete`), `table` (optional), `item` (put) or
//! `key`, `expr` (update), `cond`, `names` (map of strings), `values` (map), `upsert` (bool).

use drift_sdk::prelude::*;
use drift_sdk::Error;

/// The scripted migration.
pub struct Scripted;

impl Migration for Scripted {
    fn info() -> Info {
        Info::new(901, "model", "model_src")
            .description("Replays the actions each item carries (model-based crash test).")
            .other_table("model_s")
            .other_table("model_n")
            .other_table("model_sb")
    }

    fn migrate(item: Item) -> Result<Vec<Action>, Error> {
        match item.get("script") {
            Some(Value::L(specs)) => specs.iter().map(action).collect(),
            _ => Ok(vec![]),
        }
    }
}

fn action(spec: &Value) -> Result<Action, Error> {
    let spec = spec.as_map().ok_or("a script step is a map")?;
    let map = |name: &str| {
        spec.get(name)
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default()
    };
    match spec.get_str("kind") {
        Some("put") => Ok(with_common(&mut put(map("item")), spec).into()),
        Some("delete") => Ok(with_common(&mut delete(map("key")), spec).into()),
        Some("update") => {
            let mut update = update(map("key"));
            update.expression(spec.get_str("expr").unwrap_or_default());
            if spec.get_bool("upsert") == Some(true) {
                update.upsert();
            }
            Ok(with_common(&mut update, spec).into())
        }
        other => Err(format!("unknown action kind {other:?}").into()),
    }
}

/// Sets what every kind of action may carry: table, condition, placeholders.
fn with_common<'a, B: ActionBuilder>(action: &'a mut B, spec: &Item) -> &'a mut B {
    if let Some(table) = spec.get_str("table") {
        action.table(table);
    }
    if let Some(condition) = spec.get_str("cond") {
        action.condition(condition);
    }
    if let Some(names) = spec.get("names").and_then(Value::as_map) {
        for (placeholder, name) in names.iter() {
            action.name(placeholder.clone(), name.as_str().unwrap_or_default());
        }
    }
    if let Some(values) = spec.get("values").and_then(Value::as_map) {
        for (placeholder, value) in values.iter() {
            action.value(placeholder.clone(), value.clone());
        }
    }
    action
}

drift_sdk::export_migration!(Scripted);
