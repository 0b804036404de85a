"""Query options of a collection read, parsed and checked against the table (DATAVERSE.md §2.6).

:func:`parse_query` turns ``$select``, ``$filter`` (with ``@p`` parameter aliases), ``$orderby``,
``$top``, ``$expand`` and ``$count`` into a :class:`QuerySpec`; anything unsupported (``$skip``,
``$search``, ``$format``, unknown ``$`` options) is a 400 like the real service's.
:class:`RowSchema` lets the sandbox's ``$filter`` compiler (:mod:`p2c_sandbox.odata.filter`) read stored rows,
follow single-valued navigation (``primarycontactid/fullname``) and collection navigation in
``any``/``all`` lambdas.

Example::

    >>> from p2c_sandbox.store import Store
    >>> from p2c_sandbox.dataverse.org import Org
    >>> org = Org(Store(None))
    >>> schema = RowSchema(org, org.catalog.table("account"))
    >>> schema.field(("primarycontactid", "fullname")).kind
    <FieldKind.STRING: 'string'>
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from p2c_sandbox.dataverse.errors import Code, DataverseError, bad_request, unknown_property
from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.schema import Column, Kind, TableDef
from p2c_sandbox.http import Request
from p2c_sandbox.odata.filter import (
    Dialect,
    Field,
    FieldKind,
    FilterError,
    Node,
    compile_filter,
    parse_filter,
)
from p2c_sandbox.odata.options import Expand, OrderBy, parse_expand, parse_orderby, parse_select
from p2c_sandbox.store import Row

__all__ = ["ExpandPlan", "QuerySpec", "RowSchema", "parse_query"]

_KINDS = {
    Kind.STRING: FieldKind.STRING,
    Kind.MEMO: FieldKind.STRING,
    Kind.INTEGER: FieldKind.INT,
    Kind.BIGINT: FieldKind.INT,
    Kind.PICKLIST: FieldKind.INT,
    Kind.STATE: FieldKind.INT,
    Kind.STATUS: FieldKind.INT,
    Kind.DECIMAL: FieldKind.DECIMAL,
    Kind.MONEY: FieldKind.DECIMAL,
    Kind.BOOLEAN: FieldKind.BOOL,
    Kind.DATETIME: FieldKind.DATETIME,
}
SUPPORTED = frozenset(
    {"$select", "$filter", "$orderby", "$top", "$expand", "$count", "$skiptoken", "$deltatoken"}
)
#: non-$ options of the real API that the sandbox does not implement
_UNSUPPORTED_CUSTOM = frozenset({"fetchXml", "savedQuery", "userQuery", "sql"})


def field_kind(col: Column) -> FieldKind:
    if col.kind is Kind.DATETIME and col.date_only:
        return FieldKind.DATE
    return _KINDS.get(col.kind, FieldKind.GUID)


class RowSchema:
    """How the ``$filter`` compiler sees the rows of one table."""

    def __init__(self, org: Org, t: TableDef) -> None:
        self.org = org
        self.t = t
        self.type_name = t.name

    def _resolve(self, path: tuple[str, ...]) -> tuple[list[tuple[str, str, str | None]], Column] | None:
        """Navigation hops ``(wire, target table, polymorphic target)`` and the final column."""
        t, hops = self.t, []
        for nav in path[:-1]:
            found = t.navs.get(nav)
            if found is None:
                return None
            col, target = found
            hops.append((col.wire, target, f"~{col.name}" if len(col.targets) > 1 else None))
            t = self.org.catalog.table(target)
        last = t.by_wire.get(path[-1])
        if last is None or (last.is_lookup and path[-1] == last.name):
            return None
        return hops, last

    def field(self, path: tuple[str, ...]) -> Field | None:
        found = self._resolve(path)
        return None if found is None else Field("/".join(path), field_kind(found[1]))

    def getter(self, path: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
        found = self._resolve(path)
        if found is None:
            return lambda row: None
        hops, col = found
        wire = col.wire
        if not hops:
            return lambda row: row.get(wire)
        org = self.org

        def follow(row: Mapping[str, Any]) -> Any:
            current: Mapping[str, Any] | None = row
            for hop_wire, target, poly in hops:
                assert current is not None
                if poly is not None and current.get(poly, target) != target:
                    return None
                current = org.get(target, current.get(hop_wire))
                if current is None:
                    return None
            return current.get(wire) if current is not None else None

        return follow

    def get(self, row: Mapping[str, Any], path: tuple[str, ...]) -> Any:
        return self.getter(path)(row)

    def collection(self, row: Row, path: tuple[str, ...]) -> Iterable[Row]:
        if len(path) != 1 or path[0] not in self.t.collections:
            return ()
        child, lookup = self.t.collections[path[0]]
        ct = self.org.catalog.table(child)
        return self.org.children(child, ct.columns[lookup].wire, row[self.t.pk])

    def element_schema(self, path: tuple[str, ...]) -> RowSchema | None:
        if len(path) != 1 or path[0] not in self.t.collections:
            return None
        return RowSchema(self.org, self.org.catalog.table(self.t.collections[path[0]][0]))


@dataclass
class ExpandPlan:
    nav: str
    target: TableDef
    #: lookup wire on the parent (single-valued) or on the child (collection)
    wire: str
    collection: bool
    select: list[str]
    poly: str | None = None
    predicate: Callable[[Row], bool] | None = None
    tree: Node | None = None  # the parsed $filter: keyfilter.py serves id and value tests by index
    orderby: list[OrderBy] = field(default_factory=list)
    top: int | None = None


@dataclass
class QuerySpec:
    select: list[str] | None = None
    predicate: Callable[[Row], bool] | None = None
    tree: Node | None = None  # the parsed $filter: keyfilter.py serves id and value tests by index
    orderby: list[OrderBy] = field(default_factory=list)
    top: int | None = None
    expand: list[ExpandPlan] = field(default_factory=list)
    count: bool = False
    given: set[str] = field(default_factory=set)


def check_options(req: Request) -> dict[str, str]:
    """Refuse unsupported query options; returns the parameter aliases (``@p1`` → text)."""
    aliases: dict[str, str] = {}
    for name, value in req.query:
        if name.startswith("@"):
            aliases[name] = value
        elif name.startswith("$"):
            if name not in SUPPORTED:
                raise bad_request(f"The query parameter {name} is not supported")
        elif name in _UNSUPPORTED_CUSTOM:
            raise bad_request(f"The query parameter {name} is not supported by the sandbox.")
    return aliases


def select_columns(t: TableDef, items: list[str]) -> list[str]:
    out = []
    by_wire = t.by_wire
    for item in items:
        if item == "*":
            return list(t.wire_columns)
        col = by_wire.get(item)
        if col is None or (col.is_lookup and item == col.name):
            raise unknown_property(item, t.name)
        if item not in out:
            out.append(item)
    return out


def compile_predicate(org: Org, t: TableDef, text: str, aliases: dict[str, str]) -> Callable[[Row], bool]:
    return compile_predicate_on(RowSchema(org, t), text, aliases)


def compile_predicate_on(schema: Any, text: str, aliases: dict[str, str]) -> Callable[[Row], bool]:
    """``$filter`` text compiled against any filter schema; a bad filter is a 400."""
    try:
        node = parse_filter(text, Dialect.DATAVERSE, aliases=aliases)
        return compile_filter(node, schema, Dialect.DATAVERSE)
    except FilterError as exc:
        raise DataverseError(400, Code.QUERY, str(exc)) from exc


def check_orderby(org: Org, t: TableDef, items: list[OrderBy]) -> list[OrderBy]:
    schema = RowSchema(org, t)
    for item in items:
        if schema.field(item.path) is None:
            raise unknown_property("/".join(item.path), t.name)
    return items


def parse_top(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text.strip()):
        raise bad_request(
            f"Invalid value '{text}' for $top query option found. The $top query option requires a "
            "non-negative integer value."
        )
    return int(text)


def parse_query(org: Org, t: TableDef, req: Request) -> QuerySpec:
    aliases = check_options(req)
    spec = QuerySpec(given={name for name, _ in req.query})
    try:
        if (text := req.param("$select")) is not None:
            spec.select = select_columns(t, parse_select(text))
        if (text := req.param("$filter")) is not None:
            spec.tree = parse_filter(text, Dialect.DATAVERSE, aliases=aliases)
            spec.predicate = compile_filter(spec.tree, RowSchema(org, t), Dialect.DATAVERSE)
        if (text := req.param("$orderby")) is not None:
            spec.orderby = check_orderby(org, t, parse_orderby(text))
        if (text := req.param("$expand")) is not None:
            spec.expand = [_plan(org, t, e, aliases) for e in parse_expand(text)]
    except FilterError as exc:
        raise DataverseError(400, Code.QUERY, str(exc)) from exc
    if (text := req.param("$top")) is not None:
        spec.top = parse_top(text)
    if (text := req.param("$count")) is not None:
        if text not in ("true", "false"):
            raise bad_request(f"'{text}' is not a valid count option.")
        spec.count = text == "true"
    return spec


def parse_expand_only(org: Org, t: TableDef, req: Request) -> tuple[list[str] | None, list[ExpandPlan]]:
    """``$select`` and ``$expand`` of a single-row read (other options are refused)."""
    aliases = check_options(req)
    for name, _ in req.query:
        if name in ("$filter", "$orderby", "$top", "$count", "$skiptoken", "$deltatoken"):
            raise bad_request(f"The query parameter {name} is not supported on a single record.")
    try:
        select = select_columns(t, parse_select(text)) if (text := req.param("$select")) is not None else None
        expand = (
            [_plan(org, t, e, aliases) for e in parse_expand(text)] if (text := req.param("$expand")) else []
        )
    except FilterError as exc:
        raise DataverseError(400, Code.QUERY, str(exc)) from exc
    return select, expand


def _plan(org: Org, t: TableDef, e: Expand, aliases: dict[str, str]) -> ExpandPlan:
    if e.expand:
        raise bad_request("Nested $expand is not supported by the sandbox (single-level $expand only).")
    if e.nav in t.navs:
        col, target_name = t.navs[e.nav]
        target = org.catalog.table(target_name)
        if e.filter or e.orderby or e.top is not None:
            raise bad_request(f"Only $select is supported inside $expand of the single-valued '{e.nav}'.")
        poly = f"~{col.name}" if len(col.targets) > 1 else None
        select = select_columns(target, e.select) if e.select else list(target.wire_columns)
        return ExpandPlan(e.nav, target, col.wire, False, select, poly)
    if e.nav in t.collections:
        child_name, lookup = t.collections[e.nav]
        child = org.catalog.table(child_name)
        select = select_columns(child, e.select) if e.select else list(child.wire_columns)
        return ExpandPlan(
            e.nav,
            child,
            child.columns[lookup].wire,
            True,
            select,
            predicate=compile_predicate(org, child, e.filter, aliases) if e.filter else None,
            orderby=check_orderby(org, child, e.orderby),
            top=e.top,
        )
    raise unknown_property(e.nav, t.name)
