//! A live run's guard: what a write computed from an item requires of that item, so that a
//! write never lands on a version newer than the one the guest saw.
//!
//! Two ways to say "the item is still as it was read":
//! - [`GuardMode::Image`] (the default): every attribute the item had, equal. It needs nothing
//!   from the application, and catches any change to what the guest read; it cannot see an
//!   attribute the application only added (a condition cannot name attributes it does not
//!   know), and its condition grows with the item.
//! - [`GuardMode::Version`] (`--version-attribute NAME`): one attribute the application
//!   changes on every write (a version number, an update timestamp). One comparison, whatever
//!   the item's size, and it catches every write that changes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::item::{Item, Value};

/// DynamoDB's limit on the length of an expression.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// Placeholder prefix of the guard's names and values (guests' placeholders are checked to
/// be plain identifiers, which this prefix keeps apart from with its double underscore).
const PREFIX: &str = "drift__guard";

/// How a live run guards its writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuardMode {
    /// Every attribute of the item as read, equal.
    Image,
    /// This attribute, equal (or still absent).
    Version(String),
}

/// What a write requires of the item it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Guard {
    /// The item exactly as read (every attribute equal).
    Image(Item),
    /// The version attribute as read (`None`: it was absent).
    Version {
        /// The attribute's name.
        attribute: String,
        /// Its value as read.
        value: Option<Value>,
    },
}

/// A guard as a condition expression with its placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardCondition {
    /// The condition.
    pub expression: String,
    /// `#placeholder` → attribute name.
    pub names: BTreeMap<String, String>,
    /// `:placeholder` → value.
    pub values: Item,
}

impl Guard {
    /// The guard of `item` as read, in `mode`.
    pub fn of(mode: &GuardMode, item: &Item) -> Guard {
        match mode {
            GuardMode::Image => Guard::Image(item.clone()),
            GuardMode::Version(attribute) => Guard::Version {
                attribute: attribute.clone(),
                value: item.get(attribute).cloned(),
            },
        }
    }

    /// Whether `current` (the item as it is now, `None` if it is gone) is still the version
    /// this guard was taken from.
    pub fn holds_for(&self, current: Option<&Item>) -> bool {
        match (self, current) {
            (_, None) => false,
            (Guard::Image(image), Some(current)) => image == current,
            (Guard::Version { attribute, value }, Some(current)) => {
                current.get(attribute) == value.as_ref()
            }
        }
    }

    /// The condition that holds exactly when the item is still this version, or why it
    /// cannot be written within DynamoDB's limits.
    pub fn condition(&self) -> Result<GuardCondition, String> {
        let mut names = BTreeMap::new();
        let mut values = Item::new();
        let mut terms = Vec::new();
        let mut compare = |n: usize, attribute: &str, value: Option<&Value>| {
            let name = format!("#{PREFIX}{n}");
            names.insert(name.clone(), attribute.to_owned());
            match value {
                Some(value) => {
                    let placeholder = format!(":{PREFIX}{n}");
                    values.set(placeholder.clone(), value.clone());
                    terms.push(format!("{name} = {placeholder}"));
                }
                None => terms.push(format!("attribute_not_exists({name})")),
            }
        };
        match self {
            Guard::Image(image) => {
                for (n, (attribute, value)) in image.iter().enumerate() {
                    compare(n, attribute, Some(value));
                }
            }
            Guard::Version { attribute, value } => compare(0, attribute, value.as_ref()),
        }
        let expression = terms.join(" AND ");
        if expression.len() > MAX_EXPRESSION_BYTES {
            return Err(format!(
                "the item has too many attributes ({}) for a condition on each of them \
                 (DynamoDB takes expressions of at most 4 KB): give --version-attribute",
                names.len()
            ));
        }
        Ok(GuardCondition {
            expression,
            names,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(version: i64, email: &str) -> Item {
        Item::new()
            .with("id", "u1")
            .with("v", Value::number(version))
            .with("email", email)
    }

    #[test]
    fn an_image_guard_holds_only_for_the_same_item() {
        let guard = Guard::of(&GuardMode::Image, &user(1, "a@x"));
        assert!(guard.holds_for(Some(&user(1, "a@x"))));
        assert!(!guard.holds_for(Some(&user(1, "b@x"))));
        assert!(!guard.holds_for(Some(&user(1, "a@x").with("extra", true))));
        assert!(!guard.holds_for(None));
        let condition = guard.condition().unwrap();
        assert_eq!(condition.names.len(), 3);
        assert_eq!(condition.values.len(), 3);
        assert_eq!(condition.expression.matches(" AND ").count(), 2);
    }

    #[test]
    fn a_version_guard_compares_one_attribute_or_its_absence() {
        let mode = GuardMode::Version("v".into());
        let guard = Guard::of(&mode, &user(1, "a@x"));
        assert!(guard.holds_for(Some(&user(1, "b@x"))));
        assert!(!guard.holds_for(Some(&user(2, "a@x"))));
        let unversioned = Guard::of(&mode, &Item::new().with("id", "u1"));
        assert!(unversioned.holds_for(Some(
            &Item::new().with("id", "u1").with("x", Value::number(1))
        )));
        assert!(!unversioned.holds_for(Some(&user(1, "a@x"))));
        let condition = unversioned.condition().unwrap();
        assert!(condition.expression.starts_with("attribute_not_exists("));
        assert!(condition.values.is_empty());
    }

    #[test]
    fn an_image_too_large_for_one_condition_asks_for_a_version_attribute() {
        let mut item = Item::new();
        for n in 0..400 {
            item.set(format!("attribute_{n}"), Value::number(n));
        }
        let error = Guard::of(&GuardMode::Image, &item).condition().unwrap_err();
        assert!(error.contains("--version-attribute"), "{error}");
    }
}
