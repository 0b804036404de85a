"""The console: the whole product in a browser, served by ``p2c serve`` at ``/``.

Server-rendered pages (Jinja2 templates in ``web/templates``, one stylesheet and one small script
in ``web/static``, nothing from elsewhere) over the same :class:`p2c.service.Service` as the REST
API: every page reads the service's views, every form calls one of its actions. Logged in with an
API token (:mod:`p2c.web.session`); each form carries the session's CSRF token; an action's
outcome comes back as a message on the page it returns to.
"""

from __future__ import annotations

from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from p2c.errors import P2CError
from p2c.service import NotFound, Service
from p2c.service.views import GroupView
from p2c.store import Action, RunStatus
from p2c.web.pages import FATES, bars, health, record_links, spark, task_configs
from p2c.web.session import COOKIE, LOGIN_COOKIE, Session, Sessions, same, set_cookie

__all__ = [
    "CsrfRefused",
    "LoginNeeded",
    "back",
    "field",
    "install",
    "posted",
    "router",
    "session_of",
    "svc_of",
    "templates",
]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("p2c.web") / "templates"))
templates.env.globals["FATES"] = FATES
PAGE = 50


class LoginNeeded(Exception):
    """A page asked for without a session: the app answers with a redirect to the login page."""

    def __init__(self, target: str) -> None:
        self.target = target


class CsrfRefused(Exception):
    """A form without the session's CSRF token: 403."""


