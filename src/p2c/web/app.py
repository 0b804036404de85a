"""The ASGI application of ``p2c serve``: the console at ``/``, the REST API at ``/api/v1``,
``/healthz``, ``/readyz`` and ``/metrics``.

:func:`create_app` wires a :class:`p2c.service.Service` (the projects), its scheduler and its
tokens into FastAPI. Errors become JSON answers with the reason and nothing secret: an unknown
project or run 404, a bad request 400, a paused or busy project 409, a service that cannot be
reached 503. When the server stops (SIGTERM), running runs stop after the chunk they are writing
(recorded INTERRUPTED; the next run resumes) before the process ends.
"""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from p2c import __version__
from p2c.errors import ConfigError, P2CError, ServiceUnavailableError
from p2c.service import NotFound, ProjectBusyError, Scheduler, Service
from p2c.service.metrics import CONTENT_TYPE_LATEST
from p2c.service.tokens import Tokens
from p2c.store import ProjectLockedError, ProjectPausedError
from p2c.web.api import router
from p2c.web.auth import ERRORS, caller
from p2c.web.console import install as install_console

__all__ = ["create_app"]

log = logging.getLogger("p2c.web")


class Health(BaseModel):
    status: str
    version: str


class Ready(BaseModel):
    status: str
    projects: dict[str, dict[str, str]]


def _error(status: int, kind: str, message: str, request: Request | None = None) -> Response:
    """A refusal: JSON for the API (and /readyz, /metrics), a short page for the console."""
    if request is None or request.url.path.startswith(("/api/", "/readyz", "/metrics", "/healthz")):
        return JSONResponse({"error": kind, "detail": message}, status_code=status)
    return HTMLResponse(
        f"<!doctype html><title>{status}</title><link rel=stylesheet href=/static/console.css>"
        f"<main><h1>{html.escape(kind.replace('_', ' '))}</h1><p class=problem>{html.escape(message)}</p>"
        "<p><a href='/'>Overview</a></p></main>",
        status_code=status,
    )


def create_app(service: Service, tokens: Tokens, scheduler: Scheduler | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            log.info("stopping: running runs end after their current chunk")
            if scheduler is not None:
                scheduler.stop()
            service.close()

    app = FastAPI(
        title="p2c",
        version=__version__,
        description="Prospect-to-cash sync between Dynamics 365 Sales and Supply Chain Management.",
        openapi_url=None,  # served below, behind a token like every endpoint but /healthz
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.tokens = tokens
    app.include_router(router)
    install_console(app)

    @app.get("/api/v1/openapi.json", include_in_schema=False, dependencies=[Depends(caller)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/v1/docs", include_in_schema=False, dependencies=[Depends(caller)])
    def docs() -> Response:
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="p2c API")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        kinds = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
        answer = _error(exc.status_code, kinds.get(exc.status_code, "error"), str(exc.detail), request)
        for key, value in (exc.headers or {}).items():
            answer.headers[key] = value
        return answer

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error(404, "not_found", str(exc), request)

    @app.exception_handler(P2CError)
    async def _p2c(request: Request, exc: P2CError) -> Response:
        text = str(exc)
        if isinstance(exc, (ProjectPausedError, ProjectLockedError, ProjectBusyError)):
            return _error(409, "conflict", text, request)
        if isinstance(exc, ConfigError):
            return _error(400, "bad_request", text, request)
        if isinstance(exc, ServiceUnavailableError):
            return _error(503, "unavailable", text, request)
        return _error(502, type(exc).__name__, text, request)

    @app.get("/healthz", response_model=Health, summary="The process is up (no token needed)")
    def healthz() -> Health:
        return Health(status="ok", version=__version__)

    @app.get(
        "/readyz",
        response_model=Ready,
        dependencies=[Depends(caller)],
        summary="Store and services reachable",
    )
    def readyz() -> Any:
        out: dict[str, dict[str, str]] = {}
        ready = True
        for entry in service.projects:
            if entry.current() is None:
                out[entry.name] = {"project": entry.error or "does not load"}
                ready = False
                continue
            checks = {"store": "ok"}
            try:
                service.store(entry).runs(entry.name, 1)
            except Exception as exc:
                checks["store"] = f"{type(exc).__name__}: {exc}"
            checks.update(service.health(entry.name))
            ready = ready and all(v == "ok" for v in checks.values())
            out[entry.name] = checks
        body = Ready(status="ready" if ready else "not ready", projects=out)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @app.get(
        "/metrics",
        dependencies=[Depends(caller)],
        responses={
            200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
            401: ERRORS[401],
        },
        summary="Prometheus metrics (text format)",
    )
    def metrics() -> Response:
        for entry in service.projects:
            project = entry.current()
            if project is not None:
                service.metrics.project_state(project.name, service.projects.store(project), project)
        return Response(service.metrics.text(), media_type=CONTENT_TYPE_LATEST)

    return app
