"""The record stage of a task: what the target answered for a chunk's writes becomes outcomes
and links, and the records' consequences (the flow's ``after_write``: an order's Freight Tax line,
a product's activation) are sent and recorded with them.

A refusal planned before the write (a closed document) is linked as it is, so its skip is recorded
once; a write the target refused is a failure, or a wait when it names a parent not there yet
(:func:`~p2c.engine.outcomes.as_wait`); a written record whose consequence failed fails with it.
Called by :class:`~p2c.engine.pipeline.TaskPipeline` once a chunk's writes answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from p2c.connectors import Refusal, WriteAction, WriteResult
from p2c.engine.chunk import Planned, Ready
from p2c.engine.outcomes import as_wait
from p2c.flows import SkipReason, Written
from p2c.store import Action, Outcome, now

if TYPE_CHECKING:
    from p2c.engine.pipeline import TaskPipeline

__all__ = ["record_answers"]


def record_answers(pipe: TaskPipeline, planned: Planned, answers: list[WriteResult]) -> None:
    """What the target answered for a chunk: outcomes, links, and the records' consequences."""
    task, done, links = pipe.task, planned.done, planned.links
    results = iter(answers)
    at = now()  # the chunk's links share one time
    written: list[tuple[Ready, WriteResult]] = []
    for r, op in zip(planned.ready, planned.plans, strict=True):
        if isinstance(op, Refusal):
            # a closed document stays as it is: linked with this content, so the skip (and its
            # reason) is recorded once, not again on every run
            done.outcomes.append(pipe.outcomes.skip(r.key, SkipReason.CLOSED_DOCUMENT, op.reason))
            done.links.append(pipe.binder.link(r.key, r.payload, r.digest, r.source, at))
            continue
        res = next(results)
        if not res.ok:
            assert res.error is not None
            done.outcomes.append(
                pipe.outcomes.failure(
                    r.key,
                    r.row,
                    r.payload,
                    as_wait(res.error, pipe.parent_fields, pipe.task.target.entity),
                )
            )
            continue
        written.append((r, res))
    news = [Written(r.key, r.row, r.payload, r.key not in links, res.found) for r, res in written]
    consequences = pipe.side_writes(pipe.flow.after_write(news), after=True)
    done.outcomes.extend(consequences.outcomes)
    created = []
    failures = consequences.failures
    if failures:
        for r, _res in written:
            problem = failures.get(r.key)
            if problem is not None:
                done.outcomes.append(pipe.outcomes.failure(r.key, r.row, r.payload, problem))
        written = [(r, res) for r, res in written if r.key not in failures]
    cleaned = pipe.outcomes.clean_all([r.payload for r, _res in written])
    for (r, res), stored in zip(written, cleaned, strict=True):
        updated = res.action is WriteAction.UPDATED or (res.action is WriteAction.UPSERTED and r.key in links)
        action = Action.UPDATED if updated else Action.CREATED
        if action is Action.CREATED:
            created.append(r.payload)
        pipe.report.add(action)
        done.links.append(pipe.binder.link(r.key, r.payload, r.digest, r.source, at))
        done.outcomes.append(
            Outcome.written(task.name, r.key, action, pipe.binder.display(r.payload), stored)
        )
    if created:
        pipe.stage.created(task.target.entity, created)
