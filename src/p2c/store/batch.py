"""Write side of the store: one batch of outcomes, links, cursor and sequence as one unit of work.

:func:`write_batch` runs inside the caller's transaction (see
:meth:`p2c.store.StateStore.commit_batch`) and issues few statements whatever the batch size:
an insert of the outcome rows (on SQLite one statement per 1 000 rows, :func:`insert_rows`), one
``UPDATE`` of the task run's counters, one upsert of the cursor, one of the number sequence, an
``executemany`` delete of links and an upsert of links (as the outcomes), plus one indexed query
per 5 000 unchanged records to find those that clear a pending failure.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import StatementError

from p2c.store import history
from p2c.store.jsontext import dumps
from p2c.store.model import Action, Link, Outcome
from p2c.store.schema import cursors, links, record_outcomes, sequences, task_runs

__all__ = [
    "LINK_COLUMNS",
    "UNCHANGED",
    "bump",
    "insert_rows",
    "link_rows",
    "select_links",
    "upsert",
    "write_batch",
]

#: Message of the outcome row that clears a pending record found unchanged on its retry.
UNCHANGED = "unchanged since the last write"
#: Longest name of a side write (``record_outcomes.operation``); checked here so SQLite, which does
#: not enforce the column's length, refuses what PostgreSQL refuses.
OPERATION_MAX = 40


#: each action's text, without the enum's ``value`` descriptor (two per stored outcome)
_VALUE = {a: a.value for a in Action}


def _outcome_row(o: Outcome, action: Action, message: str | None = None) -> dict[str, Any]:
    return {
        "task": o.task,
        "source_key": o.source_key,
        "action": _VALUE[action],
        "target_key": o.target_key,
        "error_class": o.error_class,
        "field": o.field,
        "message": o.message if message is None else message,
        "transient": bool(o.transient),
        "source_row": dumps(o.source_row),
        "target_payload": dumps(o.target_payload),
        "operation": o.operation,
        "reason": o.reason,
        "problem": o.problem,
    }


def link_rows(links_: Sequence[Link]) -> list[dict[str, Any]]:
    """Rows of ``links_``, one per (task, source key): the last one wins."""
    latest = {(lk.task, lk.source_key): lk for lk in links_}
    return [_link_row(lk) for lk in latest.values()]


def _link_row(lk: Link) -> dict[str, Any]:
    return {
        "task": lk.task,
        "source_key": lk.source_key,
        "target_key": lk.target_key,
        "hash": lk.hash,
        "source_hash": lk.source_hash,
        "target_etag": lk.target_etag,
        "synced_at": lk.synced_at,
    }


#: The columns of ``links`` in the order of :class:`Link`'s fields: ``Link(*row)`` builds one.
LINK_COLUMNS = (
    links.c.task,
    links.c.source_key,
    links.c.target_key,
    links.c.hash,
    links.c.synced_at,
    links.c.source_hash,
    links.c.target_etag,
)


def select_links() -> Select[Any]:
    return select(*LINK_COLUMNS)


def upsert(conn: Connection, table: Table, keys: list[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """:func:`insert_rows` of ``rows`` replacing the rows with the same ``keys``."""
    insert_rows(conn, table, rows, keys)


def insert_rows(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: list[str] | None = None
) -> None:
    """Insert ``rows`` (all with the same columns) into ``table``; with ``keys``, a row whose keys
    exist replaces that row's other columns.

    On SQLite the statement is written here, its parameters bound by each column type's own
    processor (SQLAlchemy built a parameter dict per row and ran its processors through it, a
    third of a commit of 1 000 outcomes), and up to :data:`ROWS_PER_STATEMENT` rows go in one
    statement of many ``VALUES`` rows. The driver's ``executemany`` steps the statement once per
    row and lets the interpreter lock go around each step; taking it back waits for whichever
    thread holds it (the task maps while its writes are in flight): 1 000 outcomes took 520 ms
    beside a busy thread instead of 18 ms alone. One statement steps once: 20 ms beside it, 12 ms
    alone. Elsewhere it is SQLAlchemy's ``insert``."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        if not keys:
            conn.execute(insert(table), list(rows))
            return
        stmt = pg_insert(table)
        fresh = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=fresh), list(rows))
        return
    names = tuple(rows[0])
    head, tail, values_of, binds = _sqlite_insert(conn, table, names, tuple(keys or ()))
    per = max(1, min(ROWS_PER_STATEMENT, _variables(conn) // len(names)))
    row_sql = f"({', '.join('?' * len(names))})"
    for start in range(0, len(rows), per):
        part = rows[start : start + per]
        sql = head + ", ".join([row_sql] * len(part)) + tail
        params: list[Any] = []
        try:
            if not binds:
                for r in part:
                    params.extend(values_of(r))
            else:  # the few columns with a processor (times), each row's values taken at once
                for r in part:
                    values = list(values_of(r))
                    for i, bind in binds:
                        values[i] = bind(values[i])
                    params.extend(values)
        except (TypeError, ValueError) as e:  # as SQLAlchemy raises it: a value its column refuses
            raise StatementError(str(e), sql[:200], None, e) from e
        conn.exec_driver_sql(sql, tuple(params))


#: rows of one SQLite ``INSERT`` (fewer when the library allows fewer parameters a statement)
ROWS_PER_STATEMENT = 1000

_Insert = tuple[str, str, Callable[[Any], Sequence[Any]], list[tuple[int, Callable[[Any], Any]]]]
_SQLITE_INSERTS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], _Insert] = {}


