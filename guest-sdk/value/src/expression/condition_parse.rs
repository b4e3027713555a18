//! The parser of condition expressions, on the update parser's tokenizer and paths.

use super::condition::{Comparator, Condition, Operand};
use super::parse::{Parser, Token};

/// A parsed part of a condition, and whether it is one group in parentheses and nothing
/// else (DynamoDB refuses a group that is only another group: `((a = :a))`).
type Parsed = (Condition, bool);

impl Parser<'_> {
    /// A whole condition: `and (OR and)*`.
    pub(super) fn condition(&mut self) -> Result<Condition, String> {
        Ok(self.or()?.0)
    }

    /// `and (OR and)*`
    fn or(&mut self) -> Result<Parsed, String> {
        let (mut left, mut grouped) = self.and()?;
        while self.keyword("OR") {
            left = Condition::Or(Box::new(left), Box::new(self.and()?.0));
            grouped = false;
        }
        Ok((left, grouped))
    }

    /// `not (AND not)*`
    fn and(&mut self) -> Result<Parsed, String> {
        let (mut left, mut grouped) = self.not()?;
        while self.keyword("AND") {
            left = Condition::And(Box::new(left), Box::new(self.not()?.0));
            grouped = false;
        }
        Ok((left, grouped))
    }

    /// `NOT not | primary`
    fn not(&mut self) -> Result<Parsed, String> {
        if self.keyword("NOT") {
            self.nest(|parser| Ok((Condition::Not(Box::new(parser.not()?.0)), false)))
        } else {
            self.primary()
        }
    }

    /// `( or ) | function | operand comparator operand | operand BETWEEN operand AND operand
    /// | operand IN ( operand, … )`
    fn primary(&mut self) -> Result<Parsed, String> {
        if self.eat('(') {
            let (inner, grouped) = self.nest(Parser::or)?;
            if grouped {
                return self.error("the expression has redundant parentheses");
            }
            self.symbol(')')?;
            return Ok((inner, true));
        }
        self.unparenthesized().map(|condition| (condition, false))
    }

    /// A [`Parser::primary`] that does not start with `(`.
    fn unparenthesized(&mut self) -> Result<Condition, String> {
        if let (Some(Token::Word(name)), Some((Token::Symbol('('), _))) =
            (self.peek(), self.peek_second())
        {
            if name != "size" {
                return self.function(name);
            }
        }
        let left = self.condition_operand()?;
        if let Some(comparator) = self.comparator() {
            return Ok(Condition::Compare(
                comparator,
                left,
                self.condition_operand()?,
            ));
        }
        if self.keyword("BETWEEN") {
            let low = self.condition_operand()?;
            if !self.keyword("AND") {
                return self.expected("AND");
            }
            return Ok(Condition::Between(left, low, self.condition_operand()?));
        }
        if self.keyword("IN") {
            self.symbol('(')?;
            let list = self.list(Parser::condition_operand)?;
            self.symbol(')')?;
            return Ok(Condition::In(left, list));
        }
        self.expected("a comparator, BETWEEN or IN")
    }

    /// `attribute_exists(path)`, `attribute_not_exists(path)`, `attribute_type(path, operand)`,
    /// `begins_with(operand, operand)`, `contains(operand, operand)`.
    fn function(&mut self, name: &str) -> Result<Condition, String> {
        let known = [
            "attribute_exists",
            "attribute_not_exists",
            "attribute_type",
            "begins_with",
            "contains",
        ];
        if !known.contains(&name) {
            return self.error(&format!(
                "unknown function `{name}`; a condition knows {} (in lower case) and size",
                known.join(", ")
            ));
        }
        self.position += 2;
        let condition = match name {
            "attribute_exists" | "attribute_not_exists" => {
                let path = self.function_path(name)?;
                match name {
                    "attribute_exists" => Condition::Exists(path),
                    _ => Condition::NotExists(path),
                }
            }
            "attribute_type" => {
                let path = self.function_path(name)?;
                self.symbol(',')?;
                Condition::Type(path, self.condition_operand()?)
            }
            _ => {
                let first = self.condition_operand()?;
                self.symbol(',')?;
                let second = self.condition_operand()?;
                match name {
                    "begins_with" => Condition::BeginsWith(first, second),
                    _ => Condition::Contains(first, second),
                }
            }
        };
        self.symbol(')')?;
        Ok(condition)
    }

    /// A function's first argument, which must be a document path.
    fn function_path(&mut self, function: &str) -> Result<Operand, String> {
        match self.peek() {
            Some(Token::Word(_) | Token::NamePlaceholder(_)) => Ok(Operand::Path(self.path()?)),
            _ => self.error(&format!("{function} takes a document path first")),
        }
    }

    /// `path | :value | size(operand)`
    fn condition_operand(&mut self) -> Result<Operand, String> {
        match (self.peek(), self.peek_second()) {
            (Some(Token::ValuePlaceholder(_)), _) => Ok(Operand::Value(self.value_placeholder()?)),
            (Some(Token::Word("size")), Some((Token::Symbol('('), _))) => {
                self.position += 2;
                let inner = self.nest(Parser::condition_operand)?;
                self.symbol(')')?;
                Ok(Operand::Size(Box::new(inner)))
            }
            (Some(Token::Word(word)), Some((Token::Symbol('('), _))) => self.error(&format!(
                "`{word}(…)` is not an operand here; only size(…) is"
            )),
            (Some(Token::Word(word)), _) if is_keyword(word) => {
                self.expected("a path, a :placeholder or size(…)")
            }
            (Some(Token::Word(_) | Token::NamePlaceholder(_)), _) => {
                Ok(Operand::Path(self.path()?))
            }
            _ => self.expected("a path, a :placeholder or size(…)"),
        }
    }

    /// `=`, `<>`, `<`, `<=`, `>` or `>=`, written without a space inside.
    fn comparator(&mut self) -> Option<Comparator> {
        let first = match self.peek()? {
            Token::Symbol(c @ ('=' | '<' | '>')) => c,
            _ => return None,
        };
        let second = match self.peek_second() {
            Some((Token::Symbol(c @ ('=' | '>')), true)) if first != '=' => Some(c),
            _ => None,
        };
        let comparator = match (first, second) {
            ('=', _) => Comparator::Equal,
            ('<', Some('>')) => Comparator::NotEqual,
            ('<', Some('=')) => Comparator::LessOrEqual,
            ('<', _) => Comparator::Less,
            ('>', Some('=')) => Comparator::GreaterOrEqual,
            ('>', Some('>')) => return None,
            _ => Comparator::Greater,
        };
        self.position += 1 + usize::from(second.is_some());
        Some(comparator)
    }

    /// Takes the next token if it is the keyword `word` (in any case).
    fn keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word));
        if found {
            self.position += 1;
        }
        found
    }

    /// Runs `parse` one level deeper, within [`super::MAX_NESTING`].
    fn nest<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        self.nesting += 1;
        self.check_nesting()?;
        let parsed = parse(self)?;
        self.nesting -= 1;
        Ok(parsed)
    }
}

/// The words a condition reserves for itself.
fn is_keyword(word: &str) -> bool {
    ["AND", "OR", "NOT", "BETWEEN", "IN"]
        .iter()
        .any(|keyword| word.eq_ignore_ascii_case(keyword))
}
