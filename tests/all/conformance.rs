//! The conformance suite (`tests/conformance/`): each migration written in every guest language
//! (Rust, AssemblyScript, TypeScript, Python, C), built from source in the test run by its
//! `build.sh`, must do exactly what the others do.
//!
//! - users_v2 (`example-migrations/users_v2*`): the Rust build's actions offline (`exec`,
//!   migrate and rollback), the shared `drift-host test` cases, and the same tables against
//!   DynamoDB Local (`run`, then `undo` back to the original).
//! - every_feature (`tests/conformance/every_feature`, every value type, action kind, condition,
//!   other tables, an error, an immediate get-item, logs): the golden `exec` output and guest
//!   logs, its cases, and against DynamoDB Local the golden migrated table, the same other tables
//!   in every language, and the original tables after `undo`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

use aws_sdk_dynamodb::Client;
use drift_host::model::item::{from_json_item, to_json_item, Item, Value};
use drift_value::expression::add_numbers;
use serde_json::{json, Value as Json};

use crate::dynamodb::{by_id, by_key, fill, fill_keyed, migrated, scan_all, scan_keyed, users};
use crate::support::{
    as_guest, block_on, client, command, drift_output, expect_exit, guest, root, stderr, stdout,
    unique,
};

/// The languages of the suite, the reference (Rust) first.
const LANGUAGES: [&str; 5] = ["rust", "assemblyscript", "typescript", "python", "c"];

/// The languages to check: all of them, or those named in `DRIFT_CONFORMANCE` (comma-separated,
/// e.g. `rust,c`), for working on one SDK.
fn languages() -> Vec<&'static str> {
    match std::env::var("DRIFT_CONFORMANCE") {
        Ok(only) => LANGUAGES
            .into_iter()
            .filter(|language| only.split(',').any(|name| name.trim() == *language))
            .collect(),
        Err(_) => LANGUAGES.to_vec(),
    }
}

/// Runs `dir/build.sh` once per test run; the module it wrote, `dir/build/<wasm>`.
///
/// Builds run one at a time: on two cores they are no faster side by side, and two tests must
/// not build the same folder at once (they would share its caches and output).
fn built(dir: &Path, wasm: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(module) = built.get(dir) {
        return module.clone();
    }
    let output = Command::new(dir.join("build.sh"))
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {}/build.sh: {e}", dir.display()));
    assert!(
        output.status.success(),
        "{}/build.sh failed:\n{}{}",
        dir.display(),
        stdout(&output),
        stderr(&output)
    );
    let module = dir.join("build").join(wasm);
    assert!(
        module.exists(),
        "{}/build.sh wrote no {wasm}",
        dir.display()
    );
    // Compile it into the shared cache once, before the tests use it at the same time (a
    // Python component takes long to compile in a debug build).
    expect_exit(&drift_output(&["inspect", module.to_str().unwrap()]), 0);
    built.insert(dir.to_owned(), module.clone());
    module
}

/// users_v2 in `language`.
fn module(language: &str) -> PathBuf {
    let example = |folder: &str| root().join("example-migrations").join(folder);
    match language {
        "rust" => guest("users_v2"),
        "assemblyscript" => as_guest(),
        "typescript" => built(&example("users_v2_ts"), "users_v2_ts.wasm"),
        "python" => built(&example("users_v2_py"), "users_v2_py.wasm"),
        "c" => built(&example("users_v2_c"), "users_v2_c.wasm"),
        other => panic!("no language {other}"),
    }
}

/// every_feature in `language`.
pub(crate) fn every_feature(language: &str) -> PathBuf {
    built(&conformance(language), "every_feature.wasm")
}

/// A file or folder of `tests/conformance/every_feature`.
fn conformance(name: &str) -> PathBuf {
    root().join("tests/conformance/every_feature").join(name)
}

fn data(name: &str) -> String {
    root().join("tests/data").join(name).display().to_string()
}

