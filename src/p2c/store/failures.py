"""Failures that stay open until they are fixed or a person dismisses them.

A record is *open* while its latest own outcome is FAILED (WAITING records wait for a parent and
are not failures). Every run reads open records again; ``p2c dismiss`` records a DISMISSED
outcome for them — in the run and task run where they failed, so the history keeps who gave up on
what and when — after which they are no longer open (until they fail again).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from p2c.store.history import outcomes, pending
from p2c.store.model import Action, OutcomeRecord, RunStatus
from p2c.store.schema import record_outcomes, task_runs

__all__ = ["FailureLedger", "OpenFailure", "TaskStatus", "dismiss", "open_failures", "task_status"]


@dataclass(frozen=True)
class OpenFailure:
    """A record still failing: its task, source key, the run where it started failing (the first
    failure after its last success), its latest failed run and message."""

    task: str
    source_key: str
    since_run: int
    run_id: int
    message: str | None


def open_failures(conn: Connection, tasks: Sequence[str]) -> list[OpenFailure]:
    out: list[OpenFailure] = []
    o = record_outcomes.c
    for task in tasks:
        latest = [r for r in pending(conn, task) if r.action is Action.FAILED]
        for row in latest:
            history = conn.execute(
                select(o.run_id, o.action)
                .where(o.task == task, o.source_key == row.source_key, o.operation.is_(None))
                .order_by(o.id.desc())
            ).all()
            since = row.run_id
            for run_id, action in history:  # back from the latest, while it keeps failing
                if action != Action.FAILED.value:
                    break
                since = run_id
            out.append(OpenFailure(task, row.source_key, since, row.run_id, row.message))
    return out


@dataclass(frozen=True)
class TaskStatus:
    """Where one task stands: records failing and waiting now, and its last successful run."""

    task: str
    failing: int
    waiting: int
    last_success_run: int | None
    last_success_at: datetime | None


def task_status(conn: Connection, tasks: Sequence[str]) -> list[TaskStatus]:
    tr = task_runs.c
    out = []
    for task in tasks:
        now_pending = pending(conn, task)
        last = conn.execute(
            select(tr.run_id, tr.finished_at)
            .where(tr.task == task, tr.status == RunStatus.SUCCEEDED.value)
            .order_by(tr.id.desc())
            .limit(1)
        ).first()
        out.append(
            TaskStatus(
                task,
                sum(r.action is Action.FAILED for r in now_pending),
                sum(r.action is Action.WAITING for r in now_pending),
                last.run_id if last else None,
                last.finished_at if last else None,
            )
        )
    return out


def dismiss(conn: Connection, records: Sequence[OutcomeRecord], at: datetime, note: str) -> int:
    """A DISMISSED outcome for each of ``records`` (failed or waiting outcomes), in their run."""
    rows: list[dict[str, Any]] = [
        {
            "run_id": r.run_id,
            "task_run_id": r.task_run_id,
            "task": r.task,
            "source_key": r.source_key,
            "action": Action.DISMISSED.value,
            "target_key": r.target_key,
            "message": note,
            "transient": False,
            "at": at,
        }
        for r in records
    ]
    if rows:
        conn.execute(insert(record_outcomes), rows)
    return len(rows)


class FailureLedger:
    """The open-failure methods of :class:`p2c.store.StateStore` (a mixin: the store module stays small)."""

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def open_failures(self, tasks: Sequence[str]) -> list[OpenFailure]:
        """Records of ``tasks`` whose latest outcome is FAILED, with the run they started failing in."""
        with self._read() as conn:
            return open_failures(conn, tasks)

    def task_status(self, tasks: Sequence[str]) -> list[TaskStatus]:
        """Per task: records failing and waiting now, and the last run in which it succeeded."""
        with self._read() as conn:
            return task_status(conn, tasks)

    def dismiss(self, run_id: int | None, *, tasks: Sequence[str] = (), keys: Sequence[str] = ()) -> int:
        """Dismiss records that still fail or wait: those of ``run_id`` (or, without a run, every
        open one of ``tasks``), optionally only those of ``tasks`` or with source ``keys``. They are
        no longer read again. The count dismissed."""
        wanted_keys = set(keys)
        with self._write() as conn:
            if run_id is None:
                found = [r for task in tasks for r in pending(conn, task)]
            else:
                found = outcomes(conn, run_id, [Action.FAILED, Action.WAITING], None, None, False)
            chosen = [
                r
                for r in found
                if (not tasks or r.task in tasks) and (not wanted_keys or r.source_key in wanted_keys)
            ]
            latest: list[OutcomeRecord] = []
            for task in dict.fromkeys(r.task for r in chosen):
                keys_here = {r.source_key for r in chosen if r.task == task}
                latest.extend(r for r in pending(conn, task) if r.source_key in keys_here)
            return dismiss(conn, latest, datetime.now(UTC), "dismissed by a user (p2c dismiss)")
