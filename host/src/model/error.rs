//! The failures that decide what the command line says and which exit code it returns.
//!
//! Stages raise them (typed, with what happened); they travel inside `anyhow::Error` to the
//! edges, where [`exit_code`] is the one place that maps them to an exit code.

use super::counts::Counts;

/// Exit code: success (`run`/`undo`: every action applied; conflicts are reported, not failures).
pub const EXIT_OK: u8 = 0;
/// Exit code: the migration ran and failed (items failed, apply failed, cancelled, lease lost).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad input or module, unreachable endpoint, or another error before any item ran.
pub const EXIT_ERROR: u8 = 2;
/// Exit code: refused (already applied, changed module, locked, cannot resume).
pub const EXIT_REFUSED: u8 = 3;

/// Why a run (or an operation on the metadata table) did not do what it was asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Nothing to do: the same module already applied (or rolled back) the migration. Not a
    /// failure: the exit code is 0, as for a folder with nothing pending.
    #[error("{0}")]
    UpToDate(String),
    /// Refused before anything was written: already applied, a changed module, locked by
    /// another run, a resume whose checkpoint or journal is missing or damaged.
    #[error("{0}")]
    Refused(String),
    /// This run's lease was taken over: it stopped and can no longer write its record.
    #[error("{0}")]
    LostLease(String),
    /// Stopped by Ctrl-C or SIGTERM during `phase`; nothing is marked applied.
    #[error("cancelled during the {phase}")]
    Cancelled {
        /// `scan` or `apply`.
        phase: &'static str,
    },
    /// Items failed in the guest: nothing was written.
    #[error("{failed} item(s) failed in the guest; nothing was written.{}", first.as_ref().map(|f| format!(" First: {f}")).unwrap_or_default())]
    ItemsFailed {
        /// How many.
        failed: u64,
        /// The first one, with its key.
        first: Option<String>,
    },
    /// The scan failed (after its retries): nothing was written.
    #[error("{0}")]
    ScanFailed(String),
    /// The apply failed (after its retries) with `settled` of `journaled` actions settled.
    #[error("apply failed: {cause}")]
    ApplyFailed {
        /// What failed.
        cause: String,
        /// Counts of what is confirmed settled.
        settled: Counts,
        /// Actions in the journal.
        journaled: u64,
    },
}

impl RunError {
    /// The exit code of this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::UpToDate(_) => EXIT_OK,
            RunError::Refused(_) => EXIT_REFUSED,
            _ => EXIT_FAILED,
        }
    }

    /// Whether the next run of the same module may resume where this one stopped.
    pub fn resumable(&self) -> bool {
        !matches!(
            self,
            RunError::UpToDate(_) | RunError::Refused(_) | RunError::ItemsFailed { .. }
        )
    }
}

/// The exit code of any error: a [`RunError`] anywhere in its chain decides, anything else is
/// an error before any item ran.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<RunError>())
        .map_or(EXIT_ERROR, RunError::exit_code)
}

/// The message of a [`RunError::UpToDate`] anywhere in `error`'s chain: the run had nothing
/// to do.
pub fn up_to_date(error: &anyhow::Error) -> Option<&str> {
    error
        .chain()
        .find_map(|cause| match cause.downcast_ref::<RunError>() {
            Some(RunError::UpToDate(message)) => Some(message.as_str()),
            _ => None,
        })
}

/// A [`RunError::Refused`] as an `anyhow::Error`.
pub fn refused(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(RunError::Refused(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn each_failure_has_its_exit_code_even_wrapped_in_context() {
        let wrapped = |e: RunError| {
            Err::<(), _>(anyhow::Error::new(e))
                .context("while running")
                .unwrap_err()
        };
        assert_eq!(exit_code(&wrapped(RunError::Refused("x".into()))), 3);
        assert_eq!(exit_code(&wrapped(RunError::LostLease("x".into()))), 1);
        assert_eq!(
            exit_code(&wrapped(RunError::Cancelled { phase: "scan" })),
            1
        );
        assert_eq!(exit_code(&anyhow::anyhow!("bad input")), 2);
        let done = wrapped(RunError::UpToDate("nothing to do".into()));
        assert_eq!(exit_code(&done), 0);
        assert_eq!(up_to_date(&done), Some("nothing to do"));
        assert_eq!(up_to_date(&wrapped(RunError::Refused("x".into()))), None);
    }

    #[test]
    fn messages_say_what_happened() {
        let failed = RunError::ItemsFailed {
            failed: 2,
            first: Some("{\"id\":{\"S\":\"u1\"}}: boom".into()),
        };
        assert_eq!(
            failed.to_string(),
            "2 item(s) failed in the guest; nothing was written. First: {\"id\":{\"S\":\"u1\"}}: boom"
        );
        assert!(!failed.resumable());
        assert!(RunError::Cancelled { phase: "apply" }.resumable());
    }
}
