"""One task of a run that is already recorded: what a ``p2c worker`` does with a work item.

:meth:`Engine.run <p2c.engine.Engine.run>` records the run, takes the project lock, runs every task
and finishes the run. A queued run splits that: the process that queued it records the run and
holds the project lock (:mod:`p2c.scale.coordinator`); each worker runs one task inside that run
through :func:`run_item` — a task run recorded, the pipeline, the task run finished, exactly as the
engine does it for each task (the same code: ``Engine._tasks`` with one task), without taking the
lock and without finishing the run.

Example::

    report = run_item(engine, run_id=42, task="Accounts")
    report.tasks[0].status, report.http      # the task's report, what it asked of each service
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from p2c.engine.run import Engine, RunReport
from p2c.engine.share import Share
from p2c.engine.writes import Sender
from p2c.store import RunStatus

__all__ = ["run_item"]


def run_item(
    engine: Engine,
    run_id: int,
    task: str,
    *,
    full: bool = False,
    keys: Iterable[str] | None = None,
    share: Share | None = None,
    on_task_start: Callable[[int], None] | None = None,
) -> RunReport:
    """Run ``task`` inside run ``run_id`` (recorded and locked by another process): its task run is
    recorded in the run, its outcomes, links and cursor committed chunk by chunk as in a local run.
    ``keys``: only these source keys (a retry); ``share``: only this part of a split load
    (:mod:`p2c.engine.share`); ``on_task_start``: told the task run's id once it is recorded (the
    worker notes it on the item, so a takeover ends that attempt's task run and no other part's).
    The run itself is not finished here."""
    selected = engine.select([task])
    report = RunReport(run_id, RunStatus.SUCCEEDED)
    only = {task: set(keys)} if keys is not None else {}
    sender = Sender(engine.connectors, engine.store)
    engine._tasks(report, selected, sender, full=full, only=only, share=share, on_task_start=on_task_start)
    return report
