"""The store's vocabulary: run and record statuses, what the engine hands in, what history gives back.

Everything here is a frozen value; the store turns database rows into these and nothing else
leaves it. ``Outcome`` and ``Link`` are what the engine writes (through
:meth:`~p2c.store.StateStore.commit_batch`); ``OutcomeRecord``, ``RunInfo``, ``TaskRunInfo`` and
``Counts`` are what the history (CLI, web console, ``p2c retry``) reads.

Example::

    >>> o = Outcome("accounts", "A-1", Action.FAILED, error_class="RecordError", field="CustomerGroupId")
    >>> o.action, o.action == "failed"
    (<Action.FAILED: 'failed'>, True)
    >>> Counts(read=8, created=2, unchanged=5) + Counts(read=2, created=1, failed=1)
    Counts(read=10, created=3, updated=0, deleted=0, unchanged=5, filtered=0, skipped=0, waiting=0, failed=1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "COUNTERS",
    "Action",
    "Counts",
    "Link",
    "Outcome",
    "OutcomeRecord",
    "RunInfo",
    "RunStatus",
    "TaskRunInfo",
    "Trigger",
    "task_label",
]


class RunStatus(StrEnum):
    """Status of a run or of one task within it."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, but some records failed
    FAILED = "failed"  # could not run (or gave up) as a whole
    CRASHED = "crashed"  # found RUNNING after its process died
    INTERRUPTED = "interrupted"  # stopped on request (the service shutting down) after a chunk: resumable
    SKIPPED = "skipped"  # a scheduled run not started: the project was being synchronised


class Trigger(StrEnum):
    """What started a run."""

    CLI = "cli"  # p2c run
    RETRY = "retry"  # p2c retry RUN
    DEMO = "demo"  # p2c demo
    SCHEDULE = "schedule"  # the service, on the project's schedule
    API = "api"  # the service, asked through its API or console
    ADOPT = "adopt"  # p2c adopt --apply: the differences found when adopting existing data


