//! `drift-host exec` and `inspect` through the binary, as a user runs them.

use std::fs;

use drift_host::model::item::{from_json_item, to_json_item};
use serde_json::{json, Value};

use crate::support::{drift_host, guest, root, stderr, stdout};

fn sample() -> String {
    root()
        .join("tests/data/users_mixed.json")
        .display()
        .to_string()
}

fn data(name: &str) -> String {
    root().join("tests/data").join(name).display().to_string()
}

#[test]
fn users_v2_prints_the_expected_actions_and_names_the_failed_item() {
    let wasm = guest("users_v2");
    let output = drift_host(
        &[
            "exec",
            wasm.to_str().unwrap(),
            "--input",
            &sample(),
            "--key",
            "id",
        ],
        None,
    );
    assert_eq!(
        stdout(&output),
        fs::read_to_string(data("users_v2.migrate.jsonl")).unwrap()
    );
    assert_eq!(
        stderr(&output),
        "error: {\"id\":{\"S\":\"u-005\"}}: migration error: user has no `email` attribute\n\
         users_v2 #2 (migrate): 5 items, 3 actions (0 put, 3 update, 0 delete), 1 failed\n"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn users_v2_rollback_reads_export_lines_from_stdin() {
    let wasm = guest("users_v2");
    let input = fs::read_to_string(data("users_v2.migrated.jsonl")).unwrap();
    let output = drift_host(
        &[
            "exec",
            wasm.to_str().unwrap(),
            "--input",
            "-",
            "--rollback",
            "--concurrency",
            "3",
        ],
        Some(&input),
    );
    assert_eq!(
        stdout(&output),
        fs::read_to_string(data("users_v2.rollback.jsonl")).unwrap()
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn items_round_trip_through_a_guest_unchanged() {
    // Nested maps and lists, every set type, binary, unicode, 38-digit numbers.
    let items = fs::read_to_string(data("tricky_items.json")).unwrap();
    let expected: Vec<Value> = serde_json::from_str::<Value>(&items).unwrap()["Items"]
        .as_array()
        .unwrap()
        .clone();
    for behave in ["echo", "sdk-echo"] {
        let input = expected
            .iter()
            .map(|item| {
                let mut item = item.clone();
                item["behave"] = json!({ "S": behave });
                json!({ "Item": item }).to_string()
            })
            .collect::<Vec<_>>()
            .join("\n");
        let wasm = guest("drift_test_guests");
        let output = drift_host(
            &[
                "exec",
                wasm.to_str().unwrap(),
                "--input",
                "-",
                "--key",
                "id",
            ],
            Some(&input),
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let written: Vec<Value> = stdout(&output)
            .lines()
            .map(|line| {
                let action: Value = serde_json::from_str(line).unwrap();
                assert_eq!(action["kind"], "put");
                let mut item = from_json_item(&action["item"]).unwrap();
                item.remove("behave");
                to_json_item(&item)
            })
            .collect();
        assert_eq!(written, expected, "{behave}");
    }
}

#[test]
fn a_looping_guest_is_stopped_by_the_deadline_and_reported() {
    let wasm = guest("drift_test_guests");
    let input =
        r#"{"Items": [{"id": {"S": "spin"}, "behave": {"S": "loop"}}, {"id": {"S": "fine"}}]}"#;
    let output = drift_host(
        &[
            "exec",
            wasm.to_str().unwrap(),
            "--input",
            "-",
            "--key",
            "id",
            "--deadline-ms",
            "200",
            "--concurrency",
            "1",
        ],
        Some(input),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output)
            .contains("error: {\"id\":{\"S\":\"spin\"}}: guest exceeded its CPU deadline of 200ms"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        stdout(&output).lines().count(),
        1,
        "the next item still runs"
    );
}

#[test]
fn inspect_prints_info() {
    let wasm = guest("users_v2");
    let output = drift_host(&["inspect", wasm.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(0));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["info"]["name"], "users_v2");
    assert_eq!(report["info"]["number"], 2);
    assert_eq!(report["info"]["table"], "users");
    assert_eq!(report["kind"], "component");
    assert_eq!(report["checksum"].as_str().unwrap().len(), 64);
}

#[test]
fn bad_input_gives_one_line_and_exit_code_2() {
    let wasm = guest("users_v2");
    let not_wasm = sample();
    let cases: [(&[&str], Option<&str>, &str); 4] = [
        (&["inspect", &not_wasm], None, "not a WebAssembly file"),
        (
            &["inspect", "/nonexistent.wasm"],
            None,
            "cannot read /nonexistent.wasm",
        ),
        (
            &["exec", wasm.to_str().unwrap(), "--input", "-"],
            Some("{\"Items\": [{\"id\": {\"S\": 1}}]}"),
            "Items[0] of JSON value 1: attribute `id`: S needs a string",
        ),
        (
            &[
                "exec",
                wasm.to_str().unwrap(),
                "--input",
                "/nonexistent.json",
            ],
            None,
            "cannot open /nonexistent.json",
        ),
    ];
    for (args, stdin, expected) in cases {
        let output = drift_host(args, stdin);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
    }
}

/// Starts `drift-host args` with stdin from `input`, reads `lines` lines of its output, closes
/// the pipe as `| head` does, and returns how it ended.
fn closed_early(
    args: &[&str],
    input: Option<&std::path::Path>,
    lines: usize,
) -> std::process::Output {
    use std::io::BufRead;
    let mut command = crate::support::command(args);
    if let Some(input) = input {
        command.stdin(fs::File::open(input).unwrap());
    }
    let mut child = command.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let mut reader = std::io::BufReader::new(out);
    for _ in 0..lines {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
    }
    drop(reader);
    child.wait_with_output().unwrap()
}

#[test]
fn a_reader_that_closes_early_ends_the_command_quietly() {
    let wasm = guest("users_v2");
    let dir = tempfile::tempdir().unwrap();
    let many = dir.path().join("many.json");
    let line = "{\"Item\": {\"id\": {\"S\": \"u\"}, \"email\": {\"S\": \"A@B.c\"}}}\n";
    fs::write(&many, line.repeat(20_000)).unwrap();
    let exec = closed_early(
        &["exec", wasm.to_str().unwrap(), "--input", "-"],
        Some(&many),
        1,
    );
    assert_eq!(exec.status.code(), Some(0), "{}", stderr(&exec));
    assert!(!stderr(&exec).contains("error"), "{}", stderr(&exec));
    let inspect = closed_early(&["inspect", wasm.to_str().unwrap()], None, 0);
    assert_eq!(inspect.status.code(), Some(0), "{}", stderr(&inspect));
    assert!(stderr(&inspect).is_empty(), "{}", stderr(&inspect));
}

#[test]
fn exec_prints_one_json_document_with_output_json() {
    let wasm = guest("users_v2");
    let output = drift_host(
        &[
            "exec",
            wasm.to_str().unwrap(),
            "--input",
            &sample(),
            "--key",
            "id",
            "--output",
            "json",
        ],
        None,
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "one item fails: {}",
        stderr(&output)
    );
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let lines = fs::read_to_string(data("users_v2.migrate.jsonl")).unwrap();
    let expected: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(document["actions"], Value::Array(expected));
    assert_eq!(document["failed_items"], 1);
    assert_eq!(document["failures"].as_array().unwrap().len(), 1);
    assert!(document["items"].as_u64().unwrap() > 1);
}

#[test]
fn exec_diff_shows_each_item_before_and_after() {
    let wasm = guest("users_v2");
    let output = drift_host(
        &[
            "exec",
            wasm.to_str().unwrap(),
            "--input",
            &sample(),
            "--key",
            "id",
            "--diff",
        ],
        None,
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "one item fails: {}",
        stderr(&output)
    );
    let out = stdout(&output);
    let ada = "{\"id\":{\"S\":\"u-001\"}}\n    + email_lower: \"ada.lovelace@example.com\"\n    \
               + full_name: \"Ada Lovelace\"\n    - name: \"Ada Lovelace\"\n    + schema_version: 2\n";
    assert!(out.contains(ada), "{out}");
    assert!(out.contains("    (unchanged)\n"), "{out}");
    assert!(
        out.contains("    error: migration error: user has no `email` attribute"),
        "{out}"
    );
    // Rollback shows the way back.
    let back = drift_host(
        &[
            "exec",
            wasm.to_str().unwrap(),
            "--input",
            &data("users_v2.migrated.jsonl"),
            "--key",
            "id",
            "--diff",
            "--rollback",
        ],
        None,
    );
    assert!(
        stdout(&back).contains("    - email_lower: \"ada.lovelace@example.com\""),
        "{}",
        stdout(&back)
    );
}

#[test]
fn every_command_s_help_ends_with_an_example() {
    let help = drift_host(&["--help"], None);
    let text = stdout(&help);
    let commands: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 14, "{commands:?}");
    for command in commands {
        let help = drift_host(&[command, "--help"], None);
        let text = stdout(&help);
        let tail = text.trim_end().rsplit("\n\n").next().unwrap_or_default();
        assert!(
            tail.starts_with("Example") && tail.contains("drift-host "),
            "`{command} --help` ends with: {tail}"
        );
    }
}
