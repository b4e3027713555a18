//! Actions applied to items in memory, as DynamoDB would apply them (updates through
//! drift-value's evaluator): the after-state that `plan`, `exec --diff` and `drift-host test`
//! show. Condition expressions are taken to hold; an update that may not create its item
//! (no upsert) finds it missing as a conflict, as the host's apply does.

use std::collections::BTreeMap;

use drift_value::expression::{readable, UpdateExpression};
use drift_value::limits::canonical_number;

use crate::model::action::{Action, ActionKind};
use crate::model::item::{to_json_item, Item, Value};
use crate::model::source::key_identity;

/// Tables in memory.
#[derive(Debug, Default, Clone)]
pub struct MemoryTables {
    tables: BTreeMap<String, MemoryTable>,
}

#[derive(Debug, Default, Clone)]
struct MemoryTable {
    key: Option<Vec<String>>,
    items: BTreeMap<Vec<u8>, Item>,
}

/// What applying one action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The item was written or deleted.
    Written,
    /// Not applied, for this reason (an update of a missing item that may not create it).
    Conflict(String),
}

impl MemoryTable {
    fn key_of(&self, table: &str, item: &Item) -> Result<Vec<u8>, String> {
        let names = self.key.as_ref().ok_or_else(|| {
            format!("the key attributes of table `{table}` are unknown: name them (e.g. --key id)")
        })?;
        let mut key = Item::new();
        for name in names {
            let value = item
                .get(name)
                .ok_or_else(|| format!("an item of `{table}` has no key attribute `{name}`"))?;
            key.insert(name.clone(), value.clone());
        }
        Ok(key_identity(&key))
    }

    /// Learns the key attributes from a key (an update's or a delete's), if not known.
    fn learn(&mut self, key: &Item) {
        if self.key.is_none() {
            self.key = Some(key.keys().cloned().collect());
        }
    }
}

impl MemoryTables {
    /// Empty tables.
    pub fn new() -> MemoryTables {
        MemoryTables::default()
    }

    /// Sets the key attributes of `table` (otherwise learnt from the first update or delete).
    pub fn set_key(&mut self, table: &str, names: Vec<String>) {
        self.tables.entry(table.to_owned()).or_default().key = Some(names);
    }

    /// Whether `table`'s key attributes are known.
    pub fn knows_key(&self, table: &str) -> bool {
        self.tables.get(table).is_some_and(|t| t.key.is_some())
    }

    /// Puts `item` into `table`.
    pub fn insert(&mut self, table: &str, item: Item) -> Result<(), String> {
        let memory = self.tables.entry(table.to_owned()).or_default();
        let key = memory.key_of(table, &item)?;
        memory.items.insert(key, item);
        Ok(())
    }

    /// The item of `table` with `key`.
    pub fn get(&self, table: &str, key: &Item) -> Option<&Item> {
        self.tables.get(table)?.items.get(&key_identity(key))
    }

    /// Applies `action`; errors are what DynamoDB would refuse (and an unknown key schema).
    pub fn apply(&mut self, action: &Action) -> Result<Applied, String> {
        let memory = self.tables.entry(action.table.clone()).or_default();
        match &action.kind {
            ActionKind::Put { item } => {
                let key = memory.key_of(&action.table, item)?;
                memory.items.insert(key, item.clone());
            }
            ActionKind::Delete { key } => {
                memory.learn(key);
                memory.items.remove(&key_identity(key));
            }
            ActionKind::Update {
                key,
                expression,
                upsert,
            } => {
                memory.learn(key);
                let identity = key_identity(key);
                let before = memory.items.get(&identity);
                if before.is_none() && !upsert {
                    return Ok(Applied::Conflict(
                        "the item does not exist (and the update may not create it)".into(),
                    ));
                }
                let parsed = UpdateExpression::parse(expression)
                    .map_err(|e| format!("Invalid UpdateExpression: {e}"))?;
                let after = if action.condition.is_some() {
                    parsed.apply_allowing_unused(before, key, &action.names, &action.values)
                } else {
                    parsed.apply(before, key, &action.names, &action.values)
                }?;
                memory.items.insert(identity, after);
            }
        }
        Ok(Applied::Written)
    }

