"""The state store: run history, links, cursors, sequences — one SQLite file or one PostgreSQL database.

Tables (``schema.py``; created and upgraded by the alembic migrations in ``migrations/``):

``runs``            one row per run of a project: tasks asked for, trigger, ``full``, status,
                    start/finish, message, host and pid of the process that ran it.
``task_runs``       one row per task within a run: status, start/finish, ``heartbeat_at`` (last
                    commit) and the counters read, created, updated, deleted, unchanged,
                    filtered, skipped, waiting, failed (which add up to read).
``record_outcomes`` one row per record written, filtered, failed, waiting or skipped (with its
                    ``reason``): action, target key, error class, field, message, transient
                    flag, source row and target payload (JSON, capped at 16 KB), and
                    ``operation``: NULL for the record's own outcome, else the name of a side
                    write made for the record (a number written back...), stored but neither
                    counted nor pending. Indexed for a record's latest outcome, pending records
                    and a run's history.
``links``           identity: (task, source_key) → target_key, hash of what was last written,
                    source hash, target ETag, synced_at. Indexed on (task, target_key).
``cursors``         one incremental cursor per task (a delta link, a watermark's marks...), and
                    ``#customers:<entity>`` for the CRM documents' customers (below).
``customer_documents`` / ``customers_touched``  the customer of each CRM quote, order and invoice,
                    and the contacts whose documents changed (``customers.py``).
``sequences``       the highest number used per number sequence (name → value); only raised.
``schedules``       one per project: its schedule and next run time (``service_state.py``).
``project_state``   paused or not, why and since when (``service_state.py``).
``project_locks``   who is synchronising each project (run, host, pid, heartbeat): see ``locks.py``.
``work_items``      the tasks of a queued run that ``p2c worker`` processes run, with their leases:
                    see ``work_items.py``.

Crash safety lives in :meth:`StateStore.commit_batch`: a batch's outcomes, links, link deletions,
cursor, sequence and counters are written in one transaction, so after a crash the store holds
every committed batch whole and nothing of the others; the cursor never runs ahead of the work.

Example::

    >>> store = StateStore("sqlite://")  # in memory; a path or postgresql+psycopg://... in real use
    >>> run = store.start_run("demo", ["accounts"])
    >>> tr = store.start_task(run, "accounts")
    >>> store.commit_batch(tr, [Outcome("accounts", "A-1", Action.CREATED, target_key="C-1")],
    ...                    [Link("accounts", "A-1", "C-1", "h1", now())], cursor=("accounts", "d1"),
    ...                    sequence=("ACC", 1042))
    >>> store.finish_task(tr, RunStatus.SUCCEEDED)
    >>> store.finish_run(run, RunStatus.SUCCEEDED)
    >>> store.cursor("accounts"), store.sequence("ACC"), store.runs()[0].counts.created
    ('d1', 1042, 1)
    >>> store.close()
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, CursorResult, delete, insert, select, update

from p2c.store import history
from p2c.store.batch import reserve_sequence, write_batch
from p2c.store.customers import CustomerDocuments
from p2c.store.database import WRITE, create_store_engine, resolve_url, upgrade
from p2c.store.failures import FailureLedger
from p2c.store.link_queries import LinkQueries
from p2c.store.locks import LockInfo, ProjectLocks
from p2c.store.model import (
    COUNTERS,
    Action,
    Counts,
    Link,
    Outcome,
    OutcomeRecord,
    RunInfo,
    RunStatus,
    TaskRunInfo,
    Trigger,
)
from p2c.store.records import RecordQueries
from p2c.store.schema import cursors, sequences, task_runs
from p2c.store.schema import runs as run_table
from p2c.store.service_state import ServiceState
from p2c.store.work_items import WorkItems

__all__ = ["StateStore", "now"]


def now() -> datetime:
    """The current time, as the store records it (UTC, timezone-aware)."""
    return datetime.now(UTC)


def _new_id(res: CursorResult[Any]) -> int:
    pk = res.inserted_primary_key
    assert pk is not None
    return int(pk[0])


class StateStore(
    ProjectLocks, FailureLedger, ServiceState, RecordQueries, LinkQueries, WorkItems, CustomerDocuments
):
    """Open (and migrate to head) the store at ``url``: a file path or an SQLAlchemy URL.

    Thread-safe (each call checks out its own connection). Use as a context manager or call
    :meth:`close`. Mixins: project locks and :meth:`mark_crashed_runs` (``locks.py``), open
    failures and dismiss (``failures.py``), pause, schedule state and retention
    (``service_state.py``).
    """

    def __init__(self, url: str | os.PathLike[str]) -> None:
        self.url = resolve_url(url)
        self.engine = create_store_engine(self.url)
        try:
            upgrade(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        self._sqlite = self.engine.dialect.name == "sqlite"
        # keys per query: one array parameter on PostgreSQL, one each on SQLite (999 before 3.32)
        old_sqlite = self._sqlite and sqlite3.sqlite_version_info < (3, 32)
        self._chunk = 900 if old_sqlite else 5000 if self._sqlite else 50_000
        self._host = socket.gethostname()
        self._run_of: dict[int, int] = {}  # task_run id -> run id (immutable once created)
        self._held: dict[int, LockInfo] = {}  # run id -> the project lock it holds (ProjectLocks)

    def __repr__(self) -> str:
        return f"StateStore({self.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # -- runs and task runs ------------------------------------------------------------------

    def start_run(
        self,
        project: str,
        tasks: Sequence[str],
        trigger: Trigger = Trigger.CLI,
        full: bool = False,
        lease: timedelta | None = None,
    ) -> int:
        """Record a new RUNNING run; returns its id. With ``lease``, the run also takes the project
        lock in the same transaction: a refused run (:class:`ProjectLockedError`) records nothing."""
        with self._write() as conn:
            res = conn.execute(
                insert(run_table).values(
                    project=project,
                    tasks=json.dumps(list(tasks)),
                    trigger=trigger,
                    full=full,
                    status=RunStatus.RUNNING.value,
                    started_at=now(),
                    host=self._host,
                    pid=os.getpid(),
                )
            )
            run_id = _new_id(res)
            if lease is not None:
                self._take(conn, project, run_id, lease)
            return run_id

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        message: str | None = None,
        requests: Mapping[str, Any] | None = None,
    ) -> None:
        """End a run; task runs still RUNNING in it end with the same status. ``requests``: what
        the run asked of each service (kept as JSON)."""
        status = RunStatus(status)
        if status is RunStatus.RUNNING:
            raise ValueError("finish_run needs a final status")
        at = now()
        with self._write() as conn:
            res = conn.execute(
                update(run_table)
                .where(run_table.c.id == run_id)
                .values(
                    status=status.value,
                    finished_at=at,
                    message=message,
                    requests=json.dumps(requests) if requests is not None else None,
                )
            )
            if res.rowcount != 1:
                raise LookupError(f"no run {run_id}")
            conn.execute(
                update(task_runs)
                .where(task_runs.c.run_id == run_id, task_runs.c.status == RunStatus.RUNNING.value)
                .values(status=status.value, finished_at=at)
            )

    def start_task(self, run_id: int, task: str, *, part: str | None = None) -> int:
        """Record a RUNNING task run of ``task`` in ``run_id`` (``part``: ``"2/4"``, one part of a
        split load); returns its id."""
        at = now()
        with self._write() as conn:
            self._heartbeat(conn, run_id, at)
            res = conn.execute(
                insert(task_runs).values(
                    run_id=run_id,
                    task=task,
                    status=RunStatus.RUNNING.value,
                    started_at=at,
                    heartbeat_at=at,
                    part=part,
                )
            )
            task_run_id = _new_id(res)
        self._run_of[task_run_id] = run_id
        return task_run_id

    def finish_task(
        self,
        task_run_id: int,
        status: RunStatus,
        counts: Mapping[str, int] | Counts | None = None,
        message: str | None = None,
    ) -> None:
        """End a task run. ``counts`` sets the named counters to final values (a :class:`Counts`
        sets all of them); counters not named keep what :meth:`commit_batch` accumulated."""
        status = RunStatus(status)
        if status is RunStatus.RUNNING:
            raise ValueError("finish_task needs a final status")
        values: dict[str, Any] = dict(counts.as_dict() if isinstance(counts, Counts) else counts or {})
        unknown = set(values) - set(COUNTERS)
        if unknown:
            raise ValueError(f"unknown counters {sorted(unknown)}; known: {', '.join(COUNTERS)}")
        at = now()
        values.update(status=status.value, finished_at=at, heartbeat_at=at, message=message)
        with self._write() as conn:
            res = conn.execute(update(task_runs).where(task_runs.c.id == task_run_id).values(**values))
            if res.rowcount != 1:
                raise LookupError(f"no task run {task_run_id}")

    # -- the unit of work ----------------------------------------------------------------------

    def commit_batch(
        self,
        task_run_id: int,
        outcomes: Sequence[Outcome],
        links: Sequence[Link] = (),
        deleted_links: Sequence[tuple[str, str]] = (),
        cursor: tuple[str, str | None] | None = None,
        *,
        read: int = 0,
        sequence: tuple[str, int] | None = None,
    ) -> None:
        """Record one batch in ONE transaction: all of it or, on any error, none of it.

        Outcomes are inserted and counted (an UNCHANGED outcome without a message is only counted,
        unless it clears a pending record; a side write, ``operation`` set, is stored and not
        counted); ``deleted_links`` ((task, source_key) pairs) are removed, then ``links`` upserted
        by (task, source_key), the ``cursor`` (task, value) upserted, the ``sequence`` (name,
        highest number used) raised to at least that value, and ``read`` added to the read counter.
        """
        with self._write() as conn:
            run_id = self._run_id(conn, task_run_id)
            self._heartbeat(conn, run_id, now())  # a run that lost its lock commits nothing
            write_batch(
                conn,
                run_id=run_id,
                task_run_id=task_run_id,
                outcomes=outcomes,
                links_=links,
                deleted_links=deleted_links,
                cursor=cursor,
                sequence=sequence,
                read=read,
                at=now(),
                chunk=self._chunk,
            )

    def _run_id(self, conn: Connection, task_run_id: int) -> int:
        run_id = self._run_of.get(task_run_id)
        if run_id is None:
            run_id = conn.scalar(select(task_runs.c.run_id).where(task_runs.c.id == task_run_id))
            if run_id is None:
                raise LookupError(f"no task run {task_run_id}")
            self._run_of[task_run_id] = run_id
        return run_id

    # -- cursors ----------------------------------------------------------------------------------

    def cursor(self, task: str) -> str | None:
        with self._read() as conn:
            return conn.scalar(select(cursors.c.value).where(cursors.c.task == task))

    def reset_cursor(self, task: str) -> None:
        """Forget the cursor of ``task``: its next run reads everything."""
        with self._write() as conn:
            conn.execute(delete(cursors).where(cursors.c.task == task))

    def sequence(self, name: str) -> int | None:
        """The highest number stored for the sequence ``name`` (``None`` if it never ran)."""
        with self._read() as conn:
            value = conn.scalar(select(sequences.c.value).where(sequences.c.name == name))
        return None if value is None else int(value)

    def reserve_sequence(self, name: str, floor: int, count: int) -> int:
        """The first of ``count`` numbers of the sequence ``name`` taken now, none below ``floor``
        (for processes numbering at the same time: :func:`p2c.store.batch.reserve_sequence`)."""
        with self._write() as conn:
            return reserve_sequence(conn, name, floor, count, now())

    # -- history -------------------------------------------------------------------------------

    def runs(
        self,
        project: str | None = None,
        limit: int = 20,
        *,
        statuses: Collection[RunStatus] | None = None,
        triggers: Collection[Trigger] | None = None,
        before_id: int | None = None,
    ) -> list[RunInfo]:
        """The latest runs (of ``project``, or all), newest first, with their task runs; only
        ``statuses`` / ``triggers`` when given, and only runs older than ``before_id`` (paging)."""
        q = history.runs_query(project, limit, statuses, triggers, before_id)
        with self._read() as conn:
            return history.run_infos(conn, q)

    def run(self, run_id: int) -> RunInfo | None:
        with self._read() as conn:
            found = history.run_infos(conn, select(run_table).where(run_table.c.id == run_id))
        return found[0] if found else None

    def task_runs(self, run_id: int) -> list[TaskRunInfo]:
        with self._read() as conn:
            return history.task_run_infos(conn, [run_id])[run_id]

    def outcomes(
        self,
        run_id: int,
        *,
        actions: Collection[Action] | None = None,
        task: str | None = None,
        limit: int | None = None,
        operations: bool | None = None,
    ) -> list[OutcomeRecord]:
        """Stored outcomes of a run in the order recorded, optionally only some actions or a task;
        ``operations`` None = all, False = the records' own outcomes, True = only side writes."""
        with self._read() as conn:
            return history.outcomes(conn, run_id, actions, task, limit, operations)

    def pending(self, task: str) -> list[OutcomeRecord]:
        """Records of ``task`` whose latest outcome is FAILED or WAITING, oldest first: what a
        retry must read again. Any later outcome of the record (even UNCHANGED or FILTERED) clears it.
        Side writes (outcomes with an ``operation``) are ignored on both counts."""
        with self._read() as conn:
            return history.pending(conn, task)
