# `every_feature`, the conformance migration in Python: see `../README.md`, which every language's
# version follows to the letter.
"""The ``every_feature`` migration: every value type, every action kind, conditions, other tables,
an error, an immediate get-item and logs."""

from __future__ import annotations

from typing import List, Optional, Tuple

from drift_sdk import (
    Action,
    Info,
    Item,
    MigrationError,
    Update,
    Value,
    db,
    delete,
    export_migration,
    log,
    put,
    update,
)

TABLE = "things"
COPY = "things_copy"
INDEX = "things_index"
STATS = "things_stats"


def summary() -> Item:
    """The map every migrated item gets as ``summary``: one value of each type."""
    deep = Item(deep=Value.L([Value.BOOL(False), Value.NULL()]))
    return Item(
        s=Value.S(""),
        n=Value.N("12345678901234567890123456789012345678"),
        neg=Value.N("-0.000123"),
        b=Value.B(bytes([0, 1, 2, 255])),
        empty_b=Value.B(b""),
        t=Value.BOOL(True),
        nil=Value.NULL(),
        ss=Value.SS(["red", "green"]),
        ns=Value.NS(["1", "2.5", "-3"]),
        bs=Value.BS([bytes([1]), bytes([2, 3])]),
        l=Value.L([Value.S("one"), Value.N("2"), Value.M(deep)]),
        m=Value.M(Item(empty=Value.S(""), nested=Value.M(Item(x=Value.N(1))))),
    )


def key_of(item: Item) -> Tuple[str, Item]:
    """The item's ``pk`` and its key."""
    key = item.key(["pk"])
    pk = key.get_str("pk")
    if pk is None:
        raise MigrationError("item's `pk` is not a string")
    return pk, key


def stats_update(placeholder: str, by: int) -> Update:
    return (
        update(Item(pk="total"))
        .table(STATS)
        .expression(f"ADD #count {placeholder}")
        .name("#count", "count")
        .value(placeholder, by)
    )


def info() -> Info:
    return (
        Info(
            7,
            "every_feature",
            TABLE,
            description="Conformance: every value type, every action kind, conditions, other tables, "
            "an error, an immediate get-item and logs.",
        )
        .other_table(COPY)
        .other_table(INDEX)
        .other_table(STATS)
    )


def migrate(item: Item) -> List[Action]:
    pk, key = key_of(item)
    if "poison" in item:
        log.error(f"poisoned item {pk}")
        raise MigrationError(f"item {pk} is poisoned")
    if "summary" in item:
        return []
    log.info(f"migrate {pk}: {len(item)} attributes")
    entry: Optional[Item]
    try:
        entry = db.get_item(INDEX, key)
    except db.DbError:
        log.warn(f"index lookup unavailable for {pk}")
        entry = None

    change = update(key)
    change.set("summary", summary()).set(
        "types", [value.type_name() for _, value in sorted(item.items())]
    )
    city = item.path("profile.city")
    if city is not None and city.as_str() is not None:
        change.set("profile.city_label", f"city of {city.as_str()}")
    first = item.path("scores[0]")
    if first is not None:
        change.set("first_score", first)
    note = item.get("note")
    if note is not None:
        change.set("archive", Item(note=note)).remove("note")
    if item.get_number("visits") is not None:
        change.add("visits", 1)
    change.add("labels", Value.SS(["v3"]))
    if entry is not None:
        change.set("index_entry", entry)
    change.condition("attribute_not_exists(#summary)").name("#summary", "summary")

    copy = (
        put(item.copy().with_("copied_from", TABLE))
        .table(COPY)
        .condition("attribute_not_exists(#pk)")
        .name("#pk", "pk")
    )

    stats = stats_update(":one", 1).upsert()

    actions: List[Action] = [change, copy, stats]
    if entry is not None:
        unindex = (
            delete(key)
            .table(INDEX)
            .condition("#state = :state")
            .name("#state", "state")
            .value(":state", "active")
        )
        actions.append(unindex)
    return actions


def rollback(item: Item) -> List[Action]:
    if "summary" not in item:
        return []
    pk, key = key_of(item)
    log.info(f"rollback {pk}")

    change = update(key)
    change.remove("summary").remove("types")
    if item.path("profile.city_label") is not None:
        change.remove("profile.city_label")
    if "first_score" in item:
        change.remove("first_score")
    note = item.path("archive.note")
    if note is not None:
        change.set("note", note).remove("archive")
    if item.get_number("visits") is not None:
        change.add("visits", -1)
    change.delete_from_set("labels", Value.SS(["v3"]))
    entry = item.get_map("index_entry")
    if entry is not None:
        change.remove("index_entry")
    change.condition("attribute_exists(#summary)").name("#summary", "summary")

    uncopy = delete(key).table(COPY).condition("attribute_exists(#pk)").name("#pk", "pk")

    actions: List[Action] = [change, uncopy, stats_update(":minus_one", -1)]
    if entry is not None:
        reindex = (
            put(entry).table(INDEX).condition("attribute_not_exists(#pk)").name("#pk", "pk")
        )
        actions.append(reindex)
    return actions


WitWorld = export_migration(__name__)
