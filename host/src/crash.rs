//! A test hook that kills this process at a named point, as `kill -9` would.
//!
//! Compiled in only with the cargo feature `crash-points` (`scripts/test` enables it for the
//! test build); in any other build, such as the one users install, [`point`] is an empty
//! function and `DRIFT_CRASH_AT` means nothing.
//!
//! `DRIFT_CRASH_AT=<point>:<n>` sends SIGKILL to this process the `n`-th time it passes
//! `<point>` (counting from 1). Nothing is flushed, no destructor runs, the lease is not
//! released: the crash tests use it to stop a run exactly between two steps that matter, then
//! check that a resumed run ends with the table an uninterrupted run leaves. Unset, each point
//! costs one relaxed atomic load.
//!
//! `DRIFT_HOLD_AT=<point>` with `DRIFT_HOLD_FILE=<path>` holds the process the first time it
//! passes `<point>`: it creates `<path>.reached` and waits until `<path>` is gone. The live
//! tests use it to write to the table at an exact moment of a run (between its scan and its
//! apply, say).

#[cfg(feature = "crash-points")]
pub use hook::point;

/// Passes the point `name`: nothing happens in a build without the `crash-points` feature.
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn point(_name: &str) {}

#[cfg(feature = "crash-points")]
mod hook {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    /// The configured point and hit count, read once.
    fn target() -> Option<&'static (String, u64)> {
        static TARGET: OnceLock<Option<(String, u64)>> = OnceLock::new();
        TARGET
            .get_or_init(|| {
                let value = std::env::var("DRIFT_CRASH_AT").ok()?;
                let (point, hit) = value.rsplit_once(':')?;
                Some((point.to_owned(), hit.parse().ok()?))
            })
            .as_ref()
    }

    /// The point to hold at, and the file whose removal releases it, read once.
    fn hold_target() -> Option<&'static (String, String)> {
        static TARGET: OnceLock<Option<(String, String)>> = OnceLock::new();
        TARGET
            .get_or_init(|| {
                Some((
                    std::env::var("DRIFT_HOLD_AT").ok()?,
                    std::env::var("DRIFT_HOLD_FILE").ok()?,
                ))
            })
            .as_ref()
    }

    /// Holds at `name` (once) if `DRIFT_HOLD_AT` says so, until the hold file is removed.
    fn hold(name: &str) {
        static HELD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        let Some((point, file)) = hold_target() else {
            return;
        };
        if point != name || HELD.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = std::fs::write(format!("{file}.reached"), name);
        while std::path::Path::new(file).exists() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Passes the point `name`; kills the process if `DRIFT_CRASH_AT` says so.
    pub fn point(name: &str) {
        static HITS: AtomicU64 = AtomicU64::new(0);
        hold(name);
        let Some((point, hit)) = target() else {
            return;
        };
        if point == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == *hit {
            eprintln!("DRIFT_CRASH_AT: killing the process at {name}:{hit}");
            // SAFETY: kill(2) with our own pid has no memory-safety preconditions.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}
