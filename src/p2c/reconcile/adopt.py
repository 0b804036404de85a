"""``p2c adopt``: take over records another integration already synchronised, without a duplicate.

Companies leaving Microsoft's Prospect-to-cash templates have both systems full of records that
belong together, and a p2c store that knows none of the pairs. ``adopt`` finds the pairs by their
natural keys — the task's target key: account number ↔ customer account, contact number, product
number, order number and line sequence, invoice number — exactly as ``p2c reconcile`` matches them
(it reads and maps the source as a run does, and reads the whole target), then:

- a pair whose target holds what a run would write is **linked** (the link's hash is what a run
  would compute, so the next run finds it unchanged and writes nothing);
- a pair that differs, and a source record whose target is missing, are left to a run, which
  updates (or creates) exactly those — upserts by natural key, so nothing is created twice;
- a target row with no source (``only in target``) and a source row that cannot be mapped are
  reported and left alone.

Dry by default: it says what it would link and what a run would then write. ``--apply`` links,
under the project's lock, and runs the tasks once (trigger ``adopt``) to write the differences.
Records already linked are kept as they are: adopting twice changes nothing.

Example::

    report = adopt(project, connectors, store, apply=False)
    [(t.task, t.linked, t.differs, t.missing) for t in report.tasks]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from p2c.connectors import Connector, Redactor
from p2c.engine import RunContext
from p2c.engine.binder import Binder
from p2c.engine.planning import record_digest
from p2c.errors import AuthError, P2CError
from p2c.project import Project
from p2c.reconcile.report import Drift, TaskDrift
from p2c.reconcile.run import TaskReconciler, select_tasks
from p2c.settings import System
from p2c.store import Link, StateStore

__all__ = ["AdoptReport", "TaskAdoption", "adopt"]


@dataclass
class TaskAdoption:
    """What adoption found for one task: pairs linked (or to link), already linked, and what a run
    writes afterwards."""

    task: str
    linked: int = 0  # in sync: linked now (dry run: would be)
    already: int = 0  # linked before: left as they are
    differs: int = 0  # paired, content differs: a run updates them
    missing: int = 0  # no target record: a run creates them
    only_in_target: int = 0  # target rows with no source: left alone
    unmappable: int = 0  # source rows a run would fail to map: left alone
    examples: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


@dataclass
class AdoptReport:
    tasks: list[TaskAdoption] = field(default_factory=list)
    applied: bool = False
    run_id: int | None = None  # the run that wrote the differences (--apply)

    @property
    def linked(self) -> int:
        return sum(t.linked for t in self.tasks)


def adopt(
    project: Project,
    connectors: Mapping[System, Connector],
    store: StateStore,
    tasks: Sequence[str] | None = None,
    *,
    apply: bool = False,
    examples: int = 5,
) -> AdoptReport:
    """Find (and with ``apply``, link) the pairs of ``tasks`` (default: every enabled task)."""
    report = AdoptReport(applied=apply)
    selected = select_tasks(project, tasks)
    lease = timedelta(seconds=project.settings.lock_lease_seconds)
    with _held(store, project.name, lease) if apply else contextlib.nullcontext():
        ctx = RunContext.open(project, store, connectors, Redactor())
        for task in selected:
            found = TaskAdoption(task.name)
            report.tasks.append(found)
            drift = TaskDrift(task.name, str(task.source.system), str(task.target.system), limit=examples)
            try:
                reconciler = TaskReconciler(ctx, task, drift)
                reconciler.run()
            except AuthError:
                raise
            except P2CError as exc:
                found.error = str(exc)
                continue
            binder = Binder(task, reconciler.spec, store)
            existing = store.links(task.name, [p.source_key for p in reconciler.pairs])
            links: list[Link] = []
            for pair in reconciler.pairs:
                if pair.source_key in existing:
                    found.already += 1
                elif pair.in_sync:
                    found.linked += 1
                    digest = record_digest(reconciler.pipeline, pair.payload, pair.row)
                    links.append(binder.link(pair.source_key, pair.payload, digest))
            found.differs = drift.counts[Drift.DIFFERS]
            found.missing = drift.counts[Drift.MISSING_IN_TARGET]
            found.only_in_target = drift.counts[Drift.ONLY_IN_TARGET]
            found.unmappable = drift.counts[Drift.UNMAPPABLE]
            found.examples = {
                str(kind): [r.describe() for r in records]
                for kind, records in drift.examples.items()
                if records and kind is not Drift.IN_SYNC
            }
            if apply and links:
                store.save_links(links)
    return report


@contextlib.contextmanager
def _held(store: StateStore, project: str, lease: timedelta) -> Iterator[None]:
    """The project's lock while links are written: no run may be halfway through meanwhile."""
    store.acquire_lock(project, None, lease)
    try:
        yield
    finally:
        store.release_lock(project, None)
