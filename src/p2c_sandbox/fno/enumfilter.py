"""Reads narrowed by an enum: a ``$filter`` that ands ``Field eq/ne Enum'Member'`` served from an index.

The ERP's own order lines are read with ``SalesOrderProcessingStatus ne ...'Active' and ...`` on
every run. After an initial load at large:100000 the table holds 500 000 lines (the seed's 250 000
and the CRM orders' 250 000), and every write of a line made the filter run over all of them
again: 1–2 s in the sandbox's one thread, which every other request of the run waited behind.

So a filter whose top-level ``and`` compares enum properties of the set with constants is served
from a group index of each property's values (per company), built on first use and kept current
by every write and rollback of the table (:meth:`p2c_sandbox.store.Table.add_group`). The
candidates are the rows every comparison keeps: at large:100000 the 150 000 ERP lines that are
not Active and the 250 000 CRM lines whose customers are externally maintained have none in
common, which two set operations on the index tell. The compiled predicate then decides, so
visibility, the other conjuncts and types behave exactly as in a scan. A filter of any other
shape, or whose comparisons keep half the table or more, returns ``None`` and is scanned.

Example::

    rows = enum_lookup(data, es, tree, predicate, "usmf")  # None: not narrowed, scan
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from p2c_sandbox.fno.data import Data
from p2c_sandbox.fno.entities import EntitySet, Kind
from p2c_sandbox.odata.filter import (
    BoolOp,
    BoolOperator,
    Compare,
    CompareOp,
    EnumLiteral,
    Literal,
    Node,
    Property,
)
from p2c_sandbox.store import Row, Table

__all__ = ["enum_lookup"]

_ABSENT = ("absent",)  # the row lacks the field: it reads as the set's default
_OTHER = ("other",)  # not text: an enum comparison reads it as null


def _conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, BoolOp) and node.op == BoolOperator.AND:
        for part in node.operands:
            yield from _conjuncts(part)
    else:
        yield node


def _comparisons(es: EntitySet, tree: Node) -> Iterator[tuple[str, bool, str]]:
    """``(field, eq, member casefolded)`` of each top-level conjunct comparing an enum property with
    a constant (either side)."""
    for node in _conjuncts(tree):
        if not isinstance(node, Compare) or node.op not in (CompareOp.EQ, CompareOp.NE):
            continue
        sides = (node.left, node.right)
        prop = next((s for s in sides if isinstance(s, Property)), None)
        const = next((s for s in sides if isinstance(s, EnumLiteral | Literal)), None)
        if prop is None or const is None or len(prop.path) != 1:
            continue
        found = es.by_name.get(prop.path[0])
        if found is None or found.kind is not Kind.ENUM:
            continue
        member = const.member if isinstance(const, EnumLiteral) else const.value
        if isinstance(member, str):
            yield prop.path[0], node.op == CompareOp.EQ, member.casefold()


def _key_fn(field: str) -> Callable[[Row], Any]:
    def key(row: Row) -> Any:
        value = row.get(field, _ABSENT)
        if isinstance(value, str):
            value = value.casefold()
        elif value is not _ABSENT:
            value = _OTHER
        return (row.get("dataAreaId"), value)

    return key


def _group(table: Table, field: str) -> dict[Any, dict[str, None]]:
    name = "enum:" + field
    if not table.has_group(name):
        table.add_group(name, _key_fn(field))
    return table.groups[name]


def _kept(
    es: EntitySet, field: str, eq: bool, member: str, groups: dict[Any, dict[str, None]], scope: str | None
) -> list[dict[str, None]]:
    """The groups of rows for which ``field eq/ne member`` holds, as the predicate reads the field:
    an absent value is the set's default, anything but text is null (``ne`` holds for null)."""
    default = es.prop(field).default
    kept = []
    for (company, value), pks in groups.items():
        if scope is not None and company != scope:
            continue
        if value is _ABSENT:
            value = default.casefold() if isinstance(default, str) else None
        elif value is _OTHER:
            value = None
        if (value == member) if eq else (value != member):
            kept.append(pks)
    return kept


def enum_lookup(
    data: Data, es: EntitySet, tree: Node, predicate: Callable[[Row], bool], company: str | None
) -> list[Row] | None:
    """Rows of ``es`` matching ``tree`` (``predicate`` compiled from it) in key order, found through
    the enum comparisons of its top-level ``and``: the rows every one of them keeps (set
    operations on the index, the narrowest first); None when it has none, or when they keep half
    the rows or more together (a scan costs the same)."""
    table = data.table(es.table)
    scope = company if es.company else None
    kept = [_kept(es, f, eq, m, _group(table, f), scope) for f, eq, m in _comparisons(es, tree)]
    if not kept:
        return None
    kept.sort(key=lambda groups: sum(map(len, groups)))
    pks: set[str] = set().union(*(g.keys() for g in kept[0]))
    for groups in kept[1:]:  # the ERP's own lines: not Active, of customers not externally maintained
        if not pks:
            break
        pks &= groups[0].keys() if len(groups) == 1 else set().union(*(g.keys() for g in groups))
    if 2 * len(pks) >= len(table):
        return None
    all_rows = table.rows
    rows = [all_rows[pk] for pk in pks]
    if es.view is not None:
        rows = [r for r in rows if data.visible(es, r)]
    return data.sort(es, [r for r in rows if predicate(r)])
