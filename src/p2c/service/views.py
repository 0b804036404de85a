"""What the service shows: the answers of its REST API and the data of its console pages.

Pydantic models, so that the API's OpenAPI document describes exactly what it returns, and the
console renders the same values the API gives. Built from the store's values by the ``of``
functions; no secret is ever a field of any of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from p2c.engine import PlannedRecord, TaskReport
from p2c.store import COUNTERS, Counts, MessageGroup, OutcomeRecord, RunInfo, TaskRunInfo

__all__ = [
    "Accepted",
    "CountsView",
    "GroupView",
    "PlanView",
    "PlannedView",
    "ProjectView",
    "RecordPageView",
    "RecordView",
    "RunDetail",
    "RunView",
    "TaskView",
]


class CountsView(BaseModel):
    """What became of the records; read = the sum of the others."""

    read: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    filtered: int = 0
    skipped: int = 0
    waiting: int = 0
    failed: int = 0

    @classmethod
    def of(cls, counts: Any) -> CountsView:
        return cls(**{n: int(getattr(counts, n, 0)) for n in COUNTERS})


class TaskView(BaseModel):
    task: str
    status: str
    counts: CountsView
    seconds: float | None = None
    message: str | None = None
    #: "2/4": part 2 of a split load of 4 (settings.parts); null: the whole task, or its closing pass
    part: str | None = None

    @classmethod
    def of(cls, t: TaskRunInfo) -> TaskView:
        return cls(
            task=t.task,
            status=str(t.status),
            counts=CountsView.of(t.counts),
            seconds=t.duration,
            message=t.message,
            part=t.part,
        )

    @classmethod
    def live(cls, r: TaskReport) -> TaskView:
        return cls(
            task=r.task,
            status=str(r.status),
            counts=CountsView.of(r),
            seconds=r.seconds,
            message=r.message,
            part=r.part,
        )


class RunView(BaseModel):
    id: int
    project: str
    trigger: str
    status: str
    full: bool
    tasks: list[str]
    started_at: datetime
    finished_at: datetime | None = None
    seconds: float | None = None
    message: str | None = None
    counts: CountsView

    @classmethod
    def of(cls, r: RunInfo) -> RunView:
        return cls(
            id=r.id,
            project=r.project,
            trigger=str(r.trigger),
            status=str(r.status),
            full=r.full,
            tasks=list(r.tasks),
            started_at=r.started_at,
            finished_at=r.finished_at,
            seconds=r.duration,
            message=r.message,
            counts=CountsView.of(r.counts),
        )


class RunDetail(RunView):
    """A run with its tasks, what it asked of each service, and — while it runs — live counts."""

    task_runs: list[TaskView] = Field(default_factory=list)
    requests: dict[str, dict[str, Any]] = Field(default_factory=dict)
    running: bool = False

    @classmethod
    def detail(cls, r: RunInfo, live: list[TaskReport] | None = None) -> RunDetail:
        base = RunView.of(r).model_dump()
        tasks = [TaskView.of(t) for t in r.task_runs]
        if live:  # the live reports are ahead of the store's counters between commits
            ahead = {t.task: TaskView.live(t) for t in live}
            tasks = [ahead.get(t.task, t) for t in tasks] + [
                v for k, v in ahead.items() if k not in {t.task for t in tasks}
            ]
            total = Counts()
            for t in tasks:
                total = total + Counts(**t.counts.model_dump())
            base["counts"] = CountsView.of(total)
        return cls(**base, task_runs=tasks, requests=dict(r.requests or {}), running=live is not None)


class RecordView(BaseModel):
    id: int
    task: str
    source_key: str
    action: str
    reason: str | None = None
    operation: str | None = None
    target_key: str | None = None
    error: str | None = None
    field: str | None = None
    message: str | None = None
    source_row: dict[str, Any] | None = None
    target_payload: dict[str, Any] | None = None
    at: datetime

    @classmethod
    def of(cls, r: OutcomeRecord) -> RecordView:
        return cls(
            id=r.id,
            task=r.task,
            source_key=r.source_key,
            action=str(r.action),
            reason=r.reason,
            operation=r.operation,
            target_key=r.target_key,
            error=r.error_class,
            field=r.field,
            message=r.message,
            source_row=dict(r.source_row) if r.source_row is not None else None,
            target_payload=dict(r.target_payload) if r.target_payload is not None else None,
            at=r.at,
        )


class RecordPageView(BaseModel):
    total: int
    limit: int
    offset: int
    records: list[RecordView]


class GroupView(BaseModel):
    task: str
    action: str
    error: str | None = None
    field: str | None = None
    message: str | None = None
    count: int
    keys: list[str]

    @classmethod
    def of(cls, g: MessageGroup) -> GroupView:
        return cls(
            task=g.task,
            action=str(g.action),
            error=g.error_class,
            field=g.field,
            message=g.message,
            count=g.count,
            keys=g.keys,
        )


class ProjectView(BaseModel):
    """Where a project stands: loaded or not, paused, schedule, last runs, failures, health."""

    name: str
    path: str
    error: str | None = None
    paused: bool = False
    paused_reason: str | None = None
    paused_by: str | None = None
    paused_at: datetime | None = None
    schedule: str | None = None
    next_run_at: datetime | None = None
    running_run: int | None = None
    last_run: RunView | None = None
    last_success_at: datetime | None = None
    open_failures: int = 0
    waiting: int = 0
    health: dict[str, str] = Field(default_factory=dict)
    health_checked_at: datetime | None = None
    tasks: list[str] = Field(default_factory=list)


class Accepted(BaseModel):
    """A long action was started: follow it at ``run_url``."""

    run_id: int
    project: str
    status: str
    run_url: str


class PlannedView(BaseModel):
    task: str
    source_key: str
    action: str
    target_key: str | None = None
    message: str | None = None
    operation: str | None = None
    payload: dict[str, Any] | None = None

    @classmethod
    def of(cls, task: str, p: PlannedRecord) -> PlannedView:
        return cls(
            task=task,
            source_key=p.source_key,
            action=str(p.action),
            target_key=p.target_key,
            message=p.message,
            operation=p.operation,
            payload=p.payload,
        )


class PlanView(BaseModel):
    """What a run would do now; nothing was written."""

    tasks: list[TaskView]
    writes: list[PlannedView]
    truncated: bool = False
