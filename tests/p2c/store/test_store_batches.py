"""commit_batch as the unit of work: atomicity, links, cursors, pending records, JSON, cost."""

from __future__ import annotations

import dataclasses
import pickle
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import DateTime, event, func, select
from sqlalchemy.exc import IntegrityError, StatementError

import p2c.store.link_queries as store_module
from p2c.store import Action, Counts, Link, Outcome, RunStatus, StateStore, now
from p2c.store.batch import UNCHANGED
from p2c.store.jsontext import DEFAULT_CAP
from p2c.store.schema import record_outcomes

T = "accounts"


def link(key: str, target: str | None = None, h: str = "h1", **kw: Any) -> Link:
    return Link(T, key, target or f"C-{key}", h, kw.pop("synced_at", now()), **kw)


@pytest.fixture
def task_run(store: StateStore) -> int:
    return store.start_task(store.start_run("p", [T]), T)


def count_rows(store: StateStore) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(record_outcomes)) or 0


def test_commit_batch_records_everything(store: StateStore, task_run: int) -> None:
    store.commit_batch(
        task_run,
        [Outcome(T, "A1", Action.CREATED, target_key="C1"), Outcome(T, "A2", Action.UNCHANGED)],
        [link("A1", "C1")],
        cursor=(T, "delta-1"),
        read=2,
    )
    assert store.cursor(T) == "delta-1"
    assert store.links(T, ["A1", "A2"]).keys() == {"A1"}
    run_id = store.task_runs(store.runs()[0].id)[0].run_id
    [created] = store.outcomes(run_id)  # the silent skip is a counter, not a row
    assert (created.task, created.source_key, created.action, created.target_key) == (
        T,
        "A1",
        Action.CREATED,
        "C1",
    )
    assert (created.run_id, created.task_run_id) == (run_id, task_run) and created.at.tzinfo is not None
    assert store.task_runs(run_id)[0].counts == Counts(read=2, created=1, unchanged=1)


@pytest.mark.parametrize("failure", ["constraint", "bad value"])
def test_commit_batch_is_all_or_nothing(store: StateStore, task_run: int, failure: str) -> None:
    store.commit_batch(
        task_run, [Outcome(T, "A1", Action.CREATED)], [link("A1"), link("A2")], cursor=(T, "c1"), read=1
    )
    bad = (
        Link(T, "A9", "C-A9", None, now())  # type: ignore[arg-type]  # hash NOT NULL
        if failure == "constraint"
        else Link(T, "A9", "C-A9", "h", datetime(2025, 1, 1))  # naive time: refused on bind
    )
    error = IntegrityError if failure == "constraint" else StatementError
    with pytest.raises(error):
        store.commit_batch(
            task_run,
            [Outcome(T, "A3", Action.CREATED), Outcome(T, "A4", Action.FAILED, message="no")],
            [link("A1", "C-changed", "h2"), link("A3"), bad],
            deleted_links=[(T, "A2")],
            cursor=(T, "c2"),
            read=3,
        )
    # Nothing of the failed batch: not its outcomes, counters, cursor, link changes or deletions.
    run_id = store.runs()[0].id
    assert [o.source_key for o in store.outcomes(run_id)] == ["A1"]
    assert store.task_runs(run_id)[0].counts == Counts(read=1, created=1)
    assert store.cursor(T) == "c1"
    found = store.links(T, ["A1", "A2", "A3", "A9"])
    assert sorted(found) == ["A1", "A2"] and (found["A1"].target_key, found["A1"].hash) == ("C-A1", "h1")
    assert store.pending(T) == []
    # The store is still usable, and a good batch goes through.
    store.commit_batch(task_run, [Outcome(T, "A3", Action.CREATED)], [link("A3")], cursor=(T, "c2"))
    assert store.cursor(T) == "c2" and "A3" in store.links(T, ["A3"])


