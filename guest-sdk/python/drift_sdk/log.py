"""Messages to the host's log, tagged by the host with the migration and the current item.

Natively (in unit tests) messages go to standard error as ``[Info] message``; in the component
they go to the host's ``log`` import. :func:`set_backend` swaps the destination (tests can
collect messages with it).
"""

from __future__ import annotations

import sys
from typing import Callable

#: The levels, lowest first, as the WIT ``level`` enum orders them.
LEVELS = ("trace", "debug", "info", "warn", "error")

Backend = Callable[[str, str], None]


def _stderr(level: str, message: str) -> None:
    print(f"[{level.capitalize()}] {message}", file=sys.stderr)


_backend: Backend = _stderr


def set_backend(backend: Backend) -> Backend:
    """Sends messages to ``backend(level, message)`` from now on; returns the previous one."""
    global _backend
    previous, _backend = _backend, backend
    return previous


def write(level: str, message: str) -> None:
    """Logs ``message`` at ``level`` (one of :data:`LEVELS`)."""
    if level not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; expected one of {', '.join(LEVELS)}")
    _backend(level, str(message))


def trace(message: str) -> None:
    """Logs at trace level."""
    write("trace", message)


def debug(message: str) -> None:
    """Logs at debug level."""
    write("debug", message)


def info(message: str) -> None:
    """Logs at info level."""
    write("info", message)


def warn(message: str) -> None:
    """Logs at warn level."""
    write("warn", message)


def error(message: str) -> None:
    """Logs at error level."""
    write("error", message)
