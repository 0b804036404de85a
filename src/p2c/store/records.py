"""Finding a run's records: by task, fate, error class and text, a page at a time, and grouped by
message — what the service's API and console show (a mixin of :class:`p2c.store.StateStore`).

Example::

    page = store.find_records(12, actions=[Action.FAILED], text="Customer group", limit=50)
    page.total, [r.source_key for r in page.records]
    store.record_groups(12, actions=[Action.FAILED, Action.WAITING])   # message → count → keys
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.sql import ColumnElement

from p2c.store.history import outcome_record
from p2c.store.model import Action, OutcomeRecord
from p2c.store.schema import record_outcomes

__all__ = ["MessageGroup", "RecordPage", "RecordQueries"]


@dataclass(frozen=True)
class RecordPage:
    records: list[OutcomeRecord]
    total: int  # records matching, all pages together


@dataclass(frozen=True)
class MessageGroup:
    """The records of a run that share a message (and task, fate, error class and field)."""

    task: str
    action: Action
    error_class: str | None
    field: str | None
    message: str | None
    count: int
    keys: list[str]  # the first few source keys


def _where(
    run_id: int,
    tasks: Collection[str] | None,
    actions: Collection[Action] | None,
    error_class: str | None,
    text: str | None,
    operations: bool | None,
) -> list[ColumnElement[bool]]:
    o = record_outcomes.c
    out: list[ColumnElement[bool]] = [o.run_id == run_id]
    if tasks:
        out.append(o.task.in_(list(tasks)))
    if actions:
        out.append(o.action.in_([Action(a).value for a in actions]))
    if error_class:
        out.append(o.error_class == error_class)
    if text:
        like = f"%{text.lower().replace('%', '').replace('_', '')}%"
        out.append(
            or_(
                func.lower(o.message).like(like),
                func.lower(o.source_key).like(like),
                func.lower(o.target_key).like(like),
            )
        )
    if operations is not None:
        out.append(o.operation.is_not(None) if operations else o.operation.is_(None))
    return out


class RecordQueries:
    def _read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def find_records(
        self,
        run_id: int,
        *,
        tasks: Collection[str] | None = None,
        actions: Collection[Action] | None = None,
        error_class: str | None = None,
        text: str | None = None,
        operations: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> RecordPage:
        """A page of a run's stored records in recording order: of ``tasks``, with one of
        ``actions``, of ``error_class``, whose message or key contains ``text`` (any case)."""
        where = _where(run_id, tasks, actions, error_class, text, operations)
        o = record_outcomes.c
        with self._read() as conn:
            total = conn.scalar(select(func.count()).select_from(record_outcomes).where(*where)) or 0
            rows = conn.execute(
                select(record_outcomes).where(*where).order_by(o.id).limit(limit).offset(offset)
            )
            return RecordPage([outcome_record(r) for r in rows], int(total))

    def find_record(self, run_id: int, record_id: int) -> OutcomeRecord | None:
        """One stored record outcome of a run, by its id."""
        o = record_outcomes.c
        with self._read() as conn:
            row = conn.execute(select(record_outcomes).where(o.run_id == run_id, o.id == record_id)).first()
        return outcome_record(row) if row is not None else None

    def record_groups(
        self,
        run_id: int,
        *,
        tasks: Collection[str] | None = None,
        actions: Collection[Action] | None = None,
        keys_per_group: int = 5,
        limit: int = 100,
    ) -> list[MessageGroup]:
        """A run's records grouped by message (within task, fate, error class and field), the
        largest groups first, each with its first ``keys_per_group`` source keys."""
        where = _where(run_id, tasks, actions, None, None, False)
        o = record_outcomes.c
        cols = (o.task, o.action, o.error_class, o.field, func.coalesce(o.problem, o.message))
        q = (
            select(*cols, func.count().label("n"), func.min(o.id).label("first"))
            .where(*where)
            .group_by(*cols)
            .order_by(func.count().desc(), func.min(o.id))
            .limit(limit)
        )
        out = []
        with self._read() as conn:
            for row in conn.execute(q).all():
                same = [c == v if v is not None else c.is_(None) for c, v in zip(cols, row[:5], strict=True)]
                keys = conn.scalars(
                    select(o.source_key).where(*where, *same).order_by(o.id).limit(keys_per_group)
                )
                out.append(
                    MessageGroup(row[0], Action(row[1]), row[2], row[3], row[4], int(row[5]), list(keys))
                )
        return out
