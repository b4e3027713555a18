//! `status --watch`: the status again every few seconds while a migration runs, ending when
//! none does.

use crate::reliability::start_slow_run;
use crate::support::{client, drift_host, stderr, stdout, unique};

#[test]
fn status_watch_follows_a_run_to_its_end() {
    let client = client();
    let meta = unique("meta");
    // 80 items at 50 ms each: a run of four seconds or more.
    let (child, _table) = start_slow_run(&client, 80, &meta, &[]);
    let watched = drift_host(&["status", "--meta-table", &meta, "--watch", "1"], None);
    let run = child.wait_with_output().unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(watched.status.code(), Some(0), "{}", stderr(&watched));
    assert!(
        stderr(&watched).contains("every 1 s while a migration is running"),
        "{}",
        stderr(&watched)
    );
    // Not a terminal: each view after a blank line.
    let text = stdout(&watched);
    let views: Vec<&str> = text.split("\n\n").collect();
    assert!(views.len() >= 2, "{text}");
    assert!(views[0].contains("running"), "the first view: {text}");
    assert!(
        views.last().unwrap().contains("applied"),
        "the last view: {text}"
    );
    assert!(
        views[..views.len() - 1]
            .iter()
            .all(|v| v.contains("running")),
        "it ends with the first view where nothing runs: {text}"
    );
}

#[test]
fn status_watch_with_nothing_running_shows_once() {
    let meta = unique("meta");
    let output = drift_host(&["status", "--meta-table", &meta, "--watch"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("does not exist: no migration has run"));
    assert!(
        !stdout(&output).contains("\n\n"),
        "one view: {}",
        stdout(&output)
    );
}
