"""Source deletions at the target: lines that follow their header are deleted there too (by their
link); other records are kept there, and only their link goes.

A deletion never removes a target record that another source record now holds: a line deleted
and a line added reusing its number (its target key) share a target record, and when the store
already links that target key to the other record (written in this run), only the deleted one's
link goes (the guard, by :meth:`~p2c.store.StateStore.links_by_target`).
"""

from __future__ import annotations

from collections.abc import Sequence

from p2c.connectors import Connector, Refusal, WriteOp
from p2c.engine.binder import Binder
from p2c.engine.outcomes import Outcomes
from p2c.engine.report import TaskReport
from p2c.engine.target import TargetTable
from p2c.engine.writes import WriteStage
from p2c.flows import SkipReason
from p2c.project import Task
from p2c.store import Action, Outcome, StateStore

__all__ = ["delete_records"]


def delete_records(
    task: Task,
    deleted: Sequence[str],
    *,
    follow: bool,
    binder: Binder,
    store: StateStore,
    target: Connector,
    table: TargetTable,
    stage: WriteStage,
    outcomes: Outcomes,
    report: TaskReport,
) -> tuple[list[Outcome], list[tuple[str, str]]]:
    """Outcomes of ``deleted`` (source keys), and the links to drop; ``follow``: delete at the target."""
    links = binder.links(list(deleted)) if deleted and follow else {}
    out: list[Outcome] = []
    dropped = [(task.name, k) for k in deleted if k not in links]
    for key in deleted:
        if key not in links:
            message = f"deleted in the source; the {task.target.entity} record is kept"
            out.append(outcomes.skip(key, SkipReason.SOURCE_DELETED, message))
    holders = store.links_by_target(task.name, [lk.target_key for lk in links.values()]) if links else {}
    for key in [k for k, lk in links.items() if holders.get(lk.target_key, lk).source_key != k]:
        lk = links.pop(key)
        dropped.append((task.name, key))
        holder = holders[lk.target_key].source_key
        message = f"deleted in the source; {binder.shown(lk)} is now the target of {holder}, kept"
        out.append(outcomes.skip(key, SkipReason.SOURCE_DELETED, message))
    if not links:
        return out, dropped
    plans = target.plan_deletes(table, [(k, binder.target_of(lk)) for k, lk in links.items()])
    sends = [op for op in plans if isinstance(op, WriteOp)]
    results = iter(stage.send(task.target.system, task.target.entity, sends))
    for key, op in zip(links, plans, strict=True):
        if isinstance(op, Refusal):  # a line of a closed CRM document cannot be deleted: kept, saying why
            dropped.append((task.name, key))
            out.append(outcomes.skip(key, SkipReason.CLOSED_DOCUMENT, op.reason))
            continue
        res = next(results)
        if res.ok:
            report.add(Action.DELETED)
            dropped.append((task.name, key))
            out.append(Outcome(task.name, key, Action.DELETED, target_key=binder.shown(links[key])))
        else:
            assert res.error is not None
            out.append(outcomes.failure(key, {}, op.key, res.error))
    return out, dropped
