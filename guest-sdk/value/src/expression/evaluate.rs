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

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use super::{Clause, DocumentPath, Element, Operand, Term, UpdateExpression};
use crate::limits::{self, canonical_number, validate_value};
use crate::{Item, Value};

const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";
const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";
const MISSING: &str =
    "The provided expression refers to an attribute that does not exist in the item";
const OVERFLOW: &str =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
const UNDERFLOW: &str =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

/// Deepest document path DynamoDB accepts, in elements (`a.b[0]` has three).
const MAX_PATH_ELEMENTS: usize = 32;
/// Largest list index DynamoDB accepts in a document path (a Java `int`).
const MAX_LIST_INDEX: usize = i32::MAX as usize;
/// Significant digits of a DynamoDB number.
const MAX_DIGITS: usize = 38;

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

/// `a + b` on DynamoDB numbers, exactly, in canonical form (see [`canonical_number`]).
///
/// Fails as DynamoDB does when the sum does not fit a DynamoDB number: more than 38
/// significant digits or a magnitude above 9.99…E+125 (`Number overflow…`, DynamoDB's message
/// for both), or below 1E-130 (`Number underflow…`); and on an operand that is not a valid
/// DynamoDB number.
pub fn add_numbers(a: &str, b: &str) -> Result<String, String> {
    Decimal::parse(a)?
        .plus(&Decimal::parse(b)?)
        .checked()
        .map(|n| n.to_text())
        .map_err(str::to_owned)
}

/// `a - b` on DynamoDB numbers, as [`add_numbers`].
pub fn subtract_numbers(a: &str, b: &str) -> Result<String, String> {
    Decimal::parse(a)?
        .plus(&Decimal::parse(b)?.negated())
        .checked()
        .map(|n| n.to_text())
        .map_err(str::to_owned)
}

/// How two DynamoDB numbers compare by value; `None` if either is not a valid number.
pub(super) fn compare_numbers(a: &str, b: &str) -> Option<Ordering> {
    let difference = Decimal::parse(a)
        .ok()?
        .plus(&Decimal::parse(b).ok()?.negated());
    Some(match (difference.digits.is_empty(), difference.negative) {
        (true, _) => Ordering::Equal,
        (false, true) => Ordering::Less,
        (false, false) => Ordering::Greater,
    })
}

/// An exact decimal: `digits × 10^exponent`, with a sign.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    /// Decimal digits (0–9), most significant first, without leading or trailing zeros;
    /// empty for zero.
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    fn zero() -> Decimal {
        Decimal {
            negative: false,
            digits: Vec::new(),
            exponent: 0,
        }
    }

    /// Reads a DynamoDB number; its magnitude is bounded, so aligning two of them for an
    /// addition takes a few hundred digits at most.
    fn parse(text: &str) -> Result<Decimal, String> {
        let plain = canonical_number(text)?;
        let (negative, body) = match plain.strip_prefix('-') {
            Some(body) => (true, body),
            None => (false, plain.as_str()),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        Ok(Decimal {
            negative,
            digits,
            exponent: -(frac.len() as i64),
        }
        .normalized())
    }

    /// Strips leading and trailing zeros; zero has no sign.
    fn normalized(mut self) -> Decimal {
        let leading = self.digits.iter().take_while(|&&d| d == 0).count();
        self.digits.drain(..leading);
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exponent += 1;
        }
        if self.digits.is_empty() {
            return Decimal::zero();
        }
        self
    }

    fn negated(mut self) -> Decimal {
        self.negative = !self.negative && !self.digits.is_empty();
        self
    }

    fn plus(&self, other: &Decimal) -> Decimal {
        if self.digits.is_empty() {
            return other.clone();
        }
        if other.digits.is_empty() {
            return self.clone();
        }
        let exponent = self.exponent.min(other.exponent);
        let aligned = |n: &Decimal| {
            let mut digits = n.digits.clone();
            digits.resize(n.digits.len() + (n.exponent - exponent) as usize, 0);
            digits
        };
        let (a, b) = (aligned(self), aligned(other));
        let (negative, digits) = if self.negative == other.negative {
            (self.negative, add_magnitudes(&a, &b))
        } else {
            match compare_magnitudes(&a, &b) {
                Ordering::Equal => return Decimal::zero(),
                Ordering::Greater => (self.negative, subtract_magnitudes(&a, &b)),
                Ordering::Less => (other.negative, subtract_magnitudes(&b, &a)),
            }
        };
        Decimal {
            negative,
            digits,
            exponent,
        }
        .normalized()
    }

    /// The number if DynamoDB can store it, else DynamoDB's error.
    ///
    /// ASSUMPTION: DynamoDB reports a result with more than 38 significant digits with its
    /// overflow message (Alternator's `test_update_expression_plus_imprecise` saw it for
    /// `1e50 + 1`; DynamoDB Local is said to answer "DynamoDB only supports precision up to
    /// 38 digits"), and a result below 1E-130 with its underflow message.
    fn checked(self) -> Result<Decimal, &'static str> {
        if self.digits.is_empty() {
            return Ok(self);
        }
        let magnitude = self.exponent + self.digits.len() as i64 - 1;
        if self.digits.len() > MAX_DIGITS || magnitude > 125 {
            return Err(OVERFLOW);
        }
        if magnitude < -130 {
            return Err(UNDERFLOW);
        }
        Ok(self)
    }

    /// Plain decimal text, as [`canonical_number`] spells it.
    ///
    /// ASSUMPTION: a zero result is `0`; DynamoDB Local is reported to print `1E-130 - 1E-130`
    /// with the operands' scale, as `0.000…0`.
    fn to_text(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_owned();
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let mut out = String::with_capacity(digits.len() + 8);
        if self.negative {
            out.push('-');
        }
        if self.exponent >= 0 {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', self.exponent as usize));
        } else {
            let point = digits.len() as i64 + self.exponent;
            if point > 0 {
                out.push_str(&digits[..point as usize]);
                out.push('.');
                out.push_str(&digits[point as usize..]);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-point) as usize));
                out.push_str(&digits);
            }
        }
        out
    }
}

/// Compares two magnitudes without leading zeros.
fn compare_magnitudes(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn add_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0);
    while i > 0 || j > 0 || carry > 0 {
        let mut sum = carry;
        if i > 0 {
            i -= 1;
            sum += a[i];
        }
        if j > 0 {
            j -= 1;
            sum += b[j];
        }
        out.push(sum % 10);
        carry = sum / 10;
    }
    out.reverse();
    out
}

/// `a - b` for `a >= b`.
fn subtract_magnitudes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut j, mut borrow) = (b.len(), 0i8);
    for &digit in a.iter().rev() {
        let mut d = digit as i8 - borrow;
        if j > 0 {
            j -= 1;
            d -= b[j] as i8;
        }
        borrow = i8::from(d < 0);
        out.push((d + 10 * borrow) as u8);
    }
    out.reverse();
    out
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

impl<'e> Evaluation<'e> {
    /// The checks DynamoDB makes on the request before it looks at the item, in about its
    /// order: the placeholders' definitions, names it cannot read, paths that overlap, what
    /// the placeholders stand for, and placeholders left unused.
    fn new(
        expression: &'e UpdateExpression,
        names: &'e BTreeMap<String, String>,
        values: &'e Item,
        check_unused: bool,
    ) -> Result<Evaluation<'e>, String> {
        for (placeholder, name) in names {
            if name.is_empty() {
                return Err(format!(
                    "ExpressionAttributeNames contains invalid value: Empty attribute name for key {placeholder}"
                ));
            }
        }
        for (placeholder, value) in values {
            validate_value(value, 1).map_err(|e| {
                format!(
                    "ExpressionAttributeValues contains invalid value: {e} for key {placeholder}"
                )
            })?;
        }

        let mut checked = Ok(());
        expression.for_each_path(&mut |path| {
            if checked.is_ok() {
                checked = check_written_names(path).map_err(invalid);
            }
        });
        checked?;

        let evaluation = Evaluation {
            names,
            values,
            actions: Vec::new(),
        };
        let mut actions = Vec::new();
        for clause in &expression.clauses {
            match clause {
                Clause::Set(set) => {
                    for action in set {
                        actions.push(Action::Set(
                            evaluation.resolve(&action.path)?,
                            &action.value,
                        ));
                    }
                }
                Clause::Remove(paths) => {
                    for path in paths {
                        actions.push(Action::Remove(evaluation.resolve(path)?));
                    }
                }
                Clause::Add(add) => {
                    for action in add {
                        let path = evaluation.resolve(&action.path)?;
                        actions.push(Action::Add(path, evaluation.value(&action.value)?));
                    }
                }
                Clause::Delete(delete) => {
                    for action in delete {
                        let path = evaluation.resolve(&action.path)?;
                        actions.push(Action::Delete(path, evaluation.value(&action.value)?));
                    }
                }
            }
        }
        check_overlaps(&actions)?;

        let mut checked = Ok(());
        expression.for_each_path(&mut |path| {
            if checked.is_ok() {
                checked = evaluation.resolve(path).map(drop);
            }
        });
        checked?;
        for action in &actions {
            match action {
                Action::Set(_, operand) => evaluation.check_operand(operand)?,
                Action::Remove(_) => {}
                Action::Add(_, value) => check_add_or_delete("ADD", value)?,
                Action::Delete(_, value) => check_add_or_delete("DELETE", value)?,
            }
        }

