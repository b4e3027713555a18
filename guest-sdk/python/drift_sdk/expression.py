"""DynamoDB update expressions: built with generated placeholders, parsed, rendered, resolved.

:class:`UpdateBuilder` generates what the Rust SDK's builder generates, placeholder for
placeholder, so that one migration gives byte-identical actions in Rust, AssemblyScript and
Python: every name becomes ``#drift<N>`` (the placeholder it already has if that name was used
before) and every value ``:drift<N>`` (never shared), ``N`` being the number of placeholders of
that kind already defined, user-defined ones included.

:func:`parse` reads an update expression (``SET a = :a, b.c[2] = if_not_exists(b.c[2], :z)
REMOVE #d ADD n :one DELETE tags :old``) into an :class:`UpdateExpression`, whose ``str`` is the
canonical text and whose :meth:`UpdateExpression.resolve` spells the placeholders out for tests:
``SET email_lower = "ada@example.com", schema_version = 2 REMOVE name``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Tuple, Union

from .errors import ExpressionError, PathError
from .path import Path
from .value import Item, Value

#: Deepest nesting of function calls that :func:`parse` accepts.
MAX_NESTING = 32

# ----- syntax tree -----

#: One step of a document path in an expression: ``("name", "a")`` written as is,
#: ``("placeholder", "#a")``, or an ``int`` list index.
Element = Union[Tuple[str, str], int]


@dataclass(frozen=True)
class DocumentPath:
    """A document path in an expression: ``a.#b[2]``."""

    elements: Tuple[Element, ...]


@dataclass(frozen=True)
class ValueTerm:
    """A value placeholder, ``:`` included."""

    placeholder: str


@dataclass(frozen=True)
class PathTerm:
    """Another attribute's value."""

    path: DocumentPath


@dataclass(frozen=True)
class IfNotExists:
    """``if_not_exists(path, term)``."""

    path: DocumentPath
    default: "Term"


@dataclass(frozen=True)
class ListAppend:
    """``list_append(first, second)``."""

    first: "Term"
    second: "Term"


Term = Union[ValueTerm, PathTerm, IfNotExists, ListAppend]


@dataclass(frozen=True)
class Operand:
    """The right side of a ``SET`` action: ``left``, or ``left + right`` / ``left - right``."""

    left: Term
    operator: Optional[str] = None
    right: Optional[Term] = None


@dataclass(frozen=True)
class SetAction:
    """``path = value``."""

    path: DocumentPath
    value: Operand


@dataclass(frozen=True)
class AddOrDelete:
    """``path :value``, an action of an ``ADD`` or ``DELETE`` clause."""

    path: DocumentPath
    value: str


ClauseAction = Union[SetAction, DocumentPath, AddOrDelete]


@dataclass(frozen=True)
class Clause:
    """``SET``, ``REMOVE``, ``ADD`` or ``DELETE`` with its actions."""

    keyword: str
    actions: Tuple[ClauseAction, ...]


Spell = Callable[[str], str]


def _literal(placeholder: str) -> str:
    return placeholder


@dataclass(frozen=True)
class UpdateExpression:
    """A parsed update expression: its clauses in the order written."""

    clauses: Tuple[Clause, ...] = ()

    def render(self, name: Spell = _literal, value: Spell = _literal) -> str:
        """The text, with placeholders spelled by ``name`` and ``value``."""
        return " ".join(_clause(clause, name, value) for clause in self.clauses)

    def __str__(self) -> str:
        return self.render()

    def resolve(self, names: Mapping[str, str], values: Mapping[str, Value]) -> str:
        """The expression with ``#placeholders`` replaced by attribute names and
        ``:placeholders`` by readable values (see :func:`readable`).

        Names other than letters, digits and ``_`` are quoted with backticks. Raises
        :class:`ExpressionError` on a placeholder that ``names`` or ``values`` does not define.
        """

        def name(placeholder: str) -> str:
            if placeholder not in names:
                raise ExpressionError(f"undefined name placeholder `{placeholder}`")
            return _readable_name(names[placeholder])

        def value(placeholder: str) -> str:
            if placeholder not in values:
                raise ExpressionError(f"undefined value placeholder `{placeholder}`")
            return readable(values[placeholder])

        return self.render(name, value)


def _path(path: DocumentPath, name: Spell) -> str:
    out = []
    for i, element in enumerate(path.elements):
        if isinstance(element, int):
            out.append(f"[{element}]")
            continue
        if i > 0:
            out.append(".")
        kind, text = element
        out.append(text if kind == "name" else name(text))
    return "".join(out)


def _term(term: Term, name: Spell, value: Spell) -> str:
    if isinstance(term, ValueTerm):
        return value(term.placeholder)
    if isinstance(term, PathTerm):
        return _path(term.path, name)
    if isinstance(term, IfNotExists):
        return f"if_not_exists({_path(term.path, name)}, {_term(term.default, name, value)})"
    return f"list_append({_term(term.first, name, value)}, {_term(term.second, name, value)})"


