//! A live run's second source: the changes made to the table while it runs, read from its
//! stream from positions noted before the scan.
//!
//! A shard's position can only be written down as a sequence number, and there is none until
//! a record arrives. So before the scan, each open shard gets a `LATEST` iterator, which the
//! [`StreamWatch`] polls until the shard's first record: from then on the shard's position is
//! that record's sequence number, kept in the positions file next to the journal. A run
//! resumed before a shard's first record was seen reads that shard from its oldest record,
//! leaving out those made more than [`CLOCK_MARGIN`] before the positions were noted (that
//! margin covers this machine's clock being off, which AWS's request signing bounds to five
//! minutes). Shards created after the positions were noted (a split) are read whole.
//!
//! The catch-up reads with a [`ChangeReader`]; a shard's position advances once every change
//! it read is migrated, so a run killed at any point misses nothing when resumed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::aws::retry::RetryPolicy;
use crate::aws::stream::{
    records, shard_iterator, shards, Change, ShardError, ShardStart, StreamsClient,
};
use crate::durable::save_atomically;
use crate::model::guard::GuardMode;

/// Changes made this long before the positions were noted are still read from a shard whose
/// first record was not seen (see the module's note).
pub const CLOCK_MARGIN: Duration = Duration::from_secs(300);
/// How long a stream keeps its records.
const STREAM_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// How often the watch polls the shards that have shown no record yet.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Where the catch-up reads each shard from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShardPosition {
    /// Open when the positions were noted, no record seen since.
    SinceNoted,
    /// Created after the positions were noted: from its first record.
    Whole,
    /// From this record (the shard's first after the positions were noted).
    At(String),
    /// After this record (the last one migrated).
    After(String),
    /// Nothing more to read (closed when noted, or read to its end).
    Done,
}

/// The stream positions of a live run, as saved next to its journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamPositions {
    /// The stream's ARN.
    pub arn: String,
    /// When the positions were noted (seconds since the epoch).
    pub noted_at: f64,
    /// How the run guards its writes (a resume must guard them alike).
    pub mode: GuardMode,
    /// Each shard's position.
    pub shards: BTreeMap<String, ShardPosition>,
}

impl StreamPositions {
    /// The positions file of `journal`.
    pub fn path_for(journal: &Path) -> PathBuf {
        let mut name = journal.as_os_str().to_owned();
        name.push(".stream");
        PathBuf::from(name)
    }

