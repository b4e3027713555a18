"""Deferred writes a migration returns: :func:`put`, :func:`update` and :func:`delete`.

Builder methods change the action and return it, so they chain::

    update(user.key(["id"])).set("email_lower", email.lower()).remove("name")

An update built with :meth:`Update.set` / :meth:`Update.remove` / :meth:`Update.add` /
:meth:`Update.delete_from_set` gets its update expression and placeholders generated exactly as
the Rust SDK generates them (``#drift<N>`` / ``:drift<N>``; do not use that spelling for
placeholders of your own). :meth:`Update.resolved` spells the placeholders out, for tests.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, TypeVar, Union

from .errors import ExpressionError
from .expression import UpdateBuilder, parse
from .value import Item, Value

A = TypeVar("A", bound="_Builder")


class Common:
    """What every action carries besides its kind: target table, condition and placeholders."""

    __slots__ = ("table", "condition", "names", "values")

    def __init__(self) -> None:
        #: Target table; ``None`` means the migration's table.
        self.table: Optional[str] = None
        #: Condition expression, if any.
        self.condition: Optional[str] = None
        #: ``#placeholder`` → attribute name.
        self.names: Dict[str, str] = {}
        #: ``:placeholder`` → value.
        self.values: Item = Item()

    def copy(self) -> "Common":
        out = Common()
        out.table = self.table
        out.condition = self.condition
        out.names = dict(self.names)
        out.values = self.values.copy()
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Common):
            return NotImplemented
        return (self.table, self.condition, self.names, self.values) == (
            other.table,
            other.condition,
            other.names,
            other.values,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Common(table={self.table!r}, condition={self.condition!r}, "
            f"names={self.names!r}, values={self.values!r})"
        )


class _Builder:
    """Builder methods shared by every kind of action."""

    __slots__ = ("common",)

    common: Common

    def table(self: A, table: str) -> A:
        """Writes to ``table`` instead of the migration's table (declare it in ``info()``)."""
        self.common.table = table
        return self

    def condition(
        self: A,
        expression: str,
        names: Optional[Mapping[str, str]] = None,
        values: Optional[Mapping[str, Any]] = None,
    ) -> A:
        """Applies the write only if ``expression`` holds (DynamoDB ``ConditionExpression``),
        with its ``#name`` and ``:value`` placeholders (values convert with ``Value.of``)."""
        self.common.condition = expression
        for placeholder, name in (names or {}).items():
            self.name(placeholder, name)
        for placeholder, value in (values or {}).items():
            self.value(placeholder, value)
        return self

    def name(self: A, placeholder: str, name: str) -> A:
        """Defines the placeholder ``#placeholder`` as the attribute name ``name``."""
        self.common.names[placeholder] = name
        return self

    def value(self: A, placeholder: str, value: Any) -> A:
        """Defines the placeholder ``:placeholder`` as ``value``."""
        self.common.values[placeholder] = value
        return self


class Put(_Builder):
    """Write a whole item, replacing any item with the same key."""

    __slots__ = ("item",)

    def __init__(self, item: Union[Item, Mapping[str, Any]]) -> None:
        #: The item to write, key included.
        self.item: Item = item if type(item) is Item else Item(item)
        self.common = Common()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Put):
            return NotImplemented
        return self.item == other.item and self.common == other.common

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Put(item={self.item!r}, common={self.common!r})"


