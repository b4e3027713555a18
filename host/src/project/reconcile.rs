//! The pure decisions of a folder: where each migration stands (the folder's modules against
//! the metadata table's records), and which migrations `run`, `undo --to`, `baseline` and
//! `repair` touch, or why they refuse. Nothing here reads or writes anything.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::metadata::MigrationRecord;
use crate::model::operation::{Operation, Status};

/// What a decision needs to know of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSummary {
    /// Migration number.
    pub number: u64,
    /// Name from `info()`.
    pub name: String,
    /// File name in the folder.
    pub file: String,
    /// Hex SHA-256 of the file.
    pub checksum: String,
    /// The table it scans.
    pub table: String,
}

/// Where a migration of the folder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Applied from this very module.
    Applied,
    /// Not applied: never run, rolled back, or cleared by `repair`.
    Pending,
    /// Applied, but the module has changed since (checksums differ).
    Modified,
    /// Recorded, but the folder has no module with its number.
    Missing,
    /// Its last run or undo failed.
    Failed,
    /// A run or undo is in progress, or died (resume it with `run`).
    Running,
}

impl State {
    /// The spelling shown.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Modified => "modified",
            State::Missing => "missing",
            State::Failed => "failed",
            State::Running => "running",
        }
    }
}

/// One line of `status DIR`: a module, a record, or both.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Migration number.
    pub number: u64,
    /// Name (the module's, else the record's).
    pub name: String,
    /// Where it stands.
    pub state: State,
    /// The module's file, if the folder has it.
    pub file: Option<String>,
    /// The module's checksum.
    pub checksum: Option<String>,
    /// The scanned table (the record's, else the module's).
    pub table: String,
    /// The record, if any.
    pub record: Option<MigrationRecord>,
}

/// Every migration of the folder and every recorded one, by number.
pub fn rows(modules: &[ModuleSummary], records: &[MigrationRecord]) -> Vec<Row> {
    let mut by_number: BTreeMap<u64, (Option<&ModuleSummary>, Option<&MigrationRecord>)> =
        BTreeMap::new();
    for module in modules {
        by_number.entry(module.number).or_default().0 = Some(module);
    }
    for record in records {
        by_number.entry(record.number).or_default().1 = Some(record);
    }
    by_number
        .into_iter()
        .map(|(number, (module, record))| Row {
            number,
            name: module
                .map(|m| m.name.clone())
                .or_else(|| record.map(|r| r.name.clone()))
                .unwrap_or_default(),
            state: state(module, record),
            file: module.map(|m| m.file.clone()),
            checksum: module.map(|m| m.checksum.clone()),
            table: record
                .map(|r| r.table.clone())
                .or_else(|| module.map(|m| m.table.clone()))
                .unwrap_or_default(),
            record: record.cloned(),
        })
        .collect()
}

fn state(module: Option<&ModuleSummary>, record: Option<&MigrationRecord>) -> State {
    let Some(record) = record else {
        return State::Pending;
    };
    match (module, record.status) {
        (None, _) => State::Missing,
        (_, Status::Running) => State::Running,
        (_, Status::Failed) => State::Failed,
        (_, Status::RolledBack | Status::Pending) => State::Pending,
        (Some(m), Status::Applied) if m.checksum == record.checksum => State::Applied,
        (Some(_), Status::Applied) => State::Modified,
    }
}

fn short(checksum: &str) -> &str {
    &checksum[..checksum.len().min(12)]
}

fn label(module: &ModuleSummary) -> String {
    format!(
        "migration {} ({}, {})",
        module.number, module.name, module.file
    )
}

/// Refuses a folder whose migration N is not the metadata table's migration N by name: the
/// records belong to another project sharing the table (or the migration was renamed, which
/// `repair` accepts). Without this, another project's record would read as a changed module.
pub fn same_project(modules: &[ModuleSummary], records: &[MigrationRecord]) -> Result<(), String> {
    for module in modules {
        let Some(record) = records.iter().find(|r| r.number == module.number) else {
            continue;
        };
        if record.name != module.name {
            return Err(format!(
                "the metadata table's migration {} is `{}` (on table `{}`), but this folder's is \
                 `{}` ({}): the table's records belong to another project; give this project its \
                 own metadata table (`meta_table` in drift.toml, or --meta-table), or, if the \
                 migration was renamed, `drift-host repair` accepts it",
                module.number, record.name, record.table, module.name, module.file
            ));
        }
    }
    Ok(())
}

