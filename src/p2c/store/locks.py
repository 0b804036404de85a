"""Project locks: one run per project at a time, across processes and hosts.

Every path that writes (``Engine.run``: run and retry; later the scheduler and its workers) holds
the project's row in ``project_locks`` while it runs. The row names the holder (run, host, pid)
and its last sign of life, ``heartbeat_at``, which every commit of the holder renews in the
commit's own transaction (so a heartbeat costs no extra round trip).

Taking a lock is one write transaction: read the row, then insert it, or take over a *stale* one
with an UPDATE guarded by the old values, so two takers cannot both win. The read is serialised:
on SQLite by the write transaction itself (``BEGIN IMMEDIATE``), on PostgreSQL by a transaction
advisory lock on the project, so the second taker waits a few milliseconds for the first to
commit and then sees its row. A holder is stale when

- it runs on this host and its pid is gone (certain, checked at once: no waiting for a lease);
- it runs on another host and its heartbeat is older than the lease (only silence tells).

Taking over marks the dead holder's run CRASHED in the same transaction. A holder that finds its
row gone or taken (it was silent for longer than the lease) gets :class:`ProjectLockedError` from
its next commit, which then writes nothing: the new holder owns the project.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, delete, insert, select, text, update

from p2c.errors import P2CError
from p2c.store.crashed import crash_run, mark_crashed, pid_alive
from p2c.store.schema import project_locks as table

__all__ = ["LOCK_LEASE", "LockInfo", "ProjectLockedError", "ProjectLocks"]

#: How long a holder on another host may stay silent before its lock is taken over.
LOCK_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class LockInfo:
    """The holder of a project: its run (``None`` until recorded), host, pid and times (UTC)."""

    project: str
    run_id: int | None
    host: str
    pid: int
    acquired_at: datetime
    heartbeat_at: datetime


def _clock(at: datetime) -> str:
    """A time as the reader's clock shows it: ``10:32:05``, with the date when not today."""
    local = at.astimezone()
    today = datetime.now().astimezone().date()
    return local.strftime("%H:%M:%S" if local.date() == today else "%Y-%m-%d %H:%M:%S")


class ProjectLockedError(P2CError):
    """The project is held by another run (``holder``); nothing was recorded for this one.

    Also raised by a commit of a run whose lock was taken over (``lost`` set): it wrote nothing.
    """

    def __init__(self, holder: LockInfo, *, lost: int | None = None) -> None:
        self.holder = holder
        self.project = holder.project
        self.run_id = holder.run_id
        self.host = holder.host
        self.pid = holder.pid
        self.since = holder.acquired_at
        self.lost = lost
        run = f"run {holder.run_id}" if holder.run_id is not None else "a run starting"
        by = f"{run} on host {holder.host}, pid {holder.pid}, since {_clock(holder.acquired_at)}"
        if lost is None:
            reason = f"project {holder.project} is being synchronised by {by}; wait for it or stop it"
        else:
            reason = (
                f"run {lost} lost project {holder.project} after a silence longer than its lease: "
                f"it is now synchronised by {by}; run {lost} stops without recording more"
            )
        super().__init__(reason, entity="project", key=holder.project)

    def _message(self) -> str:
        return self.reason  # a sentence of its own: no "entity 'key':" prefix


