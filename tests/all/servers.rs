//! Any DynamoDB-compatible server: moto's server (a second, independent implementation, whose
//! PartiQL parser cannot read our batched `UPDATE` statements) and a server without PartiQL
//! (DynamoDB Local behind a proxy answering `UnknownOperationException`). Updates then go as
//! `UpdateItem`, said once on stderr and in the report, and the tables end exactly as on
//! DynamoDB Local.

use std::process::Output;

use serde_json::Value;

use crate::conformance::{every_feature, items_of, reset_things, stats, things_tables};
use crate::dynamodb::{by_id, by_key, fill, migrated, scan_all, scan_keyed, users};
use crate::fault_proxy::without_partiql_in_front_of_test_server;
use crate::project::TOML;
use crate::support::{
    block_on, client, client_at, command, expect_exit, guest, moto_endpoint, stderr, stdout, unique,
};

/// `drift-host args` against the server at `endpoint`.
fn drift_at(endpoint: &str, args: &[&str]) -> Output {
    command(args)
        .env("DRIFT_ENDPOINT_URL", endpoint)
        .output()
        .expect("run drift-host")
}

fn report(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or(Value::Null)
}

/// How often stderr says that updates go one by one.
fn fallback_notes(output: &Output) -> usize {
    stderr(output)
        .matches("does not take batched PartiQL updates")
        .count()
}

#[test]
fn run_status_and_undo_leave_exact_tables_on_moto() {
    let moto = moto_endpoint();
    let moto_client = client_at(moto);
    let (table, meta) = (unique("users"), unique("meta"));
    let original = users(400);
    block_on(fill(&moto_client, &table, &original));
    let wasm = guest("users_v2");
    let wasm = wasm.to_str().unwrap();
    let common = ["--table", &table, "--meta-table", &meta, "--output", "json"];

    let run = drift_at(moto, &[&["run", wasm][..], &common].concat());
    expect_exit(&run, 0);
    let run_report = report(&run);
    assert_eq!(run_report["status"], "applied", "{run_report}");
    assert_eq!(run_report["counts"]["updates"], 400);
    assert_eq!(run_report["updates_single"], 400);
    let refused = run_report["statements_refused"]
        .as_str()
        .unwrap_or_default();
    assert!(
        refused.contains(&format!("`{table}`")) && refused.contains("HTTP 500"),
        "{refused}"
    );
    assert_eq!(fallback_notes(&run), 1, "{}", stderr(&run));
    let expected = by_id(&original.iter().map(migrated).collect::<Vec<_>>());
    assert_eq!(block_on(scan_all(&moto_client, &table)), expected);

    let status = drift_at(moto, &["status", "--meta-table", &meta, "--output", "json"]);
    expect_exit(&status, 0);
    let records = report(&status)["migrations"].clone();
    assert_eq!(records[0]["status"], "applied", "{records}");
    assert_eq!(records[0]["counts"]["updates"], 400);

    let undo = drift_at(moto, &[&["undo", wasm][..], &common].concat());
    expect_exit(&undo, 0);
    assert_eq!(report(&undo)["status"], "rolled_back");
    assert_eq!(block_on(scan_all(&moto_client, &table)), by_id(&original));
    let status = drift_at(moto, &["status", "--meta-table", &meta, "--output", "json"]);
    assert_eq!(report(&status)["migrations"][0]["status"], "rolled_back");
}

#[test]
fn a_live_run_catches_up_on_moto() {
    let moto = moto_endpoint();
    let moto_client = client_at(moto);
    let (table, meta) = (unique("users"), unique("meta"));
    let original = users(40);
    block_on(fill(&moto_client, &table, &original));
    let wasm = guest("users_v2");
    let args = [
        "run",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--live",
        "--enable-stream",
        "--live-quiet",
        "1",
        "--output",
        "json",
    ];
    let run = drift_at(moto, &args);
    expect_exit(&run, 0);
    assert_eq!(report(&run)["status"], "applied", "{}", stderr(&run));
    let expected = by_id(&original.iter().map(migrated).collect::<Vec<_>>());
    assert_eq!(block_on(scan_all(&moto_client, &table)), expected);
}

