"""Runs started by the service: one thread per run, at most one run per project in this process
(the store's project lock keeps out runs of other processes), with live progress.

:meth:`Runner.start` returns once the run is recorded (its id known) or refused — paused, held by
another run, a service that cannot be reached, a project that does not load — so the API can
answer 202 with the run id, or the reason. :meth:`Runner.shutdown` asks every run to stop after
the chunk it is writing (the run ends INTERRUPTED and the next one resumes from its cursor) and
waits for them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from p2c.engine import Engine, RunReport, TaskReport, open_project
from p2c.errors import P2CError, ServiceUnavailableError
from p2c.logs import log_context
from p2c.project import Project
from p2c.service.projects import ProjectEntry
from p2c.settings import System
from p2c.store import Trigger, now

__all__ = ["LiveRun", "ProjectBusyError", "Runner"]

log = logging.getLogger("p2c.service")


class ProjectBusyError(P2CError):
    """This service is running the project already."""


@dataclass
class LiveRun:
    """A run the service started: its id once recorded, its tasks' reports as they go, its end."""

    project: str
    trigger: Trigger
    tasks: tuple[str, ...]
    started_at: datetime = field(default_factory=now)
    run_id: int | None = None
    reports: dict[str, TaskReport] = field(default_factory=dict)
    report: RunReport | None = None
    error: BaseException | None = None
    recorded: threading.Event = field(default_factory=threading.Event, repr=False)
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def progress(self, report: TaskReport) -> None:
        self.reports[report.task] = report

    def on_start(self, run_id: int) -> None:
        self.run_id = run_id
        self.recorded.set()


class Runner:
    def __init__(self, finished: Callable[[ProjectEntry, Project, LiveRun], None]) -> None:
        self.finished = finished
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._live: dict[str, LiveRun] = {}
        self._threads: set[threading.Thread] = set()
        #: ``p2c serve --queue``: every run goes to ``p2c worker`` processes on ``broker`` (else
        #: only those of projects with ``settings.queue``; the broker defaults to P2C_BROKER)
        self.queue_all = False
        self.broker: str | None = None

    def live(self, project: str) -> LiveRun | None:
        with self._lock:
            return self._live.get(project)

    def start(
        self,
        entry: ProjectEntry,
        *,
        trigger: Trigger,
        tasks: Iterable[str] = (),
        full: bool = False,
        retry_run: int | None = None,
        keys: Mapping[str, Iterable[str]] | None = None,
        wait: float = 60.0,
    ) -> LiveRun:
        """Start a run of ``entry`` in a thread; returns it once recorded, or raises why it was not."""
        if self.stop.is_set():
            raise ServiceUnavailableError("the service is shutting down", entity=entry.name)
        project = entry.require()
        live = LiveRun(entry.name, trigger, tuple(tasks))
        with self._lock:
            running = self._live.get(entry.name)
            if running is not None:
                raise ProjectBusyError(
                    f"project {entry.name} is being synchronised by run {running.run_id} of this service",
                    entity=entry.name,
                )
            self._live[entry.name] = live
            thread = threading.Thread(
                target=self._run,
                args=(entry, project, live, full, retry_run, keys),
                name=f"p2c-run-{entry.name}",
            )
            self._threads.add(thread)
        thread.start()
        live.recorded.wait(wait)
        if live.error is not None:
            raise live.error
        if live.run_id is None:  # still checking the services: the run goes on, unrecorded yet
            raise ServiceUnavailableError(
                f"the run of {entry.name} was not recorded within {wait:.0f} s (a service slow to answer); "
                "it goes on: see the project's runs",
                entity=entry.name,
            )
        return live

    def _run(
        self,
        entry: ProjectEntry,
        project: Project,
        live: LiveRun,
        full: bool,
        retry_run: int | None,
        keys: Mapping[str, Iterable[str]] | None,
    ) -> None:
        try:
            with log_context(project=project.name), open_project(project) as session:
                engine = Engine(
                    project,
                    session.store,
                    {System.CRM: session.connectors.crm, System.ERP: session.connectors.erp},
                    redactor=session.redactor,
                    progress=live.progress,
                    stop=self.stop,
                    on_start=live.on_start,
                )
                runs: Any = engine
                if self.queue_all or project.settings.queue:  # recorded here, run by the workers
                    from p2c.scale.coordinator import QueuedRun
                    from p2c.scale.queue import broker_url, celery_app

                    app = celery_app(broker_url(self.broker))
                    runs = QueuedRun(
                        engine, app, progress=live.progress, stop=self.stop, on_start=live.on_start
                    )
                live.report = runs.run(
                    list(live.tasks) or None, full=full, trigger=live.trigger, retry_run=retry_run, keys=keys
                )
        except P2CError as exc:
            live.error = exc
            log.warning("project %s: run not started or stopped: %s", project.name, exc)
        except BaseException as exc:  # a bug: recorded as the run's error, not lost in a thread
            live.error = exc
            log.exception("project %s: run failed", project.name)
        finally:
            live.recorded.set()
            live.done.set()
            with self._lock:
                self._live.pop(entry.name, None)
                self._threads.discard(threading.current_thread())
            try:
                self.finished(entry, project, live)
            except Exception:
                log.exception("project %s: after the run", project.name)

    def shutdown(self, timeout: float | None = None) -> None:
        """Ask every run to stop after its current chunk, and wait for them."""
        self.stop.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
