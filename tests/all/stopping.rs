//! Stopping a run: a lock whose process is gone is freed without --force, and repeated
//! signals (the second says the stop is under way, the third exits at once) never lose an
//! item or mark the run applied.

use crate::dynamodb::drift;
use crate::reliability::{record_status, signal, start_slow_run};
use crate::support::{client, drift_host, guest, stderr, unique};

/// A run killed -9 on this host leaves a lease that has not expired; its process is gone, so
/// the next run says so and `unlock` removes the lock without --force, and the run resumes.
#[test]
fn a_lock_whose_process_on_this_host_is_gone_is_unlocked_without_force() {
    let client = client();
    let meta = unique("meta");
    let (mut child, table) = start_slow_run(&client, 60, &meta, &[]);
    signal(&child, "-KILL");
    child.wait().unwrap();
    let wasm = guest("drift_test_guests");
    let (code, _, err) = drift("run", wasm.to_str().unwrap(), &table, &meta, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("whose process on this host is gone"), "{err}");
    assert!(
        err.contains("lease expires in"),
        "the lease is still running: {err}"
    );
    let output = drift_host(&["unlock", "--meta-table", &meta], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (code, report, err) = drift("run", wasm.to_str().unwrap(), &table, &meta, &[]);
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    assert_eq!(report["counts"]["updates"], 60, "{report}");
}

/// Three signals in a row: the first stops cleanly, the second says so, the third exits at
/// once (130) if the clean stop has not ended yet. Either way the run is not applied and the
/// next one (after `unlock`, for a process that is gone) updates every item exactly once.
#[test]
fn repeated_signals_exit_at_once_and_leave_the_run_resumable() {
    let client = client();
    let meta = unique("meta");
    let (child, table) = start_slow_run(&client, 60, &meta, &[]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    for _ in 0..3 {
        signal(&child, "-TERM");
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        err.contains("stopping: writes in flight settle first"),
        "{err}"
    );
    eprintln!("the run ended with {:?}", output.status.code());
    match output.status.code() {
        Some(130) => assert!(err.contains("exiting at once"), "{err}"),
        Some(1) => {}
        other => panic!("exit {other:?}: {err}"),
    }
    assert_ne!(
        record_status(&client, &meta, 900).as_deref(),
        Some("applied")
    );
    let unlock = drift_host(&["unlock", "--meta-table", &meta], None);
    assert_eq!(unlock.status.code(), Some(0), "{}", stderr(&unlock));
    let wasm = guest("drift_test_guests");
    let (code, report, err) = drift("run", wasm.to_str().unwrap(), &table, &meta, &[]);
    assert_eq!(code, 0, "{err}");
    let report = report.unwrap();
    assert_eq!(report["counts"]["updates"], 60, "{report}");
    assert_eq!(report["counts"]["items_scanned"], 60, "{report}");
}
