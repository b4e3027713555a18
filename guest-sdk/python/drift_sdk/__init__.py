"""Write DynamoDB data migrations for drift-host in Python, built with componentize-py.

A migration is a plain module::

    from drift_sdk import Info, Item, export_migration, update

    def info() -> Info:
        return Info(7, "add_flag", "users", description="Mark every user as active.")

    def migrate(user: Item):
        return [update(user.key(["id"])).set("active", True)]

    def rollback(user: Item):
        return [update(user.key(["id"])).remove("active")]

    WitWorld = export_migration(__name__)

Everything but the host calls (:mod:`drift_sdk.log`, :mod:`drift_sdk.db`) is plain Python, so a
migration's logic unit-tests natively with pytest; :mod:`drift_sdk.component` is the
componentize-py glue, used inside the component only.
"""

from . import db, log
from .action import Action, Common, Delete, Put, Update, delete, put, update
from .errors import ExpressionError, MigrationError, MissingKeyError, PathError, error_message
from .expression import UpdateExpression, parse, readable
from .migration import Info, Migration, export_migration
from .path import Path, Segment
from .value import Item, Value

__version__ = "0.1.0"

__all__ = [
    "Action",
    "Common",
    "Delete",
    "ExpressionError",
    "Info",
    "Item",
    "Migration",
    "MigrationError",
    "MissingKeyError",
    "Path",
    "PathError",
    "Put",
    "Segment",
    "Update",
    "UpdateExpression",
    "Value",
    "db",
    "delete",
    "error_message",
    "export_migration",
    "log",
    "parse",
    "put",
    "readable",
    "update",
]
