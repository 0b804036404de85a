"""Migration 0005: *unchanged* and *filtered* counted apart from *skipped*, history converted."""

from __future__ import annotations

from datetime import UTC, datetime

from migration_helpers import a_run, at_revision, back_to
from sqlalchemy import insert, inspect, select, text

from p2c.store import Action, Counts, StateStore
from p2c.store.batch import UNCHANGED
from p2c.store.schema import record_outcomes, task_runs

AT = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
T = "Contacts"


def _row(run: int, tr: int, key: str, action: str, message: str | None, operation: str | None = None) -> dict:
    return {
        "run_id": run,
        "task_run_id": tr,
        "task": T,
        "source_key": key,
        "action": action,
        "message": message,
        "operation": operation,
        "transient": False,
        "at": AT,
    }


def test_old_skips_become_unchanged_or_stay_skipped_with_counts_that_add_up(store_url: str) -> None:
    with at_revision(store_url, "0004") as conn:
        assert "unchanged" not in {c["name"] for c in inspect(conn).get_columns("task_runs")}
        run = a_run(conn, at=AT)
        # 20 read: 3 created, 17 "skipped" = 15 unchanged (1 stored: it cleared a failure)
        # + 2 skipped for a reason + 1 side write (never counted)
        tr = conn.execute(
            insert(task_runs).values(
                run_id=run,
                task=T,
                status="succeeded",
                started_at=AT,
                heartbeat_at=AT,
                read=20,
                created=3,
                skipped=17,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(record_outcomes),
            [
                _row(run, tr, "C1", "skipped", UNCHANGED),
                _row(run, tr, "C2", "skipped", "neither route takes this contact"),
                _row(run, tr, "C3", "skipped", "synchronised by the other contact task"),
                _row(run, tr, "C4", "skipped", None, operation="number"),
            ],
        )

    with StateStore(store_url) as store:  # opening migrates to head
        [info] = store.runs()
        counts = info.task_runs[0].counts
        assert counts == Counts(read=20, created=3, unchanged=15, skipped=2)
        assert counts.accounted == counts.read
        stored = {o.source_key: o.action for o in store.outcomes(info.id)}
        assert stored == {
            "C1": Action.UNCHANGED,
            "C2": Action.SKIPPED,
            "C3": Action.SKIPPED,
            "C4": Action.SKIPPED,
        }

        with back_to(store, "0004") as conn:  # and back: one skipped counter again, nothing lost
            back = conn.execute(select(task_runs.c.read, task_runs.c.skipped)).one()
            assert tuple(back) == (20, 17)
            n = conn.scalar(text("SELECT count(*) FROM record_outcomes WHERE action = 'skipped'"))
            assert n == 4
