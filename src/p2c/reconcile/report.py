"""What ``p2c reconcile`` reports: per task, counts per class and up to ``limit`` examples of each.

Example::

    report.drift                                   # records out of sync, every task
    t = report.task("Accounts")
    t.counts[Drift.DIFFERS], t.examples[Drift.DIFFERS][0].fields[0].field
    report.as_dict()                               # JSON-ready (Decimal as exact text)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from p2c.reconcile.compare import jsonable

__all__ = ["Drift", "DriftRecord", "FieldDiff", "ReconcileReport", "TaskDrift"]


class Drift(StrEnum):
    IN_SYNC = "in_sync"
    DIFFERS = "differs"
    MISSING_IN_TARGET = "missing_in_target"
    ONLY_IN_TARGET = "only_in_target"
    UNMAPPABLE = "unmappable"


@dataclass(frozen=True)
class FieldDiff:
    """One differing field: what a run would write (``source``) and what the target holds."""

    field: str
    source: Any
    target: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "source": jsonable(self.source), "target": jsonable(self.target)}


@dataclass(frozen=True)
class DriftRecord:
    """One record out of sync. ``key`` is the target key (``usmf,C10100``); ``source_key`` the run's."""

    kind: Drift
    key: str
    source_key: str | None = None
    fields: tuple[FieldDiff, ...] = ()
    field: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        """One line for people: ``usmf,C10100 (source record 74e5...): OrganizationName: source 'A', target 'B'``."""
        head = self.key or "(no key)"
        if self.source_key and self.source_key != self.key:
            head += f" (source record {self.source_key})"
        parts = [f"{d.field}: source {d.source!r}, target {d.target!r}" for d in self.fields]
        if self.field:
            parts.append(f"field {self.field}")
        if self.reason:
            parts.append(self.reason)
        return head + (": " + "; ".join(parts) if parts else "")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "source_key": self.source_key}
        if self.fields:
            out["fields"] = [f.as_dict() for f in self.fields]
        if self.field:
            out["field"] = self.field
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class TaskDrift:
    """The reconciliation of one task: counts per class, up to ``limit`` examples of each."""

    task: str
    source: str
    target: str
    scope: dict[str, Any] = field(default_factory=dict)
    scope_marked: bool = False
    source_rows: int = 0
    target_rows: int = 0
    counts: dict[Drift, int] = field(default_factory=lambda: dict.fromkeys(Drift, 0))
    examples: dict[Drift, list[DriftRecord]] = field(default_factory=lambda: {d: [] for d in Drift})
    field_counts: dict[str, int] = field(default_factory=dict)
    skipped_fields: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    limit: int = 20

    @property
    def drift(self) -> int:
        """Records out of sync; *only in target* counts only when the scope has a marker."""
        c = self.counts
        only = c[Drift.ONLY_IN_TARGET] if self.scope_marked else 0
        return c[Drift.DIFFERS] + c[Drift.MISSING_IN_TARGET] + c[Drift.UNMAPPABLE] + only

    def add(self, record: DriftRecord) -> None:
        self.counts[record.kind] += 1
        for diff in record.fields:
            self.field_counts[diff.field] = self.field_counts.get(diff.field, 0) + 1
        if record.kind is not Drift.IN_SYNC and len(self.examples[record.kind]) < self.limit:
            self.examples[record.kind].append(record)

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "source": self.source,
            "target": self.target,
            "scope": jsonable(self.scope),
            "scope_marked": self.scope_marked,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "counts": {str(k): v for k, v in self.counts.items()},
            "drift": self.drift,
            "fields": dict(sorted(self.field_counts.items())),
            "skipped_fields": self.skipped_fields,
            "examples": {
                str(k): [r.as_dict() for r in v] for k, v in self.examples.items() if k is not Drift.IN_SYNC
            },
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


@dataclass
class ReconcileReport:
    tasks: list[TaskDrift] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def drift(self) -> int:
        return sum(t.drift for t in self.tasks)

    @property
    def failed(self) -> list[TaskDrift]:
        """Tasks that could not be reconciled (a read failed); their counts are incomplete."""
        return [t for t in self.tasks if t.error is not None]

    def task(self, name: str) -> TaskDrift:
        for t in self.tasks:
            if t.task == name:
                return t
        raise KeyError(f"no task {name!r} in this reconciliation")

    def as_dict(self) -> dict[str, Any]:
        return {
            "drift": self.drift,
            "seconds": round(self.seconds, 3),
            "tasks": [t.as_dict() for t in self.tasks],
        }
