//! `plan` (what a run would do, writing nothing: every table compared before and after) and
//! `apply PLAN` (applies exactly the plan, refuses a stale one).

use std::collections::BTreeMap;

use drift_host::model::item::{Item, Value as AttrValue};
use serde_json::Value;

use crate::dynamodb::{
    by_id, changed_module, fill, hostile_copy_table, hostile_items_named, migrated, scan_all, users,
};
use crate::support::{
    block_on, client, drift_output as drift, expect_exit as expect, guest, stderr, stdout,
    table_exists, unique,
};

/// The tables whose names start with `prefix` and their items, and the items of the shared
/// `hostile_copy` whose ids do (other tests write to their own tables meanwhile).
fn everything(prefix: &str) -> BTreeMap<String, BTreeMap<String, Item>> {
    block_on(async {
        let client = client();
        let mut tables = BTreeMap::new();
        let mut start = None;
        loop {
            let page = client
                .list_tables()
                .set_exclusive_start_table_name(start)
                .send()
                .await
                .unwrap();
            for name in page.table_names() {
                if name.starts_with(prefix) {
                    tables.insert(name.clone(), scan_all(&client, name).await);
                } else if name == "hostile_copy" {
                    let mut items = scan_all(&client, name).await;
                    items.retain(|id, _| id.starts_with(prefix));
                    tables.insert(name.clone(), items);
                }
            }
            start = page.last_evaluated_table_name;
            if start.is_none() {
                return tables;
            }
        }
    })
}

