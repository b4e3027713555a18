from abc import abstractmethod
from typing import List, Protocol

from .imports import types


def log(level: types.Level, message: str) -> None:
    raise NotImplementedError


class WitWorld(Protocol):
    @abstractmethod
    def info(self) -> types.Info:
        raise NotImplementedError

    @abstractmethod
    def migrate(self, item: types.Item) -> List[types.Action]:
        raise NotImplementedError

    @abstractmethod
    def rollback(self, item: types.Item) -> List[types.Action]:
        raise NotImplementedError
