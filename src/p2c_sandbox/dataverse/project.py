"""Turning stored rows into response rows: projection, ETags, annotations, ``$expand``.

Rows are stored under their wire names, so the fast path of a read is ``{column: row.get(column)}``
for the selected columns plus ``@odata.etag``. Annotations (``Prefer:
odata.include-annotations``) add FormattedValue labels and, on lookups, the
``lookuplogicalname`` and ``associatednavigationproperty`` of the target (DATAVERSE.md §2.3).

Example::

    >>> wanted = Annotations.parse('OData.Community.Display.V1.*')
    >>> wanted.formatted, wanted.lookup_name
    (True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.query import ExpandPlan
from p2c_sandbox.dataverse.schema import Kind, TableDef
from p2c_sandbox.dataverse.values import format_value
from p2c_sandbox.odata.options import sort_rows
from p2c_sandbox.store import Row

__all__ = ["Annotations", "Projector", "etag"]

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAV_NAME = "Microsoft.Dynamics.CRM.associatednavigationproperty"


def etag(row: Row) -> str:
    return f'W/"{row["versionnumber"]}"'


def _matches(patterns: list[str], name: str) -> bool:
    return any(p in ("*", name) or (p.endswith(".*") and name.startswith(p[:-1])) for p in patterns)


@dataclass(frozen=True)
class Annotations:
    formatted: bool = False
    lookup_name: bool = False
    nav_name: bool = False

    @property
    def any(self) -> bool:
        return self.formatted or self.lookup_name or self.nav_name

    @classmethod
    def parse(cls, value: str | None) -> Annotations:
        if not value:
            return cls()
        patterns = [p.strip().strip('"') for p in value.split(",") if p.strip()]
        return cls(
            _matches(patterns, FORMATTED), _matches(patterns, LOOKUP_NAME), _matches(patterns, NAV_NAME)
        )


class Projector:
    """Builds response rows for one table, column list and annotation choice."""

    def __init__(
        self,
        org: Org,
        t: TableDef,
        columns: list[str] | None,
        notes: Annotations,
        expand: list[ExpandPlan] | None = None,
    ) -> None:
        self.org = org
        self.t = t
        cols = list(t.wire_columns) if columns is None else list(columns)
        if t.pk not in cols:
            cols.append(t.pk)
        self.columns = cols
        self.notes = notes
        self.expand = expand or []
        self._expanders = [(e, Projector(org, e.target, e.select, notes)) for e in self.expand]
        self.project: Callable[[Row], dict[str, Any]] = self._annotated if notes.any else self._plain

    def _plain(self, row: Row) -> dict[str, Any]:
        out: dict[str, Any] = {"@odata.etag": f'W/"{row["versionnumber"]}"'}
        get = row.get
        for c in self.columns:
            out[c] = get(c)
        if self._expanders:
            self._expand(row, out)
        return out

    def _annotated(self, row: Row) -> dict[str, Any]:
        out: dict[str, Any] = {"@odata.etag": f'W/"{row["versionnumber"]}"'}
        by_wire, notes, org = self.t.by_wire, self.notes, self.org
        for c in self.columns:
            value = row.get(c)
            col = by_wire[c]
            if value is not None:
                if col.is_lookup:
                    target = row.get(f"~{col.name}") or col.targets[0]
                    if notes.formatted:
                        name = org.primary_name(target, value)
                        if name is not None:
                            out[f"{c}@{FORMATTED}"] = name
                    if notes.nav_name:
                        nav = next((n for n, tt in col.navs.items() if tt == target), col.name)
                        out[f"{c}@{NAV_NAME}"] = nav
                    if notes.lookup_name:
                        out[f"{c}@{LOOKUP_NAME}"] = target
                elif notes.formatted and col.kind not in (Kind.STRING, Kind.MEMO, Kind.UNIQUEIDENTIFIER):
                    symbol = "$"
                    if col.kind is Kind.MONEY:
                        currency = None if c.endswith("_base") else row.get("_transactioncurrencyid_value")
                        symbol = org.symbol(currency)
                    text = format_value(col, value, symbol)
                    if text is not None:
                        out[f"{c}@{FORMATTED}"] = text
            out[c] = value
        if self._expanders:
            self._expand(row, out)
        return out

    def _expand(self, row: Row, out: dict[str, Any]) -> None:
        org = self.org
        for plan, projector in self._expanders:
            if plan.collection:
                children = org.children(plan.target.name, plan.wire, row[self.t.pk])
                if plan.predicate is not None:
                    children = [c for c in children if plan.predicate(c)]
                if plan.orderby:
                    from p2c_sandbox.dataverse.query import RowSchema

                    schema = RowSchema(org, plan.target)
                    children = cast(list[Row], sort_rows(children, plan.orderby, schema.get))
                if plan.top is not None:
                    children = children[: plan.top]
                out[plan.nav] = [projector.project(c) for c in children]
            else:
                target_id = row.get(plan.wire)
                if plan.poly is not None and row.get(plan.poly) != plan.target.name:
                    target_id = None
                target = org.get(plan.target.name, target_id)
                out[plan.nav] = None if target is None else projector.project(target)
