//! Migrations projects against DynamoDB Local: a folder run in order, status, undo --to,
//! baseline, repair, drift.toml, declared tables (create with a GSI and TTL, prune only when
//! confirmed), resume of a killed folder run, and credential sources.
//!
//! The example migrations name their tables (`users`, `users_by_email`), so the tests that run
//! them take turns ([`serial`]) and start from fresh tables.

mod config;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::sync::{Mutex, MutexGuard};

use aws_sdk_dynamodb::types::AttributeValue;
use drift_host::model::item::{Item, Value as AttrValue};
use serde_json::Value;

use crate::dynamodb::{by_id, changed_module, fill, migrated, scan_all, users};
use crate::support::{
    block_on, client, command, expect_exit as expect, guest, stderr, table_exists, unique,
};

/// The tests that run the example migrations over `users` take turns.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The examples' tables, declared for a folder run.
pub(crate) const TOML: &str = r#"
[tables.users]
partition_key = "id:S"

[tables.users_by_email]
partition_key = "email_lower:S"
sort_key = "id:S"
ttl = "expires_at"
[[tables.users_by_email.indexes]]
name = "by_id"
partition_key = "id:S"
projection = "keys"
"#;

/// A migrations folder in a temporary directory, with its own metadata table.
struct Project {
    dir: tempfile::TempDir,
    meta: String,
}

impl Project {
    fn new(toml: Option<&str>) -> Project {
        let project = Project {
            dir: tempfile::tempdir().unwrap(),
            meta: unique("project_meta"),
        };
        if let Some(toml) = toml {
            std::fs::write(project.path().join("drift.toml"), toml).unwrap();
        }
        project
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn add(&self, file: &str, module: &Path) {
        std::fs::copy(module, self.path().join(file)).unwrap();
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.path().join(file)).unwrap();
    }

    /// `drift-host COMMAND DIR ARGS --meta-table META`.
    fn drift(&self, command_name: &str, args: &[&str]) -> Output {
        self.drift_env(command_name, args, &[])
    }

    fn drift_env(&self, command_name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let dir = self.path().to_str().unwrap();
        let mut all = vec![command_name, dir];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--meta-table", &self.meta]);
        command(&all).envs(env.iter().copied()).output().unwrap()
    }

