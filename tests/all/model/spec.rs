//! The model's actions: their kinds, a seeded generator, the scripts the guest reads, and
//! the in-memory tables they should leave.

use std::collections::BTreeMap;

use drift_host::model::item::{canonical_number, Item, Value};
use drift_host::model::source::key_identity;
use fastrand::Rng;

use super::ITEMS;

/// A table the guest writes to, with its key schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Table {
    /// The scanned table (`--table`), key `id` (S).
    Own,
    /// `model_s`, key `k` (S).
    S,
    /// `model_n`, key `k` (N).
    N,
    /// `model_sb`, partition key `k` (B), sort key `s` (S).
    Sb,
}

impl Table {
    pub(super) fn name(self) -> &'static str {
        match self {
            Table::Own => "model_src",
            Table::S => "model_s",
            Table::N => "model_n",
            Table::Sb => "model_sb",
        }
    }

    pub(super) fn hash(self) -> &'static str {
        match self {
            Table::Own => "id",
            _ => "k",
        }
    }

    pub(super) fn key_names(self) -> &'static [&'static str] {
        match self {
            Table::Own => &["id"],
            Table::Sb => &["k", "s"],
            _ => &["k"],
        }
    }
}

/// A condition on the item as it was before the write.
#[derive(Debug, Clone)]
pub(super) enum Condition {
    Exists(&'static str),
    NotExists(&'static str),
}

/// One change of an update, each on its own attribute.
#[derive(Debug, Clone)]
pub(super) enum Change {
    /// `SET a = :v`
    Set(&'static str, Value),
    /// `SET a = if_not_exists(a, :v)`
    SetIfNotExists(&'static str, Value),
    /// `SET n = if_not_exists(n, :zero) + :k`
    Increment(&'static str, i64),
    /// `ADD n :k` (a number) or `ADD tags :set`
    Add(&'static str, Value),
    /// `SET h = list_append(if_not_exists(h, :empty), :list)`
    Append(&'static str, Vec<Value>),
    /// `REMOVE a`
    Remove(&'static str),
    /// `DELETE tags :set`
    DeleteFromSet(&'static str, Vec<String>),
}

/// What an action does.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    Put(Item),
    Update { changes: Vec<Change>, upsert: bool },
    Delete,
}

/// One generated action.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub(super) table: Table,
    pub(super) key: Item,
    pub(super) kind: Kind,
    pub(super) condition: Option<Condition>,
}

/// Which counter an action moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Put,
    Update,
    Delete,
    Conflict,
}

/// The tables as the model sees them: per table, item identity → item.
pub(super) type Tables = BTreeMap<Table, BTreeMap<Vec<u8>, Item>>;

/// Counts as the metadata record keeps them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) puts: u64,
    pub(super) updates: u64,
    pub(super) deletes: u64,
    pub(super) conflicts: u64,
}

impl Counts {
    pub(super) fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Put => self.puts += 1,
            Outcome::Update => self.updates += 1,
            Outcome::Delete => self.deletes += 1,
            Outcome::Conflict => self.conflicts += 1,
        }
    }
}

pub(super) fn s(text: &str) -> Value {
    Value::S(text.to_owned())
}

pub(super) fn n(number: i64) -> Value {
    Value::N(number.to_string())
}

/// A random value for the free attribute `a`: any type, nested now and then.
pub(super) fn any_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.u32(0..if depth > 1 { 6 } else { 8 }) {
        0 => s(["", "x", "héllo", "a b"][rng.usize(0..4)]),
        1 => Value::N(["0", "-1.5", "12345678901234567890", "3E+2"][rng.usize(0..4)].into()),
        2 => Value::B(vec![rng.u8(..); rng.usize(1..4)]),
        3 => Value::Bool(rng.bool()),
        4 => Value::Null,
        5 => Value::Ss(strings(rng)),
        6 => Value::L(
            (0..rng.usize(0..3))
                .map(|_| any_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::M(
            (0..rng.usize(0..3))
                .map(|i| (format!("m{i}"), any_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// A non-empty set of a few strings.
pub(super) fn strings(rng: &mut Rng) -> Vec<String> {
    let mut set: Vec<String> = ["x", "y", "z", "w"]
        .iter()
        .filter(|_| rng.bool())
        .map(|t| t.to_string())
        .collect();
    if set.is_empty() {
        set.push("x".into());
    }
    set
}

/// The key of item `item`'s `slot`-th target in `table`; numbers spelled one of three ways.
pub(super) fn key(rng: &mut Rng, table: Table, item: usize, slot: usize) -> Item {
    match table {
        Table::Own => Item::new().with("id", format!("i{item:03}")),
        Table::S => Item::new().with("k", format!("s{item}-{slot}")),
        Table::N => {
            let number = (item * 10 + slot) as i64;
            let spelled = match rng.u32(0..3) {
                0 => number.to_string(),
                1 => format!("{number}.0"),
                _ => format!("{number}0E-1"),
            };
            Item::new().with("k", Value::N(spelled))
        }
        Table::Sb => Item::new()
            .with(
                "k",
                Value::B(vec![item as u8, (item >> 8) as u8, slot as u8]),
            )
            .with("s", format!("x{slot}")),
    }
}

pub(super) fn condition(rng: &mut Rng, table: Table) -> Option<Condition> {
    match rng.u32(0..8) {
        0 => Some(Condition::Exists(table.hash())),
        1 => Some(Condition::NotExists(table.hash())),
        2 => Some(Condition::Exists("a")),
        3 => Some(Condition::NotExists("n")),
        _ => None,
    }
}

/// A random update: each of the attributes `a`, `n`, `tags`, `h` at most once (DynamoDB
/// refuses two changes of one path), at least one change that creates something.
pub(super) fn changes(rng: &mut Rng) -> Vec<Change> {
    let mut changes = Vec::new();
    match rng.u32(0..4) {
        0 => changes.push(Change::Set("a", any_value(rng, 0))),
        1 => changes.push(Change::SetIfNotExists("a", any_value(rng, 0))),
        2 => changes.push(Change::Remove("a")),
        _ => {}
    }
    match rng.u32(0..4) {
        0 => changes.push(Change::Increment("n", rng.i64(-3..4))),
        1 => changes.push(Change::Add("n", n(rng.i64(1..4)))),
        2 => changes.push(Change::Set("n", n(rng.i64(0..9)))),
        _ => {}
    }
    match rng.u32(0..4) {
        0 => changes.push(Change::Add("tags", Value::Ss(strings(rng)))),
        1 => changes.push(Change::DeleteFromSet("tags", strings(rng))),
        2 => changes.push(Change::Remove("tags")),
        _ => {}
    }
    if rng.u32(0..3) == 0 {
        let list = (0..rng.usize(1..3)).map(|_| any_value(rng, 1)).collect();
        changes.push(Change::Append("h", list));
    }
    let creates = |c: &Change| !matches!(c, Change::Remove(_) | Change::DeleteFromSet(..));
    if !changes.iter().any(creates) {
        changes.retain(|c| !matches!(c, Change::Remove("a")));
        changes.push(Change::Set("a", s("made")));
    }
    changes
}

/// A whole item for a put: its key and some of `a`, `n`, `tags`, `h`.
pub(super) fn put_item(rng: &mut Rng, key: &Item) -> Item {
    let mut item = key.clone();
    if rng.bool() {
        item.insert("a".into(), any_value(rng, 0));
    }
    if rng.bool() {
        item.insert("n".into(), n(rng.i64(0..9)));
    }
    if rng.bool() {
        item.insert("tags".into(), Value::Ss(strings(rng)));
    }
    if rng.bool() {
        item.insert("h".into(), Value::L(vec![s("h0")]));
    }
    item
}

/// The scripts of one seed: per scanned item, its actions.
pub(super) fn generate(seed: u64) -> Vec<Vec<Spec>> {
    let mut rng = Rng::with_seed(seed);
    (0..ITEMS)
        .map(|item| {
            let mut specs = Vec::new();
            for _ in 0..rng.usize(0..5) {
                let table = [Table::Own, Table::S, Table::S, Table::N, Table::Sb][rng.usize(0..5)];
                // Two slots per table: several actions often meet on one key.
                let slot = rng.usize(0..2);
                let key = key(&mut rng, table, item, slot);
                let kind = match rng.u32(0..10) {
                    0..=2 => Kind::Put(put_item(&mut rng, &key)),
                    3..=7 => Kind::Update {
                        changes: changes(&mut rng),
                        upsert: rng.u32(0..3) > 0,
                    },
                    _ => Kind::Delete,
                };
                let condition = condition(&mut rng, table);
                specs.push(Spec {
                    table,
                    key,
                    kind,
                    condition,
                });
            }
            specs
        })
        .collect()
}

/// The placeholders of an expression being written.
#[derive(Default)]
pub(super) struct Placeholders {
    pub(super) names: Item,
    pub(super) values: Item,
}

impl Placeholders {
    pub(super) fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), s(attribute));
        placeholder
    }

    pub(super) fn value(&mut self, value: Value) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }
}

/// The update expression of `changes`.
pub(super) fn expression(changes: &[Change], p: &mut Placeholders) -> String {
    let (mut set, mut remove, mut add, mut delete) = (vec![], vec![], vec![], vec![]);
    for change in changes {
        match change {
            Change::Set(a, v) => set.push(format!("{} = {}", p.name(a), p.value(v.clone()))),
            Change::SetIfNotExists(a, v) => {
                let name = p.name(a);
                set.push(format!(
                    "{name} = if_not_exists({name}, {})",
                    p.value(v.clone())
                ));
            }
            Change::Increment(a, k) => {
                let name = p.name(a);
                let (zero, k) = (p.value(n(0)), p.value(n(*k)));
                set.push(format!("{name} = if_not_exists({name}, {zero}) + {k}"));
            }
            Change::Append(a, list) => {
                let name = p.name(a);
                let (empty, list) = (p.value(Value::L(vec![])), p.value(Value::L(list.clone())));
                set.push(format!(
                    "{name} = list_append(if_not_exists({name}, {empty}), {list})"
                ));
            }
            Change::Add(a, v) => add.push(format!("{} {}", p.name(a), p.value(v.clone()))),
            Change::Remove(a) => remove.push(p.name(a)),
            Change::DeleteFromSet(a, set_values) => {
                let value = p.value(Value::Ss(set_values.clone()));
                delete.push(format!("{} {value}", p.name(a)));
            }
        }
    }
    [
        ("SET", set),
        ("REMOVE", remove),
        ("ADD", add),
        ("DELETE", delete),
    ]
    .into_iter()
    .filter(|(_, parts)| !parts.is_empty())
    .map(|(keyword, parts)| format!("{keyword} {}", parts.join(", ")))
    .collect::<Vec<_>>()
    .join(" ")
}

/// The spec as the guest reads it (see `tests/guests-model`).
pub(super) fn to_script(spec: &Spec) -> Value {
    let mut p = Placeholders::default();
    let mut out = Item::new();
    if spec.table != Table::Own {
        out.insert("table".into(), s(spec.table.name()));
    }
    match &spec.kind {
        Kind::Put(item) => {
            out.insert("kind".into(), s("put"));
            out.insert("item".into(), Value::M(item.clone()));
        }
        Kind::Update { changes, upsert } => {
            out.insert("kind".into(), s("update"));
            out.insert("key".into(), Value::M(spec.key.clone()));
            out.insert("expr".into(), s(&expression(changes, &mut p)));
            out.insert("upsert".into(), Value::Bool(*upsert));
        }
        Kind::Delete => {
            out.insert("kind".into(), s("delete"));
            out.insert("key".into(), Value::M(spec.key.clone()));
        }
    }
    if let Some(condition) = &spec.condition {
        let text = match condition {
            Condition::Exists(a) => format!("attribute_exists({})", p.name(a)),
            Condition::NotExists(a) => format!("attribute_not_exists({})", p.name(a)),
        };
        out.insert("cond".into(), s(&text));
    }
    if !p.names.is_empty() {
        out.insert("names".into(), Value::M(p.names));
    }
    if !p.values.is_empty() {
        out.insert("values".into(), Value::M(p.values));
    }
    Value::M(out)
}

/// The scanned items of a seed: `id`, and the script.
pub(super) fn source_items(scripts: &[Vec<Spec>]) -> Vec<Item> {
    scripts
        .iter()
        .enumerate()
        .map(|(i, specs)| {
            Item::new()
                .with("id", format!("i{i:03}"))
                .with("script", Value::L(specs.iter().map(to_script).collect()))
        })
        .collect()
}

pub(super) fn identity(table: Table, item: &Item) -> Vec<u8> {
    let key: Item = table
        .key_names()
        .iter()
        .map(|name| (name.to_string(), item[*name].clone()))
        .collect();
    key_identity(&key)
}

pub(super) fn number(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::N(text)) => text.parse().expect("the model's numbers are whole"),
        _ => 0,
    }
}

/// The item after `changes`, as DynamoDB evaluates an update: every operand reads the item
/// as it was (the changes touch distinct attributes, so applying them in turn is the same).
pub(super) fn updated(old: Option<&Item>, key: &Item, changes: &[Change]) -> Item {
    let mut item = old.cloned().unwrap_or_else(|| key.clone());
    for change in changes {
        match change {
            Change::Set(a, v) => {
                item.insert(a.to_string(), v.clone());
            }
            Change::SetIfNotExists(a, v) => {
                if !item.contains_key(*a) {
                    item.insert(a.to_string(), v.clone());
                }
            }
            Change::Increment(a, k) => {
                let total = number(item.get(a)) + k;
                item.insert(a.to_string(), n(total));
            }
            Change::Add(a, Value::N(k)) => {
                let total = number(item.get(a)) + k.parse::<i64>().unwrap();
                item.insert(a.to_string(), n(total));
            }
            Change::Add(a, Value::Ss(more)) => {
                let mut set = match item.get(a) {
                    Some(Value::Ss(set)) => set.clone(),
                    _ => vec![],
                };
                set.extend(more.iter().cloned());
                set.sort();
                set.dedup();
                item.insert(a.to_string(), Value::Ss(set));
            }
            Change::Add(..) => unreachable!("ADD of numbers and sets only"),
            Change::Append(a, list) => {
                let mut all = match item.get(a) {
                    Some(Value::L(l)) => l.clone(),
                    _ => vec![],
                };
                all.extend(list.iter().cloned());
                item.insert(a.to_string(), Value::L(all));
            }
            Change::Remove(a) => {
                item.remove(a);
            }
            Change::DeleteFromSet(a, less) => {
                if let Some(Value::Ss(set)) = item.get(a) {
                    let left: Vec<String> =
                        set.iter().filter(|e| !less.contains(e)).cloned().collect();
                    if left.is_empty() {
                        item.remove(a);
                    } else {
                        item.insert(a.to_string(), Value::Ss(left));
                    }
                }
            }
        }
    }
    item
}

/// Applies `spec` to the model; says which counter it moves.
pub(super) fn apply(tables: &mut Tables, spec: &Spec) -> Outcome {
    let table = tables.entry(spec.table).or_default();
    let id = identity(spec.table, &spec.key);
    let old = table.get(&id);
    let holds = match &spec.condition {
        None => true,
        Some(Condition::Exists(a)) => old.is_some_and(|item| item.contains_key(*a)),
        Some(Condition::NotExists(a)) => !old.is_some_and(|item| item.contains_key(*a)),
    };
    let exists_if_needed = match &spec.kind {
        Kind::Update { upsert: false, .. } => old.is_some(),
        _ => true,
    };
    if !holds || !exists_if_needed {
        return Outcome::Conflict;
    }
    match &spec.kind {
        Kind::Put(item) => {
            table.insert(id, item.clone());
            Outcome::Put
        }
        Kind::Update { changes, .. } => {
            let item = updated(old, &spec.key, changes);
            table.insert(id, item);
            Outcome::Update
        }
        Kind::Delete => {
            table.remove(&id);
            Outcome::Delete
        }
    }
}

/// A value in one spelling: numbers canonical, sets sorted, recursively.
pub(super) fn normalized(value: &Value) -> Value {
    match value {
        Value::N(text) => Value::N(canonical_number(text).unwrap()),
        Value::Ns(set) => {
            let mut set: Vec<String> = set.iter().map(|t| canonical_number(t).unwrap()).collect();
            set.sort();
            Value::Ns(set)
        }
        Value::Ss(set) => {
            let mut set = set.clone();
            set.sort();
            Value::Ss(set)
        }
        Value::Bs(set) => {
            let mut set = set.clone();
            set.sort();
            Value::Bs(set)
        }
        Value::L(list) => Value::L(list.iter().map(normalized).collect()),
        Value::M(map) => Value::M(normalized_item(map)),
        other => other.clone(),
    }
}

pub(super) fn normalized_item(item: &Item) -> Item {
    item.iter()
        .map(|(k, v)| (k.clone(), normalized(v)))
        .collect()
}
