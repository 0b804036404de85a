"""The tables the commands print: a run's (or plan's) counts per task, the history, a run's records.

Every table names its columns (no legend to learn) and stays readable at 80 columns: numbers are
right-aligned and never cut, long task names wrap at their word boundaries (``CustomersFrom`` /
``AccountsToERP`` on two lines, not ``Custo…``), the outcome columns a table has no record of
(deleted, filtered, skipped, waiting, failed all 0) are left out, and when the full words do not
fit the console, the headers are their short forms (``updated`` → ``upd``). The columns are the
fates of a record, which add up: read = new + updated + deleted + unchanged + filtered + skipped
+ waiting + failed.

Example::

    console.print(counts_table(report, "run 12: succeeded in 3.1 s"))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from p2c.store import OutcomeRecord, RunInfo

__all__ = [
    "COLUMNS",
    "WIDTH",
    "counts_table",
    "history_table",
    "records_table",
    "run_table",
    "task_messages",
    "wrappable",
]

#: (counter, header, short header): the fates of a record as the tables name them. ``read`` to
#: ``unchanged`` are always shown; the others when some row of the table has one.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("read", "read", "read"),
    ("created", "new", "new"),
    ("updated", "updated", "upd"),
    ("deleted", "deleted", "del"),
    ("unchanged", "unchanged", "same"),
    ("filtered", "filtered", "filt"),
    ("skipped", "skipped", "skip"),
    ("waiting", "waiting", "wait"),
    ("failed", "failed", "fail"),
)
#: the width the console is printed at (the tables choose full or short headers by it)
WIDTH = 80
#: a task name narrower than this is never wrapped
_TASK = 16
_ALWAYS = {"read", "created", "updated", "unchanged"}
_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[_,])")


def wrappable(name: str, room: int | None) -> str:
    """``name`` broken into lines of at most ``room`` characters at its word boundaries
    (``OrderHeaderToERP`` → ``OrderHeader`` / ``ToERP``); a word longer than ``room`` is left
    whole for the table to fold. ``None``: no limit."""
    if room is None or len(name) <= room:
        return name
    lines = [""]
    for word in _WORD.split(name):
        if lines[-1] and len(lines[-1]) + len(word) > room:
            lines.append("")
        lines[-1] += word
    return "\n".join(lines)


def _table(title: str, *header: str) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 0), show_edge=False)
    for name in header:
        table.add_column(name)
    return table


def _number(table: Table, header: str) -> None:
    table.add_column(header, justify="right", no_wrap=True)


def _counters(rows: Sequence[Any], width: int | None, other: int) -> tuple[list[tuple[str, str]], int | None]:
    """The count columns worth showing for ``rows`` (objects with the counters as attributes), with
    the full headers when they fit in ``width`` beside ``other`` columns' characters, else short;
    and the room left for the task names (None: no limit)."""
    shown = [c for c in COLUMNS if c[0] in _ALWAYS or any(getattr(r, c[0], 0) for r in rows)]

    def need(i: int) -> int:
        return sum(max(len(c[i]), *(len(str(getattr(r, c[0], 0))) for r in rows)) + 1 for c in shown)

    full = width is None or need(1) + other + _TASK <= width
    room = None if width is None else max(_TASK, width - need(1 if full else 2) - other - 2)
    return [(c[0], c[1] if full else c[2]) for c in shown], room


def counts_table(report: Any, title: str, width: int | None = WIDTH) -> Table:
    """Per-task counts of a run or plan report (:class:`p2c.engine.RunReport`) for a console
    ``width`` wide; a task's message (why it failed) is printed below the table by the caller, not
    squeezed into a cell."""
    rows = [(t.label, t, f"{t.seconds:.1f}", str(t.status)) for t in report.tasks]
    return _tasks_table(title, rows, width)


def _tasks_table(title: str, rows: Sequence[tuple[str, Any, str, str]], width: int | None) -> Table:
    """One row per task: its name, its counters (an object with them as attributes), secs, status."""
    shown, room = _counters([counts for _t, counts, _s, _st in rows], width, 6 + 10)
    table = _table(title, "task")
    table.columns[0].overflow = "fold"
    for _name, header in shown:
        _number(table, header)
    _number(table, "secs")
    table.add_column("status")
    for task, counts, secs, status in rows:
        cells = [str(getattr(counts, name)) for name, _h in shown]
        table.add_row(Text(wrappable(task, room)), *cells, secs, status)
    return table


def task_messages(report: Any) -> Iterable[str]:
    """``task: message`` for each task of ``report`` that has one (why it failed or stopped)."""
    for t in report.tasks:
        if t.message:
            yield f"{t.label}: {t.message}"


def history_table(project: str, runs: Sequence[RunInfo], width: int | None = WIDTH) -> Table:
    """One row per run: when, how it was started, how it ended, and its counts summed over tasks."""
    totals = [r.counts for r in runs]
    shown, _room = _counters(totals, width, 5 + 12 + 9 + 10 + 6 - _TASK)
    table = _table(f"history of {project}", "run", "started", "by", "status")
    table.columns[0].justify = "right"
    for _name, header in shown:
        _number(table, header)
    _number(table, "secs")
    for r, counts in zip(runs, totals, strict=True):
        cells = [str(getattr(counts, name)) for name, _h in shown]
        secs = f"{r.duration:.1f}" if r.duration is not None else "…"
        table.add_row(
            str(r.id), r.started_at.strftime("%m-%d %H:%M"), str(r.trigger), str(r.status), *cells, secs
        )
    return table


def run_table(run: RunInfo, width: int | None = WIDTH) -> Table:
    """The task runs of one run with their counts."""
    when = run.started_at.strftime("%Y-%m-%d %H:%M:%S")
    secs = f" in {run.duration:.1f} s" if run.duration is not None else ""
    rows = [
        (t.label, t.counts, f"{t.duration:.1f}" if t.duration is not None else "…", str(t.status))
        for t in run.task_runs
    ]
    return _tasks_table(f"run {run.id} ({run.trigger}, {when}): {run.status}{secs}", rows, width)


def records_table(title: str, records: Sequence[OutcomeRecord], width: int | None = WIDTH) -> Table:
    """Records of a run: task, source key, what happened (with the side write's name), the field
    and the reason, wrapped."""
    table = _table(title, "task", "record", "outcome", "why")
    table.columns[0].overflow = "fold"
    table.columns[1].overflow = "fold"
    table.columns[3].ratio = 2
    for r in records:
        outcome = f"{r.action} ({r.operation})" if r.operation else str(r.action)
        why = r.message or ""
        if r.field:
            why = f"{r.field}: {why}" if why else r.field
        if r.reason:
            why = f"{r.reason}: {why}"
        # data, not markup: a message may hold [brackets]
        task = wrappable(r.task, None if width is None else max(_TASK, width // 5))
        table.add_row(Text(task), Text(r.source_key), Text(outcome), Text(why))
    return table
