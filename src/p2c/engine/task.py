"""One task of a run: read → filter → rules → resolve related keys → map → compare → write → record.

Crash safety: outcomes, links and the cursor of a chunk are committed in one store transaction
after the chunk was written; the new cursor goes with the *last* chunk only. A run killed in the
middle therefore re-reads from the old cursor, and the links of what it already wrote make those
records compare equal and be skipped: no duplicates (writes are upserts by natural key), nothing
skipped.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from p2c.catalog import EntitySpec, FieldType
from p2c.connectors.auth import Redactor
from p2c.connectors.base import Connector, OpKind, WriteAction, WriteOp, WriteResult
from p2c.engine.hashing import content_hash
from p2c.engine.reading import SourceReader
from p2c.engine.related import RelatedResolver, in_filter
from p2c.engine.rules import EngineRules
from p2c.errors import P2CError, RecordError, TransientError, WaitingForParentError
from p2c.mapping.expression import Lookup, Missing, iter_nodes
from p2c.mapping.mapper import to_wire
from p2c.project import Project, Task
from p2c.settings import System
from p2c.store import Action, Link, Outcome, RunStatus, StateStore, now

__all__ = ["PlannedRecord", "TaskReport", "TaskRunner"]

SOURCE_ROW_FIELDS = 60  # keep stored source rows readable
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class PlannedRecord:
    source_key: str
    action: Action
    target_key: str | None
    message: str | None = None
    payload: dict[str, Any] | None = field(default=None, repr=False)


@dataclass
class TaskReport:
    task: str
    status: RunStatus = RunStatus.SUCCEEDED
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    waiting: int = 0
    failed: int = 0
    deleted: int = 0
    seconds: float = 0.0
    message: str | None = None
    planned: list[PlannedRecord] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.created + self.updated + self.deleted

    def add(self, action: Action) -> None:
        name = {
            Action.CREATED: "created",
            Action.UPDATED: "updated",
            Action.SKIPPED: "skipped",
            Action.WAITING: "waiting",
            Action.FAILED: "failed",
            Action.DELETED: "deleted",
        }[action]
        setattr(self, name, getattr(self, name) + 1)


Progress = Callable[[TaskReport], None]


class TaskRunner:
    """Runs one task of a project; ``run`` returns its report."""

    def __init__(
        self,
        project: Project,
        task: Task,
        store: StateStore,
        connectors: Mapping[System, Connector],
        resolver: RelatedResolver,
        redactor: Redactor,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        chunk: int = 1000,
        rng: random.Random | None = None,
        shared: dict[str, Any] | None = None,
    ) -> None:
        self.project = project
        self.task = task
        self.store = store
        self.src = connectors[task.source.system]
        self.tgt = connectors[task.target.system]
        self.resolver = resolver
        self.redactor = redactor
        self.dry_run = dry_run
        self.progress = progress or (lambda _r: None)
        self.chunk = chunk
        catalog = project.catalog
        self.tgt_spec: EntitySpec = catalog.entity(task.target.system, task.target.entity)
        companies = list(project.legal_entities)
        self.company = companies[0]
        self.reader = SourceReader(task, catalog, self.src, companies)
        self.mappers = {c: project.mapper(task, c) for c in companies}
        self.rules = EngineRules(project, task, store, connectors, rng or random.Random(), shared)
        self.reader.before_filter = self.rules.before_filter(dry_run)
        self.report = TaskReport(task.name)
        self.rewrite = False
        # target fields that name a parent record (a lookup that may wait): a refusal naming their
        # value means the parent is not in the target yet, so the record waits instead of failing
        self.parent_fields = sorted(
            name
            for name, expr in self.mappers[self.company].fields.items()
            if any(isinstance(n, Lookup) and n.spec.missing is not Missing.FAIL for n in iter_nodes(expr))
        )

    # -- the run ---------------------------------------------------------------------------------

    def run(self, task_run_id: int, *, full: bool = False, only_keys: set[str] | None = None) -> TaskReport:
        started = time.perf_counter()
        task, store = self.task, self.store
        # --full rewrites every record too: it repairs targets changed behind p2c's back (reconcile finds them)
        self.rewrite = full
        select = self.reader.select(self.mappers[self.company].source_fields() | set(self.rules.requires()))
        cursor = None if (full or only_keys is not None) else store.cursor(task.name)
        if only_keys is not None:
            batch_rows = self.reader.by_keys(select, only_keys)
            new_cursor, deleted, read = None, [], len(batch_rows)
        else:
            src = self.reader.changes(select, cursor)
            batch_rows, deleted, read = src.rows, src.deleted, src.read
            if not self.reader.crm and self.rules.deletes_follow:  # a whole read: what it lacks is gone...
                seen = {self.reader.key(r) for r in batch_rows}
                unseen = [lk.source_key for lk in store.all_links(task.name) if lk.source_key not in seen]
                # ...unless it still exists and merely left the task's filter: that one is kept
                still = self.reader.existing(unseen) if unseen else set()
                deleted = [k for k in unseen if k not in still]
            new_cursor = src.cursor if src.cursor != cursor else None
            waiting = {r.source_key for r in store.pending(task.name) if r.action is Action.WAITING}
            have = {self.reader.key(r) for r in batch_rows}
            again = waiting | self.rules.extra_keys(have)
            batch_rows.extend(self.reader.by_keys(select, again - have))
        self.report.read = read
        self.progress(self.report)
        rows = self._dedupe(batch_rows)
        early = self.rules.before(rows, self.reader.key, self.dry_run, None if self.dry_run else task_run_id)
        # deletes first: a line added after one was removed may reuse its sequence number (its key)
        gone, dropped = self._deleted_outcomes(deleted)
        chunks = [rows[i : i + self.chunk] for i in range(0, len(rows), self.chunk)] or [[]]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            outcomes, links = self._process(chunk, early)
            if last:
                outcomes.extend(gone)
            if not self.dry_run:
                store.commit_batch(
                    task_run_id,
                    outcomes,
                    links,
                    deleted_links=dropped if last else [],
                    cursor=(task.name, new_cursor) if last and new_cursor else None,
                    read=read if n == 0 else 0,
                )
            self.progress(self.report)
        self.report.seconds = time.perf_counter() - started
        if self.report.failed:
            self.report.status = RunStatus.PARTIAL
        return self.report

    def _dedupe(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            out[self.reader.key(row)] = row  # the later (fresher) row wins
        return list(out.values())

    def _deleted_outcomes(self, deleted: Sequence[str]) -> tuple[list[Outcome], list[tuple[str, str]]]:
        """Outcomes of source deletes, and the links to drop. Lines that follow their header are
        deleted at the target too (by their link); other records are kept there."""
        task = self.task
        links = self.store.links(task.name, list(deleted)) if deleted and self.rules.deletes_follow else {}
        out: list[Outcome] = []
        dropped = [(task.name, k) for k in deleted if k not in links]
        for key in deleted:
            if key in links:
                continue
            self.report.skipped += 1
            out.append(
                Outcome(
                    task.name,
                    key,
                    Action.SKIPPED,
                    message=f"deleted in the source; the {task.target.entity} record is kept",
                )
            )
        # a line of a closed CRM document cannot be deleted: it is kept, and says why
        parent = self.tgt_spec.closed_with if self.task.target.system is System.CRM else None
        closed = self._closed_parents([self._target_key(lk.target_key) for lk in links.values()])
        for key, link in list(links.items()):
            reason = closed.get(_fold_key(self._target_key(link.target_key).get(parent))) if parent else None
            if reason:
                del links[key]
                dropped.append((task.name, key))
                self.report.skipped += 1
                message = f"deleted in the source, but {reason}, which refuses changes: it is kept"
                out.append(Outcome(task.name, key, Action.SKIPPED, message=message))
        if not links:
            return out, dropped
        ops = self._delete_ops(links)
        if self.dry_run:
            for op in ops:
                self.report.add(Action.DELETED)
                self.report.planned.append(PlannedRecord(op.ref, Action.DELETED, links[op.ref].target_key))
            return out, dropped
        for op, res in zip(ops, self.tgt.write(task.target.entity, ops), strict=True):
            key = op.ref
            if res.ok:
                self.report.add(Action.DELETED)
                dropped.append((task.name, key))
                out.append(Outcome(task.name, key, Action.DELETED, target_key=links[key].target_key))
            else:
                assert res.error is not None
                out.append(self._failure(key, {}, op.key, res.error))
        return out, dropped

    def _delete_ops(self, links: Mapping[str, Link]) -> list[WriteOp]:
        keys = {key: self._target_key(link.target_key) for key, link in links.items()}
        spec = self.tgt_spec
        lookups = [
            k for k in self.task.key_target if (f := spec.field(k)) is not None and f.type is FieldType.LOOKUP
        ]
        if self.task.target.system is System.ERP or not lookups:
            return [WriteOp(OpKind.DELETE, k, {}, ref=key) for key, k in keys.items()]
        # a CRM key made of lookups (an order line: order + sequence number): find the rows' ids
        existing = self._existing_by_lookups(lookups, list(keys.values()))
        ops = []
        for key, k in keys.items():
            pk, _state = existing.get(tuple(_fold_key(k.get(n)) for n in self.task.key_target), (None, None))
            # a row already gone is deleted too: 404 counts as done
            ops.append(
                WriteOp(
                    OpKind.DELETE,
                    {spec.primary_key: pk or "00000000-0000-0000-0000-000000000000"},
                    {},
                    ref=key,
                )
            )
        return ops

    def _target_key(self, text: str) -> dict[str, Any]:
        """A link's target key text (``usmf,2,QUO-001``) as the target's key fields, typed."""
        names = list(self.task.key_target)
        out: dict[str, Any] = {}
        for name, value in zip(names, text.split(",", len(names) - 1), strict=False):
            f = self.tgt_spec.field(name)
            out[name] = (
                int(value)
                if f is not None and f.type is FieldType.INT and value.lstrip("-").isdigit()
                else value
            )
        return out

    # -- one chunk ---------------------------------------------------------------------------------

    def _process(
        self, rows: list[dict[str, Any]], early: Mapping[str, P2CError]
    ) -> tuple[list[Outcome], list[Link]]:
        task = self.task
        outcomes: list[Outcome] = []
        keys = [self.reader.key(r) for r in rows]
        links = self.store.links(task.name, keys) if keys else {}
        ready: list[tuple[str, dict[str, Any], dict[str, Any], str]] = []
        mapper_rows: dict[str, list[dict[str, Any]]] = {}
        for key, row in zip(keys, rows, strict=True):
            if key in early:
                outcomes.append(self._failure(key, row, None, early[key]))
                continue
            mapper_rows.setdefault(self._company_of(row), []).append(row)
        for company, crows in mapper_rows.items():
            mapper = self.mappers[company]
            try:
                self.rules.prepare(crows)
                related = self.resolver.resolve(mapper, crows)
            except P2CError as exc:  # a lookup read failed as a whole: every row of the chunk fails
                outcomes.extend(self._failure(self.reader.key(r), r, None, exc) for r in crows)
                continue
            for row in crows:
                key = self.reader.key(row)
                try:
                    problem = self.rules.check(row)
                    if problem is not None:
                        raise problem
                    reason = self.rules.skip(row)
                    if reason is not None:
                        self.report.skipped += 1
                        outcomes.append(Outcome(task.name, key, Action.SKIPPED, message=reason))
                        continue
                    payload = mapper.map(row, related)
                except (RecordError, WaitingForParentError) as exc:
                    outcomes.append(self._failure(key, row, None, exc))
                    continue
                digest = content_hash(payload)
                link = links.get(key)
                if link is not None and self.rules.create_only:
                    self.report.skipped += 1
                    outcomes.append(Outcome(task.name, key, Action.SKIPPED))
                    continue
                if link is not None and link.hash == digest and not self.rewrite:
                    self.report.skipped += 1
                    outcomes.append(Outcome(task.name, key, Action.SKIPPED))
                    continue
                ready.append((key, row, payload, digest))
        if not ready:
            return outcomes, []
        if self.dry_run:
            # only closed CRM documents make the plan read the target: the run would skip them
            closable = self.tgt_spec.closed_states or self.tgt_spec.closed_with
            plans = self._ops(ready) if closable else [None] * len(ready)
            for (key, _row, payload, _d), op in zip(ready, plans, strict=True):
                if isinstance(op, str):  # its CRM document is closed: the run would skip it
                    self.report.skipped += 1
                    self.report.planned.append(
                        PlannedRecord(key, Action.SKIPPED, self._target_text(payload), message=op)
                    )
                    continue
                action = Action.UPDATED if key in links else Action.CREATED
                self.report.add(action)
                self.report.planned.append(
                    PlannedRecord(key, action, self._target_text(payload), payload=payload)
                )
            return outcomes, []
        return self._write(ready, links, outcomes)

    def _classify(self, payload: Mapping[str, Any], error: P2CError) -> P2CError:
        """A refusal naming a missing parent (F&O: "The value 'X' in field 'F' is not found in the
        relating table 'T'", X a parent field's value) is a wait for that parent, not a failure."""
        if not isinstance(error, RecordError) or "relating table" not in error.reason:
            return error
        for name in self.parent_fields:
            value = payload.get(name)
            if value not in (None, "") and f"The value '{value}' in field" in error.reason:
                return WaitingForParentError(
                    f"{self.task.target.entity} does not have the parent {value} ({name}) yet: {error.reason}",
                    entity=self.task.target.entity,
                    key=error.key,
                    field=name,
                    status=error.status,
                )
        return error

    def _company_of(self, row: Mapping[str, Any]) -> str:
        if self.task.source.system is System.ERP:
            company = str(row.get("dataAreaId") or self.company).lower()
            return company if company in self.mappers else self.company
        return self.company

    def _target_text(self, payload: Mapping[str, Any]) -> str:
        return ",".join("" if payload.get(k) is None else str(payload.get(k)) for k in self.task.key_target)

    def _write(
        self,
        ready: list[tuple[str, dict[str, Any], dict[str, Any], str]],
        links: Mapping[str, Link],
        outcomes: list[Outcome],
    ) -> tuple[list[Outcome], list[Link]]:
        task = self.task
        ops = self._ops(ready)
        writes = [op for op in ops if isinstance(op, WriteOp)]
        it = iter(self.tgt.write(task.target.entity, writes) if writes else [])
        new_links: list[Link] = []
        written: list[tuple[str, dict[str, Any], dict[str, Any], str, WriteResult]] = []
        for (key, row, payload, digest), op in zip(ready, ops, strict=True):
            if isinstance(op, str):
                # a closed document stays as it is: linked with this content, so the skip (and its
                # reason) is recorded once, not again on every run
                self.report.skipped += 1
                outcomes.append(Outcome(task.name, key, Action.SKIPPED, message=op))
                new_links.append(Link(task.name, key, self._target_text(payload), digest, now()))
                continue
            res = next(it)
            if not res.ok:
                assert res.error is not None
                outcomes.append(self._failure(key, row, payload, self._classify(payload, res.error)))
                continue
            written.append((key, row, payload, digest, res))
        activation = self.rules.after_write(
            [(k, p, r) for k, _row, p, _d, r in written], links, {k: row for k, row, _p, _d, _r in written}
        )
        for key, row, payload, digest, res in written:
            problem = activation.get(key)
            if problem is not None:
                outcomes.append(self._failure(key, row, payload, problem))
                continue
            action = (
                Action.UPDATED
                if res.action is WriteAction.UPDATED or (res.action is WriteAction.UPSERTED and key in links)
                else Action.CREATED
            )
            self.report.add(action)
            target_key = self._target_text(payload)
            new_links.append(Link(task.name, key, target_key, digest, now()))
            outcomes.append(
                Outcome(task.name, key, action, target_key=target_key, target_payload=self._clean(payload))
            )
        return outcomes, new_links

    def _ops(self, ready: list[tuple[str, dict[str, Any], dict[str, Any], str]]) -> list[WriteOp | str]:
        """One write per record, or the reason it is not written (its CRM document is closed)."""
        task, spec = self.task, self.tgt_spec
        if task.target.system is System.ERP:
            return [
                WriteOp(OpKind.UPSERT, {k: p.get(k) for k in task.key_target}, p, ref=key)
                for key, _r, p, _d in ready
            ]
        lookup_keys = [
            k for k in task.key_target if (f := spec.field(k)) is not None and f.type is FieldType.LOOKUP
        ]
        fixed = any((f := spec.field(k)) is not None and not f.update for k in task.key_target)
        if not lookup_keys and not fixed and not spec.closed_states:
            return [
                WriteOp(OpKind.UPSERT, {k: p.get(k) for k in task.key_target}, to_wire(p, spec), ref=key)
                for key, _r, p, _d in ready
            ]
        # A key made of lookups (a price-list item: price list + product) cannot be addressed as an
        # alternate key everywhere, and a key the CRM sets itself (an order number) may be given on
        # create but not on update: find existing rows by their key, then update or create.
        existing = self._existing_by_lookups(lookup_keys, [p for _k, _r, p, _d in ready])
        closed = self._closed_parents([p for _k, _r, p, _d in ready])
        ops: list[WriteOp | str] = []
        for key, _r, p, _d in ready:
            pk, state = existing.get(tuple(_fold_key(p.get(k)) for k in task.key_target), (None, None))
            reason = closed.get(_fold_key(p.get(spec.closed_with))) if spec.closed_with else None
            if pk and state in spec.closed_states:
                reason = f"{spec.name} {self._target_text(p)} is {spec.state_label(state)} in the CRM"
            if reason:
                ops.append(f"{reason}, which refuses changes from then on; this change is not synchronised")
                continue
            wire = to_wire(p, spec)
            if pk:
                ops.append(
                    WriteOp(OpKind.UPDATE, {spec.primary_key: pk}, _without_fixed(wire, spec), ref=key)
                )
            else:
                ops.append(WriteOp(OpKind.CREATE, {}, wire, ref=key))
        return ops

    def _closed_parents(self, payloads: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """Document lines: the documents (by folded id) in a closed state, with the reason."""
        name = self.tgt_spec.closed_with
        lookup = self.tgt_spec.field(name) if name else None
        if lookup is None or not lookup.targets:
            return {}
        parent = self.project.catalog.entity(System.CRM, next(iter(lookup.targets)))
        ids = sorted({str(p.get(lookup.name)) for p in payloads if _GUID.fullmatch(str(p.get(lookup.name)))})
        out: dict[str, str] = {}
        for i in range(0, len(ids), 200):
            flt = in_filter(parent.primary_key, ids[i : i + 200])
            for page in self.tgt.read(parent.name, select=[parent.primary_key, "statecode"], filter=flt):
                for row in page:
                    if row.get("statecode") in parent.closed_states:
                        label = parent.state_label(row.get("statecode"))
                        out[_fold_key(row[parent.primary_key])] = (
                            f"its {parent.name} record is {label} in the CRM"
                        )
        return out

    def _existing_by_lookups(
        self, names: list[str], payloads: list[dict[str, Any]]
    ) -> dict[tuple[str, ...], tuple[str, Any]]:
        """Existing target rows by their whole key (lookups and plain fields, e.g. an order line's
        order and sequence number), read by the last lookup's values: (primary key, statecode —
        read for documents that can be closed, else None)."""
        spec = self.tgt_spec
        last = names[-1] if names else self.task.key_target[0]
        values = sorted({str(p.get(last)) for p in payloads if p.get(last)})
        if names:  # a plan's records to be created have no id yet, so nothing exists under them
            values = [v for v in values if _GUID.fullmatch(v)]
        out: dict[tuple[str, ...], tuple[str, Any]] = {}
        columns = [f"_{n}_value" if n in names else n for n in self.task.key_target]
        select = [spec.primary_key, *columns, *(["statecode"] if spec.closed_states else [])]
        for i in range(0, len(values), 200):
            flt = in_filter(f"_{last}_value" if names else last, values[i : i + 200])
            for page in self.tgt.read(self.task.target.entity, select=select, filter=flt):
                for row in page:
                    key = tuple(_fold_key(row.get(c)) for c in columns)
                    out[key] = (str(row[spec.primary_key]), row.get("statecode"))
        return out

    # -- outcomes --------------------------------------------------------------------------------

    def _clean(self, data: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if data is None:
            return None
        items = list(data.items())[:SOURCE_ROW_FIELDS]
        cleaned = self.redactor.data({k: v for k, v in items if not str(k).startswith("@")})
        return cleaned if isinstance(cleaned, dict) else None

    def _failure(
        self, key: str, row: Mapping[str, Any], payload: Mapping[str, Any] | None, error: P2CError
    ) -> Outcome:
        waiting = isinstance(error, TransientError)
        action = Action.WAITING if waiting else Action.FAILED
        self.report.add(action)
        message = self.redactor.text(str(error))
        return Outcome(
            self.task.name,
            key,
            action,
            error_class=type(error).__name__,
            field=error.field,
            message=message,
            source_row=self._clean(row),
            target_payload=self._clean(payload),
            transient=waiting,
        )


def _fold_key(value: Any) -> str:
    """A key value as compared across reads and payloads (GUIDs any case, 3 == 3.0)."""
    if isinstance(value, float | Decimal) and value == int(value):
        value = int(value)
    return str(value).lower()


def _without_fixed(wire: Mapping[str, Any], spec: EntitySpec) -> dict[str, Any]:
    """An update may not change lookups that are not updatable (a price-list item's product)."""
    out = {}
    for name, value in wire.items():
        base = name.split("@", 1)[0]
        f = spec.field(base) or next((s for s in spec.fields.values() if base in s.targets.values()), None)
        if f is not None and not f.update:
            continue
        out[name] = value
    return out
