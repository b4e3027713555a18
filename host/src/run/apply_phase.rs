//! The apply phase: finds which tables take batched PartiQL updates, applies the journal from
//! the checkpoint's watermark, saving the watermark as it rises, and, once the whole run is applied,
//! removes the exactly-once markers.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::Result;

use super::RunContext;
use crate::apply::guarded::Live;
use crate::apply::{apply, Applied, ApplyContext, ApplyOptions, Markers, Watermark};
use crate::aws::partiql::{probe, StatementsRefused};
use crate::journal::checkpoint::Checkpoint;
use crate::model::counts::Counts;
use crate::model::stop::StopReason;

/// What the apply phase tells besides its result.
#[derive(Debug, Default)]
pub struct ApplyNotes {
    /// Every action settled, exactly (the watermark's counts and those settled past it).
    pub settled: Counts,
    /// Why updates went as `UpdateItem` instead of batched statements, if they did.
    pub statements_refused: Option<String>,
}

/// Applies `journal` from `checkpoint`'s watermark; `checkpoint` ends at the watermark
/// reached (saved), whatever happened, and `notes` tell what was settled. `resumed`: an
/// earlier attempt of this apply may have written records past the watermark.
pub async fn apply_phase(
    run: &RunContext<'_>,
    journal: &Path,
    checkpoint: &mut Checkpoint,
    resumed: bool,
    notes: &mut ApplyNotes,
    live: Option<Arc<Live>>,
) -> Result<Applied> {
    notes.settled = checkpoint.applied;
    let statement_tables = if run.scan.options.batch_updates && live.is_none() {
        let (tables, refused) = statement_tables(run).await;
        notes.statements_refused = refused;
        tables
    } else {
        BTreeSet::new()
    };
    let settled = checkpoint.applied.applied() + checkpoint.applied.conflicts;
    let left = checkpoint.records.saturating_sub(settled);
    run.scan.counts.expected.store(left, Ordering::Relaxed);
    run.scan.counts.applying.store(true, Ordering::Relaxed);
    let options = run.scan.options;
    let number = run.scan.migration.info.number;
    let checkpoint_path = &Checkpoint::path_for(journal);
    let watermark = Arc::new(Watermark::new(
        checkpoint.applied_position,
        checkpoint.applied,
    ));
    let apply_options = ApplyOptions {
        lanes: options.apply_lanes,
        policy: options.session.policy.clone(),
        capacity: options.capacity.clone(),
        start: checkpoint.applied_position,
        resumed,
        statement_tables,
        repeatable_upserts: checkpoint.repeatable_upserts,
        markers: Markers::new(run.meta.name(), number, &checkpoint.run_id),
        live,
    };
    // Saves the watermark as it rises; a checkpoint that cannot be saved (a full disk) stops
    // the apply: it could not be resumed from where it got.
    let saver = {
        let (watermark, mut checkpoint, path, every, stop) = (
            watermark.clone(),
            checkpoint.clone(),
            checkpoint_path.to_owned(),
            options.checkpoint_every,
            run.scan.stop.clone(),
        );
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            loop {
                ticker.tick().await;
                let (position, counts) = watermark.get();
                if position != checkpoint.applied_position {
                    checkpoint.applied_position = position;
                    checkpoint.applied = counts;
                    if let Err(error) = checkpoint.save(&path) {
                        stop.request(StopReason::StageFailed);
                        return Err::<(), _>(error);
                    }
                    crate::crash::point("apply-checkpoint");
                }
            }
        })
    };
    let context = ApplyContext {
        client: run.scan.client.clone(),
        schemas: run
            .scan
            .schemas
            .iter()
            .map(|(name, schema)| (name.clone(), schema.key.clone()))
            .collect(),
        counts: run.scan.counts.clone(),
        watermark: watermark.clone(),
        stop: run.scan.stop.clone(),
    };
    let applied = apply(journal, &apply_options, context).await;
    notes.settled = watermark.settled();
    saver.abort();
    if let Ok(Err(error)) = saver.await {
        return Err(error);
    }
    (checkpoint.applied_position, checkpoint.applied) = watermark.get();
    checkpoint.save(checkpoint_path)?;
    let applied = applied?;
    if !applied.complete {
        return Ok(applied);
    }
    crate::crash::point("apply-complete");
    Ok(applied)
}

/// Removes every exactly-once marker of the migration (a restarted run's included), once
/// every action of the run is applied.
pub async fn remove_markers(run: &RunContext<'_>) -> Result<()> {
    let number = run.scan.migration.info.number;
    let markers = run
        .meta
        .delete_with_prefix(
            &Markers::migration_prefix(number),
            &run.scan.options.capacity,
        )
        .await?;
    tracing::debug!("removed {markers} exactly-once markers");
    crate::crash::point("markers-removed");
    Ok(())
}

/// The tables of the migration whose server takes our batched `UPDATE` statements (see
/// [`probe`]), and, if some do not, why, said once on stderr.
async fn statement_tables(run: &RunContext<'_>) -> (BTreeSet<String>, Option<String>) {
    let mut taken = BTreeSet::new();
    let mut refused = Vec::new();
    let mut names: Vec<&String> = run.scan.schemas.keys().collect();
    names.sort();
    for name in names {
        match probe(
            run.scan.client,
            &run.scan.options.session.policy,
            &run.scan.schemas[name],
        )
        .await
        {
            Ok(()) => {
                taken.insert(name.clone());
            }
            Err(StatementsRefused(why)) => refused.push(format!("`{name}`: {why}")),
        }
    }
    if refused.is_empty() {
        return (taken, None);
    }
    let message = format!(
        "the server does not take batched PartiQL updates ({}); updates go one by one as \
         UpdateItem",
        refused.join("; ")
    );
    tracing::warn!("{message}");
    (taken, Some(message))
}
