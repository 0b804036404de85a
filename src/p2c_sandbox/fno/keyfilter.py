"""Reads by key: a ``$filter`` of ``or``-ed key equalities served from the key index, not a scan.

Upserts read by key before they write (``(dataAreaId eq 'usmf' and SalesOrderNumber eq 'A' and
(LineCreationSequenceNumber eq 1 or ... eq 5)) or (...)``), one such read per batch. Evaluating it
on every row of a 250 000-line table made each read take seconds, and a load of 50 000 lines
minutes. When the filter binds every key field of the set to constants in each of its ``or``
branches, the candidates are looked up by key and the compiled predicate still decides (so case,
visibility and types behave exactly as in a scan); any other shape returns ``None`` and is scanned.

Example::

    rows = key_lookup(data, es, parse_filter(text, Dialect.FNO), company=None)  # None: not key-only
"""

from __future__ import annotations

from decimal import Decimal
from itertools import product
from typing import Any

from p2c_sandbox.fno.data import Data
from p2c_sandbox.fno.entities import EntitySet
from p2c_sandbox.fno.stored import key_part
from p2c_sandbox.odata.filter import BoolOp, BoolOperator, Compare, CompareOp, Literal, Node, Property
from p2c_sandbox.store import Row

__all__ = ["key_lookup"]

MAX_KEYS = 20_000  # more bindings than this: scan


def _bindings(node: Node, keys: frozenset[str]) -> list[dict[str, Any]] | None:
    """The filter as or-ed sets of key equalities, or None when it is any other shape."""
    if isinstance(node, Compare):
        if not (
            node.op == CompareOp.EQ and isinstance(node.left, Property) and isinstance(node.right, Literal)
        ):
            return None
        path, value = node.left.path, node.right.value
        if len(path) != 1 or path[0] not in keys or isinstance(value, bool):
            return None
        if isinstance(value, str):
            if "*" in value:  # F&O wildcard
                return None
        elif not isinstance(value, int | Decimal):
            return None
        return [{path[0]: key_part(value)}]
    if not isinstance(node, BoolOp):
        return None
    out: list[dict[str, Any]] = []
    if node.op == BoolOperator.OR:
        for part in node.operands:
            found = _bindings(part, keys)
            if found is None:
                return None
            out += found
            if len(out) > MAX_KEYS:
                return None
        return out
    alternatives = []
    for part in node.operands:
        found = _bindings(part, keys)
        if found is None:
            return None
        alternatives.append(found)
    for combo in product(*alternatives):
        merged: dict[str, Any] = {}
        for binding in combo:
            for name, value in binding.items():
                if merged.setdefault(name, value) != value:
                    return None  # contradictory equalities: rare, scanned
        out.append(merged)
        if len(out) > MAX_KEYS:
            return None
    return out


def key_lookup(
    data: Data, es: EntitySet, tree: Node, predicate: Any, company: str | None
) -> list[Row] | None:
    """Rows of ``es`` matching ``tree`` (``predicate`` compiled from it) in key order, found by key;
    None when the filter does not bind every key field in every branch."""
    keys = frozenset(es.keys)
    bindings = _bindings(tree, keys)
    if bindings is None or any(len(b) != len(keys) for b in bindings):
        return None
    scope = company if es.company else None
    rows: dict[int, Row] = {}
    for binding in bindings:
        row = data.find(es, binding)
        if row is not None and (scope is None or row["dataAreaId"] == scope) and predicate(row):
            rows[id(row)] = row
    return data.sort(es, list(rows.values()))