        if check_unused {
            let used = expression.placeholders();
            let unused: Vec<&str> = names
                .keys()
                .map(String::as_str)
                .filter(|name| !used.names.contains(name))
                .collect();
            if !unused.is_empty() {
                return Err(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                ));
            }
            let unused: Vec<&str> = values
                .keys()
                .map(String::as_str)
                .filter(|value| !used.values.contains(value))
                .collect();
            if !unused.is_empty() {
                return Err(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                ));
            }
        }
        Ok(Evaluation {
            actions,
            ..evaluation
        })
    }

    /// A path with its `#name` placeholders resolved.
    fn resolve(&self, path: &DocumentPath) -> Result<Vec<Step>, String> {
        if path.0.len() > MAX_PATH_ELEMENTS {
            return Err(invalid(format!(
                "The document path has too many nesting levels; nesting levels: {}",
                path.0.len()
            )));
        }
        path.0
            .iter()
            .map(|element| match element {
                Element::Name(name) => Ok(Step::Name(name.clone())),
                Element::NamePlaceholder(placeholder) => match self.names.get(placeholder) {
                    Some(name) => Ok(Step::Name(name.clone())),
                    None => Err(invalid(format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
                    ))),
                },
                Element::Index(index) => Ok(Step::Index(*index)),
            })
            .collect()
    }

    /// What a `:value` placeholder stands for.
    fn value(&self, placeholder: &str) -> Result<&'e Value, String> {
        self.values.get(placeholder).ok_or_else(|| {
            invalid(format!(
                "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            ))
        })
    }

    /// The checks on a `SET` operand that need no item: placeholders defined, operand types
    /// of `+`, `-` and `list_append` where they are placeholders, `if_not_exists` of a path
    /// other than its default, no `list_append` inside another.
    fn check_operand(&self, operand: &Operand) -> Result<(), String> {
        match operand {
            Operand::Term(term) => self.check_term(term, false),
            Operand::Plus(a, b) | Operand::Minus(a, b) => {
                let operator = if matches!(operand, Operand::Plus(..)) {
                    "+"
                } else {
                    "-"
                };
                for term in [a, b] {
                    self.check_term(term, false)?;
                    self.check_static_type(term, operator, "N")?;
                }
                Ok(())
            }
        }
    }

    fn check_term(&self, term: &Term, in_list_append: bool) -> Result<(), String> {
        match term {
            Term::Path(_) => Ok(()),
            Term::Value(placeholder) => self.value(placeholder).map(drop),
            Term::IfNotExists(path, default) => {
                self.check_term(default, in_list_append)?;
                if let Term::Path(other) = &**default {
                    let first = self.resolve(path)?;
                    if first == self.resolve(other)? {
                        return Err(invalid(format!(
                            "The first operand must be distinct from the remaining operands for this operator or function; operator: if_not_exists, first operand: {}",
                            path_text(&first)
                        )));
                    }
                }
                Ok(())
            }
            Term::ListAppend(a, b) => {
                // Alternator's test_update_expression_function_nesting: DynamoDB refuses
                // `list_append(list_append(..), ..)`. ASSUMPTION: a `list_append` anywhere
                // below another is refused the same way, and one below `if_not_exists` is not.
                if in_list_append {
                    return Err(invalid(
                        "The function is not allowed to be used this way in an expression; function: list_append",
                    ));
                }
                for term in [a, b] {
                    self.check_term(term, true)?;
                    self.check_static_type(term, "list_append", "L")?;
                }
                Ok(())
            }
        }
    }

    /// An operand that is a placeholder must have the operator's type.
    fn check_static_type(&self, term: &Term, operator: &str, wanted: &str) -> Result<(), String> {
        if let Term::Value(placeholder) = term {
            let found = self.value(placeholder)?.type_name();
            if found != wanted {
                return Err(invalid(format!(
                    "Incorrect operand type for operator or function; operator or function: {operator}, operand type: {found}"
                )));
            }
        }
        Ok(())
    }

    /// Applies the checked update to one item.
    fn run(&self, item: Option<&Item>, key: &Item) -> Result<Item, String> {
        limits::check_key(key)?;
        // Not a DynamoDB check: the caller's item must be the key's.
        if let Some(item) = item {
            for (name, value) in key {
                if !item.get(name).is_some_and(|held| same_value(held, value)) {
                    return Err(format!(
                        "the item does not hold its key: attribute `{name}` differs from the key's"
                    ));
                }
            }
        }
        // ASSUMPTION: any action on a key attribute fails, even one that would leave its value.
        let key_names: Vec<&str> = key.iter().map(|(name, _)| name.as_str()).collect();
        for action in &self.actions {
            if let Some(Step::Name(name)) = action.path().first() {
                check_not_key(&key_names, name)?;
            }
        }

        // ASSUMPTION (as DynamoDB's UpdateItem): an update of an item that does not exist
        // creates it with its key attributes, even when it writes nothing else; operands read
        // those key attributes.
        let before: Cow<'_, Item> = match item {
            Some(item) => Cow::Borrowed(item),
            None => Cow::Owned(key.clone()),
        };
        let mut problem = Problem::default();
        let mut writes: Vec<(&[Step], Option<Value>)> = Vec::new();
        for action in &self.actions {
            let path = action.path();
            // A nested `REMOVE x.y` / `REMOVE x[0]` (or `DELETE x.y :set`) on an item that does
            // not exist is refused like one on an item without `x`: so DynamoDB Local answers
            // (tests/all/evaluate.rs), though Alternator reports real DynamoDB ignoring it.
            match parent(&before, path) {
                Parent::Fits => {}
                Parent::WrongType => problem.note(Rank::WrongTypeParent, INVALID_PATH),
                Parent::Missing => problem.note(Rank::MissingParent, INVALID_PATH),
            }
            let current = get(&before, path);
            match action {
                Action::Set(_, operand) => match self.operand(&before, operand) {
                    Ok(mut value) => {
                        canonicalize(&mut value);
                        writes.push((path, Some(value)));
                    }
                    Err(failure) => problem.note(failure.rank, failure.message),
                },
                Action::Remove(_) => writes.push((path, None)),
                // ASSUMPTION: `ADD l[9] :n` past the end of a list appends, as `SET` does.
                Action::Add(_, value) => match add(current, value) {
                    Ok(mut value) => {
                        canonicalize(&mut value);
                        writes.push((path, Some(value)));
                    }
                    Err(message) => problem.note(Rank::Type, message),
                },
                Action::Delete(_, value) => match current {
                    None => {}
                    Some(current) => match delete(current, value) {
                        Ok(left) => writes.push((path, left)),
                        Err(message) => problem.note(Rank::Type, message),
                    },
                },
            }
        }
        if let Some((_, message)) = problem.0 {
            return Err(message);
        }
        let mut after = before.into_owned();
        write(&mut after, writes)?;
        let size = after.size();
        if size > limits::MAX_ITEM_BYTES {
            return Err(format!(
                "Item size to update has exceeded the maximum allowed size (the item would be \
                 {size} bytes, over DynamoDB's limit of {})",
                limits::MAX_ITEM_BYTES
            ));
        }
        limits::check_item(&after)?;
        Ok(after)
    }

    /// The value a `SET` writes, read from the item before the update.
    fn operand(&self, item: &Item, operand: &Operand) -> Result<Value, Failure> {
        match operand {
            Operand::Term(term) => self.term(item, term),
            Operand::Plus(a, b) | Operand::Minus(a, b) => {
                let (a, b) = (self.term(item, a), self.term(item, b));
                let number = |operand: &Result<Value, Failure>| match operand {
                    Ok(Value::N(n)) => Ok(Some(n.clone())),
                    Ok(_) => Err(Failure::new(Rank::Type, WRONG_TYPE)),
                    Err(failure) if failure.rank == Rank::Type => Err(failure.clone()),
                    Err(_) => Ok(None),
                };
                let (x, y) = (number(&a)?, number(&b)?);
                let (Some(x), Some(y)) = (x, y) else {
                    // A missing operand, once both are known not to be of the wrong type.
                    return Err(a.and(b).expect_err("an operand is missing"));
                };
                let (x, y) = (
                    Decimal::parse(&x).map_err(|e| Failure::new(Rank::Type, e))?,
                    Decimal::parse(&y).map_err(|e| Failure::new(Rank::Type, e))?,
                );
                let y = if matches!(operand, Operand::Minus(..)) {
                    y.negated()
                } else {
                    y
                };
                x.plus(&y)
                    .checked()
                    .map(|n| Value::N(n.to_text()))
                    .map_err(|message| Failure::new(Rank::Number, message))
            }
        }
    }

    fn term(&self, item: &Item, term: &Term) -> Result<Value, Failure> {
        match term {
            Term::Path(path) => self
                .read(item, path)
                .cloned()
                .ok_or_else(|| Failure::new(Rank::Missing, MISSING)),
            Term::Value(placeholder) => Ok(self.values[placeholder.as_str()].clone()),
            Term::IfNotExists(path, default) => match self.read(item, path) {
                Some(value) => Ok(value.clone()),
                None => self.term(item, default),
            },
            Term::ListAppend(a, b) => {
                let (a, b) = (self.term(item, a), self.term(item, b));
                let wrong = |operand: &Result<Value, Failure>| match operand {
                    Ok(value) => !matches!(value, Value::L(_)),
                    Err(failure) => failure.rank == Rank::Type,
                };
                if wrong(&a) || wrong(&b) {
                    return Err(Failure::new(Rank::Type, WRONG_TYPE));
                }
                match (a?, b?) {
                    (Value::L(mut a), Value::L(b)) => {
                        a.extend(b);
                        Ok(Value::L(a))
                    }
                    _ => unreachable!("both operands are lists"),
                }
            }
        }
    }

    /// The value at a path the expression reads (its placeholders are defined).
    fn read<'i>(&self, item: &'i Item, path: &DocumentPath) -> Option<&'i Value> {
        let steps = self.resolve(path).ok()?;
        get(item, &steps)
    }
}

/// Rejects what DynamoDB's tokenizer does not read as a name, and its reserved words, in a
/// name written in the expression (a `#placeholder` may stand for anything); and list indexes
/// beyond a Java `int`. The message lacks the expression's prefix (`Invalid UpdateExpression: `
/// or `Invalid ConditionExpression: `).
pub(super) fn check_written_names(path: &DocumentPath) -> Result<(), String> {
    for element in &path.0 {
        match element {
            Element::Name(name) => {
                // Alternator's test_update_expression_name_token: a name starts with a letter.
                if name.starts_with('_') {
                    return Err(format!("Syntax error; token: \"_\", near: \"{name}\""));
                }
                // Keywords of condition expressions, which DynamoDB's tokenizer also reads in
                // update expressions (ASSUMPTION, from an emulator of DynamoDB Local).
                if ["AND", "OR", "NOT", "BETWEEN", "IN"]
                    .iter()
                    .any(|keyword| name.eq_ignore_ascii_case(keyword))
                {
                    return Err(format!("Syntax error; token: \"{name}\""));
                }
                if is_reserved(name) {
                    return Err(format!(
                        "Attribute name is a reserved keyword; reserved keyword: {name}"
                    ));
                }
            }
            Element::Index(index) if *index > MAX_LIST_INDEX => {
                return Err(format!(
                    "List index is not within the allowable range; index: [{index}]"
                ));
            }
            Element::NamePlaceholder(_) | Element::Index(_) => {}
        }
    }
    Ok(())
}

/// `ADD` takes a number or a set, `DELETE` a set.
fn check_add_or_delete(operator: &str, value: &Value) -> Result<(), String> {
    let allowed = match value {
        Value::Ss(_) | Value::Ns(_) | Value::Bs(_) => true,
        Value::N(_) => operator == "ADD",
        _ => false,
    };
    if allowed {
        return Ok(());
    }
    let long = match value {
        Value::S(_) => "STRING",
        Value::N(_) => "NUMBER",
        Value::B(_) => "BINARY",
        Value::Bool(_) => "BOOLEAN",
        Value::Null => "NULL",
        Value::L(_) => "LIST",
        Value::M(_) => "MAP",
        Value::Ss(_) | Value::Ns(_) | Value::Bs(_) => unreachable!("sets are allowed"),
    };
    Err(invalid(format!(
        "Incorrect operand type for operator or function; operator: {operator}, operand type: {long}, typeSet: ALLOWED_FOR_{operator}_OPERAND"
    )))
}

