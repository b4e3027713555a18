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

mod generated;

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
        let all = format!(
            "{} passed, 0 failed",
            std::fs::read_dir(&cases).unwrap().count()
        );
        assert!(
            stdout(&migrate).contains(&all),
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
