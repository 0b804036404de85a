"""Work items of queued runs and their leases: what makes a task delivered twice run once.

A queued run (``p2c run --queue``) records one item per task in ``work_items`` (status
``waiting``, with its depth in the dependencies as ``wave``), then releases each (``queued``) once
its dependencies ended and sends it to the broker. A
``p2c worker`` that receives an item *claims* it: one UPDATE sets it ``running`` under the worker's
``holder`` (host:pid:thread) with a lease until now + lease, guarded so that only an item still
``queued``, or ``running`` under a lease that lapsed, can be taken. Of two deliveries of one item,
the second finds the lease live and does nothing; a delivery after the holder died (its lease
lapsed, or on this host its pid is gone) takes the item over, ``attempts`` + 1. The holder renews
its lease while it runs (:meth:`WorkItems.renew_item`) and ends the item with its status
(:meth:`WorkItems.finish_item`), both guarded by the holder: a worker that lost its item cannot
end it. Times are the database's clock on PostgreSQL, so hosts with skewed clocks agree.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, func, insert, or_, select, update

from p2c.store.crashed import pid_alive
from p2c.store.model import RunStatus
from p2c.store.schema import runs as run_table
from p2c.store.schema import task_runs, work_items

__all__ = ["ItemStatus", "WorkItem", "WorkItems", "holder_id"]


class ItemStatus:
    """An item's status: ``waiting`` for its wave, ``queued`` (sent), ``running`` (leased), then
    the status of its task run (``succeeded``, ``partial``, ``failed``, ``interrupted``)."""

    WAITING = "waiting"
    QUEUED = "queued"
    RUNNING = "running"
    OPEN = (WAITING, QUEUED, RUNNING)


def holder_id() -> str:
    """Who runs an item: host, pid and thread (a worker runs several items at once)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass(frozen=True)
class WorkItem:
    id: int
    run_id: int
    project: str
    task: str
    part: str
    wave: int
    status: str
    holder: str | None
    lease_until: datetime | None
    attempts: int
    task_run_id: int | None
    message: str | None
    requests: dict[str, Any] | None

    @property
    def open(self) -> bool:
        return self.status in ItemStatus.OPEN


def _item(row: Row[Any]) -> WorkItem:
    m = row._mapping
    return WorkItem(
        id=m["id"],
        run_id=m["run_id"],
        project=m["project"],
        task=m["task"],
        part=m["part"],
        wave=m["wave"],
        status=m["status"],
        holder=m["holder"],
        lease_until=m["lease_until"],
        attempts=m["attempts"],
        task_run_id=m["task_run_id"],
        message=m["message"],
        requests=json.loads(m["requests"]) if m["requests"] else None,
    )


def _holder_dead(holder: str | None) -> bool:
    """A holder on this host whose process is gone: certain at once, no need to wait for its lease."""
    if not holder:
        return False
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


