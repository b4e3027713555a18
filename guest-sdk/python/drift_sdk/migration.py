"""What a migration is (:class:`Info`), and how the SDK calls it.

A migration is a plain Python module (or a :class:`Migration` subclass) with three functions::

    def info() -> Info: ...
    def migrate(item: Item) -> list[Action]: ...
    def rollback(item: Item) -> list[Action]: ...     # optional

    WitWorld = export_migration(__name__)              # the component's exports

``migrate`` and ``rollback`` return the item's actions: a list (or any iterable, a generator
included; ``[]`` leaves the item alone) of :func:`~drift_sdk.put` / :func:`~drift_sdk.update` /
:func:`~drift_sdk.delete` builders, or a single one. Any exception they raise fails the item,
its message (see :func:`~drift_sdk.errors.error_message`) becoming the item's error.
"""

from __future__ import annotations

import importlib
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, List, Optional, Union

from .action import Delete, Put, Update
from .errors import MigrationError, error_message
from .value import Item

Action = Union[Put, Update, Delete]
Actions = Union[Iterable[Action], Action]


@dataclass
class Info:
    """What a migration is: number, name, table, and the other tables its actions may touch."""

    #: Position of the migration in the project's sequence; unique per metadata table.
    number: int
    #: Short name, e.g. ``users_v2``.
    name: str
    #: The table that is scanned; every item of it is passed to ``migrate``.
    table: str
    #: One or two sentences on what it changes and why.
    description: str = ""
    #: Other tables that actions (and immediate operations) may touch.
    other_tables: List[str] = field(default_factory=list)

    def other_table(self, table: str) -> "Info":
        """Declares another table that actions may write to; returns the info."""
        self.other_tables.append(table)
        return self


class Migration:
    """Base class for a migration written as a class (a module with the same three functions
    works as well). ``rollback`` defaults to failing every item."""

    def info(self) -> Info:
        raise NotImplementedError("a migration defines info()")

    def migrate(self, item: Item) -> Actions:
        raise NotImplementedError("a migration defines migrate(item)")

    def rollback(self, item: Item) -> Actions:
        raise MigrationError("this migration has no rollback")


def _no_rollback(item: Item) -> Actions:
    raise MigrationError("this migration has no rollback")


@dataclass(frozen=True)
class Target:
    """A migration's three functions, however it was written."""

    info: Callable[[], Info]
    migrate: Callable[[Item], Actions]
    rollback: Callable[[Item], Actions]


def as_migration(migration: Any) -> Target:
    """The functions of ``migration``: a module, a module's name, a :class:`Migration`
    subclass (instantiated without arguments) or an instance of one."""
    if isinstance(migration, str):
        migration = sys.modules.get(migration) or importlib.import_module(migration)
    if isinstance(migration, type):
        migration = migration()
    what = getattr(migration, "__name__", type(migration).__name__)
    for name in ("info", "migrate"):
        if not callable(getattr(migration, name, None)):
            raise TypeError(f"migration {what} has no {name}() function")
    rollback = getattr(migration, "rollback", None)
    return Target(migration.info, migration.migrate, rollback if callable(rollback) else _no_rollback)


def actions_of(result: Any) -> List[Action]:
    """The actions a ``migrate``/``rollback`` returned, as a list; raises
    :class:`MigrationError` for anything else."""
    if isinstance(result, (Put, Update, Delete)):
        return [result]
    if result is None:
        raise MigrationError("the migration returned None; return a list of actions ([] for none)")
    if isinstance(result, (str, bytes, dict)):
        raise MigrationError(f"the migration returned a {type(result).__name__}; return a list of actions")
    actions = list(result)
    for action in actions:
        if not isinstance(action, (Put, Update, Delete)):
            raise MigrationError(
                f"the migration returned a {type(action).__name__} among its actions; "
                "expected put(...), update(...) or delete(...)"
            )
    return actions


def call(function: Callable[[Item], Actions], item: Item) -> List[Action]:
    """Calls ``migrate`` or ``rollback`` and checks what it returned (exceptions propagate)."""
    return actions_of(function(item))


def export_migration(migration: Any) -> Optional[type]:
    """Exports ``migration`` (a module, its ``__name__``, a :class:`Migration` subclass or
    instance) as the component's ``info``, ``migrate`` and ``rollback``.

    Write ``WitWorld = export_migration(__name__)`` at the end of the migration's module:
    componentize-py looks for ``WitWorld`` in the module it builds. Inside the component it
    returns the glue class of :mod:`drift_sdk.component`; natively it only checks that the
    migration has ``info`` and ``migrate`` (lazily, for a module name) and returns ``None``,
    so that the module imports in unit tests.
    """
    if sys.platform == "wasi":
        from .component import export

        return export(migration)
    if not isinstance(migration, (str, types.ModuleType)):
        as_migration(migration)
    return None


__all__ = [
    "Action",
    "Actions",
    "Info",
    "Migration",
    "Target",
    "actions_of",
    "as_migration",
    "call",
    "error_message",
    "export_migration",
]
