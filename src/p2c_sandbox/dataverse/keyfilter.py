"""Reads by value: a ``$filter`` that names rows by id, lookup or text column, served by index.

p2c resolves lookups and checks existence with ``Microsoft.Dynamics.CRM.In(PropertyName='x',
PropertyValues=[...])`` and ``(x eq 'a' or x eq 'b')`` filters, often and-ed with the task's own
filter. Evaluating those on every row meant a full table scan per 1 000 ids, so a load of 50 000
orders rescanned 100 000 accounts fifty times. When some ``and`` operand of the filter is such a
value test — on the primary key, a lookup (``_x_value``) or a text column — the candidate rows
are found by index (:meth:`Org.with_value`, kept current by the store) and the compiled predicate
still decides on each, so results are exactly those of the scan; any other shape returns
``None`` and the reader scans.

Example::

    rows = candidates(org, t, parse_filter("accountid eq 5b0f...", Dialect.DATAVERSE))  # or None
"""

from __future__ import annotations

import uuid
from operator import itemgetter
from typing import Any

from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.schema import LOOKUP_KINDS, Kind, TableDef
from p2c_sandbox.odata.filter import (
    BoolOp,
    BoolOperator,
    Compare,
    CompareOp,
    CrmCall,
    Literal,
    Node,
    Property,
)
from p2c_sandbox.odata.filter_types import FieldKind, normalise
from p2c_sandbox.store import Row

__all__ = ["candidates"]

MAX_VALUES = 20_000  # more values than this: scan
_TEXT = frozenset({Kind.STRING, Kind.MEMO})
_GUIDS = frozenset({Kind.UNIQUEIDENTIFIER, *LOOKUP_KINDS})
_seq = itemgetter("@seq")


def _values(node: Node) -> tuple[str, list[Any]] | None:
    """``(column, values)`` of an ``eq`` or ``In`` test of one column against constants."""
    if isinstance(node, Compare):
        if node.op != CompareOp.EQ:
            return None
        left, right = node.left, node.right
        if isinstance(right, Property) and isinstance(left, Literal):
            left, right = right, left
        if isinstance(left, Property) and isinstance(right, Literal) and len(left.path) == 1:
            return left.path[0], [right.value]
        return None
    if isinstance(node, CrmCall) and node.name == "In":
        column, given = node.params.get("PropertyName"), node.params.get("PropertyValues")
        if not isinstance(column, str):
            return None
        return column, list(given) if isinstance(given, tuple) else [given]
    return None


def _key(kind: Kind, value: Any) -> Any:
    """The index key of a filter constant on a column of ``kind``; ``_NO`` when not indexable."""
    if isinstance(value, bool) or value is None:
        return _NO
    if kind in _GUIDS:
        guid = normalise(FieldKind.GUID, str(value) if isinstance(value, uuid.UUID) else value)
        return guid if isinstance(guid, str) else _NO
    if kind in _TEXT and isinstance(value, str):
        return value.casefold()
    return _NO


_NO = object()


def _rows(org: Org, t: TableDef, node: Node) -> dict[str, Row] | None:
    """A superset of the rows matching ``node``, by primary key; None when not served by index."""
    if isinstance(node, BoolOp):
        if node.op == BoolOperator.OR:
            out: dict[str, Row] = {}
            for part in node.operands:
                found = _rows(org, t, part)
                if found is None:
                    return None
                out.update(found)
                if len(out) > MAX_VALUES:
                    return None
            return out
        best: dict[str, Row] | None = None
        for part in node.operands:
            found = _rows(org, t, part)
            if found is not None and (best is None or len(found) < len(best)):
                best = found
        return best
    test = _values(node)
    if test is None:
        return None
    column, values = test
    col = t.by_wire.get(column)
    if col is None or len(values) > MAX_VALUES:
        return None
    keys = [_key(col.kind, v) for v in values]
    if any(k is _NO for k in keys):
        return None
    table = org.rows(t.name)
    if column == t.pk:
        return {k: row for k in keys if (row := table.get(k)) is not None}
    out = {}
    for k in keys:
        for row in org.with_value(t.name, column, k):
            out[row[t.pk]] = row
    return out


def candidates(org: Org, t: TableDef, tree: Node | None) -> list[Row] | None:
    """Rows that may match ``tree``, in creation order, when an index serves it; else None."""
    if tree is None:
        return None
    found = _rows(org, t, tree)
    if found is None:
        return None
    return sorted(found.values(), key=_seq)