class Action(StrEnum):
    """What happened to one source record in one task run."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    UNCHANGED = "unchanged"  # equal to what was last written: nothing to send
    FILTERED = "filtered"  # left out by the task's filter
    SKIPPED = "skipped"  # not written for a reason the outcome's ``reason`` and message give
    FAILED = "failed"
    WAITING = "waiting"  # a parent is not synchronised yet; retried later, never dropped
    DISMISSED = "dismissed"  # a person gave up on a failed record (p2c dismiss): no longer re-read


#: The counters of a task run, in display order. ``read`` counts the source records a run looked
#: at (rows read, and deletions found); the others count the records' own outcomes by
#: :class:`Action`, and add up: read = created + updated + deleted + unchanged + filtered +
#: skipped + waiting + failed (:attr:`Counts.accounted`).
COUNTERS: tuple[str, ...] = (
    "read",
    "created",
    "updated",
    "deleted",
    "unchanged",
    "filtered",
    "skipped",
    "waiting",
    "failed",
)


@dataclass(frozen=True)
class Outcome:
    """What happened to one source record. ``source_row`` and ``target_payload`` must be redacted
    by the caller; the store keeps them as JSON (Decimal as a string, datetimes ISO 8601), capped
    in size. An ``UNCHANGED`` outcome without a ``message`` is only counted, not stored as a row.
    ``reason`` is the machine-readable why of a ``SKIPPED`` (a :class:`p2c.flows.SkipReason`
    value), ``message`` the same for people. ``problem`` is what went wrong with a FAILED or
    WAITING record without the record's name (records with the same problem group under it).

    ``operation`` is ``None`` for the outcome of the source record itself. Otherwise it names a
    side write the engine made for that record (a generated number or a derived flag written back
    to the CRM, a Freight Tax line, an order marked Invoiced...): always stored as a row, never
    counted in the task run's counters (they count source records), and never pending (the
    record's own outcome says whether the record failed).
    """

    task: str
    source_key: str
    action: Action
    target_key: str | None = None
    error_class: str | None = None
    field: str | None = None
    message: str | None = None
    source_row: Mapping[str, Any] | None = None
    target_payload: Mapping[str, Any] | None = None
    transient: bool = False
    operation: str | None = None
    reason: str | None = None
    problem: str | None = None

    @classmethod
    def unchanged(cls, task: str, source_key: str) -> Outcome:
        """``Outcome(task, source_key, Action.UNCHANGED)``, equal to it in every way, built at a
        third of the cost: a run with no change makes one per row it reads, and the frozen
        ``__init__`` guards each of the 13 fields it sets. Only the three given are set; the
        others are read from the class, where the dataclass keeps their defaults."""
        outcome = object.__new__(cls)
        object.__setattr__(
            outcome, "__dict__", {"task": task, "source_key": source_key, "action": Action.UNCHANGED}
        )
        return outcome

    @classmethod
    def written(
        cls,
        task: str,
        source_key: str,
        action: Action,
        target_key: str,
        target_payload: Mapping[str, Any] | None,
    ) -> Outcome:
        """The outcome of a record written (created or updated), built as :meth:`unchanged` is:
        a run makes one per record it writes."""
        outcome = object.__new__(cls)
        fields: dict[str, Any] = {"task": task, "source_key": source_key, "action": action}
        fields.update(target_key=target_key, target_payload=target_payload)
        object.__setattr__(outcome, "__dict__", fields)
        return outcome


@dataclass(frozen=True, kw_only=True)
class OutcomeRecord(Outcome):
    """An :class:`Outcome` as stored: with its id, run, task run and time of recording.
    ``source_row`` and ``target_payload`` are the decoded JSON (Decimals come back as strings; a
    payload over the cap comes back as ``{"_truncated": true, "_bytes": N, "_head": "..."}``).
    """

    id: int
    run_id: int
    task_run_id: int
    at: datetime


@dataclass(frozen=True)
class Link:
    """Identity of one synchronised record: source key ↔ target key, and what was last written.

    ``hash`` is the hash of the payload last written to the target (skip when unchanged, and
    recognise our own writes in two-way flows); ``source_hash`` the hash of the source row last
    read (for sources without change tracking); ``target_etag`` the target's ETag after the write.
    """

    task: str
    source_key: str
    target_key: str
    hash: str
    synced_at: datetime
    source_hash: str | None = None
    target_etag: str | None = None


@dataclass(frozen=True)
class Counts:
    """Counters of a task run (or the sum over a run)."""

    read: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    filtered: int = 0
    skipped: int = 0
    waiting: int = 0
    failed: int = 0

    @property
    def written(self) -> int:
        return self.created + self.updated + self.deleted

    @property
    def accounted(self) -> int:
        """The records given a fate; equal to ``read`` when every record read was accounted for."""
        return sum(getattr(self, n) for n in COUNTERS[1:])

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, n) + getattr(other, n) for n in COUNTERS))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _seconds(started: datetime, finished: datetime | None) -> float | None:
    return None if finished is None else (finished - started).total_seconds()


@dataclass(frozen=True)
class TaskRunInfo:
    """One task within a run, with its counters."""

    id: int
    run_id: int
    task: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    counts: Counts
    message: str | None = None
    heartbeat_at: datetime | None = None
    #: ``"2/4"``: part 2 of a split load of 4 (``settings.parts``); ``None``: the whole task (or
    #: a split task's closing pass)
    part: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish; ``None`` while running."""
        return _seconds(self.started_at, self.finished_at)

    @property
    def label(self) -> str:
        return task_label(self.task, self.part)


def task_label(task: str, part: str | None) -> str:
    """A task run as people read it: ``Accounts``, or ``Accounts (part 2/4)`` for a part of a
    split load."""
    return f"{task} (part {part})" if part else task


@dataclass(frozen=True)
class RunInfo:
    """One run of a project: what was asked, how it ended, and its task runs (in start order)."""

    id: int
    project: str
    tasks: tuple[str, ...]
    trigger: Trigger
    full: bool
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    message: str | None = None
    host: str | None = None
    pid: int | None = None
    task_runs: tuple[TaskRunInfo, ...] = ()
    #: what the run asked of each service: ``{"crm": {"requests": 12, "status": {"200": 12}, ...}}``
    requests: Mapping[str, Any] | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish; ``None`` while running."""
        return _seconds(self.started_at, self.finished_at)

    @property
    def counts(self) -> Counts:
        """The counters summed over the run's task runs."""
        total = Counts()
        for tr in self.task_runs:
            total = total + tr.counts
        return total
