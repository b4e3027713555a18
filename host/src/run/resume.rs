//! Where a run starts: from nothing, or from the checkpoint and journal a dead or stopped
//! run left, read and checked whole before anything is written.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::report::ItemFailure;
use super::FAILURES_REPORTED;
use crate::engine::MigrationInfo;
use crate::journal::checkpoint::{Checkpoint, Phase};
use crate::journal::{Entry, JournalReader};
use crate::metadata::MigrationRecord;
use crate::model::error::refused;
use crate::model::item::to_json_item;
use crate::model::operation::Operation;
use crate::model::source::key_identity;

/// Where a run starts.
pub enum Start {
    /// From nothing.
    Fresh,
    /// From where a dead or stopped run got.
    Resume(Box<Resumed>),
    /// From a plan's finished scan (`drift-host apply`): its checkpoint, in the apply phase
    /// with nothing applied, under this run's id.
    Planned(Checkpoint),
}

/// What a resume found on disk.
pub struct Resumed {
    /// The checkpoint to go on from.
    pub checkpoint: Checkpoint,
    /// Keys of items of pages not counted in the checkpoint that are journaled already.
    pub journaled: HashSet<Vec<u8>>,
    /// Items the guest failed on, journaled before the checkpoint.
    pub errors: u64,
    /// The first of them.
    pub failures: Vec<ItemFailure>,
}

/// The journal of run `run_id` of migration `info`. Only the number, the operation and the
/// run id (a UUID the host made) go into the name: nothing a guest chose reaches the
/// filesystem.
pub fn journal_path(
    work_dir: &Path,
    info: &MigrationInfo,
    operation: Operation,
    run_id: &str,
) -> PathBuf {
    let run_id: String = run_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    work_dir.join(format!(
        "migration-{}-{run_id}.{}.journal",
        info.number,
        operation.as_str()
    ))
}

/// What identifies the run being resumed.
pub struct ResumeOf<'a> {
    /// The migration.
    pub info: &'a MigrationInfo,
    /// The module's checksum.
    pub checksum: &'a str,
    /// `migrate` or `undo`.
    pub operation: Operation,
    /// The scanned table.
    pub table: &'a str,
}

/// Reads the checkpoint and journal a dead or stopped run left, and checks that they belong
/// to `record`. Anything damaged or missing is a refusal here, before anything is written.
pub fn prepare_resume(
    work_dir: &Path,
    of: ResumeOf<'_>,
    record: &MigrationRecord,
) -> Result<Start> {
    let info = of.info;
    let journal = journal_path(work_dir, info, of.operation, &record.run_id);
    let checkpoint_path = Checkpoint::path_for(&journal);
    let cannot = |why: String| {
        refused(format!(
            "cannot resume migration {} ({}): {why}; `--restart` runs it again from the start",
            info.number, info.name
        ))
    };
    if !checkpoint_path.exists() {
        return match &record.journal {
            // The run died before its apply started: nothing was written, so it starts over.
            None => Ok(Start::Fresh),
            Some(journal) => Err(cannot(format!(
                "its checkpoint is not in work directory {} (the run wrote {journal}); \
                 point --work-dir at it",
                work_dir.display()
            ))),
        };
    }
    let checkpoint = Checkpoint::load(&checkpoint_path).map_err(|e| cannot(format!("{e:#}")))?;
    if checkpoint.run_id != record.run_id
        || checkpoint.checksum != of.checksum
        || checkpoint.operation != of.operation
        || checkpoint.table != of.table
    {
        return Err(cannot(format!(
            "checkpoint {} belongs to another run, module or table",
            checkpoint_path.display()
        )));
    }
    let resumed = resume_journal(&journal, checkpoint).map_err(cannot)?;
    Ok(Start::Resume(Box::new(resumed)))
}

/// What `journal` holds up to where `checkpoint` (its own, checked by the caller) says it ends;
/// why it does not match, if it does not.
pub fn resume_journal(journal: &Path, checkpoint: Checkpoint) -> Result<Resumed, String> {
    let mut resumed = Resumed {
        journaled: HashSet::new(),
        errors: 0,
        failures: Vec::new(),
        checkpoint,
    };
    read_journal(journal, &mut resumed)?;
    Ok(resumed)
}

/// Reads the journal back to where the checkpoint says it ends, gathering the failures and
/// the keys of items journaled in pages the checkpoint does not count; says why it does not
/// match the checkpoint, if it does not.
fn read_journal(journal: &Path, resumed: &mut Resumed) -> Result<(), String> {
    let mut reader = JournalReader::open(journal).map_err(|e| format!("{e:#}"))?;
    let checkpoint = &resumed.checkpoint;
    // The scan phase's journal ends where its checkpoint says (what follows is cut off); the
    // apply phase's is complete, and must read back whole before a single write.
    let end = match checkpoint.phase {
        Phase::Scan => checkpoint.journal_position,
        Phase::Apply | Phase::CatchUp => u64::MAX,
    };
    let (mut position, mut records) = (JournalReader::start_position(), 0u64);
    while position < end {
        let Some((record, next)) = reader.next_record().map_err(|e| format!("{e:#}"))? else {
            break;
        };
        position = next;
        records += 1;
        if let Entry::Failed(error) = &record.entry {
            resumed.errors += 1;
            if resumed.failures.len() < FAILURES_REPORTED {
                resumed.failures.push(ItemFailure {
                    key: to_json_item(&record.source),
                    error: error.clone(),
                });
            }
        }
        let uncommitted = record.page.is_some_and(|tag| {
            checkpoint
                .segments
                .get(tag.segment as usize)
                .is_some_and(|segment| tag.page >= segment.pages)
        });
        if uncommitted {
            resumed.journaled.insert(key_identity(&record.source));
        }
    }
    let expected_end = match checkpoint.phase {
        Phase::Scan => checkpoint.journal_position,
        Phase::Apply | Phase::CatchUp => position,
    };
    if position != expected_end || records != checkpoint.records {
        return Err(format!(
            "journal {} holds {records} records ({position} bytes), its checkpoint says {} \
             ({} bytes)",
            journal.display(),
            checkpoint.records,
            checkpoint.journal_position
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_names_hold_nothing_a_guest_chose() {
        let info = MigrationInfo {
            number: 7,
            name: "../../etc/x".into(),
            description: String::new(),
            table: "t".into(),
            other_tables: vec![],
        };
        let path = journal_path(Path::new("/w"), &info, Operation::Undo, "ab-12/../c");
        assert_eq!(path, Path::new("/w/migration-7-ab-12c.undo.journal"));
    }
}
