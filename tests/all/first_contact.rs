//! First contact with the command line: every input is checked before DynamoDB is touched
//! (drift.toml's values against the same ranges as the flags, table names, the endpoint, the
//! report's path), and every outcome under `--output json` is one JSON document with its
//! `exit_code`, errors and refusals included.

use std::path::Path;

use serde_json::Value;

use crate::dynamodb::{fill, scan_all, users};
use crate::support::{
    as_guest, block_on, client, drift_output, expect_exit, guest, stderr, stdout, table_exists,
    unique,
};

/// stdout as the one JSON document it must be.
fn document(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", stdout(output)))
}

/// A folder holding users_v2 and a drift.toml with `toml`.
fn project_with(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(guest("users_v2"), dir.path().join("0002_users_v2.wasm")).unwrap();
    std::fs::write(dir.path().join("drift.toml"), toml).unwrap();
    dir
}

#[test]
fn drift_toml_values_meet_the_ranges_of_their_flags_before_dynamodb_is_touched() {
    let meta = unique("meta");
    for (line, says) in [
        (
            "segments = 2000000",
            "`segments = 2000000`: 2000000 is not from 1 to 1000000",
        ),
        ("page_size = 0", "`page_size = 0`: 0 is not from 1 to"),
        (
            "concurrency = 0",
            "`concurrency = 0`: 0 is not from 1 to 1024",
        ),
        (
            "lease_seconds = 1",
            "`lease_seconds = 1`: 1 is not from 3 to",
        ),
        ("apply_concurrency = 5000", "5000 is not from 1 to 4096"),
        ("max_wcu = 0.0", "is not a positive number"),
        ("meta_table = \"a b\"", "is not a DynamoDB table name"),
        ("endpoint_url = \"127.0.0.1:8000\"", "is not a URL"),
    ] {
        let toml = match line.starts_with("meta_table") {
            true => format!("{line}\n"),
            false => format!("meta_table = \"{meta}\"\n{line}\n"),
        };
        let dir = project_with(&toml);
        let dir_arg = dir.path().to_str().unwrap();
        let output = drift_output(&["run", dir_arg, "--output", "json"]);
        expect_exit(&output, 2);
        let err = stderr(&output);
        assert!(err.contains(says), "{line}: {err}");
        assert_eq!(err.lines().count(), 1, "{line}: one line: {err}");
        let json = document(&output);
        assert_eq!(json["exit_code"], 2, "{json}");
        assert!(json["error"].as_str().unwrap().contains(says), "{json}");
        // The command line says the same of the same value.
        let flag = line.split(" = ").next().unwrap().replace('_', "-");
        let value = line.split(" = ").nth(1).unwrap().trim_matches('"');
        if !["meta-table", "endpoint-url", "max-wcu"].contains(&flag.as_str()) {
            let on_the_line = drift_output(&["run", dir_arg, &format!("--{flag}"), value]);
            expect_exit(&on_the_line, 2);
            let why = says.split(": ").last().unwrap();
            assert!(
                stderr(&on_the_line).contains(why),
                "--{flag}: {}",
                stderr(&on_the_line)
            );
        }
    }
    assert!(
        !table_exists(&meta),
        "nothing may create the metadata table"
    );
}

