"""``p2c init | setup | doctor | run | plan | history | errors | retry``: thin commands over the engine.

Each command loads the project (``--project``, default ``./p2c.yaml``), calls one function and
maps the result to an exit code: 0 success, 1 partial failure (some records failed), 2 usage or
configuration error, 3 could not run (a service unreachable, credentials refused, a task failed
as a whole).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from p2c.connectors import Redactor
from p2c.engine import PlannedRecord
from p2c.errors import AuthError, ConfigError, P2CError, TransientError
from p2c.settings import System
from p2c.store import Action, Trigger

__all__ = ["register"]


def _width(stream: Any) -> int | None:
    """Piped into a log or CI, rich assumes 80 columns and cuts task names to "Order…"; a log has
    no width, so tables get room there (a terminal, or COLUMNS when set, still decides)."""
    return None if stream.isatty() or os.environ.get("COLUMNS") else 132


console = Console(width=_width(sys.stdout))
err = Console(stderr=True, width=_width(sys.stderr))
ProjectOpt = typer.Option(Path("p2c.yaml"), "--project", "-p", help="The project file.")

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_CANNOT_RUN = 0, 1, 2, 3


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@contextlib.contextmanager
def _errors(redactor: Redactor | None = None) -> Iterator[None]:
    red = redactor or Redactor()
    try:
        yield
    except ConfigError as exc:
        raise _fail(red.text(str(exc)), EXIT_USAGE) from None
    except (AuthError, TransientError) as exc:
        raise _fail(red.text(str(exc)), EXIT_CANNOT_RUN) from None
    except P2CError as exc:
        raise _fail(red.text(str(exc)), EXIT_CANNOT_RUN) from None
    except FileExistsError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


def _load(path: Path) -> Any:
    from p2c.project import load_project

    if not path.exists():
        raise ConfigError(
            f"no project file here; create one with `p2c init` (looked for {path})", entity=str(path)
        )
    return load_project(path)


@contextlib.contextmanager
def _session(project_path: Path) -> Iterator[tuple[Any, Any, Any, Redactor]]:
    """project, store, connectors, redactor — everything a command needs, closed afterwards."""
    from p2c.engine import open_project

    if not project_path.exists():
        raise ConfigError(
            f"no project file here; create one with `p2c init` (looked for {project_path})",
            entity=str(project_path),
        )
    with open_project(project_path) as session:
        yield session.project, session.store, session.connectors, session.redactor


def init(
    directory: Path = typer.Argument(Path("."), help="Where to write p2c.yaml."),
    connections: Path = typer.Option(
        Path(".p2c-sandbox/connections.yaml"), help="The connection set to use."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing p2c.yaml."),
) -> None:
    """Write a ready project (p2c.yaml) for the sandbox, or for the connections file given."""
    from p2c.project import write_sandbox_project

    with _errors():
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

    with _errors(), _session(project) as (proj, _store, conns, red), _errors(red):
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

    with _errors(), _session(project) as (proj, _store, conns, red), _errors(red):
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
            ids[key] = bar.add_task("", name=report.task, counts="", total=None)
            started[key] = time.perf_counter()
        done = report.created + report.updated + report.skipped + report.waiting + report.failed
        elapsed = time.perf_counter() - started[key]
        rate = f"{done / elapsed:,.0f}/s" if done and elapsed > 0 else ""
        counts = (
            f"read {report.read}  created {report.created}  updated {report.updated}  skipped {report.skipped}"
            f"  waiting {report.waiting}  failed {report.failed}  {rate}"
        )
        bar.update(ids[key], counts=counts, total=max(report.read, done) or None, completed=done)

    return bar, update


def summary_table(report: Any, title: str) -> Table:
    table = Table(
        "task", "read", "created", "updated", "skipped", "waiting", "failed", "seconds", "status", title=title
    )
    for t in report.tasks:
        table.add_row(
            t.task,
            str(t.read),
            str(t.created),
            str(t.updated),
            str(t.skipped),
            str(t.waiting),
            str(t.failed),
            f"{t.seconds:.1f}",
            str(t.status) + (f": {t.message}" if t.message else ""),
        )
    return table


def _exit_for(report: Any) -> int:
    if any(str(t.status) == "failed" for t in report.tasks):
        return EXIT_CANNOT_RUN
    return EXIT_PARTIAL if report.failed else EXIT_OK


def run(
    project: Path = ProjectOpt,
    task: list[str] = typer.Option(None, "--task", "-t", help="Run only this task (repeatable)."),
    full: bool = typer.Option(
        False,
        "--full",
        help="Read everything again and rewrite every record (repairs drift `p2c reconcile` finds).",
    ),
) -> None:
    """Synchronise: every task in dependency order, incrementally."""
    from p2c.engine import Engine

    with _errors(), _session(project) as (proj, store, conns, red), _errors(red):
        bar, update = _progress_bar()
        engine = Engine(
            proj, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=red, progress=update
        )
        with bar:
            report = engine.run(task or None, full=full)
    console.print(summary_table(report, f"run {report.run_id}: {report.status} in {report.seconds:.1f} s"))
    if report.failed:
        console.print(
            f"{report.failed} record(s) failed: `p2c errors {report.run_id}` shows why, "
            f"`p2c retry {report.run_id}` runs them again after a fix."
        )
    raise typer.Exit(_exit_for(report))


def plan(
    project: Path = ProjectOpt,
    task: list[str] = typer.Option(None, "--task", "-t", help="Plan only this task (repeatable)."),
    full: bool = typer.Option(False, "--full", help="Plan as if everything was read again."),
    limit: int = typer.Option(20, help="Records to list per task."),
) -> None:
    """Dry run: what a run would create, update and skip. Nothing is written anywhere."""
    from p2c.engine import Engine

    with _errors(), _session(project) as (proj, store, conns, red), _errors(red):
        engine = Engine(proj, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=red)
        report = engine.plan(task or None, full=full)
    console.print(summary_table(report, "plan (nothing was written)"))
    for t in report.tasks:
        for rec in t.planned[:limit]:
            console.print(f"  {t.task}: {planned_line(rec)}", markup=False)
        if len(t.planned) > limit:
            console.print(f"  {t.task}: ... and {len(t.planned) - limit} more")


#: how a plan says what a run would do with a record
_WOULD = {
    Action.CREATED: "create",
    Action.UPDATED: "update",
    Action.DELETED: "delete",
    Action.SKIPPED: "skip",
    Action.WAITING: "leave waiting",
    Action.FAILED: "fail",
}


def planned_line(rec: PlannedRecord) -> str:
    """One write of a plan: ``would create usmf,ACC-1 (source 4f1c…)``; a side write says what it does."""
    verb = _WOULD.get(rec.action, rec.action.value)
    if rec.operation:
        return f"would {verb} {rec.target_key}: {rec.message} (for {rec.source_key})"
    reason = f": {rec.message}" if rec.message else ""
    return f"would {verb} {rec.target_key or ''} (source {rec.source_key}){reason}"


def history(project: Path = ProjectOpt, limit: int = typer.Option(20, help="How many runs.")) -> None:
    """The latest runs with their per-task counts."""
    from p2c.store import StateStore

    with _errors():
        proj = _load(project)
        with StateStore(proj.state_url) as store:
            runs = store.runs(proj.name, limit=limit)
    table = Table("run", "started", "status", "seconds", "tasks", title=f"history of {proj.name}")
    for r in runs:
        tasks = ", ".join(
            f"{t.task} {t.counts.created}+{t.counts.updated}~{t.counts.failed}!" for t in r.task_runs
        )
        table.add_row(
            str(r.id),
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(r.status),
            f"{r.duration:.1f}" if r.duration is not None else "",
            tasks,
        )
    console.print(table)
    console.print("per task: created+updated~failed!")


def errors(
    run_id: int = typer.Argument(..., metavar="RUN"),
    project: Path = ProjectOpt,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Every record that failed or is waiting in a run: the record, the field, the service's message."""
    from p2c.store import Action, StateStore

    with _errors():
        proj = _load(project)
        with StateStore(proj.state_url) as store:
            if store.run(run_id) is None:
                raise ConfigError(f"there is no run {run_id} (see `p2c history`)", field="RUN")
            recs = store.outcomes(run_id, actions=[Action.FAILED, Action.WAITING])
    if as_json:
        console.print_json(
            json.dumps(
                [
                    {
                        "task": r.task,
                        "source_key": r.source_key,
                        "action": str(r.action),
                        "error": r.error_class,
                        "field": r.field,
                        "message": r.message,
                        "source_row": r.source_row,
                        "target_payload": r.target_payload,
                    }
                    for r in recs
                ],
                default=str,
            )
        )
        return
    table = Table(
        "task", "record", "outcome", "field", "message", title=f"run {run_id}: {len(recs)} record(s)"
    )
    for r in recs:
        table.add_row(r.task, r.source_key, str(r.action), r.field or "", r.message or "")
    console.print(table)


