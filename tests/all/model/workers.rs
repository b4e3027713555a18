//! The model-based crash test with workers: each seed's stream run by 2 or 3 worker processes
//! (`--workers`, `JOB_COMPLETION_INDEX`), random workers killed at random points and replaced
//! with the same index, with their work directory or (when killed before the barrier, where
//! nothing of their segments was written) without it; compared with the model.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use fastrand::Rng;

use super::{check_with, generate, in_apply, kill_point, TABLES};
use crate::support::{command, guest, root, stderr, unique};

/// Seeds CI runs with workers.
const CI_SEEDS: u64 = 5;
/// Kills tried per seed.
const KILLS_PER_SEED: usize = 3;

/// Options of every worker: the single-process model's, more segments.
const WORKER_OPTIONS: [&str; 12] = [
    "--segments",
    "6",
    "--page-size",
    "5",
    "--checkpoint-interval-ms",
    "10",
    "--concurrency",
    "1",
    "--apply-concurrency",
    "4",
    "--lease-seconds",
    "10",
];

fn fresh_dir() -> PathBuf {
    let dir = root()
        .join("target")
        .join("test-workers")
        .join(unique("model"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn spawn(
    own: &str,
    meta: &str,
    workers: u32,
    index: u32,
    dir: &PathBuf,
    point: Option<&str>,
) -> Child {
    let wasm = guest("drift_model_guest");
    let workers = workers.to_string();
    let mut args = vec![
        "run",
        wasm.to_str().unwrap(),
        "--table",
        own,
        "--meta-table",
        meta,
        "--workers",
        &workers,
    ];
    args.extend_from_slice(&WORKER_OPTIONS);
    let mut run = command(&args);
    run.env("JOB_COMPLETION_INDEX", index.to_string())
        .env("DRIFT_WORK_DIR", dir)
        .stdin(std::process::Stdio::null());
    if let Some(point) = point {
        run.env("DRIFT_CRASH_AT", point);
    }
    run.spawn().unwrap()
}

/// Runs `workers` workers; `kills` planned kills are each given to a random live worker's
/// next start (the first ones at the start), and every killed worker is replaced. Returns the
/// kills that happened.
fn run_workers(
    label: &str,
    own: &str,
    meta: &str,
    rng: &mut Rng,
    workers: u32,
    actions: usize,
) -> Result<usize, String> {
    let mut planned: Vec<String> = Vec::new();
    let mut applying = false;
    for _ in 0..KILLS_PER_SEED {
        let point = kill_point(rng, actions, applying);
        applying |= in_apply(&point);
        planned.push(point);
    }
    planned.reverse();
    let victim = rng.u32(0..workers);
    let dirs: Vec<PathBuf> = (0..workers).map(|_| fresh_dir()).collect();
    let mut points: Vec<Option<String>> = vec![None; workers as usize];
    points[victim as usize] = planned.pop();
    let mut children: Vec<Option<Child>> = (0..workers)
        .map(|i| {
            Some(spawn(
                own,
                meta,
                workers,
                i,
                &dirs[i as usize],
                points[i as usize].as_deref(),
            ))
        })
        .collect();
    let mut dirs = dirs;
    let mut killed = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while children.iter().any(Option::is_some) {
        if std::time::Instant::now() > deadline {
            return Err(format!("{label}: the workers did not finish in 300 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
        for index in 0..workers as usize {
            let Some(child) = children[index].as_mut() else {
                continue;
            };
            let Some(status) = child.try_wait().unwrap() else {
                continue;
            };
            let child = children[index].take().unwrap();
            let output = child.wait_with_output().unwrap();
            if status.signal() == Some(9) {
                killed += 1;
                let point = points[index].take().unwrap_or_default();
                // Before the barrier nothing of its segments was written: its replacement
                // may come without its disk. After it, it keeps the disk.
                if !in_apply(&point) && rng.bool() {
                    dirs[index] = fresh_dir();
                }
                if std::env::var_os("DRIFT_MODEL_VERBOSE").is_some() {
                    eprintln!("{label}: worker {index} killed at {point}");
                }
                points[index] = planned.pop();
                children[index] = Some(spawn(
                    own,
                    meta,
                    workers,
                    index as u32,
                    &dirs[index],
                    points[index].as_deref(),
                ));
                continue;
            }
            if status.code() != Some(0) {
                return Err(format!(
                    "{label}: worker {index} ended with {status}: {}",
                    stderr(&output)
                ));
            }
            points[index] = None;
        }
    }
    Ok(killed)
}

#[test]
fn random_action_streams_with_workers_are_exact_after_random_kills_of_random_workers() {
    let _tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let first = super::env_number("DRIFT_MODEL_FIRST_SEED", 1);
    let seeds = super::env_number("DRIFT_MODEL_SEEDS", CI_SEEDS);
    let mut total_kills = 0;
    let mut failures = Vec::new();
    for seed in first..first + seeds {
        let scripts = generate(seed);
        let actions = scripts.iter().map(Vec::len).sum();
        let mut rng = Rng::with_seed(seed.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let workers = rng.u32(2..=3);
        let label = format!("workers seed {seed} ({workers} workers)");
        let outcome = check_with(&label, &scripts, |own, meta| {
            run_workers(&label, own, meta, &mut rng, workers, actions)
        });
        match outcome {
            Ok(killed) => total_kills += killed,
            Err(error) => failures.push(error),
        }
    }
    eprintln!("model with workers: {seeds} seeds from {first}, {total_kills} kills");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        total_kills as u64 >= seeds.min(CI_SEEDS),
        "too few kills landed ({total_kills}): the crash points are not reached"
    );
}