#[test]
fn table_names_and_endpoints_are_checked_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().join("m");
    let new = drift_output(&[
        "new",
        "bad_table",
        "--lang",
        "rust",
        "--table",
        "a b",
        "--dir",
        dir_arg.to_str().unwrap(),
    ]);
    expect_exit(&new, 2);
    assert!(
        stderr(&new).contains("is not a DynamoDB table name"),
        "{}",
        stderr(&new)
    );
    assert!(!dir_arg.exists(), "new wrote nothing");
    let wasm = guest("users_v2");
    let wasm = wasm.to_str().unwrap();
    for args in [
        vec!["run", wasm, "--table", "x"],
        vec!["run", wasm, "--meta-table", "bad/name"],
        vec!["status", "--meta-table", "ab"],
    ] {
        let output = drift_output(&args);
        expect_exit(&output, 2);
        assert!(
            stderr(&output).contains("is not a DynamoDB table name"),
            "{args:?}"
        );
    }
    let started = std::time::Instant::now();
    let output = drift_output(&[
        "status",
        "--endpoint-url",
        "127.0.0.1:8123",
        "--output",
        "json",
    ]);
    expect_exit(&output, 2);
    assert!(
        stderr(&output).contains("write its scheme, as in http://127.0.0.1:8123"),
        "{}",
        stderr(&output)
    );
    assert_eq!(document(&output)["exit_code"], 2);
    // A server that is down is one line with its URL, at once.
    let down = drift_output(&["status", "--endpoint-url", "http://127.0.0.1:9"]);
    expect_exit(&down, 2);
    assert!(
        stderr(&down).contains("cannot reach DynamoDB at http://127.0.0.1:9: Connection refused"),
        "{}",
        stderr(&down)
    );
    // Neither is retried as a network fault (which takes seconds): a fraction of that, with
    // room for a slow machine.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_report_that_cannot_be_written_stops_the_run_before_it_starts() {
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    let items = users(20);
    block_on(fill(&client, &table, &items));
    let before = block_on(scan_all(&client, &table));
    let wasm = guest("users_v2");
    let output = drift_output(&[
        "run",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--report",
        "/nonexistent/dir/r.json",
    ]);
    expect_exit(&output, 2);
    assert!(
        stderr(&output).contains("--report /nonexistent/dir/r.json: cannot write it"),
        "{}",
        stderr(&output)
    );
    assert_eq!(block_on(scan_all(&client, &table)), before);
    assert!(!table_exists(&meta), "no record was made");
    // A writable report path is left without an empty file when the run cannot start.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let output = drift_output(&[
        "run",
        "/nonexistent.wasm",
        "--report",
        report.to_str().unwrap(),
    ]);
    expect_exit(&output, 2);
    assert!(!Path::new(&report).exists());
}

#[test]
fn every_outcome_under_json_output_is_one_document_with_its_exit_code() {
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    block_on(fill(&client, &table, &users(10)));
    let wasm = guest("users_v2");
    let wasm = wasm.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", wasm, "--table", &table, "--meta-table", &meta];
        args.extend(extra);
        args.extend(["--output", "json"]);
        drift_output(&args)
    };
    // No metadata table yet: no records, not an error.
    let status = drift_output(&["status", "--meta-table", &meta, "--output", "json"]);
    expect_exit(&status, 0);
    assert_eq!(
        document(&status),
        serde_json::json!({ "exit_code": 0, "migrations": [] })
    );
    assert!(!table_exists(&meta), "status creates nothing");
    let first = run(&[]);
    expect_exit(&first, 0);
    let report = document(&first);
    assert_eq!(
        (report["exit_code"].clone(), report["status"].clone()),
        (0.into(), "applied".into())
    );
    // Again: nothing to do is a success, as for a folder.
    let again = run(&[]);
    expect_exit(&again, 0);
    let report = document(&again);
    assert_eq!(report["up_to_date"], true, "{report}");
    assert_eq!(report["exit_code"], 0, "{report}");
    // A refusal (another module under the same number: the AssemblyScript build) is a
    // document too, exit code 3.
    let other = as_guest();
    let refused = drift_output(&[
        "run",
        other.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--output",
        "json",
    ]);
    expect_exit(&refused, 3);
    assert_eq!(document(&refused)["exit_code"], 3);
    assert!(document(&refused)["error"]
        .as_str()
        .unwrap()
        .contains("different module"));
    // A usage error is one too.
    let usage = run(&["--segments", "0"]);
    expect_exit(&usage, 2);
    assert!(document(&usage)["error"]
        .as_str()
        .unwrap()
        .contains("0 is not from 1 to 1000000"));
    let status = drift_output(&["status", "--meta-table", &meta, "--output", "json"]);
    let json = document(&status);
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["migrations"][0]["status"], "applied");
}

