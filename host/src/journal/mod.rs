//! The third stage: the on-disk journal of actions, where the scan's output waits until the
//! apply, and its [`checkpoint`] (how far the scan and the apply got, for a resume).
//!
//! Actions are spooled here instead of memory, so a run's memory does not grow with the
//! number of actions. The file is a header (`DRIFTJ02`) followed by records, each framed as
//! `[payload length: u32 LE][CRC-32 of payload: u32 LE][payload: MessagePack]`. A record's
//! position is its byte offset: the apply (and a later resume) can continue from a position,
//! and a torn or corrupt record is detected and reported with its offset, never applied.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

pub mod checkpoint;

use crate::model::action::Action;
use crate::model::guard::Guard;
use crate::model::item::Item;
use crate::model::source::PageTag;

const MAGIC: &[u8; 8] = b"DRIFTJ02";
/// No record is larger: a length beyond this means the file is corrupt.
const MAX_RECORD: u32 = 64 << 20;

/// What a record holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Entry {
    /// An action to apply.
    Action(Action),
    /// The guest failed on the item, with this error: nothing of the run may be applied.
    Failed(String),
}

/// One journal record: an action (or a failure) and the item that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The key of the scanned item the action came from (for conflict and error reports).
    pub source: Item,
    /// The scan page of that item (`None` when it did not come from a scan).
    pub page: Option<PageTag>,
    /// The action or failure.
    pub entry: Entry,
    /// Live runs: the version of the item the action was computed from, which the write
    /// requires (see [`crate::model::guard`]).
    #[serde(default)]
    pub guard: Option<Guard>,
}

/// Appends records to a new journal file.
pub struct JournalWriter {
    file: BufWriter<File>,
    path: PathBuf,
    position: u64,
    records: u64,
}

impl JournalWriter {
    /// Opens an existing journal to append after its first `records` records, which end at
    /// byte `position`: whatever follows (records written after the last checkpoint, or a torn
    /// write) is cut off.
    pub fn resume(path: &Path, position: u64, records: u64) -> Result<JournalWriter> {
        let reader = JournalReader::open(path)?;
        if position < MAGIC.len() as u64 {
            bail!(
                "{}: position {position} is inside the header",
                path.display()
            );
        }
        let length = reader.file.get_ref().metadata()?.len();
        if length < position {
            bail!(
                "{} is shorter ({length} bytes) than its checkpoint says ({position} bytes)",
                path.display()
            );
        }
        drop(reader);
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open journal {}", path.display()))?;
        file.set_len(position)
            .with_context(|| format!("cannot truncate journal {}", path.display()))?;
        let mut file = BufWriter::with_capacity(1 << 20, file);
        file.seek(SeekFrom::Start(position))?;
        Ok(JournalWriter {
            file,
            path: path.to_owned(),
            position,
            records,
        })
    }

    /// Creates `path` (which must not exist yet) and writes the header.
    pub fn create(path: &Path) -> Result<JournalWriter> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("cannot create journal {}", path.display()))?;
        let mut file = BufWriter::with_capacity(1 << 20, file);
        file.write_all(MAGIC)?;
        Ok(JournalWriter {
            file,
            path: path.to_owned(),
            position: MAGIC.len() as u64,
            records: 0,
        })
    }

    /// Appends one record; returns the position just after it.
    pub fn append(&mut self, record: &Record) -> Result<u64> {
        let payload = rmp_serde::to_vec(record).context("cannot encode a journal record")?;
        let length = u32::try_from(payload.len())
            .ok()
            .filter(|&length| length <= MAX_RECORD)
            .context("journal record too large")?;
        self.file.write_all(&length.to_le_bytes())?;
        self.file
            .write_all(&crc32fast::hash(&payload).to_le_bytes())?;
        self.file.write_all(&payload)?;
        self.position += 8 + payload.len() as u64;
        self.records += 1;
        Ok(self.position)
    }

    /// Records appended so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes and syncs everything appended so far to disk; returns the position it reaches.
    pub fn sync(&mut self) -> Result<u64> {
        self.file.flush()?;
        self.file
            .get_ref()
            .sync_data()
            .with_context(|| format!("cannot sync journal {}", self.path.display()))?;
        Ok(self.position)
    }

    /// Flushes and syncs the file to disk; returns its path.
    pub fn finish(mut self) -> Result<PathBuf> {
        self.sync()?;
        Ok(self.path)
    }
}

/// Reads records back, in order, from a position.
pub struct JournalReader {
    file: BufReader<File>,
    position: u64,
    path: PathBuf,
}

impl JournalReader {
    /// Opens `path` and checks its header.
    pub fn open(path: &Path) -> Result<JournalReader> {
        let mut file = BufReader::with_capacity(
            1 << 20,
            File::open(path).with_context(|| format!("cannot open journal {}", path.display()))?,
        );
        let mut magic = [0u8; 8];
        file.read_exact(&mut magic)
            .ok()
            .filter(|_| &magic == MAGIC)
            .with_context(|| format!("{} is not a drift-host journal", path.display()))?;
        Ok(JournalReader {
            file,
            position: MAGIC.len() as u64,
            path: path.to_owned(),
        })
    }

    /// The position of the first record.
    pub fn start_position() -> u64 {
        MAGIC.len() as u64
    }

    /// Continues from `position`, a value returned by [`JournalWriter::append`] or
    /// [`JournalReader::next_record`].
    pub fn seek(&mut self, position: u64) -> Result<()> {
        self.file.seek(SeekFrom::Start(position))?;
        self.position = position;
        Ok(())
    }