class WorkItems:
    """The work-item methods of :class:`p2c.store.StateStore` (a mixin)."""

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    @staticmethod
    def _clock(conn: Connection) -> datetime:
        """Now, by the database's clock on PostgreSQL (every host agrees), else this one's."""
        if conn.dialect.name == "postgresql":
            at = conn.scalar(select(func.now()))
            assert isinstance(at, datetime)
            return at.astimezone(UTC)
        return datetime.now(UTC)

    def add_items(self, run_id: int, project: str, items: Sequence[tuple[str, str, int]]) -> list[WorkItem]:
        """Record the items of ``run_id``: (task, part, wave) each, ``waiting``."""
        c = work_items.c
        with self._write() as conn:
            for task, part, wave in items:
                conn.execute(
                    insert(work_items).values(
                        run_id=run_id, project=project, task=task, part=part, wave=wave, status="waiting"
                    )
                )
            rows = conn.execute(select(work_items).where(c.run_id == run_id).order_by(c.id)).all()
        return [_item(r) for r in rows]

    def queue_items(self, run_id: int, ids: Sequence[int]) -> list[WorkItem]:
        """Mark the items ``ids`` of ``run_id`` queued (about to be sent) if still waiting; returns them."""
        c = work_items.c
        if not ids:
            return []
        with self._write() as conn:
            at = self._clock(conn)
            rows = conn.execute(
                update(work_items)
                .where(c.run_id == run_id, c.id.in_(list(ids)), c.status == ItemStatus.WAITING)
                .values(status=ItemStatus.QUEUED, queued_at=at)
                .returning(*work_items.c)
            ).all()
        return sorted((_item(r) for r in rows), key=lambda i: i.id)

    def items(self, run_id: int) -> list[WorkItem]:
        with self._read() as conn:
            rows = conn.execute(
                select(work_items).where(work_items.c.run_id == run_id).order_by(work_items.c.id)
            )
            return [_item(r) for r in rows]

    def item(self, item_id: int) -> WorkItem | None:
        with self._read() as conn:
            row = conn.execute(select(work_items).where(work_items.c.id == item_id)).first()
        return None if row is None else _item(row)

    def claim_item(self, item_id: int, holder: str, lease: timedelta) -> tuple[bool, WorkItem | None]:
        """Take item ``item_id`` for ``holder`` if it is queued, or running under a lease that
        lapsed (or held by a dead process of this host); (taken, the item as it is now). A run no
        longer RUNNING (finished, crashed, stopped) gives its items to nobody."""
        c = work_items.c
        with self._write() as conn:
            at = self._clock(conn)
            row = conn.execute(select(work_items).where(c.id == item_id)).first()
            if row is None:
                return False, None
            current = _item(row)
            run_status = conn.scalar(select(run_table.c.status).where(run_table.c.id == current.run_id))
            if run_status != RunStatus.RUNNING.value:
                return False, current
            takeable = or_(
                c.status == ItemStatus.QUEUED,
                and_(c.status == ItemStatus.RUNNING, c.lease_until < at),
            )
            if current.status == ItemStatus.RUNNING and _holder_dead(current.holder):
                takeable = and_(c.status == ItemStatus.RUNNING, c.holder == current.holder)
            taken = conn.execute(
                update(work_items)
                .where(c.id == item_id, takeable)
                .values(
                    status=ItemStatus.RUNNING,
                    holder=holder,
                    lease_until=at + lease,
                    attempts=c.attempts + 1,
                    started_at=at,
                )
                .returning(*work_items.c)
            ).first()
            if taken is None:
                return False, current
            # taken over: the dead attempt's task run ends CRASHED — the one it noted, else (it died
            # before noting one) the task's, unless other parts of a split load run the task too
            tr = task_runs.c
            dead: ColumnElement[bool] | None
            if current.task_run_id is not None:
                dead = tr.id == current.task_run_id
            else:
                dead = (
                    and_(tr.task == current.task, tr.run_id == current.run_id) if not current.part else None
                )
            if current.attempts > 0 and dead is not None:
                conn.execute(
                    update(task_runs)
                    .where(dead, tr.status == RunStatus.RUNNING.value)
                    .values(
                        status=RunStatus.CRASHED.value,
                        finished_at=task_runs.c.heartbeat_at,
                        message=f"the worker running it ({current.holder}) died; the item was taken over",
                    )
                )
            return True, _item(taken)

    def renew_item(self, item_id: int, holder: str, lease: timedelta) -> bool:
        """Extend ``holder``'s lease; False if it lost the item or the run is no longer RUNNING
        (finished, stopped or crashed: the holder should stop after its current chunk)."""
        c = work_items.c
        with self._write() as conn:
            at = self._clock(conn)
            running = (
                select(run_table.c.id)
                .where(run_table.c.id == c.run_id, run_table.c.status == RunStatus.RUNNING.value)
                .exists()
            )
            res = conn.execute(
                update(work_items)
                .where(c.id == item_id, c.holder == holder, c.status == ItemStatus.RUNNING, running)
                .values(lease_until=at + lease)
            )
            return res.rowcount == 1

    def note_task_run(self, item_id: int, holder: str, task_run_id: int) -> None:
        """The task run ``holder``'s attempt of item ``item_id`` recorded: if the attempt dies,
        the takeover ends that task run CRASHED (and no other part's of the same task)."""
        c = work_items.c
        with self._write() as conn:
            conn.execute(
                update(work_items).where(c.id == item_id, c.holder == holder).values(task_run_id=task_run_id)
            )

    def finish_item(
        self,
        item_id: int,
        holder: str | None,
        status: RunStatus | str,
        *,
        message: str | None = None,
        requests: Mapping[str, Any] | None = None,
    ) -> bool:
        """End item ``item_id`` with ``status`` if ``holder`` still holds it (``None``: whoever
        holds it, or nobody — the coordinator ending items that will not run); True if it did.
        The item's task run is the one its holder noted (:meth:`note_task_run`)."""
        c = work_items.c
        guard = c.holder == holder if holder is not None else c.status.in_(ItemStatus.OPEN)
        with self._write() as conn:
            at = self._clock(conn)
            res = conn.execute(
                update(work_items)
                .where(c.id == item_id, guard)
                .values(
                    status=str(RunStatus(status).value if isinstance(status, RunStatus) else status),
                    finished_at=at,
                    lease_until=None,
                    message=message,
                    requests=json.dumps(requests) if requests is not None else None,
                )
            )
            return res.rowcount == 1

    def lapsed_items(self, run_id: int) -> list[WorkItem]:
        """Items of ``run_id`` running under a lease that lapsed, or held by a dead process of this
        host: their worker died; the coordinator sends them again."""
        c = work_items.c
        with self._write() as conn:
            at = self._clock(conn)
            rows = conn.execute(
                select(work_items).where(c.run_id == run_id, c.status == ItemStatus.RUNNING)
            ).all()
        found = [_item(r) for r in rows]
        return [
            i for i in found if (i.lease_until is not None and i.lease_until < at) or _holder_dead(i.holder)
        ]
