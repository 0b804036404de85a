"""The console's actions: the forms that change something — run now, retry, dismiss, pause, resume.

Each checks the session and the form's CSRF token (:func:`p2c.web.console.posted`), calls one
method of the service, and sends the browser back to a page with a note saying what happened (or
the problem, in words).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from p2c.errors import P2CError
from p2c.store import Trigger
from p2c.web.console import back, field, posted, session_of, svc_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.post("/projects/{project}/run")
async def run_now(request: Request, project: str) -> Response:
    session = session_of(request)
    form = await posted(request, session)
    tasks = [t for t in form.get("task", []) if t]
    try:
        accepted = svc_of(request).start_run(project, tasks=tasks, full=field(form, "full") == "on")
    except P2CError as exc:
        return back(f"/projects/{quote(project)}", problem=str(exc))
    return back(f"/projects/{quote(project)}/runs/{accepted.run_id}", note=f"run {accepted.run_id} started")


@router.post("/projects/{project}/runs/{run_id}/retry")
async def retry(request: Request, project: str, run_id: int) -> Response:
    session = session_of(request)
    form = await posted(request, session)
    keys = _chosen(form)
    here = f"/projects/{quote(project)}/runs/{run_id}/errors"
    if form.get("record") is not None and not keys:
        return back(here, problem="choose the records to retry")
    try:
        accepted = svc_of(request).start_run(
            project, retry_run=run_id, keys=keys or None, trigger=Trigger.RETRY
        )
    except P2CError as exc:
        return back(here, problem=str(exc))
    chosen = sum(len(v) for v in keys.values())
    what = f"{chosen} record(s)" if keys else "every failed or waiting record"
    return back(
        f"/projects/{quote(project)}/runs/{accepted.run_id}",
        note=f"retry of {what} started as run {accepted.run_id}",
    )


@router.post("/projects/{project}/runs/{run_id}/dismiss")
async def dismiss(request: Request, project: str, run_id: int) -> Response:
    session = session_of(request)
    form = await posted(request, session)
    chosen = _chosen(form)
    here = f"/projects/{quote(project)}/runs/{run_id}/errors"
    if not chosen:  # nothing ticked must not mean "all of them"
        return back(here, problem="choose the records to dismiss")
    keys = [k for ks in chosen.values() for k in ks]
    count = svc_of(request).dismiss(project, run_id=run_id, tasks=sorted(chosen), keys=keys)
    return back(here, note=f"{count} record(s) dismissed")


@router.post("/projects/{project}/pause")
async def pause(request: Request, project: str) -> Response:
    session = session_of(request)
    form = await posted(request, session)
    svc_of(request).pause(project, field(form, "reason") or "paused from the console", session.who)
    return back(f"/projects/{quote(project)}", note="paused: it runs neither on schedule nor on request")


@router.post("/projects/{project}/resume")
async def resume(request: Request, project: str) -> Response:
    session = session_of(request)
    await posted(request, session)
    svc_of(request).resume(project, session.who)
    return back(f"/projects/{quote(project)}", note="resumed")


def _chosen(form: dict[str, list[str]]) -> dict[str, list[str]]:
    """The records ticked on the errors page (``record=<task>|<source key>``), by task."""
    out: dict[str, list[str]] = {}
    for item in form.get("record", []):
        task, _, key = item.partition("|")
        if task and key:
            out.setdefault(task, []).append(key)
    return out
