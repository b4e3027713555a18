//! The checks DynamoDB makes on an update request before it reads the item.

use std::collections::BTreeMap;

use super::*;
use crate::limits::validate_value;

impl<'e> Evaluation<'e> {
    /// The checks DynamoDB makes on the request before it looks at the item, in about its
    /// order: the placeholders' definitions, names it cannot read, paths that overlap, what
    /// the placeholders stand for, and placeholders left unused.
    pub(super) fn new(
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
    pub(super) fn resolve(&self, path: &DocumentPath) -> Result<Vec<Step>, String> {
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
    pub(super) fn value(&self, placeholder: &str) -> Result<&'e Value, String> {
        self.values.get(placeholder).ok_or_else(|| {
            invalid(format!(
                "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            ))
        })
    }

    /// The checks on a `SET` operand that need no item: placeholders defined, operand types
    /// of `+`, `-` and `list_append` where they are placeholders, `if_not_exists` of a path
    /// other than its default, no `list_append` inside another.
    pub(super) fn check_operand(&self, operand: &Operand) -> Result<(), String> {
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

    pub(super) fn check_term(&self, term: &Term, in_list_append: bool) -> Result<(), String> {
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
    pub(super) fn check_static_type(
        &self,
        term: &Term,
        operator: &str,
        wanted: &str,
    ) -> Result<(), String> {
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
