"""The vocabulary of ``p2c doctor``: a check's result, the definition of a check, and what checks share.

A check is a function ``(DoctorContext) -> Iterable[Check]`` plus when it applies (a predicate on
the project's requirements) and which environments it needs reachable. The context holds the
project, both connectors, the requirements and read-only caches, so several checks reading the
same table read it once. Nothing here writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from p2c.catalog import EntitySpec, dialect_of
from p2c.connectors import DataverseConnector, FnoConnector
from p2c.odata import filter_fields
from p2c.project import Project, Task
from p2c.settings import System
from p2c.setup import Requirements

__all__ = ["PROSPECT_TO_CASH_DOCS", "Check", "CheckDef", "CheckStatus", "DoctorContext", "sample"]

PROSPECT_TO_CASH_DOCS = (
    "https://learn.microsoft.com/dynamics365/supply-chain/sales-marketing/prospect-to-cash"
)
SHOWN = 5


class CheckStatus(StrEnum):
    OK = "ok"
    WARN = "warn"  # a run can go ahead; some records may fail, or something is not as P2C expects
    FAIL = "fail"  # a run would fail as a whole (or every record of a task would): fix it first


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, what was seen, and how to fix it."""

    name: str
    status: CheckStatus
    detail: str = ""
    fix: str = ""

    def __str__(self) -> str:
        text = f"[{self.status.value}] {self.name}: {self.detail}"
        return f"{text} — fix: {self.fix}" if self.fix else text


@dataclass(frozen=True)
class CheckDef:
    """A registered check: ``run`` yields findings when ``applies`` and the ``needs`` are reachable."""

    name: str
    run: Callable[[DoctorContext], Iterable[Check]]
    needs: frozenset[System] = frozenset({System.CRM, System.ERP})
    applies: Callable[[DoctorContext], bool] = field(default=lambda ctx: True)


def sample(values: Sequence[Any], limit: int = SHOWN) -> str:
    """``a, b, c and 4 more``."""
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


@dataclass
class DoctorContext:
    """What every check may use; caches make each table read at most once per diagnosis."""

    project: Project
    crm: DataverseConnector
    erp: FnoConnector
    plan: Requirements
    reachable: dict[System, bool] = field(default_factory=dict)
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    # -- raw probes (GET only) ---------------------------------------------------------------------

    def connector(self, system: System) -> DataverseConnector | FnoConnector:
        return self.crm if system is System.CRM else self.erp

    def probe(self, system: System, entity: str, params: Mapping[str, str]) -> dict[str, Any]:
        """``GET entity?params`` (F&O: across companies); errors raised as p2c errors."""
        query = dict(params)
        if system is System.ERP:
            query["cross-company"] = "true"
        return self.connector(system).probe(entity, query)

    @contextlib.contextmanager
    def quick(self, system: System) -> Iterator[None]:
        """Give up on an unreachable host after one retry instead of the run's patient back-off."""
        with self.connector(system).impatient():
            yield

    # -- cached reads ----------------------------------------------------------------------------

    def cached(self, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def crm_rows(self, entity: str, select: Sequence[str]) -> list[dict[str, Any]]:
        key = ("crm-rows", entity, tuple(sorted(select)))
        return list(
            self.cached(key, lambda: [r for page in self.crm.read(entity, select=list(select)) for r in page])
        )

    def attributes(self, logical_name: str) -> dict[str, dict[str, Any]]:
        return dict(
            self.cached(
                ("attributes", logical_name),
                lambda: {str(a["LogicalName"]): a for a in self.crm.attributes(logical_name)},
            )
        )

    def organization(self) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            rows = [r for page in self.crm.read("organizations") for r in page]
            return rows[0] if rows else {}

        return dict(self.cached(("organization",), load))

    def companies(self) -> list[str]:
        return sorted(self.project.legal_entities)

    def source_rows(self, task: Task) -> list[dict[str, Any]]:
        """The rows ``task`` would read (its filter applied locally; ERP rows of the project's companies)."""
        entity = self.project.catalog.entity(task.source.system, task.source.entity)
        fields = {f for f in task.source_fields() if entity.field(f) is not None}
        fields |= {
            f for f in filter_fields(task.filter, dialect_of(entity.system)) if entity.field(f) is not None
        }
        if entity.system is System.ERP and entity.field("dataAreaId") is not None:
            fields.add("dataAreaId")
        names = sorted({(entity.field(f) or _never(f)).read_name for f in fields})
        key = ("source", entity.system, entity.name, task.filter, tuple(names))
        return list(self.cached(key, lambda: self._read_source(entity, task.filter, names)))

    def _read_source(self, entity: EntitySpec, text: str | None, names: list[str]) -> list[dict[str, Any]]:
        connector: DataverseConnector | FnoConnector = self.crm if entity.system is System.CRM else self.erp
        rows = [r for page in connector.read(entity.name, select=names) for r in page]
        if entity.system is System.ERP and "dataAreaId" in names:
            wanted = set(self.companies())
            rows = [r for r in rows if str(r.get("dataAreaId", "")).lower() in wanted]
        match = _predicate(entity, text, self.project)
        return [r for r in rows if match(r)] if match is not None else rows


def _never(name: str) -> Any:
    raise KeyError(name)


def _predicate(entity: EntitySpec, text: str | None, project: Project) -> Callable[[Any], bool] | None:
    if not text:
        return None
    from p2c.odata import Dialect, FilterError, compile_filter, parse_filter

    dialect = Dialect.DATAVERSE if entity.system is System.CRM else Dialect.FNO
    try:
        return compile_filter(
            parse_filter(text, dialect), entity.filter_schema(project.catalog.enums), dialect
        )
    except FilterError:
        return None  # load-time validation owns filter errors