/// The migrations `run DIR` runs, in order; or why it refuses (before running any).
///
/// Applied ones with the same checksum are skipped; a modified applied one is refused; a
/// pending one numbered below the highest applied is refused unless `out_of_order` (one that a
/// run already started, now running or failed, goes on: its order was decided then).
pub fn to_run(
    modules: &[ModuleSummary],
    records: &[MigrationRecord],
    out_of_order: bool,
) -> Result<Vec<u64>, String> {
    same_project(modules, records)?;
    let by_number: BTreeMap<u64, &MigrationRecord> =
        records.iter().map(|r| (r.number, r)).collect();
    let highest_applied = records
        .iter()
        .filter(|r| r.status == Status::Applied)
        .map(|r| r.number)
        .max();
    // A changed applied module is the graver problem: named first, whatever else is wrong.
    for module in modules {
        if let Some(r) = by_number.get(&module.number) {
            if r.status == Status::Applied && r.checksum != module.checksum {
                return Err(format!(
                    "{} was applied from a module with checksum {}, but the file now has {}: \
                     a changed migration needs a new number (or `drift-host repair` to accept it)",
                    label(module),
                    short(&r.checksum),
                    short(&module.checksum)
                ));
            }
        }
    }
    let mut pending = Vec::new();
    for module in modules {
        let record = by_number.get(&module.number);
        if record.is_some_and(|r| r.status == Status::Applied) {
            continue;
        }
        let started = record.is_some_and(|r| {
            r.operation == Operation::Migrate
                && matches!(r.status, Status::Running | Status::Failed)
        });
        if let Some(highest) = highest_applied {
            if module.number < highest && !out_of_order && !started {
                return Err(format!(
                    "{} is pending, but migration {highest} is already applied: \
                     run it anyway with --out-of-order",
                    label(module)
                ));
            }
        }
        pending.push(module.number);
    }
    Ok(pending)
}

/// The migrations `undo DIR --to N` undoes, newest first; or why it refuses (before any).
///
/// Every applied migration numbered above `to` (and an undo of one left unfinished) needs its
/// module, unchanged. A migration above `to` whose run failed or died is refused: it is not
/// applied, so it cannot be undone until it is resumed or repaired.
pub fn to_undo(
    modules: &[ModuleSummary],
    records: &[MigrationRecord],
    to: u64,
) -> Result<Vec<u64>, String> {
    same_project(modules, records)?;
    let mut undo = Vec::new();
    for record in records.iter().rev().filter(|r| r.number > to) {
        let who = format!("migration {} ({})", record.number, record.name);
        let unfinished = matches!(record.status, Status::Running | Status::Failed);
        match (record.status, record.operation) {
            (Status::Applied, _) => {}
            (_, Operation::Undo) if unfinished => {}
            (_, Operation::Migrate) if unfinished => {
                return Err(format!(
                    "{who} is {} (its run did not finish): resume it with `drift-host run`, or \
                     clear it with `drift-host repair`, before undoing below it",
                    record.status.as_str()
                ))
            }
            _ => continue,
        }
        let Some(module) = modules.iter().find(|m| m.number == record.number) else {
            return Err(format!(
                "{who} is {} but the folder has no module for it; undo needs the module",
                record.status.as_str()
            ));
        };
        if module.checksum != record.checksum {
            return Err(format!(
                "{} was applied from a module with checksum {}, but the file now has {}; \
                 undo needs the module that was applied",
                label(module),
                short(&record.checksum),
                short(&module.checksum)
            ));
        }
        undo.push(record.number);
    }
    Ok(undo)
}

