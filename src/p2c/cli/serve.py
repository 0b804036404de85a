"""``p2c serve | pause | resume``: p2c as a service, and pausing a project from the shell.

``serve`` runs one process (FastAPI on uvicorn) for one or more projects: their schedules, the
REST API, ``/metrics`` and alerts, until SIGTERM or Ctrl-C — then a running run stops after its
current chunk (INTERRUPTED; the next run resumes) and the process exits. ``pause`` and ``resume``
write the project's pause state to its store, which the service reads before every run.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from p2c.cli.base import ProjectOpt, console, err, exit_on_errors, lean_gc, lean_malloc, load_project_file

__all__ = ["pause", "resume", "serve", "serve_projects"]

log = logging.getLogger("p2c.serve")


def serve_projects(
    paths: list[Path],
    *,
    host: str,
    port: int,
    token_file: Path | None,
    log_format: str,
    ready: list[str] | None = None,
    queue: bool = False,
    broker: str | None = None,
) -> None:
    """Serve ``paths`` until stopped; the first line logged names the URL and the token source."""
    import uvicorn

    from p2c.logs import configure_logging
    from p2c.service import Projects, Scheduler, Service, Tokens
    from p2c.web import create_app

    configure_logging(log_format)
    projects = Projects(paths)
    tokens = Tokens.load(token_file=token_file, default_dir=paths[0].resolve().parent)
    service = Service(projects)
    service.runner.queue_all, service.runner.broker = queue, broker
    app = create_app(service, tokens, Scheduler(service))
    url = f"http://{host}:{port}"
    log.info("p2c serve: %s for %s (API tokens from %s)", url, ", ".join(projects.entries), tokens.source)
    if ready is not None:
        ready.append(url)
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=5
    )
    with lean_gc():  # the projects, the app and the service machinery: frozen for the process's life
        uvicorn.Server(config).run()


def serve(
    project: list[Path] = typer.Option(
        [Path("p2c.yaml")],
        "--project",
        "-p",
        help="A project file (repeatable: one service, several projects).",
    ),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8080, help="Port to listen on."),
    token_file: Path | None = typer.Option(
        None,
        "--token-file",
        help="API tokens, one 'name: token' per line (default: created next to the first project).",
    ),
    log_format: str = typer.Option("text", "--log-format", help="text, or json: one JSON object per line."),
    queue: bool = typer.Option(
        False,
        "--queue",
        help="Send every run's tasks to `p2c worker` processes (else only settings.queue's).",
    ),
    broker: str | None = typer.Option(
        None,
        "--broker",
        help="The workers' broker: redis://HOST:6379/0 or amqp://HOST (default: $P2C_BROKER).",
    ),
) -> None:
    """Run the projects on their schedules, with the REST API (/api/v1), /metrics and alerts."""
    if log_format not in ("text", "json"):
        err.print(f"[red]error:[/red] --log-format is text or json, not {log_format}")
        raise typer.Exit(2)
    lean_malloc()
    with exit_on_errors():
        for path in project:
            load_project_file(path)  # a clear error before anything starts
        if queue:
            from p2c.scale.queue import broker_url

            broker_url(broker)  # a clear error before anything starts
        serve_projects(
            list(project),
            host=host,
            port=port,
            token_file=token_file,
            log_format=log_format,
            queue=queue,
            broker=broker,
        )


def pause(
    project: Path = ProjectOpt,
    reason: str = typer.Option("", "--reason", "-r", help="Why, for whoever looks next."),
) -> None:
    """Pause the project: it runs neither on schedule nor on request (p2c run included) until resumed."""
    import getpass

    from p2c.store import StateStore, now

    with exit_on_errors():
        proj = load_project_file(project)
        with StateStore(proj.state_url) as store:
            store.pause(proj.name, reason or "paused by a person", getpass.getuser(), now())
    console.print(f"project {proj.name} paused; `p2c resume` lets it run again.")


def resume(project: Path = ProjectOpt) -> None:
    """Resume a paused project."""
    from p2c.store import StateStore, now

    with exit_on_errors():
        proj = load_project_file(project)
        with StateStore(proj.state_url) as store:
            was = store.resume(proj.name, now())
    console.print(f"project {proj.name} resumed." if was else f"project {proj.name} was not paused.")
