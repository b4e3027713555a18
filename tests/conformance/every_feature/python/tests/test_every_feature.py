"""every_feature's logic, natively, where `drift-host exec` cannot reach it: an index entry that
`get-item` finds (offline every immediate operation is refused). The golden files cover the rest."""

from typing import Optional

import pytest

import every_feature
from drift_sdk import Delete, Item, MigrationError, Put, Update, db, log


class Index:
    """A things_index holding one entry."""

    def __init__(self, entry: Item) -> None:
        self.entry = entry
        self.reads = []

    def get_item(self, table: str, key: Item) -> Optional[Item]:
        self.reads.append((table, key))
        return self.entry.copy() if key == Item(pk=self.entry["pk"].value) else None


@pytest.fixture
def logs():
    seen = []
    previous = log.set_backend(lambda level, message: seen.append((level, message)))
    yield seen
    log.set_backend(previous)


@pytest.fixture
def index():
    backend = Index(Item(pk="t-07", state="active", rank=2))
    previous = db.set_backend(backend)
    yield backend
    db.set_backend(previous)


def test_an_index_entry_is_copied_and_unindexed(index, logs):
    item = Item(pk="t-07", profile="not a map", labels={"v2"})
    change, copy, stats, unindex = every_feature.migrate(item)
    assert index.reads == [("things_index", Item(pk="t-07"))]
    assert logs == [("info", "migrate t-07: 3 attributes")]
    assert isinstance(change, Update) and change.key == Item(pk="t-07")
    # index_entry is named after the ADD clause's names, as the Rust builder numbers it.
    assert change.update_expression() == (
        "SET #drift0 = :drift0, #drift1 = :drift1, #drift3 = :drift3 ADD #drift2 :drift2"
    )
    assert change.common.names["#drift3"] == "index_entry"
    assert change.common.values[":drift3"].as_map() == index.entry
    assert change.common.condition == "attribute_not_exists(#summary)"
    assert isinstance(copy, Put) and copy.common.table == "things_copy"
    assert isinstance(stats, Update) and stats.is_upsert
    assert isinstance(unindex, Delete) and unindex.key == Item(pk="t-07")
    assert unindex.common.table == "things_index"
    assert unindex.common.condition == "#state = :state"
    assert unindex.common.names == {"#state": "state"}
    assert unindex.common.values == Item({":state": "active"})


def test_without_an_index_entry_there_are_three_actions(index, logs):
    assert len(every_feature.migrate(Item(pk="t-02"))) == 3


def test_an_unavailable_index_is_logged(logs):
    assert len(every_feature.migrate(Item(pk="t-02"))) == 3
    assert logs == [("info", "migrate t-02: 1 attributes"), ("warn", "index lookup unavailable for t-02")]


def test_the_index_entry_is_put_back_on_rollback(logs):
    entry = Item(pk="t-07", state="active", rank=2)
    item = Item(pk="t-07", summary={}, types=["S"], index_entry=entry, labels={"v2", "v3"})
    change, uncopy, stats, reindex = every_feature.rollback(item)
    assert change.resolved() == (
        'REMOVE summary, types, index_entry DELETE labels {"SS": ["v3"]}'
    )
    assert isinstance(reindex, Put) and reindex.item == entry
    assert reindex.common.table == "things_index"
    assert reindex.common.condition == "attribute_not_exists(#pk)"
    assert logs == [("info", "rollback t-07")]


def test_a_poisoned_item_fails(logs):
    with pytest.raises(MigrationError) as error:
        every_feature.migrate(Item(pk="t-06", poison=True))
    assert str(error.value) == "item t-06 is poisoned"
    assert logs == [("error", "poisoned item t-06")]
