//! `--live`: a run on a table the application keeps writing.
//!
//! Before the scan, the table's stream positions are noted ([`StreamWatch`]). The scan
//! journals each item's guard with its actions; the apply writes them guarded
//! ([`crate::apply::guarded`]): an item written since it was scanned is read and migrated
//! again. Then the catch-up reads every change made since the positions were noted, migrates
//! each item written (its image in the stream) and writes its actions guarded too; removed
//! items are left alone. It ends once a read finds nothing and the stream has been quiet for
//! `--live-quiet`, or, with `--follow`, once a SIGTERM came and what was left is read.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use tokio::task::JoinSet;

use super::scan_phase::guest_context;
use super::settings::LiveOptions;
use super::RunContext;
use crate::apply::guarded::{Live, Start};
use crate::apply::identity;
use crate::aws::retry::RetryPolicy;
use crate::aws::stream::{
    connect_streams, enable_stream, table_stream, Change, StreamsClient, TableStream,
};
use crate::engine::Migrator;
use crate::model::counts::Counts;
use crate::model::error::refused;
use crate::model::stop::StopReason;
use crate::source::changes::{check_resumed, epoch_seconds, StreamPositions, StreamWatch};
use aws_sdk_dynamodb::Client;

/// How long the catch-up waits between reads of a quiet stream.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// How often the catch-up looks for new shards (a split) besides when a shard closes.
const DISCOVER_EVERY: Duration = Duration::from_secs(10);

/// The stream of `table` for a live run: found, or enabled if `options` ask; refused with
/// how to enable it otherwise (nothing is written before).
pub async fn table_stream_for(
    client: &Client,
    policy: &RetryPolicy,
    table: &str,
    options: &LiveOptions,
) -> Result<TableStream> {
    let stream = match table_stream(client, policy, table).await? {
        Some(stream) => stream,
        None if options.enable_stream => {
            tracing::info!("enabling a NEW_AND_OLD_IMAGES stream on `{table}`");
            enable_stream(client, policy, table).await?
        }
        None => {
            return Err(refused(format!(
                "--live needs a stream on `{table}` to catch up the changes made during the run, \
                 and it has none: add --enable-stream (NEW_AND_OLD_IMAGES), or run `aws dynamodb \
                 update-table --table-name {table} --stream-specification \
                 StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES`"
            )))
        }
    };
    if !stream.has_new_images() {
        return Err(refused(format!(
            "the stream of `{table}` records {} only: --live needs the items as written \
             (NEW_IMAGE or NEW_AND_OLD_IMAGES); change its view type, or disable it and use \
             --enable-stream",
            stream.view
        )));
    }
    Ok(stream)
}

/// A live run's stream side, from before the scan to the end of the catch-up.
pub struct LiveRun {
    streams: StreamsClient,
    watch: StreamWatch,
    options: LiveOptions,
}

impl LiveRun {
    /// Notes the stream's positions (or takes those a resumed run saved) before anything is
    /// read from the table; `scanning`: the scan is still to do (else the positions must be
    /// there: the changes since the scan started can be found nowhere else).
    pub async fn start(
        run: &RunContext<'_>,
        stream: &TableStream,
        journal: &Path,
        scanning: bool,
    ) -> Result<LiveRun> {
        let options = run
            .scan
            .options
            .live
            .clone()
            .ok_or_else(|| anyhow!("not a live run"))?;
        let policy = &run.scan.options.session.policy;
        let streams = connect_streams(&options.connection).await?;
        let path = StreamPositions::path_for(journal);
        let watch = match StreamPositions::load(&path)? {
            Some(positions) => {
                check_resumed(&positions, &stream.arn, &options.mode)?;
                StreamWatch::resume(&streams, policy, positions, &path)
            }
            None if scanning => {
                StreamWatch::note(&streams, policy, &stream.arn, options.mode.clone(), &path)
                    .await?
            }
            None => {
                return Err(anyhow!(
                    "the stream positions of this live run ({}) are missing: the changes made \
                     since its scan started cannot be found; start it over with --restart",
                    path.display()
                ))
            }
        };
        Ok(LiveRun {
            streams,
            watch,
            options,
        })
    }

