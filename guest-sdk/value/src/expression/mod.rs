//! DynamoDB update expressions as a syntax tree: parsed, rendered, analysed and built.
//!
//! - [`UpdateExpression::parse`] reads `SET a = :a, b.c[2] = if_not_exists(b.c[2], :z)
//!   REMOVE #d ADD n :one DELETE tags :old` (clauses in any order, keywords and function names
//!   in any case) into an [`UpdateExpression`]; its `Display` renders the canonical text.
//! - [`UpdateExpression::is_repeatable`] tells whether applying the update twice leaves what
//!   applying it once does, which the host needs to apply it exactly once or not.
//! - [`UpdateExpression::resolve`] replaces the placeholders by what they stand for, so that a
//!   migration's test reads `SET email_lower = "ada@example.com"` rather than generated names.
//! - With the `evaluate` feature (the host's; guests leave it out): `UpdateExpression::apply`
//!   evaluates the update on an item as DynamoDB's UpdateItem does, with its errors;
//!   `add_numbers` and `subtract_numbers` are its exact arithmetic; `ConditionExpression`
//!   reads a condition expression and tells whether it holds on an item, as DynamoDB's
//!   conditional writes do.
//! - [`UpdateBuilder`] generates an update from document paths and values, with placeholders
//!   `#drift<N>` / `:drift<N>` (the same ones as the AssemblyScript SDK).

mod builder;
#[cfg(feature = "evaluate")]
mod condition;
#[cfg(feature = "evaluate")]
mod condition_parse;
#[cfg(feature = "evaluate")]
mod evaluate;
mod parse;
mod resolve;

use std::fmt;

pub use builder::{ExpressionAttributes, Placeholders, UpdateBuilder};
#[cfg(feature = "evaluate")]
pub use condition::ConditionExpression;
#[cfg(feature = "evaluate")]
pub use evaluate::{add_numbers, subtract_numbers, TopLevelWrite, UsedPlaceholders};
pub use resolve::readable;

/// Deepest nesting of function calls (`list_append(list_append(...), ...)`) that
/// [`UpdateExpression::parse`] accepts: far more than any real expression, and a bound on the
/// parser's recursion for expressions that come from a guest.
pub const MAX_NESTING: usize = 32;

/// A parsed update expression: its clauses, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateExpression {
    /// The clauses; each kind appears at most once, as DynamoDB requires.
    pub clauses: Vec<Clause>,
}

/// One clause of an update expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// `SET path = operand, ...`
    Set(Vec<SetAction>),
    /// `REMOVE path, ...`
    Remove(Vec<DocumentPath>),
    /// `ADD path :value, ...`: adds to a number, or elements to a set.
    Add(Vec<AddOrDelete>),
    /// `DELETE path :value, ...`: removes elements from a set.
    Delete(Vec<AddOrDelete>),
}

/// `path = operand`, one action of a `SET` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAction {
    /// What is set.
    pub path: DocumentPath,
    /// What it is set to.
    pub value: Operand,
}

/// `path :value`, one action of an `ADD` or `DELETE` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOrDelete {
    /// What is added to or deleted from.
    pub path: DocumentPath,
    /// The value placeholder, `:` included.
    pub value: String,
}

/// The right side of a `SET` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// `term`
    Term(Term),
    /// `term + term`
    Plus(Term, Term),
    /// `term - term`
    Minus(Term, Term),
}

/// A value in a `SET` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// Another attribute's value.
    Path(DocumentPath),
    /// A value placeholder, `:` included.
    Value(String),
    /// `if_not_exists(path, term)`: `path`'s value, or `term` when it has none.
    IfNotExists(DocumentPath, Box<Term>),
    /// `list_append(term, term)`
    ListAppend(Box<Term>, Box<Term>),
}

/// A document path in an expression: `a.#b[2]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentPath(pub Vec<Element>);

/// One step of a [`DocumentPath`]; the first is always a name or name placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A name written as is: letters, digits and `_`, not starting with a digit.
    Name(String),
    /// A name placeholder, `#` included.
    NamePlaceholder(String),
    /// A list index: `[n]`.
    Index(usize),
}

impl DocumentPath {
    /// Whether the path goes through a list index (`a[2]`, `a.b[0].c`).
    pub fn has_index(&self) -> bool {
        self.0
            .iter()
            .any(|element| matches!(element, Element::Index(_)))
    }
}

impl UpdateExpression {
    /// Parses an update expression; fails with a message naming what was expected where.
    pub fn parse(text: &str) -> Result<UpdateExpression, String> {
        parse::parse(text)
    }

    /// Whether applying the update twice in a row leaves what applying it once does.
    ///
    /// `SET` actions whose right side is a `:placeholder`, or `if_not_exists(<the same path>,
    /// :placeholder)`, `REMOVE`, and `DELETE` from sets are; `ADD`, `+`/`-` and `list_append`
    /// add again, and a `SET` from another attribute may read what the first time changed.
    pub fn is_repeatable(&self) -> bool {
        self.clauses.iter().all(|clause| match clause {
            Clause::Set(actions) => actions.iter().all(SetAction::is_repeatable),
            // Removing list element `[n]` again removes the one that moved into its place.
            Clause::Remove(paths) => paths.iter().all(|path| !path.has_index()),
            // Taking elements out of a set twice leaves the set it leaves once.
            Clause::Delete(_) => true,
            Clause::Add(_) => false,
        })
    }
}