class Update(_Builder):
    """Change attributes of an existing item (or create it, with :meth:`upsert`)."""

    __slots__ = ("key", "is_upsert", "_builder", "_expression")

    def __init__(self, key: Union[Item, Mapping[str, Any]]) -> None:
        #: The item's primary key.
        self.key: Item = key if type(key) is Item else Item(key)
        self.common = Common()
        #: Whether the update may create a missing item (see :meth:`upsert`).
        self.is_upsert = False
        self._builder = UpdateBuilder()
        self._expression: Optional[str] = None

    def set(self, path: str, value: Any) -> "Update":
        """``SET path = value``; ``path`` is a document path such as ``address.city`` or
        ``tags[0]``; ``value`` converts with ``Value.of``."""
        self._builder.set(self.common.names, self.common.values, path, Value.of(value))
        return self

    def remove(self, path: str) -> "Update":
        """``REMOVE path``."""
        self._builder.remove(self.common.names, path)
        return self

    def add(self, path: str, value: Any) -> "Update":
        """``ADD path value``: adds to a number, or adds elements to a set."""
        self._builder.add(self.common.names, self.common.values, path, Value.of(value))
        return self

    def delete_from_set(self, path: str, value: Any) -> "Update":
        """``DELETE path value``: removes the elements of the set ``value`` from a set."""
        self._builder.delete(self.common.names, self.common.values, path, Value.of(value))
        return self

    def expression(self, expression: str) -> "Update":
        """Uses ``expression`` as the whole update expression, with placeholders defined by
        :meth:`name` and :meth:`value`. Cannot be mixed with ``set``/``remove``/..."""
        self._expression = expression
        return self

    def upsert(self, allow: bool = True) -> "Update":
        """Allows the update to create the item when it does not exist.

        Without it the host adds ``attribute_exists(<key>)``: a migration never resurrects an
        item that the application deleted during the run.
        """
        self.is_upsert = allow
        return self

    def update_expression(self) -> str:
        """The update expression; raises :class:`ExpressionError` when there is none (no
        clause, a path that did not parse, or ``expression()`` mixed with ``set``/...)."""
        built = self._builder.text()
        empty = self._builder.is_empty()
        if self._expression is not None:
            if not empty:
                raise ExpressionError("an update cannot mix expression() with set/remove/add/delete")
            return self._expression
        if empty:
            raise ExpressionError("an update needs at least one set/remove/add/delete")
        return built

    def resolved(self) -> str:
        """What the update does, placeholders spelled out: ``SET email_lower =
        "ada@example.com", schema_version = 2 REMOVE name``. Raises as
        :meth:`update_expression` does, on an expression that does not parse, or on a
        placeholder that is not defined."""
        return parse(self.update_expression()).resolve(self.common.names, self.common.values)

    def copy(self) -> "Update":
        out = Update(self.key.copy())
        out.common = self.common.copy()
        out.is_upsert = self.is_upsert
        out._builder = self._builder.copy()
        out._expression = self._expression
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Update):
            return NotImplemented
        return (
            self.key == other.key
            and self.common == other.common
            and self.is_upsert == other.is_upsert
            and self._expression_or_error() == other._expression_or_error()
        )

    __hash__ = None  # type: ignore[assignment]

    def _expression_or_error(self) -> str:
        try:
            return self.update_expression()
        except ExpressionError as error:
            return f"error: {error}"

    def __repr__(self) -> str:
        return (
            f"Update(key={self.key!r}, expression={self._expression_or_error()!r}, "
            f"upsert={self.is_upsert!r}, common={self.common!r})"
        )


class Delete(_Builder):
    """Remove an item."""

    __slots__ = ("key",)

    def __init__(self, key: Union[Item, Mapping[str, Any]]) -> None:
        #: The item's primary key.
        self.key: Item = key if type(key) is Item else Item(key)
        self.common = Common()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Delete):
            return NotImplemented
        return self.key == other.key and self.common == other.common

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Delete(key={self.key!r}, common={self.common!r})"


#: One deferred write.
Action = Union[Put, Update, Delete]


def put(item: Union[Item, Mapping[str, Any]]) -> Put:
    """Writes ``item`` (a whole item, key included)."""
    return Put(item)


def update(key: Union[Item, Mapping[str, Any]]) -> Update:
    """Changes the item with primary key ``key``; chain :meth:`Update.set`,
    :meth:`Update.remove`, ...

    Unless :meth:`Update.upsert` is called, the update only applies if the item still exists.
    """
    return Update(key)


def delete(key: Union[Item, Mapping[str, Any]]) -> Delete:
    """Deletes the item with primary key ``key``."""
    return Delete(key)
