"""Example migration ``users_v2`` over the ``users`` table (partition key ``id``), in Python:
exactly what ``example-migrations/users_v2`` does in Rust.

- ``email_lower`` = lowercase(``email``): lets the application look users up by email without
  caring about case;
- ``schema_version`` = 2;
- ``name`` is renamed to ``full_name``.

A user without an ``email`` is an error: the whole migration then applies nothing. Users
already at schema version 2 are left alone, so the migration can be run over a partially
migrated table. ``rollback`` restores version-1 users exactly.
"""

from __future__ import annotations

from typing import List

from drift_sdk import Action, Info, Item, MigrationError, export_migration, update


def info() -> Info:
    return Info(
        2,
        "users_v2",
        "users",
        description="Add email_lower and schema_version 2; rename name to full_name.",
    )


def migrate(user: Item) -> List[Action]:
    if user.get_i64("schema_version") == 2:
        return []
    email = user.get("email")
    if email is None:
        raise MigrationError("user has no `email` attribute")
    if email.type != "S":
        raise MigrationError(f"user's `email` is of type {email.type_name()}, expected a string (S)")
    change = update(user.key(["id"]))
    change.set("email_lower", email.value.lower()).set("schema_version", 2)
    name = user.get("name")
    if name is not None:
        change.set("full_name", name).remove("name")
    return [change]


def rollback(user: Item) -> List[Action]:
    if user.get_i64("schema_version") != 2:
        return []
    change = update(user.key(["id"]))
    change.remove("email_lower").remove("schema_version")
    full_name = user.get("full_name")
    if full_name is not None:
        change.set("name", full_name).remove("full_name")
    return [change]


WitWorld = export_migration(__name__)
