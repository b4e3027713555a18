//! Model-based crash test: seeded streams of actions, an in-memory model of the tables they
//! should leave, and runs killed with SIGKILL at random points (several per run) and resumed,
//! compared with the model, both tables and counts.
//!
//! Every scanned item carries its own script (see `tests/guests-model`): puts, updates and
//! deletes, repeatable and exactly-once, conditional and not, upserts and not, several on one
//! key, into four tables (keys S, N spelled several ways, B hash with S sort). The actions of
//! one key all come from one scanned item, so their journal order is known to the model.
//!
//! CI runs [`CI_SEEDS`] seeds; `DRIFT_MODEL_SEEDS=<n>` (and `DRIFT_MODEL_FIRST_SEED=<s>`) runs
//! more: `DRIFT_MODEL_SEEDS=2000 cargo test -p drift-host --features crash-points --test all
//! model::` (with DynamoDB Local, as `scripts/test` starts it). A failure names its seed, and
//! `DRIFT_MODEL_FIRST_SEED=<seed> DRIFT_MODEL_SEEDS=1` replays it.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;

use drift_host::aws::convert::from_aws_item;

use drift_host::model::item::{canonical_number, to_json_item, Item, Value};
use drift_host::model::source::key_identity;
use fastrand::Rng;

use crate::dynamodb::fill;
use crate::support::{block_on, client, command, drift_host, guest, stderr, stdout, unique};

/// Seeds CI runs (each killed up to [`KILLS_PER_SEED`] times).
const CI_SEEDS: u64 = 12;
/// Kills tried per seed: the run is resumed after each.
const KILLS_PER_SEED: usize = 4;
/// Scanned items per seed.
const ITEMS: usize = 48;

use crate::support::MODEL_TABLES as TABLES;

/// A table the guest writes to, with its key schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Table {
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
    fn name(self) -> &'static str {
        match self {
            Table::Own => "model_src",
            Table::S => "model_s",
            Table::N => "model_n",
            Table::Sb => "model_sb",
        }
    }

    fn hash(self) -> &'static str {
        match self {
            Table::Own => "id",
            _ => "k",
        }
    }

    fn key_names(self) -> &'static [&'static str] {
        match self {
            Table::Own => &["id"],
            Table::Sb => &["k", "s"],
            _ => &["k"],
        }
    }
}

/// A condition on the item as it was before the write.
#[derive(Debug, Clone)]
enum Condition {
    Exists(&'static str),
    NotExists(&'static str),
}

/// One change of an update, each on its own attribute.
#[derive(Debug, Clone)]
enum Change {
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
enum Kind {
    Put(Item),
    Update { changes: Vec<Change>, upsert: bool },
    Delete,
}

/// One generated action.
#[derive(Debug, Clone)]
struct Spec {
    table: Table,
    key: Item,
    kind: Kind,
    condition: Option<Condition>,
}

/// Which counter an action moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Put,
    Update,
    Delete,
    Conflict,
}

/// The tables as the model sees them: per table, item identity → item.
type Tables = BTreeMap<Table, BTreeMap<Vec<u8>, Item>>;

/// Counts as the metadata record keeps them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    puts: u64,
    updates: u64,
    deletes: u64,
    conflicts: u64,
}

impl Counts {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Put => self.puts += 1,
            Outcome::Update => self.updates += 1,
            Outcome::Delete => self.deletes += 1,
            Outcome::Conflict => self.conflicts += 1,
        }
    }
}

fn s(text: &str) -> Value {
    Value::S(text.to_owned())
}

fn n(number: i64) -> Value {
    Value::N(number.to_string())
}