#[test]
fn help_lists_the_exit_codes_and_every_language() {
    let help = drift_output(&["--help"]);
    expect_exit(&help, 0);
    let text = stdout(&help);
    for code in [
        "0  success",
        "1  the migration ran and failed",
        "2  bad input",
        "3  refused",
    ] {
        assert!(text.contains(code), "{text}");
    }
    assert!(
        text.contains("Rust, AssemblyScript, TypeScript, Python or C"),
        "{text}"
    );
    for command in ["run", "status", "plan", "exec", "tables"] {
        let help = drift_output(&[command, "--help"]);
        assert!(stdout(&help).contains("Exit codes:"), "{command}");
    }
    let new_help = stdout(&drift_output(&["new", "--help"]));
    for alias in ["`ts`", "`js`", "`py`", "`as`", "--lang python", "--lang c"] {
        assert!(new_help.contains(alias), "{alias}: {new_help}");
    }
}

#[test]
fn bad_input_files_are_refused_with_the_place_of_the_bad_item() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("users.jsonl");
    let line =
        |id: &str, extra: &str| format!("{{\"Item\": {{\"id\": {{\"S\": \"{id}\"}}{extra}}}}}\n");
    let mut text = String::new();
    for n in 1..=30 {
        text += &match n {
            28 => "{\"Item\": {\"email\": {\"S\": \"no-key@example.com\"}}}\n".to_owned(),
            _ => line(&format!("u{n}"), ""),
        };
    }
    std::fs::write(&input, &text).unwrap();
    let client = client();
    let table = unique("load");
    let load = |table: &str, extra: &[&str]| {
        let mut args = vec!["load", table, "--input", input.to_str().unwrap()];
        args.extend(extra);
        drift_output(&args)
    };
    // A missing table: a hint, not DynamoDB's raw error.
    let missing = load(&table, &[]);
    expect_exit(&missing, 2);
    assert!(
        stderr(&missing).contains("--create-key"),
        "{}",
        stderr(&missing)
    );
    // Item 28 lacks the key: nothing is written, and the message names it.
    let output = load(&table, &["--create-key", "id"]);
    expect_exit(&output, 2);
    let err = stderr(&output);
    assert!(err.contains("item 28 of 30"), "{err}");
    assert!(
        err.contains("lacks the table's key attribute `id`"),
        "{err}"
    );
    assert!(
        block_on(scan_all(&client, &table)).is_empty(),
        "nothing written"
    );
    // A number that is not one, for exec and load alike: the input's place, not the guest.
    text = text.replace(
        "{\"Item\": {\"email\": {\"S\": \"no-key@example.com\"}}}\n",
        &line("u28", ", \"n\": {\"N\": \"abc\"}"),
    );
    std::fs::write(&input, &text).unwrap();
    let output = load(&table, &[]);
    expect_exit(&output, 2);
    assert!(
        stderr(&output).contains("Item of JSON value 28: not a valid item"),
        "{}",
        stderr(&output)
    );
    assert!(
        block_on(scan_all(&client, &table)).is_empty(),
        "nothing written"
    );
    let wasm = guest("users_v2");
    let exec = drift_output(&[
        "exec",
        wasm.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]);
    expect_exit(&exec, 2);
    let err = stderr(&exec);
    assert!(
        err.contains("Item of JSON value 28: not a valid item"),
        "{err}"
    );
    assert!(!err.contains("migration error"), "{err}");
    // Mended, it loads every item.
    std::fs::write(&input, text.replace(", \"n\": {\"N\": \"abc\"}", "")).unwrap();
    let output = load(&table, &[]);
    expect_exit(&output, 0);
    assert_eq!(block_on(scan_all(&client, &table)).len(), 30);
}

