from dataclasses import dataclass
from typing import List, Optional, Union

from ..imports import types


@dataclass
class DbError_ConditionalCheckFailed:
    pass


@dataclass
class DbError_Refused:
    value: str


@dataclass
class DbError_Failed:
    value: str


DbError = Union[DbError_ConditionalCheckFailed, DbError_Refused, DbError_Failed]


@dataclass
class QueryInput:
    table: str
    index: Optional[str]
    key_condition: str
    filter: Optional[str]
    attributes: types.ExpressionAttributes
    limit: Optional[int]
    exclusive_start_key: Optional[types.Item]
    descending: bool


@dataclass
class QueryOutput:
    items: List[types.Item]
    last_evaluated_key: Optional[types.Item]


def get_item(table: str, key: types.Item) -> Optional[types.Item]:
    raise NotImplementedError


def put_item(table, item, condition, attributes) -> None:
    raise NotImplementedError


def update_item(table, key, update_expression, condition, attributes) -> None:
    raise NotImplementedError


def delete_item(table, key, condition, attributes) -> None:
    raise NotImplementedError


def query(input: QueryInput) -> QueryOutput:
    raise NotImplementedError
