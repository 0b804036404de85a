"""Comparisons of compiled terms: a column with a constant, two columns, two constants, ``in``.

Null follows OData (Part 2 §5.1.1.1): ``eq null`` matches a missing value, ``ne null`` a present
one, ordering against null is false. Strings compare case-insensitively, as the services'
collation does, and in F&O a ``*`` in an ``eq``/``ne`` string is a wildcard (FNO.md §1.4).

    >>> name = Term(FieldKind.STRING, "property 'Name'", read=lambda r: r["Name"].lower(),
    ...             raw=lambda r: r["Name"], field=Field("Name", FieldKind.STRING))
    >>> match = compare(CompareOp.EQ, name, Term(FieldKind.STRING, "'*shop*'", const="*SHOP*"), Dialect.FNO)
    >>> match({"Name": "The Coffee Shop"}), match({"Name": "Bakery"})
    (True, False)
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from p2c_sandbox.odata.filter_ast import CompareOp, Dialect, EnumLiteral, FilterError
from p2c_sandbox.odata.filter_coerce import Mismatch, to_field
from p2c_sandbox.odata.filter_values import (
    Field,
    FieldKind,
    as_datetime,
    comparable,
    compatible,
    edm_of_literal,
)

__all__ = ["Getter", "Predicate", "Term", "compare", "membership"]

Getter = Callable[[Any], Any]
Predicate = Callable[[Any], bool]

_MIRROR = {
    CompareOp.EQ: CompareOp.EQ,
    CompareOp.NE: CompareOp.NE,
    CompareOp.GT: CompareOp.LT,
    CompareOp.GE: CompareOp.LE,
    CompareOp.LT: CompareOp.GT,
    CompareOp.LE: CompareOp.GE,
}
_ORDER: dict[CompareOp, Callable[[Any, Any], bool]] = {
    CompareOp.GT: operator.gt,
    CompareOp.GE: operator.ge,
    CompareOp.LT: operator.lt,
    CompareOp.LE: operator.le,
}


@dataclass(frozen=True, slots=True)
class Term:
    """One side of a comparison: a constant (``read`` is None) or a per-row comparable value."""

    kind: FieldKind | None  # None: the null literal
    label: str
    read: Getter | None = None
    raw: Getter | None = None  # a plain property's stored value (before normalising)
    const: object = None  # a constant's literal value (an EnumLiteral for enum values)
    field: Field | None = None

    @property
    def constant(self) -> bool:
        return self.read is None

    @property
    def edm(self) -> str:
        if self.field is not None:
            return self.field.edm_type
        if self.constant:
            return edm_of_literal(self.const)
        return Field("", self.kind or FieldKind.STRING).edm_type

    def as_field(self) -> Field:
        return self.field or Field("", self.kind or FieldKind.STRING)


def mismatch(left: Term, op: str, right: Term, reason: str = "") -> FilterError:
    why = f": {reason}" if reason else ""
    return FilterError(
        f"Cannot compare {left.label} ({left.edm}) with {right.label} ({right.edm}) using '{op}'{why}."
    )


def compare(op: CompareOp, left: Term, right: Term, dialect: Dialect) -> Predicate:
    """The predicate of ``left op right``."""
    if left.constant and not right.constant:
        left, right, op = right, left, _MIRROR[op]  # keep the column on the left
    for side in (left, right):
        if side.kind is FieldKind.ENUM and op not in (CompareOp.EQ, CompareOp.NE):
            raise FilterError(
                f"Enum values can only be compared with 'eq' and 'ne', not '{op}' ({side.label}, {side.edm})."
            )
    if not right.constant:
        return _columns(op, left, right)
    if left.constant:
        outcome = _constants(op, left, right)
        return lambda row: outcome
    return _column_constant(op, left, right, dialect)


def _constants(op: CompareOp, left: Term, right: Term) -> bool:
    a, b = left.const, right.const
    if a is None or b is None:
        if op in (CompareOp.EQ, CompareOp.NE):
            return (a is None and b is None) == (op is CompareOp.EQ)
        return False
    if left.kind is None or right.kind is None or not compatible(left.kind, right.kind):
        raise mismatch(left, op, right)
    if left.kind is not right.kind and FieldKind.DATETIME in (left.kind, right.kind):
        a, b = as_datetime(a), as_datetime(b)
    else:
        norm = comparable(left.kind)
        a, b = (norm(v.member if isinstance(v, EnumLiteral) else v) for v in (a, b))
    return _apply(op, a, b)


def _apply(op: CompareOp, a: Any, b: Any) -> bool:
    if op is CompareOp.EQ:
        return bool(a == b)
    if op is CompareOp.NE:
        return bool(a != b)
    return _ORDER[op](a, b)


def _columns(op: CompareOp, left: Term, right: Term) -> Predicate:
    assert left.kind is not None and right.kind is not None
    assert left.read is not None and right.read is not None
    lk, rk = left.kind, right.kind
    enum_types = (left.field.enum_type, right.field.enum_type) if left.field and right.field else (None, None)
    if not compatible(lk, rk) or (lk is FieldKind.ENUM and enum_types[0] != enum_types[1]):
        raise mismatch(left, op, right)
    lread, rread = left.read, right.read
    if lk is not rk and {lk, rk} == {FieldKind.DATE, FieldKind.DATETIME}:
        lread, rread = _promoted(lread), _promoted(rread)
    if op is CompareOp.EQ:
        return lambda row: lread(row) == rread(row)
    if op is CompareOp.NE:
        return lambda row: lread(row) != rread(row)
    order = _ORDER[op]

    def ordered(row: Any) -> bool:
        a, b = lread(row), rread(row)
        return a is not None and b is not None and order(a, b)

    return ordered


def _promoted(read: Getter) -> Getter:
    """A date reader turned into a date-time reader (midnight UTC)."""
    return lambda row: as_datetime(read(row))


def _column_constant(op: CompareOp, column: Term, constant: Term, dialect: Dialect) -> Predicate:
    assert column.read is not None
    read, raw, target = column.read, column.raw, column.as_field()
    if column.kind is FieldKind.DATE and constant.kind is FieldKind.DATETIME:
        read, raw, target = _promoted(read), None, Field(target.name, FieldKind.DATETIME)
    try:
        value = to_field(constant.const, target, dialect)
    except Mismatch as error:
        raise mismatch(column, op, constant, error.reason) from None
    if value is None:
        return _null_test(op, raw or read)
    if op in (CompareOp.EQ, CompareOp.NE) and target.kind is FieldKind.STRING:
        if dialect is Dialect.FNO and "*" in value:
            return _wildcard(op is CompareOp.EQ, read, value)
        if raw is not None:
            return _text_equality(op is CompareOp.EQ, raw, value)
    if op is CompareOp.EQ:
        return lambda row: read(row) == value
    if op is CompareOp.NE:
        return lambda row: read(row) != value
    order = _ORDER[op]
    return lambda row: (v := read(row)) is not None and order(v, value)


def _null_test(op: CompareOp, stored: Getter) -> Predicate:
    if op is CompareOp.EQ:
        return lambda row: stored(row) is None
    if op is CompareOp.NE:
        return lambda row: stored(row) is not None
    return lambda row: False


def _text_equality(equal: bool, raw: Getter, value: str) -> Predicate:
    # The emulators' hottest path (key reads): one lookup, one lower(), one compare per row.
    def same(row: Any) -> bool:
        v = raw(row)
        if type(v) is str:
            return v.lower() == value
        return v is not None and str(v).lower() == value

    if equal:
        return same
    return lambda row: not same(row)


def _wildcard(equal: bool, read: Getter, pattern: str) -> Predicate:
    """F&O's ``Name eq '*shop*'``: ``*`` stands for any run of characters."""
    pieces = pattern.split("*")
    regex = re.compile(".*".join(re.escape(piece) for piece in pieces), re.DOTALL)

    def fits(row: Any) -> bool:
        v = read(row)
        return v is not None and regex.fullmatch(v) is not None

    if equal:
        return fits
    return lambda row: not fits(row)


def membership(left: Term, items: Iterable[Term], dialect: Dialect) -> Predicate:
    """``left in (items...)``: the items must be literals; one set lookup per row."""
    if left.constant or left.kind is None or left.read is None:
        raise FilterError(f"The left side of 'in' must be a property, not {left.label}.")
    allowed: set[Any] = set()
    for item in items:
        if not item.constant:
            raise FilterError(f"The list after 'in' may only hold literals, not {item.label}.")
        try:
            allowed.add(to_field(item.const, left.as_field(), dialect))
        except Mismatch as error:
            raise mismatch(left, "in", item, error.reason) from None
    frozen = frozenset(allowed)
    read = left.read
    return lambda row: read(row) in frozen
