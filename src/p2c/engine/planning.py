"""The plan stage of a task: one chunk compared, mapped and planned on the pipeline's thread.

:func:`plan_chunk` is what :class:`~p2c.engine.pipeline.TaskPipeline` does to each chunk before
handing its write to the window (the record stage is :mod:`p2c.engine.recording`): a record
whose source hash equals its link's is unchanged unmapped; the others are prepared (the flow's
chunk hook), resolved and mapped (:func:`map_rows`, which ``run``, ``plan``, a trial of lines and
``reconcile`` all map through), compared by content hash (:func:`record_digest`) and planned for the
target (:func:`plan_writes`). :func:`resolve_ahead` reads a whole page's lookups at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from p2c.connectors import Refusal, TargetItem, WriteOp
from p2c.engine.chunk import Chunk, Planned, Ready, checked
from p2c.engine.hashing import content_hash, source_hash
from p2c.engine.outcomes import create_only
from p2c.errors import P2CError, RecordError, ServiceUnreachableError, WaitingForParentError
from p2c.flows import Prepared, SideWrite, Skip, SkipReason
from p2c.mapping import to_wire
from p2c.settings import System
from p2c.store import Link

if TYPE_CHECKING:
    from p2c.engine.pipeline import TaskPipeline

__all__ = [
    "company_of",
    "map_rows",
    "plan_chunk",
    "plan_writes",
    "record_digest",
    "resolve_ahead",
    "split_by_company",
]


def resolve_ahead(pipe: TaskPipeline, rows: Sequence[dict[str, Any]], prepared: Prepared) -> None:
    """The lookups of a whole page, read at once (the run's resolver keeps them): its chunks'
    own resolves then find every value asked. A read that fails here is asked again by each
    chunk, whose rows then fail with its reason."""
    by_company, _ = split_by_company(pipe, rows, prepared)
    for company, crows in by_company.items():
        try:
            pipe.run_ctx.resolver.resolve(pipe.mappers[company], crows)
        except ServiceUnreachableError:
            raise
        except P2CError:
            continue


def plan_chunk(pipe: TaskPipeline, rows: list[dict[str, Any]], prepared: Prepared) -> Planned:
    """Compare, map and plan one chunk on this thread: the records unchanged at their source
    cost no mapping; those whose payload changed are planned for the target."""
    done = Chunk()
    keys = [pipe.reader.key(r) for r in rows]
    links = pipe.binder.links(keys)
    hashes: dict[str, str] = {}
    changed: list[dict[str, Any]] = []
    for key, row in zip(keys, rows, strict=True):
        hashes[key] = digest = source_hash(row, pipe.fingerprint)
        link = links.get(key)
        if (
            link is not None
            and link.source_hash == digest
            and not pipe.rewrite
            and key not in pipe.again
            and prepared.failure(row) is None
            and prepared.skipped(row) is None
        ):
            done.outcomes.append(pipe.outcomes.unchanged(key))
        else:
            changed.append(row)
    ready: list[Ready] = []
    pending: list[SideWrite] = []
    for key, row, result in map_rows(pipe, changed, prepared, pending):
        if isinstance(result, P2CError):
            done.outcomes.append(pipe.outcomes.failure(key, row, None, result))
        elif isinstance(result, Skip):
            done.outcomes.append(pipe.outcomes.skip(key, result.reason, result.message))
        else:
            digest = record_digest(pipe, result, row)
            link = links.get(key)
            if link is not None and link.hash == digest and not pipe.rewrite:
                done.outcomes.append(pipe.outcomes.unchanged(key))
                if link.source_hash != hashes[key]:  # the next run skips it unmapped
                    done.links.append(replace(link, source_hash=hashes[key]))
            elif link is not None and pipe.flow.create_only:
                done.outcomes.append(
                    pipe.outcomes.skip(key, SkipReason.CREATE_ONLY, create_only(pipe.task.target))
                )
            else:
                ready.append(Ready(key, row, result, digest, hashes[key]))
    if pending:
        done.outcomes.extend(pipe.side_writes(pending, after=False).outcomes)
    if ready:
        held = pipe.flow.before_write([r.row for r in ready])
        for r in ready:
            failure = held.failure(r.row)
            if failure is not None:
                done.outcomes.append(pipe.outcomes.failure(r.key, r.row, r.payload, failure))
        ready = [r for r in ready if held.failure(r.row) is None]
    plans = plan_writes(pipe, ready, links) if ready else []
    return Planned(done, ready, links, plans, [op for op in plans if isinstance(op, WriteOp)])


def map_rows(
    pipe: TaskPipeline,
    rows: Sequence[dict[str, Any]],
    prepared: Prepared,
    side: list[SideWrite],
    *,
    past_waits: bool = False,
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | Skip | P2CError]]:
    """Prepare (the flow's chunk hook), resolve and map ``rows``: for each, its payload, the
    reason it is skipped, or why it cannot go on. The chunk's side writes go into ``side``.
    ``run``, ``plan`` and ``reconcile`` all map through here; ``past_waits`` maps rows a flow
    says wait for a parent anyway (a trial of a header's lines, before the header exists)."""
    by_company, others = split_by_company(pipe, rows, prepared)
    for row, outcome in others:
        yield pipe.reader.key(row), row, outcome
    for company, crows in by_company.items():
        mapper = pipe.mappers[company]
        try:
            here = pipe.flow.prepare_chunk(crows)
            related = pipe.run_ctx.resolver.resolve(mapper, crows)
        except ServiceUnreachableError:  # the run stops; no row of the chunk is recorded
            raise
        except P2CError as exc:  # a read failed as a whole: every row of the chunk fails
            for row in crows:
                yield pipe.reader.key(row), row, exc
            continue
        side.extend(here.writes)
        for row in crows:
            key = pipe.reader.key(row)
            failure = here.failure(row)
            if failure is not None and not (past_waits and isinstance(failure, WaitingForParentError)):
                yield key, row, failure
                continue
            skip = prepared.skipped(row) or here.skipped(row)
            if skip is not None:
                yield key, row, skip
                continue
            try:
                yield key, row, checked(pipe.task, mapper.map(row, related))
            except (RecordError, WaitingForParentError) as exc:
                yield key, row, exc


def record_digest(pipe: TaskPipeline, payload: Mapping[str, Any], row: Mapping[str, Any]) -> str:
    """The content hash compared with the link: the payload, and what the record's consequences
    depend on (an order's header tax, which its Freight Tax line holds)."""
    consequence = pipe.flow.consequence(row)
    return content_hash(payload if consequence is None else {**payload, "#consequence": consequence})


def plan_writes(pipe: TaskPipeline, ready: list[Ready], links: Mapping[str, Link]) -> list[WriteOp | Refusal]:
    """The target's write (or refusal) for each record of ``ready``; ``links``: the records p2c
    wrote before (the connector then knows which exist without asking)."""
    task = pipe.task
    crm = task.target.system is System.CRM
    items = [
        TargetItem(
            r.key,
            {k: r.payload.get(k) for k in task.key_target},
            to_wire(r.payload, pipe.spec) if crm else r.payload,
            linked=r.key in links,
        )
        for r in ready
    ]
    return list(pipe.tgt.plan_writes(pipe.table, items))


def split_by_company(
    pipe: TaskPipeline, rows: Sequence[dict[str, Any]], prepared: Prepared
) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[dict[str, Any], P2CError | Skip]]]:
    """``rows`` by the legal entity each goes to, and the rows that go to none: failed
    already, or skipped (the record's business unit is none of the project's)."""
    by_company: dict[str, list[dict[str, Any]]] = {}
    others: list[tuple[dict[str, Any], P2CError | Skip]] = []
    for row in rows:
        company = prepared.failure(row) or company_of(pipe, row)
        if isinstance(company, str):
            by_company.setdefault(company, []).append(row)
        else:
            others.append((row, company))
    return by_company, others


def company_of(pipe: TaskPipeline, row: Mapping[str, Any]) -> str | Skip:
    if pipe.router is not None:  # a CRM record: its owning business unit's (p2c.flows.companies)
        return pipe.router.route(row)
    company = str(row.get("dataAreaId") or pipe.company).lower()
    return company if company in pipe.mappers else pipe.company
