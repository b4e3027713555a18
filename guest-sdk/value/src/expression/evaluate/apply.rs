//! An update evaluated against the item before it, and its writes made.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::decimal::Decimal;
use super::*;
use crate::limits::{self, canonical_number};

impl<'e> Evaluation<'e> {
    /// Applies the checked update to one item.
    pub(super) fn run(&self, item: Option<&Item>, key: &Item) -> Result<Item, String> {
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