/// No two actions may write the same path, or one inside the other ("overlap"), or use one
/// attribute both as a map and as a list ("conflict"). The paths are compared as written
/// (placeholders resolved), whatever the item holds.
fn check_overlaps(actions: &[Action<'_>]) -> Result<(), String> {
    for (i, first) in actions.iter().enumerate() {
        for second in &actions[i + 1..] {
            let (one, two) = (first.path(), second.path());
            let mut clash = Some("overlap");
            for (a, b) in one.iter().zip(two) {
                match (a, b) {
                    (Step::Name(_), Step::Index(_)) | (Step::Index(_), Step::Name(_)) => {
                        clash = Some("conflict");
                        break;
                    }
                    _ if a != b => {
                        clash = None;
                        break;
                    }
                    _ => {}
                }
            }
            if let Some(clash) = clash {
                return Err(invalid(format!(
                    "Two document paths {clash} with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    path_text(one),
                    path_text(two)
                )));
            }
        }
    }
    Ok(())
}

/// Why a `SET` or `ADD` fails, ranked in the order DynamoDB reports problems when an update
/// has several: a path through an attribute of the wrong type, an operand of the wrong type,
/// a path through a missing attribute, an attribute read that does not exist, a number out
/// of range. ASSUMPTION: this order (from an emulator tuned on DynamoDB Local); only which
/// message comes first depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    WrongTypeParent,
    Type,
    MissingParent,
    Missing,
    Number,
}

#[derive(Debug, Clone)]
struct Failure {
    rank: Rank,
    message: String,
}

impl Failure {
    fn new(rank: Rank, message: impl Into<String>) -> Failure {
        Failure {
            rank,
            message: message.into(),
        }
    }
}

/// The first problem of the lowest rank found.
#[derive(Default)]
struct Problem(Option<(Rank, String)>);

impl Problem {
    fn note(&mut self, rank: Rank, message: impl Into<String>) {
        if self.0.as_ref().is_none_or(|(noted, _)| rank < *noted) {
            self.0 = Some((rank, message.into()));
        }
    }
}

/// Whether the container a path writes into is there: the item itself for a top-level
/// attribute, else a map before a name or a list before an index.
enum Parent {
    Fits,
    WrongType,
    Missing,
}

fn parent(item: &Item, path: &[Step]) -> Parent {
    let Some((last, above)) = path.split_last() else {
        return Parent::WrongType;
    };
    if above.is_empty() {
        return match last {
            Step::Name(_) => Parent::Fits,
            Step::Index(_) => Parent::WrongType,
        };
    }
    match (get(item, above), last) {
        (None, _) => Parent::Missing,
        (Some(Value::M(_)), Step::Name(_)) | (Some(Value::L(_)), Step::Index(_)) => Parent::Fits,
        (Some(_), _) => Parent::WrongType,
    }
}

/// The value at a path, if every step exists.
fn get<'i>(item: &'i Item, path: &[Step]) -> Option<&'i Value> {
    let (Step::Name(first), rest) = path.split_first()? else {
        return None;
    };
    rest.iter()
        .try_fold(item.get(first)?, |value, step| match (step, value) {
            (Step::Name(name), Value::M(map)) => map.get(name),
            (Step::Index(index), Value::L(list)) => list.get(*index),
            _ => None,
        })
}

/// Whether two values are equal to DynamoDB: numbers by value.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::N(a), Value::N(b)) => a == b || number_key(a) == number_key(b),
        _ => a == b,
    }
}

/// A number's canonical text, to compare numbers by value.
fn number_key(n: &str) -> String {
    canonical_number(n).unwrap_or_else(|_| n.to_owned())
}

/// Spells every number in a written value canonically, as DynamoDB stores it (it answers
/// `1.5` for `1.50` and `1000` for `1E3`).
fn canonicalize(value: &mut Value) {
    match value {
        Value::N(n) => *n = number_key(n),
        Value::Ns(set) => set.iter_mut().for_each(|n| *n = number_key(n)),
        Value::L(list) => list.iter_mut().for_each(canonicalize),
        Value::M(map) => map.values_mut().for_each(canonicalize),
        Value::S(_) | Value::B(_) | Value::Bool(_) | Value::Null | Value::Ss(_) | Value::Bs(_) => {}
    }
}

/// `ADD`: a number added, a set's elements added, or the value itself where there is none.
fn add(current: Option<&Value>, value: &Value) -> Result<Value, String> {
    let Some(current) = current else {
        return Ok(value.clone());
    };
    match (current, value) {
        (Value::N(a), Value::N(b)) => Ok(Value::N(add_numbers(a, b)?)),
        (Value::Ss(a), Value::Ss(b)) => Ok(Value::Ss(union(a, b, Clone::clone))),
        (Value::Bs(a), Value::Bs(b)) => Ok(Value::Bs(union(a, b, Clone::clone))),
        (Value::Ns(a), Value::Ns(b)) => Ok(Value::Ns(union(a, b, |n| number_key(n)))),
        _ => Err(WRONG_TYPE.to_owned()),
    }
}

/// `DELETE`: a set without the given elements; None when none is left, since DynamoDB has no
/// empty sets.
fn delete(current: &Value, value: &Value) -> Result<Option<Value>, String> {
    let left = match (current, value) {
        (Value::Ss(a), Value::Ss(b)) => Value::Ss(difference(a, b, Clone::clone)),
        (Value::Bs(a), Value::Bs(b)) => Value::Bs(difference(a, b, Clone::clone)),
        (Value::Ns(a), Value::Ns(b)) => Value::Ns(difference(a, b, |n| number_key(n))),
        _ => return Err(WRONG_TYPE.to_owned()),
    };
    let empty = match &left {
        Value::Ss(set) => set.is_empty(),
        Value::Ns(set) => set.is_empty(),
        Value::Bs(set) => set.is_empty(),
        _ => false,
    };
    Ok((!empty).then_some(left))
}

/// `a`'s elements, then those of `b` that `a` lacks (by `identity`). ASSUMPTION: this order;
/// DynamoDB's sets have none, so a comparison with it must ignore the order of elements.
fn union<T: Clone, K: Ord>(a: &[T], b: &[T], identity: impl Fn(&T) -> K) -> Vec<T> {
    let mut seen: BTreeSet<K> = a.iter().map(&identity).collect();
    let mut out = a.to_vec();
    out.extend(b.iter().filter(|x| seen.insert(identity(x))).cloned());
    out
}

/// `a`'s elements that `b` lacks (by `identity`).
fn difference<T: Clone, K: Ord>(a: &[T], b: &[T], identity: impl Fn(&T) -> K) -> Vec<T> {
    let gone: BTreeSet<K> = b.iter().map(&identity).collect();
    a.iter()
        .filter(|x| !gone.contains(&identity(x)))
        .cloned()
        .collect()
}

/// Applies the writes (a value, or None to remove), all worked out from the item before the
/// update, whose paths neither overlap nor conflict.
///
/// The writes into one list go together, as of the list before the update: elements
/// replaced in place, removed ones dropped (the others shifting), and those past the end
/// appended in the order of their indexes. Deeper writes go first, so that a shallower one's
/// path still finds the containers it names: a write only changes the container it writes
/// into, and no container a shallower write goes through.
fn write(item: &mut Item, writes: Vec<(&[Step], Option<Value>)>) -> Result<(), String> {
    type Group = Vec<(Step, Option<Value>)>;
    let mut groups: BTreeMap<(std::cmp::Reverse<usize>, Vec<Step>), Group> = BTreeMap::new();
    for (path, value) in writes {
        let (last, parent) = path.split_last().expect("a path has a first step");
        groups
            .entry((std::cmp::Reverse(path.len()), parent.to_vec()))
            .or_default()
            .push((last.clone(), value));
    }
    let lost = || "internal error: a checked path no longer leads to a map or list".to_owned();
    for ((_, parent), group) in groups {
        let container = match parent.split_first() {
            None => None,
            Some((Step::Name(first), rest)) => {
                let mut value = item.get_mut(first).ok_or_else(lost)?;
                for step in rest {
                    value = match (step, value) {
                        (Step::Name(name), Value::M(map)) => map.get_mut(name),
                        (Step::Index(index), Value::L(list)) => list.get_mut(*index),
                        _ => None,
                    }
                    .ok_or_else(lost)?;
                }
                Some(value)
            }
            Some((Step::Index(_), _)) => return Err(lost()),
        };
        match container {
            None => write_map(item, group)?,
            Some(Value::M(map)) => write_map(map, group)?,
            Some(Value::L(list)) => {
                let mut removed = BTreeSet::new();
                let mut appended = BTreeMap::new();
                for (step, value) in group {
                    let Step::Index(index) = step else {
                        return Err(lost());
                    };
                    match value {
                        Some(value) if index < list.len() => list[index] = value,
                        Some(value) => {
                            appended.insert(index, value);
                        }
                        None if index < list.len() => {
                            removed.insert(index);
                        }
                        None => {}
                    }
                }
                let mut index = 0;
                list.retain(|_| {
                    index += 1;
                    !removed.contains(&(index - 1))
                });
                list.extend(appended.into_values());
            }
            Some(_) => return Err(lost()),
        }
    }
    Ok(())
}

fn write_map(map: &mut Item, group: Vec<(Step, Option<Value>)>) -> Result<(), String> {
    for (step, value) in group {
        let Step::Name(name) = step else {
            return Err("internal error: a list index into a map".to_owned());
        };
        match value {
            Some(value) => {
                map.insert(name, value);
            }
            None => {
                map.remove(&name);
            }
        }
    }
    Ok(())
}

/// Whether DynamoDB reserves `name` (in any case) as a keyword that an expression cannot use
/// as a name.
fn is_reserved(name: &str) -> bool {
    RESERVED_WORDS
        .binary_search_by(|word| {
            word.bytes()
                .cmp(name.bytes().map(|b| b.to_ascii_uppercase()))
        })
        .is_ok()
}

