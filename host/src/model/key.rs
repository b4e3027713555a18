//! A key attribute as people write it: `NAME:S`, `NAME:N` or `NAME:B` (in `drift.toml`, and in
//! `load --create-key`, where a bare `NAME` is a string key).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl KeyType {
    /// The DynamoDB spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

/// A key attribute: name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyAttribute {
    /// Attribute name.
    pub name: String,
    /// `S`, `N` or `B`.
    pub kind: KeyType,
}

impl KeyAttribute {
    /// `NAME:T`, or a bare `NAME` as a string key.
    pub fn parse_or_string(text: &str) -> Result<KeyAttribute, String> {
        if text.contains(':') {
            text.parse()
        } else {
            format!("{text}:S").parse()
        }
    }
}

impl FromStr for KeyAttribute {
    type Err = String;

    /// `NAME:S`, `NAME:N` or `NAME:B`.
    fn from_str(text: &str) -> Result<KeyAttribute, String> {
        let (name, kind) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("`{text}`: expected NAME:S, NAME:N or NAME:B"))?;
        let kind = match kind {
            "S" => KeyType::S,
            "N" => KeyType::N,
            "B" => KeyType::B,
            other => return Err(format!("`{text}`: key type `{other}` is not S, N or B")),
        };
        if name.is_empty() {
            return Err(format!("`{text}`: the key attribute has no name"));
        }
        Ok(KeyAttribute {
            name: name.to_owned(),
            kind,
        })
    }
}

impl<'de> Deserialize<'de> for KeyAttribute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyAttribute, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for KeyAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.kind.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_written_forms() {
        let id: KeyAttribute = "id:N".parse().unwrap();
        assert_eq!((id.name.as_str(), id.kind), ("id", KeyType::N));
        assert_eq!(id.to_string(), "id:N");
        // The name may hold a colon; the type is after the last one.
        assert_eq!("a:b:B".parse::<KeyAttribute>().unwrap().name, "a:b");
        assert!("id".parse::<KeyAttribute>().unwrap_err().contains("NAME:S"));
        assert!("id:X"
            .parse::<KeyAttribute>()
            .unwrap_err()
            .contains("not S, N or B"));
        assert!(":S"
            .parse::<KeyAttribute>()
            .unwrap_err()
            .contains("no name"));
        let bare = KeyAttribute::parse_or_string("id").unwrap();
        assert_eq!((bare.name.as_str(), bare.kind), ("id", KeyType::S));
    }
}
