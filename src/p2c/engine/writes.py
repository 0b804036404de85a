"""The write stage: the one place writes leave p2c, and the one place they are recorded.

Two implementations of one small contract, so that ``run`` and ``plan`` are the same pipeline:

- :class:`Sender` sends each batch through the target's connector and commits each chunk's
  outcomes, links, cursor and number sequence in one store transaction;
- :class:`Recorder` answers every write as done without sending it, and keeps the outcomes a run
  would record as the plan (:class:`~p2c.engine.report.PlannedRecord`), writing nothing anywhere.

:func:`send_side_writes` executes a flow's planned side writes through either, in the order the
flow gave them (consecutive writes to one table go as one batch), and turns each into an outcome
with its ``operation``. Updates of the same row among them are sent as one update carrying all their
fields (:func:`coalesce`): a document's line numbered and flagged is one PATCH, not two. Each side
write keeps its own outcome; when the merged update fails, every side write it carried fails with
the service's reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from p2c.connectors import Connector, OpKind, Redactor, WriteAction, WriteOp, WriteResult, key_text
from p2c.engine.related import RelatedResolver
from p2c.engine.report import PlannedRecord, TaskReport
from p2c.errors import P2CError, RecordError
from p2c.flows import SideWrite
from p2c.settings import System
from p2c.store import Action, Link, Outcome, StateStore

__all__ = [
    "Batch",
    "Merged",
    "Recorder",
    "Sender",
    "SideResults",
    "WriteStage",
    "coalesce",
    "send_side_writes",
]

_DONE = {
    OpKind.CREATE: WriteAction.CREATED,
    OpKind.UPDATE: WriteAction.UPDATED,
    OpKind.DELETE: WriteAction.DELETED,
}


@dataclass(frozen=True)
class Batch:
    """One unit of work for the store: a chunk's outcomes, links and link removals, the cursor (with
    the last chunk), a number sequence, and the rows read (with the first)."""

    outcomes: Sequence[Outcome]
    links: Sequence[Link] = ()
    deleted_links: Sequence[tuple[str, str]] = ()
    cursor: tuple[str, str | None] | None = None
    read: int = 0
    sequence: tuple[str, int] | None = None


class WriteStage(Protocol):
    def send(self, system: System, entity: str, ops: Sequence[WriteOp]) -> list[WriteResult]: ...

    def commit(self, report: TaskReport, task_run_id: int, batch: Batch) -> None: ...

    def created(self, entity: str, payloads: Iterable[Mapping[str, Any]]) -> None: ...


@dataclass
class Sender:
    """Writes for real: through the connectors, recorded in the store. With the run's ``resolver``,
    the keys the service answered for the rows written (ids included) answer later lookups."""

    connectors: Mapping[System, Connector]
    store: StateStore
    resolver: RelatedResolver | None = None
    #: the tables written to so far (the documents' customers are read again after the run wrote them)
    wrote: set[tuple[System, str]] = field(default_factory=set)

    def send(self, system: System, entity: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        if ops:
            self.wrote.add((system, entity))
        results = self.connectors[system].write(entity, ops) if ops else []
        if self.resolver is not None:
            self.resolver.learn(system, entity, (r.target_key for r in results if r.ok and r.target_key))
        return results

    def commit(self, report: TaskReport, task_run_id: int, batch: Batch) -> None:
        b = batch
        self.store.commit_batch(
            task_run_id, b.outcomes, b.links, b.deleted_links, b.cursor, read=b.read, sequence=b.sequence
        )

    def created(self, entity: str, payloads: Iterable[Mapping[str, Any]]) -> None:
        """Nothing to do: what a run created, later tasks find in the target."""


@dataclass
class Recorder:
    """Writes nothing: every write is answered as done, and the outcomes become the plan."""

    resolver: RelatedResolver

    def send(self, system: System, entity: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        return [WriteResult(op, True, _DONE.get(op.kind, WriteAction.UPSERTED), op.key or None) for op in ops]

    def commit(self, report: TaskReport, task_run_id: int, batch: Batch) -> None:
        for o in batch.outcomes:
            if o.action is Action.UNCHANGED and o.operation is None:
                continue  # a run only counts it
            payload = dict(o.target_payload) if o.target_payload else None
            report.planned.append(
                PlannedRecord(o.source_key, o.action, o.target_key, o.message, payload, o.operation)
            )

    def created(self, entity: str, payloads: Iterable[Mapping[str, Any]]) -> None:
        """What an earlier task of the plan would create, later tasks of the plan may refer to."""
        self.resolver.expect(entity, list(payloads))


@dataclass
class SideResults:
    """What the side writes did: an outcome each, and the failure of each record a blocking one failed."""

    outcomes: list[Outcome] = field(default_factory=list)
    failures: dict[str, P2CError] = field(default_factory=dict)


@dataclass(frozen=True)
class Merged:
    """One operation to send, and the side writes it carries (one, or several updates of one row)."""

    op: WriteOp
    carried: tuple[SideWrite, ...]

    @property
    def system(self) -> System:
        return self.carried[0].system

    @property
    def entity(self) -> str:
        return self.carried[0].entity


def _row(w: SideWrite) -> tuple[Any, ...] | None:
    """The row a write addresses (None: a write without a key, a create posted to a set)."""
    if not w.op.key:
        return None
    key = tuple(sorted((k, v.lower() if isinstance(v, str) else v) for k, v in w.op.key.items()))
    return (w.system, w.entity, key)


def coalesce(writes: Sequence[SideWrite]) -> list[Merged]:
    """``writes`` as operations to send, in order, updates of one row merged into one.

    The merged update takes the place of the last write it carries, so whatever any of them was
    planned to follow (a header's flag after its lines') is still sent before it; a field set by
    two of them gets the later value, as sending them one after the other would. Only plain
    consecutive updates of a row merge: another kind of write to the row (a delete, a create) or
    an update conditional on another version (ETag) ends the run of updates that can.

    Example::

        coalesce([number line L, flag line L, flag header H])  ->  [update L (both fields), update H]
    """
    units: list[Merged | None] = []
    open_: dict[tuple[Any, ...], int] = {}  # row -> index of the update later ones of it join
    for w in writes:
        row = _row(w)
        if row is None:
            units.append(Merged(w.op, (w,)))
            continue
        i = open_.pop(row, None)
        if w.op.kind is not OpKind.UPDATE:
            units.append(Merged(w.op, (w,)))
            continue
        prev = units[i] if i is not None else None
        if i is not None and prev is not None and prev.op.etag == w.op.etag:
            units[i] = None
            unit = Merged(replace(prev.op, payload={**prev.op.payload, **w.op.payload}), (*prev.carried, w))
        else:
            unit = Merged(w.op, (w,))
        open_[row] = len(units)
        units.append(unit)
    return [u for u in units if u is not None]


def _groups(units: Sequence[Merged]) -> Iterable[list[Merged]]:
    group: list[Merged] = []
    for u in units:
        if group and (u.system, u.entity) != (group[0].system, group[0].entity):
            yield group
            group = []
        group.append(u)
    if group:
        yield group


def _action(res: WriteResult) -> Action:
    if res.action in (WriteAction.DELETED, WriteAction.UNCHANGED):
        return Action.DELETED
    return Action.CREATED if res.action is WriteAction.CREATED else Action.UPDATED


def send_side_writes(
    stage: WriteStage, task: str, writes: Sequence[SideWrite], redactor: Redactor, *, after: bool
) -> SideResults:
    """Send ``writes`` in order through ``stage``; their outcomes carry redacted payloads and
    messages, as every stored one does. ``after``: they are consequences of records already
    written (a failure says so)."""
    out = SideResults()
    for group in _groups(coalesce(writes)):
        first = group[0]
        results = stage.send(first.system, first.entity, [u.op for u in group])
        for unit, res in zip(group, results, strict=True):
            for w in unit.carried:
                _record(out, task, w, res, redactor, after=after, carried=unit.carried)
    return out


def _record(
    out: SideResults,
    task: str,
    w: SideWrite,
    res: WriteResult,
    redactor: Redactor,
    *,
    after: bool,
    carried: Sequence[SideWrite],
) -> None:
    """The outcome of one side write, from the result of the operation that ``carried`` it."""
    record = w.record or key_text(w.op.key) or ""
    target = f"{w.entity} {key_text(res.target_key or w.op.key) or '(new)'}"
    payload = redactor.data(w.op.payload)
    if res.ok:
        out.outcomes.append(
            Outcome(
                task,
                record,
                _action(res),
                target_key=target,
                message=w.what,
                target_payload=payload,
                operation=w.kind.value,
            )
        )
        return
    assert res.error is not None
    reason = f"{'written, but ' if after else ''}could not {w.what}: {res.error.reason}"
    others = sorted({o.what for o in carried if o is not w and o.what != w.what})
    if others:  # the service refused the one update of the row, which did more than this
        reason += f" (one update of the row, which would also {' and '.join(others)})"
    error = RecordError(
        reason, entity=w.entity, key=record, field=w.field or res.error.field, status=res.error.status
    )
    out.outcomes.append(
        Outcome(
            task,
            record,
            Action.FAILED,
            target_key=target,
            error_class=type(res.error).__name__,
            field=error.field,
            message=redactor.text(str(error)),
            target_payload=payload,
            operation=w.kind.value,
        )
    )
    if w.blocking and w.record is not None:
        out.failures.setdefault(w.record, error)
