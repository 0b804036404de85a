"""``p2c worker`` and ``p2c run --queue``: scale-out on Celery workers (docs/scale-out.md).

``worker`` runs a Celery worker in this process that takes work items from the broker; ``run
--queue`` records a run here, holds the project while it lasts, and sends its tasks to the workers
(:class:`p2c.scale.coordinator.QueuedRun`).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from p2c.cli.base import err, exit_on_errors, lean_gc, lean_malloc, load_project_file
from p2c.scale.budget import STATE

__all__ = ["queued_run", "worker"]


def queued_run(proj: Any, store: Any, conns: Any, red: Any, broker: str | None, **options: Any) -> Any:
    """A run of ``proj`` sent to the workers listening on ``broker`` (or ``P2C_BROKER``)."""
    from p2c.engine import Engine
    from p2c.scale.coordinator import QueuedRun
    from p2c.scale.queue import broker_url, celery_app
    from p2c.settings import System

    progress = options.pop("progress", None)
    url = broker_url(broker)
    app = celery_app(url)
    budget = _budget_url(url, None, proj.state_url)
    if budget is not None:  # the run's own checks count against the environment's budget too
        from p2c.scale.budget import connect_budget

        for system, conn in ((System.CRM, conns.crm), (System.ERP, conns.erp)):
            limits = getattr(proj.settings.request_budget, system.value)
            conn.use_budget(connect_budget(budget, conn.service_root, limits))
    engine = Engine(proj, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=red)
    return QueuedRun(engine, app, progress=progress).run(**options)


def _budget_url(broker: str, given: str | None, store: str | None) -> str | None:
    """Where the shared budget lives: ``given``, ``P2C_BUDGET``, else the broker if it is Redis,
    else ``store`` (PostgreSQL), else ``state``: each project's own state store (PostgreSQL, as
    scale-out needs). RabbitMQ sites need no Redis."""
    url = given or os.environ.get("P2C_BUDGET")
    if url is None:
        url = broker if broker.startswith("redis") else store or STATE
    return None if url == "none" else url


def worker(
    broker: str | None = typer.Option(
        None, "--broker", help="The broker: redis://HOST:6379/0 or amqp://HOST (default: $P2C_BROKER)."
    ),
    store: str | None = typer.Option(
        None,
        "--store",
        help="The state store, postgresql://... (default: $P2C_STORE, else each project's own state).",
    ),
    budget: str | None = typer.Option(
        None,
        "--budget",
        help="Redis or PostgreSQL of the shared request budget (default: $P2C_BUDGET, else the broker "
        "if Redis, else --store, else 'state': each project's state store; 'none': no shared budget).",
    ),
    project: list[Path] = typer.Option(
        None,
        "--project",
        "-p",
        help="A project file this worker runs (repeatable; default: the queued path).",
    ),
    concurrency: int = typer.Option(2, "--concurrency", "-c", min=1, help="Items run at once (threads)."),
    lease: float = typer.Option(60.0, "--lease", min=3, help="Seconds an item's lease lasts unrenewed."),
    visibility_timeout: float = typer.Option(
        3600.0,
        "--visibility-timeout",
        help="Redis: seconds before an unacknowledged item is delivered again.",
    ),
    restore_every: float = typer.Option(
        10.0, "--restore-every", help="Redis: how often to look for such items (seconds)."
    ),
    log_level: str = typer.Option("INFO", "--log-level", help="DEBUG, INFO, WARNING..."),
) -> None:
    """Run work items of queued runs (p2c run --queue, p2c serve --queue) until stopped."""
    from p2c.logs import configure_logging
    from p2c.scale.budget import budget_backend
    from p2c.scale.queue import broker_url
    from p2c.scale.worker import WorkerConfig, require_postgres, start_worker

    lean_malloc()
    with exit_on_errors():
        url = broker_url(broker)
        store_url = store or os.environ.get("P2C_STORE")
        if store_url:
            require_postgres(store_url)
        budget_url = _budget_url(url, budget, store_url)
        if budget_url not in (None, STATE):
            budget_backend(budget_url)  # a URL of neither is refused now, not at the first item
        projects = {}
        for path in project or []:
            loaded = load_project_file(path)
            if store_url is None:
                require_postgres(loaded.state_url)
            projects[loaded.name] = path.resolve()
        if budget_url is None:
            err.print("warning: no shared request budget (--budget none): each worker counts alone")
        configure_logging("text")
        logging.getLogger().setLevel(log_level.upper())
        config = WorkerConfig(
            store=store_url, budget=budget_url, projects=projects, lease=timedelta(seconds=lease)
        )
        with lean_gc():
            start_worker(
                url,
                config,
                concurrency=concurrency,
                visibility_timeout=visibility_timeout,
                restore_every=restore_every,
                loglevel=log_level.upper(),
            )