/// The migrations `baseline DIR --up-to N` records as applied; or why it refuses.
///
/// Those up to `up_to` without a record (or rolled back, cleared, failed) are baselined;
/// applied ones are left alone, a modified one or a running one is refused.
pub fn to_baseline(
    modules: &[ModuleSummary],
    records: &[MigrationRecord],
    up_to: u64,
) -> Result<Vec<u64>, String> {
    same_project(modules, records)?;
    let mut baseline = Vec::new();
    for module in modules.iter().filter(|m| m.number <= up_to) {
        match records.iter().find(|r| r.number == module.number) {
            Some(r) if r.status == Status::Applied && r.checksum == module.checksum => {}
            Some(r) if r.status == Status::Applied => {
                return Err(format!(
                    "{} is applied from a module with checksum {}, not {}: `drift-host repair` it",
                    label(module),
                    short(&r.checksum),
                    short(&module.checksum)
                ))
            }
            Some(r) if r.status == Status::Running => {
                return Err(format!(
                    "{} has a run that did not finish ({}): resume it with `drift-host run`",
                    label(module),
                    r.run_id
                ))
            }
            _ => baseline.push(module.number),
        }
    }
    Ok(baseline)
}

/// One change `repair` makes to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// An applied migration whose module changed, or a renamed one: record the module's
    /// checksum (and name).
    AcceptChecksum {
        /// Migration number.
        number: u64,
        /// The module's checksum.
        checksum: String,
    },
    /// A failed run or undo: the record becomes `pending`, so the next run starts over (under
    /// the module's name, if it was renamed).
    ClearFailed {
        /// Migration number.
        number: u64,
    },
}