/// DynamoDB's reserved words, from the developer guide's "Reserved words in DynamoDB", in
/// order. Left out: the clause keywords and `AND`, `OR`, `NOT`, `BETWEEN`, `IN`, which are
/// syntax rather than names, and (ASSUMPTION, as reported of DynamoDB Local 3.3.1) `CONVERT`
/// and `SIZE`, which DynamoDB accepts as names although the guide lists them.
const RESERVED_WORDS: &[&str] = &[
    "ABORT",
    "ABSOLUTE",
    "ACTION",
    "AFTER",
    "AGENT",
    "AGGREGATE",
    "ALL",
    "ALLOCATE",
    "ALTER",
    "ANALYZE",
    "ANY",
    "ARCHIVE",
    "ARE",
    "ARRAY",
    "AS",
    "ASC",
    "ASCII",
    "ASENSITIVE",
    "ASSERTION",
    "ASYMMETRIC",
    "AT",
    "ATOMIC",
    "ATTACH",
    "ATTRIBUTE",
    "AUTH",
    "AUTHORIZATION",
    "AUTHORIZE",
    "AUTO",
    "AVG",
    "BACK",
    "BACKUP",
    "BASE",
    "BATCH",
    "BEFORE",
    "BEGIN",
    "BIGINT",
    "BINARY",
    "BIT",
    "BLOB",
    "BLOCK",
    "BOOLEAN",
    "BOTH",
    "BREADTH",
    "BUCKET",
    "BULK",
    "BY",
    "BYTE",
    "CALL",
    "CALLED",
    "CALLING",
    "CAPACITY",
    "CASCADE",
    "CASCADED",
    "CASE",
    "CAST",
    "CATALOG",
    "CHAR",
    "CHARACTER",
    "CHECK",
    "CLASS",
    "CLOB",
    "CLOSE",
    "CLUSTER",
    "CLUSTERED",
    "CLUSTERING",
    "CLUSTERS",
    "COALESCE",
    "COLLATE",
    "COLLATION",
    "COLLECTION",
    "COLUMN",
    "COLUMNS",
    "COMBINE",
    "COMMENT",
    "COMMIT",
    "COMPACT",
    "COMPILE",
    "COMPRESS",
    "CONDITION",
    "CONFLICT",
    "CONNECT",
    "CONNECTION",
    "CONSISTENCY",
    "CONSISTENT",
    "CONSTRAINT",
    "CONSTRAINTS",
    "CONSTRUCTOR",
    "CONSUMED",
    "CONTINUE",
    "COPY",
    "CORRESPONDING",
    "COUNT",
    "COUNTER",
    "CREATE",
    "CROSS",
    "CUBE",
    "CURRENT",
    "CURSOR",
    "CYCLE",
    "DATA",
    "DATABASE",
    "DATE",
    "DATETIME",
    "DAY",
    "DEALLOCATE",
    "DEC",
    "DECIMAL",
    "DECLARE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DEFINE",
    "DEFINED",
    "DEFINITION",
    "DELIMITED",
    "DEPTH",
    "DEREF",
    "DESC",
    "DESCRIBE",
    "DESCRIPTOR",
    "DETACH",
    "DETERMINISTIC",
    "DIAGNOSTICS",
    "DIRECTORIES",
    "DISABLE",
    "DISCONNECT",
    "DISTINCT",
    "DISTRIBUTE",
    "DO",
    "DOMAIN",
    "DOUBLE",
    "DROP",
    "DUMP",
    "DURATION",
    "DYNAMIC",
    "EACH",
    "ELEMENT",
    "ELSE",
    "ELSEIF",
    "EMPTY",
    "ENABLE",
    "END",
    "EQUAL",
    "EQUALS",
    "ERROR",
    "ESCAPE",
    "ESCAPED",
    "EVAL",
    "EVALUATE",
    "EXCEEDED",
    "EXCEPT",
    "EXCEPTION",
    "EXCEPTIONS",
    "EXCLUSIVE",
    "EXEC",
    "EXECUTE",
    "EXISTS",
    "EXIT",
    "EXPLAIN",
    "EXPLODE",
    "EXPORT",
    "EXPRESSION",
    "EXTENDED",
    "EXTERNAL",
    "EXTRACT",
    "FAIL",
    "FALSE",
    "FAMILY",
    "FETCH",
    "FIELDS",
    "FILE",
    "FILTER",
    "FILTERING",
    "FINAL",
    "FINISH",
    "FIRST",
    "FIXED",
    "FLATTERN",
    "FLOAT",
    "FOR",
    "FORCE",
    "FOREIGN",
    "FORMAT",
    "FORWARD",
    "FOUND",
    "FREE",
    "FROM",
    "FULL",
    "FUNCTION",
    "FUNCTIONS",
    "GENERAL",
    "GENERATE",
    "GET",
    "GLOB",
    "GLOBAL",
    "GO",
    "GOTO",
    "GRANT",
    "GREATER",
    "GROUP",
    "GROUPING",
    "HANDLER",
    "HASH",
    "HAVE",
    "HAVING",
    "HEAP",
    "HIDDEN",
    "HOLD",
    "HOUR",
    "IDENTIFIED",
    "IDENTITY",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IMPORT",
    "INCLUDING",
    "INCLUSIVE",
    "INCREMENT",
    "INCREMENTAL",
    "INDEX",
    "INDEXED",
    "INDEXES",
    "INDICATOR",
    "INFINITE",
    "INITIALLY",
    "INLINE",
    "INNER",
    "INNTER",
    "INOUT",
    "INPUT",
    "INSENSITIVE",
    "INSERT",
    "INSTEAD",
    "INT",
    "INTEGER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "INVALIDATE",
    "IS",
    "ISOLATION",
    "ITEM",
    "ITEMS",
    "ITERATE",
    "JOIN",
    "KEY",
    "KEYS",
    "LAG",
    "LANGUAGE",
    "LARGE",
    "LAST",
    "LATERAL",
    "LEAD",
    "LEADING",
    "LEAVE",
    "LEFT",
    "LENGTH",
    "LESS",
    "LEVEL",
    "LIKE",
    "LIMIT",
    "LIMITED",
    "LINES",
    "LIST",
    "LOAD",
    "LOCAL",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "LOCATION",
    "LOCATOR",
    "LOCK",
    "LOCKS",
    "LOG",
    "LOGED",
    "LONG",
    "LOOP",
    "LOWER",
    "MAP",
    "MATCH",
    "MATERIALIZED",
    "MAX",
    "MAXLEN",
    "MEMBER",
    "MERGE",
    "METHOD",
    "METRICS",
    "MIN",
    "MINUS",
    "MINUTE",
    "MISSING",
    "MOD",
    "MODE",
    "MODIFIES",
    "MODIFY",
    "MODULE",
    "MONTH",
    "MULTI",
    "MULTISET",
    "NAME",
    "NAMES",
    "NATIONAL",
    "NATURAL",
    "NCHAR",
    "NCLOB",
    "NEW",
    "NEXT",
    "NO",
    "NONE",
    "NULL",
    "NULLIF",
    "NUMBER",
    "NUMERIC",
    "OBJECT",
    "OF",
    "OFFLINE",
    "OFFSET",
    "OLD",
    "ON",
    "ONLINE",
    "ONLY",
    "OPAQUE",
    "OPEN",
    "OPERATOR",
    "OPTION",
    "ORDER",
    "ORDINALITY",
    "OTHER",
    "OTHERS",
    "OUT",
    "OUTER",
    "OUTPUT",
    "OVER",
    "OVERLAPS",
    "OVERRIDE",
    "OWNER",
    "PAD",
    "PARALLEL",
    "PARAMETER",
    "PARAMETERS",
    "PARTIAL",
    "PARTITION",
    "PARTITIONED",
    "PARTITIONS",
    "PATH",
    "PERCENT",
    "PERCENTILE",
    "PERMISSION",
    "PERMISSIONS",
    "PIPE",
    "PIPELINED",
    "PLAN",
    "POOL",
    "POSITION",
    "PRECISION",
    "PREPARE",
    "PRESERVE",
    "PRIMARY",
    "PRIOR",
    "PRIVATE",
    "PRIVILEGES",
    "PROCEDURE",
    "PROCESSED",
    "PROJECT",
    "PROJECTION",
    "PROPERTY",
    "PROVISIONING",
    "PUBLIC",
    "PUT",
    "QUERY",
    "QUIT",
    "QUORUM",
    "RAISE",
    "RANDOM",
    "RANGE",
    "RANK",
    "RAW",
    "READ",
    "READS",
    "REAL",
    "REBUILD",
    "RECORD",
    "RECURSIVE",
    "REDUCE",
    "REF",
    "REFERENCE",
    "REFERENCES",
    "REFERENCING",
    "REGEXP",
    "REGION",
    "REINDEX",
    "RELATIVE",
    "RELEASE",
    "REMAINDER",
    "RENAME",
    "REPEAT",
    "REPLACE",
    "REQUEST",
    "RESET",
    "RESIGNAL",
    "RESOURCE",
    "RESPONSE",
    "RESTORE",
    "RESTRICT",
    "RESULT",
    "RETURN",
    "RETURNING",
    "RETURNS",
    "REVERSE",
    "REVOKE",
    "RIGHT",
    "ROLE",
    "ROLES",
    "ROLLBACK",
    "ROLLUP",
    "ROUTINE",
    "ROW",
    "ROWS",
    "RULE",
    "RULES",
    "SAMPLE",
    "SATISFIES",
    "SAVE",
    "SAVEPOINT",
    "SCAN",
    "SCHEMA",
    "SCOPE",
    "SCROLL",
    "SEARCH",
    "SECOND",
    "SECTION",
    "SEGMENT",
    "SEGMENTS",
    "SELECT",
    "SELF",
    "SEMI",
    "SENSITIVE",
    "SEPARATE",
    "SEQUENCE",
    "SERIALIZABLE",
    "SESSION",
    "SETS",
    "SHARD",
    "SHARE",
    "SHARED",
    "SHORT",
    "SHOW",
    "SIGNAL",
    "SIMILAR",
    "SKEWED",
    "SMALLINT",
    "SNAPSHOT",
    "SOME",
    "SOURCE",
    "SPACE",
    "SPACES",
    "SPARSE",
    "SPECIFIC",
    "SPECIFICTYPE",
    "SPLIT",
    "SQL",
    "SQLCODE",
    "SQLERROR",
    "SQLEXCEPTION",
    "SQLSTATE",
    "SQLWARNING",
    "START",
    "STATE",
    "STATIC",
    "STATUS",
    "STORAGE",
    "STORE",
    "STORED",
    "STREAM",
    "STRING",
    "STRUCT",
    "STYLE",
    "SUB",
    "SUBMULTISET",
    "SUBPARTITION",
    "SUBSTRING",
    "SUBTYPE",
    "SUM",
    "SUPER",
    "SYMMETRIC",
    "SYNONYM",
    "SYSTEM",
    "TABLE",
    "TABLESAMPLE",
    "TEMP",
    "TEMPORARY",
    "TERMINATED",
    "TEXT",
    "THAN",
    "THEN",
    "THROUGHPUT",
    "TIME",
    "TIMESTAMP",
    "TIMEZONE",
    "TINYINT",
    "TO",
    "TOKEN",
    "TOTAL",
    "TOUCH",
    "TRAILING",
    "TRANSACTION",
    "TRANSFORM",
    "TRANSLATE",
    "TRANSLATION",
    "TREAT",
    "TRIGGER",
    "TRIM",
    "TRUE",
    "TRUNCATE",
    "TTL",
    "TUPLE",
    "TYPE",
    "UNDER",
    "UNDO",
    "UNION",
    "UNIQUE",
    "UNIT",
    "UNKNOWN",
    "UNLOGGED",
    "UNNEST",
    "UNPROCESSED",
    "UNSIGNED",
    "UNTIL",
    "UPDATE",
    "UPPER",
    "URL",
    "USAGE",
    "USE",
    "USER",
    "USERS",
    "USING",
    "UUID",
    "VACUUM",
    "VALUE",
    "VALUED",
    "VALUES",
    "VARCHAR",
    "VARIABLE",
    "VARIANCE",
    "VARINT",
    "VARYING",
    "VIEW",
    "VIEWS",
    "VIRTUAL",
    "VOID",
    "WAIT",
    "WHEN",
    "WHENEVER",
    "WHERE",
    "WHILE",
    "WINDOW",
    "WITH",
    "WITHIN",
    "WITHOUT",
    "WORK",
    "WRAPPED",
    "WRITE",
    "YEAR",
    "ZONE",
];

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse(text: &str) -> UpdateExpression {
        UpdateExpression::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn n(text: &str) -> Value {
        Value::N(text.to_owned())
    }

    fn s(text: &str) -> Value {
        Value::S(text.to_owned())
    }

    fn ss(elements: &[&str]) -> Value {
        Value::Ss(elements.iter().map(|e| e.to_string()).collect())
    }

    fn ns(elements: &[&str]) -> Value {
        Value::Ns(elements.iter().map(|e| e.to_string()).collect())
    }

    fn list(elements: &[Value]) -> Value {
        Value::L(elements.to_vec())
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::M(pairs.iter().cloned().collect())
    }

    fn key() -> Item {
        Item::new().with("pk", "k")
    }

    /// An item with key `pk = "k"` and these attributes.
    fn item(pairs: &[(&str, Value)]) -> Item {
        let mut item: Item = pairs.iter().cloned().collect();
        item.set("pk", "k");
        item
    }

    fn values(pairs: &[(&str, Value)]) -> Item {
        pairs.iter().cloned().collect()
    }

    fn names(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(p, n)| (p.to_string(), n.to_string()))
            .collect()
    }

    fn apply_with(
        before: Option<&Item>,
        text: &str,
        names: &BTreeMap<String, String>,
        values: &Item,
    ) -> Result<Item, String> {
        parse(text).apply(before, &key(), names, values)
    }

    fn apply(before: Option<&Item>, text: &str, vals: &[(&str, Value)]) -> Result<Item, String> {
        apply_with(before, text, &BTreeMap::new(), &values(vals))
    }

    fn ok(before: &Item, text: &str, vals: &[(&str, Value)]) -> Item {
        apply(Some(before), text, vals).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(before: Option<&Item>, text: &str, vals: &[(&str, Value)]) -> String {
        match apply(before, text, vals) {
            Ok(after) => panic!("{text}: expected an error, got {after:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn set_writes_top_level_and_nested_attributes() {
        let before = item(&[("a", map(&[("b", n("3")), ("c", n("4"))])), ("d", n("5"))]);
        assert_eq!(
            ok(
                &before,
                "SET a.c = :v, a.d = :w, e = :v",
                &[(":v", n("7")), (":w", s("x"))]
            ),
            item(&[
                ("a", map(&[("b", n("3")), ("c", n("7")), ("d", s("x"))])),
                ("d", n("5")),
                ("e", n("7")),
            ])
        );
        // A whole nested document is replaced, by a value of any type.
        assert_eq!(
            ok(&before, "SET a = :v", &[(":v", s("hi"))]),
            item(&[("a", s("hi")), ("d", n("5"))])
        );
        // Deep paths with placeholders, on both sides.
        let deep = item(&[(
            "a",
            map(&[(
                "c",
                list(&[
                    s("hi"),
                    map(&[("x", map(&[("y", list(&[n("3"), n("5"), n("7")]))]))]),
                ]),
            )]),
        )]);
        let after = apply_with(
            Some(&deep),
            "SET a.c[1].#name.y[1] = :v, z = a.c[1].#name.y[2]",
            &names(&[("#name", "x")]),
            &values(&[(":v", n("9"))]),
        )
        .unwrap();
        assert_eq!(
            after.path("a.c[1].x.y"),
            Some(&list(&[n("3"), n("9"), n("7")]))
        );
        assert_eq!(after.get("z"), Some(&n("7")));
    }

    #[test]
    fn a_name_placeholder_stands_for_one_name_dots_included() {
        let after = apply_with(
            None,
            "SET #a = :v",
            &names(&[("#a", "a.b")]),
            &values(&[(":v", n("3"))]),
        )
        .unwrap();
        assert_eq!(after, item(&[("a.b", n("3"))]));
    }

    #[test]
    fn set_past_the_end_of_a_list_appends_in_index_order() {
        let before = item(&[("a", list(&[s("one"), s("two"), s("three")]))]);
        let after = ok(&before, "SET a[7] = :v", &[(":v", s("hello"))]);
        assert_eq!(
            after.get("a"),
            Some(&list(&[s("one"), s("two"), s("three"), s("hello")]))
        );
        let after = ok(
            &after,
            "SET a[84] = :a1, a[37] = :a2, a[17] = :a3, a[50] = :a4, a[1] = :a5",
            &[
                (":a1", s("a1")),
                (":a2", s("a2")),
                (":a3", s("a3")),
                (":a4", s("a4")),
                (":a5", s("2")),
            ],
        );
        assert_eq!(
            after.get("a"),
            Some(&list(&[
                s("one"),
                s("2"),
                s("three"),
                s("hello"),
                s("a3"),
                s("a2"),
                s("a4"),
                s("a1")
            ]))
        );
    }

    #[test]
    fn a_path_through_a_missing_or_wrong_typed_attribute_is_invalid() {
        let before = item(&[("a", s("hello")), ("b", list(&[s("hi")])), ("m", map(&[]))]);
        for text in [
            "SET a.c = :v",
            "SET b.c = :v",
            "SET c.c = :v",
            "SET a[0] = :v",
            "SET m[0] = :v",
            "SET c[0] = :v",
            "SET b[3].x = :v",
            "SET m.x.y = :v",
            "REMOVE a.c",
            "REMOVE b.c",
            "REMOVE c.c",
            "REMOVE a[0]",
            "REMOVE c[0]",
            "ADD c.d :v",
            "DELETE c.d :s",
        ] {
            let vals: &[(&str, Value)] = if text.starts_with("DELETE") {
                &[(":s", ss(&["x"]))]
            } else if text.starts_with("REMOVE") {
                &[]
            } else {
                &[(":v", n("7"))]
            };
            assert_eq!(err(Some(&before), text, vals), INVALID_PATH, "{text}");
        }
        // Same when the item does not exist...
        assert_eq!(err(None, "SET c.c = :v", &[(":v", n("7"))]), INVALID_PATH);
        assert_eq!(err(None, "SET b[0] = :v", &[(":v", n("7"))]), INVALID_PATH);
        // ...REMOVE below anything included (as DynamoDB Local answers); a top-level REMOVE
        // of a missing item removes nothing and creates it.
        assert_eq!(err(None, "REMOVE x.y", &[]), INVALID_PATH);
        assert_eq!(err(None, "REMOVE z[0]", &[]), INVALID_PATH);
        assert_eq!(apply(None, "REMOVE x", &[]).unwrap(), key());
    }

    #[test]
    fn every_operand_reads_the_item_before_the_update() {
        let before = item(&[("a", s("hello"))]);
        assert_eq!(
            ok(&before, "SET a = :v, b = a", &[(":v", s("new"))]),
            item(&[("a", s("new")), ("b", s("hello"))])
        );
        assert_eq!(
            ok(&before, "REMOVE a SET b = a", &[]),
            item(&[("b", s("hello"))])
        );
        assert_eq!(
            ok(&before, "SET c = a REMOVE a", &[]),
            item(&[("c", s("hello"))])
        );
        // `x` is not there before the update, so `y = x` has nothing to read.
        assert_eq!(
            err(Some(&before), "SET x = :v, y = x", &[(":v", n("4"))]),
            MISSING
        );
        assert_eq!(err(Some(&before), "SET c = z", &[]), MISSING);
        assert_eq!(err(None, "SET c = z", &[]), MISSING);
        assert_eq!(ok(&before, "SET a = a", &[]), before);
        // The key attributes can be read, also of an item that does not exist yet.
        assert_eq!(
            apply(None, "SET dup = pk", &[]).unwrap(),
            item(&[("dup", s("k"))])
        );
    }

    #[test]
    fn plus_and_minus_are_exact_on_numbers_only() {
        let before = item(&[("a", n("2")), ("s", s("x"))]);
        assert_eq!(
            ok(&before, "SET a = a + :v", &[(":v", n("3"))]).get("a"),
            Some(&n("5"))
        );
        assert_eq!(
            ok(&before, "SET b = :v - a", &[(":v", n("7"))]).get("b"),
            Some(&n("5"))
        );
        assert_eq!(ok(&before, "SET b = a + a", &[]).get("b"), Some(&n("4")));
        let big = [(":one", n("1")), (":big", n("10000000000000000000000"))];
        assert_eq!(
            ok(&before, "SET b = :one + :big", &big).get("b"),
            Some(&n("10000000000000000000001"))
        );
        assert_eq!(
            ok(&before, "SET b = :big - :one", &big).get("b"),
            Some(&n("9999999999999999999999"))
        );
        assert_eq!(
            ok(
                &before,
                "SET b = :x + :y",
                &[(":x", n("0.1")), (":y", n("0.2"))]
            )
            .get("b"),
            Some(&n("0.3"))
        );
        assert_eq!(
            ok(
                &before,
                "SET b = :x - :y",
                &[(":x", n("1.5E3")), (":y", n("1500.00"))]
            )
            .get("b"),
            Some(&n("0"))
        );
        // Results DynamoDB cannot store.
        for (x, y) in [("9e125", "9e125"), ("1e50", "1")] {
            assert_eq!(
                err(
                    Some(&before),
                    "SET b = :x + :y",
                    &[(":x", n(x)), (":y", n(y))]
                ),
                OVERFLOW
            );
        }
        assert_eq!(
            err(
                Some(&before),
                "SET b = :x - :y",
                &[(":x", n("9e125")), (":y", n("-9e125"))]
            ),
            OVERFLOW
        );
        // Operands of another type.
        assert_eq!(
            err(Some(&before), "SET b = :x + :y", &[(":x", s("dog")), (":y", n("3"))]),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"
        );
        assert_eq!(
            err(Some(&before), "SET b = :x - :y", &[(":x", n("1")), (":y", list(&[]))]),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: -, operand type: L"
        );
        assert_eq!(
            err(Some(&before), "SET b = s + :y", &[(":y", n("3"))]),
            WRONG_TYPE
        );
        // A wrong type is reported before a missing operand.
        assert_eq!(err(Some(&before), "SET b = gone + s", &[]), WRONG_TYPE);
        assert_eq!(err(Some(&before), "SET b = gone + a", &[]), MISSING);
        // if_not_exists gives the starting value of a counter.
        let counter = "SET c = if_not_exists(c, :zero) + :one";
        let vals = [(":zero", n("0")), (":one", n("1"))];
        let once = ok(&before, counter, &vals);
        assert_eq!(once.get("c"), Some(&n("1")));
        assert_eq!(ok(&once, counter, &vals).get("c"), Some(&n("2")));
    }

    #[test]
    fn numbers_written_are_canonical() {
        let after = apply(
            None,
            "SET a = :a, b = :b, c = :c ADD d :d",
            &[
                (":a", n("1.50")),
                (":b", list(&[n("1e3"), map(&[("x", n("-0"))])])),
                (":c", ns(&["1.0", "2E1"])),
                (":d", n("+007")),
            ],
        )
        .unwrap();
        assert_eq!(
            after,
            item(&[
                ("a", n("1.5")),
                ("b", list(&[n("1000"), map(&[("x", n("0"))])])),
                ("c", ns(&["1", "20"])),
                ("d", n("7")),
            ])
        );
    }

    #[test]
    fn if_not_exists_reads_the_path_or_falls_back() {
        let before = item(&[("a", n("2"))]);
        let vals = [(":v", n("9"))];
        assert_eq!(
            ok(&before, "SET a = if_not_exists(a, :v)", &vals).get("a"),
            Some(&n("2"))
        );
        assert_eq!(
            ok(&before, "SET b = if_not_exists(c, :v)", &vals).get("b"),
            Some(&n("9"))
        );
        assert_eq!(
            ok(&before, "SET b = if_not_exists(a, :v)", &vals).get("b"),
            Some(&n("2"))
        );
        assert_eq!(
            ok(
                &before,
                "SET b = if_not_exists(x, if_not_exists(a, :v))",
                &vals
            )
            .get("b"),
            Some(&n("2"))
        );
        // A path below something that is not a map is missing too.
        assert_eq!(
            ok(&before, "SET b = if_not_exists(a.x, :v)", &vals).get("b"),
            Some(&n("9"))
        );
        // The default is evaluated only when needed: a missing path there fails then.
        assert_eq!(
            ok(&before, "SET b = if_not_exists(a, z)", &[]).get("b"),
            Some(&n("2"))
        );
        assert_eq!(
            err(Some(&before), "SET b = if_not_exists(c, z)", &[]),
            MISSING
        );
        assert_eq!(
            err(Some(&before), "SET b = if_not_exists(a, a)", &[]),
            "Invalid UpdateExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: if_not_exists, first operand: [a]"
        );
    }

    #[test]
    fn list_append_concatenates_two_lists() {
        let before = item(&[("a", list(&[s("hi"), n("2")])), ("b", n("7"))]);
        let vals = [(":v", list(&[n("4"), s("hello")]))];
        assert_eq!(
            ok(&before, "SET a = list_append(a, :v)", &vals).get("a"),
            Some(&list(&[s("hi"), n("2"), n("4"), s("hello")]))
        );
        assert_eq!(
            ok(&before, "SET a = list_append(:v, a)", &vals).get("a"),
            Some(&list(&[n("4"), s("hello"), s("hi"), n("2")]))
        );
        assert_eq!(
            ok(&before, "SET c = list_append(a, a)", &[]).get("c"),
            Some(&list(&[s("hi"), n("2"), s("hi"), n("2")]))
        );
        // The usual way to append to a list that may not exist yet.
        let text = "SET h = list_append(if_not_exists(h, :empty), :v)";
        let vals = [(":empty", list(&[])), (":v", list(&[n("1")]))];
        let once = ok(&before, text, &vals);
        assert_eq!(once.get("h"), Some(&list(&[n("1")])));
        assert_eq!(
            ok(&once, text, &vals).get("h"),
            Some(&list(&[n("1"), n("1")]))
        );
        // Not lists.
        for text in ["SET c = list_append(b, :v)", "SET c = list_append(:v, b)"] {
            assert_eq!(err(Some(&before), text, &[(":v", list(&[]))]), WRONG_TYPE);
        }
        for text in ["SET c = list_append(z, :v)", "SET c = list_append(:v, z)"] {
            assert_eq!(err(Some(&before), text, &[(":v", list(&[]))]), MISSING);
        }
        assert_eq!(
            err(Some(&before), "SET c = list_append(a, :v)", &[(":v", s("hi"))]),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S"
        );
        assert_eq!(
            err(
                Some(&before),
                "SET c = list_append(list_append(:x, :y), :z)",
                &[(":x", list(&[])), (":y", list(&[])), (":z", list(&[]))]
            ),
            "Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: list_append"
        );
    }

    #[test]
    fn remove_drops_attributes_and_list_elements() {
        let before = item(&[
            (
                "a",
                map(&[
                    ("b", n("3")),
                    (
                        "c",
                        list(&[
                            s("hi"),
                            map(&[
                                ("x", map(&[("y", list(&[n("3"), n("5"), n("7")]))])),
                                ("q", n("2")),
                            ]),
                        ]),
                    ),
                ]),
            ),
            ("l", list(&[n("2"), n("3"), n("4"), n("5"), n("6"), n("7")])),
        ]);
        let after = ok(
            &before,
            "REMOVE a.c[1].x.y[1], a.c[1].q, gone, a.nothing",
            &[],
        );
        assert_eq!(
            after.get("a"),
            Some(&map(&[
                ("b", n("3")),
                (
                    "c",
                    list(&[
                        s("hi"),
                        map(&[("x", map(&[("y", list(&[n("3"), n("7")]))]))])
                    ])
                )
            ]))
        );
        // Several indexes of one list are those of the list before the update.
        assert_eq!(
            ok(&before, "REMOVE l[1], l[2], l[17]", &[]).get("l"),
            Some(&list(&[n("2"), n("5"), n("6"), n("7")]))
        );
        for text in ["REMOVE l[1] SET l[3] = :v", "SET l[3] = :v REMOVE l[1]"] {
            assert_eq!(
                ok(&before, text, &[(":v", n("17"))]).get("l"),
                Some(&list(&[n("2"), n("4"), n("17"), n("6"), n("7")]))
            );
        }
        // Writes inside an element and removals before it, in one list.
        assert_eq!(
            ok(
                &item(&[(
                    "l",
                    list(&[list(&[n("1"), n("2")]), n("3"), list(&[n("4")])])
                )]),
                "REMOVE l[0][0], l[1] SET l[2][5] = :v",
                &[(":v", n("5"))]
            )
            .get("l"),
            Some(&list(&[list(&[n("2")]), list(&[n("4"), n("5")])]))
        );
        // An emptied map or list stays.
        let single = item(&[("m", map(&[("b", n("1"))])), ("k", list(&[n("1")]))]);
        assert_eq!(
            ok(&single, "REMOVE m.b, k[0]", &[]),
            item(&[("m", map(&[])), ("k", list(&[]))])
        );
        assert_eq!(ok(&single, "REMOVE k[7], m.x, zz", &[]), single);
    }

    #[test]
    fn add_adds_to_numbers_and_sets() {
        let before = item(&[
            ("a", n("3")),
            ("b", s("hi")),
            ("t", ss(&["dog", "cat"])),
            ("m", map(&[])),
        ]);
        assert_eq!(
            ok(&before, "ADD a :v", &[(":v", n("4"))]).get("a"),
            Some(&n("7"))
        );
        assert_eq!(
            ok(&before, "ADD a :v", &[(":v", n("-4.5"))]).get("a"),
            Some(&n("-1.5"))
        );
        // A missing attribute starts from nothing: 0, or the empty set.
        assert_eq!(
            ok(&before, "ADD c :v", &[(":v", n("8"))]).get("c"),
            Some(&n("8"))
        );
        assert_eq!(
            apply(None, "ADD c :v", &[(":v", n("8"))]).unwrap(),
            item(&[("c", n("8"))])
        );
        assert_eq!(
            ok(&before, "ADD t :v", &[(":v", ss(&["cat", "pig"]))]).get("t"),
            Some(&ss(&["dog", "cat", "pig"]))
        );
        assert_eq!(
            ok(&before, "ADD u :v", &[(":v", ss(&["x"]))]).get("u"),
            Some(&ss(&["x"]))
        );
        assert_eq!(
            ok(
                &item(&[("n", ns(&["1", "2"]))]),
                "ADD n :v",
                &[(":v", ns(&["2.0", "3"]))]
            )
            .get("n"),
            Some(&ns(&["1", "2", "3"]))
        );
        // A document path works too.
        assert_eq!(
            ok(&before, "ADD m.x :v", &[(":v", n("1"))]).get("m"),
            Some(&map(&[("x", n("1"))]))
        );
        // Mismatched types.
        for (text, value) in [
            ("ADD b :v", n("1")),
            ("ADD a :v", ss(&["x"])),
            ("ADD t :v", ns(&["1"])),
            ("ADD t :v", Value::Bs(vec![vec![1]])),
        ] {
            assert_eq!(
                err(Some(&before), text, &[(":v", value)]),
                WRONG_TYPE,
                "{text}"
            );
        }
        assert_eq!(
            err(Some(&before), "ADD a :v", &[(":v", s("hello"))]),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"
        );
        assert_eq!(
            err(Some(&before), "ADD a :v", &[(":v", list(&[n("3")]))]),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: LIST, typeSet: ALLOWED_FOR_ADD_OPERAND"
        );
        assert_eq!(
            err(
                Some(&item(&[("a", n("9e125"))])),
                "ADD a :v",
                &[(":v", n("9e125"))]
            ),
            OVERFLOW
        );
    }

    #[test]
    fn delete_takes_elements_out_of_sets() {
        let before = item(&[
            ("a", ss(&["dog", "cat", "mouse"])),
            ("b", s("hi")),
            ("n", ns(&["1", "2"])),
        ]);
        let after = ok(
            &before,
            "DELETE a :v",
            &[(":v", ss(&["cat", "mouse", "pig"]))],
        );
        assert_eq!(after.get("a"), Some(&ss(&["dog"])));
        // Emptied, the set goes: DynamoDB stores no empty set.
        assert_eq!(
            ok(&after, "DELETE a :v", &[(":v", ss(&["dog"]))]).get("a"),
            None
        );
        assert_eq!(
            ok(&before, "DELETE n :v", &[(":v", ns(&["1.0"]))]).get("n"),
            Some(&ns(&["2"]))
        );
        // Nothing to take from.
        assert_eq!(ok(&before, "DELETE z :v", &[(":v", ss(&["dog"]))]), before);
        assert_eq!(
            apply(None, "DELETE z :v", &[(":v", ss(&["dog"]))]).unwrap(),
            key()
        );
        for (text, value) in [("DELETE b :v", ss(&["x"])), ("DELETE a :v", ns(&["1"]))] {
            assert_eq!(err(Some(&before), text, &[(":v", value)]), WRONG_TYPE);
        }
        assert_eq!(
            err(Some(&before), "DELETE a :v", &[(":v", s("hello"))]),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: STRING, typeSet: ALLOWED_FOR_DELETE_OPERAND"
        );
        assert_eq!(
            err(Some(&before), "DELETE n :v", &[(":v", n("1"))]),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"
        );
        // An empty set is not a value.
        assert_eq!(
            err(Some(&before), "DELETE a :v", &[(":v", ss(&[]))]),
            "ExpressionAttributeValues contains invalid value: string set is empty; DynamoDB has no empty sets for key :v"
        );
    }

    #[test]
    fn paths_may_not_overlap_or_conflict() {
        for text in [
            "SET a = :v REMOVE a",
            "REMOVE a SET a = :v",
            "SET a = :v, a = :w",
            "SET a = :v, a.b = :w",
            "SET a.b = :v, a = :w",
            "SET a.b.c = :v, a.b = :w",
            "SET a.b = :v, a.b.c.d.e = :w",
            "SET a = :v, a[1] = :w",
            "SET a[1][1] = :v, a[1] = :w",
            "SET a[1][1][1][1] = :v, a[1][1][1][1] = :w",
            "SET a = :v ADD a :w",
            "REMOVE a.b DELETE a :w",
        ] {
            let e = err(None, text, &[(":v", n("1")), (":w", ns(&["2"]))]);
            assert!(e.starts_with("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "), "{text}: {e}");
        }
        assert_eq!(
            err(None, "SET a.b = :v, a.b.c = :w", &[(":v", n("1")), (":w", n("2"))]),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, b, c]"
        );
        assert_eq!(
            err(None, "SET a.b = :v, a[1] = :w", &[(":v", n("1")), (":w", n("2"))]),
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"
        );
        // Compared once placeholders are resolved.
        assert!(apply_with(
            None,
            "SET #a1 = :v, #a2 = :v",
            &names(&[("#a1", "a"), ("#a2", "a")]),
            &values(&[(":v", n("1"))])
        )
        .unwrap_err()
        .contains("overlap"));
        // Paths that only share a beginning do not overlap.
        let before = item(&[
            (
                "a",
                map(&[("x", n("3")), ("y", n("4")), ("c", map(&[("y", n("3"))]))]),
            ),
            ("b", map(&[("x", n("1")), ("y", n("2"))])),
        ]);
        assert_eq!(
            ok(
                &before,
                "SET a.b = :v1, a.c.d = :v2, b.x = :v3 REMOVE a.x, b.y",
                &[(":v1", n("10")), (":v2", s("dog")), (":v3", n("17"))]
            ),
            item(&[
                (
                    "a",
                    map(&[
                        ("y", n("4")),
                        ("b", n("10")),
                        ("c", map(&[("y", n("3")), ("d", s("dog"))]))
                    ])
                ),
                ("b", map(&[("x", n("17"))])),
            ])
        );
    }

    #[test]
    fn placeholders_must_be_defined_and_used() {
        assert_eq!(
            err(None, "SET b = :val1", &[(":val2", n("4"))]),
            "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :val1"
        );
        assert_eq!(
            apply_with(None, "SET #name = :v", &names(&[("#wrong", "x")]), &values(&[(":v", n("1"))])).unwrap_err(),
            "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #name"
        );
        assert_eq!(
            err(None, "SET a = :val1", &[(":val1", n("3")), (":val2", n("4")), (":val3", n("5"))]),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:val2, :val3}"
        );
        assert_eq!(
            apply_with(
                None,
                "SET #one = #two",
                &names(&[("#one", "c"), ("#two", "pk"), ("#three", "z")]),
                &Item::new()
            )
            .unwrap_err(),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#three}"
        );
        // Used on the right side counts.
        assert_eq!(
            apply_with(
                None,
                "SET #one = #two",
                &names(&[("#one", "c"), ("#two", "pk")]),
                &Item::new()
            )
            .unwrap(),
            item(&[("c", s("k"))])
        );
        // A condition may use the others.
        let expression = parse("SET a = :v");
        let vals = values(&[(":v", n("1")), (":expected", n("0"))]);
        let both = names(&[("#unused", "x")]);
        assert!(expression.apply(None, &key(), &both, &vals).is_err());
        assert_eq!(
            expression
                .apply_allowing_unused(None, &key(), &both, &vals)
                .unwrap(),
            item(&[("a", n("1"))])
        );
        let expression = parse(
            "SET #a = list_append(#b.c, :x), d = if_not_exists(#e, :y) REMOVE #f ADD g :z DELETE #h :w",
        );
        let used = expression.placeholders();
        assert_eq!(
            used.names.into_iter().collect::<Vec<_>>(),
            ["#a", "#b", "#e", "#f", "#h"]
        );
        assert_eq!(
            used.values.into_iter().collect::<Vec<_>>(),
            [":w", ":x", ":y", ":z"]
        );
        assert_eq!(
            apply_with(
                None,
                "SET #a = :v",
                &names(&[("#a", "")]),
                &values(&[(":v", n("1"))])
            )
            .unwrap_err(),
            "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a"
        );
    }

    #[test]
    fn key_attributes_cannot_change() {
        let key = Item::new().with("p", "x").with("c", 7);
        let before = key.clone().with("a", 1);
        for text in [
            "SET p = :v",
            "SET c = :v",
            "REMOVE p",
            "REMOVE c",
            "ADD c :v",
            "DELETE p :s",
            "SET #k = :v",
        ] {
            let result = parse(text).apply_allowing_unused(
                Some(&before),
                &key,
                &names(&[("#k", "c")]),
                &values(&[(":v", n("4")), (":s", ss(&["cat"]))]),
            );
            let expected = if text.contains('p') { "p" } else { "c" };
            assert_eq!(
                result.unwrap_err(),
                format!("One or more parameter values were invalid: Cannot update attribute {expected}. This attribute is part of the key"),
                "{text}"
            );
        }
        // Reading them is fine; a new item starts from the key.
        let after = parse("SET n = p, nn = c + c")
            .apply(None, &key, &BTreeMap::new(), &Item::new())
            .unwrap();
        assert_eq!(after, key.clone().with("n", "x").with("nn", 14));
        // A key DynamoDB would reject, or an item that is not the key's.
        let expression = parse("REMOVE a");
        assert_eq!(
            expression
                .apply(
                    None,
                    &Item::new().with("p", ""),
                    &BTreeMap::new(),
                    &Item::new()
                )
                .unwrap_err(),
            "key attribute `p` is an empty string"
        );
        assert!(expression
            .apply(
                Some(&before),
                &Item::new().with("p", "y").with("c", 7),
                &BTreeMap::new(),
                &Item::new()
            )
            .unwrap_err()
            .contains("does not hold its key"));
        assert!(expression
            .apply(
                Some(&before),
                &Item::new().with("p", "x").with("c", "7.0"),
                &BTreeMap::new(),
                &Item::new()
            )
            .is_err());
        assert_eq!(
            expression
                .apply(
                    Some(&before),
                    &Item::new().with("p", "x").with("c", Value::number("7.0")),
                    &BTreeMap::new(),
                    &Item::new()
                )
                .unwrap(),
            key
        );
    }

    #[test]
    fn names_dynamodb_cannot_read_are_errors() {
        assert_eq!(
            err(None, "SET name = :v", &[(":v", n("1"))]),
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"
        );
        assert_eq!(
            err(None, "SET a = Status", &[]),
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Status"
        );
        assert!(err(None, "REMOVE a.data", &[]).contains("reserved keyword: data"));
        assert!(
            err(None, "SET a = if_not_exists(b.ttl, :v)", &[(":v", n("1"))])
                .contains("reserved keyword: ttl")
        );
        assert!(err(None, "SET _a = :v", &[(":v", n("1"))]).contains("Syntax error"));
        assert!(err(None, "SET a = b.in", &[]).contains("Syntax error"));
        for fine in ["nameless", "size", "convert", "a_b", "Statuses"] {
            assert!(!is_reserved(fine), "{fine}");
            assert_eq!(
                apply(None, &format!("SET {fine} = :v"), &[(":v", n("1"))])
                    .unwrap()
                    .get(fine),
                Some(&n("1"))
            );
        }
        assert_eq!(
            apply_with(
                None,
                "SET #n = :v",
                &names(&[("#n", "name")]),
                &values(&[(":v", n("1"))])
            )
            .unwrap(),
            item(&[("name", n("1"))])
        );
        assert!(RESERVED_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(RESERVED_WORDS
            .iter()
            .all(|w| is_reserved(w) && is_reserved(&w.to_lowercase())));
        // The guide lists 573 words; SET, ADD, DELETE, AND, OR, NOT, BETWEEN, IN, CONVERT, SIZE left out.
        assert_eq!(RESERVED_WORDS.len(), 573 - 10);
    }

    #[test]
    fn paths_have_limits() {
        assert_eq!(
            err(None, "SET a[2147483648] = :v", &[(":v", n("1"))]),
            "Invalid UpdateExpression: List index is not within the allowable range; index: [2147483648]"
        );
        let deep = format!("SET a{} = :v", "[0]".repeat(32));
        assert_eq!(
            err(None, &deep, &[(":v", n("1"))]),
            "Invalid UpdateExpression: The document path has too many nesting levels; nesting levels: 33"
        );
        // The result must be an item DynamoDB stores.
        let big = "x".repeat(limits::MAX_ITEM_BYTES);
        assert!(err(None, "SET a = :v", &[(":v", s(&big))]).contains("over DynamoDB's limit"));
        let mut nested = n("1");
        for _ in 0..MAX_PATH_ELEMENTS {
            nested = list(&[nested]);
        }
        assert_eq!(
            err(None, "SET a = :v", &[(":v", nested)]),
            "ExpressionAttributeValues contains invalid value: nesting deeper than DynamoDB's 32 levels for key :v"
        );
    }

    #[test]
    fn decimal_arithmetic_is_exact() {
        let top = format!("2{}", "0".repeat(125));
        let tiny = format!("0.{}1", "0".repeat(129)); // 1E-130
        for (a, b, sum) in [
            ("1", "2", "3"),
            ("0.1", "0.2", "0.3"),
            ("-1", "1", "0"),
            ("1e-130", "-1e-130", "0"),
            (
                "99999999999999999999999999999999999999",
                "-99999999999999999999999999999999999998",
                "1",
            ),
            (
                "9.9999999999999999999999999999999999999E+125",
                "-9.9999999999999999999999999999999999999E+125",
                "0",
            ),
            ("1e125", "1e125", &top),
            ("-0.5", "0.25", "-0.25"),
            ("123.456", "-0.456", "123"),
            ("1E-129", "-9E-130", &tiny),
        ] {
            assert_eq!(add_numbers(a, b).unwrap(), sum, "{a} + {b}");
            assert_eq!(add_numbers(b, a).unwrap(), sum, "{b} + {a}");
        }
        assert_eq!(subtract_numbers("10", "0.001").unwrap(), "9.999");
        assert_eq!(subtract_numbers("-10", "-10").unwrap(), "0");
        assert_eq!(subtract_numbers("0", "5").unwrap(), "-5");
        assert_eq!(add_numbers("1e50", "1").unwrap_err(), OVERFLOW);
        assert_eq!(add_numbers("9e125", "1e125").unwrap_err(), OVERFLOW);
        // 38 digits, then a 39th.
        assert_eq!(
            add_numbers("1e37", "1").unwrap(),
            format!("1{}1", "0".repeat(36))
        );
        assert_eq!(add_numbers("1e38", "1").unwrap_err(), OVERFLOW);
        // 1.0…01E-93 has 38 digits, its last at 1E-130: taking 1E-93 away leaves 1E-130.
        let low = format!("1.{}1E-93", "0".repeat(36));
        assert_eq!(subtract_numbers(&low, "1e-93").unwrap(), tiny);
        let lower = format!("1.{}1E-94", "0".repeat(36));
        assert_eq!(subtract_numbers(&lower, "1e-94").unwrap_err(), UNDERFLOW);
        assert!(add_numbers("x", "1")
            .unwrap_err()
            .contains("is not a DynamoDB number"));
    }

    /// `value` made valid for DynamoDB, numbers canonical: `arb_value` also gives malformed
    /// numbers and sets holding an element twice.
    fn valid(value: Value) -> Value {
        fn distinct<T: Ord + Clone>(set: Vec<T>) -> Vec<T> {
            let mut seen = BTreeSet::new();
            set.into_iter().filter(|x| seen.insert(x.clone())).collect()
        }
        match value {
            Value::N(n) => Value::N(canonical_number(&n).unwrap_or_else(|_| "1".into())),
            Value::Ns(set) => {
                let set = distinct(
                    set.iter()
                        .filter_map(|n| canonical_number(n).ok())
                        .collect(),
                );
                if set.is_empty() {
                    n("1")
                } else {
                    Value::Ns(set)
                }
            }
            Value::Ss(set) => Value::Ss(distinct(set)),
            Value::Bs(set) => Value::Bs(distinct(set)),
            Value::L(list) => Value::L(list.into_iter().map(valid).collect()),
            Value::M(map) => Value::M(map.into_iter().map(|(k, v)| (k, valid(v))).collect()),
            other => other,
        }
    }

    fn arb_valid_value() -> impl Strategy<Value = Value> {
        crate::testing::arb_value().prop_map(valid)
    }

    /// Valid items with key `pk = "k"`.
    fn arb_valid_item() -> impl Strategy<Value = Item> {
        crate::testing::arb_item().prop_map(|item| {
            let mut item: Item = item.into_iter().map(|(k, v)| (k, valid(v))).collect();
            item.set("pk", "k");
            item
        })
    }

    fn arb_set() -> impl Strategy<Value = Value> {
        let elements = 1..4;
        prop_oneof![
            proptest::collection::vec(any::<String>(), elements.clone()).prop_map(Value::Ss),
            proptest::collection::vec("-?[0-9]{1,5}(\\.[0-9]{1,3})?(E-?[0-9])?", elements.clone())
                .prop_map(Value::Ns),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), elements)
                .prop_map(Value::Bs),
        ]
        .prop_map(valid)
    }

    /// Decimal text of up to 20 + 20 digits, with an exponent.
    fn arb_decimal() -> impl Strategy<Value = String> {
        "-?[0-9]{1,20}(\\.[0-9]{1,20})?(E-?[0-9]{1,2})?"
    }

    /// Whether every number in `value` is spelled canonically.
    fn canonical(value: &Value) -> bool {
        match value {
            Value::N(n) => canonical_number(n).as_deref() == Ok(n.as_str()),
            Value::Ns(set) => set
                .iter()
                .all(|n| canonical_number(n).as_deref() == Ok(n.as_str())),
            Value::L(list) => list.iter().all(canonical),
            Value::M(map) => map.values().all(canonical),
            _ => true,
        }
    }

    /// Actions on the paths of [`arb_small_item`], as (clause, text): `:v` is any value, `:k`
    /// a number, `:l` a list, `:w` a number or a set, `:s` a set.
    fn arb_action() -> impl Strategy<Value = (usize, String)> {
        let path = prop_oneof![
            Just("a"),
            Just("b"),
            Just("a.b"),
            Just("a[0]"),
            Just("l[1]"),
            Just("l[5]"),
            Just("l[0]"),
            Just("m.x"),
            Just("m.x.y"),
            Just("l[0].x"),
            Just("#n"),
            Just("#n.b"),
        ];
        (0..8usize, path.clone(), path).prop_map(|(kind, p, q)| match kind {
            0 => (0, format!("{p} = :v")),
            1 => (0, format!("{p} = {q}")),
            2 => (0, format!("{p} = {q} + :k")),
            3 => (0, format!("{p} = list_append({q}, :l)")),
            4 => (0, format!("{p} = if_not_exists({q}, :v)")),
            5 => (1, p.to_owned()),
            6 => (2, format!("{p} :w")),
            _ => (3, format!("{p} :s")),
        })
    }

    fn expression_text(actions: &[(usize, String)]) -> String {
        ["SET", "REMOVE", "ADD", "DELETE"]
            .iter()
            .enumerate()
            .filter_map(|(kind, keyword)| {
                let mine: Vec<&str> = actions
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, text)| text.as_str())
                    .collect();
                (!mine.is_empty()).then(|| format!("{keyword} {}", mine.join(", ")))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Items whose attributes `a`, `b`, `l`, `m` and `n` the small expressions reach, mostly
    /// shaped as their paths need, or no item.
    fn arb_small_item() -> impl Strategy<Value = Option<Item>> {
        let number = || (-1000i64..1000).prop_map(Value::from);
        let scalar = || prop_oneof![number(), arb_valid_value()];
        let with = |name: &'static str, inner: BoxedStrategy<Value>| {
            proptest::collection::btree_map(Just(name.to_owned()), inner, 0..2)
                .prop_map(|m| Value::M(m.into()))
        };
        let a = prop_oneof![3 => with("b", scalar().boxed()), 1 => scalar()];
        let l = prop_oneof![
            3 => proptest::collection::vec(prop_oneof![with("x", scalar().boxed()), scalar()], 0..4)
                .prop_map(Value::L),
            1 => scalar(),
        ];
        let m = prop_oneof![
            3 => with("x", with("y", scalar().boxed()).boxed()),
            1 => scalar(),
        ];
        let n = prop_oneof![
            number(),
            arb_set(),
            with("b", scalar().boxed()),
            arb_valid_value()
        ];
        let attributes = (
            proptest::option::weighted(0.8, a),
            proptest::option::weighted(0.5, scalar()),
            proptest::option::weighted(0.8, l),
            proptest::option::weighted(0.8, m),
            proptest::option::weighted(0.7, n),
        );
        proptest::option::weighted(
            0.9,
            attributes.prop_map(|(a, b, l, m, n)| {
                let mut item = key();
                for (name, value) in [("a", a), ("b", b), ("l", l), ("m", m), ("n", n)] {
                    if let Some(value) = value {
                        item.set(name, value);
                    }
                }
                item
            }),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn decimal_arithmetic_agrees_with_integers(
            a in -(10i128.pow(37))..10i128.pow(37),
            b in -(10i128.pow(37))..10i128.pow(37),
        ) {
            prop_assert_eq!(add_numbers(&a.to_string(), &b.to_string()), Ok((a + b).to_string()));
            prop_assert_eq!(subtract_numbers(&a.to_string(), &b.to_string()), Ok((a - b).to_string()));
        }

        #[test]
        fn decimal_addition_commutes_and_associates_where_exact(
            a in arb_decimal(),
            b in arb_decimal(),
            c in arb_decimal(),
        ) {
            let ab = add_numbers(&a, &b);
            prop_assert_eq!(&ab, &add_numbers(&b, &a));
            let bc = add_numbers(&b, &c);
            if let (Ok(ab), Ok(bc)) = (&ab, &bc) {
                if let (Ok(left), Ok(right)) = (add_numbers(ab, &c), add_numbers(&a, bc)) {
                    prop_assert_eq!(left, right);
                }
            }
            // a - b = -(b - a), a + 0 = a, a - a = 0.
            let ba = subtract_numbers(&b, &a);
            prop_assert_eq!(
                subtract_numbers(&a, &b),
                ba.and_then(|ba| subtract_numbers("0", &ba))
            );
            prop_assert_eq!(add_numbers(&a, "0"), canonical_number(&a));
            prop_assert_eq!(Decimal::parse(&a).map(|d| d.to_text()), canonical_number(&a));
            if canonical_number(&a).is_ok() {
                prop_assert_eq!(subtract_numbers(&a, &a), Ok("0".to_owned()));
            }
        }

        #[test]
        fn set_writes_exactly_the_value(before in arb_valid_item(), value in arb_valid_value()) {
            let after = apply(Some(&before), "SET a = :v", &[(":v", value.clone())]);
            if value.size() + before.size() < limits::MAX_ITEM_BYTES / 2 {
                let mut after = after.unwrap();
                prop_assert_eq!(after.remove("a"), Some(value));
                let mut rest = before.clone();
                rest.remove("a");
                prop_assert_eq!(after, rest);
            }
        }

        #[test]
        fn set_then_remove_of_a_fresh_attribute_is_the_identity(
            before in arb_valid_item(),
            value in arb_valid_value(),
        ) {
            let mut before = before;
            before.remove("fresh");
            let set = apply(Some(&before), "SET fresh = :v", &[(":v", value)]).unwrap();
            prop_assert_eq!(apply(Some(&set), "REMOVE fresh", &[]), Ok(before));
        }

        #[test]
        fn add_then_delete_of_a_set_leaves_no_attribute(
            before in proptest::option::of(arb_valid_item()),
            set in arb_set(),
        ) {
            let mut before = before;
            if let Some(item) = &mut before {
                item.remove("s");
            }
            let added = apply(before.as_ref(), "ADD s :v", &[(":v", set.clone())]).unwrap();
            prop_assert_eq!(added.get("s"), Some(&set));
            let deleted = apply(Some(&added), "DELETE s :v", &[(":v", set)]).unwrap();
            prop_assert_eq!(deleted, before.unwrap_or_else(key));
        }

        #[test]
        fn any_update_gives_a_storable_item_or_an_error(
            before in arb_small_item(),
            actions in proptest::collection::vec(arb_action(), 1..4),
            v in arb_valid_value(),
            k in (-1000i64..1000).prop_map(Value::from),
            l in proptest::collection::vec(arb_valid_value(), 0..3).prop_map(Value::L),
            w in prop_oneof![arb_set(), (-1000i64..1000).prop_map(Value::from)],
            set in arb_set(),
        ) {
            let text = expression_text(&actions);
            let expression = parse(&text);
            let names = names(&[("#n", "n")]);
            let values = values(&[(":v", v), (":k", k), (":l", l), (":w", w), (":s", set)]);
            let result = expression.apply_allowing_unused(before.as_ref(), &key(), &names, &values);
            if let Ok(after) = &result {
                prop_assert_eq!(limits::check_item(after), Ok(()), "{}", text);
                prop_assert_eq!(after.get("pk"), Some(&s("k")));
                prop_assert!(after.values().all(canonical), "{}", text);
            }
            // Every action reads the item before the update: their order does not matter.
            let mut reversed = actions.clone();
            reversed.reverse();
            let other = parse(&expression_text(&reversed))
                .apply_allowing_unused(before.as_ref(), &key(), &names, &values);
            prop_assert_eq!(result.ok(), other.ok(), "{}", text);
        }
    }
}