#[test]
fn every_language_prints_the_actions_of_the_rust_build() {
    let expected = std::fs::read_to_string(data("users_v2.migrate.jsonl")).unwrap();
    let rollback = std::fs::read_to_string(data("users_v2.rollback.jsonl")).unwrap();
    for language in languages() {
        let wasm = module(language);
        let wasm = wasm.to_str().unwrap();
        let migrate = drift_output(&[
            "exec",
            wasm,
            "--input",
            &data("users_mixed.json"),
            "--key",
            "id",
        ]);
        assert_eq!(stdout(&migrate), expected, "{language}: migrate");
        assert_eq!(migrate.status.code(), Some(1), "{language}: one item fails");
        assert!(
            stderr(&migrate).contains("user has no `email` attribute"),
            "{language}: {}",
            stderr(&migrate)
        );
        let back = drift_output(&[
            "exec",
            wasm,
            "--input",
            &data("users_v2.migrated.jsonl"),
            "--rollback",
        ]);
        expect_exit(&back, 0);
        assert_eq!(stdout(&back), rollback, "{language}: rollback");
    }
}

#[test]
fn every_language_passes_the_shared_cases() {
    let cases = |folder: &str| {
        root()
            .join("example-migrations/users_v2")
            .join(folder)
            .display()
            .to_string()
    };
    for language in languages() {
        let wasm = module(language);
        let wasm = wasm.to_str().unwrap();
        let migrate = drift_output(&["test", wasm, "--cases", &cases("cases"), "--key", "id"]);
        expect_exit(&migrate, 0);
        let rollback = drift_output(&[
            "test",
            wasm,
            "--cases",
            &cases("cases-rollback"),
            "--key",
            "id",
            "--rollback",
        ]);
        expect_exit(&rollback, 0);
    }
}

#[test]
fn every_language_leaves_the_same_tables_against_dynamodb_local() {
    let client = client();
    let items = users(300);
    let expected = by_id(&items.iter().map(migrated).collect::<Vec<_>>());
    for language in languages() {
        let wasm = module(language);
        let wasm = wasm.to_str().unwrap();
        let (table, meta) = (unique(&format!("conform_{language}")), unique("meta"));
        block_on(fill(&client, &table, &items));
        let run = drift_output(&["run", wasm, "--table", &table, "--meta-table", &meta]);
        expect_exit(&run, 0);
        assert_eq!(
            block_on(scan_all(&client, &table)),
            expected,
            "{language}: run"
        );
        let undo = drift_output(&["undo", wasm, "--table", &table, "--meta-table", &meta]);
        expect_exit(&undo, 0);
        assert_eq!(
            block_on(scan_all(&client, &table)),
            by_id(&items),
            "{language}: undo"
        );
    }
}

/// The guest's log lines in `stderr` (as `exec` prints them), without their timestamps, sorted:
/// `exec` runs chunks of items on several instances at once, so lines of different items may
/// interleave in any order.
fn guest_log(stderr: &str) -> String {
    let mut lines: Vec<String> = stderr
        .lines()
        .filter(|line| line.contains(" guest: "))
        .map(|line| {
            let (_, rest) = line.split_once(' ').unwrap_or(("", line));
            format!("{}\n", rest.trim_start())
        })
        .collect();
    lines.sort();
    lines.concat()
}

/// A golden log file, its lines sorted as [`guest_log`] sorts them.
fn golden_log(name: &str) -> String {
    guest_log(
        &golden(name)
            .lines()
            .map(|line| format!("- {line}\n"))
            .collect::<String>(),
    )
}

/// `drift-host exec` with the guest's log lines at info level and above on stderr.
fn exec_logged(args: &[&str]) -> std::process::Output {
    command(args)
        .env("DRIFT_LOG", "warn,guest=info")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run drift-host")
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(conformance(name)).unwrap()
}

