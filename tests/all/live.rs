//! `run --live`: a table migrated while a writer keeps replacing, creating and deleting its
//! items, against DynamoDB Local and its stream. Every test ends with the table holding the
//! migration of the writer's latest version of every item: nothing stale, nothing missed,
//! nothing deleted brought back.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use drift_host::aws::convert::to_aws_item;
use drift_host::aws::stream::{enable_stream, table_stream};
use drift_host::model::item::{Item, Value};
use serde_json::Value as Json;

use crate::dynamodb::{
    canonical_item, fill, hostile_copy_table, hostile_items_named, migrated, scan_all, users,
};
use crate::support::{block_on, client, command, expect_exit, guest, root, stderr, stdout, unique};

/// The writer's view of the table: every id's latest version (`None`: deleted).
type Model = BTreeMap<String, Option<Item>>;

/// A table of `count` users, with a NEW_AND_OLD_IMAGES stream enabled after they were written
/// (so the stream starts quiet).
fn table_with_stream(prefix: &str, count: usize) -> (String, Model) {
    let table = unique(prefix);
    let items = users(count);
    block_on(async {
        let client = client();
        fill(&client, &table, &items).await;
        enable_stream(&client, &Default::default(), &table)
            .await
            .unwrap();
    });
    let model = items
        .into_iter()
        .map(|item| (id_of(&item), Some(item)))
        .collect();
    (table, model)
}

fn id_of(item: &Item) -> String {
    item.get_str("id").expect("an id").to_owned()
}

/// What the table must hold once users_v2 ran live over the writer's `model`.
fn expected(model: &Model) -> BTreeMap<String, Item> {
    model
        .iter()
        .filter_map(|(id, item)| {
            let item = item.as_ref()?;
            let done = if item.get("schema_version").is_some() {
                item.clone()
            } else {
                migrated(item)
            };
            Some((id.clone(), canonical_item(&done)))
        })
        .collect()
}

/// The writer's operations, drawn from `seed`: replace an item with an old-shape version
/// (new email, name kept or dropped), create one, delete one, or write one in the new shape
/// (as the application does once it runs the new code).
struct Writer {
    rng: fastrand::Rng,
    created: usize,
}

impl Writer {
    fn new(seed: u64) -> Writer {
        Writer {
            rng: fastrand::Rng::with_seed(seed),
            created: 0,
        }
    }

    /// One operation on `model` and the table.
    async fn step(&mut self, client: &Client, table: &str, model: &mut Model) {
        let ids: Vec<String> = model.keys().cloned().collect();
        let id = ids[self.rng.usize(..ids.len())].clone();
        let template = users(1).remove(0);
        match self.rng.u8(..10) {
            0..=4 => {
                let mut item = model[&id].clone().unwrap_or(template);
                item.set("id", id.as_str());
                item.remove("schema_version");
                item.remove("email_lower");
                item.remove("full_name");
                let n = self.rng.u32(..);
                item.set("email", format!("Writer.{n}@Example.COM"));
                if self.rng.bool() {
                    item.set("name", format!("Name {n}"));
                } else {
                    item.remove("name");
                }
                put(client, table, &item).await;
                model.insert(id, Some(item));
            }
            5..=6 => {
                self.created += 1;
                let mut item = template;
                let id = format!("w-{:05}-{}", self.created, self.rng.u16(..));
                item.set("id", id.as_str());
                item.set("email", format!("New.{}@Example.COM", self.created));
                put(client, table, &item).await;
                model.insert(id, Some(item));
            }
            7..=8 => {
                client
                    .delete_item()
                    .table_name(table)
                    .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.clone()))
                    .send()
                    .await
                    .unwrap();
                model.insert(id, None);
            }
            _ => {
                let mut item = model[&id].clone().unwrap_or(template);
                item.set("id", id.as_str());
                let item = if item.get("schema_version").is_some() {
                    item
                } else {
                    migrated(&item)
                };
                put(client, table, &item).await;
                model.insert(id, Some(item));
            }
        }
    }
}

async fn put(client: &Client, table: &str, item: &Item) {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(to_aws_item(item)))
        .send()
        .await
        .unwrap();
}

/// `run --live` of users_v2 on `table`, with `extra` options and environment.
fn live_run(table: &str, meta: &str, extra: &[&str], env: &[(&str, String)]) -> Child {
    let mut args = vec![
        "--live-quiet",
        "2",
        "--page-size",
        "25",
        "--concurrency",
        "2",
    ];
    args.extend_from_slice(extra);
    live_run_of("users_v2", table, meta, &args, env)
}

