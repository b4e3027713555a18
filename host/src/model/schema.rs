//! A table as the checks before any write need it: its primary key, the declared types of its
//! key attributes, and the keys of its secondary indexes (read once per run from
//! `DescribeTable`, see `aws::table`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use super::item::{Item, Value};

/// The schema of every table a migration may write to, by name.
pub type Schemas = HashMap<String, TableSchema>;

/// A table's primary key attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchema {
    /// Partition key attribute.
    pub hash: String,
    /// Sort key attribute, if the table has one.
    pub range: Option<String>,
}

impl KeySchema {
    /// The key attributes of `item`, or `None` if one is missing.
    pub fn key_of(&self, item: &Item) -> Option<Item> {
        let mut key = Item::new();
        key.insert(self.hash.clone(), item.get(&self.hash)?.clone());
        if let Some(range) = &self.range {
            key.insert(range.clone(), item.get(range)?.clone());
        }
        Some(key)
    }

    /// Whether `key` has exactly this schema's attributes.
    pub fn matches(&self, key: &Item) -> bool {
        key.len() == 1 + self.range.is_some() as usize
            && key.contains_key(&self.hash)
            && self.range.as_ref().is_none_or(|r| key.contains_key(r))
    }

    /// The key attributes, partition key first.
    pub fn attributes(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.as_str()).chain(self.range.as_deref())
    }

    /// Whether `name` is one of the key attributes.
    pub fn is_key(&self, name: &str) -> bool {
        self.attributes().any(|a| a == name)
    }

    /// The key attributes as people read them: `` `id` `` or `` `pk`, `sk` ``.
    pub fn describe(&self) -> String {
        self.attributes()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The type a key attribute is declared with (`AttributeDefinitions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl ScalarType {
    /// `S`, `N` or `B` as DynamoDB spells them; `None` for anything else.
    pub fn parse(text: &str) -> Option<ScalarType> {
        match text {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }

    /// Whether `value` is of this type.
    pub fn holds(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (ScalarType::S, Value::S(_))
                | (ScalarType::N, Value::N(_))
                | (ScalarType::B, Value::B(_))
        )
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        })
    }
}

/// The key of a global or local secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSchema {
    /// The index's name.
    pub name: String,
    /// Its key attributes.
    pub key: KeySchema,
    /// For a local index, what its entries hold: an item and its entry in each local index
    /// must fit in 400 KB together. `None` for a global index, whose entries do not count.
    pub local: Option<Projection>,
}

/// Provisioned read and write capacity units (`RCU,WCU` in drift.toml and on the command
/// line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Throughput {
    /// Read capacity units.
    pub read: i64,
    /// Write capacity units.
    pub write: i64,
}

impl FromStr for Throughput {
    type Err = String;

    fn from_str(text: &str) -> Result<Throughput, String> {
        let parse = |v: &str| v.trim().parse::<i64>().ok().filter(|n| *n > 0);
        match text.split_once(',') {
            Some((read, write)) => match (parse(read), parse(write)) {
                (Some(read), Some(write)) => Ok(Throughput { read, write }),
                _ => Err(format!(
                    "`{text}`: capacity units are positive whole numbers"
                )),
            },
            None => Err(format!("`{text}`: expected RCU,WCU (e.g. 5,5)")),
        }
    }
}

/// How a table is billed: on demand, or with provisioned capacity (`on-demand`,
/// `provisioned:RCU,WCU` in drift.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Billing {
    /// `on-demand`.
    #[default]
    OnDemand,
    /// `provisioned:RCU,WCU`.
    Provisioned(Throughput),
}

impl FromStr for Billing {
    type Err = String;

    fn from_str(text: &str) -> Result<Billing, String> {
        match text.split_once(':') {
            _ if text == "on-demand" => Ok(Billing::OnDemand),
            Some(("provisioned", units)) => Ok(Billing::Provisioned(units.parse()?)),
            _ => Err(format!(
                "`{text}`: expected \"on-demand\" or \"provisioned:RCU,WCU\""
            )),
        }
    }
}

impl fmt::Display for Billing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Billing::OnDemand => f.write_str("on-demand"),
            Billing::Provisioned(c) => write!(f, "provisioned:{},{}", c.read, c.write),
        }
    }
}

/// What the entries of an index hold besides the keys (in drift.toml: `"keys"`, `"all"` or a
/// list of attribute names).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub enum Projection {
    /// `keys`: the keys alone.
    KeysOnly,
    /// `all`: every attribute.
    #[default]
    All,
    /// A list of attribute names: the keys and these.
    Include(Vec<String>),
}

impl fmt::Display for Projection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Projection::KeysOnly => f.write_str("keys"),
            Projection::All => f.write_str("all"),
            Projection::Include(names) => write!(f, "[{}]", names.join(", ")),
        }
    }
}

/// What the checks know of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    /// The table's name.
    pub name: String,
    /// Its primary key.
    pub key: KeySchema,
    /// The declared type of every key attribute, the indexes' included.
    pub types: BTreeMap<String, ScalarType>,
    /// Its global and local secondary indexes.
    pub indexes: Vec<IndexSchema>,
}

impl TableSchema {
    /// A table with `key` alone (no declared types, no indexes): what is known offline.
    pub fn keys_only(name: impl Into<String>, key: KeySchema) -> TableSchema {
        TableSchema {
            name: name.into(),
            key,
            types: BTreeMap::new(),
            indexes: Vec::new(),
        }
    }

    /// The size of `item`'s entry in local index `index` (`None` if the item is not in it: it
    /// lacks the index's sort key, or the index is global).
    pub fn local_entry_size(&self, index: &IndexSchema, item: &Item) -> Option<usize> {
        let projection = index.local.as_ref()?;
        let range = index.key.range.as_deref()?;
        item.get(range)?;
        let size_of = |names: &mut dyn Iterator<Item = &str>| -> usize {
            let mut seen = std::collections::BTreeSet::new();
            names
                .filter(|name| seen.insert(*name))
                .filter_map(|name| Some(name.len() + item.get(name)?.size()))
                .sum()
        };
        let keys = || self.key.attributes().chain(index.key.attributes());
        Some(match projection {
            Projection::All => item.size(),
            Projection::KeysOnly => size_of(&mut keys()),
            Projection::Include(names) => {
                size_of(&mut keys().chain(names.iter().map(String::as_str)))
            }
        })
    }

    /// The index whose key includes `attribute`, if any (the first, when several do).
    pub fn index_with(&self, attribute: &str) -> Option<&IndexSchema> {
        self.indexes
            .iter()
            .find(|index| index.key.is_key(attribute))
    }
}
