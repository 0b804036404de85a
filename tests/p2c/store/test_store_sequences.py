"""Number sequences: raised only, in the batch's transaction; moved out of ``cursors`` by migration 0002."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from migration_helpers import a_run, at_revision, back_to
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError

from p2c.store import Action, Link, Outcome, RunStatus, StateStore, now
from p2c.store.schema import cursors, record_outcomes, sequences, task_runs

T = "accounts"


@pytest.fixture
def task_run(store: StateStore) -> int:
    return store.start_task(store.start_run("p", [T]), T)


def test_sequence_is_stored_and_upserted_by_commit_batch(store: StateStore, task_run: int) -> None:
    assert store.sequence("ACC") is None
    store.commit_batch(task_run, [Outcome(T, "A1", Action.CREATED)], sequence=("ACC", 1041))
    assert store.sequence("ACC") == 1041
    store.commit_batch(task_run, [], sequence=("ACC", 1042))
    store.commit_batch(task_run, [], sequence=("CON", 2**40))  # BIGINT: beyond 32 bits
    store.commit_batch(task_run, [Outcome(T, "A2", Action.CREATED)])  # no sequence given: unchanged
    assert (store.sequence("ACC"), store.sequence("CON"), store.sequence("none")) == (1042, 2**40, None)
    # Sequences are not cursors: the cursor API neither sees nor resets them.
    assert store.cursor("ACC") is None and store.cursor("~sequence:ACC") is None
    store.reset_cursor("ACC")
    assert store.sequence("ACC") == 1042


def test_sequence_is_never_lowered(store: StateStore, task_run: int) -> None:
    store.commit_batch(task_run, [], sequence=("ACC", 1050))
    store.commit_batch(task_run, [], sequence=("ACC", 1003))  # an older batch finishing late
    assert store.sequence("ACC") == 1050
    store.commit_batch(task_run, [], sequence=("ACC", 1050))
    store.commit_batch(task_run, [], sequence=("ACC", 1051))
    assert store.sequence("ACC") == 1051


def test_sequence_moves_only_with_its_batch(store: StateStore, task_run: int) -> None:
    store.commit_batch(task_run, [Outcome(T, "A1", Action.CREATED)], sequence=("ACC", 7))
    bad = Link(T, "A9", "C-A9", None, now())  # type: ignore[arg-type]  # hash NOT NULL
    for name in ("ACC", "NEW"):
        with pytest.raises(IntegrityError):
            store.commit_batch(task_run, [Outcome(T, "A2", Action.CREATED)], [bad], sequence=(name, 99))
    assert (store.sequence("ACC"), store.sequence("NEW")) == (7, None)
    store.commit_batch(task_run, [Outcome(T, "A2", Action.CREATED)], sequence=("ACC", 99))
    assert store.sequence("ACC") == 99


def test_blocks_reserved_at_once_never_overlap(open_store: Callable[[], StateStore]) -> None:
    """The parts of a split load number at once, each from its own store connection: every block
    they take is new, above the floor and above what batches raised the sequence to."""
    first = open_store()
    assert first.reserve_sequence("ACC", 1000, 5) == 1000  # a sequence never used starts at its floor
    first.commit_batch(first.start_task(first.start_run("p", [T]), T), [], sequence=("ACC", 1100))
    assert first.reserve_sequence("ACC", 1000, 3) == 1101  # above what a batch used
    assert first.reserve_sequence("ACC", 5000, 2) == 5000  # a floor above it (numbers seen in the page)
    stores = [open_store() for _ in range(4)]

    def take(store: StateStore) -> list[int]:
        return [store.reserve_sequence("ACC", 1000, 10) for _ in range(25)]

    with ThreadPoolExecutor(len(stores)) as pool:
        starts = [s for got in pool.map(take, stores) for s in got]
    numbers = [n for s in starts for n in range(s, s + 10)]
    assert len(numbers) == len(set(numbers)) == 1000 and min(numbers) == 5002
    assert first.sequence("ACC") == max(numbers) == 6001


# -- migration 0002 ----------------------------------------------------------------------------

AT = datetime(2025, 5, 1, 8, 30, tzinfo=UTC)


@pytest.fixture
def at_0001(store_url: str) -> Iterator[str]:
    """``store_url`` holding a database at revision 0001 with sequences kept as cursors, as the
    engine wrote them, and one failed record outcome."""
    with at_revision(store_url, "0001") as conn:
        assert "sequences" not in inspect(conn).get_table_names()
        conn.execute(
            insert(cursors),
            [
                {"task": "~sequence:ACC", "value": "1041", "updated_at": AT},
                {"task": "~sequence:CON", "value": "20007", "updated_at": AT},
                {"task": "~sequence:BAD", "value": "not a number", "updated_at": AT},
                {"task": T, "value": "delta-7", "updated_at": AT},
            ],
        )
        run = a_run(conn, "partial", at=AT)
        tr = conn.execute(
            insert(task_runs).values(run_id=run, task=T, status="partial", started_at=AT, heartbeat_at=AT)
        ).inserted_primary_key
        assert tr is not None
        conn.execute(
            insert(record_outcomes).values(
                run_id=run,
                task_run_id=tr[0],
                task=T,
                source_key="A1",
                action="failed",
                transient=False,
                at=AT,
            )
        )
    yield store_url


def test_migration_moves_sequence_cursors_into_sequences(at_0001: str) -> None:
    with StateStore(at_0001) as store:
        assert (store.sequence("ACC"), store.sequence("CON")) == (1041, 20007)
        with store.engine.connect() as conn:
            assert conn.execute(select(sequences.c.name, sequences.c.updated_at)).all() == [
                ("ACC", AT),
                ("CON", AT),
            ]
        assert store.cursor("~sequence:ACC") is None and store.cursor("~sequence:CON") is None
        # Not a number: left where it was, not a sequence. Other cursors are untouched.
        assert (store.cursor("~sequence:BAD"), store.sequence("BAD")) == ("not a number", None)
        assert store.cursor(T) == "delta-7"
        # Outcomes recorded before the migration are records' own outcomes.
        [old] = store.pending(T)
        assert (old.source_key, old.operation) == ("A1", None)
        tr = store.start_task(store.start_run("p", [T]), T)
        store.commit_batch(tr, [], sequence=("ACC", 1045))  # the moved row is upserted, not duplicated
        assert store.sequence("ACC") == 1045

        # Downgrade puts them back as cursors (the latest value) and drops the new table and column.
        with back_to(store, "0001") as conn:
            found = dict(conn.execute(select(cursors.c.task, cursors.c.value)).all())
            assert "sequences" not in inspect(conn).get_table_names()
            assert "operation" not in {c["name"] for c in inspect(conn).get_columns("record_outcomes")}
        assert found == {
            "~sequence:ACC": "1045",
            "~sequence:CON": "20007",
            "~sequence:BAD": "not a number",
            T: "delta-7",
        }
    with StateStore(at_0001) as store:  # and up again
        assert (store.sequence("ACC"), store.sequence("CON")) == (1045, 20007)
        assert store.pending(T)[0].source_key == "A1"
        store.finish_run(store.runs()[0].id, RunStatus.FAILED)
