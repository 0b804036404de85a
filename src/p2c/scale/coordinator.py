"""A queued run: recorded and locked here, its tasks run by ``p2c worker`` processes.

:class:`QueuedRun` does what :meth:`Engine.run <p2c.engine.Engine.run>` does around the tasks —
checks (paused, reachable), records the run and takes the project lock in one transaction, keeps
the lock while the run lasts, finishes the run with its status — but instead of running the tasks
it records them as work items and sends each to the broker once the tasks it waits for have ended
(:func:`~p2c.project.run_after`: its ``depends_on`` among the tasks run, and the tasks reading its
source before it); items whose dependencies have ended run at the same time on different
workers. An item's ``wave`` (its depth in the dependencies) orders the history only.

With ``settings.parts`` > 1, a task read whole and written anew (its initial load, or a ``--full``
run) becomes that many items writing a share of its records each (part ``"2/4"``,
:mod:`p2c.engine.share`), sent at once, and its item as a whole (part ``""``), sent once every
part ended: the closing pass, which finds what the parts wrote unchanged, reads again what
failed or waits, tells deletions and moves the cursor. The tasks waiting for the task wait for
the closing pass.

While the run lasts, the coordinator watches its items every ``poll`` seconds: an item running
under a lease that lapsed (its worker died and the broker did not deliver it again yet) is sent
again, and the first delivery takes it over. A stop request (the service shutting down) ends the
run INTERRUPTED at once: workers see it when they renew their lease and stop after their chunk.
A task that found a service unreachable stops the run as locally: tasks not sent yet are not run.

The report gathers the items' task runs (the same ``runs``/``task_runs`` rows a local run
writes, so ``p2c history RUN`` shows it the same way) and what each item asked of the services.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from celery import Celery

from p2c.engine import Engine, RunReport, TaskReport
from p2c.engine.share import Share
from p2c.project import Task, run_after
from p2c.scale.queue import send_item
from p2c.scale.worker import require_postgres
from p2c.store import ItemStatus, ProjectPausedError, RunStatus, Trigger, WorkItem

__all__ = ["QueuedRun", "waves"]

log = logging.getLogger("p2c.scale")

_ORDER = (RunStatus.INTERRUPTED, RunStatus.FAILED, RunStatus.PARTIAL)


def waves(after: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Each task's wave, from what it waits for (:func:`~p2c.project.run_after`, in project
    order): 0 when nothing, else one more than the latest it waits for."""
    wave: dict[str, int] = {}
    for task, before in after.items():
        wave[task] = 1 + max((wave[d] for d in before), default=-1)
    return wave


def _status(statuses: Iterable[RunStatus]) -> RunStatus:
    found = set(statuses)
    return next((s for s in _ORDER if s in found), RunStatus.SUCCEEDED)


def _sum_http(items: Sequence[WorkItem]) -> dict[str, dict[str, Any]]:
    total: dict[str, dict[str, Any]] = {}
    for item in items:
        for service, d in ((item.requests or {}).get("http") or {}).items():
            into = total.setdefault(service, {"requests": 0, "retries": 0, "throttled": 0, "status": {}})
            for name, value in d.items():
                if name == "status":
                    for code, n in value.items():
                        into["status"][code] = into["status"].get(code, 0) + n
                else:
                    into[name] = into.get(name, 0) + value
    return total


