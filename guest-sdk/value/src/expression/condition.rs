//! Condition expressions: parsed, checked as DynamoDB checks a request, and evaluated on an
//! item, so that the host knows before anything is written whether a conditional action on
//! the item it scanned would be written or found in conflict.
//!
//! Grammar and semantics from the developer guide's "Comparison operator and function
//! reference", confirmed against DynamoDB Local (the host's validation test runs them there):
//!
//! - precedence from the loosest: `OR`, `AND`, `NOT`, then a comparison (`=`, `<>`, `<`,
//!   `<=`, `>`, `>=`), `BETWEEN … AND …`, `IN (…)` or a function; keywords in any case,
//!   function names in lower case only;
//! - a comparison with a missing attribute is false, except `<>`, which is true; `<`, `<=`,
//!   `>`, `>=` and `BETWEEN` compare numbers by value, strings and binaries by their bytes, and
//!   are false on other or different types; `=` compares sets as sets, numbers by value;
//! - `size` counts a string's UTF-16 code units (ASSUMPTION: DynamoDB Local's answer), a
//!   binary's bytes and the elements of a set, list or map; it has no value for other types;
//! - `contains` finds a substring, a set's element or a list's element; `begins_with` a prefix
//!   of a string or binary; `attribute_type` names one of the ten types.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::evaluate::{check_written_names, compare_numbers, UsedPlaceholders};
use super::parse::Parser;
use super::{DocumentPath, Element};
use crate::{Item, Value};