#[test]
fn every_feature_gives_the_golden_actions_and_logs_in_every_language() {
    let items = conformance("items.json");
    let migrated = conformance("migrated.jsonl");
    for language in languages() {
        let wasm = every_feature(language);
        let wasm = wasm.to_str().unwrap();
        let migrate = exec_logged(&[
            "exec",
            wasm,
            "--input",
            items.to_str().unwrap(),
            "--key",
            "pk",
        ]);
        assert_eq!(
            stdout(&migrate),
            golden("migrate.jsonl"),
            "{language}: migrate"
        );
        assert_eq!(
            guest_log(&stderr(&migrate)),
            golden_log("migrate.log"),
            "{language}: migrate log"
        );
        assert_eq!(
            migrate.status.code(),
            Some(1),
            "{language}: the poisoned item fails"
        );
        assert!(
            stderr(&migrate).contains(
                "error: {\"pk\":{\"S\":\"t-06\"}}: migration error: item t-06 is poisoned"
            ),
            "{language}: {}",
            stderr(&migrate)
        );
        let back = exec_logged(&[
            "exec",
            wasm,
            "--input",
            migrated.to_str().unwrap(),
            "--rollback",
        ]);
        expect_exit(&back, 0);
        assert_eq!(
            stdout(&back),
            golden("rollback.jsonl"),
            "{language}: rollback"
        );
        assert_eq!(
            guest_log(&stderr(&back)),
            golden_log("rollback.log"),
            "{language}: rollback log"
        );
    }
}

#[test]
fn every_feature_passes_its_cases_in_every_language() {
    let (cases, rollback) = (conformance("cases"), conformance("cases-rollback"));
    for language in languages() {
        let wasm = every_feature(language);
        let wasm = wasm.to_str().unwrap();
        let migrate = drift_output(&[
            "test",
            wasm,
            "--cases",
            cases.to_str().unwrap(),
            "--key",
            "pk",
        ]);
        assert!(
            stdout(&migrate).contains("2 passed, 0 failed"),
            "{language}: {}",
            stdout(&migrate)
        );
        expect_exit(&migrate, 0);
        let back = drift_output(&[
            "test",
            wasm,
            "--cases",
            rollback.to_str().unwrap(),
            "--key",
            "pk",
            "--rollback",
        ]);
        expect_exit(&back, 0);
    }
}

/// The tables every_feature uses (fixed names: its `info` declares them).
const THINGS: [&str; 4] = ["things", "things_copy", "things_index", "things_stats"];

/// The items of a DynamoDB JSON file (`{"Items": [..]}` or `{"Item": ..}` lines).
pub(crate) fn items_of(name: &str) -> Vec<Item> {
    let text = golden(name);
    let values: Vec<Json> = match serde_json::from_str::<Json>(&text) {
        Ok(Json::Object(mut scan)) => match scan.remove("Items") {
            Some(Json::Array(items)) => items,
            _ => panic!("{name}: no Items"),
        },
        _ => text
            .lines()
            .map(|line| serde_json::from_str::<Json>(line).unwrap()["Item"].clone())
            .collect(),
    };
    values.iter().map(|v| from_json_item(v).unwrap()).collect()
}

/// Drops every_feature's tables and creates them again: `things` with `items`, `things_index`
/// with `index`, the other two empty.
pub(crate) async fn reset_things(client: &Client, items: &[Item], index: &[Item]) {
    for table in THINGS {
        // A missing table is fine: the first run on this server has none.
        let _ = client.delete_table().table_name(table).send().await;
    }
    for (table, content) in THINGS.into_iter().zip([items, &[], index, &[]]) {
        fill_keyed(client, table, "pk", content).await;
    }
}

/// Every table of every_feature, by name, its items by `pk`.
pub(crate) async fn things_tables(
    client: &Client,
) -> BTreeMap<&'static str, BTreeMap<String, Item>> {
    let mut tables = BTreeMap::new();
    for table in THINGS {
        tables.insert(table, scan_keyed(client, table, "pk").await);
    }
    tables
}

/// `things_stats` holding `count`.
pub(crate) fn stats(count: i64) -> BTreeMap<String, Item> {
    by_key(
        &[
            from_json_item(&json!({"pk": {"S": "total"}, "count": {"N": count.to_string()}}))
                .unwrap(),
        ],
        "pk",
    )
}

