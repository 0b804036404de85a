"""A run of a project: its tasks in dependency order, each through the pipeline, recorded in the store.

``run`` sends every write and records it; ``plan`` is the same pipeline with a write stage that
records instead of sending (:mod:`p2c.engine.writes`), so it lists every write a run would make,
side writes included, and writes nothing — not even to the store.

Example::

    engine = Engine(project, store, {System.CRM: crm, System.ERP: erp}, redactor=redactor)
    report = engine.run()                 # or run(["Accounts"]), run(full=True), plan()
    report.status                         # succeeded | partial | failed
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from typing import Any

from p2c.connectors import Connector, Redactor
from p2c.engine.context import RunContext
from p2c.engine.pipeline import TaskPipeline
from p2c.engine.report import TaskReport
from p2c.engine.share import Share
from p2c.engine.trial import LineTrial
from p2c.engine.writes import Recorder, Sender, WriteStage
from p2c.errors import ConfigError, P2CError, RunInterrupted, ServiceUnreachableError
from p2c.logs import log_context
from p2c.project import Project, Task, run_after
from p2c.settings import System
from p2c.store import (
    Action,
    OpenFailure,
    ProjectLockedError,
    ProjectPausedError,
    RunStatus,
    StateStore,
    Trigger,
)

__all__ = ["Engine", "RunReport"]

log = logging.getLogger("p2c.engine")


@dataclass
class RunReport:
    run_id: int | None
    status: RunStatus
    tasks: list[TaskReport] = field(default_factory=list)
    plan: bool = False
    seconds: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)
    #: records of the project still failing after the run (this run's failures included)
    open_failures: list[OpenFailure] = field(default_factory=list)
    #: why the run stopped before its last task (a service unreachable), or None
    stopped: str | None = None
    #: per service: requests, retries, throttled, connection errors and ``status`` codes answered
    http: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(t.failed for t in self.tasks)


def _delta(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, Any]:
    """What a connector's stats grew by: the counters, and the status codes answered."""
    grew = {k: v - before.get(k, 0) for k, v in after.items()}
    codes = {k[len("status_") :]: n for k, n in grew.items() if k.startswith("status_") and n}
    names = ("requests", "retries", "throttled", "connection_errors")
    return {**{n: grew.get(n, 0) for n in names}, "status": dict(sorted(codes.items()))}