def _pg_key(project: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``project`` (the same in every process)."""
    digest = hashlib.blake2b(f"p2c-project-lock:{project}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _row(conn: Connection, project: str) -> LockInfo | None:
    c = table.c
    row = conn.execute(
        select(c.project, c.run_id, c.host, c.pid, c.acquired_at, c.heartbeat_at).where(c.project == project)
    ).first()
    return None if row is None else LockInfo(*row)


def _is(holder: LockInfo) -> ColumnElement[bool]:
    """Rows still held exactly as ``holder`` was read: the guard of every change to a lock."""
    c = table.c
    run = c.run_id.is_(None) if holder.run_id is None else c.run_id == holder.run_id
    return and_(c.project == holder.project, run, c.host == holder.host, c.pid == holder.pid)


def is_stale(holder: LockInfo, host: str, lease: timedelta, at: datetime) -> bool:
    if holder.host == host:
        return not pid_alive(holder.pid)  # our own pid is alive: a process never takes itself over
    return at - holder.heartbeat_at > lease


def acquire(
    conn: Connection, project: str, run_id: int | None, host: str, pid: int, lease: timedelta, at: datetime
) -> LockInfo:
    """Take ``project`` for (run_id, host, pid) inside the caller's write transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _pg_key(project)})
    mine = LockInfo(project, run_id, host, pid, at, at)
    held = _row(conn, project)
    values = {"run_id": run_id, "host": host, "pid": pid, "acquired_at": at, "heartbeat_at": at}
    if held is None:
        conn.execute(insert(table).values(project=project, **values))
        return mine
    if not is_stale(held, host, lease, at):
        raise ProjectLockedError(held)
    # the old heartbeat in the guard too: a holder that renewed meanwhile is alive after all
    taken = conn.execute(
        update(table).where(_is(held), table.c.heartbeat_at == held.heartbeat_at).values(**values)
    )
    if taken.rowcount != 1:
        raise ProjectLockedError(_row(conn, project) or held)
    if held.run_id is not None:
        crash_run(conn, held.run_id, held.heartbeat_at)
    return mine


def renew(conn: Connection, holder: LockInfo, at: datetime) -> None:
    """Heartbeat of ``holder``; :class:`ProjectLockedError` (``lost``) if it no longer holds."""
    res = conn.execute(update(table).where(_is(holder)).values(heartbeat_at=at))
    if res.rowcount != 1:
        now_held = _row(conn, holder.project)
        raise ProjectLockedError(now_held or holder, lost=holder.run_id if holder.run_id is not None else 0)


class ProjectLocks:
    """The lock methods of :class:`p2c.store.StateStore` (a mixin: the store module stays small).

    ``_held`` maps the runs holding a lock through this store to their lock, so that
    :meth:`_heartbeat` can renew it inside the holder's own commits.
    """

    _host: str
    _held: dict[int, LockInfo]

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def acquire_lock(
        self, project: str, run_id: int | None = None, lease: timedelta = LOCK_LEASE
    ) -> LockInfo:
        """Take ``project`` for ``run_id`` and this process, or raise :class:`ProjectLockedError`
        naming the live holder. A dead holder (see the module docstring) is taken over and its run
        marked CRASHED. ``Engine.run`` takes it with its run instead (``start_run(lease=...)``)."""
        with self._write() as conn:
            return self._take(conn, project, run_id, lease)

    def _take(self, conn: Connection, project: str, run_id: int | None, lease: timedelta) -> LockInfo:
        info = acquire(conn, project, run_id, self._host, os.getpid(), lease, datetime.now(UTC))
        if run_id is not None:
            self._held[run_id] = info
        return info

    def renew_lock(self, project: str, run_id: int | None) -> None:
        """Heartbeat of the lock ``run_id`` holds (its commits through this store renew it already);
        :class:`ProjectLockedError` if it lost it."""
        at = datetime.now(UTC)
        with self._write() as conn:
            renew(conn, LockInfo(project, run_id, self._host, os.getpid(), at, at), at)

    @contextlib.contextmanager
    def keep_lock(self, project: str, run_id: int | None, every: float) -> Iterator[None]:
        """Renew the lock every ``every`` seconds while the block runs: a run reading for longer
        than its lease without committing (a slow source, a long retry pause) keeps its project.
        Stops at the end of the block, or when the lock turns out lost (the next commit says so)."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every):
                try:
                    self.renew_lock(project, run_id)
                except ProjectLockedError:
                    return  # taken over: the run's next commit raises it
                except Exception:  # a store hiccup: the next beat tries again
                    continue

        thread = threading.Thread(target=beat, name=f"p2c-lease-{project}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(every + 5)

    def release_lock(self, project: str, run_id: int | None) -> bool:
        """Give ``project`` up if ``run_id`` (of this host and process) still holds it; True if it did."""
        if run_id is not None:
            self._held.pop(run_id, None)
        at = datetime.now(UTC)
        holder = LockInfo(project, run_id, self._host, os.getpid(), at, at)
        with self._write() as conn:
            return conn.execute(delete(table).where(_is(holder))).rowcount == 1

    def mark_crashed_runs(self, project: str, stale_after: timedelta = timedelta(minutes=10)) -> list[int]:
        """Mark CRASHED the RUNNING runs of ``project`` whose process is gone; returns their ids.

        A run started on this host is gone when its pid no longer exists. A run started on another
        host is taken as gone when it has committed nothing for ``stale_after``. Its finish time
        becomes its last sign of life; its RUNNING task runs become CRASHED too.
        """
        with self._write() as conn:
            return mark_crashed(conn, project, self._host, stale_after, datetime.now(UTC))

    def project_lock(self, project: str) -> LockInfo | None:
        """Who holds ``project`` now, if anyone (a holder may be dead: see :func:`is_stale`)."""
        with self._read() as conn:
            return _row(conn, project)

    def _heartbeat(self, conn: Connection, run_id: int, at: datetime) -> None:
        """Inside a commit of ``run_id``: renew its lock, or fail the commit if it lost it."""
        holder = self._held.get(run_id)
        if holder is not None:
            renew(conn, holder, at)