#[test]
fn every_feature_leaves_the_same_tables_in_every_language() {
    let client = client();
    let items: Vec<Item> = items_of("items.json")
        .into_iter()
        .filter(|item| !item.contains("poison"))
        .collect();
    let index = items_of("index.json");
    let migrated = by_key(&items_of("migrated.jsonl"), "pk");
    let mut reference = None;
    for language in languages() {
        let wasm = every_feature(language);
        let wasm = wasm.to_str().unwrap();
        block_on(reset_things(&client, &items, &index));
        let meta = unique("meta");
        expect_exit(&drift_output(&["run", wasm, "--meta-table", &meta]), 0);
        let after = block_on(things_tables(&client));
        assert_eq!(after["things"], migrated, "{language}: things after run");
        assert_eq!(
            after["things_copy"].len(),
            items.len(),
            "{language}: copies"
        );
        assert_eq!(
            after["things_index"].keys().collect::<Vec<_>>(),
            ["t-99"],
            "{language}: the active index entries are deleted"
        );
        assert_eq!(
            after["things_stats"],
            stats(items.len() as i64),
            "{language}"
        );
        match &reference {
            None => reference = Some(after),
            Some(reference) => assert_eq!(&after, reference, "{language}: tables after run"),
        }

        expect_exit(&drift_output(&["undo", wasm, "--meta-table", &meta]), 0);
        let after = block_on(things_tables(&client));
        assert_eq!(
            after["things"],
            by_key(&items, "pk"),
            "{language}: things after undo"
        );
        assert!(
            after["things_copy"].is_empty(),
            "{language}: copies after undo"
        );
        assert_eq!(
            after["things_index"],
            by_key(&index, "pk"),
            "{language}: index after undo"
        );
        assert_eq!(
            after["things_stats"],
            stats(0),
            "{language}: stats after undo"
        );
    }
}

/// Random items for every_feature: names and values of every type, nested, with the attributes
/// the migration reads (`note`, `visits`, `labels`, `profile.city`, `scores`, `poison`, and for
/// rollback `summary`, `profile.city_label`, `first_score`, `archive.note`, `index_entry`)
/// present or not, of the type it expects or not.
struct Generated {
    rng: fastrand::Rng,
}

impl Generated {
    fn chance(&mut self, one_in: u32) -> bool {
        self.rng.u32(0..one_in) == 0
    }

    fn string(&mut self) -> String {
        const PIECES: [&str; 12] = [
            "", "a", "Zed", "é", "ü", "東京", "🦀", " ", "\"", "\\", "\n", "\u{0}",
        ];
        (0..self.rng.usize(0..4))
            .map(|_| PIECES[self.rng.usize(0..PIECES.len())])
            .collect()
    }

    /// Attribute names: non-empty, and sorting the same by bytes, code points and UTF-16 code
    /// units (no characters above U+FFFF), as the spec asks of the data.
    fn name(&mut self) -> String {
        const LETTERS: [&str; 8] = ["a", "b", "z", "é", "ü", "東", "_", "0"];
        (0..self.rng.usize(1..5))
            .map(|_| LETTERS[self.rng.usize(0..LETTERS.len())])
            .collect()
    }

    /// A valid DynamoDB number: up to 38 significant digits, an exponent now and then.
    fn number(&mut self) -> String {
        let digits = |rng: &mut fastrand::Rng, n: usize| -> String {
            (0..n).map(|_| char::from(b'0' + rng.u8(0..10))).collect()
        };
        let whole_len = self.rng.usize(1..20);
        let mut number = match self.rng.bool() {
            true => "-".to_owned(),
            false => String::new(),
        };
        number.push(char::from(b'1' + self.rng.u8(0..9)));
        number += &digits(&mut self.rng, whole_len - 1);
        if self.rng.bool() {
            let fraction_len = self.rng.usize(1..=38 - whole_len);
            number = format!("{number}.{}", digits(&mut self.rng, fraction_len));
        }
        if self.chance(4) {
            number = format!("{number}E{}", self.rng.i32(-30..30));
        }
        number
    }

