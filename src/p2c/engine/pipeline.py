"""One task of a run: read → prepare → resolve → map → compare → write → record.

Each stage is a method of :class:`TaskPipeline`; the write stage is given
(:class:`~p2c.engine.writes.Sender` for a run, :class:`~p2c.engine.writes.Recorder` for a plan), so
``run`` and ``plan`` are the same code. The task's flow (:mod:`p2c.flows`) adds its behaviour
through hooks that return planned writes; the pipeline sends and records those exactly like the
task's own records.

Crash safety: side writes made before the records (numbers written back) are committed with the
number sequence as soon as they are sent; each chunk's outcomes, links and side writes are
committed in one store transaction after the chunk was written; the new cursor goes with the
*last* chunk only. A run killed in the middle therefore re-reads from the old cursor; the links
of what it already wrote make those records compare equal and be skipped, and consequences are
planned from the target's current state (a Freight Tax line that exists is updated, an order
already Invoiced is left alone): no duplicates, nothing skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from p2c.catalog import EntitySpec
from p2c.connectors import Refusal, TargetItem, WriteAction, WriteOp, WriteResult
from p2c.engine.binder import Binder
from p2c.engine.context import RunContext
from p2c.engine.hashing import content_hash
from p2c.engine.intake import take_in
from p2c.engine.outcomes import Outcomes, as_wait, create_only
from p2c.engine.reading import SourceReader
from p2c.engine.report import Progress, TaskReport
from p2c.engine.target import target_table
from p2c.engine.writes import Batch, SideResults, WriteStage, send_side_writes
from p2c.errors import (
    P2CError,
    RecordError,
    RunInterrupted,
    ServiceUnreachableError,
    WaitingForParentError,
)
from p2c.flows import OWNING_UNIT, FlowContext, Prepared, SideWrite, Skip, SkipReason, Written, flow_for
from p2c.mapping import Lookup, Missing, iter_nodes, to_wire
from p2c.project import Task
from p2c.settings import System
from p2c.store import Action, Link, Outcome, RunStatus

__all__ = ["TaskPipeline"]


@dataclass
class _Ready:
    key: str
    row: dict[str, Any]
    payload: dict[str, Any]
    digest: str


@dataclass
class _Chunk:
    outcomes: list[Outcome] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


class TaskPipeline:
    """Runs one task of a project through the stages; :meth:`run` returns its report."""

    def __init__(
        self,
        run: RunContext,
        task: Task,
        stage: WriteStage,
        *,
        progress: Progress | None = None,
        chunk: int = 1000,
    ) -> None:
        project = run.project
        self.run_ctx = run
        self.task = task
        self.stage = stage
        self.progress = progress or (lambda _r: None)
        self.chunk = chunk
        self.src = run.connectors[task.source.system]
        self.tgt = run.connectors[task.target.system]
        self.spec: EntitySpec = project.catalog.entity(task.target.system, task.target.entity)
        self.table = target_table(self.spec, task.key_target, project.catalog)
        self.binder = Binder(task, self.spec, run.store)
        companies = list(project.legal_entities)
        self.company = companies[0]
        self.router = run.cache.router(project) if task.source.system is System.CRM else None
        self.mappers = {c: project.mapper(task, c) for c in companies}
        self.flow = flow_for(FlowContext(project, task, run.reads, run.cache, run.view, run.trial))
        self.reader = SourceReader(task, project.catalog, self.src, companies)
        self.reader.before_filter = self._before_filter
        self.report = TaskReport(task.name)
        self.outcomes = Outcomes(task.name, self.report, run.redactor)
        self.rewrite = False
        self._early: list[SideWrite] = []
        self._looked_at: list[Outcome] = []  # filtered records, and records asked for by key that are gone
        # target fields that name a parent record (a lookup that may wait): a refusal naming a
        # missing value in one of them means the parent is not there yet, so the record waits
        self.parent_fields = sorted(
            name
            for name, expr in self.mappers[self.company].fields.items()
            if any(isinstance(n, Lookup) and n.spec.missing is not Missing.FAIL for n in iter_nodes(expr))
        )

    # -- read ---------------------------------------------------------------------------------------

    def _before_filter(self, rows: list[dict[str, Any]]) -> None:
        self._early.extend(self.flow.before_filter(rows))

    def select(self) -> list[str]:
        routed = {OWNING_UNIT} if self.router is not None and self.router.single is None else set()
        return self.reader.select(self.mappers[self.company].source_fields() | self.flow.requires() | routed)

    def read(
        self, *, full: bool, only_keys: set[str] | None
    ) -> tuple[list[dict[str, Any]], list[str], str | None]:
        """The rows to process, the source keys deleted since the cursor, and the new cursor
        (:func:`~p2c.engine.intake.take_in`: the filtered and the gone get their outcome there)."""
        got = take_in(
            self.reader,
            self.run_ctx.store,
            self.task.name,
            self.select(),
            self.outcomes,
            full=full,
            only_keys=only_keys,
            deletes_follow=self.flow.deletes_follow,
            revisit=self.flow.revisit,
        )
        self._looked_at = got.outcomes
        self.report.read = got.read
        return got.rows, got.deleted, got.cursor

    # -- the run --------------------------------------------------------------------------------------

    def run(self, task_run_id: int, *, full: bool = False, only_keys: set[str] | None = None) -> TaskReport:
        started = time.perf_counter()
        # --full rewrites every record too: it repairs targets changed behind p2c's back (reconcile finds them)
        self.rewrite = full
        rows, deleted, new_cursor = self.read(full=full, only_keys=only_keys)
        self.progress(self.report)
        prepared = self.flow.prepare_read(rows, self.reader.key)
        # side writes the records depend on (numbers written back) go first, and are committed with
        # the number sequence before anything reaches the target
        early = self._side([*self._early, *prepared.writes], after=False)
        self._early.clear()
        for row in rows:
            failure = early.failures.get(self.reader.key(row))
            if failure is not None:
                prepared.failures[id(row)] = failure
        if early.outcomes or prepared.sequence:
            self.stage.commit(self.report, task_run_id, Batch(early.outcomes, sequence=prepared.sequence))
        # deletes first: a line added after one was removed may reuse its sequence number (its key)
        gone, dropped = self.deletes(deleted)
        chunks = [rows[i : i + self.chunk] for i in range(0, len(rows), self.chunk)] or [[]]
        for n, part in enumerate(chunks):
            last = n == len(chunks) - 1
            done = self.process(part, prepared)
            if n == 0:  # filtered and gone records go with the first chunk, which counts the reads
                done.outcomes[:0] = self._looked_at
            if last:
                done.outcomes.extend(gone)
            self.stage.commit(
                self.report,
                task_run_id,
                Batch(
                    done.outcomes,
                    done.links,
                    deleted_links=dropped if last else [],
                    cursor=(self.task.name, new_cursor) if last and new_cursor else None,
                    read=self.report.read if n == 0 else 0,
                ),
            )
            self.progress(self.report)
            if self.run_ctx.stop.is_set() and not last:  # committed whole: the next run resumes here
                raise RunInterrupted(f"stopped on request after {n + 1} of {len(chunks)} chunk(s)")
        self.report.seconds = time.perf_counter() - started
        if self.report.failed:
            self.report.status = RunStatus.PARTIAL
        return self.report

    # -- deletes ----------------------------------------------------------------------------------------

    def deletes(self, deleted: Sequence[str]) -> tuple[list[Outcome], list[tuple[str, str]]]:
        """Outcomes of source deletes, and the links to drop. Lines that follow their header are
        deleted at the target too (by their link); other records are kept there."""
        task = self.task
        links = self.binder.links(list(deleted)) if deleted and self.flow.deletes_follow else {}
        out: list[Outcome] = []
        dropped = [(task.name, k) for k in deleted if k not in links]
        for key in deleted:
            if key not in links:
                message = f"deleted in the source; the {task.target.entity} record is kept"
                out.append(self.outcomes.skip(key, SkipReason.SOURCE_DELETED, message))
        if not links:
            return out, dropped
        plans = self.tgt.plan_deletes(self.table, [(k, self.binder.target_of(lk)) for k, lk in links.items()])
        sends = [op for op in plans if isinstance(op, WriteOp)]
        results = iter(self.stage.send(task.target.system, task.target.entity, sends))
        for key, op in zip(links, plans, strict=True):
            if isinstance(op, Refusal):  # a line of a closed CRM document cannot be deleted: kept, saying why
                dropped.append((task.name, key))
                out.append(self.outcomes.skip(key, SkipReason.CLOSED_DOCUMENT, op.reason))
                continue
            res = next(results)
            if res.ok:
                self.report.add(Action.DELETED)
                dropped.append((task.name, key))
                out.append(Outcome(task.name, key, Action.DELETED, target_key=self.binder.shown(links[key])))
            else:
                assert res.error is not None
                out.append(self.outcomes.failure(key, {}, op.key, res.error))
        return out, dropped

    # -- one chunk: prepare, resolve, map, compare, write --------------------------------------------------

    def process(self, rows: list[dict[str, Any]], prepared: Prepared) -> _Chunk:
        done = _Chunk()
        links = self.binder.links([self.reader.key(r) for r in rows])
        ready: list[_Ready] = []
        pending: list[SideWrite] = []
        for key, row, result in self.map_rows(rows, prepared, pending):
            if isinstance(result, P2CError):
                done.outcomes.append(self.outcomes.failure(key, row, None, result))
            elif isinstance(result, Skip):
                done.outcomes.append(self.outcomes.skip(key, result.reason, result.message))
            else:
                digest = self.digest(result, row)
                link = links.get(key)
                if link is not None and link.hash == digest and not self.rewrite:
                    done.outcomes.append(self.outcomes.unchanged(key))
                elif link is not None and self.flow.create_only:
                    done.outcomes.append(
                        self.outcomes.skip(key, SkipReason.CREATE_ONLY, create_only(self.task.target))
                    )
                else:
                    ready.append(_Ready(key, row, result, digest))
        if pending:
            done.outcomes.extend(self._side(pending, after=False).outcomes)
        if ready:
            held = self.flow.before_write([r.row for r in ready])
            for r in ready:
                failure = held.failure(r.row)
                if failure is not None:
                    done.outcomes.append(self.outcomes.failure(r.key, r.row, r.payload, failure))
            ready = [r for r in ready if held.failure(r.row) is None]
        if ready:
            self.write(ready, links, done)
        return done

    def map_rows(
        self,
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
        by_company: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            company = prepared.failure(row) or self._company_of(row)
            if isinstance(company, str):
                by_company.setdefault(company, []).append(row)
            else:  # a failure, or a Skip: the record's business unit is none of the project's
                yield self.reader.key(row), row, company
        for company, crows in by_company.items():
            mapper = self.mappers[company]
            try:
                here = self.flow.prepare_chunk(crows)
                related = self.run_ctx.resolver.resolve(mapper, crows)
            except ServiceUnreachableError:  # the run stops; no row of the chunk is recorded
                raise
            except P2CError as exc:  # a read failed as a whole: every row of the chunk fails
                for row in crows:
                    yield self.reader.key(row), row, exc
                continue
            side.extend(here.writes)
            for row in crows:
                key = self.reader.key(row)
                failure = here.failure(row)
                if failure is not None and not (past_waits and isinstance(failure, WaitingForParentError)):
                    yield key, row, failure
                    continue
                skip = prepared.skipped(row) or here.skipped(row)
                if skip is not None:
                    yield key, row, skip
                    continue
                try:
                    yield key, row, self._checked(mapper.map(row, related))
                except (RecordError, WaitingForParentError) as exc:
                    yield key, row, exc

    def _checked(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A payload whose key has a value with leading or trailing blanks is refused before it is
        sent: services trim or compare differently, and the record would be found under two keys."""
        for name in self.task.key_target:
            value = payload.get(name)
            if isinstance(value, str) and value != value.strip():
                raise RecordError(
                    f"{value!r} has leading or trailing blanks; correct it at the source",
                    entity=self.task.target.entity,
                    field=name,
                )
        return payload

    def _side(self, writes: Sequence[SideWrite], *, after: bool) -> SideResults:
        """Send a flow's side writes; they count in the report like the records do."""
        done = send_side_writes(self.stage, self.task.name, writes, self.run_ctx.redactor, after=after)
        self.report.side_writes += sum(o.action is not Action.FAILED for o in done.outcomes)
        return done

    def digest(self, payload: Mapping[str, Any], row: Mapping[str, Any]) -> str:
        """The content hash compared with the link: the payload, and what the record's consequences
        depend on (an order's header tax, which its Freight Tax line holds)."""
        consequence = self.flow.consequence(row)
        return content_hash(payload if consequence is None else {**payload, "#consequence": consequence})

    def write(self, ready: list[_Ready], links: Mapping[str, Link], done: _Chunk) -> None:
        task = self.task
        crm = task.target.system is System.CRM
        items = [
            TargetItem(
                r.key,
                {k: r.payload.get(k) for k in task.key_target},
                to_wire(r.payload, self.spec) if crm else r.payload,
                linked=r.key in links,
            )
            for r in ready
        ]
        plans = self.tgt.plan_writes(self.table, items)
        sends = [op for op in plans if isinstance(op, WriteOp)]
        results = iter(self.stage.send(task.target.system, task.target.entity, sends))
        written: list[tuple[_Ready, WriteResult]] = []
        for r, op in zip(ready, plans, strict=True):
            if isinstance(op, Refusal):
                # a closed document stays as it is: linked with this content, so the skip (and its
                # reason) is recorded once, not again on every run
                done.outcomes.append(self.outcomes.skip(r.key, SkipReason.CLOSED_DOCUMENT, op.reason))
                done.links.append(self.binder.link(r.key, r.payload, r.digest))
                continue
            res = next(results)
            if not res.ok:
                assert res.error is not None
                done.outcomes.append(
                    self.outcomes.failure(
                        r.key,
                        r.row,
                        r.payload,
                        as_wait(res.error, self.parent_fields, self.task.target.entity),
                    )
                )
                continue
            written.append((r, res))
        news = [Written(r.key, r.row, r.payload, created=r.key not in links) for r, _res in written]
        consequences = self._side(self.flow.after_write(news), after=True)
        done.outcomes.extend(consequences.outcomes)
        created = []
        for r, res in written:
            problem = consequences.failures.get(r.key)
            if problem is not None:
                done.outcomes.append(self.outcomes.failure(r.key, r.row, r.payload, problem))
                continue
            updated = res.action is WriteAction.UPDATED or (
                res.action is WriteAction.UPSERTED and r.key in links
            )
            action = Action.UPDATED if updated else Action.CREATED
            if action is Action.CREATED:
                created.append(r.payload)
            self.report.add(action)
            done.links.append(self.binder.link(r.key, r.payload, r.digest))
            done.outcomes.append(
                Outcome(
                    task.name,
                    r.key,
                    action,
                    target_key=self.binder.display(r.payload),
                    target_payload=self.outcomes.clean(r.payload),
                )
            )
        if created:
            self.stage.created(task.target.entity, created)

    def _company_of(self, row: Mapping[str, Any]) -> str | Skip:
        if self.router is not None:  # a CRM record: its owning business unit's (p2c.flows.companies)
            return self.router.route(row)
        company = str(row.get("dataAreaId") or self.company).lower()
        return company if company in self.mappers else self.company
