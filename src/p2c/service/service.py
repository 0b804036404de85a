"""The service layer of ``p2c serve``: everything its REST API and console do, in one place.

:class:`Service` holds the projects (:mod:`p2c.service.projects`), starts runs
(:mod:`p2c.service.runner`), answers what a person asks — where a project stands, its runs, a
run's records grouped by message — and does what they ask: run now, retry, dismiss, plan,
reconcile, pause, resume. After each run it raises alerts (:mod:`p2c.alerts`), pauses a project
whose failures pass its thresholds, and counts what happened (:mod:`p2c.service.metrics`). Routes
and templates only translate; none of them decides anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from p2c.alerts import Alert, Alerter, AlertKind, alerts_for_run
from p2c.engine import Engine, open_project
from p2c.errors import ConfigError, P2CError, ServiceUnavailableError
from p2c.project import Project
from p2c.service.metrics import ServiceMetrics
from p2c.service.projects import ProjectEntry, Projects
from p2c.service.runner import LiveRun, Runner
from p2c.service.views import (
    Accepted,
    GroupView,
    PlannedView,
    PlanView,
    ProjectView,
    RecordPageView,
    RecordView,
    RunDetail,
    RunView,
    TaskView,
)
from p2c.settings import System
from p2c.store import Action, RunStatus, StateStore, Trigger, now

__all__ = ["NotFound", "Service"]

log = logging.getLogger("p2c.service")
HEALTH_TTL = 60.0  # seconds a health check of a project's services is reused


class NotFound(LookupError):
    """No such project or run; the message says which."""


class Service:
    def __init__(self, projects: Projects, metrics: ServiceMetrics | None = None) -> None:
        self.projects = projects
        self.metrics = metrics or ServiceMetrics()
        self.runner = Runner(self._finished)
        self.alerters: dict[str, Alerter] = {}
        self._health: dict[str, tuple[float, datetime, dict[str, str]]] = {}
        self._stale: dict[str, datetime | None] = {}  # the last success a stale alert was raised for
        self._lock = threading.Lock()
        for entry in projects:
            self.alerter(entry)

    # -- plumbing ---------------------------------------------------------------------------------

    def entry(self, name: str) -> ProjectEntry:
        try:
            return self.projects.get(name)
        except KeyError:
            raise NotFound(f"no project {name!r} (projects: {', '.join(self.projects.entries)})") from None

    def store(self, entry: ProjectEntry) -> StateStore:
        return self.projects.store(entry.require())

    def alerter(self, entry: ProjectEntry) -> Alerter:
        """The project's alerter, built again when its alert settings change."""
        project = entry.current()
        settings = project.alerts if project is not None else None
        with self._lock:
            current = self.alerters.get(entry.name)
            if current is None or (settings is not None and current.settings != settings):
                if current is not None:
                    current.close()
                current = self.alerters[entry.name] = Alerter(settings)
            return current

    def close(self) -> None:
        self.runner.shutdown()
        for alerter in self.alerters.values():
            alerter.flush()
            alerter.close()
        self.projects.close()

    # -- what a person looks at -------------------------------------------------------------------------

    def project_view(self, name: str) -> ProjectView:
        entry = self.entry(name)
        project = entry.current()
        view = ProjectView(name=entry.name, path=str(entry.path), error=entry.error)
        if project is None:
            return view
        store = self.projects.store(project)
        state = store.project_state(project.name)
        sched = store.schedule_state(project.name)
        live = self.runner.live(project.name)
        last = store.runs(project.name, limit=1)
        tasks = [t.name for t in project.tasks]
        status = store.task_status(tasks)
        health = self._health.get(project.name)
        return view.model_copy(
            update={
                "paused": state.paused,
                "paused_reason": state.reason,
                "paused_by": state.paused_by,
                "paused_at": state.paused_at,
                "schedule": project.schedule.text if project.schedule else None,
                "next_run_at": sched.next_run_at if sched and project.schedule else None,
                "running_run": live.run_id if live else None,
                "last_run": RunView.of(last[0]) if last else None,
                "last_success_at": store.last_success(project.name),
                "open_failures": sum(s.failing for s in status),
                "waiting": sum(s.waiting for s in status),
                "health": health[2] if health else {},
                "health_checked_at": health[1] if health else None,
                "tasks": tasks,
            }
        )

    def projects_view(self) -> list[ProjectView]:
        return [self.project_view(e.name) for e in self.projects]

    def runs(
        self,
        name: str,
        *,
        limit: int = 50,
        statuses: Iterable[RunStatus] = (),
        triggers: Iterable[Trigger] = (),
        before: int | None = None,
    ) -> list[RunView]:
        entry = self.entry(name)
        found = self.store(entry).runs(
            entry.name, limit, statuses=list(statuses), triggers=list(triggers), before_id=before
        )
        return [RunView.of(r) for r in found]

    def run(self, name: str, run_id: int) -> RunDetail:
        entry = self.entry(name)
        info = self.store(entry).run(run_id)
        if info is None or info.project != entry.name:
            raise NotFound(f"project {name} has no run {run_id}")
        live = self.runner.live(entry.name)
        reports = list(live.reports.values()) if live is not None and live.run_id == run_id else None
        return RunDetail.detail(info, reports)

    def records(
        self,
        name: str,
        run_id: int,
        *,
        tasks: Iterable[str] = (),
        actions: Iterable[Action] = (),
        error: str | None = None,
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> RecordPageView:
        self.run(name, run_id)  # the run exists, in this project
        page = self.store(self.entry(name)).find_records(
            run_id,
            tasks=list(tasks) or None,
            actions=list(actions) or None,
            error_class=error,
            text=text,
            limit=limit,
            offset=offset,
        )
        return RecordPageView(
            total=page.total, limit=limit, offset=offset, records=[RecordView.of(r) for r in page.records]
        )

    def groups(
        self, name: str, run_id: int, *, tasks: Iterable[str] = (), actions: Iterable[Action] = ()
    ) -> list[GroupView]:
        self.run(name, run_id)
        found = self.store(self.entry(name)).record_groups(
            run_id, tasks=list(tasks) or None, actions=list(actions) or [Action.FAILED, Action.WAITING]
        )
        return [GroupView.of(g) for g in found]

    def health(self, name: str, *, fresh: bool = False) -> dict[str, str]:
        """Whether both services answer and accept the project's credentials ("ok" or the reason),
        checked at most once a minute unless ``fresh``."""
        entry = self.entry(name)
        cached = self._health.get(entry.name)
        if cached is not None and not fresh and time.monotonic() - cached[0] < HEALTH_TTL:
            return cached[2]
        project = entry.require()
        result: dict[str, str] = {}
        try:
            with open_project(project) as session:
                for system, conn in (
                    (System.CRM, session.connectors.crm),
                    (System.ERP, session.connectors.erp),
                ):
                    try:
                        conn.reachable()
                        result[system.value] = "ok"
                    except P2CError as exc:
                        result[system.value] = session.redactor.text(str(exc))
        except P2CError as exc:
            result = {"crm": str(exc), "erp": str(exc)}
        self._health[entry.name] = (time.monotonic(), now(), result)
        if any(v != "ok" for v in result.values()):
            self.alerter(entry).raise_alert(
                Alert(
                    entry.name,
                    AlertKind.UNREACHABLE,
                    "; ".join(f"{k}: {v}" for k, v in result.items() if v != "ok"),
                    now(),
                )
            )
        return result

    # -- what a person does -----------------------------------------------------------------------------

    def start_run(
        self,
        name: str,
        *,
        trigger: Trigger = Trigger.API,
        tasks: Iterable[str] = (),
        full: bool = False,
        retry_run: int | None = None,
        keys: Mapping[str, Iterable[str]] | None = None,
    ) -> Accepted:
        """Start a run (every task, or ``tasks``; a retry of ``retry_run``, or of its ``keys``) and
        answer once it is recorded. Refused with the reason when paused, busy or unreachable."""
        entry = self.entry(name)
        project = entry.require()
        unknown = [t for t in tasks if t not in {x.name for x in project.tasks}]
        if unknown:
            raise ConfigError(f"unknown task {', '.join(unknown)}", field="tasks")
        try:
            live = self.runner.start(
                entry, trigger=trigger, tasks=tasks, full=full, retry_run=retry_run, keys=keys
            )
        except ServiceUnavailableError as exc:
            self.alerter(entry).raise_alert(Alert(entry.name, AlertKind.UNREACHABLE, str(exc), now()))
            raise
        assert live.run_id is not None
        return Accepted(
            run_id=live.run_id,
            project=entry.name,
            status="running",
            run_url=f"/api/v1/projects/{entry.name}/runs/{live.run_id}",
        )

    def dismiss(
        self, name: str, *, run_id: int | None, tasks: Iterable[str] = (), keys: Iterable[str] = ()
    ) -> int:
        entry = self.entry(name)
        project = entry.require()
        store = self.store(entry)
        if run_id is not None:
            self.run(name, run_id)
        chosen = list(tasks) or ([] if run_id is not None else [t.name for t in project.tasks])
        return store.dismiss(run_id, tasks=chosen, keys=list(keys))

    def pause(self, name: str, reason: str, by: str) -> ProjectView:
        entry = self.entry(name)
        self.store(entry).pause(entry.name, reason or "paused by a person", by, now())
        log.warning("project %s paused by %s: %s", entry.name, by, reason)
        return self.project_view(name)

    def resume(self, name: str, by: str) -> ProjectView:
        entry = self.entry(name)
        self.store(entry).resume(entry.name, now())
        log.info("project %s resumed by %s", entry.name, by)
        return self.project_view(name)

    def plan(
        self, name: str, *, tasks: Iterable[str] = (), full: bool = False, limit: int = 1000
    ) -> PlanView:
        entry = self.entry(name)
        project = entry.require()
        with open_project(project) as s:
            engine = Engine(
                project,
                s.store,
                {System.CRM: s.connectors.crm, System.ERP: s.connectors.erp},
                redactor=s.redactor,
            )
            report = engine.plan(list(tasks) or None, full=full)
        writes = [PlannedView.of(t.task, p) for t in report.tasks for p in t.planned]
        return PlanView(
            tasks=[TaskView.live(t) for t in report.tasks],
            writes=writes[:limit],
            truncated=len(writes) > limit,
        )

    def reconcile(self, name: str, *, tasks: Iterable[str] = (), limit: int = 20) -> dict[str, Any]:
        from p2c.reconcile import reconcile

        entry = self.entry(name)
        project = entry.require()
        with open_project(project) as s:
            report = reconcile(
                project,
                {System.CRM: s.connectors.crm, System.ERP: s.connectors.erp},
                list(tasks) or None,
                limit=limit,
                store=s.store,
            )
        return report.as_dict()

    # -- after a run ------------------------------------------------------------------------------------

    def _finished(self, entry: ProjectEntry, project: Project, live: LiveRun) -> None:
        """Count it, alert on it, and pause the project when its failures pass a threshold."""
        report = live.report
        if report is None or report.run_id is None:
            return
        store = self.projects.store(project)
        self.metrics.run_finished(project.name, report)
        alerter = self.alerter(entry)
        at = now()
        said = [f"{t.label}: {t.message}" for t in report.tasks if t.message]
        message = (
            report.stopped or "; ".join(said) or f"run {report.run_id}: {report.failed} record(s) failed"
        )
        for alert in alerts_for_run(
            project.name, report.run_id, str(report.status), report.failed, message, alerter.settings, at
        ):
            alerter.raise_alert(alert)
        if report.stopped and report.status is not RunStatus.INTERRUPTED:
            alerter.raise_alert(Alert(project.name, AlertKind.UNREACHABLE, report.stopped, at, report.run_id))
        reason = self._pause_reason(project, store, report.failed)
        if reason is not None and not store.project_state(project.name).paused:
            store.pause(project.name, reason, "p2c (auto-pause)", at)
            log.error("project %s paused: %s", project.name, reason)
            alerter.raise_alert(
                Alert(project.name, AlertKind.AUTO_PAUSED, f"paused: {reason}", at, report.run_id)
            )
        self.metrics.project_state(project.name, store, project)
        alerter.flush()

    def _pause_reason(self, project: Project, store: StateStore, failed: int) -> str | None:
        settings = project.settings
        if settings.pause_after_failed_records is not None and failed > settings.pause_after_failed_records:
            return (
                f"the last run failed {failed} record(s), more than pause_after_failed_records "
                f"({settings.pause_after_failed_records})"
            )
        n = settings.pause_after_failed_runs
        if n is not None:
            recent = [r for r in store.runs(project.name, n + 5) if r.status is not RunStatus.SKIPPED][:n]
            if len(recent) == n and all(r.status is RunStatus.FAILED for r in recent):
                return f"the last {n} runs failed (pause_after_failed_runs)"
        return None

    def stale(self, entry: ProjectEntry, at: datetime) -> None:
        """Alert when the project has had no successful run for ``alerts.stale_hours``."""
        project = entry.current()
        if project is None:
            return
        alerter = self.alerter(entry)
        hours = alerter.settings.stale_hours
        if hours is None:
            return
        store = self.projects.store(project)
        since = store.last_success(project.name)
        first = store.runs(project.name, 1)
        if since is None and not first:
            return  # never ran: nothing is stale yet
        if (since is None or at - since > timedelta(hours=hours)) and self._stale.get(
            project.name, at
        ) != since:
            self._stale[project.name] = since  # once per stretch without success, not every hour
            alerter.raise_alert(
                Alert(project.name, AlertKind.STALE, f"no successful run for more than {hours} hour(s)", at)
            )