    fn bytes(&mut self, at_least: usize) -> Vec<u8> {
        let len = self.rng.usize(at_least..6);
        (0..len).map(|_| self.rng.u8(..)).collect()
    }

    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 8 } else { 10 };
        match self.rng.u8(0..kinds) {
            0 => Value::S(self.string()),
            1 => Value::N(self.number()),
            2 => Value::B(self.bytes(0)),
            3 => Value::Bool(self.rng.bool()),
            4 => Value::Null,
            5 => {
                let set: BTreeSet<String> = (0..self.rng.usize(1..4))
                    .map(|i| format!("{i}{}", self.string()))
                    .collect();
                Value::Ss(set.into_iter().collect())
            }
            6 => {
                let set: BTreeSet<i64> = (0..self.rng.usize(1..4))
                    .map(|_| self.rng.i64(-1000..1000))
                    .collect();
                Value::Ns(set.into_iter().map(|n| n.to_string()).collect())
            }
            7 => {
                let set: BTreeSet<Vec<u8>> =
                    (0..self.rng.usize(1..4)).map(|_| self.bytes(1)).collect();
                Value::Bs(set.into_iter().collect())
            }
            8 => Value::L(
                (0..self.rng.usize(0..4))
                    .map(|_| self.value(depth - 1))
                    .collect(),
            ),
            _ => Value::M(self.map(depth - 1)),
        }
    }

    fn map(&mut self, depth: u32) -> Item {
        let mut map = Item::new();
        for _ in 0..self.rng.usize(0..4) {
            let (name, value) = (self.name(), self.value(depth));
            map.set(name, value);
        }
        map
    }

    /// `value` of the expected kind most of the time, anything otherwise.
    fn mostly(&mut self, expected: Value) -> Value {
        match self.chance(4) {
            true => self.value(2),
            false => expected,
        }
    }

    /// An item of `things` as it is before the migration.
    fn item(&mut self, pk: String) -> Item {
        let mut item = self.map(2);
        if self.chance(2) {
            let note = self.value(2);
            item.set("note", note);
        }
        if self.chance(2) {
            let visits = Value::N(self.rng.u32(0..100).to_string());
            let visits = self.mostly(visits);
            item.set("visits", visits);
        }
        if self.chance(2) {
            let labels = Value::Ss(vec!["a".into(), "é".into()][..self.rng.usize(1..3)].to_vec());
            item.set("labels", labels);
        }
        if self.chance(2) {
            let mut profile = self.map(1);
            if self.rng.bool() {
                let city = Value::S(self.string());
                let city = self.mostly(city);
                profile.set("city", city);
            }
            let profile = self.mostly(Value::M(profile));
            item.set("profile", profile);
        }
        if self.chance(2) {
            let scores = Value::L((0..self.rng.usize(0..3)).map(|_| self.value(1)).collect());
            let scores = self.mostly(scores);
            item.set("scores", scores);
        }
        if self.chance(12) {
            item.set("poison", Value::Bool(true));
        }
        item.set("pk", Value::S(pk));
        item
    }

    /// An item of `things` as it may be after the migration (or not migrated at all).
    fn migrated(&mut self, pk: String) -> Item {
        let mut item = self.item(pk.clone());
        item.remove("poison");
        if self.chance(5) {
            return item;
        }
        let summary = Value::M(self.map(1));
        let summary = self.mostly(summary);
        item.set("summary", summary);
        item.set("types", Value::L(vec![Value::S("S".into())]));
        if let Some(Value::M(profile)) = item.get("profile").cloned() {
            if self.rng.bool() {
                let mut profile = profile;
                profile.set("city_label", Value::S(format!("city of {}", self.string())));
                item.set("profile", Value::M(profile));
            }
        }
        if self.rng.bool() {
            let first = self.value(1);
            item.set("first_score", first);
        }
        if let Some(note) = item.remove("note") {
            let archive = self.mostly(Value::M(Item::new().with("note", note)));
            item.set("archive", archive);
        }
        if self.rng.bool() {
            let mut entry = self.map(1);
            entry.set("pk", Value::S(pk));
            entry.set("state", Value::S("active".into()));
            // Not a map now and then (rollback then leaves it); never a map without a key, which
            // rollback would put and the host refuse.
            let entry = match self.chance(4) {
                true => Value::S(self.string()),
                false => Value::M(entry),
            };
            item.set("index_entry", entry);
        }
        item
    }
}