/// A folder finds the module a `drift-host new` project builds where its build writes it; a
/// project not built yet, or a folder with nothing to run, is one line and creates nothing.
#[test]
fn folders_find_built_projects_and_say_what_is_missing() {
    let meta = unique("meta");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let dir_arg = root.to_str().unwrap();
    let status = |extra: &[&str]| {
        let mut args = vec!["status", dir_arg, "--meta-table", &meta, "--output", "json"];
        args.extend(extra);
        drift_output(&args)
    };
    let run = || drift_output(&["run", dir_arg, "--meta-table", &meta]);
    let empty = run();
    expect_exit(&empty, 2);
    assert!(
        stderr(&empty).contains("holds no migration"),
        "{}",
        stderr(&empty)
    );
    // A project folder as `new` makes it, not built yet.
    let project = root.join("0002_users_v2");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("build.sh"), "#!/bin/sh\n").unwrap();
    for output in [run(), status(&[])] {
        expect_exit(&output, 2);
        let err = stderr(&output);
        assert!(
            err.contains("0002_users_v2/ has no built module 0002_users_v2/build/users_v2.wasm"),
            "{err}"
        );
    }
    assert!(!table_exists(&meta), "nothing was created");
    // Built: the folder finds it there, and a copy beside it is the same migration.
    std::fs::create_dir_all(project.join("build")).unwrap();
    std::fs::copy(guest("users_v2"), project.join("build/users_v2.wasm")).unwrap();
    let found = status(&[]);
    expect_exit(&found, 0);
    let rows = document(&found)["migrations"].clone();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["number"], 2, "{rows}");
    assert_eq!(rows[0]["state"], "pending", "{rows}");
    std::fs::copy(guest("users_v2"), root.join("0002_users_v2.wasm")).unwrap();
    let rows = document(&status(&[]))["migrations"].clone();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    // A different module under the same number is still two migrations 2.
    std::fs::copy(as_guest(), root.join("0002_users_v2.wasm")).unwrap();
    let twice = status(&[]);
    expect_exit(&twice, 2);
    assert!(
        stderr(&twice).contains("are both migration 2"),
        "{}",
        stderr(&twice)
    );
}

/// Missing credentials are one line naming the profile or the sources tried, and what to do.
#[test]
fn missing_credentials_are_one_line_that_says_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile half]\nregion = us-east-1\n",
    )
    .unwrap();
    std::fs::write(home.path().join(".aws/credentials"), "").unwrap();
    let without_keys = |args: &[&str]| {
        crate::support::command(args)
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .env("HOME", home.path())
            .env("AWS_CONFIG_FILE", home.path().join(".aws/config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                home.path().join(".aws/credentials"),
            )
            .output()
            .unwrap()
    };
    for (args, says) in [
        (
            &["status", "--profile", "nosuch"][..],
            "AWS profile `nosuch` is in neither",
        ),
        (
            &["status", "--profile", "half"][..],
            "AWS profile `half` gives no credentials",
        ),
        (
            &["status"][..],
            "no AWS credentials found (tried the environment",
        ),
    ] {
        let output = without_keys(args);
        expect_exit(&output, 2);
        let err = stderr(&output);
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.len() < 400 && !err.contains("CredentialsNotLoaded"),
            "{err}"
        );
    }
}

/// Without `DRIFT_LOG`, routine lines are plain sentences (no times, levels or module paths),
/// counted in the singular where there is one; `-q` keeps only the outcome.
#[test]
fn routine_lines_are_plain_sentences() {
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    block_on(fill(&client, &table, &users(1)));
    let wasm = guest("users_v2");
    let run = |extra: &[&str]| {
        let mut args = vec![
            wasm.to_str().unwrap(),
            "--table",
            &table,
            "--meta-table",
            &meta,
        ];
        args.extend(extra);
        crate::support::command(&[&["run"][..], &args].concat())
            .env_remove("DRIFT_LOG")
            .output()
            .unwrap()
    };
    let output = run(&["--restart"]);
    expect_exit(&output, 0);
    let err = stderr(&output);
    assert!(err.contains("migrate users_v2 #2 on `"), "{err}");
    assert!(err.contains(": applied: 1 item scanned,"), "{err}");
    assert!(err.contains(", 0 conflicts, 0 failed items,"), "{err}");
    for noise in [" INFO ", "drift_host::", "Z  "] {
        assert!(!err.contains(noise), "`{noise}` in {err}");
    }
    let quiet = run(&["-q"]);
    expect_exit(&quiet, 0);
    assert_eq!(
        stderr(&quiet).trim().lines().count(),
        1,
        "{}",
        stderr(&quiet)
    );
    assert!(stderr(&quiet).contains("is already applied"));
}