/// The only test on moto's `users` and `users_by_email` (the examples' own table names).
#[test]
fn a_folder_creates_its_tables_runs_and_undoes_on_moto() {
    let moto = moto_endpoint();
    let moto_client = client_at(moto);
    for table in ["users", "users_by_email"] {
        let _ = block_on(moto_client.delete_table().table_name(table).send());
    }
    let original = users(150);
    block_on(fill(&moto_client, "users", &original));
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("drift.toml"), TOML).unwrap();
    std::fs::copy(guest("users_v2"), project.path().join("0002_users_v2.wasm")).unwrap();
    std::fs::copy(
        guest("users_by_email"),
        project.path().join("0003_users_by_email.wasm"),
    )
    .unwrap();
    let dir = project.path().to_str().unwrap();
    let meta = unique("meta");
    let common = ["--meta-table", meta.as_str(), "--output", "json"];

    let run = drift_at(moto, &[&["run", dir][..], &common].concat());
    expect_exit(&run, 0);
    let expected = by_id(&original.iter().map(migrated).collect::<Vec<_>>());
    assert_eq!(block_on(scan_all(&moto_client, "users")), expected);
    let copies = block_on(scan_keyed(&moto_client, "users_by_email", "id"));
    assert_eq!(copies.len(), original.len());
    for (id, copy) in &copies {
        assert_eq!(copy["email_lower"], expected[id]["email_lower"]);
    }
    let described = block_on(
        moto_client
            .describe_table()
            .table_name("users_by_email")
            .send(),
    )
    .unwrap();
    assert_eq!(
        described.table().unwrap().global_secondary_indexes().len(),
        1
    );
    assert!(fallback_notes(&run) >= 1, "{}", stderr(&run));
    let status = drift_at(
        moto,
        &["status", dir, "--meta-table", &meta, "--output", "json"],
    );
    expect_exit(&status, 0);
    let rows = report(&status);
    let states: Vec<&str> = rows["migrations"]
        .as_array()
        .map(|rows| rows.iter().filter_map(|r| r["state"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(states, ["applied", "applied"], "{}", stdout(&status));

    let undo = drift_at(moto, &[&["undo", dir, "--to", "1"][..], &common].concat());
    expect_exit(&undo, 0);
    assert_eq!(block_on(scan_all(&moto_client, "users")), by_id(&original));
    assert!(block_on(scan_keyed(&moto_client, "users_by_email", "id")).is_empty());
}

/// users_v2 run over `count` fresh users on DynamoDB Local through the proxy at `address`:
/// it succeeds and leaves the table exactly migrated; returns the run and its report.
fn users_v2_through(address: &str, count: usize) -> (Output, Value) {
    let (table, meta) = (unique("users"), unique("meta"));
    let original = users(count);
    block_on(fill(&client(), &table, &original));
    let wasm = guest("users_v2");
    let wasm = wasm.to_str().unwrap();
    let args = [
        "run",
        wasm,
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--output",
        "json",
    ];
    let run = drift_at(address, &args);
    expect_exit(&run, 0);
    let expected = by_id(&original.iter().map(migrated).collect::<Vec<_>>());
    assert_eq!(block_on(scan_all(&client(), &table)), expected);
    let run_report = report(&run);
    assert_eq!(
        run_report["counts"]["updates"], count as u64,
        "{run_report}"
    );
    assert_eq!(run_report["updates_single"], count as u64, "{run_report}");
    (run, run_report)
}

#[test]
fn a_server_without_partiql_gets_updates_as_update_item() {
    let (_proxy, address) = without_partiql_in_front_of_test_server(false);
    let (run, run_report) = users_v2_through(&address, 200);
    let refused = run_report["statements_refused"]
        .as_str()
        .unwrap_or_default();
    assert!(refused.contains("UnknownOperationException"), "{refused}");
    assert_eq!(run_report["updates_batched"], 0, "{run_report}");
    assert_eq!(fallback_notes(&run), 1, "{}", stderr(&run));
}

#[test]
fn statements_a_server_fails_after_the_probe_go_again_as_update_item() {
    let (_proxy, address) = without_partiql_in_front_of_test_server(true);
    let (run, run_report) = users_v2_through(&address, 120);
    assert_eq!(
        run_report["statements_refused"],
        Value::Null,
        "{run_report}"
    );
    assert_eq!(fallback_notes(&run), 0, "{}", stderr(&run));
}

/// The conformance migration that uses every feature (conditions, `ADD` and arithmetic applied
/// exactly once with markers, upserts, puts and deletes in other tables, immediate reads)
/// leaves on moto exactly the tables it leaves on DynamoDB Local, and its undo restores them.
/// The only test on moto's `things*` tables.
#[test]
fn every_feature_runs_and_undoes_exactly_on_moto() {
    let moto = moto_endpoint();
    let moto_client = client_at(moto);
    let items: Vec<_> = items_of("items.json")
        .into_iter()
        .filter(|item| !item.contains("poison"))
        .collect();
    let index = items_of("index.json");
    block_on(reset_things(&moto_client, &items, &index));
    let wasm = every_feature("rust");
    let wasm = wasm.to_str().unwrap();
    let meta = unique("meta");
    let run = drift_at(moto, &["run", wasm, "--meta-table", &meta]);
    expect_exit(&run, 0);
    let after = block_on(things_tables(&moto_client));
    assert_eq!(after["things"], by_key(&items_of("migrated.jsonl"), "pk"));
    assert_eq!(after["things_copy"].len(), items.len());
    assert_eq!(after["things_index"].keys().collect::<Vec<_>>(), ["t-99"]);
    assert_eq!(after["things_stats"], stats(items.len() as i64));

    let undo = drift_at(moto, &["undo", wasm, "--meta-table", &meta]);
    expect_exit(&undo, 0);
    let after = block_on(things_tables(&moto_client));
    assert_eq!(after["things"], by_key(&items, "pk"));
    assert!(after["things_copy"].is_empty());
    assert_eq!(after["things_index"], by_key(&index, "pk"));
    assert_eq!(after["things_stats"], stats(0));
}
