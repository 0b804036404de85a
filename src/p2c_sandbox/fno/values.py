"""Values on the wire and in memory: JSON coercion on write, wire form on read, URL key literals.

In memory a property holds ``str`` (strings, enum member names, and DateTimeOffsets in their wire
text ``2026-07-30T12:00:00Z``), ``int`` or :class:`~decimal.Decimal`. Date-only fields are kept at
noon UTC and UtcDateTime fields at whole seconds, so the stored text is what the wire shows.

Example::

    >>> from p2c_sandbox.fno.entities import ENTITY_SETS
    >>> es = ENTITY_SETS["CDSSalesOrderHeaders"]
    >>> coerce(es, es.prop("RequestedReceiptDate"), "2026-07-30T00:00:00Z")
    '2026-07-30T12:00:00Z'
    >>> to_wire(Decimal("13.50")), to_wire(Decimal("0"))
    (13.5, 0)
    >>> parse_key_predicate("dataAreaId='usmf',CustomerAccount='O''Brien'")
    [('dataAreaId', "O'Brien"), ...]  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from p2c_sandbox.fno.entities import DATE, DECIMAL, INT32, INT64, STRING, UTC, EntitySet, Kind, Prop
from p2c_sandbox.fno.enums import ENUMS, NAMESPACE
from p2c_sandbox.fno.errors import FnoError, bad_request, write_failed
from p2c_sandbox.odata.text import split_top_level

__all__ = [
    "KeyLiteral",
    "coerce",
    "date_text",
    "parse_key_predicate",
    "parse_literal",
    "parse_wire_datetime",
    "to_wire",
    "today_noon_text",
]

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT_RANGE = {Kind.INT32: (_INT32_MIN, _INT32_MAX), Kind.INT64: (-(2**63), 2**63 - 1)}


def to_wire(value: Any) -> Any:
    """The JSON value of an in-memory value: decimals become JSON numbers (integral ones as ints)."""
    if type(value) is Decimal:
        text = str(value)
        wire = _WIRE_NUMBERS.get(text)
        if wire is None:
            number = float(value)  # money has at most 15 significant digits: the float prints exactly
            wire = int(number) if number.is_integer() else number
            if len(_WIRE_NUMBERS) >= _WIRE_NUMBERS_MAX:
                _WIRE_NUMBERS.clear()
            _WIRE_NUMBERS[text] = wire
        return wire
    return value


# a decimal's text -> its JSON number: float(Decimal) parses the decimal's text anyway, and the
# rows hold the same few quantities, prices and zeros over and over. The text fixes the value, so
# an entry never goes stale; the cache is only bounded. (Keyed by text, not by the Decimal: a
# Decimal's hash costs more than the conversion.)
_WIRE_NUMBERS: dict[str, Any] = {}
_WIRE_NUMBERS_MAX = 10_000


def date_text(day: dt.date) -> str:
    """A date-only value as F&O writes it: noon UTC."""
    return f"{day.isoformat()}T12:00:00Z"


def today_noon_text() -> str:
    return date_text(dt.datetime.now(dt.UTC).date())


def parse_wire_datetime(text: str) -> dt.datetime:
    """Stored DateTimeOffset text -> aware datetime (UTC)."""
    return dt.datetime.fromisoformat(text)


def _literal_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value).replace("True", "true").replace("False", "false")


def _type_error(es: EntitySet, prop: Prop, value: Any) -> FnoError:
    return bad_request(
        f"Cannot convert the literal '{_literal_text(value)}' to the expected type '{prop.edm_type}'"
        f" of the property '{prop.name}' on type '{es.qualified_type}'."
    )


def coerce(es: EntitySet, prop: Prop, value: Any) -> Any:
    """A JSON value from a request body -> the in-memory value of ``prop``; FnoError 400 if it does not fit."""
    kind = prop.kind
    # the common cases first, exact types only (bool is an int; a $batch coerces 10 000 values)
    exact = type(value)
    if exact is Decimal:
        if kind is DECIMAL and value.is_finite():
            return value  # immutable: the parsed number itself
    elif exact is int:
        if kind is DECIMAL:
            return Decimal(value)
        if kind is INT32 and _INT32_MIN <= value <= _INT32_MAX:
            return value
    if value is None:
        if prop.nullable:
            return prop.default
        raise bad_request(
            f"A null value was found for the property named '{prop.name}', which has the expected type "
            f"'{prop.edm_type}[Nullable=False]'. The expected type '{prop.edm_type}[Nullable=False]' does "
            "not allow null values."
        )
    if kind is STRING:
        if not isinstance(value, str):
            raise _type_error(es, prop, value)
        if prop.max_length is not None and len(value) > prop.max_length:
            raise write_failed(
                es.aot,
                [
                    f"The value '{value}' of field '{prop.name}' is too long: {len(value)} characters, "
                    f"the field allows {prop.max_length}"
                ],
                level="Error",
            )
        return value
    if kind in (INT32, INT64):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and kind is INT64 and value.lstrip("-").isdigit():
                value = int(value)  # Int64 may come as a string (IEEE754Compatible)
            else:
                raise _type_error(es, prop, value)
        low, high = _INT_RANGE[kind]
        if not low <= value <= high:
            raise _type_error(es, prop, value)
        return value
    if kind is DECIMAL:
        if isinstance(value, bool):
            raise _type_error(es, prop, value)
        if isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                raise _type_error(es, prop, value) from None
        else:
            raise _type_error(es, prop, value)
        if not number.is_finite():
            raise _type_error(es, prop, value)
        return number
    if kind in (DATE, UTC):
        if not isinstance(value, str):
            raise _type_error(es, prop, value)
        return _coerce_datetime(es, prop, value)
    # enum: the member name; the numeric member value (as text or number) is accepted too
    members = ENUMS[prop.enum or ""]
    if isinstance(value, str) and value in members:
        return value
    number_text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(number_text, str) and number_text.lstrip("-").isdigit():
        for name, member_value in members.items():
            if member_value == int(number_text):
                return name
    raise bad_request(
        f"The value '{_literal_text(value)}' of the property '{prop.name}' is not a valid member of the enum type "
        f"'{NAMESPACE}.{prop.enum}'."
    )


def _coerce_datetime(es: EntitySet, prop: Prop, text: str) -> str:
    """The stored text of a DateTimeOffset value; remembered by kind and text (a $batch of orders
    sends the same few dates a thousand times, and parsing one costs a few microseconds)."""
    known = _DATETIMES.get((prop.kind, text))
    if known is not None:
        return known
    stored = _parse_datetime(es, prop, text)
    if len(_DATETIMES) >= _DATETIMES_MAX:
        _DATETIMES.clear()
    _DATETIMES[prop.kind, text] = stored
    return stored


# (Kind.DATE or Kind.UTC, the text sent) -> the stored text: a function of the two, never stale
_DATETIMES: dict[tuple[Kind, str], str] = {}
_DATETIMES_MAX = 10_000


def _parse_datetime(es: EntitySet, prop: Prop, text: str) -> str:
    raw = text.strip()
    try:
        if len(raw) == 10:  # a bare date: accepted for date-only fields
            day = dt.date.fromisoformat(raw)
            stamp = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
        else:
            stamp = dt.datetime.fromisoformat(raw)
            if stamp.tzinfo is None:
                raise ValueError("no offset")
    except ValueError:
        raise _type_error(es, prop, text) from None
    stamp = stamp.astimezone(dt.UTC)
    if prop.kind is DATE:
        return date_text(stamp.date())
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- URL literals ------------------------------------------------------------------------------


class KeyLiteral:
    """A literal from a URL key predicate: its Python value and whether it was quoted."""

    __slots__ = ("quoted", "text", "value")

    def __init__(self, value: Any, text: str, quoted: bool) -> None:
        self.value = value
        self.text = text
        self.quoted = quoted


def parse_literal(text: str) -> KeyLiteral:
    """``'O''Brien'`` -> str, ``3`` -> int, ``1.5`` -> Decimal, ``2017-03-21T12:00:00Z`` -> datetime text,
    ``Microsoft.Dynamics.DataEntities.X'Member'`` -> member name."""
    raw = text.strip()
    if len(raw) >= 2 and raw.endswith("'"):
        start = raw.find("'")
        body = raw[start + 1 : -1]
        if start > 0:  # a qualified enum literal
            return KeyLiteral(body.replace("''", "'"), raw, True)
        if "'" in body.replace("''", ""):
            raise ValueError(raw)
        return KeyLiteral(body.replace("''", "'"), raw, True)
    if raw.lstrip("-").isdigit():
        return KeyLiteral(int(raw), raw, False)
    if "T" in raw and raw[:4].isdigit():
        stamp = dt.datetime.fromisoformat(raw)
        if stamp.tzinfo is None:
            raise ValueError(raw)
        return KeyLiteral(stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), raw, False)
    try:
        return KeyLiteral(Decimal(raw), raw, False)
    except InvalidOperation:
        raise ValueError(raw) from None


def parse_key_predicate(text: str) -> list[tuple[str | None, KeyLiteral]]:
    """``k1='v1',k2=3`` -> ``[("k1", lit), ("k2", lit)]``; an unnamed single value has name None."""
    out: list[tuple[str | None, KeyLiteral]] = []
    for part in split_top_level(text):
        part = part.strip()
        if not part:
            raise ValueError(text)
        name, eq, literal = part.partition("=")
        if eq and not name.strip().startswith("'") and name.strip().replace("_", "").isalnum():
            out.append((name.strip(), parse_literal(literal)))
        else:
            out.append((None, parse_literal(part)))
    return out
