//! How a run ends: the pure mapping from what happened to the record's status, its last
//! error, and whether the next run may resume.

use crate::model::counts::Counts;
use crate::model::error::{Phase, RunError};
use crate::model::operation::{Operation, Status};

/// The end of a run as the metadata record and the report show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// The record's new status.
    pub status: Status,
    /// Why it failed, in the record's words.
    pub last_error: Option<String>,
    /// Whether the next run of the same module resumes from the checkpoint (which must then
    /// be kept, and the journal named in the record).
    pub resumable: bool,
}

/// What to tell the user to do after a failure the next run can resume.
const RESUME_HINT: &str = "run it again to resume, or --restart to start over";

/// What a run had done when it ended: the record's counts and the actions journaled.
#[derive(Debug, Clone, Copy, Default)]
pub struct Done {
    /// What was scanned, and what the apply settled.
    pub counts: Counts,
    /// Actions in the journal.
    pub journaled: u64,
}

/// Maps the outcome of `operation` to its ending, given what was `done` (an undo that applied
/// nothing leaves the migration applied, as it was).
pub fn ending(operation: Operation, outcome: Result<(), &RunError>, done: Done) -> Ending {
    let error = match outcome {
        Ok(()) => {
            return Ending {
                status: match operation {
                    Operation::Migrate => Status::Applied,
                    Operation::Undo => Status::RolledBack,
                },
                last_error: None,
                resumable: false,
            }
        }
        Err(error) => error,
    };
    let status = match operation {
        Operation::Undo if done.counts.applied() == 0 => Status::Applied,
        _ => Status::Failed,
    };
    // Only a failed run can be resumed; an undo that wrote nothing is simply not done.
    let resumable = error.resumable() && status == Status::Failed;
    let message = describe(error, done);
    let message = if resumable {
        format!("{message} ({RESUME_HINT})")
    } else {
        message
    };
    Ending {
        status,
        last_error: Some(match operation {
            Operation::Undo => format!("undo: {message}"),
            Operation::Migrate => message,
        }),
        resumable,
    }
}

/// A failure in the words the record and the report use.
pub fn describe(error: &RunError, done: Done) -> String {
    match error {
        RunError::Cancelled { phase: Phase::Scan }
        | RunError::PhaseFailed {
            phase: Phase::Scan,
            ..
        } => format!("{error}; nothing was written"),
        RunError::PhaseFailed {
            phase: Phase::Apply,
            ..
        } => {
            let conflicts = match done.counts.conflicts {
                0 => String::new(),
                n => format!(", {n} found in conflict"),
            };
            format!(
                "{error}; {} of {} actions were applied{conflicts}",
                done.counts.applied(),
                done.journaled
            )
        }
        RunError::Cancelled { phase } => format!(
            "cancelled during the {phase}; some actions may have been applied (the counts say how many)"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::error::Cause;

    fn failed(phase: Phase, why: &str) -> RunError {
        RunError::PhaseFailed {
            phase,
            cause: Cause::from(anyhow::anyhow!("{why}")),
        }
    }

    fn applied(puts: u64) -> Done {
        Done {
            counts: Counts {
                puts,
                ..Counts::default()
            },
            journaled: 10,
        }
    }

    #[test]
    fn success_applies_or_rolls_back() {
        let e = ending(Operation::Migrate, Ok(()), applied(1));
        assert_eq!(
            (e.status, e.last_error, e.resumable),
            (Status::Applied, None, false)
        );
        let e = ending(Operation::Undo, Ok(()), applied(0));
        assert_eq!(e.status, Status::RolledBack);
    }

    #[test]
    fn failures_are_never_applied_and_say_whether_to_resume() {
        let cancelled = RunError::Cancelled { phase: Phase::Scan };
        let e = ending(Operation::Migrate, Err(&cancelled), applied(0));
        assert_eq!(e.status, Status::Failed);
        assert!(e.resumable);
        let text = e.last_error.unwrap();
        assert!(
            text.contains("cancelled") && text.contains("nothing was written"),
            "{text}"
        );
        assert!(text.contains("resume"), "{text}");

        let items = RunError::ItemsFailed {
            failed: 1,
            first: Some("k: boom".into()),
        };
        let e = ending(Operation::Migrate, Err(&items), applied(0));
        assert_eq!(e.status, Status::Failed);
        assert!(!e.resumable, "a guest failure is final");
        assert!(e.last_error.unwrap().contains("k: boom"));

        let apply = failed(Phase::Apply, "throttled");
        let done = Done {
            counts: Counts {
                puts: 3,
                conflicts: 1,
                ..Counts::default()
            },
            journaled: 10,
        };
        let e = ending(Operation::Migrate, Err(&apply), done);
        let text = e.last_error.unwrap();
        assert!(
            text.starts_with(
                "apply failed: throttled; 3 of 10 actions were applied, 1 found in conflict"
            ),
            "{text}"
        );
        assert!(e.resumable);
    }

    #[test]
    fn an_undo_that_wrote_nothing_leaves_the_migration_applied() {
        let failed = failed(Phase::Scan, "boom");
        let e = ending(Operation::Undo, Err(&failed), applied(0));
        assert_eq!(e.status, Status::Applied);
        assert!(!e.resumable);
        assert!(e.last_error.unwrap().starts_with("undo: boom"));
        let e = ending(Operation::Undo, Err(&failed), applied(1));
        assert_eq!(e.status, Status::Failed);
        assert!(e.resumable);
    }
}