def _variables(conn: Connection) -> int:
    """The parameters one statement may hold on this SQLite library (32 766 by default since 3.32)."""
    raw = conn.connection.driver_connection
    getlimit = getattr(raw, "getlimit", None)  # Python 3.11+
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) if getlimit is not None else 999


def _sqlite_insert(conn: Connection, table: Table, names: tuple[str, ...], keys: tuple[str, ...]) -> _Insert:
    """The SQL of :func:`insert_rows` on SQLite before and after its ``VALUES`` rows, what takes a
    row's values in the columns' order, and the bind processor of each column that has one (by
    position)."""
    found = _SQLITE_INSERTS.get((table.name, names, keys))
    if found is None:
        dialect = conn.dialect
        quoted = [dialect.identifier_preparer.quote(n) for n in names]
        head = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(quoted)}) VALUES "
        tail = ""
        if keys:  # every other column replaced, as SQLAlchemy's on_conflict_do_update(set_=...) did
            others = [dialect.identifier_preparer.quote(c.name) for c in table.columns if c.name not in keys]
            fresh = [f"{q} = excluded.{q}" for q in others]
            conflict = ", ".join(dialect.identifier_preparer.quote(k) for k in keys)
            tail = f" ON CONFLICT ({conflict}) DO " + (
                f"UPDATE SET {', '.join(fresh)}" if fresh else "NOTHING"
            )
        processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
        binds: list[tuple[int, Callable[[Any], Any]]] = [
            (i, b) for i, b in enumerate(processors) if b is not None
        ]
        getter = itemgetter(*names)
        values_of: Callable[[Any], Sequence[Any]] = getter if len(names) > 1 else (lambda row: (getter(row),))
        found = (head, tail, values_of, binds)
        _SQLITE_INSERTS[(table.name, names, keys)] = found
    return found


def _raise_sequence(conn: Connection, name: str, value: int, at: datetime) -> None:
    """Upsert the sequence ``name`` to ``max(stored, value)``: a batch that used lower numbers (an
    older run finishing late) never lets the next run reuse a number already given out."""
    sqlite = conn.dialect.name == "sqlite"
    stmt = (sqlite_insert if sqlite else pg_insert)(sequences).values(name=name, value=value, updated_at=at)
    highest = (func.max if sqlite else func.greatest)(sequences.c.value, stmt.excluded.value)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["name"], set_={"value": highest, "updated_at": at})
    )


