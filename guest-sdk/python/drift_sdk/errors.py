"""The exceptions of the SDK, and how an exception becomes an item's error message."""

from __future__ import annotations


class MigrationError(Exception):
    """Raise it (or any exception) from ``migrate``/``rollback`` to fail the item.

    The host reports the message with the item's key, and applies nothing of the migration.
    """


class MissingKeyError(MigrationError, LookupError):
    """``Item.key([...])`` on an item that lacks one of the key attributes."""

    def __init__(self, name: str) -> None:
        super().__init__(f"item has no key attribute `{name}`")
        self.name = name


class PathError(MigrationError, ValueError):
    """A document path that does not parse, such as ``a..b`` or ``a[x]``."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"invalid document path `{path}`: {reason}")
        self.path = path
        self.reason = reason


class ExpressionError(MigrationError, ValueError):
    """An update that has no valid expression, or an expression that does not parse."""


def error_message(error: BaseException) -> str:
    """The text an exception becomes when it fails an item.

    The exception's message (``str(error)``), as Rust's ``Error`` takes a value's ``Display``;
    ``KeyError`` (whose message is only the key's repr) and exceptions without a message get
    their type name in front, so that the report still says what went wrong.
    """
    value = getattr(error, "value", None)
    # componentize-py's `Err(...)` raised by hand: its payload is the message.
    if type(error).__name__ == "Err" and isinstance(value, str):
        return value
    text = str(error)
    if not text:
        return type(error).__name__
    if isinstance(error, KeyError) and not isinstance(error, MigrationError):
        return f"{type(error).__name__}: {text}"
    return text
