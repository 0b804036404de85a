"""Finding runs whose process died: the body of :meth:`p2c.store.StateStore.mark_crashed_runs`.

A run records the host and pid of its process; its task runs' ``heartbeat_at`` is its last sign of
life (every commit sets it). On the same host the pid tells for sure; across hosts only silence
can, so a run elsewhere counts as dead once it has committed nothing for ``stale_after``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, update

from p2c.store.model import RunStatus
from p2c.store.schema import runs as run_table
from p2c.store.schema import task_runs

__all__ = ["crash_run", "mark_crashed", "pid_alive"]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def mark_crashed(
    conn: Connection, project: str, host: str, stale_after: timedelta, at: datetime
) -> list[int]:
    """Mark CRASHED the RUNNING runs of ``project`` whose process is gone (inside the caller's
    write transaction); returns their ids."""
    last = func.max(task_runs.c.heartbeat_at)
    q = (
        select(run_table.c.id, run_table.c.host, run_table.c.pid, run_table.c.started_at, last.label("last"))
        .select_from(run_table.outerjoin(task_runs, task_runs.c.run_id == run_table.c.id))
        .where(run_table.c.project == project, run_table.c.status == RunStatus.RUNNING.value)
        .group_by(run_table.c.id, run_table.c.host, run_table.c.pid, run_table.c.started_at)
    )
    crashed: list[int] = []
    for row in conn.execute(q).all():
        seen = max(row.started_at, row.last) if row.last is not None else row.started_at
        if row.host == host and row.pid is not None:
            gone = row.pid != os.getpid() and not pid_alive(row.pid)
        else:
            gone = at - seen > stale_after
        if gone and crash_run(conn, row.id, seen):
            crashed.append(row.id)
    return crashed


def crash_run(conn: Connection, run_id: int, seen: datetime) -> bool:
    """Mark CRASHED run ``run_id`` if still RUNNING, and its RUNNING task runs; ``seen`` (its last
    sign of life) becomes its finish time. Also used when a dead holder's project lock is taken."""
    res = conn.execute(
        update(run_table)
        .where(run_table.c.id == run_id, run_table.c.status == RunStatus.RUNNING.value)
        .values(status=RunStatus.CRASHED.value, finished_at=seen, message="the process running it died")
    )
    if res.rowcount != 1:
        return False
    conn.execute(
        update(task_runs)
        .where(task_runs.c.run_id == run_id, task_runs.c.status == RunStatus.RUNNING.value)
        .values(status=RunStatus.CRASHED.value, finished_at=task_runs.c.heartbeat_at)
    )
    return True
