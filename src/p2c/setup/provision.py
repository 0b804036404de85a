"""``p2c setup``: provision in the CRM what the project's tasks need, through the metadata API, idempotently.

What is provisioned comes from :func:`p2c.setup.plan.requirements` (the catalog plus the project's
enabled tasks), in this order:

1. **columns** — p2c's custom columns the tasks use (``POST EntityDefinitions(..)/Attributes``);
   columns of Microsoft's P2C solution (``crm_schema: microsoft``) are checked, never created;
2. **alternate keys** — on the natural key of every table p2c upserts into
   (``POST EntityDefinitions(..)/Keys``). Dataverse builds the index asynchronously
   (Pending → Active, DATAVERSE.md §2.5); setup waits up to ``wait_seconds`` for every new key. A
   key that ends ``Failed`` is reported with the duplicate values that stopped it (found by
   reading the table). A Failed key whose duplicates are gone is deleted and created again;
3. **change tracking** — switched on for every CRM table a task reads (it cannot be switched off).

A second call creates nothing: each item is reported as ``exists``. A refused item does not stop
the others; its step says the entity, the column or key, and the service's message. Only a
refused login (401) or a service that stays unavailable stops setup, as an exception.

Example::

    with open_connectors(project.connections) as (crm, erp):
        report = provision(project, crm, progress=lambda step: print(step))
    report.ok, [s.name for s in report.created]
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from p2c.catalog import EntitySpec
from p2c.connectors import DataverseConnector
from p2c.errors import AuthError, P2CError, TerminalError
from p2c.project import Project
from p2c.setup.columns import (
    ATTRIBUTE_TYPES,
    COMPATIBLE,
    UnsupportedColumn,
    attribute_body,
    missing_solution_column,
)
from p2c.setup.plan import ColumnNeed, KeyNeed, Requirements, TrackingNeed, requirements

__all__ = [
    "SetupReport",
    "SetupStep",
    "StepAction",
    "StepKind",
    "describe_duplicates",
    "duplicate_values",
    "find_key",
    "provision",
]

MAX_SHOWN = 5


class StepKind(StrEnum):
    COLUMN = "column"
    KEY = "key"
    CHANGE_TRACKING = "change_tracking"


class StepAction(StrEnum):
    CREATED = "created"
    EXISTS = "exists"
    ENABLED = "enabled"
    FAILED = "failed"


@dataclass(frozen=True)
class SetupStep:
    """One provisioned item: what, where, and what happened (``detail`` says why when it failed)."""

    kind: StepKind
    entity: str
    name: str
    action: StepAction
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.kind.value} {self.entity}.{self.name}: {self.action.value}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class SetupReport:
    """Every step of one :func:`provision` call, in order."""

    steps: list[SetupStep] = field(default_factory=list)

    @property
    def failed(self) -> list[SetupStep]:
        return [s for s in self.steps if s.action is StepAction.FAILED]

    @property
    def created(self) -> list[SetupStep]:
        """Steps that changed the environment (created or enabled)."""
        return [s for s in self.steps if s.action in (StepAction.CREATED, StepAction.ENABLED)]

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return {
            "ok": self.ok,
            # kind, entity, name, action, detail: all text (the enums are StrEnums)
            "steps": [{k: str(v) for k, v in dataclasses.asdict(s).items()} for s in self.steps],
        }

    def step(self, kind: StepKind | str, entity: str, name: str) -> SetupStep:
        for s in self.steps:
            if s.kind == kind and s.entity == entity and s.name.lower() == name.lower():
                return s
        raise KeyError(f"no {kind} step for {entity}.{name}")


def _refusal(exc: P2CError) -> bool:
    """An error that fails one step; a 401 (or another unauthenticated answer) stops setup instead."""
    if isinstance(exc, AuthError):
        return exc.status == 403
    return isinstance(exc, TerminalError)


def _reason(exc: P2CError) -> str:
    status = f" (HTTP {exc.status})" if exc.status else ""
    hint = " — the application user needs the System Customizer role" if exc.status == 403 else ""
    return f"{exc.reason}{status}{hint}"


class _Provisioner:
    def __init__(
        self,
        crm: DataverseConnector,
        progress: Callable[[SetupStep], None] | None,
        wait_seconds: float,
    ) -> None:
        self.crm = crm
        self.progress = progress
        self.wait_seconds = wait_seconds
        self.report = SetupReport()

    def emit(
        self, kind: StepKind, entity: EntitySpec, name: str, action: StepAction, detail: str = ""
    ) -> None:
        step = SetupStep(kind, entity.name, name, action, detail)
        self.report.steps.append(step)
        if self.progress is not None:
            self.progress(step)

    # -- columns ---------------------------------------------------------------------------------

    def columns(self, needs: Sequence[ColumnNeed]) -> None:
        existing: dict[str, dict[str, Any]] = {}
        for need in needs:
            entity, spec = need.entity, need.spec
            try:
                if entity.name not in existing:
                    existing[entity.name] = {
                        str(a["LogicalName"]): a for a in self.crm.attributes(entity.logical_name)
                    }
                found = existing[entity.name].get(spec.name)
                if found is not None or spec.solution:
                    self._column_exists(need, found)
                    continue
                self.crm.create_attribute(entity.logical_name, attribute_body(spec))
            except UnsupportedColumn as exc:
                self.emit(
                    StepKind.COLUMN,
                    entity,
                    spec.name,
                    StepAction.FAILED,
                    f"{entity.logical_name}.{spec.name}: {exc}",
                )
                continue
            except P2CError as exc:
                if not _refusal(exc):
                    raise
                detail = f"{entity.logical_name}.{spec.name} was refused: {_reason(exc)}"
                self.emit(StepKind.COLUMN, entity, spec.name, StepAction.FAILED, detail)
                continue
            kind = ATTRIBUTE_TYPES[spec.type][1]
            self.emit(
                StepKind.COLUMN,
                entity,
                spec.name,
                StepAction.CREATED,
                f"{kind} column {spec.schema_name or spec.name} '{spec.label or spec.name}' on "
                f"{entity.logical_name}, used by {', '.join(need.tasks)}",
            )

    def _column_exists(self, need: ColumnNeed, found: Mapping[str, Any] | None) -> None:
        entity, spec = need.entity, need.spec
        wanted = ATTRIBUTE_TYPES.get(spec.type, ("", ""))[1]
        actual = str((found or {}).get("AttributeType") or "")
        action, detail = StepAction.EXISTS, "already exists"
        if found is None:  # a column of Microsoft's P2C solution: p2c does not create it
            action, detail = StepAction.FAILED, missing_solution_column(entity.logical_name, [spec.name])
        elif wanted and actual and actual not in COMPATIBLE.get(wanted, frozenset({wanted})):
            action = StepAction.FAILED
            detail = (
                f"{entity.logical_name}.{spec.name} exists as a {actual} column, but p2c needs {wanted}: "
                "delete or rename the existing column, then run `p2c setup` again"
            )
        self.emit(StepKind.COLUMN, entity, spec.name, action, detail)

    # -- keys ------------------------------------------------------------------------------------

    def keys(self, needs: Sequence[KeyNeed]) -> None:
        current: dict[str, list[dict[str, Any]]] = {}
        waiting: list[tuple[KeyNeed, StepAction, str]] = []
        for need in needs:
            entity = need.entity
            try:
                if entity.name not in current:
                    current[entity.name] = self.crm.keys(entity.logical_name)
                found = find_key(current[entity.name], need)
                if found is None:
                    self._create_key(need)
                    waiting.append((need, StepAction.CREATED, need.name))
                    continue
                actual = str(found.get("SchemaName") or need.name)
                status = str(found.get("EntityKeyIndexStatus") or "")
                if status == "Active":
                    self.emit(
                        StepKind.KEY, entity, need.name, StepAction.EXISTS, _key_text(need, actual, "Active")
                    )
                elif status == "Failed":
                    self._retry_failed(need, found, waiting)
                else:
                    waiting.append((need, StepAction.EXISTS, actual))
            except P2CError as exc:
                if not _refusal(exc):
                    raise
                detail = f"alternate key {need.name} ({', '.join(need.columns)}) on {entity.logical_name} was refused: {_reason(exc)}"
                self.emit(StepKind.KEY, entity, need.name, StepAction.FAILED, detail)
        if waiting:
            self._wait(waiting)

    def _create_key(self, need: KeyNeed) -> None:
        display = f"p2c key on {', '.join(need.columns)}"
        self.crm.create_key(need.entity.logical_name, need.name, need.columns, display)

    def _retry_failed(
        self, need: KeyNeed, found: Mapping[str, Any], waiting: list[tuple[KeyNeed, StepAction, str]]
    ) -> None:
        dups = duplicate_values(self.crm, need.entity, need.columns)
        if dups:
            self.emit(StepKind.KEY, need.entity, need.name, StepAction.FAILED, _failed_text(need, dups))
            return
        # the duplicates are gone: a Failed index is not rebuilt by itself, so build it again
        self._delete_key(
            need.entity, str(found.get("MetadataId") or ""), str(found.get("SchemaName") or need.name)
        )
        self._create_key(need)
        waiting.append((need, StepAction.CREATED, need.name))

    def _delete_key(self, entity: EntitySpec, metadata_id: str, schema_name: str) -> None:
        self.crm.delete_key(entity.logical_name, metadata_id or schema_name)

    def _wait(self, waiting: list[tuple[KeyNeed, StepAction, str]]) -> None:
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.2
        pending = list(waiting)
        while pending:
            by_entity: dict[str, list[dict[str, Any]]] = {}
            still: list[tuple[KeyNeed, StepAction, str]] = []
            for need, action, actual in pending:
                entity = need.entity
                if entity.name not in by_entity:
                    by_entity[entity.name] = self.crm.keys(entity.logical_name)
                found = find_key(by_entity[entity.name], need)
                status = str(found.get("EntityKeyIndexStatus") or "") if found else "missing"
                if status == "Active":
                    self.emit(StepKind.KEY, entity, need.name, action, _key_text(need, actual, "Active"))
                elif status == "Failed":
                    dups = duplicate_values(self.crm, entity, need.columns)
                    self.emit(StepKind.KEY, entity, need.name, StepAction.FAILED, _failed_text(need, dups))
                elif status == "missing":
                    detail = f"alternate key {need.name} on {entity.logical_name} disappeared while it was being built"
                    self.emit(StepKind.KEY, entity, need.name, StepAction.FAILED, detail)
                elif time.monotonic() >= deadline:
                    detail = (
                        f"alternate key {actual} on {entity.logical_name} is still {status or 'Pending'} after "
                        f"{self.wait_seconds:.0f} s; Dataverse is still building it: run `p2c setup` again later"
                    )
                    self.emit(StepKind.KEY, entity, need.name, StepAction.FAILED, detail)
                else:
                    still.append((need, action, actual))
            pending = still
            if pending:
                time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                pause = min(pause * 2, 5.0)

    # -- change tracking -------------------------------------------------------------------------

    def tracking(self, needs: Sequence[TrackingNeed]) -> None:
        for need in needs:
            entity = need.entity
            try:
                if self.crm.change_tracking_enabled(entity.logical_name):
                    self.emit(
                        StepKind.CHANGE_TRACKING, entity, entity.logical_name, StepAction.EXISTS, "already on"
                    )
                    continue
                self.crm.enable_change_tracking(entity.logical_name)
            except P2CError as exc:
                if not _refusal(exc):
                    raise
                detail = f"switching change tracking on for {entity.logical_name} was refused: {_reason(exc)}"
                self.emit(StepKind.CHANGE_TRACKING, entity, entity.logical_name, StepAction.FAILED, detail)
                continue
            detail = f"read incrementally by {', '.join(need.tasks)}"
            self.emit(StepKind.CHANGE_TRACKING, entity, entity.logical_name, StepAction.ENABLED, detail)


def find_key(keys: Sequence[Mapping[str, Any]], need: KeyNeed) -> dict[str, Any] | None:
    """The service's key for ``need``: same schema name, or (under another name) the same columns."""
    for k in keys:
        if str(k.get("SchemaName") or "").lower() == need.name.lower():
            return dict(k)
    for k in keys:
        if set(k.get("KeyAttributes") or ()) == set(need.columns):
            return dict(k)
    return None


