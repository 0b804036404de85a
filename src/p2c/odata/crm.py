"""Row predicates for Dataverse query functions and arithmetic helpers for compiled filters.

``crm_predicate`` builds ``Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=[...])``
and friends once the compiler has resolved the property. Date functions work on UTC
calendar days (Dataverse uses the caller's time zone; the sandbox has only UTC). Example::

    >>> from p2c.odata.schema import FieldInfo, FieldKind
    >>> field = FieldInfo("numberofemployees", FieldKind.INT)
    >>> between = crm_predicate("Between", {"PropertyValues": ("5", "2000")}, field, lambda r: r["n"], None)
    >>> between({"n": 10}), between({"n": 1})
    (True, False)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from p2c.odata.ast import CRM_NAMESPACE, Dialect, FilterError
from p2c.odata.schema import FieldInfo, FieldKind, Row, RowGetter
from p2c.odata.values import Incompatible, coerce_constant, describe_value, norm_date

__all__ = ["arithmetic", "crm_predicate"]

Predicate = Callable[[Row], bool]
Clock = Callable[[], dt.datetime]

_DAY_OFFSETS = {"Today": 0, "Yesterday": -1, "Tomorrow": 1}


def crm_predicate(
    name: str, params: Mapping[str, object], field: FieldInfo, get: RowGetter, now: Clock | None
) -> Predicate:
    """The predicate of Dataverse function ``name`` on ``field``; ``get`` yields normalised values.

    The negated functions (NotIn, NotBetween) match rows whose value is null, like ``ne``.
    """
    full = f"{CRM_NAMESPACE}{name}"
    if name in ("In", "NotIn"):
        values = frozenset(_values(full, params, field))
        if name == "In":
            return lambda row: get(row) in values
        return lambda row: get(row) not in values
    if name in ("Between", "NotBetween"):
        bounds = _values(full, params, field)
        if len(bounds) != 2 or None in bounds:
            raise FilterError(f"The function '{full}' needs exactly two non-null PropertyValues.")
        low, high = bounds
        if name == "Between":
            return lambda row: (v := get(row)) is not None and low <= v <= high
        return lambda row: (v := get(row)) is None or not low <= v <= high
    if field.kind not in (FieldKind.DATE, FieldKind.DATETIME):
        raise FilterError(
            f"The function '{full}' needs a date column, but property '{field.name}' is {field.edm_type}."
        )
    return _date_predicate(name, full, params, get, now or _utc_now)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _values(full: str, params: Mapping[str, object], field: FieldInfo) -> list[Any]:
    raw = params.get("PropertyValues")
    items = raw if isinstance(raw, tuple | list) else (raw,)
    out: list[Any] = []
    for item in items:
        try:
            out.append(coerce_constant(item, field, Dialect.DATAVERSE, from_text=True))
        except Incompatible as error:
            detail = f": {error.reason}" if error.reason else ""
            raise FilterError(
                f"The function '{full}' cannot compare property '{field.name}' ({field.edm_type}) "
                f"with {describe_value(item)}{detail}."
            ) from None
    return out


def _date_predicate(
    name: str, full: str, params: Mapping[str, object], get: RowGetter, now: Clock
) -> Predicate:
    def day_of(row: Row) -> dt.date | None:
        return norm_date(get(row))

    def today() -> dt.date:
        return now().astimezone(dt.UTC).date()

    if name in _DAY_OFFSETS:
        offset = dt.timedelta(days=_DAY_OFFSETS[name])
        return lambda row: day_of(row) == today() + offset
    value = params.get("PropertyValue")
    if name in ("LastXDays", "NextXDays"):
        days = _whole_number(full, value)
        if name == "LastXDays":
            return lambda row: (d := day_of(row)) is not None and today() - days <= d <= today()
        return lambda row: (d := day_of(row)) is not None and today() <= d <= today() + days
    target = norm_date(value) if isinstance(value, str | dt.date) else None
    if target is None:
        raise FilterError(f"The function '{full}' needs a date PropertyValue, not {describe_value(value)}.")
    if name == "On":
        return lambda row: day_of(row) == target
    if name == "OnOrAfter":
        return lambda row: (d := day_of(row)) is not None and d >= target
    if name == "OnOrBefore":
        return lambda row: (d := day_of(row)) is not None and d <= target
    raise FilterError(f"The query function '{full}' is not supported.")  # pragma: no cover


def _whole_number(full: str, value: object) -> dt.timedelta:
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str | int | Decimal) else None
    except ArithmeticError:
        number = None
    if number is None or number != number.to_integral_value() or number < 0 or isinstance(value, bool):
        raise FilterError(f"The function '{full}' needs a whole number of days, not {describe_value(value)}.")
    return dt.timedelta(days=int(number))


# -- arithmetic (F&O) ---------------------------------------------------------------------
# Null in, null out; division by zero also gives null so one bad row cannot fail the query.


def _add(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a + b


def _sub(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a - b


def _mul(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a * b


def _div(a: Any, b: Any) -> Any:
    if a is None or b is None or b == 0:
        return None
    return Decimal(a) / Decimal(b)


def _int_div(a: Any, b: Any) -> Any:
    if a is None or b is None or b == 0:
        return None
    # OData (like C#) truncates integer division toward zero; Python's // floors.
    quotient = abs(int(a)) // abs(int(b))
    return quotient if (a >= 0) == (b >= 0) else -quotient


def _mod(a: Any, b: Any) -> Any:
    if a is None or b is None or b == 0:
        return None
    return Decimal(a) % Decimal(b)  # Decimal's % truncates like C#: the sign follows the dividend


def _int_mod(a: Any, b: Any) -> Any:
    if a is None or b is None or b == 0:
        return None
    remainder = abs(int(a)) % abs(int(b))
    return remainder if a >= 0 else -remainder


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "add": _add,
    "sub": _sub,
    "mul": _mul,
    "div": _div,
    "divby": _div,
    "mod": _mod,
}
_INTEGER_ARITHMETIC = {**_ARITHMETIC, "div": _int_div, "mod": _int_mod}


def arithmetic(op: str, *, integers: bool) -> Callable[[Any, Any], Any]:
    """The null-propagating implementation of ``op``; ``integers`` when both operands are Int fields.

    Division and modulo follow the operands' declared types, not the row values: 7 div 2 is
    3 on Int columns and 3.5 on Decimal ones, even if the Decimal column holds a Python int.
    """
    return (_INTEGER_ARITHMETIC if integers else _ARITHMETIC)[op]
