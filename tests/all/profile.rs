//! `exec --profile` and `test --profile`: guest time and memory per item, and the slowest
//! items named, from generated inputs with slow items at random places.

use serde_json::{json, Value};

use crate::support::{drift_host, guest, root, stderr, stdout};

/// The hostile test guest's `slow` items spin for 50 ms of guest time.
const SLOW_US: u64 = 50_000;

/// `fast` quick items and `slow` slow ones, shuffled by `seed` (xorshift); the slow ones'
/// keys are returned too.
fn items(fast: usize, slow: usize, seed: u64) -> (String, Vec<String>) {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut behaviours: Vec<&str> = [vec!["none"; fast], vec!["slow"; slow]].concat();
    for i in (1..behaviours.len()).rev() {
        behaviours.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    let mut slow_keys = Vec::new();
    let items: Vec<Value> = behaviours
        .iter()
        .enumerate()
        .map(|(n, behave)| {
            let id = format!("{behave}-{n}");
            if *behave == "slow" {
                slow_keys.push(json!({"id": {"S": id}}).to_string());
            }
            json!({"id": {"S": id}, "behave": {"S": behave}})
        })
        .collect();
    (json!({ "Items": items }).to_string(), slow_keys)
}

/// `exec` of the hostile test guest over `input` (from stdin), items named by `id`.
fn exec(input: &str, extra: &[&str]) -> std::process::Output {
    let wasm = guest("drift_test_guests");
    let mut args = vec![
        "exec",
        wasm.to_str().unwrap(),
        "--input",
        "-",
        "--key",
        "id",
    ];
    args.extend_from_slice(extra);
    drift_host(&args, Some(input))
}

/// `exec --profile`, with `extra`.
fn exec_profile(input: &str, extra: &[&str]) -> std::process::Output {
    exec(input, &[&["--profile"], extra].concat())
}

/// `test` of users_v2's cases under `--output json`, with `extra`: the document.
fn test_json(extra: &[&str]) -> Value {
    let wasm = guest("users_v2");
    let cases = root().join("example-migrations/users_v2/cases");
    let mut args = vec![
        "test",
        wasm.to_str().unwrap(),
        "--cases",
        cases.to_str().unwrap(),
    ];
    args.extend_from_slice(&["--output", "json"]);
    args.extend_from_slice(extra);
    let output = drift_host(&args, None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn exec_profile_names_the_slow_items_and_reports_against_the_limits() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    for (fast, slow) in [(40, 1), (25, 3), (12, 5)] {
        let (input, slow_keys) = items(fast, slow, seed);
        let output = exec_profile(
            &input,
            &[
                "--output",
                "json",
                "--deadline-ms",
                "4000",
                "--memory-mb",
                "64",
            ],
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "seed {seed}: {}",
            stderr(&output)
        );
        let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
        let profile = &document["profile"];
        assert_eq!(profile["items"], fast + slow, "seed {seed}");
        assert_eq!(profile["deadline_ms"], 4000);
        assert_eq!(profile["memory_cap_bytes"], 64u64 << 20);
        let slowest = profile["slowest"].as_array().unwrap();
        assert_eq!(slowest.len(), 5, "seed {seed}");
        // The slow items come first, each with at least its 50 ms; then the fast ones.
        let named: Vec<&str> = slowest[..slow]
            .iter()
            .map(|s| s["item"].as_str().unwrap())
            .collect();
        let mut expected: Vec<&str> = slow_keys.iter().map(String::as_str).collect();
        let mut sorted = named.clone();
        sorted.sort();
        expected.sort();
        assert_eq!(sorted, expected, "seed {seed}: {profile}");
        for s in &slowest[..slow] {
            assert!(s["guest_us"].as_u64().unwrap() >= SLOW_US, "{profile}");
        }
        let times = slowest.iter().map(|s| s["guest_us"].as_u64().unwrap());
        let times: Vec<u64> = times.collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "slowest first: {profile}"
        );
        assert!(profile["guest_us"]["max"].as_u64().unwrap() >= SLOW_US);
        assert!(
            profile["guest_us"]["p50"].as_u64().unwrap() < SLOW_US,
            "most items are fast: {profile}"
        );
        let memory = &profile["memory_bytes"];
        let max = memory["max"].as_u64().unwrap();
        assert!(max > 0 && max <= 64 << 20, "{profile}");
        assert!(memory["p50"].as_u64().unwrap() <= max);
    }
}

#[test]
fn exec_profile_text_goes_to_stderr_and_leaves_the_actions_alone() {
    let (input, slow_keys) = items(10, 1, 7);
    let profiled = exec_profile(&input, &[]);
    assert_eq!(profiled.status.code(), Some(0), "{}", stderr(&profiled));
    let text = stderr(&profiled);
    assert!(
        text.contains("guest time per item (11 items): p50 "),
        "{text}"
    );
    assert!(
        text.contains("(deadline 5000 ms: the slowest item used "),
        "{text}"
    );
    assert!(
        text.contains("guest memory after each item: p50 "),
        "{text}"
    );
    let slowest = text.split("slowest items:\n").nth(1).expect("a list");
    let first = slowest.lines().next().unwrap();
    assert!(first.ends_with(&slow_keys[0]), "{text}");
    assert!(first.trim_start().contains(" ms "), "50 ms or more: {text}");
    // The same actions on stdout as without --profile.
    let plain = exec(&input, &[]);
    assert_eq!(stdout(&profiled), stdout(&plain));
    assert!(!stderr(&plain).contains("slowest items"));
}

#[test]
fn a_memory_hog_shows_at_the_cap() {
    let input = json!({"Items": [
        {"id": {"S": "small"}, "behave": {"S": "none"}},
        {"id": {"S": "hog"}, "behave": {"S": "memory"}},
    ]})
    .to_string();
    let output = exec_profile(
        &input,
        &[
            "--output",
            "json",
            "--memory-mb",
            "16",
            "--concurrency",
            "1",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "the hog fails: {}",
        stderr(&output)
    );
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let max = document["profile"]["memory_bytes"]["max"].as_u64().unwrap();
    // It grew up to the cap (the last growth, past it, was refused).
    assert!(max > 8 << 20 && max <= 16 << 20, "{document}");
    assert_eq!(document["failed_items"], 1);
}

#[test]
fn test_profile_names_items_by_case() {
    let document = test_json(&["--profile"]);
    let profile = &document["profile"];
    let cases = root().join("example-migrations/users_v2/cases");
    let inputs = std::fs::read_to_string(cases.join("sample_users/input.json")).unwrap();
    let sample: Value = serde_json::from_str(&inputs).unwrap();
    let sample_items = sample["Items"].as_array().map_or(0, Vec::len);
    assert!(sample_items > 0);
    assert!(
        profile["items"].as_u64().unwrap() > sample_items as u64,
        "{profile}"
    );
    for slow in profile["slowest"].as_array().unwrap() {
        let item = slow["item"].as_str().unwrap();
        assert!(
            item.starts_with("sample_users: ") || item.starts_with("a_user_without_email: "),
            "{item}"
        );
    }
    // Without --profile, no profile in the document.
    let document = test_json(&[]);
    assert!(document.get("profile").is_none(), "{document}");
}