/// A random value for the free attribute `a`: any type, nested now and then.
fn any_value(rng: &mut Rng, depth: u32) -> Value {
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
fn strings(rng: &mut Rng) -> Vec<String> {
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
fn key(rng: &mut Rng, table: Table, item: usize, slot: usize) -> Item {
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

fn condition(rng: &mut Rng, table: Table) -> Option<Condition> {
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
fn changes(rng: &mut Rng) -> Vec<Change> {
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
fn put_item(rng: &mut Rng, key: &Item) -> Item {
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
fn generate(seed: u64) -> Vec<Vec<Spec>> {
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
struct Placeholders {
    names: Item,
    values: Item,
}

impl Placeholders {
    fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), s(attribute));
        placeholder
    }

    fn value(&mut self, value: Value) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }
}

/// The update expression of `changes`.
fn expression(changes: &[Change], p: &mut Placeholders) -> String {
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
fn to_script(spec: &Spec) -> Value {
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
fn source_items(scripts: &[Vec<Spec>]) -> Vec<Item> {
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

fn identity(table: Table, item: &Item) -> Vec<u8> {
    let key: Item = table
        .key_names()
        .iter()
        .map(|name| (name.to_string(), item[*name].clone()))
        .collect();
    key_identity(&key)
}

fn number(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::N(text)) => text.parse().expect("the model's numbers are whole"),
        _ => 0,
    }
}

/// The item after `changes`, as DynamoDB evaluates an update: every operand reads the item
/// as it was (the changes touch distinct attributes, so applying them in turn is the same).
fn updated(old: Option<&Item>, key: &Item, changes: &[Change]) -> Item {
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
fn apply(tables: &mut Tables, spec: &Spec) -> Outcome {
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
fn normalized(value: &Value) -> Value {
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

fn normalized_item(item: &Item) -> Item {
    item.iter()
        .map(|(k, v)| (k.clone(), normalized(v)))
        .collect()
}

/// Deletes and creates the model's other tables, empty.
fn fresh_tables() {
    crate::support::model_tables(true);
}

/// What DynamoDB holds, as the model keeps it.
fn actual(own: &str) -> Tables {
    let client = client();
    let mut tables = Tables::new();
    for table in [Table::Own, Table::S, Table::N, Table::Sb] {
        let name = if table == Table::Own {
            own
        } else {
            table.name()
        };
        let mut items = BTreeMap::new();
        let mut start = None;
        loop {
            let page = block_on(
                client
                    .scan()
                    .table_name(name)
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
                    .send(),
            )
            .unwrap();
            for raw in page.items() {
                let item = normalized_item(&from_aws_item(raw).unwrap());
                items.insert(identity(table, &item), item);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        tables.insert(table, items);
    }
    tables
}

/// Options of every run: small pages, frequent checkpoints, few lanes.
const RUN_OPTIONS: [&str; 12] = [
    "--segments",
    "2",
    "--page-size",
    "5",
    "--checkpoint-interval-ms",
    "10",
    "--concurrency",
    "2",
    "--apply-concurrency",
    "4",
    "--lease-seconds",
    "10",
];

/// A point to kill the run at, with how many times it is passed first. After a kill in the
/// apply (`applying`), the resumed run passes no scan point, so none is chosen.
fn kill_point(rng: &mut Rng, actions: usize, applying: bool) -> String {
    let scan = [
        ("record-running", 1),
        ("scan-page", 6),
        ("journal-append", actions / 2),
        ("scan-checkpoint", 4),
        ("scan-complete", 1),
    ];
    let apply = [
        ("batch-written", 3),
        ("batch-written", 1),
        ("single-written", actions / 3),
        ("single-written", actions / 8),
        ("apply-checkpoint", 3),
        ("apply-complete", 1),
        ("markers-removed", 1),
        ("before-final-write", 1),
        ("final-written", 1),
    ];
    let (point, most) = if applying || rng.bool() {
        apply[rng.usize(0..apply.len())]
    } else {
        scan[rng.usize(0..scan.len())]
    };
    format!("{point}:{}", rng.usize(1..=most.max(1)))
}

/// Whether a kill at `point` happened in the apply phase (or after it).
fn in_apply(point: &str) -> bool {
    ![
        "record-running",
        "scan-page",
        "journal-append",
        "scan-checkpoint",
        "scan-complete",
    ]
    .iter()
    .any(|scan| point.starts_with(scan))
}

/// How a run ended.
enum Ended {
    Killed,
    Done,
}

fn run_once(own: &str, meta: &str, crash_at: Option<&str>) -> Result<Ended, String> {
    let wasm = guest("drift_model_guest");
    let mut args = vec![
        "run",
        wasm.to_str().unwrap(),
        "--table",
        own,
        "--meta-table",
        meta,
    ];
    args.extend_from_slice(&RUN_OPTIONS);
    let mut run = command(&args);
    if let Some(point) = crash_at {
        run.env("DRIFT_CRASH_AT", point);
    }
    let output = run.output().unwrap();
    if output.status.signal() == Some(9) {
        let unlock = drift_host(&["unlock", "--force", "--meta-table", meta], None);
        if unlock.status.code() != Some(0) {
            return Err(format!("unlock failed: {}", stderr(&unlock)));
        }
        return Ok(Ended::Killed);
    }
    match output.status.code() {
        Some(0) => Ok(Ended::Done),
        code => Err(format!("run ended with {code:?}: {}", stderr(&output))),
    }
}

/// The counts the metadata record holds for the model's migration.
fn recorded(meta: &str) -> Result<(Counts, serde_json::Value), String> {
    let output = drift_host(&["status", "--meta-table", meta, "--output", "json"], None);
    let document: serde_json::Value =
        serde_json::from_str(&stdout(&output)).map_err(|e| e.to_string())?;
    let record = document["migrations"][0].clone();
    let count = |name: &str| record["counts"][name].as_u64().unwrap_or(u64::MAX);
    let counts = Counts {
        puts: count("puts"),
        updates: count("updates"),
        deletes: count("deletes"),
        conflicts: count("conflicts"),
    };
    Ok((counts, record))
}

/// Runs `scripts` with kills at the points `kills` gives, resumes, and compares with the
/// model. Returns the number of kills that happened.
fn check(
    label: &str,
    scripts: &[Vec<Spec>],
    mut kills: impl FnMut() -> Option<String>,
) -> Result<usize, String> {
    let items = source_items(scripts);
    let mut expected = Tables::new();
    let mut counts = Counts::default();
    let own_items = expected.entry(Table::Own).or_default();
    for item in &items {
        own_items.insert(identity(Table::Own, item), normalized_item(item));
    }
    for spec in scripts.iter().flatten() {
        counts.count(apply(&mut expected, spec));
    }
    for table in [Table::S, Table::N, Table::Sb] {
        let items = expected.entry(table).or_default();
        for item in items.values_mut() {
            *item = normalized_item(item);
        }
    }
    if let Some(own) = expected.get_mut(&Table::Own) {
        for item in own.values_mut() {
            *item = normalized_item(item);
        }
    }

    if let Some(dir) = std::env::var_os("DRIFT_MODEL_DUMP") {
        let lines: String = items
            .iter()
            .map(|item| format!("{{\"Item\": {}}}\n", to_json_item(item)))
            .collect();
        let file = std::path::Path::new(&dir).join(format!("{}.jsonl", label.replace(' ', "-")));
        std::fs::write(file, lines).unwrap();
    }
    fresh_tables();
    let (own, meta) = (unique("model_src"), unique("meta"));
    block_on(fill(&client(), &own, &items));
    let mut killed = 0;
    let mut done = false;
    while let Some(point) = kills() {
        let ended = run_once(&own, &meta, Some(&point))?;
        if std::env::var_os("DRIFT_MODEL_VERBOSE").is_some() {
            let what = if matches!(ended, Ended::Killed) {
                "killed"
            } else {
                "finished"
            };
            eprintln!("{label}: {what} at {point}");
        }
        match ended {
            Ended::Killed => killed += 1,
            Ended::Done => {
                done = true;
                break;
            }
        }
    }
    if !done {
        run_once(&own, &meta, None)?;
    }
    let actual = actual(&own);
    for (table, items) in &expected {
        let got = &actual[table];
        if got != items {
            let missing: Vec<_> = items
                .iter()
                .filter(|(k, v)| got.get(*k) != Some(v))
                .map(|(_, v)| to_json_item(v))
                .take(3)
                .collect();
            let extra: Vec<_> = got
                .iter()
                .filter(|(k, v)| items.get(*k) != Some(v))
                .map(|(_, v)| to_json_item(v))
                .take(3)
                .collect();
            return Err(format!("{label}: table {table:?} differs from the model: expected {missing:?}, found {extra:?}"));
        }
    }
    let (got, record) = recorded(&meta)?;
    // A resume cannot know whether an update of an existing item that it skips or repeats had
    // found its item: updates and conflicts may trade places (README, "Checkpoint and resume").
    let counts_agree = got.puts == counts.puts
        && got.deletes == counts.deletes
        && got.updates + got.conflicts == counts.updates + counts.conflicts;
    if !counts_agree || record["status"] != "applied" {
        return Err(format!(
            "{label}: counts {got:?}, the model says {counts:?}: {record}"
        ));
    }
    Ok(killed)
}

/// `DRIFT_MODEL_*` from the environment.
fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_action_streams_resume_exactly_after_random_kills() {
    let _tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let first = env_number("DRIFT_MODEL_FIRST_SEED", 1);
    let seeds = env_number("DRIFT_MODEL_SEEDS", CI_SEEDS);
    let mut total_kills = 0;
    let mut failures = Vec::new();
    for seed in first..first + seeds {
        let scripts = generate(seed);
        let actions = scripts.iter().map(Vec::len).sum();
        let mut rng = Rng::with_seed(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (mut left, mut applying) = (KILLS_PER_SEED, false);
        let kills = || {
            (left > 0).then(|| {
                left -= 1;
                let point = kill_point(&mut rng, actions, applying);
                applying |= in_apply(&point);
                point
            })
        };
        match check(&format!("seed {seed}"), &scripts, kills) {
            Ok(killed) => total_kills += killed,
            Err(error) => failures.push(error),
        }
    }
    eprintln!("model: {seeds} seeds from {first}, {total_kills} kills");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        total_kills as u64 >= seeds.min(CI_SEEDS) * 2,
        "too few kills landed ({total_kills}): the crash points are not reached"
    );
}

/// The case that found the bug: per item, a put of `{k, n: 0}` into another table, then
/// `ADD n :1` on the same key (exactly once), killed at many points of the apply.
#[test]
fn a_put_then_an_add_on_one_key_resume_exactly_wherever_killed() {
    let _tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = Rng::with_seed(7);
    let scripts: Vec<Vec<Spec>> = (0..ITEMS)
        .map(|item| {
            let key = key(&mut rng, Table::S, item, 0);
            vec![
                Spec {
                    table: Table::S,
                    key: key.clone(),
                    kind: Kind::Put(key.clone().with("n", 0)),
                    condition: None,
                },
                Spec {
                    table: Table::S,
                    key,
                    kind: Kind::Update {
                        changes: vec![Change::Add("n", n(1))],
                        upsert: false,
                    },
                    condition: None,
                },
            ]
        })
        .collect();
    for point in [
        "batch-written:1",
        "batch-written:2",
        "single-written:1",
        "single-written:9",
        "single-written:30",
        "apply-checkpoint:1",
    ] {
        let mut once = Some(point.to_owned());
        check(point, &scripts, || once.take()).unwrap();
    }
}
