//! The bottom layer: plain vocabulary every stage shares, with no I/O.
//!
//! - [`item`]: items and values (the shared `drift-value` model) and DynamoDB JSON;
//! - [`action`]: a checked deferred write, and the tables a migration may write to;
//! - [`operation`]: migrate or undo, and where a migration stands;
//! - [`counts`]: one set of counts, and its live (atomic) form;
//! - [`key`]: a key attribute as people write it (`NAME:S|N|B`);
//! - [`names`]: DynamoDB's naming rules for tables and indexes;
//! - [`options`]: the numeric options' ranges and defaults, for the command line and drift.toml;
//! - [`schema`]: a table's key, key types and index keys, as the checks need them;
//! - [`source`]: how a scanned item is named (its key, its scan page);
//! - [`error`]: the typed failures that decide the exit code;
//! - [`stop`]: the shared request to stop, with its reason;
//! - [`fence`]: the permission to send requests while the run holds its lease;
//! - [`guard`]: what a live run's write requires of the item it was computed from.

pub mod action;
pub mod counts;
pub mod error;
pub mod fence;
pub mod guard;
pub mod item;
pub mod key;
pub mod names;
pub mod operation;
pub mod options;
pub mod schema;
pub mod source;
pub mod stop;

/// `n` and `noun`, plural unless `n` is 1: `1 item`, `2 items`, `0 migrations`.
pub fn counted(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

/// Now, as RFC 3339 with seconds.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