class QueuedRun:
    """Runs of a project sent to workers; built on an :class:`Engine` for its checks and store."""

    def __init__(
        self,
        engine: Engine,
        app: Celery,
        *,
        poll: float = 0.5,
        progress: Callable[[TaskReport], None] | None = None,
        stop: threading.Event | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.project = engine.project
        self.app = app
        self.poll = poll
        self.progress = progress
        self.stop = stop or threading.Event()
        self.on_start = on_start
        self._sent: dict[int, float] = {}
        self._live: dict[int, TaskReport] = {}
        self._parted: set[str] = set()  # the tasks this run splits into parts

    def run(
        self,
        tasks: Sequence[str] | None = None,
        *,
        full: bool = False,
        trigger: Trigger = Trigger.CLI,
        retry_run: int | None = None,
        keys: Mapping[str, Iterable[str]] | None = None,
    ) -> RunReport:
        require_postgres(self.project.state_url)
        selected = self.engine.select(tasks)
        state = self.store.project_state(self.project.name)
        if state.paused:
            raise ProjectPausedError(state)
        self.engine.check_reachable(selected)
        only = self.engine.retry_keys(retry_run, keys)
        if retry_run is not None:
            selected = [t for t in selected if t.name in only]
        started = time.perf_counter()
        name, lease = self.project.name, timedelta(seconds=self.project.settings.lock_lease_seconds)
        run_id = self.store.start_run(name, [t.name for t in selected], trigger, full, lease=lease)
        if self.on_start is not None:
            self.on_start(run_id)
        finished = False
        try:
            self.store.mark_crashed_runs(name)
            after = run_after(selected)
            wave_of = waves(after)
            self._parted = self._split(selected, full, retry_run is not None)
            items = []
            for t in selected:
                if t.name in self._parted:
                    items += [
                        (t.name, str(s), wave_of[t.name]) for s in Share.all_of(self.project.settings.parts)
                    ]
                items.append((t.name, "", wave_of[t.name]))
            self.store.add_items(run_id, name, items)
            with self.store.keep_lock(name, run_id, lease.total_seconds() / 3):
                stopped, finished = self._drive(run_id, after, full, only)
            report = self._report(run_id, started, stopped)
            if not finished:
                failed = [t.task for t in report.tasks if t.status is RunStatus.FAILED]
                message = f"failed tasks: {', '.join(failed)}" if failed else None
                text = f"{stopped}; {message}" if stopped else message
                self.store.finish_run(run_id, report.status, text, requests=report.http)
        finally:
            self.store.release_lock(name, run_id)
        report.open_failures = self.store.open_failures([t.name for t in self.project.tasks])
        return report

    def _split(self, selected: Sequence[Task], full: bool, retry: bool) -> set[str]:
        """The tasks whose load this run splits into parts (``settings.parts`` > 1): those read
        whole and written anew — their initial load (no record linked yet) or a ``--full`` run;
        never a retry."""
        if self.project.settings.parts < 2 or retry:
            return set()
        return {t.name for t in selected if full or not self.store.has_links(t.name)}

    def _send(self, item: WorkItem, full: bool, only: Mapping[str, set[str]]) -> None:
        self._sent[item.id] = time.monotonic()
        keys = only.get(item.task) if only else None
        # the closing pass of a split --full load is not full again: its parts rewrote every record
        full = full and (bool(item.part) or item.task not in self._parted)
        send_item(
            self.app, item.id, self.project.name, str(self.project.path.resolve()), full=full, keys=keys
        )

    def _drive(
        self, run_id: int, deps: Mapping[str, Sequence[str]], full: bool, only: Mapping[str, set[str]]
    ) -> tuple[str | None, bool]:
        """Send each item once its dependencies ended, until every item ended: (why the run
        stopped, if an item says; whether a stop request already finished the run)."""
        interrupted, stopped = False, None
        while True:
            items = self.store.items(run_id)
            self._report_progress(run_id)
            # a task has ended when its item as a whole (part "") has; that one waits for its parts
            ended = {i.task for i in items if not i.open and not i.part}
            parts_open = {i.task for i in items if i.part and i.open}
            reasons = [str(i.requests["stopped"]) for i in items if i.requests and i.requests.get("stopped")]
            stopped = stopped or (reasons[0] if reasons else None)
            ready: list[int] = []
            if self.stop.is_set() and not interrupted:  # workers stop after their chunk
                self.store.finish_run(run_id, RunStatus.INTERRUPTED, "stopped on request")
                interrupted = True
                self._not_run(run_id, "stopped on request", statuses=(ItemStatus.WAITING, ItemStatus.QUEUED))
            elif stopped is not None:  # a service went away: the tasks not sent yet are not run
                self._not_run(run_id, stopped)
            elif not interrupted:
                ready = [
                    i.id
                    for i in items
                    if i.status == ItemStatus.WAITING
                    and set(deps[i.task]) <= ended
                    and (i.part or i.task not in parts_open)
                ]
                # the first part of every task, then the second...: workers take a mix of the tasks
                # ready together (not every part of one, then every part of the next)
                queued = self.store.queue_items(run_id, ready)
                for item in sorted(queued, key=lambda i: (Share.parse(i.part).number if i.part else 0, i.id)):
                    self._send(item, full, only)
            if not ready and not any(i.open for i in items):
                return stopped, interrupted
            for item in self.store.lapsed_items(run_id):
                if interrupted:  # no delivery may take it now: it ends with the run
                    self.store.finish_item(item.id, None, RunStatus.INTERRUPTED, message="its worker died")
                elif time.monotonic() - self._sent.get(item.id, 0.0) > 5.0:
                    log.warning(
                        "item %s (%s): its worker %s went silent; sent again", item.id, item.task, item.holder
                    )
                    self._send(item, full, only)
            time.sleep(self.poll)

    def _not_run(self, run_id: int, why: str, statuses: Sequence[str] = (ItemStatus.WAITING,)) -> None:
        """Items that will not run (the run stopped): a task run saying why, as a local run records."""
        status = RunStatus.INTERRUPTED if self.stop.is_set() else RunStatus.FAILED
        for item in self.store.items(run_id):
            if item.status in statuses:
                message = f"not run: {why}"
                if self.store.finish_item(item.id, None, status, message=message):
                    task_run_id = self.store.start_task(run_id, item.task, part=item.part or None)
                    self.store.finish_task(task_run_id, status, message=message)

    def _task_reports(self, run_id: int) -> list[TaskReport]:
        """One report per task run of the run (the same object each time: progress bars follow
        it), but not the attempts whose worker died: the item's later attempt reports the task."""
        reports = []
        for tr in self.store.task_runs(run_id):
            if tr.status is RunStatus.CRASHED:
                continue
            report = self._live.setdefault(tr.id, TaskReport(tr.task, part=tr.part))
            report.status, report.message = tr.status, tr.message
            for name, value in tr.counts.as_dict().items():
                setattr(report, name, value)
            reports.append(report)
        return reports

    def _report_progress(self, run_id: int) -> None:
        if self.progress is not None:
            for report in self._task_reports(run_id):
                self.progress(report)

    def _report(self, run_id: int, started: float, stopped: str | None) -> RunReport:
        items = self.store.items(run_id)
        tasks = self._task_reports(run_id)
        report = RunReport(run_id, _status(t.status for t in tasks), tasks=tasks, stopped=stopped)
        report.seconds = time.perf_counter() - started
        report.http = _sum_http(items)
        report.requests = {s: d["requests"] for s, d in report.http.items()}
        return report