/// `run --live` of the guest `name` on `table` with `extra` options and environment, its
/// report on stdout.
fn live_run_of(
    name: &str,
    table: &str,
    meta: &str,
    extra: &[&str],
    env: &[(&str, String)],
) -> Child {
    let wasm = guest(name);
    let mut args = vec![
        "run",
        wasm.to_str().unwrap(),
        "--table",
        table,
        "--meta-table",
        meta,
        "--live",
        "--checkpoint-interval-ms",
        "50",
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    let mut command = command(&args);
    command.envs(env.iter().map(|(k, v)| (*k, v.clone())));
    command.spawn().expect("start drift-host")
}

fn report(output: &Output) -> Json {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(output), stderr(output)))
}

fn check_table(table: &str, model: &Model) {
    let found = block_on(scan_all(&client(), table));
    let expected = expected(model);
    let missing: Vec<&String> = expected
        .keys()
        .filter(|k| !found.contains_key(*k))
        .collect();
    let resurrected: Vec<&String> = found
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(missing.is_empty(), "items missing: {missing:?}");
    assert!(
        resurrected.is_empty(),
        "deleted items back: {resurrected:?}"
    );
    for (id, item) in &expected {
        assert_eq!(
            &found[id], item,
            "item {id} is not the migration of its latest version"
        );
    }
}

/// A file that holds a run at a point until it is removed (see `DRIFT_HOLD_AT`).
struct Hold {
    file: PathBuf,
}