/// Each command lists only the options it uses; one it does not use is refused, not ignored.
#[test]
fn options_a_command_does_not_use_are_neither_listed_nor_ignored() {
    let wasm = guest("users_v2");
    let wasm = wasm.to_str().unwrap();
    for (command, args, flag) in [
        (
            "apply",
            vec!["apply", "plans/x", "--table", "abc"],
            "--table",
        ),
        (
            "apply",
            vec!["apply", "plans/x", "--segments", "4"],
            "--segments",
        ),
        (
            "apply",
            vec!["apply", "plans/x", "--fail-fast"],
            "--fail-fast",
        ),
        ("plan", vec!["plan", wasm, "--restart"], "--restart"),
        (
            "plan",
            vec!["plan", wasm, "--lease-seconds", "30"],
            "--lease-seconds",
        ),
        (
            "plan",
            vec!["plan", wasm, "--provisioned", "5,5"],
            "--provisioned",
        ),
        (
            "status",
            vec!["status", "--deadline-ms", "10"],
            "--deadline-ms",
        ),
        (
            "tables",
            vec!["tables", ".", "--memory-mb", "10"],
            "--memory-mb",
        ),
        (
            "new",
            vec!["new", "x_y", "--lang", "rust", "--deadline-ms", "9"],
            "--deadline-ms",
        ),
    ] {
        let help = stdout(&drift_output(&[command, "--help"]));
        assert!(
            !help.contains(&format!("{flag} ")),
            "{command} --help lists {flag}"
        );
        let output = drift_output(&args);
        expect_exit(&output, 2);
        assert!(
            stderr(&output).contains(&format!("`{command}` does not use {flag}")),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // What they use is still listed.
    assert!(stdout(&drift_output(&["apply", "--help"])).contains("--apply-concurrency"));
    assert!(stdout(&drift_output(&["plan", "--help"])).contains("--segments"));
}

/// `drift-host test` needs no `--key` when the project's drift.toml declares the table (even
/// for a case whose items all fail, so no action names the key).
#[test]
fn test_takes_the_key_from_the_project() {
    let project = tempfile::tempdir().unwrap();
    let cases = project.path().join("0002_users_v2").join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    let case = serde_json::json!({
        "input": [{"id": {"S": "u-7"}, "name": {"S": "no email"}}],
        "expect": {
            "actions": [],
            "errors": [{"item": "{\"id\":{\"S\":\"u-7\"}}", "error": "has no `email`"}],
        },
    });
    std::fs::write(cases.join("only_failures.json"), case.to_string()).unwrap();
    let wasm = guest("users_v2");
    let test = || {
        drift_output(&[
            "test",
            wasm.to_str().unwrap(),
            "--cases",
            cases.to_str().unwrap(),
        ])
    };
    // Without a declaration the item is `item #1`: the case fails.
    expect_exit(&test(), 1);
    std::fs::write(
        project.path().join("drift.toml"),
        "[tables.users]\npartition_key = \"id:S\"\n",
    )
    .unwrap();
    let output = test();
    expect_exit(&output, 0);
    assert!(
        stdout(&output).ends_with("1 passed, 0 failed\n"),
        "{}",
        stdout(&output)
    );
}

/// `plan --out` does not overwrite a kept plan unless asked, and a plan with failed items
/// does not tell people to apply it.
#[test]
fn plans_are_replaced_only_with_force_and_a_failed_plan_is_not_offered_to_apply() {
    let client = client();
    let (table, meta) = (unique("users"), unique("meta"));
    let mut items = users(5);
    items.push(drift_host::model::item::Item::new().with("id", "no-email"));
    block_on(fill(&client, &table, &items));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan");
    let wasm = guest("users_v2");
    let plan = |extra: &[&str]| {
        let mut args = vec![
            "plan",
            wasm.to_str().unwrap(),
            "--table",
            &table,
            "--meta-table",
            &meta,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        drift_output(&args)
    };
    let first = plan(&[]);
    expect_exit(&first, 1);
    let text = stdout(&first);
    assert!(
        text.contains("`apply` refuses a plan with failed items"),
        "{text}"
    );
    assert!(!text.contains("apply it with"), "{text}");
    let again = plan(&[]);
    expect_exit(&again, 2);
    assert!(
        stderr(&again).contains("or --force to replace it"),
        "{}",
        stderr(&again)
    );
    let forced = plan(&["--force"]);
    expect_exit(&forced, 1);
    assert!(out.join("plan.json").exists());
}