    /// Reads a positions file; `None` if there is none.
    pub fn load(path: &Path) -> Result<Option<StreamPositions>> {
        match std::fs::read(path) {
            Ok(text) => Ok(Some(serde_json::from_slice(&text).with_context(|| {
                format!("stream positions {} are corrupt", path.display())
            })?)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes the positions atomically and durably.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_atomically(path, &serde_json::to_vec_pretty(self)?)
    }
}

/// Seconds since the epoch, now.
pub fn epoch_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The state the watch and the catch-up share.
struct Shared {
    positions: StreamPositions,
    /// `LATEST` iterators of the shards still [`ShardPosition::SinceNoted`].
    iterators: HashMap<String, String>,
    path: PathBuf,
}

/// Notes the stream's positions before the scan and keeps them until the catch-up.
pub struct StreamWatch {
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl StreamWatch {
    /// Notes the positions of the stream `arn` now (saved at `path`) and starts watching the
    /// open shards for their first record.
    pub async fn note(
        streams: &StreamsClient,
        policy: &RetryPolicy,
        arn: &str,
        mode: GuardMode,
        path: &Path,
    ) -> Result<StreamWatch> {
        let noted_at = epoch_seconds();
        let mut positions = StreamPositions {
            arn: arn.to_owned(),
            noted_at,
            mode,
            shards: BTreeMap::new(),
        };
        let mut iterators = HashMap::new();
        for shard in shards(streams, policy, arn).await? {
            let position = if shard.closed {
                ShardPosition::Done
            } else {
                match shard_iterator(streams, policy, arn, &shard.id, &ShardStart::Latest).await? {
                    Some(iterator) => {
                        iterators.insert(shard.id.clone(), iterator);
                        ShardPosition::SinceNoted
                    }
                    None => ShardPosition::Done,
                }
            };
            positions.shards.insert(shard.id, position);
        }
        positions.save(path)?;
        Ok(StreamWatch::start(
            streams, policy, positions, iterators, path,
        ))
    }

    /// Resumes with `positions` as saved (no iterators: what was not seen is read again).
    pub fn resume(
        streams: &StreamsClient,
        policy: &RetryPolicy,
        positions: StreamPositions,
        path: &Path,
    ) -> StreamWatch {
        StreamWatch::start(streams, policy, positions, HashMap::new(), path)
    }

    fn start(
        streams: &StreamsClient,
        policy: &RetryPolicy,
        positions: StreamPositions,
        iterators: HashMap<String, String>,
        path: &Path,
    ) -> StreamWatch {
        let shared = Arc::new(Mutex::new(Shared {
            positions,
            iterators,
            path: path.to_owned(),
        }));
        let task = {
            let (shared, streams, policy) = (shared.clone(), streams.clone(), policy.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(WATCH_EVERY).await;
                    if let Err(error) = watch_once(&shared, &streams, &policy).await {
                        tracing::debug!("stream watch: {error:#}");
                    }
                }
            })
        };
        StreamWatch { shared, task }
    }

    /// Stops watching and hands the positions (and the iterators still useful) to the
    /// catch-up.
    pub fn into_reader(self, streams: &StreamsClient, policy: &RetryPolicy) -> ChangeReader {
        self.task.abort();
        let shared = self.shared.lock().expect("stream watch lock");
        ChangeReader {
            streams: streams.clone(),
            policy: policy.clone(),
            positions: shared.positions.clone(),
            iterators: shared.iterators.clone(),
            path: shared.path.clone(),
        }
    }
}

impl Drop for StreamWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Polls each shard that has shown no record yet; notes the first record's position.
async fn watch_once(
    shared: &Mutex<Shared>,
    streams: &StreamsClient,
    policy: &RetryPolicy,
) -> Result<()> {
    let waiting: Vec<(String, String)> = {
        let shared = shared.lock().expect("stream watch lock");
        shared
            .iterators
            .iter()
            .map(|(s, i)| (s.clone(), i.clone()))
            .collect()
    };
    for (shard, iterator) in waiting {
        let read = match records(streams, policy, &iterator).await {
            Ok(read) => read,
            Err(ShardError::Expired | ShardError::Trimmed) => {
                // Read from the oldest record instead, as after a resume.
                shared
                    .lock()
                    .expect("stream watch lock")
                    .iterators
                    .remove(&shard);
                continue;
            }
            Err(ShardError::Other(error)) => return Err(error),
        };
        let mut shared = shared.lock().expect("stream watch lock");
        let position = match (read.changes.first(), &read.next) {
            (Some(first), _) => ShardPosition::At(first.sequence.clone()),
            (None, Some(next)) => {
                shared.iterators.insert(shard, next.clone());
                continue;
            }
            (None, None) => ShardPosition::Done,
        };
        shared.iterators.remove(&shard);
        shared.positions.shards.insert(shard, position);
        shared.positions.save(&shared.path)?;
    }
    Ok(())
}

/// One read of one shard.
pub struct ShardRead {
    /// The shard.
    pub shard: String,
    /// Its changes, in order.
    pub changes: Vec<Change>,
    /// Where it stands once these changes are migrated.
    pub next: ShardPosition,
    /// Where to read next without asking again (the answer's next iterator).
    iterator: Option<String>,
}

/// Reads the changes from the noted positions on, and saves how far the catch-up got.
pub struct ChangeReader {
    streams: StreamsClient,
    policy: RetryPolicy,
    positions: StreamPositions,
    iterators: HashMap<String, String>,
    path: PathBuf,
}

impl ChangeReader {
    /// Finds shards created since the positions were noted (read whole) and marks them.
    pub async fn discover(&mut self) -> Result<()> {
        let found = shards(&self.streams, &self.policy, &self.positions.arn).await?;
        let mut added = false;
        for shard in found {
            if let std::collections::btree_map::Entry::Vacant(entry) =
                self.positions.shards.entry(shard.id)
            {
                entry.insert(ShardPosition::Whole);
                added = true;
            }
        }
        if added {
            self.positions.save(&self.path)?;
        }
        Ok(())
    }

    /// One read of every shard with something left to read (at most a page each).
    pub async fn read(&mut self) -> Result<Vec<ShardRead>> {
        let mut reads = Vec::new();
        let open: Vec<(String, ShardPosition)> = self
            .positions
            .shards
            .iter()
            .filter(|(_, p)| **p != ShardPosition::Done)
            .map(|(s, p)| (s.clone(), p.clone()))
            .collect();
        for (shard, position) in open {
            if let Some(read) = self.read_shard(shard, position).await? {
                reads.push(read);
            }
        }
        Ok(reads)
    }

