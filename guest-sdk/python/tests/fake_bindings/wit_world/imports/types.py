from dataclasses import dataclass
from enum import Enum
from typing import List, Optional, Tuple, Union


@dataclass
class Value_S:
    value: str


@dataclass
class Value_N:
    value: str


@dataclass
class Value_B:
    value: bytes


@dataclass
class Value_Boolean:
    value: bool


@dataclass
class Value_Null:
    pass


@dataclass
class Value_Ss:
    value: List[str]


@dataclass
class Value_Ns:
    value: List[str]


@dataclass
class Value_Bs:
    value: List[bytes]


@dataclass
class Value_L:
    value: List[int]


@dataclass
class Value_M:
    value: List[Tuple[str, int]]


Value = Union[Value_S, Value_N, Value_B, Value_Boolean, Value_Null, Value_Ss, Value_Ns, Value_Bs, Value_L, Value_M]


@dataclass
class Item:
    attributes: List[Tuple[str, int]]
    nodes: List[Value]


@dataclass
class ExpressionAttributes:
    names: List[Tuple[str, str]]
    values: Item


@dataclass
class PutAction:
    table: Optional[str]
    item: Item
    condition: Optional[str]
    attributes: ExpressionAttributes


@dataclass
class UpdateAction:
    table: Optional[str]
    key: Item
    update_expression: str
    condition: Optional[str]
    attributes: ExpressionAttributes
    upsert: bool


@dataclass
class DeleteAction:
    table: Optional[str]
    key: Item
    condition: Optional[str]
    attributes: ExpressionAttributes


@dataclass
class Action_Put:
    value: PutAction


@dataclass
class Action_Update:
    value: UpdateAction


@dataclass
class Action_Delete:
    value: DeleteAction


Action = Union[Action_Put, Action_Update, Action_Delete]


@dataclass
class Info:
    number: int
    name: str
    description: str
    table: str
    other_tables: List[str]


class Level(Enum):
    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