    /// `status DIR --output json`: number → state.
    fn states(&self) -> BTreeMap<u64, String> {
        let output = self.drift("status", &["--output", "json"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let document: Value = serde_json::from_slice(&output.stdout).unwrap();
        document["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["number"].as_u64().unwrap(),
                    r["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

fn states(pairs: &[(u64, &str)]) -> BTreeMap<u64, String> {
    pairs.iter().map(|(n, s)| (*n, s.to_string())).collect()
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

/// Deletes the example's tables; `users` is filled with `items` again unless empty.
fn fresh_tables(items: &[Item]) {
    block_on(async {
        let client = client();
        for table in ["users", "users_by_email"] {
            let _ = client.delete_table().table_name(table).send().await;
        }
        if !items.is_empty() {
            fill(&client, "users", items).await;
        }
    });
}

fn table(name: &str) -> BTreeMap<String, Item> {
    block_on(scan_all(&client(), name))
}

/// `users` already migrated by users_v2.
fn migrated_users(count: usize) -> Vec<Item> {
    users(count).iter().map(migrated).collect()
}

/// The numbers of the migrations a folder report ran, in order.
fn ran(output: &Output) -> Vec<u64> {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["migration"]["number"].as_u64().unwrap())
        .collect()
}

fn s(text: &str) -> AttrValue {
    AttrValue::S(text.to_owned())
}

#[test]
fn a_folder_runs_in_order_after_creating_its_tables_and_undo_to_reverses_it() {
    let _turn = serial();
    let original = users(300);
    fresh_tables(&original);
    let project = Project::new(Some(TOML));
    project.add("0002_users_v2.wasm", &guest("users_v2"));
    project.add("0003_users_by_email.wasm", &guest("users_by_email"));
    assert_eq!(project.states(), states(&[(2, "pending"), (3, "pending")]));

    let tables = project.drift("tables", &[]);
    expect(&tables, 1);
    assert!(
        stderr(&tables).contains("users_by_email: missing; create it"),
        "{}",
        stderr(&tables)
    );

    let run = project.drift("run", &["--output", "json"]);
    expect(&run, 0);
    assert_eq!(ran(&run), [2, 3]);
    let expected = by_id(&original.iter().map(migrated).collect::<Vec<_>>());
    assert_eq!(table("users"), expected);
    let copies = table("users_by_email");
    assert_eq!(copies.len(), original.len());
    for (id, copy) in &copies {
        assert_eq!(copy["email_lower"], expected[id]["email_lower"]);
        assert_eq!(copy.get("full_name"), expected[id].get("full_name"));
    }
    // The declared index and TTL are there.
    let described = block_on(
        client()
            .describe_table()
            .table_name("users_by_email")
            .send(),
    )
    .unwrap();
    let indexes = described.table().unwrap().global_secondary_indexes();
    assert_eq!(indexes.len(), 1);
    assert_eq!(indexes[0].index_name(), Some("by_id"));
    let ttl = block_on(
        client()
            .describe_time_to_live()
            .table_name("users_by_email")
            .send(),
    )
    .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("expires_at")
    );
    assert_eq!(project.states(), states(&[(2, "applied"), (3, "applied")]));
    let tables = project.drift("tables", &[]);
    expect(&tables, 0);

    // Again: nothing to do.
    let again = project.drift("run", &[]);
    expect(&again, 0);
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );

    // Undo down to 1: 3 first (its copies go), then 2 (users back as they were).
    let undo = project.drift("undo", &["--to", "1", "--report", "-"]);
    expect(&undo, 0);
    assert_eq!(ran(&undo), [3, 2]);
    assert!(table("users_by_email").is_empty());
    assert_eq!(table("users"), by_id(&original));
    assert_eq!(project.states(), states(&[(2, "pending"), (3, "pending")]));

    // And forward again: rolled back migrations run again.
    let rerun = project.drift("run", &[]);
    expect(&rerun, 0);
    assert_eq!(table("users"), expected);
    assert_eq!(project.states(), states(&[(2, "applied"), (3, "applied")]));

    // --to above the highest applied does nothing; --to needs a folder, a folder needs --to.
    let nothing = project.drift("undo", &["--to", "3"]);
    expect(&nothing, 0);
    let no_to = project.drift("undo", &[]);
    assert_eq!(code(&no_to), Some(2));
    assert!(stderr(&no_to).contains("--to"), "{}", stderr(&no_to));
}

#[test]
fn duplicates_modified_missing_and_out_of_order_are_refused_and_repair_accepts() {
    let _turn = serial();
    let original = migrated_users(40);
    fresh_tables(&original);
    let project = Project::new(Some(TOML));

    // Two files with one number: refused, naming both, before anything is recorded.
    project.add("a.wasm", &guest("users_v2"));
    project.add("b.wasm", &guest("users_v2"));
    let duplicate = project.drift("run", &[]);
    expect(&duplicate, 2);
    let why = stderr(&duplicate);
    assert!(
        why.contains("a.wasm and b.wasm are both migration 2"),
        "{why}"
    );
    assert_eq!(why.trim().lines().count(), 1, "{why}");
    project.remove("a.wasm");
    project.remove("b.wasm");

    // 3 first, then 2 below it: refused unless --out-of-order.
    project.add("0003.wasm", &guest("users_by_email"));
    let first = project.drift("run", &[]);
    expect(&first, 0);
    project.add("0002.wasm", &guest("users_v2"));
    assert_eq!(project.states(), states(&[(2, "pending"), (3, "applied")]));
    let late = project.drift("run", &[]);
    expect(&late, 3);
    let why = stderr(&late);
    assert!(
        why.contains("migration 2 (users_v2, 0002.wasm) is pending"),
        "{why}"
    );
    assert!(why.contains("--out-of-order"), "{why}");
    let late = project.drift("run", &["--out-of-order"]);
    expect(&late, 0);
    assert_eq!(project.states(), states(&[(2, "applied"), (3, "applied")]));
    // users were already at version 2: nothing changed.
    assert_eq!(table("users"), by_id(&original));

    // A changed module of an applied migration: refused with both checksums; status says so.
    let changed = changed_module(&guest("users_v2"));
    project.add("0002.wasm", &changed);
    let modified = project.drift("run", &[]);
    expect(&modified, 3);
    let why = stderr(&modified);
    assert!(
        why.contains("migration 2 (users_v2, 0002.wasm) was applied from a module with checksum"),
        "{why}"
    );
    assert_eq!(project.states(), states(&[(2, "modified"), (3, "applied")]));
    let undo = project.drift("undo", &["--to", "0"]);
    expect(&undo, 3);
    assert!(
        stderr(&undo).contains("undo needs the module that was applied"),
        "{}",
        stderr(&undo)
    );

    // repair accepts it, and notes who, when and why.
    let repair = project.drift("repair", &["--reason", "rebuilt with a newer toolchain"]);
    expect(&repair, 0);
    assert!(
        stderr(&repair).contains("accepted checksum"),
        "{}",
        stderr(&repair)
    );
    assert_eq!(project.states(), states(&[(2, "applied"), (3, "applied")]));
    let status = project.drift("status", &[]);
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        text.contains("note: repair by ") && text.contains("rebuilt with a newer toolchain"),
        "{text}"
    );
    let again = project.drift("run", &[]);
    expect(&again, 0);
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );

    // A recorded migration without its module is missing.
    project.remove("0003.wasm");
    assert_eq!(project.states(), states(&[(2, "applied"), (3, "missing")]));
}

#[test]
fn a_failed_folder_run_stops_there_and_repair_lets_it_start_over() {
    let _turn = serial();
    let mut original = users(50);
    original[17].remove("email");
    fresh_tables(&original);
    let project = Project::new(Some(TOML));
    project.add("0002.wasm", &guest("users_v2"));
    project.add("0003.wasm", &guest("users_by_email"));
    let failed = project.drift("run", &["--report", "-"]);
    expect(&failed, 1);
    let report: Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(report["not_run"], serde_json::json!([3]));
    assert_eq!(report["succeeded"], Value::Bool(false));
    assert_eq!(project.states(), states(&[(2, "failed"), (3, "pending")]));
    // Nothing was written to the table: the guest failed before the apply.
    assert_eq!(table("users"), by_id(&original));

    // The data is fixed; repair clears the failure and the next run starts over.
    block_on(async {
        client()
            .update_item()
            .table_name("users")
            .key("id", AttributeValue::S("u-00017".into()))
            .update_expression("SET email = :e")
            .expression_attribute_values(":e", AttributeValue::S("Fixed@Example.COM".into()))
            .send()
            .await
            .unwrap();
    });
    original[17].insert("email".into(), s("Fixed@Example.COM"));
    let repair = project.drift("repair", &["--reason", "user 17 had no email"]);
    expect(&repair, 0);
    assert!(
        stderr(&repair).contains("cleared the failed migrate run"),
        "{}",
        stderr(&repair)
    );
    assert_eq!(project.states(), states(&[(2, "pending"), (3, "pending")]));
    let run = project.drift("run", &[]);
    expect(&run, 0);
    assert_eq!(
        table("users"),
        by_id(&original.iter().map(migrated).collect::<Vec<_>>())
    );
    assert_eq!(table("users_by_email").len(), original.len());
}

#[cfg(feature = "crash-points")]
#[test]
fn a_folder_run_killed_in_its_second_migration_resumes_there() {
    let _turn = serial();
    let original = users(200);
    fresh_tables(&original);
    let project = Project::new(Some(TOML));
    project.add("0002.wasm", &guest("users_v2"));
    project.add("0003.wasm", &guest("users_by_email"));
    for point in ["scan-complete:2", "before-final-write:2"] {
        let killed = project.drift_env("run", &[], &[("DRIFT_CRASH_AT", point)]);
        assert_eq!(
            code(&killed),
            None,
            "killed at {point}: {}",
            stderr(&killed)
        );
        let unlock = command(&["unlock", "--force", "--meta-table", &project.meta])
            .output()
            .unwrap();
        expect(&unlock, 0);
        assert_eq!(project.states(), states(&[(2, "applied"), (3, "running")]));
        let resumed = project.drift("run", &["--report", "-"]);
        expect(&resumed, 0);
        let report: Value = serde_json::from_slice(&resumed.stdout).unwrap();
        assert_eq!(report["up_to_date"], serde_json::json!([2]));
        assert_eq!(report["migrations"].as_array().unwrap().len(), 1);
        assert_eq!(project.states(), states(&[(2, "applied"), (3, "applied")]));
        assert_eq!(table("users_by_email").len(), original.len());
        // Next round: from scratch.
        let undo = project.drift("undo", &["--to", "1"]);
        expect(&undo, 0);
        assert_eq!(table("users"), by_id(&original));
    }
}

#[test]
fn baseline_records_without_running_and_leaves_the_rest_pending() {
    let _turn = serial();
    let original = migrated_users(30);
    fresh_tables(&original);
    let project = Project::new(Some(TOML));
    project.add("0002.wasm", &guest("users_v2"));
    project.add("0003.wasm", &guest("users_by_email"));
    let no_reason = project.drift("baseline", &["--up-to", "2"]);
    assert_eq!(code(&no_reason), Some(2));
    let baseline = project.drift(
        "baseline",
        &["--up-to", "2", "--reason", "made by the old script"],
    );
    expect(&baseline, 0);
    assert_eq!(project.states(), states(&[(2, "applied"), (3, "pending")]));
    let json = project.drift("status", &["--output", "json"]);
    let document: Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows = &document["migrations"];
    let note = rows[0]["record"]["notes"][0].as_str().unwrap().to_owned();
    assert!(
        note.starts_with("baseline by ") && note.ends_with("made by the old script"),
        "{note}"
    );
    assert_eq!(rows[0]["record"]["counts"]["items_scanned"], 0);
    // Baseline again: nothing new.
    let again = project.drift("baseline", &["--up-to", "2", "--reason", "again"]);
    expect(&again, 0);
    assert!(
        stderr(&again).contains("nothing to baseline"),
        "{}",
        stderr(&again)
    );
    let run = project.drift("run", &["--report", "-"]);
    expect(&run, 0);
    assert_eq!(ran(&run), [3]);
    assert_eq!(
        table("users"),
        by_id(&original),
        "baseline ran nothing on users"
    );
    assert_eq!(table("users_by_email").len(), original.len());
}

#[test]
fn a_migration_naming_a_table_neither_existing_nor_declared_is_refused() {
    let _turn = serial();
    fresh_tables(&migrated_users(5));
    let project = Project::new(None);
    project.add("0003.wasm", &guest("users_by_email"));
    let run = project.drift("run", &[]);
    expect(&run, 3);
    let why = stderr(&run);
    assert!(
        why.contains("migration 3 (users_by_email, 0003.wasm) names table `users_by_email`, which neither exists nor is declared"),
        "{why}"
    );
    assert_eq!(why.trim().lines().count(), 1, "{why}");
    assert!(
        !table_exists(&project.meta),
        "nothing was recorded, not even the metadata table"
    );
}

#[test]
fn tables_are_created_compared_and_pruned_only_when_confirmed() {
    let keep = unique("keep");
    let old = unique("old");
    let declare = |names: &[&str]| {
        names
            .iter()
            .map(|n| {
                format!(
                    "[tables.{n}]\npartition_key = \"pk:S\"\nsort_key = \"sk:N\"\n\
                     billing = \"provisioned:2,3\"\n\
                     [[tables.{n}.indexes]]\nname = \"by_owner\"\npartition_key = \"owner:S\"\n\
                     sort_key = \"sk:N\"\nprojection = [\"title\"]\n\
                     [[tables.{n}.local_indexes]]\nname = \"by_title\"\nsort_key = \"title:S\"\n\
                     projection = \"keys\"\n"
                )
            })
            .collect::<String>()
    };
    let project = Project::new(Some(&declare(&[&keep, &old])));
    let apply = project.drift("tables", &["--apply", "--output", "json"]);
    expect(&apply, 0);
    let report: Value = serde_json::from_slice(&apply.stdout).unwrap();
    assert_eq!(report["applied"].as_array().unwrap().len(), 2, "{report}");
    let described = block_on(client().describe_table().table_name(&keep).send()).unwrap();
    let described = described.table().unwrap();
    assert_eq!(described.local_secondary_indexes().len(), 1);
    let gsi = &described.global_secondary_indexes()[0];
    assert_eq!(gsi.index_name(), Some("by_owner"));
    assert_eq!(
        gsi.projection().unwrap().non_key_attributes(),
        ["title".to_owned()]
    );
    let same = project.drift("tables", &[]);
    expect(&same, 0);
    assert!(
        stderr(&same).contains("all as declared"),
        "{}",
        stderr(&same)
    );

    // A key schema that differs is reported, never fixed by deleting.
    std::fs::write(
        project.path().join("drift.toml"),
        declare(&[&keep]).replacen("pk:S", "pk2:S", 1),
    )
    .unwrap();
    let differs = project.drift("tables", &["--apply"]);
    let why = stderr(&differs);
    assert!(why.contains("cannot change in place"), "{why}");
    assert!(
        why.contains(&format!(
            "{old}: created by this project but no longer declared"
        )),
        "{why}"
    );
    std::fs::write(project.path().join("drift.toml"), declare(&[&keep])).unwrap();

    let exists = |name: &str| block_on(client().describe_table().table_name(name).send()).is_ok();
    let prune = project.drift("tables", &["--prune"]);
    expect(&prune, 3);
    assert!(
        stderr(&prune).contains(&format!("--confirm {old}")),
        "{}",
        stderr(&prune)
    );
    assert!(exists(&old));
    let wrong = project.drift("tables", &["--prune", "--confirm", &keep]);
    expect(&wrong, 3);
    assert!(exists(&keep) && exists(&old));
    let confirmed = project.drift("tables", &["--prune", "--confirm", &old]);
    expect(&confirmed, 0);
    assert!(!exists(&old) && exists(&keep));
}

#[test]
fn a_folder_mixes_assemblyscript_and_rust_modules() {
    let as_module = crate::support::as_guest();
    let _turn = serial();
    let original = users(60);
    fresh_tables(&original);
    let project = Project::new(Some(TOML));
    project.add("0002_users_v2_as.wasm", &as_module);
    project.add("0003_users_by_email.wasm", &guest("users_by_email"));
    let run = project.drift("run", &[]);
    expect(&run, 0);
    assert_eq!(project.states(), states(&[(2, "applied"), (3, "applied")]));
    assert_eq!(
        table("users"),
        by_id(&original.iter().map(migrated).collect::<Vec<_>>())
    );
    assert_eq!(table("users_by_email").len(), original.len());
    // The Rust build of the same migration is another module: modified, refused.
    project.add("0002_users_v2_as.wasm", &guest("users_v2"));
    assert_eq!(project.states(), states(&[(2, "modified"), (3, "applied")]));
}

#[test]
fn a_folder_runs_with_three_workers_each_taking_part_in_every_migration() {
    let _turn = serial();
    let original = users(300);
    fresh_tables(&original);
    let project = Project::new(Some(TOML));
    project.add("0002_users_v2.wasm", &guest("users_v2"));
    project.add("0003_users_by_email.wasm", &guest("users_by_email"));
    let dir = project.path().to_str().unwrap().to_owned();
    let workers: Vec<_> = (0..3)
        .map(|index| {
            let args = [
                "run",
                dir.as_str(),
                "--workers",
                "3",
                "--segments",
                "6",
                "--output",
                "json",
                "--meta-table",
                &project.meta,
            ];
            command(&args)
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .stdin(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for (index, worker) in workers.into_iter().enumerate() {
        let output = worker.wait_with_output().unwrap();
        expect(&output, 0);
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let numbers: Vec<u64> = report["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["migration"]["number"].as_u64().unwrap())
            .chain(
                report["up_to_date"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_u64().unwrap()),
            )
            .collect();
        assert!(
            numbers.contains(&2) && numbers.contains(&3),
            "worker {index} saw both migrations: {report}"
        );
    }
    let expected = by_id(&original.iter().map(migrated).collect::<Vec<_>>());
    assert_eq!(table("users"), expected);
    assert_eq!(table("users_by_email").len(), original.len());
    assert_eq!(project.states(), states(&[(2, "applied"), (3, "applied")]));
}