/// A parsed condition expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionExpression {
    root: Condition,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Condition {
    Or(Box<Condition>, Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(Comparator, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    /// `attribute_exists(path)`: the operand is a path.
    Exists(Operand),
    /// `attribute_not_exists(path)`: the operand is a path.
    NotExists(Operand),
    /// `attribute_type(path, operand)`
    Type(Operand, Operand),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Comparator {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparator {
    fn text(self) -> &'static str {
        match self {
            Comparator::Equal => "=",
            Comparator::NotEqual => "<>",
            Comparator::Less => "<",
            Comparator::LessOrEqual => "<=",
            Comparator::Greater => ">",
            Comparator::GreaterOrEqual => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Operand {
    Path(DocumentPath),
    Value(String),
    Size(Box<Operand>),
}

/// Most operands of `IN` DynamoDB takes.
const MAX_IN_OPERANDS: usize = 100;
/// The type names `attribute_type` takes.
const TYPE_NAMES: [&str; 10] = ["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"];

fn invalid(message: impl std::fmt::Display) -> String {
    format!("Invalid ConditionExpression: {message}")
}

impl ConditionExpression {
    /// Reads a condition expression; fails on what is not one (the message names the byte).
    pub fn parse(text: &str) -> Result<ConditionExpression, String> {
        let mut parser = Parser::new(text, "condition expression")?;
        if parser.peek().is_none() {
            return Err("invalid condition expression: it is empty".into());
        }
        let root = parser.condition()?;
        if parser.peek().is_some() {
            return parser.expected("AND, OR or the end");
        }
        Ok(ConditionExpression { root })
    }

    /// The `#name` and `:value` placeholders the condition uses.
    pub fn placeholders(&self) -> UsedPlaceholders<'_> {
        let mut used = UsedPlaceholders::default();
        self.root.for_each_operand(&mut |operand| match operand {
            Operand::Path(path) => {
                for element in &path.0 {
                    if let Element::NamePlaceholder(name) = element {
                        used.names.insert(name);
                    }
                }
            }
            Operand::Value(value) => {
                used.values.insert(value);
            }
            Operand::Size(_) => {}
        });
        used
    }

    /// The checks DynamoDB makes on the condition before it reads the item: names it cannot
    /// read, placeholders defined, and operands of the types the operators and functions
    /// take. `names` and `values` are the request's.
    pub fn check(&self, names: &BTreeMap<String, String>, values: &Item) -> Result<(), String> {
        let context = Context { names, values };
        let mut checked = Ok(());
        self.root.for_each_operand(&mut |operand| {
            if checked.is_ok() {
                checked = context.check_operand(operand);
            }
        });
        checked?;
        self.root.check(&context)
    }

    /// Whether the condition holds on `item` (`None`: there is no item), after the checks of
    /// [`ConditionExpression::check`].
    pub fn holds(
        &self,
        item: Option<&Item>,
        names: &BTreeMap<String, String>,
        values: &Item,
    ) -> Result<bool, String> {
        self.check(names, values)?;
        let context = Context { names, values };
        let empty = Item::new();
        Ok(self.root.holds(&context, item.unwrap_or(&empty)))
    }
}

impl Condition {
    /// Every operand, nested ones (inside `size`) included.
    fn for_each_operand<'e>(&'e self, visit: &mut impl FnMut(&'e Operand)) {
        let operands = |operands: &[&'e Operand], visit: &mut dyn FnMut(&'e Operand)| {
            for operand in operands {
                let mut operand = *operand;
                visit(operand);
                while let Operand::Size(inner) = operand {
                    operand = inner;
                    visit(operand);
                }
            }
        };
        match self {
            Condition::Or(a, b) | Condition::And(a, b) => {
                a.for_each_operand(visit);
                b.for_each_operand(visit);
            }
            Condition::Not(a) => a.for_each_operand(visit),
            Condition::Compare(_, a, b)
            | Condition::BeginsWith(a, b)
            | Condition::Contains(a, b) => operands(&[a, b], visit),
            Condition::Between(a, b, c) => operands(&[a, b, c], visit),
            Condition::In(a, list) => {
                operands(&[a], visit);
                for operand in list {
                    operands(&[operand], visit);
                }
            }
            Condition::Exists(path) | Condition::NotExists(path) => operands(&[path], visit),
            Condition::Type(path, operand) => operands(&[path, operand], visit),
        }
    }

    /// The static type checks of each operator and function.
    fn check(&self, context: &Context<'_>) -> Result<(), String> {
        match self {
            Condition::Or(a, b) | Condition::And(a, b) => {
                a.check(context)?;
                b.check(context)
            }
            Condition::Not(a) => a.check(context),
            Condition::Compare(comparator, a, b) => {
                distinct(comparator.text(), a, &[b])?;
                if !matches!(comparator, Comparator::Equal | Comparator::NotEqual) {
                    for operand in [a, b] {
                        context.check_ordered(comparator.text(), operand)?;
                    }
                }
                Ok(())
            }
            Condition::Between(a, low, high) => {
                distinct("BETWEEN", a, &[low, high])?;
                for operand in [a, low, high] {
                    context.check_ordered("BETWEEN", operand)?;
                }
                if let (Some(low), Some(high)) = (context.constant(low), context.constant(high)) {
                    match order(low, high) {
                        None => {
                            return Err(invalid(
                                "The BETWEEN operator requires same data type for lower and \
                                 upper bounds",
                            ))
                        }
                        Some(Ordering::Greater) => {
                            return Err(invalid(
                                "The BETWEEN operator requires upper bound to be greater than \
                                 or equal to lower bound",
                            ))
                        }
                        Some(_) => {}
                    }
                }
                Ok(())
            }
            Condition::In(a, list) => {
                if list.len() > MAX_IN_OPERANDS {
                    return Err(invalid(format!(
                        "The IN operator is provided with too many operands; number of \
                         operands: {}",
                        list.len()
                    )));
                }
                let list: Vec<&Operand> = list.iter().collect();
                distinct("IN", a, &list)
            }
            Condition::Exists(_) | Condition::NotExists(_) => Ok(()),
            Condition::Type(_, operand) => {
                let Some(value) = context.constant(operand) else {
                    return Err(invalid(
                        "Incorrect operand type for operator or function; operator or \
                         function: attribute_type",
                    ));
                };
                match value {
                    Value::S(name) if TYPE_NAMES.contains(&name.as_str()) => Ok(()),
                    Value::S(name) => Err(invalid(format!(
                        "Invalid attribute type name found; type: {name}, valid types: \
                         {{{}}}",
                        TYPE_NAMES.join(",")
                    ))),
                    other => Err(invalid(format!(
                        "Incorrect operand type for operator or function; operator or \
                         function: attribute_type, operand type: {}",
                        other.type_name()
                    ))),
                }
            }
            Condition::BeginsWith(a, b) => {
                distinct("begins_with", a, &[b])?;
                for operand in [a, b] {
                    if let Some(value) = context.constant(operand) {
                        if !matches!(value, Value::S(_) | Value::B(_)) {
                            return Err(invalid(format!(
                                "Incorrect operand type for operator or function; operator or \
                                 function: begins_with, operand type: {}",
                                value.type_name()
                            )));
                        }
                    }
                }
                Ok(())
            }
            Condition::Contains(a, b) => distinct("contains", a, &[b]),
        }
    }

    fn holds(&self, context: &Context<'_>, item: &Item) -> bool {
        match self {
            Condition::Or(a, b) => a.holds(context, item) || b.holds(context, item),
            Condition::And(a, b) => a.holds(context, item) && b.holds(context, item),
            Condition::Not(a) => !a.holds(context, item),
            Condition::Compare(comparator, a, b) => {
                let (a, b) = (context.read(item, a), context.read(item, b));
                let (Some(a), Some(b)) = (a, b) else {
                    return *comparator == Comparator::NotEqual;
                };
                match comparator {
                    Comparator::Equal => same(&a, &b),
                    Comparator::NotEqual => !same(&a, &b),
                    Comparator::Less => order(&a, &b) == Some(Ordering::Less),
                    Comparator::LessOrEqual => order(&a, &b).is_some_and(Ordering::is_le),
                    Comparator::Greater => order(&a, &b) == Some(Ordering::Greater),
                    Comparator::GreaterOrEqual => order(&a, &b).is_some_and(Ordering::is_ge),
                }
            }
            Condition::Between(a, low, high) => {
                let read = |operand| context.read(item, operand);
                let (Some(a), Some(low), Some(high)) = (read(a), read(low), read(high)) else {
                    return false;
                };
                order(&low, &a).is_some_and(Ordering::is_le)
                    && order(&a, &high).is_some_and(Ordering::is_le)
            }
            Condition::In(a, list) => context.read(item, a).is_some_and(|a| {
                list.iter()
                    .filter_map(|operand| context.read(item, operand))
                    .any(|b| same(&a, &b))
            }),
            Condition::Exists(path) => context.read(item, path).is_some(),
            Condition::NotExists(path) => context.read(item, path).is_none(),
            Condition::Type(path, name) => {
                match (context.read(item, path), context.read(item, name)) {
                    (Some(value), Some(name)) => {
                        matches!(name.as_ref(), Value::S(name) if name == value.type_name())
                    }
                    _ => false,
                }
            }
            Condition::BeginsWith(a, b) => match (context.read(item, a), context.read(item, b)) {
                (Some(a), Some(b)) => match (a.as_ref(), b.as_ref()) {
                    (Value::S(a), Value::S(b)) => a.starts_with(b.as_str()),
                    (Value::B(a), Value::B(b)) => a.starts_with(b),
                    _ => false,
                },
                _ => false,
            },
            Condition::Contains(a, b) => match (context.read(item, a), context.read(item, b)) {
                (Some(a), Some(b)) => contains(&a, &b),
                _ => false,
            },
        }
    }
}

/// DynamoDB refuses an operator whose first operand is the same path as another.
fn distinct(operator: &str, first: &Operand, others: &[&Operand]) -> Result<(), String> {
    if matches!(first, Operand::Path(_)) && others.contains(&first) {
        return Err(invalid(format!(
            "The first operand must be distinct from the remaining operands for this operator \
             or function; operator: {operator}"
        )));
    }
    Ok(())
}

/// The request's placeholders, for reading operands.
struct Context<'e> {
    names: &'e BTreeMap<String, String>,
    values: &'e Item,
}

impl Context<'_> {
    /// The names of a path as DynamoDB reads them, its placeholders defined; a value
    /// placeholder defined.
    fn check_operand(&self, operand: &Operand) -> Result<(), String> {
        match operand {
            Operand::Path(path) => {
                check_written_names(path).map_err(invalid)?;
                for element in &path.0 {
                    if let Element::NamePlaceholder(name) = element {
                        if !self.names.contains_key(name) {
                            return Err(invalid(format!(
                                "An expression attribute name used in the document path is \
                                 not defined; attribute name: {name}"
                            )));
                        }
                    }
                }
                Ok(())
            }
            Operand::Value(placeholder) => match self.values.contains_key(placeholder) {
                true => Ok(()),
                false => Err(invalid(format!(
                    "An expression attribute value used in expression is not defined; \
                     attribute value: {placeholder}"
                ))),
            },
            Operand::Size(_) => Ok(()),
        }
    }

    /// An operand of `<`, `<=`, `>`, `>=` or `BETWEEN` that is a value must be a number, a
    /// string or a binary.
    fn check_ordered(&self, operator: &str, operand: &Operand) -> Result<(), String> {
        match self.constant(operand) {
            Some(value) if !matches!(value, Value::N(_) | Value::S(_) | Value::B(_)) => {
                Err(invalid(format!(
                    "Incorrect operand type for operator or function; operator or function: \
                     {operator}, operand type: {}",
                    value.type_name()
                )))
            }
            _ => Ok(()),
        }
    }

    /// The value of an operand that does not depend on the item.
    fn constant(&self, operand: &Operand) -> Option<&Value> {
        match operand {
            Operand::Value(placeholder) => self.values.get(placeholder),
            _ => None,
        }
    }

    /// The value at a path of `item`, its placeholders resolved.
    fn get<'i>(&self, item: &'i Item, path: &DocumentPath) -> Option<&'i Value> {
        let mut elements = path.0.iter();
        let name = |element: &Element| -> Option<String> {
            match element {
                Element::Name(name) => Some(name.clone()),
                Element::NamePlaceholder(placeholder) => self.names.get(placeholder).cloned(),
                Element::Index(_) => None,
            }
        };
        let mut value = item.get(&name(elements.next()?)?)?;
        for element in elements {
            value = match (element, value) {
                (Element::Index(index), Value::L(list)) => list.get(*index)?,
                (Element::Index(_), _) => return None,
                (element, Value::M(map)) => map.get(&name(element)?)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// An operand's value on `item`: `None` if it has none (a missing attribute, the size of
    /// a type without one).
    fn read<'i>(&'i self, item: &'i Item, operand: &Operand) -> Option<Cow<'i, Value>> {
        match operand {
            Operand::Path(path) => self.get(item, path).map(Cow::Borrowed),
            Operand::Value(placeholder) => self.values.get(placeholder).map(Cow::Borrowed),
            Operand::Size(inner) => {
                let size = match self.read(item, inner)?.as_ref() {
                    Value::S(text) => text.encode_utf16().count(),
                    Value::B(bytes) => bytes.len(),
                    Value::Ss(set) => set.len(),
                    Value::Ns(set) => set.len(),
                    Value::Bs(set) => set.len(),
                    Value::L(list) => list.len(),
                    Value::M(map) => map.len(),
                    Value::N(_) | Value::Bool(_) | Value::Null => return None,
                };
                Some(Cow::Owned(Value::N(size.to_string())))
            }
        }
    }
}

/// Whether two values are equal to DynamoDB: numbers by value, sets as sets.
fn same(a: &Value, b: &Value) -> bool {
    let same_numbers = |a: &[String], b: &[String]| {
        a.len() == b.len()
            && a.iter().all(|x| {
                b.iter()
                    .any(|y| compare_numbers(x, y) == Some(Ordering::Equal))
            })
    };
    match (a, b) {
        (Value::N(a), Value::N(b)) => compare_numbers(a, b) == Some(Ordering::Equal),
        (Value::Ns(a), Value::Ns(b)) => same_numbers(a, b),
        (Value::Ss(a), Value::Ss(b)) => a.len() == b.len() && a.iter().all(|x| b.contains(x)),
        (Value::Bs(a), Value::Bs(b)) => a.len() == b.len() && a.iter().all(|x| b.contains(x)),
        (Value::L(a), Value::L(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::M(a), Value::M(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(name, x)| b.get(name).is_some_and(|y| same(x, y)))
        }
        _ => a == b,
    }
}

/// How two values compare for `<` and `BETWEEN`: numbers by value, strings and binaries by
/// bytes; `None` for other or different types.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::N(a), Value::N(b)) => compare_numbers(a, b),
        (Value::S(a), Value::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Value::B(a), Value::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// `contains(a, b)`: a substring of a string, an element of a set or a list.
fn contains(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::S(a), Value::S(b)) => a.contains(b.as_str()),
        (Value::Ss(set), Value::S(b)) => set.contains(b),
        (Value::Ns(set), Value::N(b)) => set
            .iter()
            .any(|n| compare_numbers(n, b) == Some(Ordering::Equal)),
        (Value::Bs(set), Value::B(b)) => set.contains(b),
        (Value::B(a), Value::B(b)) => b.is_empty() || a.windows(b.len()).any(|w| w == b),
        (Value::L(list), b) => list.iter().any(|element| same(element, b)),
        _ => false,
    }
}

#[cfg(test)]
#[path = "condition_tests.rs"]
mod tests;
