//! The failures that decide what the command line says and which exit code it returns.
//!
//! Stages raise them (typed, with what happened); they travel inside `anyhow::Error` to the
//! edges, where [`exit_code`] is the one place that maps them to an exit code.

use std::sync::Arc;

pub use super::operation::Phase;

/// Exit code: success (`run`/`undo`: every action applied; conflicts are reported, not failures).
pub const EXIT_OK: u8 = 0;
/// Exit code: the migration ran and failed (items failed, apply failed, cancelled, lease lost).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad input or module, unreachable endpoint, or another error before any item ran.
pub const EXIT_ERROR: u8 = 2;
/// Exit code: refused (already applied, changed module, locked, cannot resume).
pub const EXIT_REFUSED: u8 = 3;
/// Exit code: a worker of a multi-worker run (`--workers`) stopped alone (cancelled, its lease
/// lost); the run goes on with the others or its replacement: a job engine may start it again.
pub const EXIT_WORKER_STOPPED: u8 = 4;

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
        /// The phase the stop came in.
        phase: Phase,
    },
    /// Items failed in the guest: nothing was written.
    #[error("{failed} item(s) failed in the guest; nothing was written.{}", first.as_ref().map(|f| format!(" First: {f}")).unwrap_or_default())]
    ItemsFailed {
        /// How many.
        failed: u64,
        /// The first one, with its key.
        first: Option<String>,
    },
    /// A worker of a multi-worker run stopped alone (a signal, its lease lost, before it
    /// joined): the run goes on with the others or its replacement.
    #[error("{0}")]
    WorkerStopped(String),
    /// A phase failed (after its retries): in the scan nothing was written; the apply's
    /// counts say what was.
    #[error("{}{cause}", if *phase == Phase::Apply { "apply failed: " } else { "" })]
    PhaseFailed {
        /// The phase that failed.
        phase: Phase,
        /// What failed, with its whole chain.
        cause: Cause,
    },
}

/// The error that ended a phase, kept whole (its chain) and shared, so a [`RunError`] stays
/// cheap to clone; shown as its chain on one line.
#[derive(Debug, Clone)]
pub struct Cause(Arc<anyhow::Error>);

impl Cause {
    /// The error, with its chain.
    pub fn error(&self) -> &anyhow::Error {
        &self.0
    }
}

impl From<anyhow::Error> for Cause {
    fn from(error: anyhow::Error) -> Cause {
        Cause(Arc::new(error))
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl PartialEq for Cause {
    /// Two causes are equal when they say the same.
    fn eq(&self, other: &Cause) -> bool {
        self.to_string() == other.to_string()
    }
}

impl RunError {
    /// The exit code of this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::UpToDate(_) => EXIT_OK,
            RunError::Refused(_) => EXIT_REFUSED,
            RunError::WorkerStopped(_) => EXIT_WORKER_STOPPED,
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
            exit_code(&wrapped(RunError::Cancelled { phase: Phase::Scan })),
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
        assert!(RunError::Cancelled {
            phase: Phase::Apply
        }
        .resumable());
        let cause = || Cause::from(anyhow::anyhow!("throttled").context("writing `users`"));
        let scan = RunError::PhaseFailed {
            phase: Phase::Scan,
            cause: cause(),
        };
        assert_eq!(scan.to_string(), "writing `users`: throttled");
        let apply = RunError::PhaseFailed {
            phase: Phase::Apply,
            cause: cause(),
        };
        assert_eq!(
            apply.to_string(),
            "apply failed: writing `users`: throttled"
        );
        assert_eq!(
            apply.clone(),
            apply,
            "a clone shares the cause and equals it"
        );
        let RunError::PhaseFailed { cause, .. } = apply else {
            unreachable!()
        };
        assert_eq!(cause.error().chain().count(), 2, "the chain is kept");
    }
}
