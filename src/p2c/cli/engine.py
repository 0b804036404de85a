"""``p2c init | setup | doctor | run | retry | demo``: the commands that act, thin over the engine.

Each command loads the project, calls one function and maps the result to an exit code
(:mod:`p2c.cli.base`); the commands that only report (``plan | history | errors | reconcile``)
are in :mod:`p2c.cli.reports`. :func:`register` adds both sets to the ``p2c`` app.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from p2c.cli.base import (
    EXIT_CANNOT_RUN,
    EXIT_OK,
    EXIT_PARTIAL,
    ProjectOpt,
    console,
    err,
    exit_for,
    exit_on_errors,
    lean_gc,
    lean_malloc,
    load_project_file,
    project_session,
)
from p2c.cli.records import errors, records
from p2c.cli.reports import adopt, history, plan, reconcile, status
from p2c.cli.scale import queued_run, worker
from p2c.cli.serve import pause, resume, serve
from p2c.cli.tables import counts_table, task_messages
from p2c.errors import ConfigError
from p2c.settings import System
from p2c.store import Trigger

__all__ = ["register"]


def init(
    directory: Path = typer.Argument(Path("."), help="Where to write p2c.yaml."),
    connections: Path = typer.Option(
        Path(".p2c-sandbox/connections.yaml"), help="The connection set to use."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing p2c.yaml."),
) -> None:
    """Write a ready project (p2c.yaml) for the sandbox, or for the connections file given."""
    from p2c.project import write_sandbox_project

    with exit_on_errors():
        if not connections.exists():
            raise ConfigError(
                f"{connections} not found: start the sandbox (`p2c sandbox up`) or give --connections",
                entity=str(connections),
            )
        path = write_sandbox_project(directory, connections, overwrite=force)
    console.print(f"wrote {path}: next, `p2c setup`, `p2c doctor` and `p2c run`")


def setup(project: Path = ProjectOpt) -> None:
    """Provision in the CRM what the project needs: custom columns, alternate keys, change tracking."""
    from p2c.setup import provision

    with exit_on_errors(), project_session(project) as (proj, _store, conns, red), exit_on_errors(red):
        report = provision(proj, conns.crm)
    table = Table("kind", "entity", "name", "action", "detail", title="p2c setup")
    for item in report.steps:
        table.add_row(str(item.kind), item.entity, item.name, str(item.action), item.detail or "")
    console.print(table)
    if not report.ok:
        raise typer.Exit(EXIT_PARTIAL)


def doctor(project: Path = ProjectOpt) -> None:
    """Check both environments before writing anything; non-zero exit when something blocks a run."""
    from p2c.doctor import diagnose

    with exit_on_errors(), project_session(project) as (proj, _store, conns, red), exit_on_errors(red):
        report = diagnose(proj, conns.crm, conns.erp)
    table = Table("check", "status", "detail", "fix", title="p2c doctor")
    colors = {"ok": "green", "warn": "yellow", "fail": "red"}
    for check in report.checks:
        status = str(check.status)
        table.add_row(
            check.name, f"[{colors.get(status, 'white')}]{status}[/]", check.detail or "", check.fix or ""
        )
    console.print(table)
    if report.blocking:
        raise typer.Exit(EXIT_CANNOT_RUN)


def _progress_bar() -> tuple[Progress, Any]:
    bar = Progress(
        TextColumn("{task.fields[name]:<24}"),
        BarColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    ids: dict[int, Any] = {}
    started: dict[int, float] = {}

    def update(report: Any) -> None:
        key = id(report)  # one bar per task of each run (the demo runs twice)
        if key not in ids:
            ids[key] = bar.add_task("", name=report.label, counts="", total=None)
            started[key] = time.perf_counter()
        done = report.accounted
        elapsed = time.perf_counter() - started[key]
        rate = f"{done / elapsed:,.0f}/s" if done and elapsed > 0 else ""
        rest = "".join(
            f"  {name} {n}"
            for name in ("filtered", "skipped", "waiting", "failed")
            if (n := getattr(report, name))
        )
        counts = (
            f"read {report.read}  new {report.created}  updated {report.updated}"
            f"  unchanged {report.unchanged}{rest}  {rate}"
        )
        bar.update(ids[key], counts=counts, total=max(report.read, done) or None, completed=done)

    return bar, update


def _print_counts(report: Any, title: str) -> None:
    console.print(counts_table(report, title, console.width))
    for line in task_messages(report):
        console.print(f"  {line}", markup=False)


def _still_failing(report: Any) -> None:
    """Say so when records that failed in earlier runs still fail: a clean run does not hide them."""
    earlier = [f for f in report.open_failures if f.since_run != report.run_id]
    if earlier:
        since = min(f.since_run for f in earlier)
        console.print(
            f"{len(earlier)} record(s) still failing since run {since}: `p2c status` lists them per task, "
            f"`p2c errors RUN` says why, `p2c dismiss RUN` stops retrying them."
        )


def run(
    project: Path = ProjectOpt,
    task: list[str] = typer.Option(None, "--task", "-t", help="Run only this task (repeatable)."),
    full: bool = typer.Option(
        False,
        "--full",
        help="Read everything again and rewrite every record (repairs drift `p2c reconcile` finds).",
    ),
    queue: bool = typer.Option(
        False, "--queue", help="Send the tasks to `p2c worker` processes (dependencies first); wait for them."
    ),
    broker: str | None = typer.Option(
        None, "--broker", help="With --queue: redis://HOST:6379/0 or amqp://HOST (default: $P2C_BROKER)."
    ),
) -> None:
    """Synchronise: every task in dependency order, incrementally."""
    from p2c.engine import Engine

    lean_malloc()
    with exit_on_errors(), project_session(project) as (proj, store, conns, red), exit_on_errors(red):
        bar, update = _progress_bar()
        engine = Engine(
            proj, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=red, progress=update
        )
        with bar, lean_gc():
            if queue:
                report = queued_run(
                    proj, store, conns, red, broker, tasks=task or None, full=full, progress=update
                )
            else:
                report = engine.run(task or None, full=full)
    _print_counts(report, f"run {report.run_id}: {report.status} in {report.seconds:.1f} s")
    if report.stopped:  # a service went away mid-run: exit 3 (a failed task) with the reason
        err.print(f"[red]error:[/red] the run stopped: {report.stopped}")
    if report.failed:
        console.print(
            f"{report.failed} record(s) failed: `p2c errors {report.run_id}` shows why, "
            f"`p2c retry {report.run_id}` runs them again after a fix."
        )
    _still_failing(report)
    raise typer.Exit(exit_for(report))


def retry(run_id: int = typer.Argument(..., metavar="RUN"), project: Path = ProjectOpt) -> None:
    """Run again only the records that failed (or wait) in RUN, reading them fresh from the source."""
    from p2c.engine import Engine

    lean_malloc()
    with exit_on_errors(), project_session(project) as (proj, store, conns, red), exit_on_errors(red):
        engine = Engine(proj, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=red)
        with lean_gc():
            report = engine.run(retry_run=run_id, trigger=Trigger.RETRY)
    _print_counts(report, f"retry of run {run_id} as run {report.run_id}: {report.status}")
    raise typer.Exit(exit_for(report))


def demo(
    directory: Path = typer.Option(
        Path("p2c-demo"), "--dir", help="Where the demo keeps its sandbox, project and state."
    ),
    port_base: int = typer.Option(
        8440, help="Identity, CRM and ERP listen on this port and the next two (0: any free ports)."
    ),
    serve: bool = typer.Option(
        False, "--serve", help="Afterwards, keep the sandbox and run `p2c serve` on it."
    ),
    serve_port: int = typer.Option(8080, "--serve-port", help="The service's port with --serve."),
) -> None:
    """The whole product against a local sandbox: start it, set up, check, sync, change, sync again."""
    from p2c.cli.demo import DemoResult, run_demo

    def keep_serving(result: DemoResult) -> None:
        bar.stop()  # the service's log lines follow: no live progress display over them
        _demo_summary(result)
        from p2c.cli.serve import serve_projects
        from p2c.service.tokens import DEFAULT_TOKEN_FILE, Tokens

        tokens = Tokens.load(token_file=None, default_dir=result.directory)
        token = next(t.secret.get_secret_value() for t in tokens.tokens)
        url = f"http://127.0.0.1:{serve_port}"
        console.print(f"p2c serve: {url}  (Ctrl-C stops the service and the sandbox)")
        console.print(f"  console: {url}/  (log in with the token below)")
        console.print(f"  API token (demo only; kept in {result.directory / DEFAULT_TOKEN_FILE}): {token}")
        console.print(f"  REST API: curl -H 'Authorization: Bearer {token}' {url}/api/v1/projects")
        serve_projects(
            [result.project_file], host="127.0.0.1", port=serve_port, token_file=None, log_format="text"
        )

    bar, update = _progress_bar()
    with exit_on_errors(), bar:
        result = run_demo(
            directory,
            port_base=port_base,
            say=bar.console.print,
            progress=update,
            serve=keep_serving if serve else None,
        )
    if not serve:
        _demo_summary(result)
    raise typer.Exit(max((exit_for(r) for r in result.runs), default=EXIT_OK))


def _demo_summary(result: Any) -> None:
    for n, report in enumerate(result.runs, 1):
        _print_counts(report, f"demo run {n} (run {report.run_id}): {report.status}")
    project = result.project_file
    console.print(f"demo finished in {result.seconds:.1f} s. Where to look next:")
    console.print(f"  p2c history --project {project}")
    for report in result.runs:
        if report.failed:
            console.print(f"  p2c errors {report.run_id} --project {project}")
    console.print(f"  p2c sandbox up --data {result.directory / 'sandbox'}   # then explore the CRM and ERP")
    console.print(f"  p2c plan --project {project}   # with the sandbox up: what a run would do now")


def dismiss(
    run_id: int | None = typer.Argument(None, metavar="[RUN]"),
    project: Path = ProjectOpt,
    task: list[str] = typer.Option(None, "--task", "-t", help="Only records of this task (repeatable)."),
    key: list[str] = typer.Option(
        None, "--key", "-k", help="Only the record with this source key (repeatable)."
    ),
) -> None:
    """Stop retrying records that still fail (or wait): those of RUN, or without RUN every open one
    of the --task (or of every task, given --key). Runs no longer read them."""
    from p2c.store import StateStore

    with exit_on_errors():
        proj = load_project_file(project)
        unknown = [t for t in task or [] if t not in {x.name for x in proj.tasks}]
        if unknown:
            raise ConfigError(f"unknown task {', '.join(unknown)}", field="--task")
        if run_id is None and not (task or key):
            raise ConfigError("name a RUN, a --task or a --key: which records to dismiss", field="RUN")
        with StateStore(proj.state_url) as store:
            if run_id is not None and store.run(run_id) is None:
                raise ConfigError(f"there is no run {run_id} (see `p2c history`)", field="RUN")
            tasks = task or ([] if run_id is not None else [t.name for t in proj.tasks])
            count = store.dismiss(run_id, tasks=tasks, keys=key or ())
    where = f" of run {run_id}" if run_id is not None else ""
    console.print(f"{count} record(s){where} dismissed; a later failure of one opens it again.")


def register(app: typer.Typer) -> None:
    commands = (
        init,
        setup,
        doctor,
        run,
        plan,
        status,
        history,
        records,
        errors,
        retry,
        dismiss,
        demo,
        reconcile,
        adopt,
        serve,
        pause,
        resume,
        worker,
    )
    for fn in commands:
        app.command()(fn)
