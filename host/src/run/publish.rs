//! Publishing how far a run got: the latest checkpoint's summary copied into the metadata
//! record while a phase works, so that `status` shows it.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use crate::aws::capacity::Capacity;
use crate::journal::checkpoint::{Checkpoint, Phase};
use crate::metadata::{Lease, MetadataTable, MigrationRecord};
use crate::model::counted;
use crate::model::counts::LiveCounts;

/// Where and how often to publish a phase's progress.
#[derive(Clone, Copy)]
pub struct Published<'a> {
    /// The metadata table.
    pub meta: &'a MetadataTable,
    /// The lease that fences every write.
    pub lease: &'a Lease,
    /// The checkpoint file to summarise.
    pub checkpoint: &'a Path,
    /// How often.
    pub every: Duration,
    /// The run's live counters and capacity: what it does now, besides its checkpoint.
    pub live: Option<(&'a LiveCounts, &'a Capacity)>,
}

/// Runs `work`, meanwhile copying the latest checkpoint's summary into the metadata record,
/// `stored` as it is. A write in flight finishes before this returns, so it never lands
/// after the record's next change; it is conditional on the record being `running` anyway.
pub async fn while_publishing<T>(
    work: impl Future<Output = T>,
    published: Published<'_>,
    stored: &MigrationRecord,
) -> T {
    let done = tokio::sync::Notify::new();
    let work = async {
        let result = work.await;
        done.notify_one();
        result
    };
    let publish = async {
        let mut record = stored.clone();
        let mut last: Option<(u64, std::time::Instant)> = None;
        loop {
            tokio::select! {
                _ = done.notified() => return,
                _ = tokio::time::sleep(published.every) => {}
            }
            let Ok(checkpoint) = Checkpoint::load(published.checkpoint) else {
                continue;
            };
            let mut progress = describe(&checkpoint);
            if let Some((counts, capacity)) = published.live {
                progress.push_str(&format!("; now {}", now_doing(counts, capacity, &mut last)));
            }
            record.progress = Some(progress);
            // The record written before stays the condition: only status and run id count.
            if let Err(error) = published
                .meta
                .write(&record, Some(stored), Some(published.lease))
                .await
            {
                tracing::warn!("could not publish progress: {error:#}");
            }
        }
    };
    tokio::join!(work, publish).0
}

/// What the run does now, for `status` from anywhere: its phase and counts, the rate since
/// the last time (`last`), the ETA where the phase knows its end, the units consumed.
fn now_doing(
    counts: &LiveCounts,
    capacity: &Capacity,
    last: &mut Option<(u64, std::time::Instant)>,
) -> String {
    let (done, expected) = counts.progress();
    let now = std::time::Instant::now();
    let mut text = counts.line();
    if let Some((before, at)) = last.replace((done, now)) {
        let seconds = now.duration_since(at).as_secs_f64();
        if seconds > 0.0 && done >= before {
            let rate = (done - before) as f64 / seconds;
            text.push_str(&format!(", {rate:.0}/s"));
            if rate > 0.0 && expected > done {
                let left = ((expected - done) as f64 / rate).round() as u64;
                text.push_str(&format!(", ETA {left} s"));
            }
        }
    }
    let (read, write) = capacity.total();
    text.push_str(&format!(", {read:.0} RCU and {write:.0} WCU consumed"));
    text
}

/// A checkpoint in a few words, for the metadata record and the log: what is checkpointed,
/// which is where a resume starts (the run may have got further since).
pub fn describe(checkpoint: &Checkpoint) -> String {
    match checkpoint.phase {
        Phase::Scan => format!(
            "scan: {} in {} journaled and checkpointed (where a resume starts)",
            counted(checkpoint.items_scanned(), "item"),
            counted(
                checkpoint.segments.iter().map(|s| s.pages).sum::<u64>(),
                "page"
            )
        ),
        Phase::Apply => format!(
            "apply: {} of {} actions settled and checkpointed (where a resume starts)",
            checkpoint.applied.settled(),
            checkpoint.records
        ),
        Phase::CatchUp => format!(
            "catch-up: the journal's {} actions settled; changes read from the stream \
             (where a resume starts is in the stream positions file)",
            checkpoint.records
        ),
    }
}