def test_links_upsert_lookup_delete(store: StateStore, task_run: int) -> None:
    t0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    store.commit_batch(task_run, [], [link("A1", "C1", "h1", synced_at=t0), link("A2", "C2")])
    got = store.links(T, ["A1"])["A1"]
    assert got == Link(T, "A1", "C1", "h1", t0)
    # Upsert by (task, source_key): new target, hash, etag; the last of duplicates in a batch wins.
    t1 = t0 + timedelta(hours=1)
    store.commit_batch(
        task_run,
        [],
        [
            link("A1", "C1", "h2", synced_at=t1),
            link("A1", "C1b", "h3", synced_at=t1, source_hash="s3", target_etag='W/"7"'),
        ],
    )
    assert store.links(T, ["A1"])["A1"] == Link(T, "A1", "C1b", "h3", t1, "s3", 'W/"7"')
    assert store.link_by_target(T, "C1b") == store.links(T, ["A1"])["A1"]
    assert store.link_by_target(T, "C1") is None and store.link_by_target("other", "C2") is None
    # The same source key in another task is another link.
    store.commit_batch(task_run, [], [Link("products", "A1", "P1", "x", t0)])
    assert store.links("products", ["A1"])["A1"].target_key == "P1"
    assert store.links(T, ["A1"])["A1"].target_key == "C1b"
    # Deleted first, then upserted: a key deleted and re-linked in one batch is present.
    store.commit_batch(
        task_run, [], [link("A2", "C2-new")], deleted_links=[(T, "A1"), (T, "A2"), (T, "nope")]
    )
    assert {k: v.target_key for k, v in store.links(T, ["A1", "A2"]).items()} == {"A2": "C2-new"}
    assert store.links(T, []) == {}


