//! Applying an update expression to an item, as DynamoDB's `UpdateItem` does.
//!
//! [`UpdateExpression::apply`] checks the expression and its placeholders the way DynamoDB
//! validates a request, then evaluates every operand against the item as it was before the
//! update, then writes. Where the rules come from:
//!
//! - the DynamoDB developer guide, "Using update expressions" and "Reserved words": the
//!   clauses, `if_not_exists`, `list_append`, list elements set past the end appended in
//!   index order, list elements removed with the others shifting, `ADD` on numbers and sets,
//!   `DELETE` from sets, every action evaluated against the item before the update;
//! - the UpdateItem API reference: the messages of its `ValidationException`s (invalid
//!   document path, incorrect data type, attribute that does not exist, number overflow);
//! - ScyllaDB Alternator's `test/alternator/test_update_expression.py` and `test_number.py`,
//!   which are run against DynamoDB itself: overlapping and conflicting paths, unused and
//!   undefined placeholders, key attributes, `REMOVE` past the end or below a missing map,
//!   nested `list_append`, several list indexes as of the original list, numbers that do
//!   not fit 38 digits;
//! - dynalite's update-expression grammar and emulators checked against DynamoDB Local, for
//!   the wording and order of the static checks.
//!
//! What could not be confirmed is marked `ASSUMPTION` below, for the property test against
//! DynamoDB Local to settle.

mod apply;
mod check;
mod decimal;
mod names;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub(in crate::expression) use decimal::compare_numbers;
pub use decimal::{add_numbers, subtract_numbers};
pub(in crate::expression) use names::check_written_names;

use super::{Clause, DocumentPath, Element, Operand, Term, UpdateExpression};
use crate::{Item, Value};

const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const MISSING: &str =
    "The provided expression refers to an attribute that does not exist in the item";

/// Deepest document path DynamoDB accepts, in elements (`a.b[0]` has three).
const MAX_PATH_ELEMENTS: usize = 32;
/// Largest list index DynamoDB accepts in a document path (a Java `int`).
const MAX_LIST_INDEX: usize = i32::MAX as usize;

/// The placeholders an update expression uses, as [`UpdateExpression::placeholders`] lists
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsedPlaceholders<'a> {
    /// The `#name` placeholders, `#` included.
    pub names: BTreeSet<&'a str>,
    /// The `:value` placeholders, `:` included.
    pub values: BTreeSet<&'a str>,
}

impl UpdateExpression {
    /// The item after this update, as DynamoDB's UpdateItem would leave it; `item` is the item
    /// before (None: it does not exist yet, and the update creates it from `key`).
    ///
    /// `names` and `values` are the request's `ExpressionAttributeNames` and
    /// `ExpressionAttributeValues`; like DynamoDB, this fails on a placeholder the expression
    /// uses and they do not define, and on one they define that the expression does not use
    /// (see [`UpdateExpression::apply_allowing_unused`] for a request whose condition uses
    /// some). Fails with DynamoDB's message (prefixed `Invalid UpdateExpression: ` for the
    /// expression's own errors) on whatever DynamoDB rejects: overlapping paths, a key
    /// attribute changed, a path through a missing or wrong-typed attribute, operands of the
    /// wrong type, numbers out of DynamoDB's range, and a result that
    /// [`limits::check_item`] rejects.
    pub fn apply(
        &self,
        item: Option<&Item>,
        key: &Item,
        names: &BTreeMap<String, String>,
        values: &Item,
    ) -> Result<Item, String> {
        Evaluation::new(self, names, values, true)?.run(item, key)
    }

    /// [`UpdateExpression::apply`] for a request whose other expressions (its condition) share
    /// the placeholders: `names` and `values` may define more than this expression uses.
    /// Check the union with [`UpdateExpression::placeholders`] and the condition's own.
    pub fn apply_allowing_unused(
        &self,
        item: Option<&Item>,
        key: &Item,
        names: &BTreeMap<String, String>,
        values: &Item,
    ) -> Result<Item, String> {
        Evaluation::new(self, names, values, false)?.run(item, key)
    }

    /// The checks DynamoDB makes on an update request before it reads the item (the
    /// placeholders, the paths, the operands' static types, no action on a key attribute
    /// named in `key`), without an item; [`UpdateExpression::apply`] makes them too. `unused`:
    /// whether a placeholder the expression does not use is an error (see
    /// [`UpdateExpression::apply_allowing_unused`]). Returns what the update writes at the top
    /// level of the item, for checks against the table's declared attribute types.
    pub fn check_request(
        &self,
        key: &[&str],
        names: &BTreeMap<String, String>,
        values: &Item,
        unused: bool,
    ) -> Result<Vec<TopLevelWrite>, String> {
        let evaluation = Evaluation::new(self, names, values, unused)?;
        let mut writes = Vec::new();
        for action in &evaluation.actions {
            let [Step::Name(name)] = action.path() else {
                if let Some(Step::Name(name)) = action.path().first() {
                    check_not_key(key, name)?;
                }
                continue;
            };
            check_not_key(key, name)?;
            let value = match action {
                Action::Set(_, Operand::Term(Term::Value(placeholder))) => {
                    Some(evaluation.value(placeholder)?.clone())
                }
                Action::Add(_, value) => Some((*value).clone()),
                _ => None,
            };
            let removes = matches!(action, Action::Remove(_));
            writes.push(TopLevelWrite {
                attribute: name.clone(),
                value: (!removes).then_some(value).flatten(),
                removes,
            });
        }
        Ok(writes)
    }