    /// What the apply and the catch-up write with: guests started now (the scan's are gone).
    pub fn guarded(&self, run: &RunContext<'_>) -> Arc<Live> {
        let scan = &run.scan;
        let migrator = Migrator::start(
            scan.migration.clone(),
            scan.options.operation,
            scan.options.concurrency,
            guest_context(&run.scan),
        );
        Arc::new(Live {
            client: scan.client.clone(),
            policy: scan.options.session.policy.clone(),
            capacity: scan.options.capacity.clone(),
            schemas: scan
                .schemas
                .iter()
                .map(|(name, schema)| (name.clone(), schema.key.clone()))
                .collect(),
            table: scan.table.to_owned(),
            mode: self.options.mode.clone(),
            migrator: Arc::new(migrator),
            counts: scan.counts.clone(),
            written: Default::default(),
        })
    }

    /// Reads the changes since the positions were noted and migrates each item written,
    /// until the stream is quiet (or, with `--follow`, until a SIGTERM and what was left).
    /// Adds what it applied to `tally`.
    pub async fn catch_up(
        self,
        run: &RunContext<'_>,
        live: Arc<Live>,
        tally: &mut Counts,
    ) -> Result<()> {
        let policy = &run.scan.options.session.policy;
        let counts = run.scan.counts.clone();
        let stop = run.scan.stop;
        let mut reader = self.watch.into_reader(&self.streams, policy);
        counts.catching_up.store(true, Ordering::Relaxed);
        reader.discover().await?;
        let (mut quiet_since, mut discovered) = (Instant::now(), Instant::now());
        let lanes = run.scan.options.apply_lanes.max(1);
        loop {
            let draining = match stop.reason() {
                None => false,
                Some(StopReason::Cancelled) if self.options.follow => true,
                Some(_) => return Ok(()), // the run reports why it stopped
            };
            let reads = reader.read().await?;
            let mut read_any = false;
            let mut closed = false;
            for read in reads {
                if !read.changes.is_empty() {
                    crate::crash::point("catch-up-changes");
                    read_any = true;
                    counts
                        .changes
                        .fetch_add(read.changes.len() as u64, Ordering::Relaxed);
                    let newest = read.changes.last().map_or(0.0, |c| c.created);
                    let lag = ((epoch_seconds() - newest).max(0.0) * 1000.0) as u64;
                    counts.lag_ms.store(lag, Ordering::Relaxed);
                    migrate_changes(&live, &read.changes, lanes, tally).await?;
                }
                closed |= read.next == crate::source::changes::ShardPosition::Done;
                reader.done(read)?;
                crate::crash::point("catch-up-read");
            }
            if read_any {
                quiet_since = Instant::now();
                continue;
            }
            counts.lag_ms.store(0, Ordering::Relaxed);
            if draining || (!self.options.follow && quiet_since.elapsed() >= self.options.quiet) {
                return Ok(());
            }
            if closed || discovered.elapsed() >= DISCOVER_EVERY {
                reader.discover().await?;
                discovered = Instant::now();
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

/// Migrates the items `changes` wrote (each one's latest image in this read; removed items
/// are left alone), `lanes` at a time.
async fn migrate_changes(
    live: &Arc<Live>,
    changes: &[Change],
    lanes: usize,
    tally: &mut Counts,
) -> Result<()> {
    let mut latest: HashMap<Vec<u8>, &Change> = HashMap::new();
    let mut order = Vec::new();
    for change in changes {
        let key = identity("", &change.key);
        if latest.insert(key.clone(), change).is_none() {
            order.push(key);
        }
    }
    let mut tasks = JoinSet::new();
    for key in order {
        let change = latest[&key];
        let Some(image) = change.image.clone().filter(|_| !change.removed) else {
            continue;
        };
        while tasks.len() >= lanes {
            add(&mut tasks, tally).await?;
        }
        let (live, key) = (live.clone(), change.key.clone());
        tasks.spawn(async move {
            let mut counts = Counts::default();
            live.settle(&key, Start::Item(image), &mut counts).await?;
            Ok::<Counts, anyhow::Error>(counts)
        });
    }
    while !tasks.is_empty() {
        add(&mut tasks, tally).await?;
    }
    Ok(())
}

/// Waits for one of `tasks` and adds its counts to `tally`.
async fn add(tasks: &mut JoinSet<Result<Counts>>, tally: &mut Counts) -> Result<()> {
    if let Some(joined) = tasks.join_next().await {
        let counts = joined.map_err(|e| anyhow!("catch-up task failed: {e}"))??;
        tally.add(&counts);
    }
    Ok(())
}