def test_links_in_bulk(store: StateStore, task_run: int, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [f"K{i:05d}" for i in range(12_000)]
    for i in range(0, len(keys), 4000):
        store.commit_batch(task_run, [], [link(k, f"T{k}") for k in keys[i : i + 4000]])
    wanted = keys[::2] + [f"missing{i}" for i in range(500)]
    found = store.links(T, wanted)
    assert sorted(found) == keys[::2] and all(found[k].target_key == f"T{k}" for k in found)
    monkeypatch.setattr(store_module, "_LINK_PAGE", 1000)  # pages end exactly on a boundary too
    assert [lk.source_key for lk in store.all_links(T)] == keys
    assert list(store.all_links("none")) == []
    monkeypatch.setattr(store_module, "_KEY_PAGE", 1000)
    assert list(store.link_keys(T)) == keys  # the keys alone, in the same order
    assert list(store.link_keys("none")) == []


def test_cursor_advances_only_with_its_batch(store: StateStore, task_run: int) -> None:
    assert store.cursor(T) is None
    store.commit_batch(task_run, [Outcome(T, "A1", Action.CREATED)], cursor=(T, "2025-01-01T00:00:00Z"))
    store.commit_batch(task_run, [Outcome(T, "A2", Action.CREATED)])  # no cursor given: unchanged
    assert store.cursor(T) == "2025-01-01T00:00:00Z"
    store.commit_batch(task_run, [], cursor=("products", "p1"))
    assert (store.cursor(T), store.cursor("products")) == ("2025-01-01T00:00:00Z", "p1")
    store.commit_batch(task_run, [], cursor=(T, None))
    assert store.cursor(T) is None
    store.commit_batch(task_run, [], cursor=(T, "later"))
    store.reset_cursor(T)
    assert store.cursor(T) is None and store.cursor("products") == "p1"


def test_pending_is_the_latest_failed_or_waiting_outcome(store: StateStore) -> None:
    def batch(*outcomes: Outcome) -> int:
        run = store.start_run("p", [T])
        tr = store.start_task(run, T)
        store.commit_batch(tr, list(outcomes))
        store.finish_run(run, RunStatus.PARTIAL)
        return run

    batch(
        Outcome(
            T, "A1", Action.FAILED, error_class="RecordError", field="CustomerGroupId", message="no group 99"
        ),
        Outcome(T, "A2", Action.WAITING, message="parent missing", transient=True),
        Outcome(T, "A3", Action.CREATED),
        Outcome(T, "A4", Action.FAILED, message="first"),
        Outcome(T, "A5", Action.FAILED),
        Outcome("products", "A1", Action.FAILED),
    )
    assert [(o.source_key, o.action) for o in store.pending(T)] == [
        ("A1", Action.FAILED),
        ("A2", Action.WAITING),
        ("A4", Action.FAILED),
        ("A5", Action.FAILED),
    ]
    assert store.pending(T)[0].field == "CustomerGroupId" and store.pending(T)[1].transient
    rows_before = count_rows(store)
    second = batch(
        Outcome(T, "A1", Action.UPDATED),  # fixed and written: cleared
        Outcome(T, "A2", Action.CREATED),  # parent arrived: cleared
        Outcome(T, "A3", Action.FAILED, message="now broken"),  # a success does not protect later failures
        Outcome(T, "A4", Action.FAILED, message="again"),  # failed again: one pending entry, the latest
        Outcome(T, "A5", Action.UNCHANGED),  # retried, found unchanged: cleared, with a row saying so
        Outcome(T, "A6", Action.UNCHANGED),  # plain unchanged: counted only
    )
    assert [(o.source_key, o.message) for o in store.pending(T)] == [("A3", "now broken"), ("A4", "again")]
    assert [o.source_key for o in store.pending("products")] == ["A1"]
    assert count_rows(store) == rows_before + 5
    [skip] = store.outcomes(second, actions=[Action.UNCHANGED])
    assert (skip.source_key, skip.message) == ("A5", UNCHANGED)


def test_outcomes_filters_and_order(store: StateStore) -> None:
    run = store.start_run("p", [T, "products"])
    a, p = store.start_task(run, T), store.start_task(run, "products")
    store.commit_batch(a, [Outcome(T, f"A{i}", Action.CREATED if i % 3 else Action.FAILED) for i in range(9)])
    store.commit_batch(p, [Outcome("products", "P1", Action.SKIPPED, message="not sellable")])
    assert [o.source_key for o in store.outcomes(run)] == [f"A{i}" for i in range(9)] + ["P1"]
    assert [o.source_key for o in store.outcomes(run, actions={Action.FAILED})] == ["A0", "A3", "A6"]
    assert [o.source_key for o in store.outcomes(run, task="products")] == ["P1"]
    assert len(store.outcomes(run, limit=4)) == 4
    assert store.outcomes(run, actions=[Action.DELETED]) == []
    assert store.outcomes(run + 1) == []


def test_times_are_stored_as_sqlalchemy_stores_them_each_its_own(store: StateStore, task_run: int) -> None:
    """The store binds times itself on SQLite (schema.UTCDateTime): the text must be what
    SQLAlchemy's DATETIME writes and reads, in UTC, and each of the rows of one commit keeps its
    own time although the last one bound is remembered."""
    berlin = timezone(timedelta(hours=1))
    times = [datetime(2026, 12, 3, 16, 2, 37, 5, tzinfo=berlin), datetime(2026, 12, 3, 15, 2, 38, tzinfo=UTC)]
    store.commit_batch(task_run, [], [link("A1", synced_at=times[0]), link("A2", synced_at=times[1])])
    assert [store.links(T, [k])[k].synced_at for k in ("A1", "A2")] == times
    if store.engine.dialect.name == "sqlite":
        stored = store.engine.dialect.type_descriptor(DateTime()).bind_processor(store.engine.dialect)
        assert stored is not None
        with store.engine.connect() as conn:
            raw = conn.exec_driver_sql("SELECT synced_at FROM links ORDER BY source_key").scalars().all()
        assert raw == [stored(t.astimezone(UTC).replace(tzinfo=None)) for t in times]
        assert raw[0] == "2026-12-03 15:02:37.000005"


def test_source_rows_and_payloads_as_json(store: StateStore, task_run: int) -> None:
    when = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)
    uid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    row = {"price": Decimal("10.10"), "qty": Decimal("3"), "on": when, "day": date(2025, 2, 3), "id": uid}
    payload = {
        "SalesPrice": Decimal("0.3333333333333333333333"),
        "Lines": [{"n": 1}],
        "Status": Action.CREATED,
    }
    big = {"Notes": "é" * DEFAULT_CAP}
    store.commit_batch(
        task_run,
        [
            Outcome(T, "A1", Action.FAILED, source_row=row, target_payload=payload, message="x"),
            Outcome(T, "A2", Action.CREATED, source_row=big),
        ],
    )
    first, second = store.outcomes(store.runs()[0].id)
    assert first.source_row == {
        "price": "10.10",
        "qty": "3",
        "on": "2025-02-03T04:05:06+00:00",
        "day": "2025-02-03",
        "id": str(uid),
    }
    assert first.target_payload == {
        "SalesPrice": "0.3333333333333333333333",
        "Lines": [{"n": 1}],
        "Status": "created",
    }
    assert second.source_row is not None and second.source_row["_truncated"] is True
    assert second.source_row["_bytes"] > DEFAULT_CAP and second.source_row["_head"].startswith('{"Notes":"éé')
    with store.engine.connect() as conn:
        stored = conn.scalar(select(record_outcomes.c.source_row).where(record_outcomes.c.source_key == "A2"))
    assert stored is not None and len(stored.encode()) <= DEFAULT_CAP