    /// The names of the tables that hold items or were written to.
    pub fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    /// The items of `table`, ordered by key, with sets sorted (DynamoDB's sets have no order).
    pub fn items(&self, table: &str) -> Vec<Item> {
        self.tables
            .get(table)
            .map(|t| t.items.values().map(canonical_item).collect())
            .unwrap_or_default()
    }
}

/// `item` with numbers in canonical form and every set sorted, so that equal items compare
/// equal (DynamoDB keeps `1E+3` as `1000`, and sets have no order).
pub fn canonical_item(item: &Item) -> Item {
    item.iter()
        .map(|(name, value)| (name.clone(), canonical(value)))
        .collect()
}

/// `value` as [`canonical_item`] spells values.
pub fn canonical(value: &Value) -> Value {
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let number = |n: &String| canonical_number(n).unwrap_or_else(|_| n.clone());
    match value {
        Value::N(n) => Value::N(number(n)),
        Value::Ss(set) => Value::Ss(sorted(set.clone())),
        Value::Ns(set) => {
            let mut numbers: Vec<String> = set.iter().map(number).collect();
            numbers.sort_by(|a, b| {
                let (x, y) = (a.parse::<f64>(), b.parse::<f64>());
                match (x, y) {
                    (Ok(x), Ok(y)) => x.total_cmp(&y),
                    _ => a.cmp(b),
                }
            });
            Value::Ns(numbers)
        }
        Value::Bs(set) => {
            let mut bytes = set.clone();
            bytes.sort();
            Value::Bs(bytes)
        }
        Value::L(list) => Value::L(list.iter().map(canonical).collect()),
        Value::M(map) => Value::M(canonical_item(map)),
        other => other.clone(),
    }
}

/// One line for an action: `put into T: {item}`, `update T {key}: SET a = "v"` (placeholders
/// resolved), `delete from T: {key}`.
pub fn describe(action: &Action) -> String {
    match &action.kind {
        ActionKind::Put { item } => format!("put into {}: {}", action.table, to_json_item(item)),
        ActionKind::Update {
            key, expression, ..
        } => {
            let readable = UpdateExpression::parse(expression)
                .and_then(|e| e.resolve(&action.names, &action.values))
                .unwrap_or_else(|_| expression.clone());
            format!("update {} {}: {readable}", action.table, to_json_item(key))
        }
        ActionKind::Delete { key } => {
            format!("delete from {}: {}", action.table, to_json_item(key))
        }
    }
}

/// The key attributes of `table` as the first update or delete on it names them.
pub fn key_names_of(table: &str, actions: &[Action]) -> Option<Vec<String>> {
    actions.iter().find_map(|a| match &a.kind {
        ActionKind::Update { key, .. } | ActionKind::Delete { key } if a.table == table => {
            Some(key.keys().cloned().collect())
        }
        _ => None,
    })
}

/// The lines `exec --diff` and `plan` show for one item: what its actions change in it (or
/// that they delete it), then each action on another table. `key` names the item's table's
/// key attributes (learnt from its updates and deletes when empty).
pub fn item_diff(item: &Item, table: &str, key: &[String], actions: &[Action]) -> Vec<String> {
    let mut memory = MemoryTables::new();
    let names = match key.is_empty() {
        true => key_names_of(table, actions),
        false => Some(key.to_vec()),
    };
    let mut lines = Vec::new();
    let Some(names) = names else {
        lines.extend(actions.iter().map(describe));
        return lines;
    };
    memory.set_key(table, names.clone());
    if let Err(why) = memory.insert(table, item.clone()) {
        lines.push(format!("cannot show the change: {why}"));
        lines.extend(actions.iter().map(describe));
        return lines;
    }
    for action in actions {
        if action.table != table {
            lines.push(describe(action));
        }
        match memory.apply(action) {
            Ok(Applied::Written) => {}
            Ok(Applied::Conflict(why)) => lines.push(format!("conflict: {why}")),
            Err(why) => lines.push(format!("refused: {why}")),
        }
    }
    let item_key: Item = names
        .iter()
        .filter_map(|n| Some((n.clone(), item.get(n)?.clone())))
        .collect();
    match memory.get(table, &item_key) {
        Some(after) => {
            let mut changed = changes(Some(item), Some(after));
            changed.extend(lines);
            changed
        }
        None => {
            let mut all = vec!["deleted".to_owned()];
            all.extend(lines);
            all
        }
    }
}

