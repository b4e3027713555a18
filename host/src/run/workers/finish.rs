//! The end of a multi-worker run: the worker that finds every segment applied records the run
//! `applied`; a failure is recorded `failed` by whichever worker meets it first; each worker
//! reports the run's outcome, and the last ones let the lock go.

use std::time::Instant;

use anyhow::{anyhow, Result};

use super::{succeeded, total, Ended, Worker};
use crate::metadata::workers::SegmentClaim;
use crate::metadata::MigrationRecord;
use crate::model::error::{RunError, EXIT_FAILED, EXIT_OK, EXIT_WORKER_STOPPED};
use crate::model::now;
use crate::model::operation::Status;
use crate::run::apply_phase::remove_markers;
use crate::run::finish::{ending, Done};
use crate::run::report::{peak_rss_bytes, RunReport};
use crate::run::RunContext;

impl Worker<'_> {
    fn context(&self) -> RunContext<'_> {
        RunContext {
            scan: self.scan,
            meta: self.meta,
            lease: self.lease,
            run_id: self.coordination.run_id().to_owned(),
            stream: None,
        }
    }

    /// Records the run `applied` (`rolled_back` for an undo) now that every segment is:
    /// removes the exactly-once markers first (as a single run does), then the coordination
    /// items. Another worker may get there first: then its record is the run's end.
    pub(super) async fn finalize(&self, claims: &[SegmentClaim]) -> Result<Ended> {
        if let Some(ended) = self.ended().await? {
            return Ok(ended);
        }
        remove_markers(&self.context()).await?;
        let (counts, actions) = total(claims);
        let number = self.scan.migration.info.number;
        let stored = self
            .meta
            .get(number)
            .await?
            .ok_or_else(|| anyhow!("the record of migration {number} vanished"))?;
        let done = Done {
            counts,
            journaled: actions,
        };
        let mut record = stored.clone();
        record.status = ending(self.scan.options.operation, Ok(()), done).status;
        record.finished_at = Some(now());
        record.counts = counts;
        record.last_error = None;
        record.progress = Some(format!(
            "applied by {} workers over {} segments",
            self.workers, self.segments
        ));
        crate::crash::point("before-final-write");
        if let Err(error) = self
            .meta
            .write(&record, Some(&stored), Some(self.lease))
            .await
        {
            return match self.ended().await? {
                Some(ended) => Ok(ended),
                None => Err(error),
            };
        }
        crate::crash::point("final-written");
        self.clean_up().await;
        Ok(Ended { record, counts })
    }

    /// Removes the run's coordination items (a failure only logged: they are small, and the
    /// next run has a new id).
    async fn clean_up(&self) {
        let removed = self
            .coordination
            .remove(self.workers, self.segments, &self.scan.options.capacity)
            .await;
        if let Err(error) = removed {
            tracing::warn!("{error:#}");
        }
    }

    /// Records how the run ended for this worker, and reports.
    pub(super) async fn finish(
        &self,
        outcome: Result<Ended, RunError>,
        running: &MigrationRecord,
        started: Instant,
    ) -> Result<RunReport> {
        let outcome = match outcome {
            // The lock is let go by the worker that finished the run: this worker's lease
            // ends with it, and the run's record says how the run went.
            Err(RunError::LostLease(why)) => match self.ended_unfenced().await {
                Some(ended) => Ok(ended),
                None => Err(RunError::LostLease(why)),
            },
            outcome => outcome,
        };
        let (record, counts, error) = match outcome {
            Ok(ended) => (Some(ended.record), ended.counts, None),
            Err(error) => {
                let record = self.record_failure(&error).await;
                let counts = record.as_ref().map(|r| r.counts).unwrap_or_default();
                (record, counts, Some(error))
            }
        };
        self.publish("done");
        let ended = record.as_ref().filter(|r| r.status != Status::Running);
        if ended.is_none() && matches!(error, Some(RunError::Cancelled { .. })) {
            // Stopped alone: its replacement need not wait for the lease to run out.
            if let Err(failed) = self.coordination.give_back(self.index, &self.owner).await {
                tracing::warn!("{failed:#}");
            }
        }
        if ended.is_some() {
            // Nothing of the run is left to do: the lock goes (a worker still winding down
            // finds it gone and stops, as it was going to).
            if let Err(release) = self.lease.release().await {
                tracing::warn!("{release:#}");
            }
        }
        let record = record.unwrap_or_else(|| running.clone());
        let (consumed_rcu, consumed_wcu) = self.scan.options.capacity.total();
        let succeeded = error.is_none() && succeeded(&record);
        let error_line = error.as_ref().map(|e| e.to_string());
        let counts_here = self.scan.counts.as_ref();
        Ok(RunReport {
            migration: self.scan.migration.info.clone(),
            table: self.scan.table.to_owned(),
            checksum: self.scan.migration.checksum.clone(),
            operation: self.scan.options.operation,
            status: record.status,
            succeeded,
            run_id: record.run_id.clone(),
            started_at: record.started_at.clone(),
            finished_at: record.finished_at.clone().unwrap_or_else(now),
            duration_seconds: started.elapsed().as_secs_f64(),
            counts,
            actions_journaled: counts_here
                .journaled
                .load(std::sync::atomic::Ordering::Relaxed),
            updates_batched: counts_here
                .updates_batched
                .load(std::sync::atomic::Ordering::Relaxed),
            updates_single: counts_here
                .updates_single
                .load(std::sync::atomic::Ordering::Relaxed),
            statements_refused: None,
            failures: self.failures.lock().expect("failures").clone(),
            conflicts: Vec::new(),
            error: error_line.or(record.last_error.clone()),
            exit_code: match (&error, record.status) {
                (Some(RunError::Cancelled { .. } | RunError::LostLease(_)), Status::Running) => {
                    EXIT_WORKER_STOPPED
                }
                _ if succeeded => EXIT_OK,
                _ => EXIT_FAILED,
            },
            journal: None,
            peak_rss_bytes: peak_rss_bytes(),
            consumed_rcu,
            consumed_wcu,
            requests: crate::aws::client::requests_sent(),
            coordination_requests: crate::metadata::workers::coordination_requests(),
            live: None,
        })
    }

    /// How the run ended, read without this worker's fence, if it ended.
    async fn ended_unfenced(&self) -> Option<Ended> {
        let number = self.scan.migration.info.number;
        let record = self.unfenced.get(number).await.ok().flatten()?;
        let ours = record.run_id == self.coordination.run_id();
        (ours && record.status != Status::Running).then_some(Ended {
            counts: record.counts,
            record,
        })
    }

    /// Writes the record `failed` for a failure of the whole run (items failed, an apply
    /// that failed); a worker that was only stopped itself (cancelled, lost lease) leaves the
    /// record `running` for the others or its replacement. Returns the record as stored.
    async fn record_failure(&self, error: &RunError) -> Option<MigrationRecord> {
        let number = self.scan.migration.info.number;
        let whole_run = matches!(
            error,
            RunError::ItemsFailed { .. } | RunError::PhaseFailed { .. }
        );
        let stored = self.unfenced.get(number).await.ok().flatten()?;
        let ours = stored.run_id == self.coordination.run_id();
        let applying = self
            .coordination
            .shape()
            .await
            .ok()
            .flatten()
            .is_some_and(|s| s.applying);
        if whole_run && ours && !applying {
            // Nothing was written: the next run starts afresh, so this worker's journals of
            // the run are of no use.
            self.remove_journals();
        }
        if !whole_run || !ours || stored.status != Status::Running {
            return Some(stored);
        }
        let claims = self
            .coordination
            .claims(self.segments)
            .await
            .unwrap_or_default();
        let (counts, actions) = total(&claims);
        let done = Done {
            counts,
            journaled: actions,
        };
        let ending = ending(self.scan.options.operation, Err(error), done);
        let mut record = stored.clone();
        record.status = ending.status;
        record.finished_at = Some(now());
        record.last_error = ending.last_error;
        record.counts = counts;
        record.counts.errors = record.counts.errors.max(self.errors_seen());
        match self
            .meta
            .write(&record, Some(&stored), Some(self.lease))
            .await
        {
            Ok(()) => Some(record),
            Err(_) => self.meta.get(number).await.ok().flatten(),
        }
    }

    fn errors_seen(&self) -> u64 {
        self.scan
            .counts
            .errors
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Removes every journal (and checkpoint) of this run in this worker's work directory.
    fn remove_journals(&self) {
        let run_id: String = self
            .coordination
            .run_id()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let prefix = format!("migration-{}-{run_id}-s", self.scan.migration.info.number);
        let Ok(entries) = std::fs::read_dir(&self.work_dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
