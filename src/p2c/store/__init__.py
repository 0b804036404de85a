"""The state store of p2c: run history, record outcomes, links, cursors and schedules.

SQLAlchemy Core over one SQLite file (the default, next to the project) or PostgreSQL (by URL),
with the schema migrated to head by alembic when a store is opened. See :mod:`p2c.store.store`
for the tables and the crash-safety contract of :meth:`StateStore.commit_batch`.

Example::

    >>> with StateStore("sqlite://") as store:
    ...     run = store.start_run("demo", ["accounts"])
    ...     store.finish_run(run, RunStatus.SUCCEEDED)
    ...     store.run(run).status
    <RunStatus.SUCCEEDED: 'succeeded'>
"""

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
)
from p2c.store.store import StateStore, now

__all__ = [
    "COUNTERS",
    "Action",
    "Counts",
    "Link",
    "Outcome",
    "OutcomeRecord",
    "RunInfo",
    "RunStatus",
    "StateStore",
    "TaskRunInfo",
    "now",
]