def retry(run_id: int = typer.Argument(..., metavar="RUN"), project: Path = ProjectOpt) -> None:
    """Run again only the records that failed (or wait) in RUN, reading them fresh from the source."""
    from p2c.engine import Engine

    with _errors(), _session(project) as (proj, store, conns, red), _errors(red):
        engine = Engine(proj, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=red)
        report = engine.run(retry_run=run_id, trigger=Trigger.RETRY)
    console.print(summary_table(report, f"retry of run {run_id} as run {report.run_id}: {report.status}"))
    raise typer.Exit(_exit_for(report))


def demo(
    directory: Path = typer.Option(
        Path("p2c-demo"), "--dir", help="Where the demo keeps its sandbox, project and state."
    ),
    port_base: int = typer.Option(
        8440, help="Identity, CRM and ERP listen on this port and the next two (0: any free ports)."
    ),
) -> None:
    """The whole product against a local sandbox: start it, set up, check, sync, change, sync again."""
    from p2c.cli.demo import run_demo

    bar, update = _progress_bar()
    with _errors(), bar:
        result = run_demo(directory, port_base=port_base, say=bar.console.print, progress=update)
    for n, report in enumerate(result.runs, 1):
        console.print(summary_table(report, f"demo run {n} (run {report.run_id}): {report.status}"))
    project = result.project_file
    console.print(f"demo finished in {result.seconds:.1f} s. Where to look next:")
    console.print(f"  p2c history --project {project}")
    for report in result.runs:
        if report.failed:
            console.print(f"  p2c errors {report.run_id} --project {project}")
    console.print(f"  p2c sandbox up --data {result.directory / 'sandbox'}   # then explore the CRM and ERP")
    console.print(f"  p2c plan --project {project}   # with the sandbox up: what a run would do now")
    raise typer.Exit(max((_exit_for(r) for r in result.runs), default=EXIT_OK))


