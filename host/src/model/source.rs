//! How a scanned item is named: its primary key, and the scan page it came from.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::item::{to_json_item, Item};

/// Which scan page an item came from: segment, and the page's number within the segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageTag {
    /// Parallel scan segment.
    pub segment: u32,
    /// Page number within the segment, from 0.
    pub page: u64,
}

/// A scanned item's primary key: how an item is named in errors, logs and conflicts.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceKey(pub Item);

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", to_json_item(&self.0))
    }
}

/// A scanned item's key and the scan page it came from: how the pool tags a scanned item.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanTag {
    /// The item's key.
    pub key: SourceKey,
    /// Its page.
    pub page: PageTag,
}

impl fmt::Display for ScanTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.key.fmt(f)
    }
}

/// How an item's key is compared with the keys already journaled (byte-equal encodings).
pub fn key_identity(key: &Item) -> Vec<u8> {
    rmp_serde::to_vec(key).expect("an item encodes")
}
