//! `drift-host test` (a migration's cases, offline) and `drift-host new` (templates that
//! build and pass their own cases and unit tests).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{
    as_guest, drift_output as drift, expect_exit as expect, guest, root, stderr, stdout,
};

fn cases(example: &str, folder: &str) -> String {
    root()
        .join("example-migrations")
        .join(example)
        .join(folder)
        .display()
        .to_string()
}

#[test]
fn the_examples_pass_their_cases_in_both_languages() {
    let rust = guest("users_v2");
    let script = as_guest();
    for module in [&rust, &script] {
        let migrate = drift(&[
            "test",
            module.to_str().unwrap(),
            "--cases",
            &cases("users_v2", "cases"),
        ]);
        // No --key: the cases' own actions name the table's key.
        expect(&migrate, 0);
        assert!(
            stdout(&migrate).ends_with("2 passed, 0 failed\n"),
            "{}",
            stdout(&migrate)
        );
        let rollback = drift(&[
            "test",
            module.to_str().unwrap(),
            "--cases",
            &cases("users_v2", "cases-rollback"),
            "--key",
            "id",
            "--rollback",
        ]);
        expect(&rollback, 0);
    }
    let copies = drift(&[
        "test",
        guest("users_by_email").to_str().unwrap(),
        "--cases",
        &cases("users_by_email", "cases"),
        "--output",
        "json",
    ]);
    expect(&copies, 0);
    let report: Value = serde_json::from_str(&stdout(&copies)).unwrap();
    assert_eq!(report["passed"], 2);
    assert_eq!(report["failed"], 0);
}

#[test]
fn idempotent_checks_that_a_second_pass_changes_nothing() {
    // The examples are idempotent, the failing item of users_by_email's cases included.
    for (example, module) in [
        ("users_v2", "users_v2"),
        ("users_by_email", "users_by_email"),
    ] {
        let output = drift(&[
            "test",
            guest(module).to_str().unwrap(),
            "--cases",
            &cases(example, "cases"),
            "--idempotent",
        ]);
        expect(&output, 0);
    }
    // An update that adds to a counter and appends to a list is not; a plain SET is.
    let dir = tempfile::tempdir().unwrap();
    let case = |behave: &str| {
        serde_json::json!({
            "input": [{"id": {"S": "x"}, "behave": {"S": behave}, "n": {"N": "1"}}],
            "expect": {"errors": [], "keys": {"hostile": ["id"], "hostile_copy": ["id"]}}
        })
    };
    std::fs::write(dir.path().join("set.json"), case("touch").to_string()).unwrap();
    std::fs::write(dir.path().join("counter.json"), case("mixed").to_string()).unwrap();
    let hostile = guest("drift_test_guests");
    let cases_dir = dir.path().to_str().unwrap();
    let plain = drift(&["test", hostile.to_str().unwrap(), "--cases", cases_dir]);
    expect(&plain, 0);
    let checked = drift(&[
        "test",
        hostile.to_str().unwrap(),
        "--cases",
        cases_dir,
        "--idempotent",
        "--output",
        "json",
    ]);
    expect(&checked, 1);
    let report: Value = serde_json::from_str(&stdout(&checked)).unwrap();
    let results = report["cases"].as_array().unwrap();
    let result = |name: &str| results.iter().find(|c| c["name"] == name).unwrap().clone();
    assert_eq!(result("set")["passed"], true, "{report}");
    assert_eq!(result("counter")["passed"], false, "{report}");
    let diff = result("counter")["diff"].to_string();
    assert!(
        diff.contains("not idempotent") && diff.contains("visits"),
        "{diff}"
    );
}

/// A copy of the users_v2 cases in a temporary folder.
fn copied_cases() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = root().join("example-migrations/users_v2/cases");
    std::fs::copy(
        source.join("a_user_without_email.json"),
        dir.path().join("a_user_without_email.json"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("sample_users")).unwrap();
    for file in ["input.json", "expect.json"] {
        std::fs::copy(
            source.join("sample_users").join(file),
            dir.path().join("sample_users").join(file),
        )
        .unwrap();
    }
    dir
}

#[test]
fn a_failing_case_shows_what_differs_and_update_rewrites_it() {
    let dir = copied_cases();
    let expect_path = dir.path().join("sample_users/expect.json");
    let text = std::fs::read_to_string(&expect_path).unwrap();
    std::fs::write(
        &expect_path,
        text.replace("grace@navy.mil", "grace@navy.org"),
    )
    .unwrap();
    let error_case = dir.path().join("a_user_without_email.json");
    let text = std::fs::read_to_string(&error_case).unwrap();
    std::fs::write(
        &error_case,
        text.replace("has no `email` attribute", "has no name"),
    )
    .unwrap();
    let wasm = guest("users_v2");
    let args = [
        "test",
        wasm.to_str().unwrap(),
        "--cases",
        dir.path().to_str().unwrap(),
        "--key",
        "id",
    ];
    let failing = drift(&args);
    expect(&failing, 1);
    let out = stdout(&failing);
    assert!(out.contains("FAILED  sample_users"), "{out}");
    assert!(
        out.contains("- users: {") && out.contains("grace@navy.org"),
        "{out}"
    );
    assert!(
        out.contains("+ users: {") && out.contains("grace@navy.mil"),
        "{out}"
    );
    assert!(out.contains("FAILED  a_user_without_email"), "{out}");
    assert!(
        out.contains("- error of {\"id\":{\"S\":\"u-101\"}}: …migration error: user has no name…")
            && out.contains(
                "+ error of {\"id\":{\"S\":\"u-101\"}}: migration error: user has no `email`"
            ),
        "{out}"
    );
    assert!(out.ends_with("0 passed, 2 failed\n"), "{out}");

    let mut update = args.to_vec();
    update.push("--update");
    let updated = drift(&update);
    expect(&updated, 0);
    assert!(
        stdout(&updated).contains("updated sample_users"),
        "{}",
        stdout(&updated)
    );
    let again = drift(&args);
    expect(&again, 0);
    assert!(std::fs::read_to_string(&expect_path)
        .unwrap()
        .contains("grace@navy.mil"));

    // A case without an expectation fails: a test that cannot fail is no test.
    std::fs::write(&expect_path, "{}").unwrap();
    let empty = drift(&args);
    expect(&empty, 1);
    assert!(
        stdout(&empty).contains("no expectation"),
        "{}",
        stdout(&empty)
    );
}

