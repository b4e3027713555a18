//! Where items come from: a table's parallel scan ([`scan`]) or files in DynamoDB JSON
//! ([`json`]).

pub mod json;
pub mod scan;

use std::fmt;

use crate::item::{to_json_item, Item};
use crate::journal::PageTag;

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