    /// The `#name` and `:value` placeholders the expression uses, on either side of its
    /// actions.
    pub fn placeholders(&self) -> UsedPlaceholders<'_> {
        let mut used = UsedPlaceholders::default();
        self.for_each_path(&mut |path| {
            for element in &path.0 {
                if let Element::NamePlaceholder(name) = element {
                    used.names.insert(name);
                }
            }
        });
        self.for_each_value(&mut |value| {
            used.values.insert(value);
        });
        used
    }

    /// Every document path, in the order written: each action's path, then those it reads.
    fn for_each_path<'e>(&'e self, visit: &mut impl FnMut(&'e DocumentPath)) {
        for clause in &self.clauses {
            match clause {
                Clause::Set(actions) => {
                    for action in actions {
                        visit(&action.path);
                        match &action.value {
                            Operand::Term(term) => term.for_each_path(visit),
                            Operand::Plus(a, b) | Operand::Minus(a, b) => {
                                a.for_each_path(visit);
                                b.for_each_path(visit);
                            }
                        }
                    }
                }
                Clause::Remove(paths) => paths.iter().for_each(&mut *visit),
                Clause::Add(actions) | Clause::Delete(actions) => {
                    actions.iter().for_each(|action| visit(&action.path))
                }
            }
        }
    }

    /// Every `:value` placeholder, in the order written.
    fn for_each_value<'e>(&'e self, visit: &mut impl FnMut(&'e str)) {
        for clause in &self.clauses {
            match clause {
                Clause::Set(actions) => {
                    for action in actions {
                        match &action.value {
                            Operand::Term(term) => term.for_each_value(visit),
                            Operand::Plus(a, b) | Operand::Minus(a, b) => {
                                a.for_each_value(visit);
                                b.for_each_value(visit);
                            }
                        }
                    }
                }
                Clause::Remove(_) => {}
                Clause::Add(actions) | Clause::Delete(actions) => {
                    actions.iter().for_each(|action| visit(&action.value))
                }
            }
        }
    }
}

impl Term {
    fn for_each_path<'e>(&'e self, visit: &mut impl FnMut(&'e DocumentPath)) {
        match self {
            Term::Path(path) => visit(path),
            Term::Value(_) => {}
            Term::IfNotExists(path, default) => {
                visit(path);
                default.for_each_path(visit);
            }
            Term::ListAppend(a, b) => {
                a.for_each_path(visit);
                b.for_each_path(visit);
            }
        }
    }

    fn for_each_value<'e>(&'e self, visit: &mut impl FnMut(&'e str)) {
        match self {
            Term::Path(_) => {}
            Term::Value(value) => visit(value),
            Term::IfNotExists(_, default) => default.for_each_value(visit),
            Term::ListAppend(a, b) => {
                a.for_each_value(visit);
                b.for_each_value(visit);
            }
        }
    }
}

/// What an update writes to one top-level attribute (see [`UpdateExpression::check_request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopLevelWrite {
    /// The attribute, its placeholder resolved.
    pub attribute: String,
    /// The value written, when the request alone tells it: `SET a = :v` and `ADD a :v`.
    pub value: Option<Value>,
    /// Whether the attribute is removed.
    pub removes: bool,
}

/// DynamoDB refuses any action on a key attribute.
fn check_not_key(key: &[&str], name: &str) -> Result<(), String> {
    if key.contains(&name) {
        return Err(format!(
            "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
        ));
    }
    Ok(())
}

/// One step of a document path with its placeholder resolved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Name(String),
    Index(usize),
}

fn path_text(steps: &[Step]) -> String {
    let parts: Vec<String> = steps
        .iter()
        .map(|step| match step {
            Step::Name(name) => name.clone(),
            Step::Index(index) => format!("[{index}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// What an action does, its path resolved.
enum Action<'e> {
    Set(Vec<Step>, &'e Operand),
    Remove(Vec<Step>),
    Add(Vec<Step>, &'e Value),
    Delete(Vec<Step>, &'e Value),
}

impl Action<'_> {
    fn path(&self) -> &[Step] {
        match self {
            Action::Set(path, _)
            | Action::Remove(path)
            | Action::Add(path, _)
            | Action::Delete(path, _) => path,
        }
    }
}

/// An update checked against its placeholders, ready to apply to items.
struct Evaluation<'e> {
    names: &'e BTreeMap<String, String>,
    values: &'e Item,
    actions: Vec<Action<'e>>,
}

fn invalid(message: impl std::fmt::Display) -> String {
    format!("Invalid UpdateExpression: {message}")
}