class Engine:
    def __init__(
        self,
        project: Project,
        store: StateStore,
        connectors: Mapping[System, Connector],
        *,
        redactor: Redactor | None = None,
        progress: Callable[[TaskReport], None] | None = None,
        stop: threading.Event | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> None:
        """``progress`` is called with a task's report as it goes; ``stop``, once set, ends a run
        after the chunk it is writing (INTERRUPTED, resumable); ``on_start`` gets the run's id as
        soon as the run is recorded (the service answers a request with it)."""
        self.project = project
        self.store = store
        self.connectors = dict(connectors)
        self.redactor = redactor or Redactor()
        self.progress = progress
        self.stop = stop or threading.Event()
        self.on_start = on_start

    def select(self, names: Sequence[str] | None) -> list[Task]:
        if not names:
            return list(self.project.enabled_tasks())
        known = {t.name: t for t in self.project.tasks}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(
                f"unknown task {', '.join(unknown)} (tasks: {', '.join(known)})",
                entity=str(self.project.path),
                field="--task",
            )
        wanted = set(names)
        return [t for t in self.project.tasks if t.name in wanted]

    def _open(self, sender: Sender | None, *, shared: bool = False) -> tuple[RunContext, WriteStage]:
        """The context of a run and its write stage: ``sender``'s, or a plan's recorder."""
        ctx = RunContext.open(self.project, self.store, self.connectors, self.redactor, shared=shared)
        ctx.trial = LineTrial(ctx)
        ctx.stop = self.stop
        stage: WriteStage = (
            replace(sender, resolver=ctx.resolver) if sender is not None else Recorder(ctx.resolver)
        )
        return ctx, stage

    def _begin(
        self,
        setup: tuple[RunContext, WriteStage],
        selected: Sequence[Task],
        *,
        full: bool,
    ) -> dict[str, TaskPipeline]:
        """The pipelines of the tasks a run starts at once (none of the run's tasks before them,
        up to :meth:`_width`), each with its first page asked for (:meth:`TaskPipeline.begin`)."""
        ctx, stage = setup
        after = run_after(selected)
        first = [t for t in selected if not after[t.name]][: self._width(stage)]
        begun: dict[str, TaskPipeline] = {}
        for task in first:
            try:
                pipeline = TaskPipeline(ctx, task, stage, progress=self.progress)
                pipeline.begin(full=full)
            except Exception as exc:  # the task meets it again as it starts, and fails there as before
                log.debug("task %s: nothing asked for ahead (%s)", task.name, exc)
                continue
            begun[task.name] = pipeline
        return begun

    def _width(self, stage: WriteStage) -> int:
        """Tasks run at once: a plan lists its writes in task order, one task at a time."""
        return self.project.settings.parallel_tasks if isinstance(stage, Sender) else 1

    def _counts(self) -> dict[System, dict[str, int]]:
        """Each connector's request counts now (a run's figures are what they grow by)."""
        return {s: dict(c.stats) for s, c in self.connectors.items()}

    def check_reachable(self, tasks: Sequence[Task]) -> None:
        """Refuse quickly, before a run is recorded, when a service the tasks use cannot be reached
        at all or refuses the credentials (ServiceUnavailableError / AuthError)."""
        systems = sorted({t.source.system for t in tasks} | {t.target.system for t in tasks})
        if len(systems) < 2:
            for system in systems:
                self.connectors[system].reachable()
            return
        # both at once: a round trip each (a token first, when none is cached), not one after the other
        with ThreadPoolExecutor(max_workers=len(systems), thread_name_prefix="p2c-reach") as pool:
            for future in [
                pool.submit(contextvars.copy_context().run, self.connectors[s].reachable) for s in systems
            ]:
                future.result()

    def run(
        self,
        tasks: Sequence[str] | None = None,
        *,
        full: bool = False,
        trigger: Trigger = Trigger.CLI,
        retry_run: int | None = None,
        keys: Mapping[str, Iterable[str]] | None = None,
    ) -> RunReport:
        """Run ``tasks`` (default: every enabled task); ``retry_run``: only the records that failed
        or wait in that run, read fresh — of them only ``keys`` (task → source keys) when given.
        A paused project does not run (:class:`~p2c.store.ProjectPausedError`)."""
        selected = self.select(tasks)
        state = self.store.project_state(self.project.name)
        if state.paused:
            raise ProjectPausedError(state)
        store = self.store
        only = self.retry_keys(retry_run, keys)
        if retry_run is not None:
            selected = [t for t in selected if t.name in only]
        sender = Sender(self.connectors, store)
        setup = self._open(sender)
        before = self._counts()  # the run's requests from here
        # the first tasks' first pages are asked for while both services are checked: a read
        # changes nothing, so a run refused here drops them (a retry reads by key: nothing ahead)
        begun = self._begin(setup, selected, full=full) if retry_run is None else {}
        self.check_reachable(selected)
        name, lease = self.project.name, timedelta(seconds=self.project.settings.lock_lease_seconds)
        # The run is recorded and the project locked in one transaction: a run refused because
        # another holds the project (ProjectLockedError) leaves no trace. Only the holder marks
        # dead runs crashed, so a refused run cannot touch the live one's history either.
        run_id = store.start_run(name, [t.name for t in selected], trigger, full, lease=lease)
        if self.on_start is not None:
            self.on_start(run_id)
        try:
            store.mark_crashed_runs(name)
            report = RunReport(run_id, RunStatus.SUCCEEDED)
            with store.keep_lock(name, run_id, lease.total_seconds() / 3):
                self._tasks(
                    report, selected, sender, full=full, only=only, setup=setup, begun=begun, before=before
                )
            failed = [t.task for t in report.tasks if t.status is RunStatus.FAILED]
            message = f"failed tasks: {', '.join(failed)}" if failed else None
            store.finish_run(
                run_id,
                report.status,
                f"{report.stopped}; {message}" if report.stopped else message,
                requests=report.http,
            )
        finally:
            store.release_lock(name, run_id)
        report.open_failures = store.open_failures([t.name for t in self.project.tasks])
        return report

    def retry_keys(
        self, retry_run: int | None, keys: Mapping[str, Iterable[str]] | None
    ) -> dict[str, set[str]]:
        """Task → source keys a retry of ``retry_run`` runs: the records that failed or wait there
        (of them only ``keys`` when given); empty when this is no retry."""
        if retry_run is None:
            return {}
        if self.store.run(retry_run) is None:
            raise ConfigError(f"there is no run {retry_run}", field="RUN")
        failing: dict[str, set[str]] = {}
        for rec in self.store.outcomes(retry_run, actions=[Action.FAILED, Action.WAITING], operations=False):
            failing.setdefault(rec.task, set()).add(rec.source_key)
        if keys is not None:  # only the chosen ones, and only if they failed or wait there
            wanted = {k: set(v) for k, v in keys.items()}
            failing = {t: wanted[t] & ks for t, ks in failing.items() if wanted.get(t, set()) & ks}
        return failing

    def plan(self, tasks: Sequence[str] | None = None, *, full: bool = False) -> RunReport:
        """What ``run`` would do now: every write, side writes included; nothing is written."""
        selected = self.select(tasks)
        setup = self._open(None)
        before = self._counts()
        begun = self._begin(setup, selected, full=full)
        self.check_reachable(selected)
        report = RunReport(None, RunStatus.SUCCEEDED, plan=True)
        self._tasks(report, selected, None, full=full, only={}, setup=setup, begun=begun, before=before)
        return report

    def _tasks(
        self,
        report: RunReport,
        selected: Sequence[Task],
        sender: Sender | None,
        *,
        full: bool,
        only: Mapping[str, set[str]],
        share: Share | None = None,
        on_task_start: Callable[[int], None] | None = None,
        setup: tuple[RunContext, WriteStage] | None = None,
        begun: dict[str, TaskPipeline] | None = None,
        before: Mapping[System, Mapping[str, int]] | None = None,
    ) -> None:
        """Run ``selected`` (``share``: one part of a split load of the one task selected, see
        :mod:`p2c.engine.share`; other processes number from the same sequences meanwhile;
        ``on_task_start``: told each task run's id as it is recorded; ``setup``: the run's context
        and stage from :meth:`_open`, ``begun``: the tasks whose read :meth:`_begin` started,
        ``before``: the connectors' counts when they did, so the run's requests include those reads)."""
        started = time.perf_counter()
        ctx, stage = setup or self._open(sender, shared=share is not None)
        begun = begun if begun is not None else {}
        before = before or self._counts()
        crashed: BaseException | None = None
        results: dict[str, TaskReport] = {}
        # a plan lists its writes in task order; a run starts each task once the tasks it
        # depends on and those reading its source (among those run: run_after) ended, up to
        # ``parallel_tasks`` at once; what tasks share and none writes for them is read from the
        # start alongside (ctx.ahead: the documents' customers, which the contact tasks wait for)
        width = self._width(stage)
        after = run_after(selected)
        waiting = list(selected)
        ended: set[str] = set()
        running: dict[Future[tuple[TaskReport, BaseException | None]], Task] = {}
        with (
            ThreadPoolExecutor(max_workers=width, thread_name_prefix="p2c-task") as pool,
            ctx.ahead(selected),
        ):
            while waiting or running:
                asked = self.stop.is_set() and sender is not None
                if waiting and (report.stopped is not None or asked or crashed is not None):
                    # a service went away, a stop, or a crash: what has not started is not run
                    if crashed is None:
                        report.stopped = report.stopped or "stopped on request"
                        status = RunStatus.INTERRUPTED if asked else RunStatus.FAILED
                        for result in self._not_run(report, waiting, status):
                            results[result.task] = result
                    waiting = []
                for task in list(waiting):
                    if len(running) >= width:
                        break
                    if all(d in ended for d in after[task.name]):
                        waiting.remove(task)
                        # recorded here, not on the task's thread, so the history lists tasks
                        # started together in project order
                        run_id = report.run_id
                        part = str(share) if share is not None else None
                        task_run_id = (
                            self.store.start_task(run_id, task.name, part=part) if run_id is not None else 0
                        )
                        if on_task_start is not None and task_run_id:
                            on_task_start(task_run_id)
                        # the caller's log context (project, run) goes with the task to its thread
                        work = partial(
                            self._task,
                            ctx,
                            task,
                            task_run_id,
                            stage,
                            report,
                            full,
                            only,
                            share,
                            begun.pop(task.name, None),
                        )
                        running[pool.submit(contextvars.copy_context().run, work)] = task
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = running.pop(future)
                    result, failure = future.result()
                    results[task.name] = result
                    ended.add(task.name)
                    crashed = crashed or failure
        if isinstance(stage, Sender) and ctx.customers is not None and crashed is None and not report.stopped:
            ctx.customers.catch_up(stage.wrote)  # the documents this run wrote to, read now
        order = {t.name: n for n, t in enumerate(selected)}
        report.tasks = sorted(results.values(), key=lambda r: order[r.task])
        if isinstance(crashed, ProjectLockedError):
            raise crashed  # another run took the project over: this one must not write another record
        statuses = {t.status for t in report.tasks}
        if RunStatus.INTERRUPTED in statuses:
            report.status = RunStatus.INTERRUPTED
        elif RunStatus.FAILED in statuses:
            report.status = RunStatus.FAILED
        elif RunStatus.PARTIAL in statuses:
            report.status = RunStatus.PARTIAL
        report.seconds = time.perf_counter() - started
        report.http = {s.value: _delta(before[s], c.stats) for s, c in self.connectors.items()}
        report.requests = {s: d["requests"] for s, d in report.http.items()}
        if crashed is not None:
            if report.run_id is not None:
                failed = [t.task for t in report.tasks if t.status is RunStatus.FAILED]
                self.store.finish_run(report.run_id, RunStatus.FAILED, f"failed tasks: {', '.join(failed)}")
            raise crashed

    def _task(
        self,
        ctx: RunContext,
        task: Task,
        task_run_id: int,
        stage: WriteStage,
        report: RunReport,
        full: bool,
        only: Mapping[str, set[str]],
        share: Share | None,
        pipeline: TaskPipeline | None = None,
    ) -> tuple[TaskReport, BaseException | None]:
        """Run one task (on a thread of the run's pool) under its task run ``task_run_id`` (0 for
        a plan): its report, recorded, and what must stop the run after the tasks running end
        (a bug, an interrupt, the project lock lost). ``pipeline``: the task's, its read begun."""
        pipeline = pipeline or TaskPipeline(ctx, task, stage, progress=self.progress)
        result = pipeline.report
        result.part = str(share) if share is not None else None
        crashed: BaseException | None = None
        try:
            with log_context(run_id=report.run_id, task=task.name):
                keys = only.get(task.name) if only else None
                result = pipeline.run(task_run_id, full=full, only_keys=keys, share=share)
        except ProjectLockedError as exc:
            return result, exc  # another run holds the project: nothing more is recorded
        except RunInterrupted as exc:  # the current chunk was committed; the cursor did not move
            result.status = RunStatus.INTERRUPTED
            result.message = report.stopped = str(exc)
            log.warning("task %s interrupted: %s", task.name, result.message)
        except ServiceUnreachableError as exc:
            result.status = RunStatus.FAILED
            result.message = report.stopped = self.redactor.text(str(exc))
            log.error("task %s stopped: %s; the run stops", task.name, result.message)
        except P2CError as exc:
            result.status = RunStatus.FAILED
            result.message = self.redactor.text(str(exc))
            log.error("task %s failed: %s", task.name, result.message)
        except BaseException as exc:  # a bug or an interrupt: record it, then let it surface
            result.status = RunStatus.FAILED
            result.message = self.redactor.text(f"{type(exc).__name__}: {exc}")
            crashed = exc
        if report.run_id is not None:
            self.store.finish_task(task_run_id, result.status, message=result.message)
        return result, crashed

    def _not_run(
        self, report: RunReport, tasks: Sequence[Task], status: RunStatus = RunStatus.FAILED
    ) -> list[TaskReport]:
        """Tasks not started when a service went away (or the run was stopped): recorded with the
        reason, nothing read."""
        message = f"not run: {report.stopped}"
        out = []
        for task in tasks:
            result = TaskReport(task.name, status=status, message=message)
            out.append(result)
            if report.run_id is not None:
                task_run_id = self.store.start_task(report.run_id, task.name)
                self.store.finish_task(task_run_id, result.status, message=message)
        return out
