//! How a scanned item is named: its primary key, and the scan page it came from.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::guard::Guard;
use super::item::{canonical_number, to_json_item, Item, Value};

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
    /// Live runs: the item's guard, taken as it was read.
    pub guard: Option<Guard>,
}

impl fmt::Display for ScanTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.key.fmt(f)
    }
}

/// A key's identity: equal for two keys exactly when DynamoDB takes them for the same item.
/// Numbers are compared by value (`N "1"`, `N "1.0"` and `N "10E-1"` are one key), so that
/// actions on one item share an apply lane, never meet in one batch, and a resumed scan
/// recognises the items it journaled already.
pub fn key_identity(key: &Item) -> Vec<u8> {
    let canonical: Item = key
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::N(n) => Value::N(canonical_number(n).unwrap_or_else(|_| n.clone())),
                other => other.clone(),
            };
            (name.clone(), value)
        })
        .collect();
    rmp_serde::to_vec(&canonical).expect("an item encodes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_keys_are_one_key_whatever_their_spelling() {
        let key = |n: &str| Item::new().with("id", Value::N(n.into()));
        assert_eq!(key_identity(&key("1")), key_identity(&key("1.0")));
        assert_eq!(key_identity(&key("1")), key_identity(&key("10E-1")));
        assert_ne!(key_identity(&key("1")), key_identity(&key("2")));
        let text = Item::new().with("id", "1");
        assert_ne!(key_identity(&key("1")), key_identity(&text));
    }
}