impl Hold {
    fn new(point: &str) -> (Hold, Vec<(&'static str, String)>) {
        let dir = root().join("target").join("test-journals");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(unique("hold"));
        std::fs::write(&file, point).unwrap();
        let env = vec![
            ("DRIFT_HOLD_AT", point.to_owned()),
            ("DRIFT_HOLD_FILE", file.display().to_string()),
        ];
        (Hold { file }, env)
    }

    /// Waits until the run is held (or has exited, which the caller finds out).
    fn reached(&self, child: &mut Child) {
        let reached = PathBuf::from(format!("{}.reached", self.file.display()));
        let deadline = Instant::now() + Duration::from_secs(120);
        while !reached.exists() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before the hold"
            );
            assert!(Instant::now() < deadline, "the run never reached the hold");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn release(self) {
        std::fs::remove_file(&self.file).unwrap();
    }
}

#[test]
fn a_table_without_a_stream_is_refused_and_enable_stream_enables_one() {
    let table = unique("live_nostream");
    let meta = unique("live_meta");
    let items = users(60);
    block_on(fill(&client(), &table, &items));
    let before = block_on(scan_all(&client(), &table));
    let refused = live_run(&table, &meta, &[], &[])
        .wait_with_output()
        .unwrap();
    expect_exit(&refused, 3);
    let message = stderr(&refused);
    assert!(message.contains("--enable-stream"), "{message}");
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert_eq!(block_on(scan_all(&client(), &table)), before);

    let output = live_run(&table, &meta, &["--enable-stream"], &[])
        .wait_with_output()
        .unwrap();
    expect_exit(&output, 0);
    let report = report(&output);
    assert_eq!(report["status"], "applied", "{report}");
    let stream = block_on(table_stream(&client(), &Default::default(), &table)).unwrap();
    assert_eq!(stream.expect("a stream").view, "NEW_AND_OLD_IMAGES");
    let model = items.into_iter().map(|i| (id_of(&i), Some(i))).collect();
    check_table(&table, &model);

    // Undo live: the rollback restores every item.
    let wasm = guest("users_v2");
    let undone = command(&[
        "undo",
        wasm.to_str().unwrap(),
        "--table",
        &table,
        "--meta-table",
        &meta,
        "--live",
        "--live-quiet",
        "1",
    ])
    .output()
    .unwrap();
    expect_exit(&undone, 0);
    assert_eq!(block_on(scan_all(&client(), &table)), before);
}

#[test]
fn live_is_refused_with_workers_and_for_a_plan() {
    let wasm = guest("users_v2");
    let wasm = wasm.to_str().unwrap();
    for args in [
        vec![
            "run",
            wasm,
            "--live",
            "--workers",
            "2",
            "--worker-index",
            "0",
        ],
        vec!["plan", wasm, "--live"],
        vec!["run", wasm, "--follow"],
    ] {
        let output = command(&args).output().unwrap();
        expect_exit(&output, 2);
    }
}

#[test]
fn writes_between_the_scan_and_the_apply_are_migrated_from_their_new_version() {
    let (table, mut model) = table_with_stream("live_race", 80);
    let meta = unique("live_meta");
    let (hold, env) = Hold::new("scan-complete");
    let mut child = live_run(&table, &meta, &[], &env);
    hold.reached(&mut child);
    // Between the scan and the apply: an item replaced (old shape), one deleted, one created,
    // one rewritten in the new shape.
    block_on(async {
        let client = client();
        let mut replaced = model["u-00003"].clone().unwrap();
        replaced.set("email", "Changed.After@Scan.ORG");
        replaced.set("name", "Changed Name");
        put(&client, &table, &replaced).await;
        model.insert("u-00003".into(), Some(replaced));
        client
            .delete_item()
            .table_name(&table)
            .key(
                "id",
                aws_sdk_dynamodb::types::AttributeValue::S("u-00004".into()),
            )
            .send()
            .await
            .unwrap();
        model.insert("u-00004".into(), None);
        let mut created = users(1).remove(0);
        created.set("id", "created-during");
        put(&client, &table, &created).await;
        model.insert("created-during".into(), Some(created));
        let new_shape = migrated(model["u-00005"].as_ref().unwrap());
        let mut new_shape = new_shape;
        new_shape.set("email", "Already.New@Shape.ORG");
        new_shape.set("email_lower", "already.new@shape.org");
        put(&client, &table, &new_shape).await;
        model.insert("u-00005".into(), Some(new_shape));
    });
    hold.release();
    let output = child.wait_with_output().unwrap();
    expect_exit(&output, 0);
    let report = report(&output);
    assert_eq!(report["status"], "applied", "{report}");
    // u-00003, u-00004 and u-00005 failed their guard at the apply and were read again; the
    // two still there were migrated again.
    let rewritten = report["live"]["items_rewritten"].as_u64().unwrap();
    assert!(rewritten >= 2, "{report}");
    check_table(&table, &model);
    let found = block_on(scan_all(&client(), &table));
    assert_eq!(
        found["u-00003"].get("email_lower"),
        Some(&Value::S("changed.after@scan.org".into()))
    );
}

#[test]
fn a_writer_during_the_whole_run_leaves_the_latest_version_of_every_item_migrated() {
    for (seed, guard) in [(11u64, None), (12, Some("email"))] {
        let (table, mut model) = table_with_stream("live_writer", 300);
        let meta = unique("live_meta");
        let mut extra = vec!["--max-rcu", "100"];
        if let Some(attribute) = guard {
            // Every write of this writer changes the email: a version attribute of sorts.
            extra.extend(["--version-attribute", attribute]);
        }
        let child = live_run(&table, &meta, &extra, &[]);
        block_on(async {
            let client = client();
            let mut writer = Writer::new(seed);
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(4) {
                writer.step(&client, &table, &mut model).await;
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        });
        let output = child.wait_with_output().unwrap();
        expect_exit(&output, 0);
        let report = report(&output);
        assert_eq!(report["status"], "applied", "{report}");
        assert!(
            report["live"]["changes_read"].as_u64().unwrap() > 0,
            "{report}"
        );
        check_table(&table, &model);
    }
}

#[test]
fn copies_to_another_table_are_checked_against_the_source_item_in_one_transaction() {
    // The test guest's `copy` puts the item into `hostile_copy`: a live run writes each copy
    // in a transaction with a ConditionCheck of the source item as scanned.
    let client = client();
    hostile_copy_table(&client);
    let table = unique("live_copy");
    let items = hostile_items_named(&table, 40, "copy");
    block_on(async {
        fill(&client, &table, &items).await;
        enable_stream(&client, &Default::default(), &table)
            .await
            .unwrap();
    });
    let mut current: BTreeMap<String, Option<Item>> =
        items.into_iter().map(|i| (id_of(&i), Some(i))).collect();
    let meta = unique("live_meta");
    let (hold, env) = Hold::new("scan-complete");
    let extra = ["--live-quiet", "2"];
    let mut child = live_run_of("drift_test_guests", &table, &meta, &extra, &env);
    hold.reached(&mut child);
    block_on(async {
        let mut rng = fastrand::Rng::with_seed(41);
        for step in 0..30 {
            let ids: Vec<String> = current.keys().cloned().collect();
            let id = ids[rng.usize(..ids.len())].clone();
            if step % 3 == 0 {
                client
                    .delete_item()
                    .table_name(&table)
                    .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.clone()))
                    .send()
                    .await
                    .unwrap();
                current.insert(id, None);
            } else {
                let item = Item::new()
                    .with("id", id.as_str())
                    .with("behave", "copy")
                    .with("n", Value::number(1000 + step));
                put(&client, &table, &item).await;
                current.insert(id, Some(item));
            }
        }
        let created = Item::new()
            .with("id", format!("{table}-new").as_str())
            .with("behave", "copy")
            .with("n", Value::number(7));
        put(&client, &table, &created).await;
        current.insert(id_of(&created), Some(created));
    });
    hold.release();
    let output = child.wait_with_output().unwrap();
    expect_exit(&output, 0);
    assert_eq!(report(&output)["status"], "applied");
    // Every item there is copied as it is now; no copy of an item deleted before its copy.
    let copies: BTreeMap<String, Item> = block_on(scan_all(&client, "hostile_copy"))
        .into_iter()
        .filter(|(id, _)| id.starts_with(&table))
        .collect();
    let expected: BTreeMap<String, Item> = current
        .into_iter()
        .filter_map(|(id, item)| Some((id, canonical_item(&item?))))
        .collect();
    assert_eq!(copies, expected);
    assert_eq!(block_on(scan_all(&client, &table)), expected);
}

