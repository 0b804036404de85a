"""Migration 0009: a part of a split load is a column of its task run, no longer its message's prefix."""

from __future__ import annotations

from datetime import UTC, datetime

from migration_helpers import a_run, at_revision, back_to
from sqlalchemy import insert, inspect, select

from p2c.store import RunStatus, StateStore
from p2c.store.schema import task_runs

AT = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)

# what the engine wrote before 0009, and what each task run says after it: (part, message)
BEFORE = {
    "part 1/3 of a split load": ("1/3", None),
    "part 2/3 of a split load: ERP unreachable since 08:31": ("2/3", "ERP unreachable since 08:31"),
    "part 3/3 of a split load: one line\nand another": ("3/3", "one line\nand another"),
    "not run: the CRM is unreachable": (None, "not run: the CRM is unreachable"),
    "a message that mentions part 1/3 of a split load": (
        None,
        "a message that mentions part 1/3 of a split load",
    ),
}


def test_parts_move_from_the_message_into_their_column_and_back(store_url: str) -> None:
    with at_revision(store_url, "0008") as conn:
        assert "part" not in {c["name"] for c in inspect(conn).get_columns("task_runs")}
        run = a_run(conn, at=AT)
        for message in [*BEFORE, None]:
            conn.execute(
                insert(task_runs).values(
                    run_id=run,
                    task="Accounts",
                    status="succeeded",
                    started_at=AT,
                    heartbeat_at=AT,
                    message=message,
                )
            )

    with StateStore(store_url) as store:  # opening migrates to head
        [info] = store.runs()
        got = [(t.part, t.message) for t in info.task_runs]
        assert got == [*BEFORE.values(), (None, None)]
        assert [t.label for t in info.task_runs[:2]] == ["Accounts (part 1/3)", "Accounts (part 2/3)"]
        assert info.task_runs[3].label == "Accounts"

        with back_to(store, "0008") as conn:  # and back: the prefixes the older code reads again
            assert "part" not in {c["name"] for c in inspect(conn).get_columns("task_runs")}
            back = list(conn.scalars(select(task_runs.c.message).order_by(task_runs.c.id)))
            assert back == [*BEFORE, None]


def test_a_task_run_started_as_a_part_says_so(open_store) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    run = store.start_run("p", ["Accounts"])
    whole = store.start_task(run, "Accounts")
    part = store.start_task(run, "Accounts", part="2/4")
    for task_run_id in (whole, part):
        store.finish_task(task_run_id, RunStatus.SUCCEEDED)
    runs_ = {t.id: t for t in store.task_runs(run)}
    assert (runs_[whole].part, runs_[part].part) == (None, "2/4")
    assert (runs_[whole].label, runs_[part].label) == ("Accounts", "Accounts (part 2/4)")
