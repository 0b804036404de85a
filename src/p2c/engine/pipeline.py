"""One task of a run: read → prepare → resolve → map → compare → write → record.

:class:`TaskPipeline` reads and runs the stages; one chunk is compared, mapped and planned by
:func:`~p2c.engine.planning.plan_chunk` and recorded by
:func:`~p2c.engine.recording.record_answers`; the write stage is given
(:class:`~p2c.engine.writes.Sender` for a run, :class:`~p2c.engine.writes.Recorder` for a plan), so
``run`` and ``plan`` are the same code. The task's flow (:mod:`p2c.flows`) adds its behaviour
through hooks that return planned writes; the pipeline sends and records those exactly like the
task's own records.

The task streams (:class:`~p2c.engine.intake.Intake`): page by page, each page is prepared
(the flow's read hook: numbers, duplicates, derived flags), cut into chunks, and each chunk is
compared and mapped on this thread, then written in the window of :class:`~p2c.engine.flight.Flight`
(``chunks_in_flight`` writes at once) while the next chunks are mapped; memory holds a page and
the window, never the change set. A row whose source hash equals its link's
(:func:`~p2c.engine.hashing.source_hash`) is unchanged at once, unmapped — unless the run is
``--full`` or the record is read again on purpose (failed, waiting, revisited).

Crash safety: side writes made before the records (numbers written back) are committed with the
number sequence as soon as they are sent, before the records they name are written (a page's
records no such write names go first, in a run); each chunk's outcomes, links and side writes are
committed in one store transaction once its write is done, in the order of the chunks; a CRM
page's deletions are sent (and committed) before its rows; the new cursor goes with the *last*
commit, after the deletions an ERP read tells by absence. A run killed in the middle therefore
re-reads from the old cursor; the links of what it already wrote make those records compare equal
and be skipped, and consequences are planned from the target's current state (a Freight Tax line
that exists is updated, an order already Invoiced is left alone): no duplicates, nothing skipped.
A stop request ends the run once what is in flight is committed (the cursor does not move).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial
from typing import Any

from p2c.catalog import EntitySpec
from p2c.connectors import WriteOp, WriteResult
from p2c.engine.ahead import alongside, prepare_ahead
from p2c.engine.binder import Binder
from p2c.engine.chunk import Chunk, Planned
from p2c.engine.context import RunContext
from p2c.engine.deletes import delete_records
from p2c.engine.flight import Committer, Flight
from p2c.engine.hashing import task_fingerprint
from p2c.engine.intake import AGAIN_PAGE, Intake, Page
from p2c.engine.outcomes import Outcomes
from p2c.engine.planning import plan_chunk, resolve_ahead
from p2c.engine.reading import SourceReader
from p2c.engine.recording import record_answers
from p2c.engine.report import Progress, TaskReport
from p2c.engine.share import Share
from p2c.engine.target import target_table
from p2c.engine.writes import Batch, Sender, SideResults, WriteStage, send_side_writes
from p2c.errors import RunInterrupted
from p2c.flows import OWNING_UNIT, FlowContext, Prepared, SideWrite, flow_for
from p2c.mapping import Lookup, Missing, iter_nodes
from p2c.project import Task
from p2c.settings import System
from p2c.store import Action, Outcome, RunStatus

__all__ = ["CHUNK", "CRM_CHUNK", "TaskPipeline"]

#: rows mapped, planned and recorded together (one store transaction each): one write request
#: into Dataverse, five ``$batch`` into F&O. A page's lookups are read for the whole page at once
#: (:func:`~p2c.engine.planning.resolve_ahead`), so a chunk asks nothing more; it is written while the next
#: is mapped and recorded while later ones are in flight
CHUNK = 1000
#: the same into a Dataverse table keyed by lookups (a price-list item, an order line): such a
#: chunk's existence read goes once per 5 000 rows while its writes stay 1 000 rows a request (the
#: connector cuts them); the window then holds ``chunks_in_flight`` x 5 000 rows, and a run killed
#: redoes as many
CRM_CHUNK = 5000


class TaskPipeline:
    """Runs one task of a project through the stages; :meth:`run` returns its report."""

    def __init__(
        self,
        run: RunContext,
        task: Task,
        stage: WriteStage,
        *,
        progress: Progress | None = None,
        chunk: int | None = None,
    ) -> None:
        project = run.project
        self.run_ctx = run
        self.task = task
        self.stage = stage
        self.progress = progress or (lambda _r: None)
        self.src = run.connectors[task.source.system]
        self.tgt = run.connectors[task.target.system]
        self.spec: EntitySpec = project.catalog.entity(task.target.system, task.target.entity)
        self.table = target_table(self.spec, task.key_target, project.catalog)
        keyed_by_lookups = task.target.system is System.CRM and not self.table.simple
        self.chunk = chunk or (CRM_CHUNK if keyed_by_lookups else CHUNK)
        self.binder = Binder(task, self.spec, run.store)
        companies = list(project.legal_entities)
        self.company = companies[0]
        self.router = run.cache.router(project) if task.source.system is System.CRM else None
        self.mappers = {c: project.mapper(task, c) for c in companies}
        self.depth = project.settings.chunks_in_flight
        # rows read whose links may not be committed yet: a page being prepared and the window
        unsettled = max(self.src.page_size, AGAIN_PAGE) + (self.depth + 1) * self.chunk  # + one committing
        self.flow = flow_for(FlowContext(project, task, run.reads, run.cache, run.view, run.trial, unsettled))
        self.reader = SourceReader(task, project.catalog, self.src, companies)
        self.reader.before_filter = self._before_filter
        self.report = TaskReport(task.name)
        self.outcomes = Outcomes(task.name, self.report, run.redactor)
        self.rewrite = False
        self._chunks = 0  # handed to the write window in this run
        self.commits: Committer  # the run's (run() opens it)
        self._reference: Future[None] | None = None  # the reference tables read whole, on a first run
        self._ahead = False  # begun: the target's table and the reference tables asked for already
        self._early: list[SideWrite] = []
        self.again: set[str] = set()  # records read again on purpose: never skipped unmapped
        self._source_writes = 0  # side writes sent to the task's own source (a number, a flag)
        self._sides_prepared = False  # the tables of the flow's side writes learnt (from the first rows)
        self.fingerprint = task_fingerprint(project, task)  # a changed project maps every record again
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

    def begin(self, *, full: bool) -> None:
        """Ask now for what the run reads first: the first page of its source
        (:meth:`SourceReader.begin`), the target table's definition and, on a first run, the
        reference tables (:meth:`_read_ahead`) — while the run checks that both services answer.
        The cursor is the store's now; if another run moved it before this one holds the project,
        :meth:`run` reads afresh."""
        stored = self.run_ctx.store.cursor(self.task.name)
        self.reader.begin(self.select(), None if full else stored)
        self._read_ahead(uncursored=stored is None)
        self._ahead = True

    def _read_ahead(self, *, uncursored: bool) -> None:
        """Learn the target's table (:func:`~p2c.engine.ahead.prepare_ahead`) and, on a first run
        (no cursor, no link), read the reference tables whole, both on threads of their own."""
        prepare_ahead(self.tgt, self.task.target.entity, self.task.name)
        self._reference = None
        if uncursored and not self.run_ctx.store.has_links(self.task.name):
            self._reference = alongside(
                partial(self.run_ctx.resolver.preload, self.mappers.values()), f"reference-{self.task.name}"
            )

    def intake(self, *, full: bool, only_keys: set[str] | None, share: Share | None = None) -> Intake:
        """The pages to process (:class:`~p2c.engine.intake.Intake`: the filtered and the gone get
        their outcome there; the new cursor and the ERP deletions once the pages are done)."""
        return Intake(
            self.reader,
            self.run_ctx.store,
            self.task.name,
            self.select(),
            self.outcomes,
            full=full,
            only_keys=only_keys,
            share=share,
            deletes_follow=self.flow.deletes_follow,
            revisit=self.flow.revisit,
            fingerprint=self.fingerprint,
        )

    # -- the run --------------------------------------------------------------------------------------

    def run(
        self,
        task_run_id: int,
        *,
        full: bool = False,
        only_keys: set[str] | None = None,
        share: Share | None = None,
    ) -> TaskReport:
        """Run the task (``share``: only a part of a split load, :mod:`p2c.engine.share`)."""
        started = time.perf_counter()
        # --full rewrites every record too: it repairs targets changed behind p2c's back (reconcile finds them)
        self.rewrite = full
        store = self.run_ctx.store
        uncursored = store.cursor(self.task.name) is None
        if not self._ahead:
            self._read_ahead(uncursored=uncursored)
        self._ahead = False
        self._sides_prepared = False
        if full or (self.reader.crm and uncursored):
            self._prepare_sides()  # a CRM source read whole (a first run): rows to write back are sure
        intake = self.intake(full=full, only_keys=only_keys, share=share)
        self._chunks = 0
        # the flight ends first (what went through is recorded), then the commits it handed on
        with Committer(self.task.name) as self.commits, Flight(self.depth, self.task.name) as flight:
            for page in intake.pages():
                self.again = intake.again
                self._page(task_run_id, page, flight)
            # the feed past the task's own write-backs is read while its last chunks are written
            settle, wrote = self._catch_up(intake), self._source_writes
            flight.drain()
        # an ERP read whole tells deletions by what it lacks: after every write of the run, whose
        # links the deletions' guard reads; the cursor goes with this last commit
        gone, dropped = self.deletes(intake.deleted)
        self.report.read += len(intake.deleted)
        cursor = (self.task.name, intake.cursor) if intake.cursor else None
        self.stage.commit(
            self.report,
            task_run_id,
            Batch(gone, deleted_links=dropped, cursor=cursor, read=len(intake.deleted)),
        )
        # its own write-backs are in the feed after that cursor: settled now, the next run need not
        # read them; read again when the last chunks' consequences wrote back to the source too
        if settle is None or wrote != self._source_writes:
            settle = self._catch_up(intake)
        later = settle() if settle is not None else None
        if later is not None:
            self.stage.commit(self.report, task_run_id, Batch([], cursor=(self.task.name, later)))
        self.progress(self.report)
        self.report.seconds = time.perf_counter() - started
        if self.report.failed:
            self.report.status = RunStatus.PARTIAL
        return self.report

    def _page(self, task_run_id: int, page: Page, flight: Flight) -> None:
        """Prepare one page, send its deletions, and hand its chunks to ``flight``."""
        self.report.read += page.read
        if page.rows and not self._sides_prepared:  # a run with nothing to write asks nothing
            self._prepare_sides()
        prepared = self.flow.prepare_read(page.rows, self.reader.key)
        # side writes the records depend on (numbers written back) go first, and are committed with
        # the number sequence before any of these records reaches the target; the page's lookups
        # are read meanwhile (they write nothing)
        writes = [*self._early, *prepared.writes]
        many = len(page.rows) > self.chunk
        if self._reference is not None and page.rows:  # the reference tables, read beside the first page
            self._reference.result()
            self._reference = None
        resolving = None
        if many or (writes and page.rows):
            resolving = alongside(
                partial(resolve_ahead, self, page.rows, prepared), f"lookups-{self.task.name}"
            )
        head = Chunk(list(page.outcomes), read=page.read)  # the page's filtered and gone, and its reads
        rows = page.rows
        named = {w.record for w in writes}
        if writes and rows and None not in named and not page.deleted and isinstance(self.stage, Sender):
            # a run's rows no side write names (accounts with a number already) need not wait for
            # those writes: their chunks go first, the others once the writes are through
            free: list[dict[str, Any]] = []
            waiting: list[dict[str, Any]] = []
            for r in rows:
                (waiting if self.reader.key(r) in named else free).append(r)
            # the free rows' last write request is not sent part-full: its rows go with the others
            # (a page of whole requests stays so: 4 500 and 500 of 5 000 would make 26 of 200)
            tail = len(free) % self.tgt.batch_size if len(free) > self.tgt.batch_size else 0
            if tail:
                waiting[:0], free = free[-tail:], free[:-tail]
            if free:
                rows = waiting
                if resolving is not None:
                    resolving.result()
                self._chunks_of(task_run_id, free, prepared, head, flight)
                head = Chunk()
        early = self.side_writes(writes, after=False)
        self._early.clear()
        if early.failures:  # a write-back the CRM refused: its record fails
            for row in rows:
                failure = early.failures.get(self.reader.key(row))
                if failure is not None:
                    prepared.failures[id(row)] = failure
        if early.outcomes or prepared.sequence:
            self._commit(task_run_id, Batch(early.outcomes, sequence=prepared.sequence))
        if page.deleted:  # before the page's rows: a line added after one was removed may reuse its key
            flight.drain()  # the deletions' guard reads the links of what is in flight
            self.commits.wait()
            gone, dropped = self.deletes(page.deleted)
            head.outcomes.extend(gone)
            self._commit(task_run_id, Batch(head.outcomes, deleted_links=dropped, read=head.read))
            head = Chunk()
        if not rows:
            if head.outcomes or head.read:
                self._commit(task_run_id, Batch(head.outcomes, read=head.read))
            return
        if resolving is not None:
            resolving.result()
        self._chunks_of(task_run_id, rows, prepared, head, flight)

    def _chunks_of(
        self, task_run_id: int, rows: list[dict[str, Any]], prepared: Prepared, head: Chunk, flight: Flight
    ) -> None:
        """Plan ``rows`` chunk by chunk and hand each to ``flight`` (``head``'s outcomes and reads
        go with the first)."""
        for n in range(0, len(rows), self.chunk):
            planned = plan_chunk(self, rows[n : n + self.chunk], prepared)
            if n == 0:
                planned.done.outcomes[:0] = head.outcomes
                planned.done.read = head.read
            flight.submit(partial(self._send, planned.sends), partial(self._done, task_run_id, planned))
            self._chunks += 1
            if self.run_ctx.stop.is_set():  # what is in flight is committed: the next run resumes here
                flight.drain()
                raise RunInterrupted(f"stopped on request after {self._chunks} chunk(s)")

    def _prepare_sides(self) -> None:
        """Learn the tables of the flow's side writes (:func:`~p2c.engine.ahead.prepare_ahead`)."""
        self._sides_prepared = True
        target = (self.task.target.system, self.task.target.entity)
        for system, entity in sorted(self.flow.side_targets() - {target}):
            prepare_ahead(self.run_ctx.connectors[system], entity, self.task.name)

    def _send(self, sends: list[WriteOp]) -> list[WriteResult]:
        """A chunk's write (in the window's pool: nothing here touches the pipeline's state)."""
        return self.stage.send(self.task.target.system, self.task.target.entity, sends) if sends else []

    def _done(self, task_run_id: int, planned: Planned, answers: list[WriteResult]) -> None:
        """A chunk's write is done: record it, in the order of the chunks."""
        record_answers(self, planned, answers)
        done = planned.done
        self._commit(task_run_id, Batch(done.outcomes, done.links, read=done.read), later=True)
        self.progress(self.report)

    def _commit(self, task_run_id: int, batch: Batch, *, later: bool = False) -> None:
        """Commit ``batch`` after those before it: ``later`` on the committer's thread while this
        one maps on (a chunk's outcomes and links), else here and now."""
        commit = partial(self.stage.commit, self.report, task_run_id, batch)
        if later and isinstance(self.stage, Sender):  # a plan's stage collects on this thread
            self.commits.later(commit)
        else:
            self.commits.now(commit)

    def deletes(self, deleted: Sequence[str]) -> tuple[list[Outcome], list[tuple[str, str]]]:
        """Outcomes of source deletes, and the links to drop (:func:`~p2c.engine.deletes.delete_records`)."""
        return delete_records(
            self.task,
            deleted,
            follow=self.flow.deletes_follow,
            binder=self.binder,
            store=self.run_ctx.store,
            target=self.tgt,
            table=self.table,
            stage=self.stage,
            outcomes=self.outcomes,
            report=self.report,
        )

    # -- around the records: side writes, the feed past them ---------------------------------------------

    def side_writes(self, writes: Sequence[SideWrite], *, after: bool) -> SideResults:
        """Send a flow's side writes; they count in the report like the records do."""
        done = send_side_writes(self.stage, self.task.name, writes, self.run_ctx.redactor, after=after)
        self.report.side_writes += sum(o.action is not Action.FAILED for o in done.outcomes)
        source = self.task.source
        self._source_writes += sum(w.system is source.system and w.entity == source.entity for w in writes)
        return done

    def _catch_up(self, intake: Intake) -> Callable[[], str | None] | None:
        """The read of the feed past this run's own write-backs to the source, started
        (:meth:`~p2c.engine.intake.Intake.catch_up`): only when it wrote some, for real (a plan
        writes nothing), and the run is not stopping."""
        if not self._source_writes or not isinstance(self.stage, Sender) or self.run_ctx.stop.is_set():
            return None
        return intake.catch_up(intake.cursor) if intake.cursor else None
