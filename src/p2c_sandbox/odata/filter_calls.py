"""The leaf tests of ``$filter``: comparison operators, F&O wildcards, CRM query functions, arithmetic.

Pure functions over already normalised values (see :func:`filter_types.normalise`), used by
:mod:`~p2c_sandbox.odata.filter_compile`.

    >>> wildcard(lambda row: row, "*ab*c", True)("xxABxC")
    True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from p2c_sandbox.odata.filter_parse import CRM
from p2c_sandbox.odata.filter_tree import ArithOp, CompareOp, CrmCall, FilterError
from p2c_sandbox.odata.filter_types import Field, FieldKind, Getter, field_type, normalise

__all__ = ["ARITH", "ORDER", "Clock", "crm_test", "show", "wildcard"]

Clock = Callable[[], dt.datetime]
_NUMERIC = (FieldKind.INT, FieldKind.DECIMAL)
_TEMPORAL = (FieldKind.DATE, FieldKind.DATETIME)


ORDER: dict[CompareOp, Callable[[Any, Any], bool]] = {
    CompareOp.EQ: lambda a, b: a == b,
    CompareOp.NE: lambda a, b: a != b,
    CompareOp.GT: lambda a, b: a > b,
    CompareOp.GE: lambda a, b: a >= b,
    CompareOp.LT: lambda a, b: a < b,
    CompareOp.LE: lambda a, b: a <= b,
}


def _glob(text: str, pieces: list[str]) -> bool:
    """Whether ``text`` is ``pieces`` joined by runs of any characters (F&O's ``*``)."""
    head, *middle, tail = pieces
    if len(text) < len(head) + len(tail) or not text.startswith(head) or not text.endswith(tail):
        return False
    at, stop = len(head), len(text) - len(tail)
    for piece in middle:
        found = text.find(piece, at, stop)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def wildcard(read: Getter, pattern: str, equal: bool) -> Getter:
    pieces = pattern.casefold().split("*")

    def fits(row: Any) -> bool:
        text = read(row)
        if text is None:
            return not equal
        return _glob(text.casefold(), pieces) is equal

    return fits


def crm_test(node: CrmCall, field: Field, read: Getter, label: str, clock: Clock) -> Getter:
    """The predicate of a Dataverse query function on the column ``field`` read by ``read``."""
    full = CRM + node.name

    def convert(given: object) -> Any:
        out = normalise(field.kind, given if field.kind is not FieldKind.STRING else str(given))
        if out is None:
            what = "a number" if field.kind in _NUMERIC else f"a valid {field_type(field)} value"
            raise FilterError(f"The function '{full}': {show(given)} is not {what}.")
        return out.casefold() if isinstance(out, str) else out

    def folded(row: Any) -> Any:
        v = read(row)
        return v.casefold() if isinstance(v, str) else v

    if node.name in ("In", "NotIn", "Between", "NotBetween"):
        given = node.params["PropertyValues"]
        values = [convert(v) for v in (given if isinstance(given, tuple) else (given,))]
        negate = node.name.startswith("Not")
        if node.name.endswith("In"):
            pool = set(values)
            return lambda row: (folded(row) in pool) is not negate
        if len(values) != 2:
            raise FilterError(f"The function '{full}' needs exactly 2 PropertyValues, not {len(values)}.")
        low, high = values

        def between(row: Any) -> bool:
            v = folded(row)
            return (v is not None and low <= v <= high) is not negate

        return between
    if field.kind not in _TEMPORAL:
        raise FilterError(f"The function '{full}' needs a date column, but {label} is {field_type(field)}.")
    return _by_day(node, full, read, clock)


def _by_day(node: CrmCall, full: str, read: Getter, clock: Clock) -> Getter:
    def day_of(row: Any) -> dt.date | None:
        return normalise(FieldKind.DATE, read(row))

    def today() -> dt.date:
        return clock().astimezone(dt.UTC).date()

    shift = {"Today": 0, "Yesterday": -1, "Tomorrow": 1}.get(node.name)
    if shift is not None:
        return lambda row: day_of(row) == today() + dt.timedelta(days=shift)
    given = node.params["PropertyValue"]
    if node.name in ("LastXDays", "NextXDays"):
        count = normalise(FieldKind.INT, given)
        if not isinstance(count, int) or count < 0:
            raise FilterError(f"The function '{full}': {show(given)} is not a whole number of days.")
        sign = -1 if node.name == "LastXDays" else 1

        def within(row: Any) -> bool:
            day, now = day_of(row), today()
            if day is None:
                return False
            other = now + dt.timedelta(days=sign * count)
            return min(now, other) <= day <= max(now, other)

        return within
    fixed = normalise(FieldKind.DATE, given)
    if fixed is None:
        raise FilterError(f"The function '{full}': {show(given)} is not a date.")
    test = {"On": lambda d: d == fixed, "OnOrAfter": lambda d: d >= fixed, "OnOrBefore": lambda d: d <= fixed}
    check = test[node.name]
    return lambda row: (day := day_of(row)) is not None and check(day)


def _quotient(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    return Decimal(a) / Decimal(b)


def _remainder(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        r = abs(a) % abs(b)
        return r if a >= 0 else -r
    return Decimal(a) % Decimal(b)


ARITH: dict[ArithOp, Callable[[Any, Any], Any]] = {
    ArithOp.ADD: lambda a, b: a + b,
    ArithOp.SUB: lambda a, b: a - b,
    ArithOp.MUL: lambda a, b: a * b,
    ArithOp.DIV: _quotient,
    ArithOp.DIVBY: lambda a, b: Decimal(a) / Decimal(b),
    ArithOp.MOD: _remainder,
}


def show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