/// What `repair DIR` changes: modified applied migrations and failed records.
pub fn repairs(modules: &[ModuleSummary], records: &[MigrationRecord]) -> Vec<Repair> {
    let mut repairs = Vec::new();
    for record in records {
        let module = modules.iter().find(|m| m.number == record.number);
        match (record.status, module) {
            (Status::Failed, _) => repairs.push(Repair::ClearFailed {
                number: record.number,
            }),
            (status, Some(m))
                if m.name != record.name
                    || (status == Status::Applied && m.checksum != record.checksum) =>
            {
                repairs.push(Repair::AcceptChecksum {
                    number: record.number,
                    checksum: m.checksum.clone(),
                })
            }
            _ => {}
        }
    }
    repairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::counts::Counts;
    use proptest::prelude::*;

    fn module(number: u64, checksum: &str) -> ModuleSummary {
        ModuleSummary {
            number,
            name: format!("m{number}"),
            file: format!("{number:04}.wasm"),
            checksum: checksum.to_owned(),
            table: "t".into(),
        }
    }

    fn record(
        number: u64,
        status: Status,
        operation: Operation,
        checksum: &str,
    ) -> MigrationRecord {
        MigrationRecord {
            number,
            name: format!("m{number}"),
            description: String::new(),
            table: "t".into(),
            checksum: checksum.into(),
            status,
            operation,
            run_id: "r".into(),
            started_at: String::new(),
            finished_at: None,
            host_version: String::new(),
            counts: Counts::default(),
            last_error: None,
            journal: None,
            progress: None,
            notes: Vec::new(),
        }
    }

    use Operation::{Migrate, Undo};
    use Status::{Applied, Failed, Pending, RolledBack, Running};

    #[test]
    fn another_projects_record_under_the_same_number_is_named_not_taken_for_a_change() {
        let modules = [module(2, "b")];
        let mut theirs = record(2, Applied, Migrate, "z");
        theirs.name = "orders_v1".into();
        let records = [theirs];
        for error in [
            to_run(&modules, &records, false).unwrap_err(),
            to_undo(&modules, &records, 0).unwrap_err(),
            to_baseline(&modules, &records, 2).unwrap_err(),
        ] {
            assert!(
                error.contains("migration 2 is `orders_v1`")
                    && error.contains("belong to another project")
                    && error.contains("--meta-table"),
                "{error}"
            );
        }
        assert_eq!(
            same_project(&modules, &[record(2, Applied, Migrate, "z")]),
            Ok(())
        );
        // A rename is what `repair` takes it for, whatever the record's status.
        let mut renamed = record(2, RolledBack, Undo, "b");
        renamed.name = "old_name".into();
        assert_eq!(
            repairs(&modules, &[renamed]),
            [Repair::AcceptChecksum {
                number: 2,
                checksum: "b".into()
            }]
        );
    }

    #[test]
    fn states_cover_every_pairing() {
        let modules = [
            module(1, "a"),
            module(2, "b"),
            module(3, "c"),
            module(5, "e"),
        ];
        let records = [
            record(1, Applied, Migrate, "a"),
            record(2, Applied, Migrate, "x"),
            record(3, Failed, Migrate, "c"),
            record(4, Applied, Migrate, "d"),
            record(5, RolledBack, Undo, "e"),
            record(6, Running, Migrate, "f"),
        ];
        let states: Vec<_> = rows(&modules, &records).iter().map(|r| r.state).collect();
        assert_eq!(
            states,
            [
                State::Applied,
                State::Modified,
                State::Failed,
                State::Missing,
                State::Pending,
                State::Missing
            ]
        );
        let with_seven = [module(6, "f"), module(7, "g")];
        let states: Vec<_> = rows(&with_seven, &records[5..])
            .iter()
            .map(|r| r.state)
            .collect();
        assert_eq!(states, [State::Running, State::Pending]);
    }

    #[test]
    fn run_skips_applied_and_refuses_modified_and_out_of_order() {
        let modules = [module(1, "a"), module(2, "b"), module(3, "c")];
        assert_eq!(to_run(&modules, &[], false).unwrap(), [1, 2, 3]);
        let applied = [record(1, Applied, Migrate, "a")];
        assert_eq!(to_run(&modules, &applied, false).unwrap(), [2, 3]);
        let modified = [record(2, Applied, Migrate, "old")];
        let error = to_run(&modules, &modified, false).unwrap_err();
        assert!(
            error.contains("migration 2 (m2, 0002.wasm)") && error.contains("old"),
            "{error}"
        );
        assert!(
            error.contains("checksum old") && error.contains("now has b"),
            "{error}"
        );
        let later = [record(3, Applied, Migrate, "c")];
        let error = to_run(&modules, &later, false).unwrap_err();
        assert!(
            error.contains("migration 1 (m1, 0001.wasm) is pending"),
            "{error}"
        );
        assert!(error.contains("--out-of-order"), "{error}");
        assert_eq!(to_run(&modules, &later, true).unwrap(), [1, 2]);
        // A run that already started below the highest goes on; rolled back ones run again.
        let started = [
            record(1, Failed, Migrate, "a"),
            record(3, Applied, Migrate, "c"),
        ];
        assert!(
            to_run(&modules, &started, false).is_err(),
            "2 is new and below 3"
        );
        let started = [
            record(1, Failed, Migrate, "a"),
            record(2, RolledBack, Undo, "b"),
            record(3, RolledBack, Undo, "c"),
        ];
        assert_eq!(to_run(&modules, &started, false).unwrap(), [1, 2, 3]);
    }

    #[test]
    fn undo_goes_newest_first_and_needs_the_applied_modules() {
        let modules = [module(1, "a"), module(2, "b"), module(3, "c")];
        let records = [
            record(1, Applied, Migrate, "a"),
            record(2, Applied, Migrate, "b"),
            record(3, Applied, Migrate, "c"),
        ];
        assert_eq!(to_undo(&modules, &records, 1).unwrap(), [3, 2]);
        assert_eq!(to_undo(&modules, &records, 0).unwrap(), [3, 2, 1]);
        assert!(to_undo(&modules, &records, 3).unwrap().is_empty());
        let error = to_undo(&modules[..2], &records, 1).unwrap_err();
        assert!(error.contains("no module"), "{error}");
        let changed = [module(1, "a"), module(2, "b2"), module(3, "c")];
        assert!(to_undo(&changed, &records, 1)
            .unwrap_err()
            .contains("checksum b"));
        let mixed = [
            record(1, Applied, Migrate, "a"),
            record(2, RolledBack, Undo, "b"),
            record(3, Failed, Undo, "c"),
        ];
        assert_eq!(to_undo(&modules, &mixed, 0).unwrap(), [3, 1]);
        let failed = [
            record(1, Applied, Migrate, "a"),
            record(3, Failed, Migrate, "c"),
        ];
        assert!(to_undo(&modules, &failed, 0)
            .unwrap_err()
            .contains("repair"));
    }

    #[test]
    fn baseline_and_repair() {
        let modules = [module(1, "a"), module(2, "b"), module(3, "c")];
        let records = [
            record(1, Applied, Migrate, "a"),
            record(2, Failed, Migrate, "b"),
        ];
        assert_eq!(to_baseline(&modules, &records, 2).unwrap(), [2]);
        assert_eq!(to_baseline(&modules, &[], 3).unwrap(), [1, 2, 3]);
        let running = [record(1, Running, Migrate, "a")];
        assert!(to_baseline(&modules, &running, 1).is_err());
        let modified = [record(1, Applied, Migrate, "z")];
        assert!(to_baseline(&modules, &modified, 1)
            .unwrap_err()
            .contains("repair"));
        let records = [
            record(1, Applied, Migrate, "z"),
            record(2, Failed, Undo, "b"),
            record(3, Pending, Migrate, "c"),
            record(9, Failed, Migrate, "q"),
        ];
        assert_eq!(
            repairs(&modules, &records),
            [
                Repair::AcceptChecksum {
                    number: 1,
                    checksum: "a".into()
                },
                Repair::ClearFailed { number: 2 },
                Repair::ClearFailed { number: 9 },
            ]
        );
    }

    fn arb_status() -> impl Strategy<Value = Status> {
        prop_oneof![
            Just(Applied),
            Just(Failed),
            Just(Running),
            Just(RolledBack),
            Just(Pending)
        ]
    }

    proptest! {
        /// Whatever the folder and the records: `run` never runs an applied migration again,
        /// runs in ascending order, and either runs every not-applied module or refuses; the
        /// folder's rows hold every module and every record exactly once.
        #[test]
        fn run_plans_are_sound(
            modules in proptest::collection::btree_map(0u64..12, 0u8..2, 0..8),
            records in proptest::collection::btree_map(
                0u64..12, (arb_status(), any::<bool>(), 0u8..2), 0..8),
            out_of_order in any::<bool>(),
        ) {
            let modules: Vec<_> = modules.iter()
                .map(|(n, c)| module(*n, &c.to_string())).collect();
            let records: Vec<_> = records.iter()
                .map(|(n, (s, undo, c))| record(*n, *s, if *undo { Undo } else { Migrate }, &c.to_string()))
                .collect();
            let all_rows = rows(&modules, &records);
            let mut numbers: Vec<u64> = modules.iter().map(|m| m.number)
                .chain(records.iter().map(|r| r.number)).collect();
            numbers.sort();
            numbers.dedup();
            prop_assert_eq!(all_rows.iter().map(|r| r.number).collect::<Vec<_>>(), numbers);
            match to_run(&modules, &records, out_of_order) {
                Ok(plan) => {
                    prop_assert!(plan.windows(2).all(|w| w[0] < w[1]));
                    for module in &modules {
                        let row = all_rows.iter().find(|r| r.number == module.number).unwrap();
                        prop_assert_eq!(plan.contains(&module.number), row.state != State::Applied);
                        prop_assert!(row.state != State::Modified);
                    }
                }
                Err(_) => prop_assert!(all_rows.iter().any(|r| r.state == State::Modified)
                    || !out_of_order),
            }
            if let Ok(undo) = to_undo(&modules, &records, 0) {
                prop_assert!(undo.windows(2).all(|w| w[0] > w[1]));
                for number in undo {
                    let row = all_rows.iter().find(|r| r.number == number).unwrap();
                    prop_assert!(row.file.is_some());
                    prop_assert!(matches!(row.state, State::Applied | State::Failed | State::Running));
                }
            }
        }
    }
}
