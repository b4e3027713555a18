//! Tokenizer and recursive-descent parser of update expressions; the condition parser
//! ([`super::condition`]) shares the tokenizer and the parser's paths and placeholders.

use super::{
    AddOrDelete, Clause, DocumentPath, Element, Operand, SetAction, Term, UpdateExpression,
    MAX_NESTING,
};

/// One token of an expression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Token<'a> {
    /// A name, a clause keyword or a function name.
    Word(&'a str),
    /// `#name`
    NamePlaceholder(&'a str),
    /// `:value`
    ValuePlaceholder(&'a str),
    /// Digits: a list index.
    Digits(&'a str),
    /// `.`, `,`, `=`, `+`, `-`, `(`, `)`, `[`, `]`, `<` or `>` (two-character comparators
    /// are two symbols side by side).
    Symbol(char),
}

impl Token<'_> {
    fn describe(&self) -> String {
        match self {
            Token::Word(text)
            | Token::NamePlaceholder(text)
            | Token::ValuePlaceholder(text)
            | Token::Digits(text) => format!("`{text}`"),
            Token::Symbol(c) => format!("`{c}`"),
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `text`, an expression of the kind `what` names, into tokens with their byte
/// offsets.
fn tokenize<'a>(text: &'a str, what: &str) -> Result<Vec<(Token<'a>, usize)>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        // The end of a run of word characters starting at `from`.
        let word_end = |from: usize| {
            text[from..]
                .find(|c: char| !is_word_char(c))
                .map_or(text.len(), |n| from + n)
        };
        let (token, end) = match c {
            '#' | ':' => {
                let end = word_end(start + 1);
                if end == start + 1 {
                    return Err(format!(
                        "invalid {what}: `{c}` must be followed by letters, digits or `_` (at byte {start})"
                    ));
                }
                let placeholder = &text[start..end];
                let token = if c == '#' {
                    Token::NamePlaceholder(placeholder)
                } else {
                    Token::ValuePlaceholder(placeholder)
                };
                (token, end)
            }
            '0'..='9' => {
                let end = text[start..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(text.len(), |n| start + n);
                (Token::Digits(&text[start..end]), end)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = word_end(start);
                (Token::Word(&text[start..end]), end)
            }
            '.' | ',' | '=' | '+' | '-' | '(' | ')' | '[' | ']' | '<' | '>' => {
                (Token::Symbol(c), start + 1)
            }
            other => {
                return Err(format!(
                    "invalid {what}: unexpected `{other}` (at byte {start}); names other than letters, digits and `_` need a #placeholder"
                ))
            }
        };
        tokens.push((token, start));
        while chars.peek().is_some_and(|&(at, _)| at < end) {
            chars.next();
        }
    }
    Ok(tokens)
}

/// The clause a keyword starts, in any case.
fn keyword(word: &str) -> Option<&'static str> {
    ["SET", "REMOVE", "ADD", "DELETE"]
        .into_iter()
        .find(|keyword| word.eq_ignore_ascii_case(keyword))
}

/// A recursive-descent parser over an expression's tokens.
pub(super) struct Parser<'a> {
    /// What is parsed, for messages: `update expression` or `condition expression`.
    what: &'static str,
    tokens: Vec<(Token<'a>, usize)>,
    /// The next token's index.
    pub(super) position: usize,
    /// How deep in function calls the parser is.
    pub(super) nesting: usize,
}

pub(super) fn parse(text: &str) -> Result<UpdateExpression, String> {
    let mut parser = Parser::new(text, "update expression")?;
    let mut clauses: Vec<Clause> = Vec::new();
    loop {
        let keyword = match parser.peek() {
            None if clauses.is_empty() => {
                return Err(format!("invalid {}: it is empty", parser.what));
            }
            None => break,
            Some(Token::Word(word)) if keyword(word).is_some() => keyword(word).expect("a keyword"),
            Some(_) if clauses.is_empty() => {
                return parser.expected("SET, REMOVE, ADD or DELETE");
            }
            Some(_) => return parser.expected("`,`, SET, REMOVE, ADD, DELETE or the end"),
        };
        if clauses.iter().any(|clause| clause.keyword() == keyword) {
            return Err(format!(
                "invalid update expression: the {keyword} clause appears twice (at byte {})",
                parser.offset()
            ));
        }
        parser.position += 1;
        let clause = match keyword {
            "SET" => Clause::Set(parser.list(|p| {
                let path = p.path()?;
                p.symbol('=')?;
                Ok(SetAction {
                    path,
                    value: p.operand()?,
                })
            })?),
            "REMOVE" => Clause::Remove(parser.list(Parser::path)?),
            "ADD" => Clause::Add(parser.list(Parser::add_or_delete)?),
            _ => Clause::Delete(parser.list(Parser::add_or_delete)?),
        };
        clauses.push(clause);
    }
    Ok(UpdateExpression { clauses })
}

impl<'a> Parser<'a> {
    /// A parser of `text`, an expression of the kind `what` names.
    pub(super) fn new(text: &'a str, what: &'static str) -> Result<Parser<'a>, String> {
        Ok(Parser {
            what,
            tokens: tokenize(text, what)?,
            position: 0,
            nesting: 0,
        })
    }

    /// The next token.
    pub(super) fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.position).map(|(token, _)| *token)
    }

    /// The token after the next one, and whether it follows it without a space (for the
    /// condition parser).
    #[cfg(feature = "evaluate")]
    pub(super) fn peek_second(&self) -> Option<(Token<'a>, bool)> {
        let (first, at) = self.tokens.get(self.position)?;
        let (second, second_at) = self.tokens.get(self.position + 1)?;
        let width = match first {
            Token::Symbol(_) => 1,
            Token::Word(text)
            | Token::NamePlaceholder(text)
            | Token::ValuePlaceholder(text)
            | Token::Digits(text) => text.len(),
        };
        Some((*second, at + width == *second_at))
    }

    /// The byte offset of the next token (of the last one at the end).
    pub(super) fn offset(&self) -> usize {
        self.tokens
            .get(self.position)
            .or(self.tokens.last())
            .map_or(0, |(_, offset)| *offset)
    }

    /// An error: `wanted` was expected where the next token is.
    pub(super) fn expected<T>(&self, wanted: &str) -> Result<T, String> {
        let what = self.what;
        Err(match self.tokens.get(self.position) {
            Some((token, offset)) => format!(
                "invalid {what}: expected {wanted}, found {} (at byte {offset})",
                token.describe()
            ),
            None => format!("invalid {what}: expected {wanted}, found the end"),
        })
    }

    /// An error at the next token (for the condition parser).
    #[cfg(feature = "evaluate")]
    pub(super) fn error<T>(&self, message: &str) -> Result<T, String> {
        Err(format!(
            "invalid {}: {message} (at byte {})",
            self.what,
            self.offset()
        ))
    }

    /// Takes the next token if it is `symbol`.
    pub(super) fn eat(&mut self, symbol: char) -> bool {
        let found = self.peek() == Some(Token::Symbol(symbol));
        if found {
            self.position += 1;
        }
        found
    }

    /// Takes the next token, which must be `symbol`.
    pub(super) fn symbol(&mut self, symbol: char) -> Result<(), String> {
        if self.eat(symbol) {
            Ok(())
        } else {
            self.expected(&format!("`{symbol}`"))
        }
    }

    /// One or more `item`s separated by commas.
    pub(super) fn list<T>(
        &mut self,
        item: impl Fn(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut items = vec![item(self)?];
        while self.eat(',') {
            items.push(item(self)?);
        }
        Ok(items)
    }

    /// A document path: `a.#b[2]`.
    pub(super) fn path(&mut self) -> Result<DocumentPath, String> {
        let mut elements = vec![self.name()?];
        loop {
            if self.eat('.') {
                elements.push(self.name()?);
            } else if self.eat('[') {
                let Some(Token::Digits(digits)) = self.peek() else {
                    return self.expected("a list index");
                };
                let index = digits.parse().map_err(|_| {
                    format!("invalid {}: list index {digits} is too large", self.what)
                })?;
                self.position += 1;
                self.symbol(']')?;
                elements.push(Element::Index(index));
            } else {
                return Ok(DocumentPath(elements));
            }
        }
    }

    fn name(&mut self) -> Result<Element, String> {
        let element = match self.peek() {
            Some(Token::Word(word)) => Element::Name(word.to_owned()),
            Some(Token::NamePlaceholder(placeholder)) => {
                Element::NamePlaceholder(placeholder.to_owned())
            }
            _ => return self.expected("an attribute name or #placeholder"),
        };
        self.position += 1;
        Ok(element)
    }

    /// A `:value` placeholder.
    pub(super) fn value_placeholder(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Token::ValuePlaceholder(placeholder)) => {
                self.position += 1;
                Ok(placeholder.to_owned())
            }
            _ => self.expected("a :placeholder"),
        }
    }

    fn add_or_delete(&mut self) -> Result<AddOrDelete, String> {
        Ok(AddOrDelete {
            path: self.path()?,
            value: self.value_placeholder()?,
        })
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let left = self.term()?;
        Ok(if self.eat('+') {
            Operand::Plus(left, self.term()?)
        } else if self.eat('-') {
            Operand::Minus(left, self.term()?)
        } else {
            Operand::Term(left)
        })
    }

    fn term(&mut self) -> Result<Term, String> {
        match (self.peek(), self.tokens.get(self.position + 1).map(|t| t.0)) {
            (Some(Token::ValuePlaceholder(_)), _) => Ok(Term::Value(self.value_placeholder()?)),
            (Some(Token::Word(function)), Some(Token::Symbol('('))) => {
                let offset = self.offset();
                self.position += 2;
                self.nesting += 1;
                self.check_nesting()?;
                let term = if function.eq_ignore_ascii_case("if_not_exists") {
                    let path = self.path()?;
                    self.symbol(',')?;
                    Term::IfNotExists(path, Box::new(self.term()?))
                } else if function.eq_ignore_ascii_case("list_append") {
                    let first = self.term()?;
                    self.symbol(',')?;
                    Term::ListAppend(Box::new(first), Box::new(self.term()?))
                } else {
                    return Err(format!(
                        "invalid {}: unknown function `{function}` (at byte {offset}); SET knows if_not_exists and list_append",
                        self.what
                    ));
                };
                self.symbol(')')?;
                self.nesting -= 1;
                Ok(term)
            }
            (Some(Token::Word(_) | Token::NamePlaceholder(_)), _) => Ok(Term::Path(self.path()?)),
            _ => self.expected("a path, a :placeholder, if_not_exists(..) or list_append(..)"),
        }
    }

    /// Fails past [`MAX_NESTING`] levels of function calls.
    pub(super) fn check_nesting(&self) -> Result<(), String> {
        if self.nesting > MAX_NESTING {
            return Err(format!(
                "invalid {}: functions nested deeper than {MAX_NESTING} levels",
                self.what
            ));
        }
        Ok(())
    }
}
