"""Column values: from JSON to the stored form (with Dataverse's validation), and display text.

Stored forms: strings, ``int``, :class:`~decimal.Decimal` (money and decimals, quantised to the
column's precision), ``bool``, datetimes as UTC ``YYYY-MM-DDTHH:MM:SSZ`` text and date-only
values as ``YYYY-MM-DD`` — already the wire form, so a read never converts.

Example::

    >>> from p2c_sandbox.dataverse.schema import money
    >>> coerce(money("price"), 10, "product")
    Decimal('10.0000')
    >>> normalise_datetime("2024-05-01T10:00:00.5+02:00", date_only=False)
    '2024-05-01T08:00:00Z'
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from p2c_sandbox.dataverse.errors import Code, DataverseError, validation
from p2c_sandbox.dataverse.schema import Column, Kind

__all__ = ["coerce", "format_value", "normalise_datetime", "parse_guid", "quantize"]

_EDM = {
    Kind.STRING: "Edm.String",
    Kind.MEMO: "Edm.String",
    Kind.INTEGER: "Edm.Int32",
    Kind.BIGINT: "Edm.Int64",
    Kind.DECIMAL: "Edm.Decimal",
    Kind.MONEY: "Edm.Decimal",
    Kind.BOOLEAN: "Edm.Boolean",
    Kind.DATETIME: "Edm.DateTimeOffset",
    Kind.PICKLIST: "Edm.Int32",
    Kind.STATE: "Edm.Int32",
    Kind.STATUS: "Edm.Int32",
    Kind.UNIQUEIDENTIFIER: "Edm.Guid",
}


def edm_type(col: Column) -> str:
    if col.kind is Kind.DATETIME and col.date_only:
        return "Edm.Date"
    return _EDM.get(col.kind, "Edm.Guid")


#: precision -> the exponent quantize() rounds to (``Decimal(1).scaleb(-precision)``)
_EXPONENTS = {p: Decimal(1).scaleb(-p) for p in range(-2, 29)}


def quantize(value: Decimal, precision: int) -> Decimal:
    exponent = _EXPONENTS.get(precision)
    if exponent is None:
        exponent = Decimal(1).scaleb(-precision)
    return value.quantize(exponent, ROUND_HALF_UP)  # positional: a keyword costs twice the rounding


#: a GUID already in the canonical form str(uuid.UUID(...)) gives
_CANONICAL_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_guid(text: str) -> str | None:
    """The canonical (lower-case, hyphenated) text of a GUID; ``None`` if ``text`` is not one.

    Text already canonical — every id the sandbox hands out, so nearly every URL key and bind — is
    returned as it is, without building a :class:`uuid.UUID` (which would give the same text).
    """
    if type(text) is str and len(text) == 36 and _CANONICAL_GUID.fullmatch(text):
        return text
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        return None


def normalise_datetime(text: str, date_only: bool) -> str | None:
    """UTC ``...Z`` text (or ``YYYY-MM-DD`` for date-only columns); ``None`` if unparseable."""
    try:
        if len(text) == 10:
            d = dt.date.fromisoformat(text)
            return d.isoformat() if date_only else f"{d.isoformat()}T00:00:00Z"
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    if date_only:
        return value.date().isoformat()
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _type_error(col: Column, value: Any) -> DataverseError:
    shown = value if not isinstance(value, dict | list) else type(value).__name__
    return DataverseError(
        400,
        Code.PAYLOAD,
        f"Cannot convert the literal '{shown}' to the expected type '{edm_type(col)}' of property '{col.name}'.",
    )


def _out_of_range(col: Column, value: Any, table: str) -> DataverseError:
    return validation(
        f"A validation error occurred.  The value {value} of '{col.name}' on record of type '{table}' "
        f"is outside the valid range."
    )


# Kind sets for coerce(), built once: reading an enum member (Kind.STRING) costs as much as a
# dict lookup, and coerce() runs for every property of every written body
_TEXT = frozenset({Kind.STRING, Kind.MEMO})
_WHOLE = frozenset({Kind.INTEGER, Kind.BIGINT})
_CHOICE = frozenset({Kind.PICKLIST, Kind.STATE, Kind.STATUS})
_NUMBER = frozenset({Kind.DECIMAL, Kind.MONEY})
_BOOLEAN, _DATETIME, _GUID = Kind.BOOLEAN, Kind.DATETIME, Kind.UNIQUEIDENTIFIER


def coerce(col: Column, value: Any, table: str) -> Any:
    """The stored form of a JSON ``value`` for ``col``; raises a 400 naming the column."""
    if value is None:
        return None
    kind = col.kind
    if kind in _TEXT:
        if not isinstance(value, str):
            raise _type_error(col, value)
        if col.max_length is not None and len(value) > col.max_length:
            raise validation(
                f"A validation error occurred.  The length of the '{col.name}' attribute of the '{table}' "
                f"entity exceeded the maximum allowed length of '{col.max_length}'."
            )
        return value
    if kind in _WHOLE or kind in _CHOICE:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(col, value)
        if kind in _WHOLE:
            if (col.min_value is not None and value < col.min_value) or (
                col.max_value is not None and value > col.max_value
            ):
                raise _out_of_range(col, value, table)
        elif value not in col.options:
            raise _out_of_range(col, value, table)
        return value
    if kind in _NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
            raise _type_error(col, value)
        try:
            number = quantize(
                Decimal(str(value)) if isinstance(value, float) else Decimal(value), col.precision
            )
        except InvalidOperation as exc:
            raise _type_error(col, value) from exc
        if (col.min_value is not None and number < Decimal(str(col.min_value))) or (
            col.max_value is not None and number > Decimal(str(col.max_value))
        ):
            raise _out_of_range(col, value, table)
        return number
    if kind is _BOOLEAN:
        if not isinstance(value, bool):
            raise _type_error(col, value)
        return value
    if kind is _DATETIME:
        text = normalise_datetime(value, col.date_only) if isinstance(value, str) else None
        if text is None:
            raise _type_error(col, value)
        return text
    if kind is _GUID:
        guid = parse_guid(value) if isinstance(value, str) else None
        if guid is None:
            raise _type_error(col, value)
        return guid
    raise _type_error(col, value)


def format_value(col: Column, value: Any, currency_symbol: str = "$") -> str | None:
    """``OData.Community.Display.V1.FormattedValue`` text (en-US), ``None`` when there is none."""
    if value is None:
        return None
    kind = col.kind
    if kind in (Kind.PICKLIST, Kind.STATE, Kind.STATUS):
        return col.options.get(value, str(value))
    if kind is Kind.BOOLEAN:
        return col.options.get(int(value), "Yes" if value else "No")
    if kind is Kind.MONEY:
        return f"{currency_symbol}{value:,.2f}" if value >= 0 else f"-{currency_symbol}{-value:,.2f}"
    if kind is Kind.DECIMAL:
        return f"{value:,.{col.precision}f}"
    if kind in (Kind.INTEGER, Kind.BIGINT):
        return f"{value:,}"
    if kind is Kind.DATETIME:
        if col.date_only:
            d = dt.date.fromisoformat(value[:10])
            return f"{d.month}/{d.day}/{d.year}"
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        hour = t.hour % 12 or 12
        return f"{t.month}/{t.day}/{t.year} {hour}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"
    return None