/// What `exec` printed: the actions (stdout), the guest's log lines, the exit code.
type Printed = (String, String, Option<i32>);

/// Writes `items` as `exec --input` reads them.
fn write_items(path: &Path, items: &[Item]) {
    let items: Vec<Json> = items.iter().map(to_json_item).collect();
    std::fs::write(path, json!({ "Items": items }).to_string()).unwrap();
}

/// The seed and the number of items of the generated tests (`DRIFT_CONFORMANCE_SEED`,
/// `DRIFT_CONFORMANCE_CASES`, to look further than a test run does).
fn generation() -> (u64, usize) {
    let seed = std::env::var("DRIFT_CONFORMANCE_SEED")
        .map(|s| s.parse().expect("DRIFT_CONFORMANCE_SEED: a number"))
        .unwrap_or(13);
    let count = std::env::var("DRIFT_CONFORMANCE_CASES")
        .map(|s| s.parse().expect("DRIFT_CONFORMANCE_CASES: a number"))
        .unwrap_or(150);
    (seed, count)
}

/// Writes `migrate` and `rollback` (the items each runs on) into `target/conformance-generated/
/// <name>` (kept, to reproduce a difference by hand), runs `exec` of each with `module` of
/// every language, and requires every language to print what the first one prints. Returns
/// the first one's output, migrate then rollback, for the caller's checks that it is not empty.
fn agree(
    name: &str,
    seed: u64,
    module: impl Fn(&str) -> PathBuf,
    key: &str,
    migrate: &[Item],
    rollback: &[Item],
) -> Vec<Printed> {
    let dir = root().join("target/conformance-generated").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let (before, after) = (dir.join("migrate.json"), dir.join("rollback.json"));
    write_items(&before, migrate);
    write_items(&after, rollback);
    let runs = [
        vec!["--input", before.to_str().unwrap()],
        vec!["--input", after.to_str().unwrap(), "--rollback"],
    ];
    let mut reference: Option<(&str, Vec<Printed>)> = None;
    for language in languages() {
        let wasm = module(language);
        let wasm = wasm.to_str().unwrap();
        let outputs: Vec<Printed> = runs
            .iter()
            .map(|args| {
                let mut all = vec!["exec", wasm, "--key", key];
                all.extend(args);
                let output = exec_logged(&all);
                let log = guest_log(&stderr(&output));
                (stdout(&output), log, output.status.code())
            })
            .collect();
        match &reference {
            None => reference = Some((language, outputs)),
            Some((first, expected)) => {
                for (what, (got, want)) in ["migrate", "rollback"]
                    .iter()
                    .zip(outputs.iter().zip(expected))
                {
                    assert_eq!(
                        got,
                        want,
                        "{name}, seed {seed}: {language} and {first} differ on {what} (inputs in {})",
                        dir.display()
                    );
                }
            }
        }
    }
    reference.map(|(_, outputs)| outputs).unwrap_or_default()
}

