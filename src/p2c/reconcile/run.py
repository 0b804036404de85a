"""``p2c reconcile``: both systems compared, task by task, by key and by mapped content. Read-only.

For each task the whole source is read as a run reads it (its filters, every legal entity),
related keys are resolved in bulk and each row is mapped to the payload a run would write. The
whole target entity is read (the mapped fields and the key; CRM lookups as ``_x_value`` ids) and
matched on the target key, strings case-insensitively. Each record lands in one class:

- ``in_sync`` — the target holds what a run would write (compared as :mod:`p2c.reconcile.compare` says);
- ``differs`` — matched, but fields differ: each with the mapped (source) and the target value;
- ``missing_in_target`` — a source row (mapped, or without its key yet) with no target row;
- ``only_in_target`` — a target row in the task's *scope* with no source row;
- ``unmappable`` — a source row a run would fail to map (the reason and field), or a target key
  that two source rows share.

The **scope** of a task is what its constant fields say about the rows it writes
(``IsExternallyMaintained: Yes``, ``PartyType: Organization``, ``p2c_isexternallymaintained: true``):
only target rows with those values can be *only in target*. Target rows outside p2c (an ERP
customer typed into the ERP) are not drift. When no constant is such a *marker* (a true boolean
or ``Yes``), p2c cannot tell its rows from others, so ``only_in_target`` is listed but not
counted as drift (``scope_marked`` is False).

Example::

    report = reconcile(project, {System.CRM: crm, System.ERP: erp}, ["Accounts"])
    report.drift                                  # 0: both systems agree
    report.task("Accounts").counts[Drift.DIFFERS]
    json.dumps(report.as_dict())
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from p2c.catalog import EntitySpec, FieldType
from p2c.connectors import Connector, Redactor
from p2c.engine import Recorder, RunContext, TaskPipeline
from p2c.engine.planning import map_rows
from p2c.errors import AuthError, ConfigError, P2CError, WaitingForParentError
from p2c.flows import Prepared, Skip
from p2c.mapping import Const, TransformError, coerce, is_empty
from p2c.project import Project, Task
from p2c.reconcile.compare import UNCOMPARABLE, comparable, normalise, same
from p2c.reconcile.report import Drift, DriftRecord, FieldDiff, ReconcileReport, TaskDrift
from p2c.settings import System
from p2c.store import StateStore

__all__ = [
    "Drift",
    "DriftRecord",
    "FieldDiff",
    "Pair",
    "ReconcileReport",
    "TaskDrift",
    "TaskReconciler",
    "reconcile",
    "select_tasks",
]


def reconcile(
    project: Project,
    connectors: Mapping[System, Connector],
    tasks: Sequence[str] | None = None,
    *,
    limit: int = 20,
    store: StateStore | None = None,
) -> ReconcileReport:
    """Compare both systems for ``tasks`` (default: every enabled task); nothing is written.

    ``store`` is the project's state, read only (lines find their synced headers through its
    links); without it an empty in-memory store stands in.

    A task whose reads fail is reported with its ``error`` and the others still run; a refused
    login (``AuthError``) stops everything.
    """
    started = time.perf_counter()
    report = ReconcileReport()
    with contextlib.nullcontext(store) if store is not None else StateStore("sqlite://") as scratch:
        ctx = RunContext.open(project, scratch, connectors, Redactor())
        for task in select_tasks(project, tasks):
            result = TaskDrift(
                task.name,
                f"{task.source.system} {task.source.entity}",
                f"{task.target.system} {task.target.entity}",
                limit=limit,
            )
            task_started = time.perf_counter()
            try:
                TaskReconciler(ctx, task, result).run()
            except AuthError:
                raise
            except P2CError as exc:
                result.error = str(exc)
            result.seconds = time.perf_counter() - task_started
            report.tasks.append(result)
    report.seconds = time.perf_counter() - started
    return report


def select_tasks(project: Project, names: Sequence[str] | None) -> list[Task]:
    if not names:
        return list(project.enabled_tasks())
    known = [t.name for t in project.tasks]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown task {', '.join(unknown)} (tasks: {', '.join(known)})",
            entity=str(project.path),
            field="--task",
        )
    return [t for t in project.tasks if t.name in set(names)]


@dataclass
class _Mapped:
    source_key: str
    payload: dict[str, Any]
    row: dict[str, Any] | None = None


@dataclass(frozen=True)
class Pair:
    """A source record and the target record with its key: what ``p2c adopt`` links."""

    source_key: str
    row: dict[str, Any]
    payload: dict[str, Any]
    in_sync: bool


class TaskReconciler:
    def __init__(self, ctx: RunContext, task: Task, result: TaskDrift) -> None:
        self.task = task
        self.result = result
        self.pairs: list[Pair] = []  # every matched pair, for p2c adopt
        self.tgt = ctx.connectors[task.target.system]
        self.companies = list(ctx.project.legal_entities)
        catalog = ctx.project.catalog
        self.spec: EntitySpec = catalog.entity(task.target.system, task.target.entity)
        self.system = task.target.system
        # the run's own stages — read, prepare, resolve, map — with a write stage that sends nothing;
        # the writes a flow plans on the way (numbers, flags) are never sent from here
        self.pipeline = TaskPipeline(ctx, task, Recorder(ctx.resolver))
        self.reader = self.pipeline.reader
        self.scope = self._scope(catalog.enums)
        result.scope = dict(self.scope)
        result.scope_marked = any(self._is_marker(name, value) for name, value in self.scope.items())

    # -- the scope ---------------------------------------------------------------------------------

    def _scope(self, enums: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, expr in self.task.fields.items():
            spec = self.spec.field(name)
            if not isinstance(expr, Const) or name in self.task.key_target or not comparable(spec):
                continue
            assert spec is not None
            if spec.type is FieldType.LOOKUP:
                continue
            try:
                out[name] = coerce(expr.value, spec, enums.get(spec.enum or "", ()))
            except TransformError:
                continue  # the mapping reports it on every row
        return out

    def _is_marker(self, name: str, value: Any) -> bool:
        spec = self.spec.field(name)
        assert spec is not None
        if spec.type is FieldType.BOOL:
            return value is True
        return spec.type is FieldType.ENUM and str(value).casefold() == "yes"

    def _in_scope(self, row: Mapping[str, Any]) -> bool:
        for name, value in self.scope.items():
            spec = self.spec.field(name)
            assert spec is not None
            if not same(value, row.get(spec.read_name), spec, self.system):
                return False
        return True

    # -- the run -------------------------------------------------------------------------------------

    def run(self) -> None:
        mapped = self._source()
        fields = self._fields()
        targets = self._target(fields)
        self.result.target_rows = len(targets)
        seen: set[str] = set()
        for key, item in mapped.items():
            row = targets.get(key)
            if row is None:
                self.result.add(
                    DriftRecord(Drift.MISSING_IN_TARGET, self._key_text(item.payload), item.source_key)
                )
                continue
            seen.add(key)
            diffs = tuple(self._diffs(item.payload, row, fields))
            kind = Drift.DIFFERS if diffs else Drift.IN_SYNC
            self.pairs.append(Pair(item.source_key, item.row or {}, item.payload, not diffs))
            self.result.add(DriftRecord(kind, self._key_text(item.payload), item.source_key, diffs))
        for key, row in targets.items():
            if key not in seen and self._in_scope(row):
                self.result.add(
                    DriftRecord(
                        Drift.ONLY_IN_TARGET,
                        self._row_key_text(row),
                        reason="no source row (created in the target, deleted at the source, or filtered out)",
                    )
                )

    def _source(self) -> dict[str, _Mapped]:
        rows = list({self.reader.key(r): r for r in self.reader.whole(self.pipeline.select())}.values())
        self.result.source_rows = len(rows)
        keyed: list[dict[str, Any]] = []
        keyless: list[dict[str, Any]] = []
        generated = any(r.startswith("generate_") for r in self.task.rules)
        for row in rows:
            (keyless if any(is_empty(row.get(k)) for k in self.task.key_source) else keyed).append(row)
        # a row without its key yet is missing in the target — unless the run would skip it anyway
        # (a contact no route takes is numbered by nobody): those are no drift of this task
        skipped = {
            k for k, _r, res in map_rows(self.pipeline, keyless, Prepared(), []) if isinstance(res, Skip)
        }
        for row in keyless:
            if self.reader.key(row) in skipped:
                continue
            empty = [k for k in self.task.key_source if is_empty(row.get(k))]
            reason = f"no {', '.join(empty)} yet" + ("; the next run generates one" if generated else "")
            self.result.add(DriftRecord(Drift.MISSING_IN_TARGET, "", self.reader.key(row), reason=reason))
        # what a run refuses before mapping (duplicate numbers); rows with a number get none generated
        prepared = self.pipeline.flow.prepare_read(keyed, self.reader.key)
        return self._by_target_key(self._mapped(keyed, prepared))

    def _mapped(self, rows: list[dict[str, Any]], prepared: Prepared) -> Iterable[_Mapped]:
        for skey, row, result in map_rows(self.pipeline, rows, prepared, []):
            if isinstance(result, Skip):
                continue  # another task's record (a contact routed to the other target): not this task's drift
            if isinstance(result, P2CError):
                waiting = "waiting: " if isinstance(result, WaitingForParentError) else ""
                self.result.add(
                    DriftRecord(
                        Drift.UNMAPPABLE, "", skey, field=result.field, reason=waiting + result.reason
                    )
                )
                continue
            empty = [k for k in self.task.key_target if self._fold([result.get(k)]) is None]
            if empty:
                reason = f"the target key would be incomplete ({', '.join(empty)} empty)"
                self.result.add(DriftRecord(Drift.UNMAPPABLE, "", skey, field=empty[0], reason=reason))
                continue
            yield _Mapped(skey, result, row)

    def _by_target_key(self, items: Iterable[_Mapped]) -> dict[str, _Mapped]:
        """Mapped records by target key; records sharing one are not compared (a run would not merge them)."""
        groups: dict[str, list[_Mapped]] = {}
        for item in items:
            key = self._key(item.payload)
            assert key is not None
            groups.setdefault(key, []).append(item)
        out: dict[str, _Mapped] = {}
        for key, group in groups.items():
            if len(group) == 1:
                out[key] = group[0]
                continue
            for item in group:
                others = ", ".join(i.source_key for i in group if i is not item)
                self.result.add(
                    DriftRecord(
                        Drift.UNMAPPABLE,
                        self._key_text(item.payload),
                        item.source_key,
                        reason=f"target key shared with {others}: not merged",
                    )
                )
        return out

    def _fields(self) -> list[str]:
        """The payload fields compared: known to the catalog, written by a run, not the key."""
        names: dict[str, None] = dict.fromkeys(self.task.fields)
        names.update(dict.fromkeys(self.task.defaults))
        out = []
        for name in names:
            if name in self.task.key_target:
                continue
            if comparable(self.spec.field(name)):
                out.append(name)
            elif name not in self.result.skipped_fields:
                self.result.skipped_fields.append(name)
        return out

    def _target(self, fields: Iterable[str]) -> dict[str, dict[str, Any]]:
        names = [*self.task.key_target, *fields]
        select = sorted({self._read_name(n) for n in names})
        if self.system is System.CRM and self.spec.primary_key:
            select = sorted({*select, self.spec.primary_key})
        pages: list[list[dict[str, Any]]] = []
        if self.system is System.ERP and "dataAreaId" in self.task.key_target:
            for company in self.companies:
                flt = f"dataAreaId eq '{company}'"
                pages.extend(self.tgt.read(self.task.target.entity, select=select, filter=flt))
        else:
            pages.extend(self.tgt.read(self.task.target.entity, select=select))
        out: dict[str, dict[str, Any]] = {}
        for page in pages:
            for row in page:
                key = self._fold([row.get(self._read_name(k)) for k in self.task.key_target])
                if key is not None:
                    out[key] = row
        return out

    # -- keys and fields ------------------------------------------------------------------------------

    def _read_name(self, name: str) -> str:
        spec = self.spec.field(name)
        return spec.read_name if spec is not None and self.system is System.CRM else name

    def _key(self, payload: Mapping[str, Any]) -> str | None:
        return self._fold([payload.get(k) for k in self.task.key_target])

    @staticmethod
    def _fold(values: Sequence[Any]) -> str | None:
        parts = []
        for v in values:
            if isinstance(v, tuple) and len(v) == 2:
                v = v[1]
            if is_empty(v) or isinstance(v, Mapping):
                return None
            parts.append(str(v).casefold())
        return "\x1f".join(parts)

    def _key_text(self, payload: Mapping[str, Any]) -> str:
        values = [payload.get(k) for k in self.task.key_target]
        return ",".join("" if is_empty(v) else str(v[1] if isinstance(v, tuple) else v) for v in values)

    def _row_key_text(self, row: Mapping[str, Any]) -> str:
        return ",".join(str(row.get(self._read_name(k)) or "") for k in self.task.key_target)

    def _diffs(
        self, payload: Mapping[str, Any], row: Mapping[str, Any], fields: Sequence[str]
    ) -> Iterable[FieldDiff]:
        for name in fields:
            if name not in payload:
                continue
            spec = self.spec.field(name)
            assert spec is not None
            value = payload[name]
            if normalise(value, spec, self.system) is UNCOMPARABLE:
                continue
            target = row.get(spec.read_name if self.system is System.CRM else name)
            if not same(value, target, spec, self.system):
                yield FieldDiff(name, value[1] if isinstance(value, tuple) else value, target)
