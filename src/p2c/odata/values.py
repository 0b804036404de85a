"""Value normalisation for compiled filters: one comparable form per field kind.

Rows hold what the services send (ISO strings for datetimes, floats from JSON, GUIDs as
strings) or Python objects; both are brought to one form before comparing:

=========  ==================================  ==========================================
kind       row value accepted                  normalised to
=========  ==================================  ==========================================
STRING     str (others via ``str``)             ``str.lower()`` (the services' collation)
INT/DEC    int, Decimal, float, numeric str     int or Decimal (floats via their repr)
BOOL       bool                                 bool
DATETIME   aware/naive datetime, date, ISO str  aware UTC datetime (naive = UTC)
DATE       date, datetime, ISO str              date
GUID       UUID or str                          lowercase canonical str
ENUM       member name (str)                    ``str.lower()``
=========  ==================================  ==========================================

Unreadable values normalise to None, so a malformed row fails to match instead of
failing the whole query. Example::

    >>> normalizer(FieldKind.DATETIME)("2024-01-02T03:04:05Z").isoformat()
    '2024-01-02T03:04:05+00:00'
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from p2c.odata.ast import Dialect, EnumLiteral, quote_string
from p2c.odata.lex import parse_datetime_text
from p2c.odata.schema import FieldInfo, FieldKind

__all__ = [
    "Incompatible",
    "coerce_constant",
    "describe_value",
    "edm_of_value",
    "kind_of_value",
    "normalizer",
    "same_family",
]

Normalizer = Callable[[Any], Any]

_NUMERIC = frozenset({FieldKind.INT, FieldKind.DECIMAL})
_TEMPORAL = frozenset({FieldKind.DATE, FieldKind.DATETIME})


class Incompatible(Exception):
    """A constant cannot be used as a value of the target kind; ``reason`` adds detail."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def same_family(a: FieldKind, b: FieldKind) -> bool:
    """Whether values of kinds ``a`` and ``b`` may be compared (ints with decimals, dates with datetimes)."""
    return a == b or (a in _NUMERIC and b in _NUMERIC) or (a in _TEMPORAL and b in _TEMPORAL)


def norm_string(value: Any) -> str | None:
    if type(value) is str:
        return value.lower()
    return None if value is None else str(value).lower()


def norm_number(value: Any) -> int | Decimal | None:
    kind = type(value)
    if kind is int or kind is Decimal:
        return value
    if value is None:
        return None
    if kind is float:
        # repr gives the shortest round-tripping text: 0.1 -> Decimal("0.1"), not 0.1000000000000000055...
        return Decimal(repr(value))
    if kind is bool:
        return int(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def norm_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def norm_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            return parse_datetime_text(value)
        except ValueError:
            return None
    return None


def norm_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo is None else value.astimezone(dt.UTC)).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value) if len(value) == 10 else parse_datetime_text(value).date()
        except ValueError:
            return None
    return None


def norm_guid(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).lower()


_NORMALIZERS: dict[FieldKind, Normalizer] = {
    FieldKind.STRING: norm_string,
    FieldKind.INT: norm_number,
    FieldKind.DECIMAL: norm_number,
    FieldKind.BOOL: norm_bool,
    FieldKind.DATETIME: norm_datetime,
    FieldKind.DATE: norm_date,
    FieldKind.GUID: norm_guid,
    FieldKind.ENUM: norm_string,
}


def normalizer(kind: FieldKind) -> Normalizer:
    return _NORMALIZERS[kind]


def kind_of_value(value: object) -> FieldKind | None:
    """The kind of a literal's Python value; None for null."""
    if value is None:
        return None
    if isinstance(value, EnumLiteral):
        return FieldKind.ENUM
    if isinstance(value, bool):
        return FieldKind.BOOL
    if isinstance(value, int):
        return FieldKind.INT
    if isinstance(value, Decimal):
        return FieldKind.DECIMAL
    if isinstance(value, dt.datetime):
        return FieldKind.DATETIME
    if isinstance(value, dt.date):
        return FieldKind.DATE
    if isinstance(value, uuid.UUID):
        return FieldKind.GUID
    return FieldKind.STRING


def edm_of_value(value: object) -> str:
    if isinstance(value, EnumLiteral):
        return value.type_name
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**31) <= value < 2**31:
        return "Edm.Int64"
    kind = kind_of_value(value)
    return "null" if kind is None else FieldInfo("", kind).edm_type


def describe_value(value: object) -> str:
    """A literal as it would appear in filter text."""
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, EnumLiteral):
        return f"{value.type_name}{quote_string(value.member)}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def coerce_constant(value: object, target: FieldInfo, dialect: Dialect, *, from_text: bool = False) -> Any:
    """``value`` (a literal's Python value) normalised as a value of ``target``'s kind.

    ``from_text`` allows strings for every kind, as in Dataverse's ``PropertyValues=["5"]``.
    Quoted ISO dates are accepted for date fields in Dataverse, and quoted GUIDs for GUID
    fields in both dialects. Raises ``Incompatible`` otherwise.
    """
    if value is None:
        return None
    kind = target.kind
    if kind is FieldKind.ENUM:
        return _coerce_enum(value, target)
    if isinstance(value, EnumLiteral):
        raise Incompatible()
    text_ok = from_text or dialect is Dialect.DATAVERSE
    if kind is FieldKind.STRING:
        if isinstance(value, str):
            return value.lower()
        raise Incompatible()
    if kind in _NUMERIC:
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return value
        if from_text and isinstance(value, str):
            number = norm_number(value.strip())
            if number is not None:
                return number
            raise Incompatible(f"{quote_string(value)} is not a number")
        raise Incompatible()
    if kind is FieldKind.BOOL:
        if isinstance(value, bool):
            return value
        if from_text and isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        raise Incompatible()
    if kind in _TEMPORAL:
        return _coerce_temporal(value, kind, text_ok)
    if kind is FieldKind.GUID:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, str):
            try:
                return str(uuid.UUID(value.strip("{}")))
            except ValueError:
                raise Incompatible(f"{quote_string(value)} is not a GUID") from None
        raise Incompatible()
    raise Incompatible()  # pragma: no cover - every FieldKind is handled above


def _coerce_temporal(value: object, kind: FieldKind, text_ok: bool) -> Any:
    if isinstance(value, str) and text_ok:
        parsed = norm_date(value) if kind is FieldKind.DATE else norm_datetime(value)
        if parsed is None:
            raise Incompatible(f"{quote_string(value)} is not an ISO 8601 date")
        return parsed
    if kind is FieldKind.DATETIME and isinstance(value, dt.date):
        return norm_datetime(value)
    if kind is FieldKind.DATE and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise Incompatible()


def _short_type(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _coerce_enum(value: object, target: FieldInfo) -> str:
    if isinstance(value, EnumLiteral):
        if target.enum_type and _short_type(value.type_name) != _short_type(target.enum_type):
            raise Incompatible(f"the enum type '{value.type_name}' is not '{target.enum_type}'")
        member = value.member
    elif isinstance(value, str):
        member = value
    else:
        raise Incompatible()
    members = {m.lower() for m in target.enum_members}
    if members and member.lower() not in members:
        allowed = ", ".join(target.enum_members)
        raise Incompatible(f"'{member}' is not a member of {target.edm_type} ({allowed})")
    return member.lower()