#[test]
fn every_feature_agrees_on_generated_items_in_every_language() {
    let (seed, count) = generation();
    let mut generated = Generated {
        rng: fastrand::Rng::with_seed(seed),
    };
    let before: Vec<Item> = (0..count)
        .map(|i| generated.item(format!("g-{i}")))
        .collect();
    let after: Vec<Item> = (0..count)
        .map(|i| generated.migrated(format!("m-{i}")))
        .collect();
    // An item fails when it is poisoned, or when its `visits` (a number: the migration adds 1,
    // the rollback of a migrated item -1) has no sum DynamoDB can store (38 digits at most):
    // the checks before the apply refuse what UpdateItem would.
    let overflows = |item: &Item, delta: &str| matches!(item.get("visits"), Some(Value::N(n)) if add_numbers(n, delta).is_err());
    let migrate_fails = before
        .iter()
        .any(|item| item.contains("poison") || overflows(item, "1"));
    let rollback_fails = after
        .iter()
        .any(|item| item.contains("summary") && overflows(item, "-1"));
    let outputs = agree("every_feature", seed, every_feature, "pk", &before, &after);
    if let [migrate, rollback] = &outputs[..] {
        assert!(
            migrate.0.lines().count() >= count && rollback.0.lines().count() >= count / 2,
            "seed {seed}: too few actions to compare:\n{}{}",
            migrate.0,
            rollback.0
        );
        assert_eq!(migrate.2, Some(i32::from(migrate_fails)), "seed {seed}");
        assert_eq!(
            rollback.2,
            Some(i32::from(rollback_fails)),
            "seed {seed}: {}",
            rollback.1
        );
    }
}

#[test]
fn users_v2_agrees_on_generated_users_in_every_language() {
    // Emails whose lowercase is where languages part: final sigma (after marks, spaces, at the
    // end), dotted İ, ẞ, Cherokee, title case, Kelvin and Ångström signs, astral letters.
    const PIECES: [&str; 24] = [
        "Σ", "ΑΣ", "ς", "İ", "I", "ẞ", "Ꭰ", "ǅ", "Ǆ", "\u{212a}", "\u{212b}", "Ω", "A", "b", "@",
        " ", ".", "𐐀", "Ⅻ", "Ⓐ", "ﬀ", "ᾈ", "\u{345}", "\u{307}",
    ];
    let (seed, count) = generation();
    let mut rng = fastrand::Rng::with_seed(seed);
    let text = |rng: &mut fastrand::Rng| -> String {
        (0..rng.usize(0..7))
            .map(|_| PIECES[rng.usize(0..PIECES.len())])
            .collect()
    };
    let mut users = Vec::new();
    let mut migrated = Vec::new();
    for i in 0..count {
        let mut user = Item::new().with("id", format!("u-{i}"));
        // No email now and then, or a number: both fail the item, in every language alike.
        let email = match rng.u8(0..12) {
            0 => None,
            1 => Some(Value::N(rng.u32(..).to_string())),
            _ => Some(Value::S(text(&mut rng))),
        };
        if let Some(email) = email {
            user.set("email", email);
        }
        if rng.bool() {
            user.set("name", Value::S(text(&mut rng)));
        }
        // Versions that equal 2 only as decimals, or do not fit an i64: only `2` is version 2.
        const VERSIONS: [&str; 6] = ["1", "2.0", "2E0", "20E-1", "-0", "9223372036854775809"];
        if rng.u8(0..4) == 0 {
            let version = VERSIONS[rng.usize(0..VERSIONS.len())];
            user.set("schema_version", Value::N(version.into()));
        }
        let mut done = user.clone().with("schema_version", 2);
        if rng.u8(0..4) == 0 {
            let version = VERSIONS[rng.usize(0..VERSIONS.len())];
            done.set("schema_version", Value::N(version.into()));
        }
        if let Some(name) = done.remove("name") {
            done.set("full_name", name);
        }
        done.set("email_lower", Value::S(text(&mut rng)));
        users.push(user);
        migrated.push(done);
    }
    let outputs = agree("users_v2", seed, module, "id", &users, &migrated);
    if let [migrate, rollback] = &outputs[..] {
        assert!(
            migrate.0.lines().count() >= count / 2 && rollback.0.lines().count() >= count / 2,
            "seed {seed}: too few actions to compare:\n{}{}",
            migrate.0,
            rollback.0
        );
    }
}