def _clause(clause: Clause, name: Spell, value: Spell) -> str:
    parts = []
    for action in clause.actions:
        if isinstance(action, SetAction):
            operand = action.value
            text = _term(operand.left, name, value)
            if operand.operator is not None:
                assert operand.right is not None
                text += f" {operand.operator} {_term(operand.right, name, value)}"
            parts.append(f"{_path(action.path, name)} = {text}")
        elif isinstance(action, AddOrDelete):
            parts.append(f"{_path(action.path, name)} {value(action.value)}")
        else:
            parts.append(_path(action, name))
    return f"{clause.keyword} " + ", ".join(parts)


# ----- readable values -----


def _readable_name(name: str) -> str:
    plain = (
        name != ""
        and (name[0] == "_" or (name[0].isascii() and name[0].isalpha()))
        and all(c == "_" or (c.isascii() and c.isalnum()) for c in name)
    )
    return name if plain else f"`{name}`"


def _json_string(s: str) -> str:
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def readable(value: Value) -> str:
    """A value as a test reads it: ``S`` as a JSON string, ``N`` as its text, ``BOOL`` and
    ``NULL`` as ``true``, ``false``, ``null``, lists as ``[..]``, maps as ``{"name": ..}`` (in
    name order), and ``{"B": "<base64>"}``, ``{"SS": [..]}``, ``{"NS": [..]}``, ``{"BS": [..]}``.
    """
    t, v = value.type, value.value
    if t == "S":
        return _json_string(v)
    if t == "N":
        return str(v)
    if t == "BOOL":
        return "true" if v else "false"
    if t == "NULL":
        return "null"
    if t == "B":
        return '{"B": ' + _json_string(_b64(v)) + "}"
    if t in ("SS", "NS"):
        return '{"' + t + '": [' + ", ".join(_json_string(s) for s in v) + "]}"
    if t == "BS":
        return '{"BS": [' + ", ".join(_json_string(_b64(b)) for b in v) + "]}"
    if t == "L":
        return "[" + ", ".join(readable(e) for e in v) + "]"
    return "{" + ", ".join(f"{_json_string(k)}: {readable(v[k])}" for k in sorted(v)) + "}"


# ----- builder -----

_KEYWORDS = ("SET", "REMOVE", "ADD", "DELETE")


class UpdateBuilder:
    """An update expression under construction: ``SET``, ``REMOVE``, ``ADD`` and ``DELETE``
    actions, each kept in call order and rendered in that clause order.

    Placeholders go to the ``names`` dict and ``values`` :class:`Item` passed to every call,
    which are the action's (shared with its condition, and numbered together with them).
    Actions are kept as plain tuples and as text (``#drift0 = :drift0``): :meth:`text` costs
    one join per clause, and :meth:`build` makes the syntax tree only when asked.
    """

    __slots__ = ("_actions", "_texts", "error")

    def __init__(self) -> None:
        # Per clause (SET, REMOVE, ADD, DELETE): (path elements, value placeholder or None).
        self._actions: Tuple[List[Tuple[Tuple[Element, ...], Optional[str]]], ...] = ([], [], [], [])
        # The same actions as text.
        self._texts: Tuple[List[str], ...] = ([], [], [], [])
        #: The first path that did not parse: raised by :meth:`build` and :meth:`text`.
        self.error: Optional[str] = None

    def set(self, names: Dict[str, str], values: Item, path: str, value: Value) -> None:
        """``SET path = value``."""
        self._add(0, names, path, values, value, " = ")

    def remove(self, names: Dict[str, str], path: str) -> None:
        """``REMOVE path``."""
        self._add(1, names, path, None, None, "")

    def add(self, names: Dict[str, str], values: Item, path: str, value: Value) -> None:
        """``ADD path value``."""
        self._add(2, names, path, values, value, " ")

    def delete(self, names: Dict[str, str], values: Item, path: str, value: Value) -> None:
        """``DELETE path value``."""
        self._add(3, names, path, values, value, " ")

    def is_empty(self) -> bool:
        """Whether no action was added (paths that failed to parse do not count)."""
        return not any(self._actions)

    def build(self) -> UpdateExpression:
        """The expression built so far; raises :class:`ExpressionError` for the first path that
        did not parse."""
        if self.error is not None:
            raise ExpressionError(self.error)
        clauses = []
        for clause, (keyword, actions) in enumerate(zip(_KEYWORDS, self._actions)):
            if not actions:
                continue
            built: List[Union[SetAction, DocumentPath, AddOrDelete]] = []
            for elements, placeholder in actions:
                path = DocumentPath(elements)
                if clause == 0:
                    assert placeholder is not None
                    built.append(SetAction(path, Operand(ValueTerm(placeholder))))
                elif clause == 1:
                    built.append(path)
                else:
                    assert placeholder is not None
                    built.append(AddOrDelete(path, placeholder))
            clauses.append(Clause(keyword, tuple(built)))
        return UpdateExpression(tuple(clauses))

    def text(self) -> str:
        """``str(self.build())``, faster: the expression's text."""
        if self.error is not None:
            raise ExpressionError(self.error)
        return " ".join(
            f"{keyword} {', '.join(texts)}" for keyword, texts in zip(_KEYWORDS, self._texts) if texts
        )

    def copy(self) -> "UpdateBuilder":
        out = UpdateBuilder()
        out._actions = tuple(list(actions) for actions in self._actions)
        out._texts = tuple(list(texts) for texts in self._texts)
        out.error = self.error
        return out

    def _add(
        self,
        clause: int,
        names: Dict[str, str],
        path: str,
        values: Optional[Item],
        value: Optional[Value],
        separator: str,
    ) -> None:
        try:
            parsed = Path.parse(path)
        except PathError as error:
            if self.error is None:
                self.error = str(error)
            return
        elements: List[Element] = []
        text: List[str] = []
        for segment in parsed.segments:
            if segment.__class__ is int:
                elements.append(segment)
                text.append(f"[{segment}]")
            else:
                placeholder = _name(names, segment)  # type: ignore[arg-type]
                elements.append(("placeholder", placeholder))
                text.append(f".{placeholder}" if text else placeholder)
        if values is None:
            self._actions[clause].append((tuple(elements), None))
            self._texts[clause].append("".join(text))
        else:
            assert value is not None
            placeholder = _value(values, value)
            self._actions[clause].append((tuple(elements), placeholder))
            self._texts[clause].append(f"{''.join(text)}{separator}{placeholder}")