    /// One read of `shard` from `position` (or from where the last read ended); `None` if
    /// its iterator expired (asked again from the position next time).
    async fn read_shard(
        &mut self,
        shard: String,
        position: ShardPosition,
    ) -> Result<Option<ShardRead>> {
        let mut kept = self.iterators.remove(&shard);
        loop {
            let from_latest = kept.is_some() && position == ShardPosition::SinceNoted;
            let iterator = match kept.take() {
                Some(iterator) => Some(iterator),
                None => self.iterator(&shard, &position).await?,
            };
            let Some(iterator) = iterator else {
                return Ok(Some(ShardRead {
                    shard,
                    changes: Vec::new(),
                    next: ShardPosition::Done,
                    iterator: None,
                }));
            };
            let read = match records(&self.streams, &self.policy, &iterator).await {
                Ok(read) => read,
                Err(ShardError::Expired) => return Ok(None),
                // DynamoDB Local refuses a `LATEST` iterator once other streams' records moved
                // its sequence numbers on: read the shard from its oldest record instead, the
                // changes before the positions were noted left out, as after a resume.
                Err(ShardError::Trimmed) if from_latest => continue,
                Err(error) => {
                    tracing::warn!(shard, ?position, "reading the stream failed: {error}");
                    return Err(self.unreadable(error));
                }
            };
            let mut changes = read.changes;
            if position == ShardPosition::SinceNoted {
                let since = self.positions.noted_at - CLOCK_MARGIN.as_secs_f64();
                changes.retain(|change| change.created >= since);
            }
            let next = match (read.next.is_some(), changes.last()) {
                (false, _) => ShardPosition::Done,
                (true, Some(last)) => ShardPosition::After(last.sequence.clone()),
                (true, None) => position.clone(),
            };
            return Ok(Some(ShardRead {
                shard,
                changes,
                next,
                iterator: read.next,
            }));
        }
    }

    /// The changes of `read` are migrated: its shard advances (saved) past them.
    pub fn done(&mut self, read: ShardRead) -> Result<()> {
        if let Some(iterator) = read.iterator {
            self.iterators.insert(read.shard.clone(), iterator);
        }
        if self.positions.shards.get(&read.shard) != Some(&read.next) {
            self.positions.shards.insert(read.shard, read.next);
            self.positions.save(&self.path)?;
        }
        Ok(())
    }

    /// An iterator for `shard` from `position`.
    async fn iterator(&self, shard: &str, position: &ShardPosition) -> Result<Option<String>> {
        let start = match position {
            // The oldest record kept may be newer than the moment the positions were noted:
            // the changes in between would be missed without a word.
            ShardPosition::SinceNoted
                if epoch_seconds() - self.positions.noted_at
                    > (STREAM_RETENTION - CLOCK_MARGIN).as_secs_f64() =>
            {
                return Err(self.unreadable(ShardError::Trimmed));
            }
            ShardPosition::SinceNoted | ShardPosition::Whole => ShardStart::TrimHorizon,
            ShardPosition::At(sequence) => ShardStart::At(sequence.clone()),
            ShardPosition::After(sequence) => ShardStart::After(sequence.clone()),
            ShardPosition::Done => return Ok(None),
        };
        shard_iterator(
            &self.streams,
            &self.policy,
            &self.positions.arn,
            shard,
            &start,
        )
        .await
        .map_err(|error| {
            tracing::warn!(shard, ?start, "no iterator on the stream: {error}");
            self.unreadable(error)
        })
    }

    fn unreadable(&self, error: ShardError) -> anyhow::Error {
        match error {
            ShardError::Trimmed => anyhow::anyhow!(
                "the stream no longer holds the changes made since {} (a stream keeps them 24 \
                 hours): this live run cannot catch up; start it over with --restart",
                humantime::format_rfc3339_seconds(
                    UNIX_EPOCH + Duration::from_secs_f64(self.positions.noted_at.max(0.0))
                )
            ),
            other => anyhow::Error::new(other),
        }
    }
}

/// Checks that resumed positions suit this run.
pub fn check_resumed(positions: &StreamPositions, arn: &str, mode: &GuardMode) -> Result<()> {
    if positions.arn != arn {
        bail!(
            "the table's stream changed since this live run started (it was {}): the changes \
             since then cannot be read; start it over with --restart",
            positions.arn
        );
    }
    if &positions.mode != mode {
        bail!(
            "this live run started with writes guarded by {}: resume it alike",
            match &positions.mode {
                GuardMode::Image => "the whole item (no --version-attribute)".to_owned(),
                GuardMode::Version(name) => format!("--version-attribute {name}"),
            }
        );
    }
    Ok(())
}
