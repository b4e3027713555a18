//! drift-host runs DynamoDB data migrations written as WebAssembly components.
//!
//! The data path reads in one direction, and so do the modules: each imports only the layers
//! below it and the stages before it (the architecture test in `tests/all/architecture.rs`
//! keeps it so).
//!
//! ```text
//!   project (a folder of migrations in order, drift.toml, declared tables)
//!    │
//!   run (compose the phases: plan → record → scan → apply → finish)    exec, load
//!    │
//!    ├─ source ──► engine ──► journal ──► apply ──► metadata
//!    │  scan,      pool of    spool +     lanes,    records,
//!    │  pages,     guests     checkpoint  batches,  lease lock
//!    │  stream                            guarded
//!    │
//!   aws (client, retry policy, key schemas, tables, writes, capacity, conversions)
//!   model (items, actions, schemas, operation/status, counts, source keys, errors, stop)   crash,
//!                                                                                          durable
//! ```
//!
//! - [`model`]: plain vocabulary shared by every stage; items are `drift-value`'s, the same
//!   value model the Rust SDK gives migrations.
//! - [`aws`]: everything that talks to DynamoDB directly, under the stages.
//! - [`source`]: where items come from: the parallel scan and its page ledger, DynamoDB JSON,
//!   or a live run's stream of changes.
//! - [`engine`]: loads migration components (the only `bindgen!` is [`engine::bindings`]),
//!   sandboxes them, runs a pool of guests, checks their actions.
//! - [`journal`]: the on-disk journal of actions and its checkpoint.
//! - [`apply`]: applies a journal: lanes, batches, exactly-once writes, the watermark; a live
//!   run's guarded writes.
//! - [`metadata`]: the metadata table's records and its lease lock.
//! - [`run`]: `run` and `undo` composed of phases; [`exec`] runs offline; [`load`] writes
//!   fixtures.
//! - [`project`]: a folder of migrations run in order under one lock, its `drift.toml`,
//!   declared tables, baseline and repair.
//! - [`plan`]: `plan` (what a run would do, writing nothing) and `apply PLAN`.
//! - [`cases`]: `drift-host test`, a migration's fixtures run offline.
//! - [`preview`]: actions applied to items in memory (the after-state of `plan`, `exec --diff`
//!   and `drift-host test`).
//! - [`crash`]: the crash tests' kill hook; [`durable`]: files written aside and renamed.
//!
//! The command line (`src/main.rs`, `src/cli/`) sits on top of all of it.

pub mod apply;
pub mod aws;
pub mod cases;
pub mod crash;
pub mod durable;
pub mod engine;
pub mod exec;
pub mod journal;
pub mod load;
pub mod metadata;
pub mod model;
pub mod plan;
pub mod preview;
pub mod project;
pub mod run;
pub mod source;