def reconcile(
    project: Path = ProjectOpt,
    task: list[str] = typer.Option(None, "--task", "-t", help="Reconcile only this task (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    limit: int = typer.Option(20, min=0, help="Examples to list per task and class."),
) -> None:
    """Compare both systems task by task and list the drift; exit 1 when there is some. Writes nothing."""
    from p2c.reconcile import Drift
    from p2c.reconcile import reconcile as compare

    with _errors(), _session(project) as (proj, store, conns, red), _errors(red):
        crm_erp = {System.CRM: conns.crm, System.ERP: conns.erp}
        report = compare(proj, crm_erp, task or None, limit=limit, store=store)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        columns = ("in sync", "differs", "missing in target", "only in target", "unmappable")
        table = Table("task", "source → target", "source", "target", *columns, "drift", title="p2c reconcile")
        kinds = (
            Drift.IN_SYNC,
            Drift.DIFFERS,
            Drift.MISSING_IN_TARGET,
            Drift.ONLY_IN_TARGET,
            Drift.UNMAPPABLE,
        )
        for t in report.tasks:
            only = "" if t.scope_marked or not t.counts[Drift.ONLY_IN_TARGET] else " (not counted)"
            cells = [str(t.counts[k]) + (only if k is Drift.ONLY_IN_TARGET else "") for k in kinds]
            drift = f"[red]{t.drift}[/]" if t.drift else "0"
            if t.error:
                cells, drift = ["", "", "", "", ""], "[red]could not run[/]"
            table.add_row(
                t.task, f"{t.source} → {t.target}", str(t.source_rows), str(t.target_rows), *cells, drift
            )
        console.print(table)
        for t in report.tasks:
            if t.error:
                console.print(f"  {t.task}: could not run: {red.text(t.error)}", markup=False)
            for kind in kinds[1:]:
                if kind is Drift.ONLY_IN_TARGET and not t.scope_marked and t.counts[kind]:
                    console.print(
                        f"  {t.task} {kind}: {t.counts[kind]} target row(s) without a source, not counted: "
                        "the task marks no row as written by p2c, so they may be outside p2c (--json lists them)"
                    )
                    continue
                for rec in t.examples[kind]:
                    console.print(f"  {t.task} {kind} {rec.describe()}", markup=False)
                more = t.counts[kind] - len(t.examples[kind])
                if more > 0:
                    console.print(f"  {t.task} {kind}: ... and {more} more")
        console.print(f"drift: {report.drift} record(s)" if report.drift else "no drift: both systems agree")
    if report.failed:
        raise typer.Exit(EXIT_CANNOT_RUN)
    raise typer.Exit(EXIT_PARTIAL if report.drift else EXIT_OK)


def register(app: typer.Typer) -> None:
    for fn in (init, setup, doctor, run, plan, history, errors, retry, demo, reconcile):
        app.command()(fn)
