//! Whether a run may start: the pure decision from the metadata record, before anything is
//! written.

use crate::metadata::MigrationRecord;
use crate::model::operation::{Operation, Status};

/// The module asking to run: what the decision needs to know of it.
#[derive(Debug, Clone, Copy)]
pub struct Asking<'a> {
    /// `migrate` or `undo`.
    pub operation: Operation,
    /// The migration's number.
    pub number: u64,
    /// Its name.
    pub name: &'a str,
    /// Hex SHA-256 of the module.
    pub checksum: &'a str,
    /// `--restart`: start over what a dead or stopped run left unfinished.
    pub restart: bool,
    /// The table the run would scan.
    pub table: &'a str,
}

/// What the run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Start from nothing.
    Fresh,
    /// Go on from where a dead or stopped run of the same module and operation got.
    Resume,
    /// Nothing to do: the same module already did it (applied, or rolled back), as this says.
    /// Like a folder with nothing pending, a success.
    UpToDate(String),
    /// Do nothing, for this reason.
    Refuse(String),
}

/// Decides from `previous` (the migration's record, if any) what a run of `asking` does.
pub fn admit(asking: Asking<'_>, previous: Option<&MigrationRecord>) -> Admission {
    let who = format!("migration {} ({})", asking.number, asking.name);
    let short = |checksum: &str| checksum.chars().take(12).collect::<String>();
    let Some(record) = previous else {
        return match asking.operation {
            Operation::Migrate => Admission::Fresh,
            Operation::Undo => {
                Admission::Refuse(format!("{who} was never run; there is nothing to undo"))
            }
        };
    };
    let same_module = record.checksum == asking.checksum;
    let unfinished = matches!(record.status, Status::Running | Status::Failed);
    if unfinished && !asking.restart && record.operation == asking.operation && same_module {
        return Admission::Resume;
    }
    // The caller holds the lock, so the run that left the record `running` is dead.
    if record.status == Status::Running && !asking.restart {
        let why = if record.operation != asking.operation {
            format!("an `{}`", record.operation.as_str())
        } else {
            format!("a different module (checksum {})", short(&record.checksum))
        };
        return Admission::Refuse(format!(
            "{who} was left running by run {} (started {}) of {why}, which is no longer alive; \
             resume it with that, or `--restart` to start over",
            record.run_id, record.started_at
        ));
    }
    match (asking.operation, record.status) {
        (_, Status::Running) => Admission::Fresh,
        (Operation::Migrate, Status::Applied) if same_module && record.table != asking.table => {
            Admission::Refuse(format!(
                "{who} is already applied to table `{}` (since {}), not to `{}`: a metadata \
                 table records each migration once; give another --meta-table to run it on `{}`",
                record.table,
                record.finished_at.as_deref().unwrap_or("?"),
                asking.table,
                asking.table
            ))
        }
        (Operation::Migrate, Status::Applied) if same_module => Admission::UpToDate(format!(
            "{who} is already applied to `{}` (since {}); nothing to do",
            record.table,
            record.finished_at.as_deref().unwrap_or("?")
        )),
        (Operation::Migrate, Status::Applied) => Admission::Refuse(format!(
            "{who} was applied from a different module (checksum {} applied, {} given); \
             a changed migration needs a new number",
            short(&record.checksum),
            short(asking.checksum)
        )),
        (Operation::Migrate, _) => Admission::Fresh,
        (Operation::Undo, Status::Applied) if same_module => Admission::Fresh,
        (Operation::Undo, Status::RolledBack) if same_module => Admission::UpToDate(format!(
            "{who} is already rolled back (since {}); nothing to do",
            record.finished_at.as_deref().unwrap_or("?")
        )),
        (Operation::Undo, Status::Applied) => Admission::Refuse(format!(
            "{who} was applied from a different module (checksum {} applied, {} given); \
             undo needs the module that was applied",
            short(&record.checksum),
            short(asking.checksum)
        )),
        (Operation::Undo, status) => Admission::Refuse(format!(
            "{who} is {}; only an applied migration can be undone",
            status.as_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::counts::Counts;

    fn record(status: Status, operation: Operation, checksum: &str) -> MigrationRecord {
        MigrationRecord {
            number: 2,
            name: "users_v2".into(),
            description: String::new(),
            table: "users".into(),
            checksum: checksum.into(),
            status,
            operation,
            run_id: "run-1".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: None,
            host_version: "0".into(),
            counts: Counts::default(),
            last_error: None,
            journal: None,
            progress: None,
            notes: Vec::new(),
        }
    }

    fn asking(operation: Operation, checksum: &str, restart: bool) -> Asking<'_> {
        Asking {
            operation,
            number: 2,
            name: "users_v2",
            checksum,
            restart,
            table: "users",
        }
    }

    /// The stored record (status, operation, checksum), if any.
    type Stored = Option<(Status, Operation, &'static str)>;
    /// What is asked: operation, checksum, `--restart`.
    type Asked = (Operation, &'static str, bool);

    use Operation::{Migrate, Undo};
    use Status::{Applied, Failed, RolledBack, Running};

    /// Every (record, request) pair that matters, with the plan or a word of the refusal.
    const CASES: &[(Stored, Asked, &str)] = &[
        (None, (Migrate, "a", false), "fresh"),
        (None, (Undo, "a", false), "never run"),
        (
            Some((Running, Migrate, "a")),
            (Migrate, "a", false),
            "resume",
        ),
        (
            Some((Failed, Migrate, "a")),
            (Migrate, "a", false),
            "resume",
        ),
        (Some((Failed, Undo, "a")), (Undo, "a", false), "resume"),
        (Some((Running, Migrate, "a")), (Migrate, "a", true), "fresh"),
        (Some((Failed, Migrate, "a")), (Migrate, "a", true), "fresh"),
        (
            Some((Running, Migrate, "b")),
            (Migrate, "a", false),
            "different module",
        ),
        (
            Some((Running, Undo, "a")),
            (Migrate, "a", false),
            "an `undo`",
        ),
        (Some((Running, Migrate, "b")), (Migrate, "a", true), "fresh"),
        (Some((Failed, Migrate, "b")), (Migrate, "a", false), "fresh"),
        (
            Some((Applied, Migrate, "a")),
            (Migrate, "a", false),
            "already applied",
        ),
        (
            Some((Applied, Migrate, "a")),
            (Migrate, "a", true),
            "already applied",
        ),
        (
            Some((Applied, Migrate, "b")),
            (Migrate, "a", false),
            "needs a new number",
        ),
        (
            Some((RolledBack, Undo, "a")),
            (Migrate, "a", false),
            "fresh",
        ),
        (Some((Applied, Migrate, "a")), (Undo, "a", false), "fresh"),
        (
            Some((Applied, Migrate, "b")),
            (Undo, "a", false),
            "undo needs the module",
        ),
        (
            Some((RolledBack, Undo, "a")),
            (Undo, "a", false),
            "already rolled back",
        ),
        (
            Some((RolledBack, Undo, "b")),
            (Undo, "a", false),
            "only an applied migration",
        ),
        (
            Some((Failed, Migrate, "a")),
            (Undo, "a", false),
            "only an applied migration",
        ),
    ];

    #[test]
    fn an_applied_migration_asked_for_another_table_names_both() {
        let applied = record(Status::Applied, Operation::Migrate, "a");
        let other = Asking {
            table: "big",
            ..asking(Operation::Migrate, "a", false)
        };
        match admit(other, Some(&applied)) {
            Admission::Refuse(why) => {
                assert!(why.contains("applied to table `users`"), "{why}");
                assert!(
                    why.contains("not to `big`") && why.contains("--meta-table"),
                    "{why}"
                );
            }
            other => panic!("{other:?}"),
        }
        match admit(asking(Operation::Migrate, "a", false), Some(&applied)) {
            Admission::UpToDate(why) => assert!(why.contains("applied to `users`"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_record_decides_start_resume_or_refusal() {
        for &(previous, (operation, checksum, restart), expected) in CASES {
            let previous = previous.map(|(s, o, c)| record(s, o, c));
            let got = admit(asking(operation, checksum, restart), previous.as_ref());
            let ok = match (&got, expected) {
                (Admission::Fresh, "fresh") | (Admission::Resume, "resume") => true,
                (Admission::Refuse(why), word) => {
                    why.contains(word) && !word.starts_with("already")
                }
                (Admission::UpToDate(why), word) => {
                    why.contains(word) && word.starts_with("already")
                }
                _ => false,
            };
            assert!(
                ok,
                "{previous:?} + {operation:?}/{checksum}/{restart}: {got:?}, expected {expected}"
            );
        }
    }
}