def _name(names: Dict[str, str], name: str) -> str:
    """The generated placeholder of ``name``: the one it already has, or the next number."""
    if name in names.values():
        # The first in placeholder order, as the Rust SDK's BTreeMap finds it.
        found = None
        for placeholder, existing in names.items():
            if existing == name and placeholder.startswith("#drift") and (found is None or placeholder < found):
                found = placeholder
        if found is not None:
            return found
    placeholder = f"#drift{len(names)}"
    names[placeholder] = name
    return placeholder


def _value(values: Item, value: Value) -> str:
    """A new placeholder for ``value``: values are never shared, even when equal."""
    placeholder = f":drift{len(values)}"
    dict.__setitem__(values, placeholder, value)
    return placeholder


# ----- parser -----

_SYMBOLS = ".,=+-()[]"


def _is_word_char(c: str) -> bool:
    return c == "_" or (c.isascii() and c.isalnum())


def _tokenize(text: str) -> List[Tuple[str, str, int]]:
    """Tokens ``(kind, text, byte offset)``; kinds: word, name, value, digits, symbol."""
    tokens = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if c in "#:":
            end = i + 1
            while end < n and _is_word_char(text[end]):
                end += 1
            if end == i + 1:
                raise ExpressionError(
                    f"invalid update expression: `{c}` must be followed by letters, digits or `_` "
                    f"(at byte {_byte(text, start)})"
                )
            kind = "name" if c == "#" else "value"
        elif "0" <= c <= "9":
            end = i
            while end < n and "0" <= text[end] <= "9":
                end += 1
            kind = "digits"
        elif c == "_" or (c.isascii() and c.isalpha()):
            end = i
            while end < n and _is_word_char(text[end]):
                end += 1
            kind = "word"
        elif c in _SYMBOLS:
            end = i + 1
            kind = "symbol"
        else:
            raise ExpressionError(
                f"invalid update expression: unexpected `{c}` (at byte {_byte(text, start)}); "
                "names other than letters, digits and `_` need a #placeholder"
            )
        tokens.append((kind, text[start:end], _byte(text, start)))
        i = end
    return tokens


def _byte(text: str, index: int) -> int:
    return len(text[:index].encode())


def _keyword(word: str) -> Optional[str]:
    upper = word.upper() if word.isascii() else word
    return upper if upper in _KEYWORDS else None


