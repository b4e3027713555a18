//! Model-based crash test: seeded streams of actions, an in-memory model of the tables they
//! should leave, and runs killed with SIGKILL at random points (several per run) and resumed,
//! compared with the model, both tables and counts.
//!
//! Every scanned item carries its own script (see `tests/guests-model`): puts, updates and
//! deletes, repeatable and exactly-once, conditional and not, upserts and not, several on one
//! key, into four tables (keys S, N spelled several ways, B hash with S sort). The actions of
//! one key all come from one scanned item, so their journal order is known to the model.
//!
//! CI runs [`CI_SEEDS`] seeds; `DRIFT_MODEL_SEEDS=<n>` (and `DRIFT_MODEL_FIRST_SEED=<s>`) runs
//! more: `DRIFT_MODEL_SEEDS=2000 cargo test -p drift-host --features crash-points --test all
//! model::` (with DynamoDB Local, as `scripts/test` starts it). A failure names its seed, and
//! `DRIFT_MODEL_FIRST_SEED=<seed> DRIFT_MODEL_SEEDS=1` replays it.

mod spec;
mod workers;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;

use drift_host::aws::convert::from_aws_item;

use drift_host::model::item::to_json_item;
use fastrand::Rng;

use crate::dynamodb::fill;
use crate::support::{block_on, client, command, drift_host, guest, stderr, stdout, unique};

/// Seeds CI runs (each killed up to [`KILLS_PER_SEED`] times).
const CI_SEEDS: u64 = 12;
/// Kills tried per seed: the run is resumed after each.
const KILLS_PER_SEED: usize = 4;
/// Scanned items per seed.
const ITEMS: usize = 48;

use crate::support::MODEL_TABLES as TABLES;

use spec::*;

/// Deletes and creates the model's other tables, empty.
fn fresh_tables() {
    crate::support::model_tables(true);
}

