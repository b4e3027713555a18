//! The last stage: the metadata table. One [`record`] per migration (number, name, checksum,
//! status, times, counts, last error), read and written through [`table`], and the [`lock`]
//! that lets one run at a time work on it.
//!
//! Every status change is a conditional write on the record's previous `status` and
//! `run_id`, so two runs can never both believe they own a migration, and a record is only
//! marked `applied` by the run that applied it.

pub mod control;
pub mod lock;
pub mod record;
pub mod table;
pub mod workers;

pub use control::Control;
pub use lock::{Lease, LockHolder, SlotProgress, WorkerSlot};
pub use record::MigrationRecord;
pub use table::MetadataTable;

/// Default name of the metadata table.
pub const DEFAULT_TABLE: &str = "drift_migrations";
/// The metadata table's partition key.
const KEY: &str = "id";
