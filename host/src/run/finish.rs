//! How a run ends: the pure mapping from what happened to the record's status, its last
//! error, and whether the next run may resume.

use crate::model::error::RunError;
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

/// Maps the outcome of `operation` to its ending; `applied_any` says whether any action was
/// applied (an undo that applied none leaves the migration applied, as it was).
pub fn ending(operation: Operation, outcome: Result<(), &RunError>, applied_any: bool) -> Ending {
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
        Operation::Undo if !applied_any => Status::Applied,
        _ => Status::Failed,
    };
    // Only a failed run can be resumed; an undo that wrote nothing is simply not done.
    let resumable = error.resumable() && status == Status::Failed;
    let message = describe(error);
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
pub fn describe(error: &RunError) -> String {
    match error {
        RunError::Cancelled { phase: "scan" } | RunError::ScanFailed(_) => {
            let what = match error {
                RunError::ScanFailed(why) => why.clone(),
                _ => error.to_string(),
            };
            format!("{what}; nothing was written")
        }
        RunError::ApplyFailed {
            settled, journaled, ..
        } => {
            let conflicts = match settled.conflicts {
                0 => String::new(),
                n => format!(", {n} found in conflict"),
            };
            format!(
                "{error}; {} of {journaled} actions were applied{conflicts}",
                settled.applied()
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
    use crate::model::counts::Counts;

    #[test]
    fn success_applies_or_rolls_back() {
        let e = ending(Operation::Migrate, Ok(()), true);
        assert_eq!(
            (e.status, e.last_error, e.resumable),
            (Status::Applied, None, false)
        );
        let e = ending(Operation::Undo, Ok(()), false);
        assert_eq!(e.status, Status::RolledBack);
    }

    #[test]
    fn failures_are_never_applied_and_say_whether_to_resume() {
        let cancelled = RunError::Cancelled { phase: "scan" };
        let e = ending(Operation::Migrate, Err(&cancelled), false);
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
        let e = ending(Operation::Migrate, Err(&items), false);
        assert_eq!(e.status, Status::Failed);
        assert!(!e.resumable, "a guest failure is final");
        assert!(e.last_error.unwrap().contains("k: boom"));

        let apply = RunError::ApplyFailed {
            cause: "throttled".into(),
            settled: Counts {
                puts: 3,
                conflicts: 1,
                ..Counts::default()
            },
            journaled: 10,
        };
        let e = ending(Operation::Migrate, Err(&apply), true);
        let text = e.last_error.unwrap();
        assert!(
            text.contains("; 3 of 10 actions were applied, 1 found in conflict"),
            "{text}"
        );
        assert!(e.resumable);
    }

    #[test]
    fn an_undo_that_wrote_nothing_leaves_the_migration_applied() {
        let failed = RunError::ScanFailed("boom".into());
        let e = ending(Operation::Undo, Err(&failed), false);
        assert_eq!(e.status, Status::Applied);
        assert!(!e.resumable);
        assert!(e.last_error.unwrap().starts_with("undo: boom"));
        let e = ending(Operation::Undo, Err(&failed), true);
        assert_eq!(e.status, Status::Failed);
        assert!(e.resumable);
    }
}
