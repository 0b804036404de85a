"""The tables of the state store (SQLAlchemy Core). Migrations create them; this module queries them.

``migrations/versions/`` (``0001_initial.py``, ``0002_sequences.py``...) is the frozen history of
this schema; a test compares the migrated database with :data:`metadata` so the two cannot drift. Times are UTC, always
timezone-aware in Python (SQLite stores them naive, PostgreSQL as ``timestamptz``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeDecorator

from p2c.store.model import COUNTERS

__all__ = [
    "COUNTER_COLUMNS",
    "Id",
    "UTCDateTime",
    "cursors",
    "customer_documents",
    "customers_touched",
    "links",
    "metadata",
    "project_locks",
    "project_state",
    "record_outcomes",
    "runs",
    "schedules",
    "sequences",
    "task_runs",
    "work_items",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: Auto-increment key: BIGINT on PostgreSQL, the rowid alias ``INTEGER PRIMARY KEY`` on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC ``datetime`` on every backend; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """On SQLite, the text SQLAlchemy's DATETIME stores (``2026-12-03 15:02:37.000000``),
        written at once: a batch of outcomes binds one time per row, and the generic chain
        (this class, then a ``%``-format per row) cost a quarter of a commit. The last time
        bound is remembered: the rows of a commit share one."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        last: tuple[datetime | None, str | None] = (None, None)

        def process(value: datetime | None) -> str | None:
            nonlocal last
            if value is None:
                return None
            seen = last  # one read: another thread may replace it meanwhile
            if value is seen[0]:
                return seen[1]
            stored = self.process_bind_param(value, dialect)  # refuses a naive time; UTC, naive
            text = stored.isoformat(" ", "microseconds") if stored is not None else None
            last = (value, text)
            return text

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


runs = Table(
    "runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("project", Text, nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("tasks", Text, nullable=False),  # JSON list of task names asked for
    Column("full", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("message", Text),
    Column("host", Text),  # host and pid of the process: tells a live run from a crashed one
    Column("pid", Integer),
    Column("requests", Text),  # JSON: per service, requests, retries, throttled and status codes (0006)
    Index(None, "project", "id"),
    Index(None, "status", "project"),
)

#: The counter columns of ``task_runs``: one per name in :data:`p2c.store.COUNTERS`.
COUNTER_COLUMNS = COUNTERS

task_runs = Table(
    "task_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", Id, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("task", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("heartbeat_at", UTCDateTime, nullable=False),  # last commit: liveness across hosts
    Column("message", Text),
    Column("part", Text),  # "2/4": a part of a split load (p2c.engine.share); NULL otherwise
    *(Column(name, BigInteger, nullable=False, server_default=text("0")) for name in COUNTER_COLUMNS),
    Index(None, "run_id", "id"),
)

record_outcomes = Table(
    "record_outcomes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", Id, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("task_run_id", Id, ForeignKey("task_runs.id", ondelete="CASCADE"), nullable=False),
    Column("task", Text, nullable=False),
    Column("source_key", Text, nullable=False),
    Column("action", String(16), nullable=False),
    Column("target_key", Text),
    Column("error_class", Text),
    Column("field", Text),
    Column("message", Text),
    Column("transient", Boolean, nullable=False),
    Column("source_row", Text),  # JSON, capped (see jsontext)
    Column("target_payload", Text),  # JSON, capped
    Column("at", UTCDateTime, nullable=False),
    # NULL: the outcome of the source record itself. Otherwise the name of a side write made for
    # the record (a number written back, a Freight Tax line...): stored, never counted or pending.
    Column("operation", String(40)),
    Column("reason", String(32)),  # why a record was skipped (p2c.flows.SkipReason), else NULL
    Column("problem", Text),  # a failure's or wait's reason without the record's name (grouping)
    Index(None, "task", "source_key", "id"),  # latest outcome of a record
    Index(None, "task", "action", "id"),  # pending(): failed / waiting records of a task
    Index(None, "run_id", "action", "id"),  # history of a run, its errors
    Index(None, "task_run_id"),
)

links = Table(
    "links",
    metadata,
    Column("task", Text, primary_key=True),
    Column("source_key", Text, primary_key=True),
    Column("target_key", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("source_hash", Text),
    Column("target_etag", Text),
    Column("synced_at", UTCDateTime, nullable=False),
    Index(None, "task", "target_key"),  # not unique: duplicates are the engine's to report
)

cursors = Table(
    "cursors",
    metadata,
    Column("task", Text, primary_key=True),
    Column("value", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: The highest number used by each number sequence (generated account/contact numbers, by prefix).
#: Only ever raised, in the transaction of the batch that used the numbers.
sequences = Table(
    "sequences",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("project", Text, nullable=False),
    Column("tasks", Text),  # JSON list; NULL = every task of the project
    Column("cron", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("next_run_at", UTCDateTime),
    Column("last_run_id", Id, ForeignKey("runs.id", ondelete="SET NULL")),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "enabled", "next_run_at"),
    Index(None, "project"),
    Index("ix_schedules_project_unique", "project", unique=True),  # one schedule per project (0006)
)

#: Whether a project is paused (by a person or by the service's auto-pause), why and since when.
project_state = Table(
    "project_state",
    metadata,
    Column("project", Text, primary_key=True),
    Column("paused", Boolean, nullable=False, server_default=text("false")),
    Column("reason", Text),
    Column("paused_by", Text),
    Column("paused_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: Who is synchronising a project now (one row per project being run; see :mod:`p2c.store.locks`):
#: the holder's run, host and pid, and its last sign of life. No foreign key on ``run_id``: a
#: scheduler or worker may hold a project before its run is recorded, and history pruning must
#: not touch a live lock.
project_locks = Table(
    "project_locks",
    metadata,
    Column("project", Text, primary_key=True),
    Column("run_id", Id),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)

#: Work items of queued runs (``p2c run --queue``, ``p2c worker``; see :mod:`p2c.store.work_items`):
#: one task (of one part: ``""`` = all of it) of a run, the wave it is enqueued in, its status and
#: its lease — who runs it (``holder``: host, pid, thread) until when (``lease_until``) and how
#: many times it was taken (``attempts``). A delivery of the item finding a live lease does nothing.
work_items = Table(
    "work_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", Id, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("project", Text, nullable=False),
    Column("task", Text, nullable=False),
    Column("part", Text, nullable=False, server_default=text("''")),
    Column("wave", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("holder", Text),
    Column("lease_until", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("task_run_id", Id),
    Column("message", Text),
    Column("requests", Text),  # JSON: what the item asked of each service (as runs.requests)
    Column("queued_at", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Index(None, "run_id", "task", "part", unique=True),
    Index(None, "status", "lease_until"),
)

#: The customer of each CRM quote, order and invoice, kept from their change feeds (cursors
#: ``#customers:<entity>``): which contacts are customers ("is active customer") without reading
#: every document on every run (0008; :mod:`p2c.store.customers`).
customer_documents = Table(
    "customer_documents",
    metadata,
    Column("entity", Text, primary_key=True),
    Column("document_id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Index(None, "customer_id"),
)

#: Contacts whose "is active customer" may have changed (a document of theirs came, went or changed
#: customer), until every contact task has completed a run after the change.
customers_touched = Table(
    "customers_touched",
    metadata,
    Column("customer_id", Text, primary_key=True),
    Column("touched_at", UTCDateTime, nullable=False),
)