#[test]
fn a_migration_that_is_not_idempotent_fails_instead_of_writing_forever() {
    // `count` adds to a counter on every call: meeting its own writes in the stream, a live run
    // would migrate them again and again.
    let client = client();
    hostile_copy_table(&client);
    let table = unique("live_mixed");
    block_on(async {
        fill(&client, &table, &hostile_items_named(&table, 10, "count")).await;
        enable_stream(&client, &Default::default(), &table)
            .await
            .unwrap();
    });
    let meta = unique("live_meta");
    let output = live_run_of(
        "drift_test_guests",
        &table,
        &meta,
        &["--live-quiet", "1"],
        &[],
    )
    .wait_with_output()
    .unwrap();
    expect_exit(&output, 1);
    let report = report(&output);
    assert_eq!(report["status"], "failed", "{report}");
    let error = report["error"].as_str().unwrap();
    assert!(error.contains("not idempotent"), "{error}");
}

#[test]
fn follow_keeps_catching_up_until_sigterm_then_drains_and_ends_applied() {
    let (table, mut model) = table_with_stream("live_follow", 100);
    let meta = unique("live_meta");
    let child = live_run_of("users_v2", &table, &meta, &["--follow"], &[]);
    block_on(async {
        let client = client();
        let mut writer = Writer::new(31);
        let started = Instant::now();
        // Longer than --live-quiet's default: only the signal ends a following run.
        while started.elapsed() < Duration::from_secs(7) {
            writer.step(&client, &table, &mut model).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    // SAFETY: kill(2) on our child's pid has no memory-safety preconditions.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let output = child.wait_with_output().unwrap();
    expect_exit(&output, 0);
    let report = report(&output);
    assert_eq!(report["status"], "applied", "{report}");
    check_table(&table, &model);
}

#[test]
fn a_live_run_killed_during_its_apply_resumes_and_misses_nothing() {
    let points = ["live-written:1", "live-written:40", "apply-complete-live:1"];
    for (n, point) in points.into_iter().enumerate() {
        let seed = 50 + 2 * n as u64;
        let (table, mut model) = table_with_stream("live_kill_apply", 120);
        let meta = unique("live_meta");
        let (hold, mut env) = Hold::new("scan-complete");
        env.push(("DRIFT_CRASH_AT", point.to_owned()));
        let mut child = live_run(&table, &meta, &[], &env);
        hold.reached(&mut child);
        block_on(async {
            let client = client();
            let mut writer = Writer::new(seed);
            for _ in 0..40 {
                writer.step(&client, &table, &mut model).await;
            }
        });
        hold.release();
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.signal(),
            Some(9),
            "{point}: {}",
            stderr(&output)
        );
        block_on(async {
            let client = client();
            let mut writer = Writer::new(seed + 1);
            for _ in 0..40 {
                writer.step(&client, &table, &mut model).await;
            }
        });
        crate::crash::force_unlock(&meta);
        let resumed = live_run(&table, &meta, &[], &[])
            .wait_with_output()
            .unwrap();
        expect_exit(&resumed, 0);
        assert_eq!(report(&resumed)["status"], "applied", "{point}");
        check_table(&table, &model);
    }
}

#[test]
fn a_live_run_killed_during_the_catch_up_resumes_without_missing_a_change() {
    let (table, mut model) = table_with_stream("live_kill", 120);
    let meta = unique("live_meta");
    let (hold, mut env) = Hold::new("scan-complete");
    env.push(("DRIFT_CRASH_AT", "catch-up-changes:1".to_owned()));
    let mut child = live_run(&table, &meta, &[], &env);
    hold.reached(&mut child);
    block_on(async {
        let client = client();
        let mut writer = Writer::new(21);
        for _ in 0..60 {
            writer.step(&client, &table, &mut model).await;
        }
    });
    hold.release();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.signal(), Some(9), "{}", stderr(&output));
    // While no run is there, the application goes on writing.
    block_on(async {
        let client = client();
        let mut writer = Writer::new(22);
        for _ in 0..60 {
            writer.step(&client, &table, &mut model).await;
        }
    });
    // The dead run still holds the lock: an operator takes it over.
    crate::crash::force_unlock(&meta);
    let resumed = live_run(&table, &meta, &[], &[])
        .wait_with_output()
        .unwrap();
    expect_exit(&resumed, 0);
    let report = report(&resumed);
    assert_eq!(report["status"], "applied", "{report}");
    check_table(&table, &model);
}