/// What changed between `before` and `after` (an absent item is `None`), one line per
/// attribute: `+ name: value`, `- name: value`, `~ name: old → new`.
pub fn changes(before: Option<&Item>, after: Option<&Item>) -> Vec<String> {
    let empty = Item::new();
    let (old, new) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    let mut lines = Vec::new();
    for name in names {
        let (a, b) = (old.get(name).map(canonical), new.get(name).map(canonical));
        match (a, b) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => {
                lines.push(format!("~ {name}: {} → {}", readable(&a), readable(&b)))
            }
            (Some(a), None) => lines.push(format!("- {name}: {}", readable(&a))),
            (None, Some(b)) => lines.push(format!("+ {name}: {}", readable(&b))),
            (None, None) => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(key: Item, expression: &str, values: Item, upsert: bool) -> Action {
        Action {
            table: "t".into(),
            kind: ActionKind::Update {
                key,
                expression: expression.into(),
                upsert,
            },
            condition: None,
            names: BTreeMap::new(),
            values,
        }
    }

    #[test]
    fn actions_apply_in_order() {
        let mut tables = MemoryTables::new();
        tables.set_key("t", vec!["id".into()]);
        let ada = Item::new().with("id", "a").with("n", 1);
        tables.insert("t", ada.clone()).unwrap();
        let key = Item::new().with("id", "a");
        let add = update(
            key.clone(),
            "SET n = n + :one",
            Item::new().with(":one", 1),
            false,
        );
        assert_eq!(tables.apply(&add).unwrap(), Applied::Written);
        assert_eq!(tables.get("t", &key).unwrap().get_i64("n"), Some(2));
        let missing = update(
            Item::new().with("id", "b"),
            "SET n = :one",
            Item::new().with(":one", 1),
            false,
        );
        assert!(matches!(
            tables.apply(&missing).unwrap(),
            Applied::Conflict(_)
        ));
        let upsert = update(
            Item::new().with("id", "b"),
            "SET n = :one",
            Item::new().with(":one", 1),
            true,
        );
        assert_eq!(tables.apply(&upsert).unwrap(), Applied::Written);
        assert_eq!(tables.items("t").len(), 2);
        let delete = Action {
            kind: ActionKind::Delete { key: key.clone() },
            ..add.clone()
        };
        tables.apply(&delete).unwrap();
        assert!(tables.get("t", &key).is_none());
        // A put into a table whose key nobody named is an error that says what to do.
        let put = Action {
            table: "other".into(),
            kind: ActionKind::Put { item: ada },
            ..add
        };
        assert!(tables.apply(&put).unwrap_err().contains("--key"));
    }

    #[test]
    fn changes_list_each_attribute() {
        let before = Item::new().with("id", "a").with("name", "Ada").with("n", 1);
        let after = Item::new()
            .with("id", "a")
            .with("full_name", "Ada")
            .with("n", 2);
        assert_eq!(
            changes(Some(&before), Some(&after)),
            ["+ full_name: \"Ada\"", "~ n: 1 → 2", "- name: \"Ada\""]
        );
        assert_eq!(changes(Some(&before), None).len(), 3);
        assert!(changes(Some(&before), Some(&before)).is_empty());
    }
}
