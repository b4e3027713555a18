"""The WIT world's item arena, converted to and from :class:`~drift_sdk.Item` in one place.

WIT types cannot be recursive, so ``wit/migration.wit`` passes an item as a flat arena: a list
of nodes (``value`` variant cases), in which a list or map refers to its children by index, and
the top-level attributes as ``(name, index)`` pairs. componentize-py generates a dataclass per
variant case (``Value_S(value=...)``, ..., ``Value_M(value=[(name, index), ...])``) and one for
the ``item`` record (``Item(attributes, nodes)``); :class:`Codec` takes the module that holds
them, so it runs natively on stand-ins as well as in the component.

Encoding is the Rust SDK's: attributes and map entries in name order, nodes in preorder (a
parent before its children), so that a migration's actions are byte-identical in both
languages. Decoding checks what comes from the other side: indices in range, every node used
once (no sharing, no cycles), no duplicate names, nesting within DynamoDB's 32 levels.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

from .value import Item, Value

#: DynamoDB's limit on the nesting of lists and maps.
MAX_DEPTH = 32

# WIT case name (as componentize-py suffixes the dataclass) → our type name.
_CASES = {
    "S": "S",
    "N": "N",
    "B": "B",
    "Boolean": "BOOL",
    "Null": "NULL",
    "Ss": "SS",
    "Ns": "NS",
    "Bs": "BS",
    "L": "L",
    "M": "M",
}


class ArenaError(ValueError):
    """An arena that breaks the rules (from a buggy host or bindings)."""


class Codec:
    """Encodes and decodes items with the generated ``item`` and ``value`` types of ``types``
    (a module or namespace with ``Item`` and ``Value_S`` ... ``Value_M``)."""

    def __init__(self, types: Any) -> None:
        self.item_type: Callable[..., Any] = types.Item
        # Our type name → generated dataclass, and back.
        self.node_type: Dict[str, Any] = {ours: getattr(types, "Value_" + case) for case, ours in _CASES.items()}
        self.kind_of: Dict[Any, str] = {cls: ours for ours, cls in self.node_type.items()}
        self._null = self.node_type["NULL"]()

    # ----- encode -----

    def encode(self, item: Dict[str, Value]) -> Any:
        """The arena record of ``item``."""
        nodes: List[Any] = []
        push = self._push
        attributes = [(name, push(nodes, item[name])) for name in sorted(item)]
        return self.item_type(attributes, nodes)

    def _push(self, nodes: List[Any], value: Value) -> int:
        t = value.type
        index = len(nodes)
        if t == "L":
            nodes.append(None)  # the parent's slot: its children are numbered after it
            nodes[index] = self.node_type["L"]([self._push(nodes, e) for e in value.value])
        elif t == "M":
            entries = value.value
            nodes.append(None)
            nodes[index] = self.node_type["M"]([(k, self._push(nodes, entries[k])) for k in sorted(entries)])
        elif t == "NULL":
            nodes.append(self.node_type["NULL"]())
        elif t in _SETS:
            nodes.append(self.node_type[t](list(value.value)))
        else:
            nodes.append(self.node_type[t](value.value))
        return index

    # ----- decode -----

    def decode(self, record: Any) -> Item:
        """The item of an arena record; raises :class:`ArenaError` on a malformed arena."""
        return self.decode_parts(record.attributes, record.nodes)

    def decode_parts(self, attributes: List[Tuple[str, int]], nodes: List[Any]) -> Item:
        count = len(nodes)
        used = bytearray(count)
        kind_of = self.kind_of
        setitem = dict.__setitem__

        def take(index: int, depth: int) -> Value:
            if depth > MAX_DEPTH:
                raise ArenaError(f"item arena nests deeper than DynamoDB's {MAX_DEPTH} levels")
            if not 0 <= index < count:
                raise ArenaError(f"item arena: node index {index} is out of range")
            if used[index]:
                raise ArenaError(f"item arena: node {index} is referenced more than once (shared or cyclic)")
            used[index] = 1
            node = nodes[index]
            kind = kind_of.get(node.__class__)
            if kind is None:
                raise ArenaError(f"item arena: node {index} is not a value ({type(node).__name__})")
            if kind in _SCALARS:
                return Value(kind, node.value)
            if kind == "M":
                entries = Item.__new__(Item)
                for name, i in node.value:
                    value = take(i, depth + 1)
                    if name in entries:
                        raise ArenaError(f"map key `{name}` appears twice")
                    setitem(entries, name, value)
                return Value("M", entries)
            if kind == "L":
                return Value("L", [take(i, depth + 1) for i in node.value])
            if kind == "NULL":
                return Value("NULL", None)
            return Value(kind, list(node.value))

        out = Item.__new__(Item)
        for name, index in attributes:
            value = take(index, 0)
            if name in out:
                raise ArenaError(f"attribute `{name}` appears twice")
            setitem(out, name, value)
        return out


_SETS = frozenset(("SS", "NS", "BS"))
_SCALARS = frozenset(("S", "N", "B", "BOOL"))
