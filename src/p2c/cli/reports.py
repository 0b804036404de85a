"""``p2c plan | status | history | reconcile``: the commands that only report; none writes anything.

``plan`` shows what a run would do, ``status`` where each task stands, ``history`` what runs did
(from the state store; ``p2c records`` and ``p2c errors``, in :mod:`p2c.cli.records`, list a run's
records), ``reconcile`` where the two systems differ. Registered by :func:`p2c.cli.engine.register`.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from p2c.cli.base import (
    EXIT_CANNOT_RUN,
    EXIT_OK,
    EXIT_PARTIAL,
    ProjectOpt,
    console,
    exit_for,
    exit_on_errors,
    load_project_file,
    project_session,
)
from p2c.cli.tables import counts_table, history_table, run_table, task_messages
from p2c.engine import PlannedRecord
from p2c.errors import ConfigError
from p2c.settings import System
from p2c.store import Action

__all__ = ["adopt", "history", "plan", "planned_line", "reconcile", "status"]


def plan(
    project: Path = ProjectOpt,
    task: list[str] = typer.Option(None, "--task", "-t", help="Plan only this task (repeatable)."),
    full: bool = typer.Option(False, "--full", help="Plan as if everything was read again."),
    limit: int = typer.Option(20, help="Records to list per task and kind (writes, failures, skips)."),
) -> None:
    """Dry run: what a run would create, update, skip (and why) or leave out. Nothing is written anywhere."""
    from p2c.engine import Engine

    with exit_on_errors(), project_session(project) as (proj, store, conns, red), exit_on_errors(red):
        engine = Engine(proj, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=red)
        report = engine.plan(task or None, full=full)
    console.print(counts_table(report, "plan (nothing was written)", console.width))
    for line in task_messages(report):
        console.print(f"  {line}", markup=False)
    for t in report.tasks:
        for group in _plan_groups(t.planned):
            if group[0].action is Action.FILTERED:  # one filter, one line: not the same reason n times
                console.print(
                    f"  {t.task}: would leave out {len(group)} record(s): {group[0].message}", markup=False
                )
                continue
            for rec in group[:limit]:
                console.print(f"  {t.task}: {planned_line(rec)}", markup=False)
            if len(group) > limit:
                console.print(f"  {t.task}: ... and {len(group) - limit} more like these", markup=False)
    raise typer.Exit(exit_for(report))  # like run: 1 when records would fail, 3 when a task could not run


#: how a plan says what a run would do with a record
_WOULD = {
    Action.CREATED: "create",
    Action.UPDATED: "update",
    Action.DELETED: "delete",
    Action.SKIPPED: "skip",
    Action.FILTERED: "leave out",
    Action.WAITING: "leave waiting",
    Action.FAILED: "fail",
}


def _plan_groups(planned: list[PlannedRecord]) -> list[list[PlannedRecord]]:
    """A task's planned records in the order a reader wants them, each kind limited on its own:
    the writes (with their side writes), what would fail or wait, what would be skipped, and
    what the filter leaves out."""
    kinds: tuple[tuple[Action, ...], ...] = (
        (Action.CREATED, Action.UPDATED, Action.DELETED),
        (Action.FAILED, Action.WAITING),
        (Action.SKIPPED,),
        (Action.FILTERED,),
    )
    groups: list[list[PlannedRecord]] = [[] for _ in kinds]
    for rec in planned:
        n = next((i for i, k in enumerate(kinds) if rec.action in k), 0)
        groups[0 if rec.operation and rec.action is not Action.FAILED else n].append(rec)
    return [g for g in groups if g]


def planned_line(rec: PlannedRecord) -> str:
    """One write of a plan: ``would create usmf,ACC-1 (source 4f1c…)``; a side write says what it
    does and where: ``would write the Freight Tax line (salesorderdetails (new), for usmf,ORD-1)``."""
    if rec.operation and rec.action is not Action.FAILED:
        return f"would {rec.message} ({rec.target_key}, for {rec.source_key})"
    verb = _WOULD.get(rec.action, rec.action.value)
    target = f" {rec.target_key}" if rec.target_key else ""
    reason = f": {rec.message}" if rec.message else ""
    return f"would {verb}{target} (source {rec.source_key}){reason}"


def history(
    run_id: int | None = typer.Argument(None, metavar="[RUN]", help="Show this run task by task."),
    project: Path = ProjectOpt,
    limit: int = typer.Option(20, help="How many runs."),
) -> None:
    """The latest runs with what became of their records; with RUN, that run task by task."""
    from p2c.store import StateStore

    with exit_on_errors():
        proj = load_project_file(project)
        with StateStore(proj.state_url) as store:
            one = store.run(run_id) if run_id is not None else None
            if run_id is not None and one is None:
                raise ConfigError(f"there is no run {run_id} (see `p2c history`)", field="RUN")
            runs = store.runs(proj.name, limit=limit) if one is None else [one]
    if one is not None:
        console.print(run_table(one, console.width))
        for t in one.task_runs:
            if t.message:
                console.print(f"  {t.label}: {t.message}", markup=False)
        console.print(f"`p2c records {run_id}` lists its records and why each went where it did.")
        return
    console.print(history_table(proj.name, runs, console.width))
    if runs:
        console.print("`p2c history RUN` shows a run task by task, `p2c records RUN` its records.")


def status(project: Path = ProjectOpt) -> None:
    """Per task: records failing now, records waiting for a parent, and the last successful run."""
    from p2c.store import StateStore

    with exit_on_errors():
        proj = load_project_file(project)
        with StateStore(proj.state_url) as store:
            rows = store.task_status([t.name for t in proj.enabled_tasks()])
            failing = store.open_failures([t.name for t in proj.enabled_tasks()])
    table = Table("task", "failing", "waiting", "last success", title=f"status of {proj.name}")
    for r in rows:
        when = r.last_success_at.strftime("%Y-%m-%d %H:%M:%S") if r.last_success_at else ""
        last = f"run {r.last_success_run} {when}" if r.last_success_run is not None else "never"
        table.add_row(r.task, str(r.failing), str(r.waiting), last)
    console.print(table)
    if failing:
        since = min(f.since_run for f in failing)
        console.print(
            f"{len(failing)} record(s) still failing since run {since}: `p2c errors RUN` says why; "
            "every run reads them again until they go through or `p2c dismiss RUN` stops it."
        )


def reconcile(
    project: Path = ProjectOpt,
    task: list[str] = typer.Option(None, "--task", "-t", help="Reconcile only this task (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    limit: int = typer.Option(20, min=0, help="Examples to list per task and class."),
) -> None:
    """Compare both systems task by task and list the drift; exit 1 when there is some. Writes nothing."""
    from p2c.reconcile import Drift
    from p2c.reconcile import reconcile as compare

    with exit_on_errors(), project_session(project) as (proj, store, conns, red), exit_on_errors(red):
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


def adopt(
    project: Path = ProjectOpt,
    task: list[str] = typer.Option(None, "--task", "-t", help="Adopt only this task (repeatable)."),
    apply: bool = typer.Option(
        False, "--apply", help="Link the pairs, then run once to write the differences."
    ),
) -> None:
    """Take over records another integration (Microsoft's P2C templates) already synchronised: link
    the pairs found by natural key; a run then writes only the real differences. Dry by default."""
    from p2c.engine import Engine
    from p2c.reconcile import adopt as find_pairs
    from p2c.store import Trigger

    with exit_on_errors(), project_session(project) as (proj, store, conns, red), exit_on_errors(red):
        crm_erp = {System.CRM: conns.crm, System.ERP: conns.erp}
        report = find_pairs(proj, crm_erp, store, task or None, apply=apply)
        run = None
        if apply:
            engine = Engine(proj, store, crm_erp, redactor=red)
            run = engine.run(task or None, trigger=Trigger.ADOPT)
    verb = "linked" if apply else "to link"
    table = Table(
        "task", verb, "already", "differ", "missing", "only in target", "unmappable", title="p2c adopt"
    )
    for t in report.tasks:
        if t.error:
            table.add_row(t.task, "", "", "", "", "", f"could not run: {t.error}")
            continue
        table.add_row(
            t.task,
            *(str(n) for n in (t.linked, t.already, t.differs, t.missing, t.only_in_target, t.unmappable)),
        )
    console.print(table)
    for t in report.tasks:
        for kind, lines in t.examples.items():
            for line in lines:
                console.print(f"  {t.task} {kind}: {line}", markup=False)
    if run is not None:
        console.print(counts_table(run, f"run {run.run_id} (adopt): the differences written", console.width))
    elif report.tasks:
        console.print(
            f"{report.linked} pair(s) to link. Nothing was written: `p2c adopt --apply` links them and writes "
            "the differences (differ: updated, missing: created); only-in-target rows are left alone."
        )
    if any(t.error for t in report.tasks):
        raise typer.Exit(EXIT_CANNOT_RUN)
    raise typer.Exit(exit_for(run) if run is not None else EXIT_OK)