    /// The next record and the position just after it; `None` at the clean end of the file.
    pub fn next_record(&mut self) -> Result<Option<(Record, u64)>> {
        let at = self.position;
        let mut header = [0u8; 8];
        match read_fully(&mut self.file, &mut header)? {
            0 => return Ok(None),
            8 => {}
            _ => bail!(
                "{}: record at byte {at} is cut short (torn write)",
                self.path.display()
            ),
        }
        let length = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
        let checksum = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
        if length > MAX_RECORD {
            bail!(
                "{}: record at byte {at} has an impossible length {length} (corrupt journal)",
                self.path.display()
            );
        }
        let mut payload = vec![0u8; length as usize];
        if read_fully(&mut self.file, &mut payload)? != payload.len() {
            bail!(
                "{}: record at byte {at} is cut short (torn write)",
                self.path.display()
            );
        }
        if crc32fast::hash(&payload) != checksum {
            bail!(
                "{}: record at byte {at} fails its checksum (corrupt journal)",
                self.path.display()
            );
        }
        let record = rmp_serde::from_slice(&payload).with_context(|| {
            format!(
                "{}: record at byte {at} cannot be decoded",
                self.path.display()
            )
        })?;
        self.position = at + 8 + length as u64;
        Ok(Some((record, self.position)))
    }
}

/// Reads until `buf` is full or the file ends; returns how many bytes were read.
fn read_fully(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::action::ActionKind;
    use crate::model::item::Value;
    use drift_value::testing::arb_item;
    use proptest::prelude::*;

    fn record(n: u64, item: Item) -> Record {
        let key: Item = [("id".to_string(), Value::N(n.to_string()))]
            .into_iter()
            .collect();
        Record {
            source: key,
            page: Some(PageTag {
                segment: n as u32 % 3,
                page: n / 3,
            }),
            entry: Entry::Action(Action {
                table: "t".into(),
                kind: ActionKind::Put { item },
                condition: None,
                names: Default::default(),
                values: Item::new(),
            }),
            guard: None,
        }
    }

    fn read_all(path: &Path) -> Result<Vec<Record>> {
        let mut reader = JournalReader::open(path)?;
        let mut out = Vec::new();
        while let Some((record, _)) = reader.next_record()? {
            out.push(record);
        }
        Ok(out)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn records_round_trip(items in proptest::collection::vec(arb_item(), 0..20)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("j");
            let mut writer = JournalWriter::create(&path).unwrap();
            let records: Vec<Record> = items.into_iter().enumerate().map(|(n, i)| record(n as u64, i)).collect();
            for r in &records {
                writer.append(r).unwrap();
            }
            writer.finish().unwrap();
            prop_assert_eq!(read_all(&path).unwrap(), records);
        }
    }

    #[test]
    fn reading_resumes_from_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let mut writer = JournalWriter::create(&path).unwrap();
        let positions: Vec<u64> = (0..5)
            .map(|n| writer.append(&record(n, Item::new())).unwrap())
            .collect();
        writer.finish().unwrap();
        let mut reader = JournalReader::open(&path).unwrap();
        reader.seek(positions[2]).unwrap();
        let (third, _) = reader.next_record().unwrap().unwrap();
        assert_eq!(third.source["id"], Value::N("3".into()));
    }

    #[test]
    fn a_resumed_writer_cuts_off_what_follows_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let mut writer = JournalWriter::create(&path).unwrap();
        let second_end = (0..2)
            .map(|n| writer.append(&record(n, Item::new())).unwrap())
            .last()
            .unwrap();
        writer.append(&record(2, Item::new())).unwrap();
        writer.finish().unwrap();
        // A torn tail, as a crash mid-write leaves it.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&[7, 0, 0]);
        std::fs::write(&path, &bytes).unwrap();

        let mut writer = JournalWriter::resume(&path, second_end, 2).unwrap();
        writer.append(&record(9, Item::new())).unwrap();
        assert_eq!(writer.records(), 3);
        writer.finish().unwrap();
        let ids: Vec<Value> = read_all(&path)
            .unwrap()
            .into_iter()
            .map(|r| r.source["id"].clone())
            .collect();
        assert_eq!(ids, ["0", "1", "9"].map(|n| Value::N(n.into())).to_vec());
        assert!(JournalWriter::resume(&path, bytes.len() as u64 * 2, 3).is_err());
    }

    #[test]
    fn torn_and_corrupt_records_are_reported_with_their_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let mut writer = JournalWriter::create(&path).unwrap();
        let first_end = writer.append(&record(1, Item::new())).unwrap();
        writer.append(&record(2, Item::new())).unwrap();
        writer.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();

        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let error = read_all(&path).unwrap_err().to_string();
        assert!(
            error.ends_with(&format!(
                "record at byte {first_end} is cut short (torn write)"
            )),
            "{error}"
        );

        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 0xff;
        std::fs::write(&path, &flipped).unwrap();
        let error = read_all(&path).unwrap_err().to_string();
        assert!(
            error.ends_with(&format!(
                "record at byte {first_end} fails its checksum (corrupt journal)"
            )),
            "{error}"
        );

        std::fs::write(&path, b"not a journal").unwrap();
        assert!(read_all(&path)
            .unwrap_err()
            .to_string()
            .ends_with("is not a drift-host journal"));
    }
}
