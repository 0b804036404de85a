"""What the service keeps per project besides runs: pause state, the schedule's next run, retention.

A mixin of :class:`p2c.store.StateStore` (like :mod:`p2c.store.locks`): ``pause`` / ``resume``
(persisted, so ``p2c pause`` and the service agree), the schedule's next run time (a restarted
service sees what it missed and catches up once), scheduled runs skipped because the project was
being synchronised (recorded as runs with status SKIPPED, so the history says so), and
``purge``: history older than the retention is deleted, except what still matters — the latest
outcome of a record that still fails or waits (it keeps the record pending), and the runs those
outcomes belong to.
"""

from __future__ import annotations

import json
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, insert, select, update

from p2c.errors import P2CError
from p2c.store.batch import upsert
from p2c.store.history import PENDING
from p2c.store.model import RunStatus, Trigger
from p2c.store.schema import project_state, record_outcomes, runs, schedules, task_runs

__all__ = ["ProjectPausedError", "ProjectState", "ScheduleState", "ServiceState"]


class ProjectPausedError(P2CError):
    """The project is paused: it runs neither on schedule nor on request until it is resumed."""

    def __init__(self, state: ProjectState) -> None:
        since = f" since {state.paused_at:%Y-%m-%d %H:%M:%S} UTC" if state.paused_at else ""
        by = f" by {state.paused_by}" if state.paused_by else ""
        super().__init__(
            f"project {state.project} is paused{by}{since}: {state.reason or 'no reason given'}; "
            "`p2c resume` (or the service's resume) lets it run again",
            entity=state.project,
        )
        self.state = state


@dataclass(frozen=True)
class ProjectState:
    """Whether a project is paused; ``reason`` says why (a person's words or the auto-pause rule)."""

    project: str
    paused: bool = False
    reason: str | None = None
    paused_by: str | None = None
    paused_at: datetime | None = None


@dataclass(frozen=True)
class ScheduleState:
    """A project's schedule as the service last planned it: its text and the next run time."""

    project: str
    spec: str
    next_run_at: datetime | None
    last_run_id: int | None


class ServiceState:
    """Pause state, schedule state, skipped runs and retention (see the module docstring)."""

    _host: str

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    # -- pause ----------------------------------------------------------------------------------

    def project_state(self, project: str) -> ProjectState:
        with self._read() as conn:
            row = conn.execute(select(project_state).where(project_state.c.project == project)).first()
        if row is None:
            return ProjectState(project)
        return ProjectState(project, bool(row.paused), row.reason, row.paused_by, row.paused_at)

    def pause(self, project: str, reason: str, by: str, at: datetime) -> ProjectState:
        """Pause ``project`` (again: the reason and time are the latest ones)."""
        row = {
            "project": project,
            "paused": True,
            "reason": reason,
            "paused_by": by,
            "paused_at": at,
            "updated_at": at,
        }
        with self._write() as conn:
            upsert(conn, project_state, ["project"], [row])
        return ProjectState(project, True, reason, by, at)

    def resume(self, project: str, at: datetime) -> bool:
        """Resume ``project``; False when it was not paused."""
        row = {
            "project": project,
            "paused": False,
            "reason": None,
            "paused_by": None,
            "paused_at": None,
            "updated_at": at,
        }
        with self._write() as conn:
            was = conn.scalar(select(project_state.c.paused).where(project_state.c.project == project))
            upsert(conn, project_state, ["project"], [row])
        return bool(was)

    # -- schedule -------------------------------------------------------------------------------

    def schedule_state(self, project: str) -> ScheduleState | None:
        with self._read() as conn:
            row = conn.execute(select(schedules).where(schedules.c.project == project)).first()
        if row is None:
            return None
        return ScheduleState(project, row.cron, row.next_run_at, row.last_run_id)

    def set_schedule(
        self,
        project: str,
        spec: str,
        next_run_at: datetime | None,
        at: datetime,
        last_run_id: int | None = None,
    ) -> None:
        """Store ``project``'s schedule and its next run time (``last_run_id`` kept when None)."""
        row: dict[str, Any] = {
            "project": project,
            "cron": spec,
            "enabled": True,
            "next_run_at": next_run_at,
            "updated_at": at,
        }
        if last_run_id is not None:
            row["last_run_id"] = last_run_id
        with self._write() as conn:
            upsert(conn, schedules, ["project"], [row])

    def record_skipped_run(
        self, project: str, tasks: list[str], trigger: Trigger, message: str, at: datetime
    ) -> int:
        """A run that did not start (the project was being synchronised), recorded as SKIPPED."""
        with self._write() as conn:
            res = conn.execute(
                insert(runs).values(
                    project=project,
                    tasks=json.dumps(tasks),
                    trigger=trigger.value,
                    full=False,
                    status=RunStatus.SKIPPED.value,
                    started_at=at,
                    finished_at=at,
                    message=message,
                    host=self._host,
                    pid=os.getpid(),
                )
            )
            key = res.inserted_primary_key
            assert key is not None
            return int(key[0])

    def last_success(self, project: str) -> datetime | None:
        """When ``project``'s latest successful run ended (None: no run succeeded yet)."""
        r = runs.c
        q = (
            select(r.finished_at)
            .where(r.project == project, r.status == RunStatus.SUCCEEDED.value)
            .order_by(r.id.desc())
            .limit(1)
        )
        with self._read() as conn:
            return conn.scalar(q)

    # -- retention ------------------------------------------------------------------------------

    def purge(self, project: str, before: datetime) -> tuple[int, int]:
        """Delete ``project``'s history older than ``before``: (runs, outcomes) deleted. The latest
        outcome of a record still failing or waiting is kept (with its run), or the record would
        stop being pending and never be read again; links, cursors and sequences are not history."""
        o, later = record_outcomes.alias("o"), record_outcomes.alias("later")
        superseded = exists().where(
            and_(
                later.c.task == o.c.task,
                later.c.source_key == o.c.source_key,
                later.c.id > o.c.id,
                later.c.operation.is_(None),
            )
        )
        keep = and_(o.c.action.in_(PENDING), o.c.operation.is_(None), ~superseded)
        old_runs = select(runs.c.id).where(
            runs.c.project == project, runs.c.finished_at.is_not(None), runs.c.finished_at < before
        )
        with self._write() as conn:
            doomed = select(o.c.id).where(o.c.run_id.in_(old_runs), o.c.at < before, ~keep)
            gone = conn.execute(delete(record_outcomes).where(record_outcomes.c.id.in_(doomed))).rowcount
            empty = old_runs.where(~exists().where(record_outcomes.c.run_id == runs.c.id))
            ids = list(conn.scalars(empty))
            if ids:
                conn.execute(delete(task_runs).where(task_runs.c.run_id.in_(ids)))
                conn.execute(
                    update(schedules).where(schedules.c.last_run_id.in_(ids)).values(last_run_id=None)
                )
                conn.execute(delete(runs).where(runs.c.id.in_(ids)))
        return len(ids), int(gone or 0)
