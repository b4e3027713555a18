//! DynamoDB values and items as a plain tree: what a migration reads and builds, and what the
//! host journals and writes.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::path::{Path, Segment};

/// One DynamoDB attribute value.
///
/// With feature `serde`, the variant names (`S`, `N`, `B`, `Bool`, `Null`, `Ss`, `Ns`, `Bs`,
/// `L`, `M`) and the byte strings' encoding are those of drift-host's journal: do not rename.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Value {
    /// String (`S`).
    S(String),
    /// Number (`N`) as decimal text; DynamoDB numbers have up to 38 significant digits.
    N(String),
    /// Binary (`B`).
    B(#[cfg_attr(feature = "serde", serde(with = "serde_bytes"))] Vec<u8>),
    /// Boolean (`BOOL`).
    Bool(bool),
    /// Null (`NULL`).
    Null,
    /// String set (`SS`).
    Ss(Vec<String>),
    /// Number set (`NS`), as decimal texts.
    Ns(Vec<String>),
    /// Binary set (`BS`).
    Bs(
        #[cfg_attr(feature = "serde", serde(with = "crate::serde_support::byte_strings"))]
        Vec<Vec<u8>>,
    ),
    /// List (`L`).
    L(Vec<Value>),
    /// Map (`M`).
    M(Item),
}

impl Value {
    /// A number from anything that prints as a decimal (integers, floats, or text like `"1.5e3"`).
    pub fn number(n: impl fmt::Display) -> Value {
        Value::N(n.to_string())
    }

    /// The string, if this is an `S`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::S(s) => Some(s),
            _ => None,
        }
    }

    /// The decimal text, if this is an `N`.
    pub fn as_number(&self) -> Option<&str> {
        match self {
            Value::N(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an `i64`, if this is an `N` holding an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.parse().ok()
    }

    /// The number as an `f64` (possibly rounded), if this is an `N`.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number()?.parse().ok()
    }

    /// The bytes, if this is a `B`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::B(b) => Some(b),
            _ => None,
        }
    }

    /// The boolean, if this is a `BOOL`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether this is `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The elements, if this is an `L`.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::L(l) => Some(l),
            _ => None,
        }
    }

    /// The entries, if this is an `M`.
    pub fn as_map(&self) -> Option<&Item> {
        match self {
            Value::M(m) => Some(m),
            _ => None,
        }
    }

    /// The strings, if this is an `SS`.
    pub fn as_string_set(&self) -> Option<&[String]> {
        match self {
            Value::Ss(s) => Some(s),
            _ => None,
        }
    }

    /// The decimal texts, if this is an `NS`.
    pub fn as_number_set(&self) -> Option<&[String]> {
        match self {
            Value::Ns(s) => Some(s),
            _ => None,
        }
    }

    /// The byte strings, if this is a `BS`.
    pub fn as_binary_set(&self) -> Option<&[Vec<u8>]> {
        match self {
            Value::Bs(s) => Some(s),
            _ => None,
        }
    }

    /// DynamoDB's name for this value's type: `S`, `N`, `B`, `BOOL`, `NULL`, `SS`, `NS`, `BS`, `L`, `M`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::S(_) => "S",
            Value::N(_) => "N",
            Value::B(_) => "B",
            Value::Bool(_) => "BOOL",
            Value::Null => "NULL",
            Value::Ss(_) => "SS",
            Value::Ns(_) => "NS",
            Value::Bs(_) => "BS",
            Value::L(_) => "L",
            Value::M(_) => "M",
        }
    }

    /// The value at `path` below this one (`a.b[0]`), if every step exists.
    pub fn at(&self, path: &Path) -> Option<&Value> {
        path.segments()
            .iter()
            .try_fold(self, |value, segment| match (segment, value) {
                (Segment::Name(name), Value::M(map)) => map.get(name),
                (Segment::Index(index), Value::L(list)) => list.get(*index),
                _ => None,
            })
    }

    /// The size DynamoDB counts for this value, by its documented sizing rules: what the
    /// 400 KB item limit ([`crate::limits::MAX_ITEM_BYTES`]) is measured in.
    pub fn size(&self) -> usize {
        match self {
            Value::S(s) => s.len(),
            Value::N(n) => number_size(n),
            Value::B(b) => b.len(),
            Value::Bool(_) | Value::Null => 1,
            Value::Ss(set) => set.iter().map(String::len).sum(),
            Value::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
            Value::Bs(set) => set.iter().map(Vec::len).sum(),
            Value::L(list) => 3 + list.iter().map(|v| 1 + v.size()).sum::<usize>(),
            Value::M(map) => {
                3 + map
                    .iter()
                    .map(|(k, v)| k.len() + 1 + v.size())
                    .sum::<usize>()
            }
        }
    }
}

/// A number's size: about one byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits = n.bytes().filter(u8::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