#[test]
fn plan_writes_nothing_and_shows_what_a_run_would_do() {
    let client = client();
    // Every name this test makes starts with `prefix`.
    let prefix = unique("plannothing");
    let table = format!("{prefix}_users");
    let meta = format!("{prefix}_meta");
    let mut items = users(120);
    items[7].remove("email");
    block_on(fill(&client, &table, &items));
    let wasm = guest("users_v2");
    let before = everything(&prefix);
    let planned = drift(&[
        "plan",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--sample",
        "4",
        "--output",
        "json",
        "--max-wcu",
        "50",
    ]);
    expect(&planned, 1);
    let report: Value = serde_json::from_str(&stdout(&planned)).unwrap();
    assert_eq!(report["items_scanned"], 120);
    assert_eq!(report["failed_items"], 1);
    assert_eq!(
        report["failures"][0]["key"],
        serde_json::json!({"id": {"S": "u-00007"}})
    );
    assert_eq!(report["actions"][&table]["update"], 119);
    assert_eq!(report["actions_total"], 119);
    assert!(report["estimated_wcu"].as_f64().unwrap() >= 119.0);
    assert!(report["estimated_seconds_at_max_wcu"].as_f64().unwrap() >= 119.0 / 50.0);
    let samples = report["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 4);
    for sample in samples {
        let id = sample["key"]["id"]["S"].as_str().unwrap();
        let user = items
            .iter()
            .find(|u| u["id"] == AttrValue::S(id.into()))
            .unwrap();
        let expected = migrated(user);
        let after: Item = drift_host::model::item::from_json_item(&sample["after"]).unwrap();
        assert_eq!(by_id(&[after]), by_id(&[expected]), "sample {id}");
        assert!(sample["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("+ email_lower")));
    }
    // Text output names the failed item and says a run would apply nothing.
    let text = drift(&[
        "plan",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
    ]);
    expect(&text, 1);
    assert!(
        stdout(&text).contains("failed: {\"id\":{\"S\":\"u-00007\"}}"),
        "{}",
        stdout(&text)
    );
    assert!(
        stdout(&text).contains("a run would apply nothing"),
        "{}",
        stdout(&text)
    );

    // A guest's immediate writes are refused during a plan: it only reads.
    hostile_copy_table(&client);
    let hostile = format!("{prefix}_hostile");
    block_on(fill(
        &client,
        &hostile,
        &hostile_items_named(&hostile, 5, "deleted-meanwhile"),
    ));
    let mut copies = hostile_items_named(&hostile, 5, "copy");
    for item in &mut copies {
        let AttrValue::S(id) = item["id"].clone() else {
            unreachable!()
        };
        item.insert("id".into(), AttrValue::S(format!("{id}-c")));
    }
    block_on(fill(&client, &hostile, &copies));
    let before = {
        let mut all = before;
        all.extend(everything(&prefix));
        all
    };
    let probe = drift(&[
        "plan",
        guest("drift_test_guests").to_str().unwrap(),
        "--table",
        &hostile,
        "--meta-table",
        &meta,
        "--output",
        "json",
    ]);
    expect(&probe, 1);
    let report: Value = serde_json::from_str(&stdout(&probe)).unwrap();
    assert_eq!(report["failed_items"], 5, "{report}");
    assert!(
        report["failures"][0]["error"]
            .as_str()
            .unwrap()
            .contains("writes nothing"),
        "{report}"
    );
    assert_eq!(report["actions"]["hostile_copy"]["put"], 5, "{report}");

    // Not one table, item or metadata table more or less.
    assert_eq!(everything(&prefix), before);
    assert!(!table_exists(&meta), "plan created no metadata table");
}

#[test]
fn apply_applies_the_plan_and_refuses_a_stale_one() {
    let client = client();
    let table = unique("plan_apply");
    let meta = unique("plan_meta");
    let items = users(200);
    block_on(fill(&client, &table, &items));
    let wasm = guest("users_v2");
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("users_v2");
    let planned = drift(&[
        "plan",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--out",
        plan.to_str().unwrap(),
    ]);
    expect(&planned, 0);
    assert!(
        stdout(&planned).contains("drift-host apply"),
        "{}",
        stdout(&planned)
    );
    assert_eq!(
        block_on(scan_all(&client, &table)),
        by_id(&items),
        "plan wrote nothing"
    );
    // A second plan into the same folder is refused: a plan is never overwritten.
    let again = drift(&[
        "plan",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--out",
        plan.to_str().unwrap(),
    ]);
    expect(&again, 2);

    // The module given must be the planned one.
    let changed = changed_module(&wasm);
    let wrong = drift(&[
        "apply",
        plan.to_str().unwrap(),
        "--migration",
        changed.to_str().unwrap(),
        "--meta-table",
        &meta,
    ]);
    expect(&wrong, 3);
    assert!(
        stderr(&wrong).contains("module changed since the plan"),
        "{}",
        stderr(&wrong)
    );

    let applied = drift(&[
        "apply",
        plan.to_str().unwrap(),
        "--meta-table",
        &meta,
        "--output",
        "json",
    ]);
    expect(&applied, 0);
    assert!(
        stderr(&applied).contains("made 0s ago") || stderr(&applied).contains("s ago"),
        "{}",
        stderr(&applied)
    );
    let report: Value = serde_json::from_str(&stdout(&applied)).unwrap();
    assert_eq!(report["status"], "applied");
    assert_eq!(report["counts"]["updates"], 200);
    let expected = by_id(&items.iter().map(migrated).collect::<Vec<_>>());
    assert_eq!(block_on(scan_all(&client, &table)), expected);

    // Applied since: refused, and a plan of an applied migration is refused too.
    let twice = drift(&["apply", plan.to_str().unwrap(), "--meta-table", &meta]);
    expect(&twice, 3);
    assert!(
        stderr(&twice).contains("applied since the plan"),
        "{}",
        stderr(&twice)
    );
    let replan = drift(&[
        "plan",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
    ]);
    expect(&replan, 3);

    // A table deleted and created again since the plan is another table.
    let other = unique("plan_recreated");
    block_on(fill(&client, &other, &items));
    let plan2 = dir.path().join("recreated");
    let meta2 = unique("plan_meta");
    expect(
        &drift(&[
            "plan",
            wasm.to_str().unwrap(),
            "--table",
            &other,
            "--meta-table",
            &meta2,
            "--out",
            plan2.to_str().unwrap(),
        ]),
        0,
    );
    block_on(client.delete_table().table_name(&other).send()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    block_on(fill(&client, &other, &items));
    let recreated = drift(&["apply", plan2.to_str().unwrap(), "--meta-table", &meta2]);
    expect(&recreated, 3);
    assert!(
        stderr(&recreated).contains("re-created since the plan"),
        "{}",
        stderr(&recreated)
    );
    assert_eq!(block_on(scan_all(&client, &other)), by_id(&items));
}

#[test]
fn an_undo_is_planned_and_applied_only_for_an_applied_migration() {
    let client = client();
    let table = unique("plan_undo");
    let meta = unique("plan_meta");
    let items = users(50);
    block_on(fill(&client, &table, &items));
    let wasm = guest("users_v2");
    let w = wasm.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let early = dir.path().join("early");
    // Nothing applied yet: nothing to undo.
    let nothing = drift(&[
        "plan",
        w,
        "--undo",
        "--table",
        &table,
        "--meta-table",
        &meta,
    ]);
    expect(&nothing, 3);
    assert!(
        stderr(&nothing).contains("nothing to undo"),
        "{}",
        stderr(&nothing)
    );
    let run = drift(&["run", w, "--table", &table, "--meta-table", &meta]);
    expect(&run, 0);
    let planned = drift(&[
        "plan",
        w,
        "--undo",
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--out",
        early.to_str().unwrap(),
        "--output",
        "json",
    ]);
    expect(&planned, 0);
    let report: Value = serde_json::from_str(&stdout(&planned)).unwrap();
    assert_eq!(report["operation"], "undo");
    assert_eq!(report["actions"][&table]["update"], 50);
    let applied = drift(&["apply", early.to_str().unwrap(), "--meta-table", &meta]);
    expect(&applied, 0);
    assert_eq!(
        block_on(scan_all(&client, &table)),
        by_id(&items),
        "undone exactly"
    );
    // Rolled back now: the undo plan cannot be applied again.
    let again = drift(&["apply", early.to_str().unwrap(), "--meta-table", &meta]);
    expect(&again, 3);
}

/// An `apply` killed midway is resumed by `run` of the same module, ending with the table an
/// uninterrupted apply leaves.
#[cfg(feature = "crash-points")]
#[test]
fn an_apply_killed_midway_is_resumed_by_run() {
    let client = client();
    let table = unique("plan_killed");
    let meta = unique("plan_meta");
    let items = users(400);
    block_on(fill(&client, &table, &items));
    let wasm = guest("users_v2");
    let w = wasm.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan");
    expect(
        &drift(&[
            "plan",
            w,
            "--table",
            &table,
            "--meta-table",
            &meta,
            "--out",
            plan.to_str().unwrap(),
        ]),
        0,
    );
    for point in ["batch-written:3", "apply-checkpoint:1"] {
        let killed = crate::support::command(&[
            "apply",
            plan.to_str().unwrap(),
            "--meta-table",
            &meta,
            "--checkpoint-interval-ms",
            "10",
            "--apply-concurrency",
            "2",
        ])
        .env("DRIFT_CRASH_AT", point)
        .output()
        .unwrap();
        if killed.status.code().is_some() {
            // The point came after the last write: the apply finished; nothing to resume.
            continue;
        }
        expect(&drift(&["unlock", "--force", "--meta-table", &meta]), 0);
        let resumed = drift(&["run", w, "--table", &table, "--meta-table", &meta]);
        expect(&resumed, 0);
        let expected = by_id(&items.iter().map(migrated).collect::<Vec<_>>());
        assert_eq!(
            block_on(scan_all(&client, &table)),
            expected,
            "after a kill at {point}"
        );
        return;
    }
    panic!("no crash point was reached during the apply");
}
