import pytest

from drift_sdk import Item, db, log


def test_log_goes_to_stderr_natively(capsys):
    log.info("hello")
    log.warn("careful")
    assert capsys.readouterr().err == "[Info] hello\n[Warn] careful\n"


def test_log_backend_can_be_swapped():
    seen = []
    previous = log.set_backend(lambda level, message: seen.append((level, message)))
    try:
        log.trace("t")
        log.debug("d")
        log.error("e")
        with pytest.raises(ValueError):
            log.write("loud", "x")
    finally:
        log.set_backend(previous)
    assert seen == [("trace", "t"), ("debug", "d"), ("error", "e")]


def test_natively_every_call_is_refused():
    with pytest.raises(db.Refused) as error:
        db.get_item("t", {"id": "x"})
    assert str(error.value) == "refused: immediate DynamoDB operations need the drift-host runtime"
    with pytest.raises(db.DbError):
        db.query_all(db.Query("t", "#pk = :pk"))
    assert str(db.ConditionalCheckFailed()) == "condition check failed"
    assert str(db.Failed("boom")) == "DynamoDB failed: boom"


class Pages:
    """A fake backend: a query answered in pages of two."""

    def __init__(self, items):
        self.items = items
        self.starts = []

    def query(self, query, start):
        self.starts.append(start)
        at = 0 if start is None else int(start.get_str("id")) + 1
        page = self.items[at : at + 2]
        more = at + 2 < len(self.items)
        return db.Page(page, page[-1].key(["id"]) if more else None)


def test_query_all_follows_pages():
    items = [Item(id=str(i)) for i in range(5)]
    backend = Pages(items)
    previous = db.set_backend(backend)
    try:
        assert db.query_all(db.Query("t", "#pk = :pk", names={"#pk": "id"}, values={":pk": "x"})) == items
    finally:
        db.set_backend(previous)
    assert backend.starts == [None, Item(id="1"), Item(id="3")]
    assert db.Query("t", "k", values={":v": 1}).values == Item({":v": 1})
