"""Document paths (``address.city``, ``tags[0]``), as DynamoDB expressions spell them.

A path is a top-level attribute name followed by map keys (``.name``) and list indices
(``[n]``). Its segments are ``str`` (a name) and ``int`` (an index).
"""

from __future__ import annotations

import re
from typing import Dict, Iterator, Optional, Tuple, Union

from .errors import PathError

#: One step of a path: a map key (or the top-level attribute name), or a list index.
Segment = Union[str, int]

_INDEX = re.compile(r"\+?[0-9]+\Z")

#: The largest list index a path may hold: the Rust guest's ``usize`` on wasm32.
MAX_INDEX = 2**32 - 1

# Parsed paths by text: migrations use the same few paths for every item.
_CACHE: Dict[str, "Path"] = {}
_CACHE_LIMIT = 4096


class Path:
    """A parsed document path: an attribute name followed by map keys and list indices."""

    __slots__ = ("segments",)

    segments: Tuple[Segment, ...]

    def __init__(self, segments: Tuple[Segment, ...]) -> None:
        self.segments = tuple(segments)

    @staticmethod
    def parse(text: str) -> "Path":
        """Parses ``a.b[3].c``: names are separated by ``.``, list indices are ``[n]``.

        Raises :class:`PathError` with the same reasons as the Rust SDK (``empty name``,
        ``unclosed `[```, ...).
        """
        cached = _CACHE.get(text)
        if cached is not None:
            return cached
        path = Path._parse(text)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[text] = path
        return path

    @staticmethod
    def _parse(text: str) -> "Path":
        if text and "." not in text and "[" not in text:
            return Path((text,))
        segments: list[Segment] = []
        rest = text
        expect_name = True
        while rest:
            if rest[0] == "[":
                end = rest.find("]", 1)
                if end < 0:
                    raise PathError(text, "unclosed `[`")
                digits = rest[1:end]
                if not _INDEX.match(digits) or int(digits) > MAX_INDEX:
                    raise PathError(text, "list index is not a whole number")
                if not segments:
                    raise PathError(text, "a path starts with an attribute name")
                segments.append(int(digits))
                rest = rest[end + 1 :]
                expect_name = False
            elif rest[0] == ".":
                if expect_name:
                    raise PathError(text, "empty name")
                rest = rest[1:]
                expect_name = True
                if not rest:
                    raise PathError(text, "empty name")
            else:
                if not expect_name:
                    raise PathError(text, "expected `.` or `[` after an index")
                end = len(rest)
                for stop in (rest.find("."), rest.find("[")):
                    if 0 <= stop < end:
                        end = stop
                segments.append(rest[:end])
                rest = rest[end:]
                expect_name = False
        if not segments:
            raise PathError(text, "empty path")
        return Path(tuple(segments))

    @staticmethod
    def attribute(name: str) -> "Path":
        """A path of one top-level attribute, taken literally (dots and brackets included)."""
        return Path((name,))

    def split_first(self) -> Optional[Tuple[str, "Path"]]:
        """The top-level attribute name and the rest of the path below it."""
        first = self.segments[0] if self.segments else None
        if not isinstance(first, str):
            return None
        return first, Path(self.segments[1:])

    def __iter__(self) -> Iterator[Segment]:
        return iter(self.segments)

    def __len__(self) -> int:
        return len(self.segments)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Path) and self.segments == other.segments

    def __hash__(self) -> int:
        return hash(self.segments)

    def __str__(self) -> str:
        out = []
        for i, segment in enumerate(self.segments):
            if isinstance(segment, int):
                out.append(f"[{segment}]")
            else:
                out.append(segment if i == 0 else "." + segment)
        return "".join(out)

    def __repr__(self) -> str:
        return f"Path({self.segments!r})"