def _key_text(need: KeyNeed, actual: str, status: str) -> str:
    alias = f" (as {actual})" if actual.lower() != need.name.lower() else ""
    return f"{status}{alias} on {', '.join(need.columns)}"


def duplicate_values(
    crm: DataverseConnector, entity: EntitySpec, columns: Sequence[str]
) -> list[tuple[tuple[Any, ...], int]]:
    """Values of ``columns`` held by more than one row (rows with an empty column ignored), most first."""
    specs = [entity.field(c) for c in columns]
    names = [s.read_name if s is not None else c for s, c in zip(specs, columns, strict=True)]
    counts: dict[tuple[Any, ...], list[Any]] = {}
    for page in crm.read(entity.name, select=names):
        for row in page:
            values = tuple(row.get(n) for n in names)
            if any(v is None or v == "" for v in values):
                continue
            norm = tuple(str(v).casefold() if isinstance(v, str) else v for v in values)
            counts.setdefault(norm, [values, 0])[1] += 1
    dups = [(v[0], int(v[1])) for v in counts.values() if v[1] > 1]
    return sorted(dups, key=lambda d: (-d[1], str(d[0])))


def describe_duplicates(columns: Sequence[str], dups: Sequence[tuple[tuple[Any, ...], int]]) -> str:
    """``productnumber 'P-1' (2 rows), 'P-2' (2 rows)`` — the first few, with how many more."""
    shown = []
    for values, count in dups[:MAX_SHOWN]:
        text = ", ".join(repr(v) for v in values)
        shown.append(f"{text if len(values) == 1 else '(' + text + ')'} ({count} rows)")
    more = f" and {len(dups) - MAX_SHOWN} more" if len(dups) > MAX_SHOWN else ""
    return f"{', '.join(columns)} {', '.join(shown)}{more}"


def _failed_text(need: KeyNeed, dups: Sequence[tuple[tuple[Any, ...], int]]) -> str:
    where = f"alternate key {need.name} on {need.entity.logical_name} is Failed"
    if not dups:
        return f"{where}; no duplicate values were found, run `p2c setup` again to rebuild it"
    return (
        f"{where}: duplicate values in {describe_duplicates(need.columns, dups)}; make them unique in "
        f"{need.entity.name}, then run `p2c setup` again"
    )


def provision(
    project: Project,
    crm: DataverseConnector,
    *,
    progress: Callable[[SetupStep], None] | None = None,
    wait_seconds: float = 120,
    plan: Requirements | None = None,
) -> SetupReport:
    """Create the columns, alternate keys and change tracking the project needs; see the module docstring.

    ``progress`` is called with each step as it completes. Raises :class:`~p2c.errors.AuthError`
    when the CRM refuses the login and a transient error when it stays unavailable.
    """
    needs = plan or requirements(project)
    worker = _Provisioner(crm, progress, wait_seconds)
    worker.columns((*needs.columns, *needs.solution_columns))
    worker.keys(needs.keys)
    worker.tracking(needs.tracking)
    return worker.report
