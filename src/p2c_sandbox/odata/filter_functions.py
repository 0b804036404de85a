"""What functions and arithmetic compute: string tests, Dataverse query functions, F&O arithmetic.

Dataverse's date functions (``Today``, ``LastXDays`` ...) work on calendar days in the user's
time zone; the sandbox has only UTC. The negated functions (``NotIn``, ``NotBetween``) match a
null value, as ``ne`` does.

    >>> from p2c_sandbox.odata.filter_values import FieldKind
    >>> count = Field("numberofemployees", FieldKind.INT)
    >>> between = crm_function("Between", {"PropertyValues": ("5", "2000")}, count, lambda r: r["n"])
    >>> between({"n": 10}), between({"n": 2001}), between({"n": None})
    (True, False, False)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from p2c_sandbox.odata.filter_ast import ArithOp, Dialect, FilterError
from p2c_sandbox.odata.filter_coerce import Mismatch, to_field
from p2c_sandbox.odata.filter_compare import Getter, Predicate
from p2c_sandbox.odata.filter_rules import CRM_PREFIX
from p2c_sandbox.odata.filter_values import TIMES, Field, as_date, show_literal

__all__ = ["Clock", "arithmetic", "crm_function", "string_test"]

Clock = Callable[[], dt.datetime]

STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda text, part: part in text,
    "startswith": str.startswith,
    "endswith": str.endswith,
}
_DAY_SHIFT = {"Today": 0, "Yesterday": -1, "Tomorrow": 1}


def string_test(name: str) -> Callable[[str, str], bool]:
    return STRING_TESTS[name]


def crm_function(
    name: str, params: Mapping[str, object], field: Field, read: Getter, clock: Clock | None = None
) -> Predicate:
    """The predicate of ``Microsoft.Dynamics.CRM.<name>`` on ``field`` (``read`` gives comparable values)."""
    full = CRM_PREFIX + name
    if name in ("In", "NotIn"):
        wanted = frozenset(_values(full, params, field))
        if name == "In":
            return lambda row: read(row) in wanted
        return lambda row: read(row) not in wanted
    if name in ("Between", "NotBetween"):
        bounds = _values(full, params, field)
        if len(bounds) != 2 or None in bounds:
            raise FilterError(f"The function '{full}' needs exactly two non-null PropertyValues.")
        low, high = bounds
        if name == "Between":
            return lambda row: (v := read(row)) is not None and low <= v <= high
        return lambda row: (v := read(row)) is None or not low <= v <= high
    if field.kind not in TIMES:
        raise FilterError(
            f"The function '{full}' needs a date column, but '{field.name}' is {field.edm_type}."
        )
    return _by_day(name, full, params, read, clock or (lambda: dt.datetime.now(dt.UTC)))


def _values(full: str, params: Mapping[str, object], field: Field) -> list[Any]:
    given = params.get("PropertyValues")
    items = given if isinstance(given, tuple | list) else (given,)
    out = []
    for item in items:
        try:
            out.append(to_field(item, field, Dialect.DATAVERSE, from_text=True))
        except Mismatch as error:
            why = f": {error.reason}" if error.reason else ""
            raise FilterError(
                f"The function '{full}' cannot compare '{field.name}' ({field.edm_type}) "
                f"with {show_literal(item)}{why}."
            ) from None
    return out


def _by_day(name: str, full: str, params: Mapping[str, object], read: Getter, clock: Clock) -> Predicate:
    def day(row: Any) -> dt.date | None:
        return as_date(read(row))

    def today() -> dt.date:
        return clock().astimezone(dt.UTC).date()

    if name in _DAY_SHIFT:
        shift = dt.timedelta(days=_DAY_SHIFT[name])
        return lambda row: day(row) == today() + shift
    given = params.get("PropertyValue")
    if name in ("LastXDays", "NextXDays"):
        span = dt.timedelta(days=_whole_days(full, given))
        if name == "LastXDays":
            return lambda row: (d := day(row)) is not None and today() - span <= d <= today()
        return lambda row: (d := day(row)) is not None and today() <= d <= today() + span
    target = as_date(given) if isinstance(given, str | dt.date) else None
    if target is None:
        raise FilterError(f"The function '{full}' needs a date PropertyValue, not {show_literal(given)}.")
    if name == "On":
        return lambda row: day(row) == target
    if name == "OnOrAfter":
        return lambda row: (d := day(row)) is not None and d >= target
    return lambda row: (d := day(row)) is not None and d <= target  # OnOrBefore


def _whole_days(full: str, given: object) -> int:
    number: Decimal | None = None
    if isinstance(given, str | int | Decimal) and not isinstance(given, bool):
        try:
            number = Decimal(str(given).strip())
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite() or number < 0 or number != number.to_integral_value():
        raise FilterError(f"The function '{full}' needs a whole number of days, not {show_literal(given)}.")
    return int(number)


# -- arithmetic (F&O) --------------------------------------------------------------------------------
# Null in, null out; a zero divisor also gives null, so that one row cannot fail the whole query.


def _truncated_div(a: Any, b: Any) -> Any:
    # OData, like C#, truncates integer division toward zero; Python's // floors.
    q = abs(int(a)) // abs(int(b))
    return q if (a < 0) == (b < 0) else -q


def _truncated_mod(a: Any, b: Any) -> Any:
    r = abs(int(a)) % abs(int(b))
    return -r if a < 0 else r


_DECIMAL_OPS: dict[ArithOp, Callable[[Any, Any], Any]] = {
    ArithOp.ADD: lambda a, b: a + b,
    ArithOp.SUB: lambda a, b: a - b,
    ArithOp.MUL: lambda a, b: a * b,
    ArithOp.DIV: lambda a, b: Decimal(a) / Decimal(b),
    ArithOp.DIVBY: lambda a, b: Decimal(a) / Decimal(b),
    ArithOp.MOD: lambda a, b: Decimal(a) % Decimal(b),  # Decimal's % keeps the dividend's sign, as C#
}
_INTEGER_OPS = {**_DECIMAL_OPS, ArithOp.DIV: _truncated_div, ArithOp.MOD: _truncated_mod}
_DIVIDING = frozenset({ArithOp.DIV, ArithOp.DIVBY, ArithOp.MOD})


def arithmetic(op: ArithOp, *, integers: bool) -> Callable[[Any, Any], Any]:
    """``op`` with null propagation; ``integers`` when both operands are declared integers
    (then ``7 div 2`` is 3, while on decimals it is 3.5, whatever Python type the row holds)."""
    compute = (_INTEGER_OPS if integers else _DECIMAL_OPS)[op]
    dividing = op in _DIVIDING

    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None or (dividing and b == 0):
            return None
        return compute(a, b)

    return apply
