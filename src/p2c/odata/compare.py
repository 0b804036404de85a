"""Comparisons for compiled filters: constants against columns, columns against columns.

``compare`` is where the per-row cost of a filter is decided, so literals are coerced and
lower-cased here, once, and the common string equality gets a dedicated closure. F&O's
``*`` wildcards in ``eq``/``ne`` also live here. Example::

    >>> from p2c.odata.schema import FieldInfo, FieldKind
    >>> name = Operand(FieldKind.STRING, "property 'Name'", get=lambda r: r["Name"].lower(),
    ...                raw=lambda r: r["Name"], field=FieldInfo("Name", FieldKind.STRING))
    >>> match = compare(CompareOp.EQ, name, Operand(FieldKind.STRING, "'*RETAIL*'", value="*RETAIL*"), Dialect.FNO)
    >>> match({"Name": "Contoso Retail San Diego"})
    True
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from p2c.odata.ast import CompareOp, Dialect, EnumLiteral, FilterError
from p2c.odata.schema import FieldInfo, FieldKind, Row, RowGetter
from p2c.odata.values import (
    Incompatible,
    coerce_constant,
    edm_of_value,
    norm_datetime,
    normalizer,
    same_family,
)

__all__ = ["Operand", "Predicate", "compare", "membership", "type_error"]

Predicate = Callable[[Row], bool]

_FLIPPED = {
    CompareOp.EQ: CompareOp.EQ,
    CompareOp.NE: CompareOp.NE,
    CompareOp.GT: CompareOp.LT,
    CompareOp.GE: CompareOp.LE,
    CompareOp.LT: CompareOp.GT,
    CompareOp.LE: CompareOp.GE,
}
_ORDERING: dict[CompareOp, Callable[[Any, Any], bool]] = {
    CompareOp.GT: operator.gt,
    CompareOp.GE: operator.ge,
    CompareOp.LT: operator.lt,
    CompareOp.LE: operator.le,
}


@dataclass(frozen=True, slots=True)
class Operand:
    """A compiled value: a constant (``get`` is None) or a per-row normalised getter."""

    kind: FieldKind | None  # None: the null literal
    label: str
    get: RowGetter | None = None
    raw: RowGetter | None = None  # the un-normalised accessor of a plain property
    value: object = None  # constants: the literal's Python value (EnumLiteral for enums)
    field: FieldInfo | None = None

    @property
    def is_const(self) -> bool:
        return self.get is None

    @property
    def edm(self) -> str:
        if self.field is not None:
            return self.field.edm_type
        if self.is_const:
            return edm_of_value(self.value)
        return FieldInfo("", self.kind or FieldKind.STRING).edm_type

    def target(self) -> FieldInfo:
        return self.field or FieldInfo("", self.kind or FieldKind.STRING)


def type_error(left: Operand, op: str, right: Operand, reason: str = "") -> FilterError:
    detail = f": {reason}" if reason else ""
    return FilterError(
        f"Cannot compare {left.label} ({left.edm}) with {right.label} ({right.edm}) using '{op}'{detail}."
    )


def compare(op: CompareOp, left: Operand, right: Operand, dialect: Dialect) -> Predicate:
    """The predicate of ``left op right``; constants on the left are moved to the right."""
    op = CompareOp(op)
    if left.is_const and not right.is_const:
        left, right, op = right, left, _FLIPPED[op]
    for side in (left, right):
        if side.kind is FieldKind.ENUM and op not in (CompareOp.EQ, CompareOp.NE):
            raise FilterError(
                f"Only 'eq' and 'ne' can compare enum values, but {side.label} ({side.edm}) is used with '{op}'."
            )
    if not right.is_const:
        return _compare_columns(op, left, right)
    if left.is_const:
        result = _fold(op, left, right)
        return lambda row: result
    return _compare_constant(op, left, right, dialect)


def _fold(op: CompareOp, left: Operand, right: Operand) -> bool:
    """Compare two constants (``1 eq 1``, ``true``) at compile time."""
    a, b = left.value, right.value
    if a is None or b is None:
        both_null = a is None and b is None
        return both_null if op == CompareOp.EQ else (not both_null if op == CompareOp.NE else False)
    lk, rk = left.kind, right.kind
    if lk is None or rk is None or not same_family(lk, rk):
        raise type_error(left, op, right)
    if lk != rk and FieldKind.DATETIME in (lk, rk):
        a, b = norm_datetime(a), norm_datetime(b)
    else:
        norm = normalizer(lk)
        a, b = (norm(v.member if isinstance(v, EnumLiteral) else v) for v in (a, b))
    if op == CompareOp.EQ:
        return bool(a == b)
    if op == CompareOp.NE:
        return bool(a != b)
    return _ORDERING[op](a, b)


def _compare_columns(op: CompareOp, left: Operand, right: Operand) -> Predicate:
    lk, rk = left.kind, right.kind
    assert lk is not None and rk is not None and left.get is not None and right.get is not None
    if not same_family(lk, rk) or (
        lk is FieldKind.ENUM and left.field and right.field and left.field.enum_type != right.field.enum_type
    ):
        raise type_error(left, op, right)
    lget, rget = left.get, right.get
    if lk != rk and FieldKind.DATE in (lk, rk) and FieldKind.DATETIME in (lk, rk):
        lget, rget = _as_datetime(lget), _as_datetime(rget)
    if op == CompareOp.EQ:
        return lambda row: lget(row) == rget(row)
    if op == CompareOp.NE:
        return lambda row: lget(row) != rget(row)
    compare = _ORDERING[op]

    def ordered(row: Row) -> bool:
        a = lget(row)
        if a is None:
            return False
        b = rget(row)
        return b is not None and compare(a, b)

    return ordered


def _as_datetime(get: RowGetter) -> RowGetter:
    return lambda row: norm_datetime(get(row))


def _compare_constant(op: CompareOp, left: Operand, right: Operand, dialect: Dialect) -> Predicate:
    assert left.kind is not None and left.get is not None
    get, raw, target = left.get, left.raw, left.target()
    if left.kind is FieldKind.DATE and isinstance(right.value, dt.datetime):
        get, raw, target = _as_datetime(get), None, FieldInfo(target.name, FieldKind.DATETIME)
    try:
        const = coerce_constant(right.value, target, dialect)
    except Incompatible as error:
        raise type_error(left, op, right, error.reason) from None
    if const is None:
        present = raw or get
        if op == CompareOp.EQ:
            return lambda row: present(row) is None
        if op == CompareOp.NE:
            return lambda row: present(row) is not None
        return lambda row: False
    equality = op in (CompareOp.EQ, CompareOp.NE)
    if equality and target.kind is FieldKind.STRING and dialect is Dialect.FNO and "*" in const:
        return _wildcard(op, get, const)
    if equality and target.kind is FieldKind.STRING and raw is not None:
        return _string_equality(op, raw, const)
    if op == CompareOp.EQ:
        return lambda row: get(row) == const
    if op == CompareOp.NE:
        return lambda row: get(row) != const
    compare = _ORDERING[op]
    return lambda row: (v := get(row)) is not None and compare(v, const)


def _string_equality(op: CompareOp, raw: RowGetter, const: str) -> Predicate:
    # The hot path of every emulator query: one lookup, one lower(), one compare.
    if op == CompareOp.EQ:

        def equal(row: Row) -> bool:
            v = raw(row)
            return v.lower() == const if type(v) is str else v is not None and str(v).lower() == const

        return equal

    def unequal(row: Row) -> bool:
        v = raw(row)
        return v.lower() != const if type(v) is str else v is None or str(v).lower() != const

    return unequal


def _wildcard(op: CompareOp, get: RowGetter, pattern: str) -> Predicate:
    """F&O's ``Name eq '*retail*'``: ``*`` matches any run of characters (case-insensitive)."""
    parts = pattern.split("*")
    match: Callable[[str], bool]
    if len(parts) == 3 and not parts[0] and not parts[2]:
        middle = parts[1]
        match = lambda s: middle in s  # noqa: E731
    elif len(parts) == 2 and not parts[1]:
        match = operator.methodcaller("startswith", parts[0])
    elif len(parts) == 2 and not parts[0]:
        match = operator.methodcaller("endswith", parts[1])
    else:
        regex = re.compile(".*".join(re.escape(part) for part in parts), re.DOTALL)
        match = lambda s: regex.fullmatch(s) is not None  # noqa: E731
    if op == CompareOp.EQ:
        return lambda row: (v := get(row)) is not None and match(v)
    return lambda row: (v := get(row)) is None or not match(v)


def membership(left: Operand, items: Iterable[Operand], dialect: Dialect) -> Predicate:
    """The predicate of ``left in (items...)``: one set lookup per row."""
    if left.is_const or left.kind is None or left.get is None:
        raise FilterError(f"The left side of 'in' must be a property, not {left.label}.")
    allowed: set[Any] = set()
    for item in items:
        if not item.is_const:
            raise FilterError(f"The list after 'in' may only hold literals, not {item.label}.")
        try:
            allowed.add(coerce_constant(item.value, left.target(), dialect))
        except Incompatible as error:
            raise type_error(left, "in", item, error.reason) from None
    frozen = frozenset(allowed)
    get = left.get
    return lambda row: get(row) in frozen
