"""The REST API of ``p2c serve`` (``/api/v1``; OpenAPI at ``/api/v1/openapi.json``).

Thin: each route checks the caller's token (:mod:`p2c.web.auth`), calls one method of
:class:`p2c.service.Service` and returns its view. Long actions (run now, retry) answer 202 with
the run's id and URL as soon as the run is recorded.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from p2c.service import Service
from p2c.service.views import (
    Accepted,
    GroupView,
    PlanView,
    ProjectView,
    RecordPageView,
    RunDetail,
    RunView,
)
from p2c.store import Action, RunStatus, Trigger
from p2c.web.auth import ERRORS, caller

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", dependencies=[Depends(caller)], responses=ERRORS)
Caller = Annotated[str, Depends(caller)]


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


Svc = Annotated[Service, Depends(service)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
#: ids fit a 64-bit integer column: bounded here, so a huge one is a 422, not a database error
BIGINT = 2**62
RunId = Annotated[int, Path(ge=1, le=BIGINT, description="A run's id")]
Project = Annotated[str, Path(min_length=1, max_length=200, description="The project's name")]


class RunRequest(BaseModel):
    tasks: list[Name] = Field(
        default_factory=list, max_length=100, description="Tasks to run; empty: every enabled task"
    )
    full: bool = Field(default=False, description="Read everything again and rewrite every record")


class RetryRequest(BaseModel):
    keys: dict[Name, list[Name]] | None = Field(
        default=None,
        description="Task → source keys to retry; omitted: every record that failed or waits in the run",
    )


class DismissRequest(BaseModel):
    run_id: int | None = Field(default=None, ge=1, le=BIGINT, description="Only records of this run")
    tasks: list[Name] = Field(default_factory=list, max_length=100)
    keys: list[Name] = Field(default_factory=list, max_length=10_000)


class Dismissed(BaseModel):
    dismissed: int


class PauseRequest(BaseModel):
    reason: str = Field(default="", max_length=500)


class PlanRequest(BaseModel):
    tasks: list[Name] = Field(default_factory=list, max_length=100)
    full: bool = False


class ReconcileRequest(BaseModel):
    tasks: list[Name] = Field(default_factory=list, max_length=100)
    limit: int = Field(default=20, ge=0, le=1000)


@router.get("/projects", response_model=list[ProjectView], summary="Every project with where it stands")
def projects(svc: Svc) -> list[ProjectView]:
    return svc.projects_view()


@router.get("/projects/{project}", response_model=ProjectView, summary="Where a project stands")
def project(
    project: Project, svc: Svc, check: bool = Query(False, description="Check both services now")
) -> ProjectView:
    if check:
        svc.health(project, fresh=True)
    return svc.project_view(project)


@router.get("/projects/{project}/runs", response_model=list[RunView], summary="Runs, newest first")
def runs(
    project: Project,
    svc: Svc,
    status: Annotated[list[RunStatus] | None, Query()] = None,
    trigger: Annotated[list[Trigger] | None, Query()] = None,
    before: Annotated[
        int | None, Query(ge=1, le=BIGINT, description="Only runs older than this run id (paging)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RunView]:
    return svc.runs(project, limit=limit, statuses=status or (), triggers=trigger or (), before=before)


@router.post("/projects/{project}/runs", response_model=Accepted, status_code=202, summary="Run now")
def run_now(project: Project, svc: Svc, body: Annotated[RunRequest, Body()] = RunRequest()) -> Accepted:
    return svc.start_run(project, trigger=Trigger.API, tasks=body.tasks, full=body.full)


@router.get(
    "/projects/{project}/runs/{run_id}", response_model=RunDetail, summary="A run, with live progress"
)
def run(project: Project, run_id: RunId, svc: Svc) -> RunDetail:
    return svc.run(project, run_id)


@router.get(
    "/projects/{project}/runs/{run_id}/records", response_model=RecordPageView, summary="A run's records"
)
def records(
    project: Project,
    run_id: RunId,
    svc: Svc,
    task: Annotated[list[str] | None, Query()] = None,
    action: Annotated[list[Action] | None, Query()] = None,
    error: Annotated[str | None, Query(max_length=200, description="Error class, e.g. RecordError")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the message or key")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> RecordPageView:
    return svc.records(
        project,
        run_id,
        tasks=task or (),
        actions=action or (),
        error=error,
        text=q,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/projects/{project}/runs/{run_id}/groups",
    response_model=list[GroupView],
    summary="A run's records grouped by message (default: failed and waiting)",
)
def groups(
    project: Project,
    run_id: RunId,
    svc: Svc,
    task: Annotated[list[str] | None, Query()] = None,
    action: Annotated[list[Action] | None, Query()] = None,
) -> list[GroupView]:
    return svc.groups(project, run_id, tasks=task or (), actions=action or ())


@router.post(
    "/projects/{project}/runs/{run_id}/retry", response_model=Accepted, status_code=202, summary="Retry"
)
def retry(
    project: Project, run_id: RunId, svc: Svc, body: Annotated[RetryRequest, Body()] = RetryRequest()
) -> Accepted:
    svc.run(project, run_id)
    return svc.start_run(project, trigger=Trigger.RETRY, retry_run=run_id, keys=body.keys)


@router.post("/projects/{project}/dismiss", response_model=Dismissed, summary="Stop retrying failed records")
def dismiss(project: Project, svc: Svc, body: DismissRequest) -> Dismissed:
    return Dismissed(dismissed=svc.dismiss(project, run_id=body.run_id, tasks=body.tasks, keys=body.keys))


@router.post(
    "/projects/{project}/pause", response_model=ProjectView, summary="Pause: no run, scheduled or asked"
)
def pause(
    project: Project, svc: Svc, who: Caller, body: Annotated[PauseRequest, Body()] = PauseRequest()
) -> ProjectView:
    return svc.pause(project, body.reason, who)


@router.post("/projects/{project}/resume", response_model=ProjectView, summary="Resume a paused project")
def resume(project: Project, svc: Svc, who: Caller) -> ProjectView:
    return svc.resume(project, who)


@router.post("/projects/{project}/plan", response_model=PlanView, summary="Every write a run would make now")
def plan(project: Project, svc: Svc, body: Annotated[PlanRequest, Body()] = PlanRequest()) -> PlanView:
    return svc.plan(project, tasks=body.tasks, full=body.full)


@router.post("/projects/{project}/reconcile", summary="Where the two systems differ, task by task")
def reconcile(
    project: Project, svc: Svc, body: Annotated[ReconcileRequest, Body()] = ReconcileRequest()
) -> dict[str, Any]:
    return svc.reconcile(project, tasks=body.tasks, limit=body.limit)


@router.get("/projects/{project}/connections", summary="The project's connection settings, secrets masked")
def connections(project: Project, svc: Svc) -> dict[str, Any]:
    loaded = svc.entry(project).require()
    return loaded.connections.model_dump(mode="json", exclude={"source"})