class _Parser:
    def __init__(self, tokens: List[Tuple[str, str, int]]) -> None:
        self.tokens = tokens
        self.position = 0
        self.nesting = 0

    def peek(self, ahead: int = 0) -> Optional[Tuple[str, str, int]]:
        at = self.position + ahead
        return self.tokens[at] if at < len(self.tokens) else None

    def offset(self) -> int:
        token = self.peek() or (self.tokens[-1] if self.tokens else None)
        return token[2] if token else 0

    def expected(self, what: str) -> ExpressionError:
        token = self.peek()
        if token is None:
            return ExpressionError(f"invalid update expression: expected {what}, found the end")
        return ExpressionError(
            f"invalid update expression: expected {what}, found `{token[1]}` (at byte {token[2]})"
        )

    def eat(self, symbol: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "symbol" and token[1] == symbol:
            self.position += 1
            return True
        return False

    def symbol(self, symbol: str) -> None:
        if not self.eat(symbol):
            raise self.expected(f"`{symbol}`")

    def list(self, item: Callable[[], ClauseAction]) -> Tuple[ClauseAction, ...]:
        items = [item()]
        while self.eat(","):
            items.append(item())
        return tuple(items)

    def path(self) -> DocumentPath:
        elements: List[Element] = [self.name()]
        while True:
            if self.eat("."):
                elements.append(self.name())
            elif self.eat("["):
                token = self.peek()
                if token is None or token[0] != "digits":
                    raise self.expected("a list index")
                index = int(token[1])
                if index >= 2**64:
                    raise ExpressionError(f"invalid update expression: list index {token[1]} is too large")
                self.position += 1
                self.symbol("]")
                elements.append(index)
            else:
                return DocumentPath(tuple(elements))

    def name(self) -> Element:
        token = self.peek()
        if token is None or token[0] not in ("word", "name"):
            raise self.expected("an attribute name or #placeholder")
        self.position += 1
        return ("name" if token[0] == "word" else "placeholder", token[1])

    def value_placeholder(self) -> str:
        token = self.peek()
        if token is None or token[0] != "value":
            raise self.expected("a :placeholder")
        self.position += 1
        return token[1]

    def add_or_delete(self) -> AddOrDelete:
        return AddOrDelete(self.path(), self.value_placeholder())

    def set_action(self) -> SetAction:
        path = self.path()
        self.symbol("=")
        return SetAction(path, self.operand())

    def operand(self) -> Operand:
        left = self.term()
        for operator in "+-":
            if self.eat(operator):
                return Operand(left, operator, self.term())
        return Operand(left)

    def term(self) -> Term:
        token, following = self.peek(), self.peek(1)
        if token is not None and token[0] == "value":
            return ValueTerm(self.value_placeholder())
        if (
            token is not None
            and token[0] == "word"
            and following is not None
            and following[:2] == ("symbol", "(")
        ):
            offset = self.offset()
            self.position += 2
            self.nesting += 1
            if self.nesting > MAX_NESTING:
                raise ExpressionError(
                    f"invalid update expression: functions nested deeper than {MAX_NESTING} levels"
                )
            function = token[1].lower()
            term: Term
            if function == "if_not_exists":
                path = self.path()
                self.symbol(",")
                term = IfNotExists(path, self.term())
            elif function == "list_append":
                first = self.term()
                self.symbol(",")
                term = ListAppend(first, self.term())
            else:
                raise ExpressionError(
                    f"invalid update expression: unknown function `{token[1]}` (at byte {offset}); "
                    "SET knows if_not_exists and list_append"
                )
            self.symbol(")")
            self.nesting -= 1
            return term
        if token is not None and token[0] in ("word", "name"):
            return PathTerm(self.path())
        raise self.expected("a path, a :placeholder, if_not_exists(..) or list_append(..)")


def parse(text: str) -> UpdateExpression:
    """Parses an update expression; raises :class:`ExpressionError` naming what was expected
    where (the same messages as the Rust SDK)."""
    parser = _Parser(_tokenize(text))
    clauses: List[Clause] = []
    while True:
        token = parser.peek()
        if token is None:
            if not clauses:
                raise ExpressionError("invalid update expression: it is empty")
            break
        keyword = _keyword(token[1]) if token[0] == "word" else None
        if keyword is None:
            if not clauses:
                raise parser.expected("SET, REMOVE, ADD or DELETE")
            raise parser.expected("`,`, SET, REMOVE, ADD, DELETE or the end")
        if any(clause.keyword == keyword for clause in clauses):
            raise ExpressionError(
                f"invalid update expression: the {keyword} clause appears twice (at byte {parser.offset()})"
            )
        parser.position += 1
        actions: Tuple[ClauseAction, ...]
        if keyword == "SET":
            actions = parser.list(parser.set_action)
        elif keyword == "REMOVE":
            actions = parser.list(parser.path)
        else:
            actions = parser.list(parser.add_or_delete)
        clauses.append(Clause(keyword, actions))
    return UpdateExpression(tuple(clauses))


__all__ = [
    "AddOrDelete",
    "Clause",
    "DocumentPath",
    "Element",
    "IfNotExists",
    "ListAppend",
    "MAX_NESTING",
    "Operand",
    "PathTerm",
    "SetAction",
    "Term",
    "UpdateBuilder",
    "UpdateExpression",
    "ValueTerm",
    "parse",
    "readable",
]