/// What DynamoDB holds, as the model keeps it.
fn actual(own: &str) -> Tables {
    let client = client();
    let mut tables = Tables::new();
    for table in [Table::Own, Table::S, Table::N, Table::Sb] {
        let name = if table == Table::Own {
            own
        } else {
            table.name()
        };
        let mut items = BTreeMap::new();
        let mut start = None;
        loop {
            let page = block_on(
                client
                    .scan()
                    .table_name(name)
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
                    .send(),
            )
            .unwrap();
            for raw in page.items() {
                let item = normalized_item(&from_aws_item(raw).unwrap());
                items.insert(identity(table, &item), item);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        tables.insert(table, items);
    }
    tables
}

/// Options of every run: small pages, frequent checkpoints, few lanes.
const RUN_OPTIONS: [&str; 12] = [
    "--segments",
    "2",
    "--page-size",
    "5",
    "--checkpoint-interval-ms",
    "10",
    "--concurrency",
    "2",
    "--apply-concurrency",
    "4",
    "--lease-seconds",
    "10",
];

/// A point to kill the run at, with how many times it is passed first. After a kill in the
/// apply (`applying`), the resumed run passes no scan point, so none is chosen.
fn kill_point(rng: &mut Rng, actions: usize, applying: bool) -> String {
    let scan = [
        ("record-running", 1),
        ("scan-page", 6),
        ("journal-append", actions / 2),
        ("scan-checkpoint", 4),
        ("scan-complete", 1),
    ];
    let apply = [
        ("batch-written", 3),
        ("batch-written", 1),
        ("single-written", actions / 3),
        ("single-written", actions / 8),
        ("apply-checkpoint", 3),
        ("apply-complete", 1),
        ("markers-removed", 1),
        ("before-final-write", 1),
        ("final-written", 1),
    ];
    let (point, most) = if applying || rng.bool() {
        apply[rng.usize(0..apply.len())]
    } else {
        scan[rng.usize(0..scan.len())]
    };
    format!("{point}:{}", rng.usize(1..=most.max(1)))
}

/// Whether a kill at `point` happened in the apply phase (or after it).
fn in_apply(point: &str) -> bool {
    ![
        "record-running",
        "scan-page",
        "journal-append",
        "scan-checkpoint",
        "scan-complete",
    ]
    .iter()
    .any(|scan| point.starts_with(scan))
}

/// How a run ended.
enum Ended {
    Killed,
    Done,
}

fn run_once(own: &str, meta: &str, crash_at: Option<&str>) -> Result<Ended, String> {
    let wasm = guest("drift_model_guest");
    let mut args = vec![
        "run",
        wasm.to_str().unwrap(),
        "--table",
        own,
        "--meta-table",
        meta,
    ];
    args.extend_from_slice(&RUN_OPTIONS);
    let mut run = command(&args);
    if let Some(point) = crash_at {
        run.env("DRIFT_CRASH_AT", point);
    }
    let output = run.output().unwrap();
    if output.status.signal() == Some(9) {
        let unlock = drift_host(&["unlock", "--force", "--meta-table", meta], None);
        if unlock.status.code() != Some(0) {
            return Err(format!("unlock failed: {}", stderr(&unlock)));
        }
        return Ok(Ended::Killed);
    }
    match output.status.code() {
        Some(0) => Ok(Ended::Done),
        code => Err(format!("run ended with {code:?}: {}", stderr(&output))),
    }
}

/// The counts the metadata record holds for the model's migration.
fn recorded(meta: &str) -> Result<(Counts, serde_json::Value), String> {
    let output = drift_host(&["status", "--meta-table", meta, "--output", "json"], None);
    let document: serde_json::Value =
        serde_json::from_str(&stdout(&output)).map_err(|e| e.to_string())?;
    let record = document["migrations"][0].clone();
    let count = |name: &str| record["counts"][name].as_u64().unwrap_or(u64::MAX);
    let counts = Counts {
        puts: count("puts"),
        updates: count("updates"),
        deletes: count("deletes"),
        conflicts: count("conflicts"),
    };
    Ok((counts, record))
}

/// Runs `scripts` on a fresh table with `execute` (which kills and resumes as it likes, and
/// returns how many kills happened), and compares the tables and counts with the model.
/// Returns the number of kills.
fn check_with(
    label: &str,
    scripts: &[Vec<Spec>],
    execute: impl FnOnce(&str, &str) -> Result<usize, String>,
) -> Result<usize, String> {
    let items = source_items(scripts);
    let mut expected = Tables::new();
    let mut counts = Counts::default();
    let own_items = expected.entry(Table::Own).or_default();
    for item in &items {
        own_items.insert(identity(Table::Own, item), normalized_item(item));
    }
    for spec in scripts.iter().flatten() {
        counts.count(apply(&mut expected, spec));
    }
    for table in [Table::S, Table::N, Table::Sb] {
        let items = expected.entry(table).or_default();
        for item in items.values_mut() {
            *item = normalized_item(item);
        }
    }
    if let Some(own) = expected.get_mut(&Table::Own) {
        for item in own.values_mut() {
            *item = normalized_item(item);
        }
    }

    if let Some(dir) = std::env::var_os("DRIFT_MODEL_DUMP") {
        let lines: String = items
            .iter()
            .map(|item| format!("{{\"Item\": {}}}\n", to_json_item(item)))
            .collect();
        let file = std::path::Path::new(&dir).join(format!("{}.jsonl", label.replace(' ', "-")));
        std::fs::write(file, lines).unwrap();
    }
    fresh_tables();
    let (own, meta) = (unique("model_src"), unique("meta"));
    block_on(fill(&client(), &own, &items));
    let killed = execute(&own, &meta)?;
    let actual = actual(&own);
    for (table, items) in &expected {
        let got = &actual[table];
        if got != items {
            let missing: Vec<_> = items
                .iter()
                .filter(|(k, v)| got.get(*k) != Some(v))
                .map(|(_, v)| to_json_item(v))
                .take(3)
                .collect();
            let extra: Vec<_> = got
                .iter()
                .filter(|(k, v)| items.get(*k) != Some(v))
                .map(|(_, v)| to_json_item(v))
                .take(3)
                .collect();
            return Err(format!("{label}: table {table:?} differs from the model: expected {missing:?}, found {extra:?}"));
        }
    }
    let (got, record) = recorded(&meta)?;
    // A resume cannot know whether an update of an existing item that it skips or repeats had
    // found its item: updates and conflicts may trade places (README, "Checkpoint and resume").
    let counts_agree = got.puts == counts.puts
        && got.deletes == counts.deletes
        && got.updates + got.conflicts == counts.updates + counts.conflicts;
    if !counts_agree || record["status"] != "applied" {
        return Err(format!(
            "{label}: counts {got:?}, the model says {counts:?}: {record}"
        ));
    }
    Ok(killed)
}

/// Runs the migration on `own` with kills at the points `kills` gives, resuming after each,
/// until it is done; returns the number of kills that happened.
fn single_with_kills(
    label: &str,
    own: &str,
    meta: &str,
    mut kills: impl FnMut() -> Option<String>,
) -> Result<usize, String> {
    let mut killed = 0;
    let mut done = false;
    while let Some(point) = kills() {
        let ended = run_once(own, meta, Some(&point))?;
        if std::env::var_os("DRIFT_MODEL_VERBOSE").is_some() {
            let what = if matches!(ended, Ended::Killed) {
                "killed"
            } else {
                "finished"
            };
            eprintln!("{label}: {what} at {point}");
        }
        match ended {
            Ended::Killed => killed += 1,
            Ended::Done => {
                done = true;
                break;
            }
        }
    }
    if !done {
        run_once(own, meta, None)?;
    }
    Ok(killed)
}

/// [`check_with`] a single process killed at the points `kills` gives.
fn check(
    label: &str,
    scripts: &[Vec<Spec>],
    kills: impl FnMut() -> Option<String>,
) -> Result<usize, String> {
    check_with(label, scripts, |own, meta| {
        single_with_kills(label, own, meta, kills)
    })
}

/// `DRIFT_MODEL_*` from the environment.
fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_action_streams_resume_exactly_after_random_kills() {
    let _tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let first = env_number("DRIFT_MODEL_FIRST_SEED", 1);
    let seeds = env_number("DRIFT_MODEL_SEEDS", CI_SEEDS);
    let mut total_kills = 0;
    let mut failures = Vec::new();
    for seed in first..first + seeds {
        let scripts = generate(seed);
        let actions = scripts.iter().map(Vec::len).sum();
        let mut rng = Rng::with_seed(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (mut left, mut applying) = (KILLS_PER_SEED, false);
        let kills = || {
            (left > 0).then(|| {
                left -= 1;
                let point = kill_point(&mut rng, actions, applying);
                applying |= in_apply(&point);
                point
            })
        };
        match check(&format!("seed {seed}"), &scripts, kills) {
            Ok(killed) => total_kills += killed,
            Err(error) => failures.push(error),
        }
    }
    eprintln!("model: {seeds} seeds from {first}, {total_kills} kills");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        total_kills as u64 >= seeds.min(CI_SEEDS) * 2,
        "too few kills landed ({total_kills}): the crash points are not reached"
    );
}

/// The case that found the bug: per item, a put of `{k, n: 0}` into another table, then
/// `ADD n :1` on the same key (exactly once), killed at many points of the apply.
#[test]
fn a_put_then_an_add_on_one_key_resume_exactly_wherever_killed() {
    let _tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = Rng::with_seed(7);
    let scripts: Vec<Vec<Spec>> = (0..ITEMS)
        .map(|item| {
            let key = key(&mut rng, Table::S, item, 0);
            vec![
                Spec {
                    table: Table::S,
                    key: key.clone(),
                    kind: Kind::Put(key.clone().with("n", 0)),
                    condition: None,
                },
                Spec {
                    table: Table::S,
                    key,
                    kind: Kind::Update {
                        changes: vec![Change::Add("n", n(1))],
                        upsert: false,
                    },
                    condition: None,
                },
            ]
        })
        .collect();
    for point in [
        "batch-written:1",
        "batch-written:2",
        "single-written:1",
        "single-written:9",
        "single-written:30",
        "apply-checkpoint:1",
    ] {
        let mut once = Some(point.to_owned());
        check(point, &scripts, || once.take()).unwrap();
    }
}
