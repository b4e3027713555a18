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

    /// Passes the point `name`; kills the process if `DRIFT_CRASH_AT` says so.
    pub fn point(name: &str) {
        static HITS: AtomicU64 = AtomicU64::new(0);
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
