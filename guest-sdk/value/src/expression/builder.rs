//! Builds update expressions from document paths and values, with generated placeholders.
//!
//! Every name becomes a `#drift<N>` placeholder (so attribute names never clash with
//! DynamoDB's reserved words) and every value a `:drift<N>` one, `N` being the number of
//! placeholders of that kind already defined. The AssemblyScript SDK generates the same, so one
//! migration gives byte-identical actions in either language: keep the two in step.

use std::collections::BTreeMap;

use super::{
    AddOrDelete, Clause, DocumentPath, Element, Operand, SetAction, Term, UpdateExpression,
};
use crate::path::{Path, Segment};
use crate::{Item, Value};

/// Where an action's placeholders are defined: `#placeholder` → attribute name and
/// `:placeholder` → value, shared by its update expression and its condition.
pub trait Placeholders {
    /// `#placeholder` → attribute name.
    fn names_mut(&mut self) -> &mut BTreeMap<String, String>;
    /// `:placeholder` → value.
    fn values_mut(&mut self) -> &mut Item;
}

/// A plain [`Placeholders`]: DynamoDB's `ExpressionAttributeNames` and
/// `ExpressionAttributeValues`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpressionAttributes {
    /// `#placeholder` → attribute name.
    pub names: BTreeMap<String, String>,
    /// `:placeholder` → value.
    pub values: Item,
}

impl Placeholders for ExpressionAttributes {
    fn names_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.names
    }

    fn values_mut(&mut self) -> &mut Item {
        &mut self.values
    }
}

/// An update expression under construction: `SET`, `REMOVE`, `ADD` and `DELETE` actions, each
/// kept in call order, rendered in that clause order.
///
/// The placeholders go to a [`Placeholders`] passed to every call rather than held here, so
/// that they can live with the action's other placeholders (a condition's, say) and be
/// numbered together with them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateBuilder {
    set: Vec<SetAction>,
    remove: Vec<DocumentPath>,
    add: Vec<AddOrDelete>,
    delete: Vec<AddOrDelete>,
    /// The first path that did not parse: reported by [`UpdateBuilder::build`].
    error: Option<String>,
}

impl UpdateBuilder {
    /// An update with no action yet.
    pub fn new() -> UpdateBuilder {
        UpdateBuilder::default()
    }

    /// `SET path = value`; `path` is a document path such as `address.city` or `tags[0]`.
    pub fn set(
        &mut self,
        placeholders: &mut impl Placeholders,
        path: &str,
        value: Value,
    ) -> &mut Self {
        if let Some(path) = self.placeholder_path(placeholders, path) {
            let value = Operand::Term(Term::Value(placeholder_value(placeholders, value)));
            self.set.push(SetAction { path, value });
        }
        self
    }

    /// `REMOVE path`.
    pub fn remove(&mut self, placeholders: &mut impl Placeholders, path: &str) -> &mut Self {
        if let Some(path) = self.placeholder_path(placeholders, path) {
            self.remove.push(path);
        }
        self
    }

    /// `ADD path value`: adds to a number, or elements to a set.
    pub fn add(
        &mut self,
        placeholders: &mut impl Placeholders,
        path: &str,
        value: Value,
    ) -> &mut Self {
        if let Some(path) = self.placeholder_path(placeholders, path) {
            let value = placeholder_value(placeholders, value);
            self.add.push(AddOrDelete { path, value });
        }
        self
    }

    /// `DELETE path value`: removes the elements of the set `value` from a set.
    pub fn delete(
        &mut self,
        placeholders: &mut impl Placeholders,
        path: &str,
        value: Value,
    ) -> &mut Self {
        if let Some(path) = self.placeholder_path(placeholders, path) {
            let value = placeholder_value(placeholders, value);
            self.delete.push(AddOrDelete { path, value });
        }
        self
    }

    /// Whether no action was added (paths that failed to parse do not count).
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
            && self.remove.is_empty()
            && self.add.is_empty()
            && self.delete.is_empty()
    }

    /// The expression built so far (no clause if [empty](UpdateBuilder::is_empty)), or the
    /// first path that did not parse.
    pub fn build(&self) -> Result<UpdateExpression, String> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let clauses = [
            (!self.set.is_empty()).then(|| Clause::Set(self.set.clone())),
            (!self.remove.is_empty()).then(|| Clause::Remove(self.remove.clone())),
            (!self.add.is_empty()).then(|| Clause::Add(self.add.clone())),
            (!self.delete.is_empty()).then(|| Clause::Delete(self.delete.clone())),
        ];
        Ok(UpdateExpression {
            clauses: clauses.into_iter().flatten().collect(),
        })
    }

    fn placeholder_path(
        &mut self,
        placeholders: &mut impl Placeholders,
        path: &str,
    ) -> Option<DocumentPath> {
        let parsed = match Path::parse(path) {
            Ok(parsed) => parsed,
            Err(error) => {
                self.error.get_or_insert(error.to_string());
                return None;
            }
        };
        let elements = parsed
            .segments()
            .iter()
            .map(|segment| match segment {
                Segment::Name(name) => {
                    Element::NamePlaceholder(name_placeholder(placeholders, name))
                }
                Segment::Index(index) => Element::Index(*index),
            })
            .collect();
        Some(DocumentPath(elements))
    }
}

/// The generated placeholder of `name`: the one it already has, or the next number.
fn name_placeholder(placeholders: &mut impl Placeholders, name: &str) -> String {
    let names = placeholders.names_mut();
    if let Some((placeholder, _)) = names
        .iter()
        .find(|(p, n)| *n == name && p.starts_with("#drift"))
    {
        return placeholder.clone();
    }
    let placeholder = format!("#drift{}", names.len());
    names.insert(placeholder.clone(), name.to_owned());
    placeholder
}

/// A new placeholder for `value`: values are never shared, even when equal.
fn placeholder_value(placeholders: &mut impl Placeholders, value: Value) -> String {
    let values = placeholders.values_mut();
    let placeholder = format!(":drift{}", values.len());
    values.insert(placeholder.clone(), value);
    placeholder
}
