"""The state store of p2c: run history, record outcomes, links, cursors, number sequences, schedules.

SQLAlchemy Core over one SQLite file (the default, next to the project) or PostgreSQL (by URL),
with the schema migrated to head by alembic when a store is opened. See :mod:`p2c.store.store`
for the tables and the crash-safety contract of :meth:`StateStore.commit_batch`.

Record outcomes include the engine's side writes for a record (``Outcome.operation`` set: a
number written back to the CRM, a Freight Tax line...): kept in the history, not counted, never
pending. Number sequences (the highest generated account/contact number per prefix) have their
own table, raised only, in the same transaction as the batch that used the numbers. A project
lock (:mod:`p2c.store.locks`) lets one run at a time synchronise a project, across hosts.

Example::

    >>> with StateStore("sqlite://") as store:
    ...     run = store.start_run("demo", ["accounts"])
    ...     store.finish_run(run, RunStatus.SUCCEEDED)
    ...     store.run(run).status
    <RunStatus.SUCCEEDED: 'succeeded'>
"""

from p2c.store.customers import CURSOR_PREFIX
from p2c.store.failures import OpenFailure, TaskStatus
from p2c.store.locks import LOCK_LEASE, LockInfo, ProjectLockedError
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
    task_label,
)
from p2c.store.records import MessageGroup, RecordPage
from p2c.store.service_state import ProjectPausedError, ProjectState, ScheduleState
from p2c.store.store import StateStore, now
from p2c.store.work_items import ItemStatus, WorkItem, holder_id

__all__ = [
    "COUNTERS",
    "CURSOR_PREFIX",
    "LOCK_LEASE",
    "Action",
    "Counts",
    "ItemStatus",
    "Link",
    "LockInfo",
    "MessageGroup",
    "OpenFailure",
    "Outcome",
    "OutcomeRecord",
    "ProjectLockedError",
    "ProjectPausedError",
    "ProjectState",
    "RecordPage",
    "RunInfo",
    "RunStatus",
    "ScheduleState",
    "StateStore",
    "TaskRunInfo",
    "TaskStatus",
    "Trigger",
    "WorkItem",
    "holder_id",
    "now",
    "task_label",
]
