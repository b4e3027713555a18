//! The conformance suite: users_v2 written in every guest language (Rust, AssemblyScript,
//! TypeScript, Python, C), each built from source in the test run by its example's `build.sh`,
//! must do exactly what the Rust build does: the same actions offline (`exec`, migrate and
//! rollback), the same `drift-host test` cases, and the same tables against DynamoDB Local
//! (`run`, then `undo` back to the original).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::dynamodb::{by_id, fill, migrated, scan_all, users};
use crate::support::{
    as_guest, block_on, client, drift_output, expect_exit, guest, root, stderr, stdout, unique,
};

/// The languages of the suite and how each build is made.
const LANGUAGES: [&str; 5] = ["rust", "assemblyscript", "typescript", "python", "c"];

/// Runs `example-migrations/<folder>/build.sh`; the module it wrote, `build/<wasm>`.
fn built(folder: &str, wasm: &str) -> PathBuf {
    let dir = root().join("example-migrations").join(folder);
    let output = Command::new(dir.join("build.sh"))
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("run {folder}/build.sh: {e}"));
    assert!(
        output.status.success(),
        "{folder}/build.sh failed:\n{}{}",
        stdout(&output),
        stderr(&output)
    );
    let module = dir.join("build").join(wasm);
    assert!(module.exists(), "{folder}/build.sh wrote no {wasm}");
    // Compile it into the shared cache once, before the tests use it at the same time (a
    // Python component takes long to compile in a debug build).
    expect_exit(&drift_output(&["inspect", module.to_str().unwrap()]), 0);
    module
}

/// users_v2 in `language`, built once per test run.
fn module(language: &str) -> PathBuf {
    static TS: OnceLock<PathBuf> = OnceLock::new();
    static PY: OnceLock<PathBuf> = OnceLock::new();
    static C: OnceLock<PathBuf> = OnceLock::new();
    match language {
        "rust" => guest("users_v2"),
        "assemblyscript" => as_guest(),
        "typescript" => TS
            .get_or_init(|| built("users_v2_ts", "users_v2_ts.wasm"))
            .clone(),
        "python" => PY
            .get_or_init(|| built("users_v2_py", "users_v2_py.wasm"))
            .clone(),
        "c" => C
            .get_or_init(|| built("users_v2_c", "users_v2_c.wasm"))
            .clone(),
        other => panic!("no language {other}"),
    }
}

fn data(name: &str) -> String {
    root().join("tests/data").join(name).display().to_string()
}

#[test]
fn every_language_prints_the_actions_of_the_rust_build() {
    let expected = std::fs::read_to_string(data("users_v2.migrate.jsonl")).unwrap();
    let rollback = std::fs::read_to_string(data("users_v2.rollback.jsonl")).unwrap();
    for language in LANGUAGES {
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
    for language in LANGUAGES {
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
    for language in LANGUAGES {
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