macro_rules! number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::N(n.to_string())
            }
        }
    )*};
}
number_from!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, isize, usize, f32, f64);

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::S(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::S(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::B(b)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Value {
        Value::L(l)
    }
}

impl From<Item> for Value {
    fn from(item: Item) -> Value {
        Value::M(item)
    }
}

/// A DynamoDB item: attribute names mapped to values, in name order (also used for keys and
/// for the values of expression placeholders).
///
/// It dereferences to its `BTreeMap`, so every map method is available; the methods below
/// add typed access and DynamoDB's rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct Item(BTreeMap<String, Value>);

impl Item {
    /// An empty item.
    pub fn new() -> Item {
        Item::default()
    }

    /// The top-level attribute `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// The value at a document path such as `address.city` or `tags[0]`.
    ///
    /// Use [`Item::get`] for an attribute whose name contains `.` or `[`.
    pub fn path(&self, path: &str) -> Option<&Value> {
        let path = Path::parse(path).ok()?;
        let (first, rest) = path.split_first()?;
        self.0.get(first)?.at(&rest)
    }

    /// The top-level attribute `name` if it is a string (`S`).
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name)?.as_str()
    }

    /// The top-level attribute `name` if it is a number (`N`) that fits an `i64`.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name)?.as_i64()
    }

    /// The top-level attribute `name` if it is a boolean.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name)?.as_bool()
    }

    /// Whether the top-level attribute `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Sets the top-level attribute `name`, returning the value it replaced.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.0.insert(name.into(), value.into())
    }

    /// Builder form of [`Item::set`].
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Item {
        self.set(name, value);
        self
    }

    /// Removes the top-level attribute `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    /// The item's primary key: the named attributes (partition key, then sort key if any).
    ///
    /// Fails with a message naming the missing attribute.
    pub fn key(&self, names: &[&str]) -> Result<Item, String> {
        let mut key = Item::new();
        for name in names {
            let value = self
                .get(name)
                .ok_or_else(|| format!("item has no key attribute `{name}`"))?;
            key.set(*name, value.clone());
        }
        Ok(key)
    }

    /// The attributes in name order.
    pub fn iter(&self) -> std::collections::btree_map::Iter<'_, String, Value> {
        self.0.iter()
    }

    /// The number of top-level attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the item has no attributes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The attributes as a map.
    pub fn into_map(self) -> BTreeMap<String, Value> {
        self.0
    }

    /// The size DynamoDB counts for the item: attribute names plus values.
    pub fn size(&self) -> usize {
        self.0
            .iter()
            .map(|(name, value)| name.len() + value.size())
            .sum()
    }
}

impl Deref for Item {
    type Target = BTreeMap<String, Value>;

    fn deref(&self) -> &BTreeMap<String, Value> {
        &self.0
    }
}

impl DerefMut for Item {
    fn deref_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.0
    }
}

impl From<BTreeMap<String, Value>> for Item {
    fn from(map: BTreeMap<String, Value>) -> Item {
        Item(map)
    }
}

impl From<Item> for BTreeMap<String, Value> {
    fn from(item: Item) -> BTreeMap<String, Value> {
        item.0
    }
}

impl IntoIterator for Item {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Item {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for Item {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Item {
        Item(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Item {
        let address: Item = [("city", Value::from("Oslo")), ("zip", Value::from(150))]
            .into_iter()
            .collect();
        Item::new()
            .with("id", "u1")
            .with("age", 42)
            .with("active", true)
            .with("address", address)
            .with("tags", vec![Value::from("a"), Value::from("b")])
    }

    #[test]
    fn typed_accessors_match_only_their_type() {
        let user = user();
        assert_eq!(user.get_str("id"), Some("u1"));
        assert_eq!(user.get_i64("age"), Some(42));
        assert_eq!(user.get_str("age"), None);
        assert_eq!(user.get_bool("active"), Some(true));
        assert_eq!(user.get("age").unwrap().as_f64(), Some(42.0));
        assert_eq!(user.get("age").unwrap().type_name(), "N");
        assert!(user.get("missing").is_none());
    }

    #[test]
    fn paths_reach_nested_maps_and_lists() {
        let user = user();
        assert_eq!(
            user.path("address.city").and_then(Value::as_str),
            Some("Oslo")
        );
        assert_eq!(user.path("tags[1]").and_then(Value::as_str), Some("b"));
        assert_eq!(user.path("tags[2]"), None);
        assert_eq!(user.path("address.city.x"), None);
        assert_eq!(user.path("id[0]"), None);
        assert_eq!(user.path("a..b"), None);
    }

    #[test]
    fn key_picks_attributes_or_names_the_missing_one() {
        let user = user();
        assert_eq!(user.key(&["id"]).unwrap(), Item::new().with("id", "u1"));
        assert_eq!(
            user.key(&["id", "sk"]).unwrap_err(),
            "item has no key attribute `sk`"
        );
    }

    #[test]
    fn set_and_remove_change_top_level_attributes() {
        let mut user = user();
        assert_eq!(user.set("age", 43), Some(Value::from(42)));
        assert_eq!(user.remove("active"), Some(Value::Bool(true)));
        assert!(!user.contains("active"));
        assert_eq!(user.len(), 4);
    }

    #[test]
    fn numbers_keep_their_decimal_text() {
        assert_eq!(Value::from(1.5f64), Value::N("1.5".into()));
        assert_eq!(Value::from(u128::MAX), Value::N(u128::MAX.to_string()));
        let big = "12345678901234567890123456789012345678";
        assert_eq!(Value::number(big).as_number(), Some(big));
        assert_eq!(Value::number(big).as_i64(), None);
    }

    #[test]
    fn sizes_follow_dynamodb_rules() {
        let item: Item = [("id", Value::from("abc")), ("n", Value::number("1234"))]
            .into_iter()
            .collect();
        assert_eq!(item.size(), 2 + 3 + 1 + 3);
        assert_eq!(Value::number("-1.5E+10").size(), 2 + 1);
        let nested = Value::L(vec![Value::Null, Value::from(item.clone())]);
        assert_eq!(
            nested.size(),
            3 + (1 + 1) + (1 + 3 + (2 + 1 + 3) + (1 + 1 + 3))
        );
    }

    #[test]
    fn an_item_is_a_map() {
        let mut item = Item::new();
        item.insert("b".into(), Value::Null);
        item.set("a", 1);
        assert_eq!(item.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(item["b"], Value::Null);
        let names: Vec<String> = item.clone().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!((&item).into_iter().count(), 2);
        assert_eq!(Value::from(item.clone()).as_map(), Some(&item));
    }
}
