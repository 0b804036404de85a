"""A run of a project: its tasks in dependency order, each recorded in the store.

Example::

    engine = Engine(project, store, {System.CRM: crm, System.ERP: erp}, redactor=redactor)
    report = engine.run()                 # or run(["Accounts"]), run(full=True), run(dry_run=True)
    report.status                         # succeeded | partial | failed
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from p2c.connectors.auth import Redactor
from p2c.connectors.base import Connector
from p2c.engine.related import RelatedResolver
from p2c.engine.rules import IMPLEMENTED
from p2c.engine.task import TaskReport, TaskRunner
from p2c.errors import ConfigError, P2CError
from p2c.project import Project, Task
from p2c.settings import System
from p2c.store import Action, RunStatus, StateStore

__all__ = ["Engine", "RunReport"]

log = logging.getLogger("p2c.engine")


@dataclass
class RunReport:
    run_id: int | None
    status: RunStatus
    tasks: list[TaskReport] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(t.failed for t in self.tasks)


class Engine:
    def __init__(
        self,
        project: Project,
        store: StateStore,
        connectors: Mapping[System, Connector],
        *,
        redactor: Redactor | None = None,
        progress: Callable[[TaskReport], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.project = project
        self.store = store
        self.connectors = dict(connectors)
        self.redactor = redactor or Redactor()
        self.progress = progress
        self.rng = rng or random.Random()

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

    def check_rules(self, tasks: Sequence[Task]) -> None:
        """Refuse, before anything runs, tasks whose rules this engine does not apply yet."""
        for task in tasks:
            missing = [r for r in task.rules if r not in IMPLEMENTED]
            if missing:
                raise ConfigError(
                    f"task {task.name} needs rule(s) {', '.join(missing)}, which this version of p2c's engine "
                    "does not apply yet; disable the task (tasks: {"
                    f"{task.name}: {{disabled: true}}}}) or leave its template out (docs/templates.md)",
                    entity=str(self.project.path),
                    field=f"tasks.{task.name}.rules",
                )

    def check_reachable(self, tasks: Sequence[Task]) -> None:
        """Refuse quickly, before a run is recorded, when a service the tasks use cannot be reached
        at all or refuses the credentials (ServiceUnavailableError / AuthError)."""
        systems = {t.source.system for t in tasks} | {t.target.system for t in tasks}
        for system in sorted(systems):
            self.connectors[system].reachable()

    def run(
        self,
        tasks: Sequence[str] | None = None,
        *,
        full: bool = False,
        dry_run: bool = False,
        trigger: str = "cli",
        retry_run: int | None = None,
    ) -> RunReport:
        selected = self.select(tasks)
        self.check_rules(selected)
        self.check_reachable(selected)
        started = time.perf_counter()
        store = self.store
        only: dict[str, set[str]] = {}
        if retry_run is not None:
            if store.run(retry_run) is None:
                raise ConfigError(f"there is no run {retry_run}", field="RUN")
            for rec in store.outcomes(retry_run, actions=[Action.FAILED, Action.WAITING]):
                only.setdefault(rec.task, set()).add(rec.source_key)
            selected = [t for t in selected if t.name in only]
        if not dry_run:
            store.mark_crashed_runs(self.project.name)
        run_id = (
            None if dry_run else store.start_run(self.project.name, [t.name for t in selected], trigger, full)
        )
        report = RunReport(run_id, RunStatus.SUCCEEDED, dry_run=dry_run)
        resolver = RelatedResolver(self.project.catalog, self.connectors)
        before = {s: dict(c.stats) for s, c in self.connectors.items()}
        crashed: BaseException | None = None
        shared: dict[str, Any] = {}  # what rules read once per run (contacts' customer ids)
        for task in selected:
            task_run_id = None if dry_run or run_id is None else store.start_task(run_id, task.name)
            runner = TaskRunner(
                self.project,
                task,
                store,
                self.connectors,
                resolver,
                self.redactor,
                dry_run=dry_run,
                progress=self.progress,
                rng=self.rng,
                shared=shared,
            )
            try:
                result = runner.run(task_run_id or 0, full=full, only_keys=only.get(task.name))
            except P2CError as exc:
                result = runner.report
                result.status = RunStatus.FAILED
                result.message = self.redactor.text(str(exc))
                log.error("task %s failed: %s", task.name, result.message)
            except BaseException as exc:  # a bug or an interrupt: record it, then let it surface
                result = runner.report
                result.status = RunStatus.FAILED
                result.message = self.redactor.text(f"{type(exc).__name__}: {exc}")
                crashed = exc
            report.tasks.append(result)
            if dry_run:  # what this task would create, later tasks of the plan may refer to
                created = [p.payload for p in result.planned if p.action is Action.CREATED and p.payload]
                resolver.expect(task.target.entity, created)
            if task_run_id is not None:
                store.finish_task(task_run_id, result.status, message=result.message)
            if crashed is not None:
                break
        statuses = {t.status for t in report.tasks}
        if RunStatus.FAILED in statuses:
            report.status = RunStatus.FAILED
        elif RunStatus.PARTIAL in statuses:
            report.status = RunStatus.PARTIAL
        report.seconds = time.perf_counter() - started
        report.requests = {
            s.value: c.stats.get("requests", 0) - before[s].get("requests", 0)
            for s, c in self.connectors.items()
        }
        if run_id is not None:
            failed = [t.task for t in report.tasks if t.status is RunStatus.FAILED]
            store.finish_run(run_id, report.status, f"failed tasks: {', '.join(failed)}" if failed else None)
        if crashed is not None:
            raise crashed
        return report
