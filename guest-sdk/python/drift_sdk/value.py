"""DynamoDB values and items as a plain tree: what a migration reads and builds.

:class:`Value` is one attribute value of one of DynamoDB's ten types; :class:`Item` is a
``dict`` of attribute names to values (also used for keys and for the values of expression
placeholders). Numbers are kept as their decimal text, as DynamoDB (up to 38 significant
digits, which no float holds) and the WIT world carry them.

Plain Python values convert on the way in (``item["n"] = 2``, ``update(key).set("a", "x")``):
``str`` → S, ``bool`` → BOOL, ``int``/``float``/``Decimal`` → N, ``bytes`` → B, ``None`` → NULL,
``list``/``tuple`` → L, ``dict``/``Item`` → M, and a non-empty ``set`` of strings, numbers or
bytes → SS, NS or BS (sorted, so that the output does not depend on hashing).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .errors import MissingKeyError, PathError
from .path import Path

#: DynamoDB's type names, as :meth:`Value.type_name` gives them.
TYPES = ("S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M")

_I64 = re.compile(r"[+-]?[0-9]+\Z")
_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
# The texts Rust's ``f64::from_str`` reads (``float`` also takes underscores and blanks).
_FLOAT_TEXT = re.compile(
    r"[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)", re.IGNORECASE
)


def _float_text(n: float) -> str:
    """``n`` as Rust's ``f64`` Display writes it: the shortest digits that read back the same,
    positional, ``-0`` for negative zero. ``repr`` finds the same digits but breaks an exact tie
    between two of them toward the even digit, where Rust takes the one of larger magnitude."""
    shortest = Decimal(repr(n))
    sign, digits, exponent = shortest.as_tuple()
    unit = Decimal((0, (1,), exponent))
    if abs(Decimal(n) - shortest) * 2 == unit and abs(Decimal(n)) > abs(shortest):
        shortest = shortest + unit if not sign else shortest - unit
    text = format(shortest, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", "-0"):
        return "-0" if math.copysign(1.0, n) < 0 else "0"
    return text


def number_text(n: Union[int, float, Decimal, str]) -> str:
    """The decimal text of a number, as the Rust SDK writes it.

    ``int`` as its digits; ``float`` as the shortest text that reads back the same, without
    exponent or trailing ``.0`` (``1.5`` → ``"1.5"``, ``2.0`` → ``"2"``, ``1e20`` →
    ``"100000000000000000000"``, like Rust's ``f64`` display); ``Decimal`` as ``str()`` gives
    it; ``str`` as it is (DynamoDB checks it). ``bool``, NaN and infinities are refused.
    """
    if isinstance(n, bool):
        raise TypeError("a bool is not a number: use Value.BOOL")
    if isinstance(n, int):
        return str(n)
    if isinstance(n, float):
        if not math.isfinite(n):
            raise ValueError(f"DynamoDB numbers are finite, got {n!r}")
        return _float_text(n)
    if isinstance(n, Decimal):
        if not n.is_finite():
            raise ValueError(f"DynamoDB numbers are finite, got {n!r}")
        return str(n)
    if isinstance(n, str):
        return n
    raise TypeError(f"expected a number (int, float, Decimal or decimal text), got {type(n).__name__}")


class Value:
    """One DynamoDB attribute value: ``type`` is its DynamoDB type name, ``value`` its data.

    ============  =====================================
    ``type``      ``value``
    ============  =====================================
    ``S``         ``str``
    ``N``         ``str``: the decimal text
    ``B``         ``bytes``
    ``BOOL``      ``bool``
    ``NULL``      ``None``
    ``SS``        ``list[str]``
    ``NS``        ``list[str]``: decimal texts
    ``BS``        ``list[bytes]``
    ``L``         ``list[Value]``
    ``M``         :class:`Item`
    ============  =====================================

    Build values with ``Value.S("x")``, ``Value.N("1.5")``, ``Value.number(2)``, ...,
    or from plain Python with :meth:`Value.of`.
    """

    __slots__ = ("type", "value")

    type: str
    value: Any

    def __init__(self, type: str, value: Any = None) -> None:
        # Unchecked: the typed constructors below check their argument.
        self.type = type
        self.value = value

    # ----- constructors -----

    @staticmethod
    def S(s: str) -> "Value":
        """String (``S``)."""
        if not isinstance(s, str):
            raise TypeError(f"Value.S takes a str, got {type(s).__name__}")
        return Value("S", s)

    @staticmethod
    def N(n: Union[str, int, float, Decimal]) -> "Value":
        """Number (``N``) from its decimal text, or from an int, float or Decimal."""
        return Value("N", number_text(n))

    @staticmethod
    def number(n: Union[str, int, float, Decimal]) -> "Value":
        """Number (``N``): the same as :meth:`Value.N`."""
        return Value("N", number_text(n))

    @staticmethod
    def B(b: Union[bytes, bytearray, memoryview]) -> "Value":
        """Binary (``B``)."""
        if not isinstance(b, (bytes, bytearray, memoryview)):
            raise TypeError(f"Value.B takes bytes, got {type(b).__name__}")
        return Value("B", bytes(b))

    @staticmethod
    def BOOL(b: bool) -> "Value":
        """Boolean (``BOOL``)."""
        if not isinstance(b, bool):
            raise TypeError(f"Value.BOOL takes a bool, got {type(b).__name__}")
        return Value("BOOL", b)

    @staticmethod
    def NULL() -> "Value":
        """Null (``NULL``)."""
        return Value("NULL", None)

    @staticmethod
    def SS(strings: Iterable[str]) -> "Value":
        """String set (``SS``), in the order given."""
        elements = list(strings)
        for s in elements:
            if not isinstance(s, str):
                raise TypeError(f"a string set holds str, got {type(s).__name__}")
        return Value("SS", elements)

    @staticmethod
    def NS(numbers: Iterable[Union[str, int, float, Decimal]]) -> "Value":
        """Number set (``NS``), in the order given."""
        return Value("NS", [number_text(n) for n in numbers])

    @staticmethod
    def BS(blobs: Iterable[Union[bytes, bytearray, memoryview]]) -> "Value":
        """Binary set (``BS``), in the order given."""
        elements = []
        for b in blobs:
            if not isinstance(b, (bytes, bytearray, memoryview)):
                raise TypeError(f"a binary set holds bytes, got {type(b).__name__}")
            elements.append(bytes(b))
        return Value("BS", elements)

    @staticmethod
    def L(values: Iterable[Any]) -> "Value":
        """List (``L``); elements convert with :meth:`Value.of`."""
        return Value("L", [Value.of(v) for v in values])

    @staticmethod
    def M(entries: Union[Mapping[str, Any], Iterable[Any]] = ()) -> "Value":
        """Map (``M``) from an :class:`Item`, a dict or pairs; values convert with :meth:`Value.of`."""
        return Value("M", entries if type(entries) is Item else Item(entries))

    @staticmethod
    def of(x: Any) -> "Value":
        """A value from plain Python (see the module's documentation); a ``Value`` as it is."""
        if isinstance(x, Value):
            return x
        if isinstance(x, str):
            return Value("S", x)
        if isinstance(x, bool):
            return Value("BOOL", x)
        if isinstance(x, (int, float, Decimal)):
            return Value("N", number_text(x))
        if x is None:
            return Value("NULL", None)
        if isinstance(x, (bytes, bytearray, memoryview)):
            return Value("B", bytes(x))
        if isinstance(x, (list, tuple)):
            return Value("L", [Value.of(v) for v in x])
        if isinstance(x, Mapping):
            return Value("M", x if type(x) is Item else Item(x))
        if isinstance(x, (set, frozenset)):
            return _set_of(x)
        raise TypeError(f"cannot convert {type(x).__name__} to a DynamoDB value")

    # ----- typed access -----

    def as_str(self) -> Optional[str]:
        """The string, if this is an ``S``."""
        return self.value if self.type == "S" else None

    def as_number(self) -> Optional[str]:
        """The decimal text, if this is an ``N``."""
        return self.value if self.type == "N" else None

    def as_i64(self) -> Optional[int]:
        """The number as an int, if this is an ``N`` holding an integer that fits an i64.

        ``"2"`` gives 2; ``"2.0"``, ``"1e3"`` and numbers beyond 64 bits give ``None``, as in
        the Rust SDK.
        """
        if self.type != "N" or not _I64.match(self.value):
            return None
        n = int(self.value)
        return n if _I64_MIN <= n <= _I64_MAX else None

    def as_int(self) -> Optional[int]:
        """The number as an int of any size, if this is an ``N`` whose value is whole
        (``"2"``, ``"2.0"``, ``"1E+3"``, a 38-digit number)."""
        d = self.as_decimal()
        if d is None or d != d.to_integral_value():
            return None
        return int(d)

    def as_f64(self) -> Optional[float]:
        """The number as a float (possibly rounded), if this is an ``N``."""
        if self.type != "N" or not _FLOAT_TEXT.fullmatch(self.value):
            return None
        return float(self.value)

    def as_decimal(self) -> Optional[Decimal]:
        """The number as an exact ``Decimal``, if this is an ``N``."""
        if self.type != "N":
            return None
        try:
            return Decimal(self.value)
        except InvalidOperation:
            return None

    def as_bytes(self) -> Optional[bytes]:
        """The bytes, if this is a ``B``."""
        return self.value if self.type == "B" else None

    def as_bool(self) -> Optional[bool]:
        """The boolean, if this is a ``BOOL``."""
        return self.value if self.type == "BOOL" else None

    def is_null(self) -> bool:
        """Whether this is ``NULL``."""
        return self.type == "NULL"

    def as_list(self) -> Optional[List["Value"]]:
        """The elements, if this is an ``L``."""
        return self.value if self.type == "L" else None

    def as_map(self) -> Optional["Item"]:
        """The entries, if this is an ``M``."""
        return self.value if self.type == "M" else None

    def as_string_set(self) -> Optional[List[str]]:
        """The strings, if this is an ``SS``."""
        return self.value if self.type == "SS" else None

    def as_number_set(self) -> Optional[List[str]]:
        """The decimal texts, if this is an ``NS``."""
        return self.value if self.type == "NS" else None

    def as_binary_set(self) -> Optional[List[bytes]]:
        """The byte strings, if this is a ``BS``."""
        return self.value if self.type == "BS" else None

    def type_name(self) -> str:
        """DynamoDB's name for the type: ``S``, ``N``, ``B``, ``BOOL``, ``NULL``, ``SS``, ``NS``,
        ``BS``, ``L`` or ``M``."""
        return self.type

    def at(self, path: Union[str, Path]) -> Optional["Value"]:
        """The value at ``path`` below this one (``b[0]``), if every step exists."""
        if isinstance(path, str):
            try:
                path = Path.parse(path)
            except PathError:
                return None
        value: Optional[Value] = self
        for segment in path.segments:
            if value is None:
                return None
            if isinstance(segment, int):
                if value.type != "L" or segment >= len(value.value):
                    return None
                value = value.value[segment]
            else:
                if value.type != "M":
                    return None
                value = value.value.get(segment)
        return value

    def size(self) -> int:
        """The size DynamoDB counts for this value (the 400 KB item limit is measured in it)."""
        t, v = self.type, self.value
        if t == "S":
            return len(v.encode())
        if t == "N":
            return _number_size(v)
        if t == "B":
            return len(v)
        if t in ("BOOL", "NULL"):
            return 1
        if t == "SS":
            return sum(len(s.encode()) for s in v)
        if t == "NS":
            return sum(_number_size(n) for n in v)
        if t == "BS":
            return sum(len(b) for b in v)
        if t == "L":
            return 3 + sum(1 + int(e.size()) for e in v)
        return 3 + sum(len(k.encode()) + 1 + int(e.size()) for k, e in v.items())

    def to_python(self) -> Any:
        """Plain Python: ``str``, ``Decimal``, ``bytes``, ``bool``, ``None``, ``set`` (of str,
        Decimal or bytes), ``list`` and ``dict``."""
        t, v = self.type, self.value
        if t == "N":
            return Decimal(v)
        if t in ("SS", "BS"):
            return set(v)
        if t == "NS":
            return {Decimal(n) for n in v}
        if t == "L":
            return [e.to_python() for e in v]
        if t == "M":
            return v.to_python()
        return v

    def copy(self) -> "Value":
        """A deep copy."""
        t, v = self.type, self.value
        if t == "L":
            return Value("L", [e.copy() for e in v])
        if t == "M":
            return Value("M", v.copy())
        if t in ("SS", "NS", "BS"):
            return Value(t, list(v))
        return Value(t, v)

    __copy__ = copy

    def __deepcopy__(self, memo: Dict[int, Any]) -> "Value":
        return self.copy()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Value):
            return NotImplemented
        return self.type == other.type and self.value == other.value

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self.type == "NULL":
            return "Value.NULL()"
        return f"Value.{self.type}({self.value!r})"


def _number_size(n: str) -> int:
    digits = sum(1 for c in n if "0" <= c <= "9")
    return (digits + 1) // 2 + 1


def _set_of(elements: Union[set[Any], frozenset[Any]]) -> Value:
    if not elements:
        raise ValueError("DynamoDB has no empty sets")
    if all(isinstance(e, str) for e in elements):
        return Value("SS", sorted(elements))
    if all(isinstance(e, (bytes, bytearray)) for e in elements):
        return Value("BS", sorted(bytes(e) for e in elements))
    if all(isinstance(e, (int, float, Decimal)) and not isinstance(e, bool) for e in elements):
        return Value("NS", [number_text(e) for e in sorted(elements)])
    raise TypeError("a set converts to SS, NS or BS: all strings, all numbers or all bytes")


class Item(dict[str, Value]):
    """A DynamoDB item: attribute names mapped to :class:`Value` s (also used for keys).

    It is a ``dict``: every dict method works. Values assigned through it convert with
    :meth:`Value.of` (``item["n"] = 2`` stores ``Value.N("2")``). Iteration follows insertion
    order; items cross to the host in name order, as the Rust SDK sends them.

    >>> user = Item(id="u1", email="Ada@Example.COM", address={"city": "Oslo"})
    >>> user.get_str("email"), user.path("address.city")
    ('Ada@Example.COM', Value.S('Oslo'))
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        if args or kwargs:
            self.update(*args, **kwargs)

    def __setitem__(self, name: str, value: Any) -> None:
        if not isinstance(name, str):
            raise TypeError(f"attribute names are str, got {type(name).__name__}")
        dict.__setitem__(self, name, Value.of(value))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Sets attributes from a mapping or pairs, and keyword arguments (values convert)."""
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def setdefault(self, name: str, default: Any = None) -> Value:
        if name not in self:
            self[name] = default
        return dict.__getitem__(self, name)

    def __ior__(self, other: Any) -> "Item":  # type: ignore[override]
        self.update(other)
        return self

    def __or__(self, other: Any) -> "Item":  # type: ignore[override]
        merged = self.copy()
        merged.update(other)
        return merged

    def copy(self) -> "Item":
        """A deep copy."""
        out = Item.__new__(Item)
        for name, value in self.items():
            dict.__setitem__(out, name, value.copy())
        return out

    __copy__ = copy

    def __deepcopy__(self, memo: Dict[int, Any]) -> "Item":
        return self.copy()

    # ----- typed access -----

    def path(self, path: str) -> Optional[Value]:
        """The value at a document path such as ``address.city`` or ``tags[0]``, if every step
        exists (``None`` too for a path that does not parse).

        Use :meth:`get` for an attribute whose name contains ``.`` or ``[``.
        """
        try:
            parsed = Path.parse(path)
        except PathError:
            return None
        first = parsed.split_first()
        if first is None:
            return None
        value = self.get(first[0])
        return None if value is None else value.at(first[1])

    def get_str(self, name: str) -> Optional[str]:
        """The attribute ``name`` if it is a string (``S``)."""
        v = self.get(name)
        return v.value if v is not None and v.type == "S" else None

    def get_number(self, name: str) -> Optional[str]:
        """The decimal text of attribute ``name`` if it is a number (``N``)."""
        v = self.get(name)
        return v.value if v is not None and v.type == "N" else None

    def get_i64(self, name: str) -> Optional[int]:
        """The attribute ``name`` if it is a number (``N``) holding an integer that fits an i64."""
        v = self.get(name)
        return None if v is None else v.as_i64()

    def get_int(self, name: str) -> Optional[int]:
        """The attribute ``name`` if it is a whole number (``N``), of any size."""
        v = self.get(name)
        return None if v is None else v.as_int()

    def get_f64(self, name: str) -> Optional[float]:
        """The attribute ``name`` as a float, if it is a number (``N``)."""
        v = self.get(name)
        return None if v is None else v.as_f64()

    def get_decimal(self, name: str) -> Optional[Decimal]:
        """The attribute ``name`` as a ``Decimal``, if it is a number (``N``)."""
        v = self.get(name)
        return None if v is None else v.as_decimal()

    def get_bytes(self, name: str) -> Optional[bytes]:
        """The attribute ``name`` if it is binary (``B``)."""
        v = self.get(name)
        return v.value if v is not None and v.type == "B" else None

    def get_bool(self, name: str) -> Optional[bool]:
        """The attribute ``name`` if it is a boolean (``BOOL``)."""
        v = self.get(name)
        return v.value if v is not None and v.type == "BOOL" else None

    def get_list(self, name: str) -> Optional[List[Value]]:
        """The attribute ``name`` if it is a list (``L``)."""
        v = self.get(name)
        return v.value if v is not None and v.type == "L" else None

    def get_map(self, name: str) -> Optional["Item"]:
        """The attribute ``name`` if it is a map (``M``)."""
        v = self.get(name)
        return v.value if v is not None and v.type == "M" else None

    def get_string_set(self, name: str) -> Optional[List[str]]:
        """The attribute ``name`` if it is a string set (``SS``)."""
        v = self.get(name)
        return v.value if v is not None and v.type == "SS" else None

    def get_number_set(self, name: str) -> Optional[List[str]]:
        """The attribute ``name`` if it is a number set (``NS``)."""
        v = self.get(name)
        return v.value if v is not None and v.type == "NS" else None

    def get_binary_set(self, name: str) -> Optional[List[bytes]]:
        """The attribute ``name`` if it is a binary set (``BS``)."""
        v = self.get(name)
        return v.value if v is not None and v.type == "BS" else None

    def contains(self, name: str) -> bool:
        """Whether the attribute ``name`` exists (``name in item`` says the same)."""
        return name in self

    # ----- changes -----

    def set(self, name: str, value: Any) -> Optional[Value]:
        """Sets the attribute ``name``, returning the value it replaced."""
        old = self.get(name)
        self[name] = value
        return old

    def with_(self, name: str, value: Any) -> "Item":
        """Sets the attribute ``name`` and returns the item, for chains:
        ``Item().with_("id", "u1").with_("n", 1)``."""
        self[name] = value
        return self

    def remove(self, name: str) -> Optional[Value]:
        """Removes the attribute ``name``, returning its value (``None`` if it had none)."""
        return self.pop(name, None)

    def key(self, names: Union[str, Sequence[str]]) -> "Item":
        """The item's primary key: the named attributes (partition key, then sort key).

        Raises :class:`MissingKeyError` (``item has no key attribute `id```) when one is
        missing.
        """
        if isinstance(names, str):
            names = (names,)
        key = Item.__new__(Item)
        for name in names:
            value = self.get(name)
            if value is None:
                raise MissingKeyError(name)
            dict.__setitem__(key, name, value)
        return key

    def size(self) -> int:
        """The size DynamoDB counts for the item: attribute names plus values."""
        return sum(len(name.encode()) + value.size() for name, value in self.items())

    def to_python(self) -> Dict[str, Any]:
        """The item as a plain dict (see :meth:`Value.to_python`)."""
        return {name: value.to_python() for name, value in self.items()}

    def __repr__(self) -> str:
        return f"Item({dict.__repr__(self)})"
