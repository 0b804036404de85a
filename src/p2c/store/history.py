"""Read side of the store: runs, task runs and record outcomes as the history shows them.

Plain functions over an open :class:`~sqlalchemy.engine.Connection`; :class:`~p2c.store.StateStore`
wraps each in one read transaction, so a run and its task runs come from one snapshot. Whether a
record is pending looks only at the record's own outcomes (``operation IS NULL``): a side write
that failed is in the history, but the record's own outcome is what says the record failed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, Text, and_, any_, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import BindParameter

from p2c.store.jsontext import loads
from p2c.store.model import Action, Counts, OutcomeRecord, RunInfo, RunStatus, TaskRunInfo, Trigger
from p2c.store.schema import COUNTER_COLUMNS, record_outcomes, runs, task_runs

__all__ = [
    "PENDING",
    "among",
    "chunks",
    "outcome_record",
    "outcomes",
    "pending",
    "pending_keys",
    "run_infos",
    "runs_query",
    "task_run_infos",
]

PENDING = (Action.FAILED.value, Action.WAITING.value)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


#: SQLite has its JSON functions built in from 3.38 (earlier builds may lack them)
_JSON_EACH = sqlite3.sqlite_version_info >= (3, 38)


def among(column: ColumnElement[str], keys: Sequence[str], sqlite: bool) -> ColumnElement[bool]:
    """``column IN keys`` with one parameter whatever the number of keys: an array on PostgreSQL,
    a JSON array unpacked by ``json_each`` on SQLite. SQLAlchemy's expansion into one parameter
    per key is done again at every execution: for 5 000 keys it cost half as much as the query
    (a run with no change asks for the source hash of every row it reads). Without ``json_each``
    (SQLite before 3.38), one parameter per key."""
    if not sqlite:
        return column == any_(bindparam(None, list(keys), type_=ARRAY(Text)))
    if not _JSON_EACH:
        return column.in_(keys)
    each = func.json_each(bindparam(None, json.dumps(list(keys)), type_=Text)).table_valued("value")
    return column.in_(select(each.c.value))


def _task_run(row: Row[Any]) -> TaskRunInfo:
    m = row._mapping
    return TaskRunInfo(
        id=m["id"],
        run_id=m["run_id"],
        task=m["task"],
        status=RunStatus(m["status"]),
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        counts=Counts(*(int(m[c]) for c in COUNTER_COLUMNS)),
        message=m["message"],
        heartbeat_at=m["heartbeat_at"],
        part=m["part"],
    )


def task_run_infos(conn: Connection, run_ids: Collection[int]) -> dict[int, list[TaskRunInfo]]:
    """Task runs of ``run_ids``, grouped by run, in start order."""
    grouped: dict[int, list[TaskRunInfo]] = {rid: [] for rid in run_ids}
    if not run_ids:
        return grouped
    q = select(task_runs).where(task_runs.c.run_id.in_(list(run_ids))).order_by(task_runs.c.id)
    for row in conn.execute(q):
        grouped[row.run_id].append(_task_run(row))
    return grouped


def runs_query(
    project: str | None,
    limit: int,
    statuses: Collection[RunStatus] | None = None,
    triggers: Collection[Trigger] | None = None,
    before_id: int | None = None,
) -> Select[Any]:
    """The latest runs, newest first: of ``project`` (or all), with one of ``statuses`` /
    ``triggers`` when given, older than ``before_id`` (paging)."""
    r = runs.c
    q = select(runs).order_by(r.id.desc()).limit(limit)
    if project is not None:
        q = q.where(r.project == project)
    if statuses:
        q = q.where(r.status.in_([RunStatus(s).value for s in statuses]))
    if triggers:
        q = q.where(r.trigger.in_([Trigger(t).value for t in triggers]))
    if before_id is not None:
        q = q.where(r.id < before_id)
    return q


def run_infos(conn: Connection, query: Select[Any]) -> list[RunInfo]:
    """The runs ``query`` (a select of ``runs``) returns, each with its task runs."""
    rows = conn.execute(query).all()
    trs = task_run_infos(conn, [r.id for r in rows])
    return [
        RunInfo(
            id=r.id,
            project=r.project,
            tasks=tuple(json.loads(r.tasks)),
            trigger=Trigger(r.trigger),
            full=bool(r.full),
            status=RunStatus(r.status),
            started_at=r.started_at,
            finished_at=r.finished_at,
            message=r.message,
            host=r.host,
            pid=r.pid,
            task_runs=tuple(trs[r.id]),
            requests=json.loads(r.requests) if r.requests else None,
        )
        for r in rows
    ]


def outcome_record(row: Row[Any]) -> OutcomeRecord:
    m = row._mapping
    return OutcomeRecord(
        id=m["id"],
        run_id=m["run_id"],
        task_run_id=m["task_run_id"],
        at=m["at"],
        task=m["task"],
        source_key=m["source_key"],
        action=Action(m["action"]),
        target_key=m["target_key"],
        error_class=m["error_class"],
        field=m["field"],
        message=m["message"],
        source_row=loads(m["source_row"]),
        target_payload=loads(m["target_payload"]),
        transient=bool(m["transient"]),
        operation=m["operation"],
        reason=m["reason"],
        problem=m["problem"],
    )


def outcomes(
    conn: Connection,
    run_id: int,
    actions: Collection[Action] | None,
    task: str | None,
    limit: int | None,
    operations: bool | None = None,
) -> list[OutcomeRecord]:
    """Outcomes of a run in recording order; ``operations``: None = all, False = the records' own
    outcomes, True = side writes only."""
    o = record_outcomes.c
    q = select(record_outcomes).where(o.run_id == run_id)
    if actions is not None:
        q = q.where(o.action.in_([Action(a).value for a in actions]))
    if operations is not None:
        q = q.where(o.operation.is_not(None) if operations else o.operation.is_(None))
    if task is not None:
        q = q.where(o.task == task)
    q = q.order_by(o.id)
    if limit is not None:
        q = q.limit(limit)
    return [outcome_record(r) for r in conn.execute(q)]


def _latest_is_pending(
    task: str | BindParameter[str], keys: Sequence[str] | None = None, sqlite: bool = True
) -> Select[Any]:
    """Own outcomes of ``task``'s records that are FAILED or WAITING with no later own outcome for
    the same record (restricted to ``keys`` when given, and then only the ``source_key`` column).
    Side writes are left out on both sides: they neither are pending nor clear a pending record."""
    o = record_outcomes.alias("o")
    later = record_outcomes.alias("later")
    newer = exists().where(
        and_(
            later.c.task == o.c.task,
            later.c.source_key == o.c.source_key,
            later.c.id > o.c.id,
            later.c.operation.is_(None),
        )
    )
    q = select(o) if keys is None else select(o.c.source_key).where(among(o.c.source_key, keys, sqlite))
    own = o.c.operation.is_(None)
    return q.where(o.c.task == task, o.c.action.in_(PENDING), own, ~newer).order_by(o.c.id)


@cache
def _pending_of_a_task() -> Select[Any]:
    """:func:`_latest_is_pending` of every record, its task a parameter: built once (building it,
    two aliases and their cache key, took ten times as long as running it; every task of every
    run asks)."""
    return _latest_is_pending(bindparam("task"))


def pending(conn: Connection, task: str) -> list[OutcomeRecord]:
    return [outcome_record(r) for r in conn.execute(_pending_of_a_task(), {"task": task})]


def pending_keys(conn: Connection, task: str, keys: Iterable[str], chunk: int) -> set[str]:
    """Which of ``keys`` are pending in ``task`` (one indexed query per chunk of keys)."""
    found: set[str] = set()
    oc = record_outcomes.c
    ever = select(oc.id).where(oc.task == task, oc.action.in_(PENDING), oc.operation.is_(None)).limit(1)
    if conn.scalar(ever) is None:  # the usual case: nothing of this task ever failed or waited
        return found
    for part in chunks(sorted(set(keys)), chunk):
        found.update(conn.scalars(_latest_is_pending(task, part, conn.dialect.name == "sqlite")))
    return found
