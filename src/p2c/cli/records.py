"""``p2c records RUN`` and ``p2c errors RUN``: what became of each record of a run, and why.

``records`` lists a run's records by task and fate (``--action created|updated|deleted|filtered|
skipped|waiting|failed|dismissed``), each with its reason: the skip reason and message, the filter
that left it out, the field and the service's message of a failure. Records found unchanged are
counted, not stored one by one (a run over a million unchanged rows would otherwise store a
million rows); the listing says how many there were. ``errors`` is the same listing for the
failed and waiting records, as it always was.

Example::

    p2c records 12 --task QuoteHeader --action skipped
    p2c errors 12 --json
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from p2c.cli.base import ProjectOpt, console, exit_on_errors, load_project_file
from p2c.cli.tables import records_table
from p2c.errors import ConfigError
from p2c.store import Action, OutcomeRecord, RunInfo

__all__ = ["errors", "record_json", "records"]

_LISTED = [a for a in Action if a is not Action.UNCHANGED]


def record_json(r: OutcomeRecord) -> dict[str, Any]:
    """One record outcome as the JSON listings (and the service's API) give it."""
    return {
        "task": r.task,
        "source_key": r.source_key,
        "operation": r.operation,
        "action": str(r.action),
        "reason": r.reason,
        "target_key": r.target_key,
        "error": r.error_class,
        "field": r.field,
        "message": r.message,
        "source_row": r.source_row,
        "target_payload": r.target_payload,
    }


def _load(
    project: Path, run_id: int, actions: Sequence[Action], task: str | None, limit: int | None
) -> tuple[RunInfo, list[OutcomeRecord]]:
    from p2c.store import StateStore

    proj = load_project_file(project)
    if task is not None and task not in {t.name for t in proj.tasks}:
        raise ConfigError(
            f"unknown task {task} (the project has {', '.join(t.name for t in proj.tasks)})", field="--task"
        )
    with StateStore(proj.state_url) as store:
        run = store.run(run_id)
        if run is None:
            raise ConfigError(f"there is no run {run_id} (see `p2c history`)", field="RUN")
        return run, store.outcomes(run_id, actions=actions, task=task, limit=limit)


def _show(run: RunInfo, recs: list[OutcomeRecord], what: str, as_json: bool, limit: int | None) -> None:
    if as_json:
        typer.echo(json.dumps([record_json(r) for r in recs], default=str, ensure_ascii=False, indent=1))
        return
    more = " (the first ones: --limit shows more)" if limit is not None and len(recs) >= limit else ""
    console.print(records_table(f"run {run.id}: {len(recs)} {what}{more}", recs, console.width))


def records(
    run_id: int = typer.Argument(..., metavar="RUN"),
    project: Path = ProjectOpt,
    task: str | None = typer.Option(None, "--task", "-t", help="Only the records of this task."),
    action: list[Action] = typer.Option(
        None, "--action", "-a", help="Only records with this fate (repeatable); default: all listed."
    ),
    limit: int = typer.Option(200, min=1, help="At most this many records."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Every record of a run with what became of it and why: created, updated, deleted, filtered
    (by which filter), skipped (the reason), waiting (for which parent), failed (field and message)."""
    wanted = list(action or _LISTED)
    with exit_on_errors():
        run, recs = _load(project, run_id, [a for a in wanted if a is not Action.UNCHANGED], task, limit)
    _show(run, recs, "record(s)", as_json, limit)
    if as_json:
        return
    tasks = [t for t in run.task_runs if task is None or t.task == task]
    same = sum(t.counts.unchanged for t in tasks)
    if same and Action.UNCHANGED in wanted:
        console.print(
            f"{same} record(s) unchanged since the last write: counted, not listed one by one "
            f"(`p2c history {run_id}` shows them per task)."
        )


def errors(
    run_id: int = typer.Argument(..., metavar="RUN"),
    project: Path = ProjectOpt,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Every record that failed or is waiting in a run: the record, the field, the service's message."""
    with exit_on_errors():
        run, recs = _load(project, run_id, [Action.FAILED, Action.WAITING], None, None)
    _show(run, recs, "failed or waiting record(s)", as_json, None)