def svc_of(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def session_of(request: Request) -> Session:
    session = _sessions(request).of(request)
    if session is None:
        raise LoginNeeded(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return session


async def posted(request: Request, session: Session | None = None) -> dict[str, list[str]]:
    """The posted form; with a session, only if it carries the session's CSRF token."""
    body = (await request.body()).decode("utf-8", "replace")
    form = parse_qs(body, keep_blank_values=True)
    if session is not None and not same((form.get("csrf") or [""])[0], session.csrf):
        raise CsrfRefused
    return form


def field(form: dict[str, list[str]], name: str, default: str = "") -> str:
    return (form.get(name) or [default])[0].strip()


def _page(request: Request, name: str, session: Session | None, **context: Any) -> HTMLResponse:
    context.update(
        request=request,
        session=session,
        csrf=session.csrf if session else "",
        note=request.query_params.get("note"),
        problem=request.query_params.get("problem"),
    )
    return templates.TemplateResponse(request, name, context)


def back(path: str, note: str | None = None, problem: str | None = None) -> RedirectResponse:
    query = urlencode({k: v for k, v in (("note", note), ("problem", problem)) if v})
    return RedirectResponse(path + (("&" if "?" in path else "?") + query if query else ""), status_code=303)


# -- login ------------------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request) -> Response:
    import secrets

    token = secrets.token_urlsafe(24)
    response = _page(
        request, "login.html", None, login_csrf=token, target=request.query_params.get("next", "/")
    )
    set_cookie(response, request, LOGIN_COOKIE, token, 600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    form = await posted(request)
    if not same(field(form, "csrf"), request.cookies.get(LOGIN_COOKIE)):
        raise CsrfRefused
    who = request.app.state.tokens.check(field(form, "token"))
    target = field(form, "next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"  # only pages of this console
    if who is None:
        return back("/login?" + urlencode({"next": target}), problem="that token is not valid")
    session = _sessions(request).open(who)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, COOKIE, session.id, int(_sessions(request).seconds))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = session_of(request)
    await posted(request, session)
    _sessions(request).close(request)
    response = back("/login", note="logged out")
    response.delete_cookie(COOKIE, path="/")
    return response


# -- pages ----------------------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    session = session_of(request)
    svc = svc_of(request)
    rows = []
    for view in svc.projects_view():
        recent = svc.runs(view.name, limit=30) if view.error is None else []
        rows.append({"view": view, "health": health(view), "spark": spark(recent)})
    return _page(request, "overview.html", session, rows=rows)


@router.get("/projects/{project}", response_class=HTMLResponse)
def project_page(request: Request, project: str) -> Response:
    session = session_of(request)
    svc = svc_of(request)
    view = svc.project_view(project)
    entry = svc.entry(project)
    loaded = entry.current()
    context: dict[str, Any] = {"view": view, "health": health(view), "error": entry.error}
    if loaded is not None:
        context.update(
            tasks=task_configs(loaded),
            value_maps={name: dict(m.entries) for name, m in loaded.value_maps.items()},
            templates_used=loaded.templates,
            legal_entities=loaded.legal_entities,
            settings=loaded.settings.model_dump(),
        )
    return _page(request, "project.html", session, **context)


@router.get("/projects/{project}/runs", response_class=HTMLResponse)
def runs_page(request: Request, project: str) -> Response:
    session = session_of(request)
    svc = svc_of(request)
    status = [
        RunStatus(s) for s in request.query_params.getlist("status") if s in RunStatus.__members__.values()
    ]
    before = request.query_params.get("before")
    runs = svc.runs(
        project, limit=PAGE, statuses=status, before=int(before) if before and before.isdigit() else None
    )
    return _page(
        request,
        "runs.html",
        session,
        view=svc.project_view(project),
        runs=runs,
        statuses=list(RunStatus),
        chosen=status,
    )


@router.get("/projects/{project}/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, project: str, run_id: int) -> Response:
    session = session_of(request)
    svc = svc_of(request)
    run = svc.run(project, run_id)
    groups = svc.groups(project, run_id) if run.counts.failed or run.counts.waiting else []
    return _page(
        request,
        "run.html",
        session,
        view=svc.project_view(project),
        run=run,
        chart=bars(run.task_runs),
        groups=groups,
    )


@router.get("/projects/{project}/runs/{run_id}/live", response_class=HTMLResponse)
def run_live(request: Request, project: str, run_id: int) -> Response:
    """The run's counts table alone, for the page's script to refresh while the run goes on."""
    session = session_of(request)
    run = svc_of(request).run(project, run_id)
    response = _page(request, "run_counts.html", session, run=run)
    response.headers["X-Run-Running"] = "1" if run.running else "0"
    return response


@router.get("/projects/{project}/runs/{run_id}/records", response_class=HTMLResponse)
def records_page(request: Request, project: str, run_id: int) -> Response:
    session = session_of(request)
    svc = svc_of(request)
    q = request.query_params
    actions = [Action(a) for a in q.getlist("action") if a in Action.__members__.values()]
    tasks = [t for t in q.getlist("task") if t]
    offset = int(q.get("offset", "0")) if q.get("offset", "0").isdigit() else 0
    page = svc.records(
        project,
        run_id,
        tasks=tasks,
        actions=actions,
        text=q.get("q") or None,
        limit=PAGE,
        offset=min(offset, 10**9),
    )
    run = svc.run(project, run_id)
    return _page(
        request,
        "records.html",
        session,
        view=svc.project_view(project),
        run=run,
        page=page,
        actions=[a for a in Action if a is not Action.UNCHANGED],
        chosen_actions=actions,
        chosen_tasks=tasks,
        text=q.get("q", ""),
        more=urlencode([(k, v) for k, v in q.multi_items() if k != "offset"]),
    )


@router.get("/projects/{project}/runs/{run_id}/errors", response_class=HTMLResponse)
def errors_page(request: Request, project: str, run_id: int) -> Response:
    session = session_of(request)
    svc = svc_of(request)
    groups: list[GroupView] = svc.groups(project, run_id)
    return _page(
        request,
        "errors.html",
        session,
        view=svc.project_view(project),
        run=svc.run(project, run_id),
        groups=groups,
    )


@router.get("/projects/{project}/runs/{run_id}/records/{record_id}", response_class=HTMLResponse)
def record_page(request: Request, project: str, run_id: int, record_id: int) -> Response:
    session = session_of(request)
    svc = svc_of(request)
    found = svc.store(svc.entry(project)).find_record(run_id, record_id)
    if found is None:
        raise NotFound(f"run {run_id} has no record {record_id}")
    from p2c.service.views import RecordView

    record = RecordView.of(found)
    links = record_links(svc.entry(project).require(), record)
    return _page(
        request,
        "record.html",
        session,
        view=svc.project_view(project),
        run=svc.run(project, run_id),
        record=record,
        links=links,
    )


@router.get("/projects/{project}/plan", response_class=HTMLResponse)
def plan_page(request: Request, project: str) -> Response:
    session = session_of(request)
    svc = svc_of(request)
    try:
        plan = svc.plan(project, limit=2000)
        failure = None
    except P2CError as exc:
        plan, failure = None, str(exc)
    return _page(request, "plan.html", session, view=svc.project_view(project), plan=plan, failure=failure)


@router.get("/projects/{project}/reconcile", response_class=HTMLResponse)
def reconcile_page(request: Request, project: str) -> Response:
    session = session_of(request)
    svc = svc_of(request)
    try:
        report, failure = svc.reconcile(project, limit=50), None
    except P2CError as exc:
        report, failure = None, str(exc)
    return _page(
        request, "reconcile.html", session, view=svc.project_view(project), report=report, failure=failure
    )


def install(app: Any) -> None:
    """Add the console to ``app``: its routes, its assets, and the answers to a missing login or
    CSRF token and to an unknown page."""
    from fastapi.staticfiles import StaticFiles

    from p2c.web.actions import router as actions

    app.state.sessions = Sessions()
    app.include_router(router)
    app.include_router(actions)
    app.mount("/static", StaticFiles(directory=str(resources.files("p2c.web") / "static")), name="static")

    @app.exception_handler(LoginNeeded)
    async def _login(_r: Request, exc: LoginNeeded) -> Response:
        return RedirectResponse("/login?" + urlencode({"next": exc.target}), status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(_r: Request, _exc: CsrfRefused) -> Response:
        return HTMLResponse(
            "<!doctype html><title>Refused</title><p>This form is out of date or did not come from this "
            "console (its CSRF token is missing or wrong). Go back, reload the page and try again.</p>",
            status_code=403,
        )