@pytest.fixture
def statements(store: StateStore) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    yield seen
    event.remove(store.engine, "before_cursor_execute", count)


def test_a_no_change_run_costs_a_handful_of_statements(
    store: StateStore, task_run: int, statements: list[str]
) -> None:
    keys = [f"A{i:05d}" for i in range(25_000)]
    store.commit_batch(task_run, [Outcome(T, "X", Action.FAILED)])  # history with a failure: the slower path
    statements.clear()
    for i in range(0, len(keys), 5000):
        store.commit_batch(task_run, [Outcome(T, k, Action.UNCHANGED) for k in keys[i : i + 5000]], read=5000)
    assert len(statements) <= 5 * 5, statements
    assert count_rows(store) == 1
    assert store.task_runs(store.runs()[0].id)[0].counts == Counts(read=25_000, unchanged=25_000, failed=1)


def test_an_unchanged_outcome_built_cheaply_is_the_same_outcome(store: StateStore, task_run: int) -> None:
    cheap, plain = Outcome.unchanged(T, "A1"), Outcome(T, "A1", Action.UNCHANGED)
    assert cheap == plain and hash(cheap) == hash(plain) and repr(cheap) == repr(plain)
    assert dataclasses.asdict(cheap) == dataclasses.asdict(plain)
    assert pickle.loads(pickle.dumps(cheap)) == plain
    assert dataclasses.replace(cheap, message="m") == Outcome(T, "A1", Action.UNCHANGED, message="m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cheap.message = "changed"  # type: ignore[misc]
    store.commit_batch(task_run, [Outcome.unchanged(T, f"K{i}") for i in range(3)])
    assert store.task_runs(store.runs()[0].id)[0].counts == Counts(unchanged=3)
    assert count_rows(store) == 0  # counted, not stored


def test_a_written_outcome_built_cheaply_is_the_same_outcome(store: StateStore, task_run: int) -> None:
    payload = {"CustomerAccount": "C1", "CreditLimit": "10.5"}
    cheap = Outcome.written(T, "A1", Action.CREATED, "usmf,C1", payload)
    plain = Outcome(T, "A1", Action.CREATED, target_key="usmf,C1", target_payload=payload)
    assert cheap == plain and repr(cheap) == repr(plain)
    assert dataclasses.asdict(cheap) == dataclasses.asdict(plain)
    assert pickle.loads(pickle.dumps(cheap)) == plain
    assert dataclasses.replace(cheap, action=Action.UPDATED) == dataclasses.replace(
        plain, action=Action.UPDATED
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        cheap.message = "changed"  # type: ignore[misc]
    store.commit_batch(task_run, [cheap, Outcome.written(T, "A2", Action.UPDATED, "usmf,C2", None)])
    assert store.task_runs(store.runs()[0].id)[0].counts == Counts(created=1, updated=1)
    stored = {o.source_key: o for o in store.outcomes(store.runs()[0].id)}
    assert stored["A1"].target_key == "usmf,C1" and stored["A1"].target_payload == payload
    assert stored["A2"].action is Action.UPDATED and stored["A2"].target_payload is None


def test_keys_are_asked_with_one_parameter_whatever_their_number(
    store: StateStore, task_run: int, statements: list[str]
) -> None:
    """One statement text for 3 keys and for 5 000 (compiled once), and keys of any text."""
    odd = ['usmf,"quoted"', "back\\slash", "ünïcode,ß", "it's", "[1]"]
    keys = odd + [f"K{i:05d}" for i in range(5000)]
    store.commit_batch(task_run, [], [link(k, h=f"h-{k}", source_hash=f"s-{k}") for k in keys])
    statements.clear()
    assert store.source_hashes(T, odd[:3]) == {k: f"s-{k}" for k in odd[:3]}
    found = store.source_hashes(T, [*keys[: 5000 - 1], "missing"])
    assert found == {k: f"s-{k}" for k in keys[: 5000 - 1]}
    queries = [s for s in statements if s.startswith("SELECT")]
    assert len(queries) == 2 and queries[0] == queries[1]
    assert sorted(store.links(T, odd)) == sorted(odd)


def test_outcomes_and_links_go_to_sqlite_many_rows_a_statement(store: StateStore, task_run: int) -> None:
    """Every row kept, in order, duplicates' last one winning; on SQLite in one statement of up to
    1 000 rows, stepped once: the driver's ``executemany`` steps once per row and takes the
    interpreter lock back after each step, waiting for the thread that holds it meanwhile."""
    run_id = store.task_runs(store.runs()[0].id)[0].run_id
    keys = [f"K{i:04d}" for i in range(2500)]
    steps: list[str] = []

    def trace(dbapi: Any, _record: Any, _proxy: Any) -> None:
        dbapi.set_trace_callback(steps.append)

    sqlite = store.engine.dialect.name == "sqlite"
    if sqlite:
        event.listen(store.engine, "checkout", trace)
    try:
        store.commit_batch(
            task_run,
            [
                Outcome(T, k, Action.CREATED, target_key=f"C-{k}", target_payload={"n": i})
                for i, k in enumerate(keys)
            ],
            [link(k, f"C-{k}", h="first") for k in keys] + [link(keys[7], "C-again", h="second")],
        )
    finally:
        if sqlite:
            event.remove(store.engine, "checkout", trace)
    stored = store.outcomes(run_id)
    assert [o.source_key for o in stored] == keys  # in the order given, ids ascending
    assert [o.target_payload for o in stored] == [{"n": i} for i in range(2500)]
    found = store.links(T, keys)
    assert len(found) == 2500 and found[keys[7]].target_key == "C-again" and found[keys[8]].hash == "first"
    if sqlite:
        inserts = [s for s in steps if s.lstrip().upper().startswith("INSERT INTO RECORD_OUTCOMES")]
        upserts = [s for s in steps if s.lstrip().upper().startswith("INSERT INTO LINKS")]
        assert (len(inserts), len(upserts)) == (3, 3), (len(inserts), len(upserts))