/// Whether the update expression `text` is [repeatable](UpdateExpression::is_repeatable);
/// anything that does not parse is not.
pub fn is_repeatable(text: &str) -> bool {
    UpdateExpression::parse(text).is_ok_and(|expression| expression.is_repeatable())
}

impl SetAction {
    fn is_repeatable(&self) -> bool {
        // `l[n] = ...` past the end of a list appends: twice, it appends twice.
        if self.path.has_index() {
            return false;
        }
        match &self.value {
            Operand::Term(Term::Value(_)) => true,
            // `a = if_not_exists(a, :v)` sets `a` once, whatever comes after.
            Operand::Term(Term::IfNotExists(path, default)) => {
                *path == self.path && matches!(**default, Term::Value(_))
            }
            _ => false,
        }
    }
}

/// How a rendering spells placeholders: as themselves, or as what they stand for.
pub(crate) struct Spelling<'a> {
    pub(crate) name: &'a dyn Fn(&str) -> Result<String, String>,
    pub(crate) value: &'a dyn Fn(&str) -> Result<String, String>,
}

impl UpdateExpression {
    pub(crate) fn write(&self, out: &mut String, spelling: &Spelling) -> Result<(), String> {
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            clause.write(out, spelling)?;
        }
        Ok(())
    }
}

impl Clause {
    /// `SET`, `REMOVE`, `ADD` or `DELETE`.
    pub fn keyword(&self) -> &'static str {
        match self {
            Clause::Set(_) => "SET",
            Clause::Remove(_) => "REMOVE",
            Clause::Add(_) => "ADD",
            Clause::Delete(_) => "DELETE",
        }
    }

    fn write(&self, out: &mut String, spelling: &Spelling) -> Result<(), String> {
        out.push_str(self.keyword());
        out.push(' ');
        fn list<T>(
            out: &mut String,
            items: &[T],
            mut write: impl FnMut(&mut String, &T) -> Result<(), String>,
        ) -> Result<(), String> {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, item)?;
            }
            Ok(())
        }
        match self {
            Clause::Set(actions) => list(out, actions, |out, action| {
                action.path.write(out, spelling)?;
                out.push_str(" = ");
                action.value.write(out, spelling)
            }),
            Clause::Remove(paths) => list(out, paths, |out, path| path.write(out, spelling)),
            Clause::Add(actions) | Clause::Delete(actions) => list(out, actions, |out, action| {
                action.path.write(out, spelling)?;
                out.push(' ');
                out.push_str(&(spelling.value)(&action.value)?);
                Ok(())
            }),
        }
    }
}

impl Operand {
    fn write(&self, out: &mut String, spelling: &Spelling) -> Result<(), String> {
        match self {
            Operand::Term(term) => term.write(out, spelling),
            Operand::Plus(left, right) | Operand::Minus(left, right) => {
                left.write(out, spelling)?;
                out.push_str(if matches!(self, Operand::Plus(..)) {
                    " + "
                } else {
                    " - "
                });
                right.write(out, spelling)
            }
        }
    }
}

impl Term {
    fn write(&self, out: &mut String, spelling: &Spelling) -> Result<(), String> {
        match self {
            Term::Path(path) => path.write(out, spelling),
            Term::Value(placeholder) => {
                out.push_str(&(spelling.value)(placeholder)?);
                Ok(())
            }
            Term::IfNotExists(path, default) => {
                out.push_str("if_not_exists(");
                path.write(out, spelling)?;
                out.push_str(", ");
                default.write(out, spelling)?;
                out.push(')');
                Ok(())
            }
            Term::ListAppend(first, second) => {
                out.push_str("list_append(");
                first.write(out, spelling)?;
                out.push_str(", ");
                second.write(out, spelling)?;
                out.push(')');
                Ok(())
            }
        }
    }
}

impl DocumentPath {
    pub(crate) fn write(&self, out: &mut String, spelling: &Spelling) -> Result<(), String> {
        for (i, element) in self.0.iter().enumerate() {
            match element {
                Element::Name(name) | Element::NamePlaceholder(name) => {
                    if i > 0 {
                        out.push('.');
                    }
                    if matches!(element, Element::Name(_)) {
                        out.push_str(name);
                    } else {
                        out.push_str(&(spelling.name)(name)?);
                    }
                }
                Element::Index(index) => {
                    out.push('[');
                    out.push_str(&index.to_string());
                    out.push(']');
                }
            }
        }
        Ok(())
    }
}

/// Renders placeholders as themselves.
fn literal(placeholder: &str) -> Result<String, String> {
    Ok(placeholder.to_owned())
}

const LITERAL: Spelling<'static> = Spelling {
    name: &literal,
    value: &literal,
};

macro_rules! display_by_write {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut out = String::new();
                self.write(&mut out, &LITERAL).map_err(|_| fmt::Error)?;
                f.write_str(&out)
            }
        }
    )*};
}
display_by_write!(UpdateExpression, Clause, Operand, Term, DocumentPath);

#[cfg(test)]
mod tests;