fn run_in(dir: &Path, program: &str, args: &[&str], env: &[(&str, PathBuf)]) {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} in {}:\n{}{}",
        dir.display(),
        stdout(&output),
        stderr(&output)
    );
}

/// Checks a module `new` scaffolded and its project built: its `cases/` pass under
/// `drift-host test`, and it says it is migration `number` over `table`.
fn check_scaffolded(module: &Path, project: &Path, number: u64, table: &str) {
    let cases = project.join("cases");
    let tested = drift(&[
        "test",
        module.to_str().unwrap(),
        "--cases",
        cases.to_str().unwrap(),
    ]);
    expect(&tested, 0);
    assert!(
        stdout(&tested).contains("ok      stamps_every_item"),
        "{}: {}",
        module.display(),
        stdout(&tested)
    );
    let info = drift(&["inspect", module.to_str().unwrap()]);
    let info: Value = serde_json::from_str(&stdout(&info)).unwrap();
    assert_eq!(info["info"]["number"], number, "{}", module.display());
    assert_eq!(info["info"]["table"], table, "{}", module.display());
}

#[test]
fn new_projects_build_outside_the_repository_and_pass_their_tests() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    // The folder already holds migration 2: the new ones are 3 and 4.
    std::fs::copy(guest("users_v2"), migrations.join("0002_users_v2.wasm")).unwrap();
    let folder = migrations.to_str().unwrap();
    let rust = drift(&[
        "new",
        "stamp_users",
        "--lang",
        "rust",
        "--dir",
        folder,
        "--table",
        "users",
    ]);
    expect(&rust, 0);
    let script = drift(&[
        "new",
        "stamp_orders",
        "--lang",
        "assemblyscript",
        "--dir",
        folder,
        "--table",
        "orders",
        "--key",
        "pk,sk",
    ]);
    expect(&script, 0);
    let rust_project = migrations.join("0003_stamp_users");
    let script_project = migrations.join("0004_stamp_orders");
    assert!(
        rust_project.join("Cargo.toml").exists() && script_project.join("package.json").exists()
    );
    assert!(migrations
        .join(".drift-sdk/guest-sdk/rust/Cargo.toml")
        .exists());
    let again = drift(&["new", "stamp_users", "--lang", "rust", "--dir", folder]);
    expect(&again, 0);
    assert!(
        migrations.join("0005_stamp_users").exists(),
        "numbers go on from the project folders"
    );

    // Rust: build.sh runs the crate's own tests and the wasm build, then its cases through
    // drift-host.
    let target = [("CARGO_TARGET_DIR", root().join("target").join("scaffold"))];
    run_in(&rust_project, "./build.sh", &["--test"], &target);
    let module = rust_project.join("build/stamp_users.wasm");
    check_scaffolded(&module, &rust_project, 3, "users");

    // AssemblyScript: npm, its unit tests, the build, its cases.
    run_in(
        &script_project,
        "npm",
        &["install", "--no-audit", "--no-fund", "--silent"],
        &[],
    );
    run_in(&script_project, "npm", &["test", "--silent"], &[]);
    run_in(&script_project, "npm", &["run", "build", "--silent"], &[]);
    let module = script_project.join("build/stamp_orders.wasm");
    check_scaffolded(&module, &script_project, 4, "orders");
}

#[test]
fn new_typescript_python_and_c_projects_build_and_pass_their_tests() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    let folder = migrations.to_str().unwrap();
    // (language, how its build.sh runs the unit tests before building)
    let languages = [("ts", "--test"), ("python", "--test"), ("c", "--test")];
    for (number, (language, test)) in (1..).zip(languages) {
        let name = format!("stamp_{language}");
        let new = drift(&[
            "new", &name, "--lang", language, "--dir", folder, "--table", "orders", "--key",
            "pk,sk",
        ]);
        expect(&new, 0);
        let project = migrations.join(format!("{number:04}_{name}"));
        // build.sh installs what it needs (npm packages, a venv, clang and the C tools: the
        // test run shares them through DRIFT_PY_VENV and DRIFT_C_TOOLS), runs the unit tests
        // and builds build/<name>.wasm.
        run_in(&project, "./build.sh", &[test], &[]);
        let module = project.join("build").join(format!("{name}.wasm"));
        check_scaffolded(&module, &project, number, "orders");
    }
}
