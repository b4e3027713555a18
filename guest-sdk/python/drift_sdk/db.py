"""Immediate DynamoDB operations: they run at once, while the item is being migrated.

Use them to look things up (:func:`get_item`, :func:`query_page`, :func:`query_all`). Writes
made here are not deferred and are not undone if the migration fails later: prefer returning
actions. Only the tables declared in ``info()`` may be used. Natively (unit tests) and in
``drift-host exec`` every call raises :class:`Refused`, unless a test installs its own backend
with :func:`set_backend`.

Every failure raises a :class:`DbError`; left uncaught it fails the item with its message, as
``?`` does in the Rust SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Protocol, Union

from .errors import MigrationError
from .value import Item


class DbError(MigrationError):
    """Why an immediate operation failed."""


class ConditionalCheckFailed(DbError):
    """The condition expression did not hold; nothing was written."""

    def __init__(self) -> None:
        super().__init__("condition check failed")


class Refused(DbError):
    """The host refused the call (undeclared table, offline run, bad argument)."""

    def __init__(self, why: str) -> None:
        super().__init__(f"refused: {why}")
        self.why = why


class Failed(DbError):
    """DynamoDB failed after the host's retries."""

    def __init__(self, why: str) -> None:
        super().__init__(f"DynamoDB failed: {why}")
        self.why = why


@dataclass
class Query:
    """A query on a table or an index (DynamoDB ``Query``)."""

    #: Table to query.
    table: str
    #: Key condition expression, e.g. ``#pk = :pk``.
    key_condition: str
    #: ``#placeholder`` → attribute name, for the key condition and the filter.
    names: Dict[str, str] = field(default_factory=dict)
    #: ``:placeholder`` → value (converted with ``Value.of``).
    values: Item = field(default_factory=Item)
    #: Secondary index to query, if any.
    index: Optional[str] = None
    #: Filter expression applied after the key condition.
    filter: Optional[str] = None
    #: Items per page (the host caps it at 1000).
    limit: Optional[int] = None
    #: Read in descending key order.
    descending: bool = False

    def __post_init__(self) -> None:
        if type(self.values) is not Item:
            self.values = Item(self.values)


@dataclass
class Page:
    """One page of a query."""

    #: The items of this page.
    items: List[Item]
    #: Pass it to the next :func:`query_page` call; ``None`` after the last page.
    last_evaluated_key: Optional[Item] = None


class Backend(Protocol):
    """Where immediate operations go: the host in the component, a fake in tests."""

    def get_item(self, table: str, key: Item) -> Optional[Item]: ...

    def put_item(
        self, table: str, item: Item, condition: Optional[str], names: Dict[str, str], values: Item
    ) -> None: ...

    def update_item(
        self,
        table: str,
        key: Item,
        expression: str,
        condition: Optional[str],
        names: Dict[str, str],
        values: Item,
    ) -> None: ...

    def delete_item(
        self, table: str, key: Item, condition: Optional[str], names: Dict[str, str], values: Item
    ) -> None: ...

    def query(self, query: Query, start: Optional[Item]) -> Page: ...


class _Offline:
    """Refuses every call, as drift-host does offline."""

    def _refuse(self, *args: Any) -> Any:
        raise Refused("immediate DynamoDB operations need the drift-host runtime")

    get_item = put_item = update_item = delete_item = query = _refuse


_backend: Backend = _Offline()


def set_backend(backend: Optional[Backend]) -> Backend:
    """Sends immediate operations to ``backend`` from now on (``None``: refuse them all);
    returns the previous backend."""
    global _backend
    previous, _backend = _backend, (backend if backend is not None else _Offline())
    return previous


def _item(x: Union[Item, Mapping[str, Any]]) -> Item:
    return x if type(x) is Item else Item(x)


def get_item(table: str, key: Union[Item, Mapping[str, Any]]) -> Optional[Item]:
    """Reads the item with primary key ``key`` from ``table`` (strongly consistent)."""
    return _backend.get_item(table, _item(key))


def put_item(
    table: str,
    item: Union[Item, Mapping[str, Any]],
    condition: Optional[str] = None,
    names: Optional[Mapping[str, str]] = None,
    values: Optional[Mapping[str, Any]] = None,
) -> None:
    """Writes ``item`` to ``table`` now, if ``condition`` (with its placeholders) holds."""
    _backend.put_item(table, _item(item), condition, dict(names or {}), _item(values or {}))


def update_item(
    table: str,
    key: Union[Item, Mapping[str, Any]],
    expression: str,
    condition: Optional[str] = None,
    names: Optional[Mapping[str, str]] = None,
    values: Optional[Mapping[str, Any]] = None,
) -> None:
    """Updates the item with key ``key`` in ``table`` now, with a raw update expression
    (it creates the item if missing, unless the condition says otherwise)."""
    _backend.update_item(
        table, _item(key), expression, condition, dict(names or {}), _item(values or {})
    )


def delete_item(
    table: str,
    key: Union[Item, Mapping[str, Any]],
    condition: Optional[str] = None,
    names: Optional[Mapping[str, str]] = None,
    values: Optional[Mapping[str, Any]] = None,
) -> None:
    """Deletes the item with key ``key`` from ``table`` now."""
    _backend.delete_item(table, _item(key), condition, dict(names or {}), _item(values or {}))


def query_page(query: Query, start: Optional[Item] = None) -> Page:
    """Reads one page of ``query``, starting after ``start`` (the previous page's
    ``last_evaluated_key``)."""
    return _backend.query(query, start)


def query_all(query: Query) -> List[Item]:
    """Reads every page of ``query``."""
    items: List[Item] = []
    start: Optional[Item] = None
    while True:
        page = query_page(query, start)
        items.extend(page.items)
        if page.last_evaluated_key is None:
            return items
        start = page.last_evaluated_key