def reserve_sequence(conn: Connection, name: str, floor: int, count: int, at: datetime) -> int:
    """Take ``count`` numbers of the sequence ``name`` at once, none below ``floor``: the first of
    them. One upsert, so processes numbering from one sequence at the same time (the parts of a
    split load) never get the same block, on SQLite and PostgreSQL alike."""
    sqlite = conn.dialect.name == "sqlite"
    highest = func.max if sqlite else func.greatest
    stmt = (sqlite_insert if sqlite else pg_insert)(sequences).values(
        name=name, value=floor + count - 1, updated_at=at
    )
    raised = highest(sequences.c.value + 1, floor) + count - 1
    last = conn.scalar(
        stmt.on_conflict_do_update(
            index_elements=["name"], set_={"value": raised, "updated_at": at}
        ).returning(sequences.c.value)
    )
    return int(last) - count + 1


def bump(conn: Connection, task_run_id: int, counts: Mapping[str, int], at: datetime) -> None:
    """Add ``counts`` to a task run's counters and set its heartbeat to ``at``."""
    c = task_runs.c
    values: dict[str, Any] = {name: c[name] + n for name, n in counts.items() if n}
    values["heartbeat_at"] = at
    if conn.execute(update(task_runs).where(c.id == task_run_id).values(**values)).rowcount != 1:
        raise LookupError(f"no task run {task_run_id}")


def write_batch(
    conn: Connection,
    *,
    run_id: int,
    task_run_id: int,
    outcomes: Sequence[Outcome],
    links_: Sequence[Link],
    deleted_links: Sequence[tuple[str, str]],
    cursor: tuple[str, str | None] | None,
    sequence: tuple[str, int] | None,
    read: int,
    at: datetime,
    chunk: int,
) -> None:
    """Write one batch on ``conn`` (inside a transaction the caller owns)."""
    tally: Counter[str] = Counter({"read": read})
    rows: list[dict[str, Any]] = []
    silent: dict[str, list[Outcome]] = {}
    unchanged = Action.UNCHANGED
    for o in outcomes:
        if o.action == unchanged and o.operation is None and o.message is None:  # most of a quiet run
            silent.setdefault(o.task, []).append(o)
            continue
        action = o.action if type(o.action) is Action else Action(o.action)  # no Enum call per row
        if o.operation is not None:  # a side write: always a row, never a counter (they count records)
            if len(o.operation) > OPERATION_MAX:
                raise ValueError(f"operation {o.operation!r} is longer than {OPERATION_MAX} characters")
            rows.append(_outcome_row(o, action))
            continue
        tally[_VALUE[action]] += 1
        rows.append(_outcome_row(o, action))
    for task, same in silent.items():  # counted; a row only to clear a failure
        tally[unchanged.value] += len(same)
        # A record retried after a failure and found unchanged gets a row, so pending() clears.
        cleared = history.pending_keys(conn, task, [o.source_key for o in same], chunk)
        rows.extend(_outcome_row(o, Action.UNCHANGED, UNCHANGED) for o in same if o.source_key in cleared)
    if rows:
        for row in rows:
            row.update(run_id=run_id, task_run_id=task_run_id, at=at)
        insert_rows(conn, record_outcomes, rows)
    bump(conn, task_run_id, tally, at)
    if cursor is not None:
        upsert(conn, cursors, ["task"], [{"task": cursor[0], "value": cursor[1], "updated_at": at}])
    if sequence is not None:
        _raise_sequence(conn, sequence[0], int(sequence[1]), at)
    if deleted_links:
        lc = links.c
        conn.execute(
            delete(links).where(lc.task == bindparam("t"), lc.source_key == bindparam("k")),
            [{"t": t, "k": k} for t, k in dict.fromkeys(deleted_links)],
        )
    if links_:
        upsert(conn, links, ["task", "source_key"], link_rows(links_))
