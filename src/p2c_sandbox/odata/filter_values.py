"""Field types of a filterable entity, and the one comparable form of a value of each type.

Stored rows hold what a client wrote: ISO text or datetimes, floats or Decimals, GUID text in
any case, enum member names. Before comparing, row values and literals are both brought to:

==========  ====================================================  ============================
kind        accepted                                              comparable form
==========  ====================================================  ============================
STRING      str (anything else through ``str``)                   lower case (the collation)
INT/DECIMAL int, Decimal, float (via ``repr``), numeric text       int or Decimal
BOOL        bool                                                  bool
DATETIME    datetime (naive = UTC), date, ISO text                aware UTC datetime
DATE        date, datetime, ISO text                              date
GUID        UUID or text                                          lower-case text
ENUM        member name                                           lower case
==========  ====================================================  ============================

A value that cannot be read becomes None, so a bad row fails to match rather than failing the query.

    >>> comparable(FieldKind.DECIMAL)(0.1), comparable(FieldKind.GUID)("AB-1")
    (Decimal('0.1'), 'ab-1')
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from p2c_sandbox.odata.filter_ast import EnumLiteral
from p2c_sandbox.odata.filter_lex import parse_timestamp

__all__ = [
    "Field",
    "FieldKind",
    "as_date",
    "as_datetime",
    "comparable",
    "compatible",
    "edm_of_literal",
    "kind_of_literal",
    "quote",
    "show_literal",
]


class FieldKind(StrEnum):
    STRING = "string"
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    GUID = "guid"
    ENUM = "enum"


_EDM = {
    FieldKind.STRING: "Edm.String",
    FieldKind.INT: "Edm.Int32",
    FieldKind.DECIMAL: "Edm.Decimal",
    FieldKind.BOOL: "Edm.Boolean",
    FieldKind.DATETIME: "Edm.DateTimeOffset",
    FieldKind.DATE: "Edm.Date",
    FieldKind.GUID: "Edm.Guid",
    FieldKind.ENUM: "Edm.Enum",
}
NUMBERS = frozenset({FieldKind.INT, FieldKind.DECIMAL})
TIMES = frozenset({FieldKind.DATE, FieldKind.DATETIME})


@dataclass(frozen=True, slots=True)
class Field:
    """A property ``$filter`` may use; an enum field also names its type and members.

    >>> Field("IsActive", FieldKind.ENUM, "NoYes", ("No", "Yes")).edm_type
    'NoYes'
    """

    name: str
    kind: FieldKind
    enum_type: str | None = None
    members: tuple[str, ...] = ()

    @property
    def edm_type(self) -> str:
        """The type as named in error messages."""
        if self.kind is FieldKind.ENUM and self.enum_type:
            return self.enum_type
        return _EDM[self.kind]


def compatible(a: FieldKind, b: FieldKind) -> bool:
    """Whether values of the two kinds can be compared: same kind, two numbers, or two times."""
    return a is b or {a, b} <= NUMBERS or {a, b} <= TIMES


def quote(text: str) -> str:
    """``text`` as an OData string literal (quotes doubled).

    >>> quote("O'Brien & Co")
    "'O''Brien & Co'"
    """
    return "'" + text.replace("'", "''") + "'"


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value.lower()
    return None if value is None else str(value).lower()


def _number(value: Any) -> int | Decimal | None:
    if type(value) in (int, Decimal):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that round-trips: 0.1, not 0.1000000000000000055
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_datetime(value: Any) -> dt.datetime | None:
    """``value`` as an aware UTC datetime (a date is its midnight), or None."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            return None
    return None


def as_date(value: Any) -> dt.date | None:
    """``value`` as a calendar date (an aware datetime's UTC date), or None."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date() if value.tzinfo is not None else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value) if len(value) == 10 else parse_timestamp(value).date()
        except ValueError:
            return None
    return None


def _guid(value: Any) -> str | None:
    return None if value is None else str(value).lower()


_COMPARABLE: dict[FieldKind, Callable[[Any], Any]] = {
    FieldKind.STRING: _text,
    FieldKind.INT: _number,
    FieldKind.DECIMAL: _number,
    FieldKind.BOOL: _bool,
    FieldKind.DATETIME: as_datetime,
    FieldKind.DATE: as_date,
    FieldKind.GUID: _guid,
    FieldKind.ENUM: _text,
}


def comparable(kind: FieldKind) -> Callable[[Any], Any]:
    """The function bringing a stored value of ``kind`` to its comparable form."""
    return _COMPARABLE[kind]


def kind_of_literal(value: object) -> FieldKind | None:
    """The kind of a literal's value (None for ``null``)."""
    if value is None:
        return None
    if isinstance(value, EnumLiteral):
        return FieldKind.ENUM
    for python_type, kind in _LITERAL_KINDS:
        if isinstance(value, python_type):
            return kind
    return FieldKind.STRING


# Order matters: bool before int, datetime before date.
_LITERAL_KINDS: tuple[tuple[type, FieldKind], ...] = (
    (bool, FieldKind.BOOL),
    (int, FieldKind.INT),
    (Decimal, FieldKind.DECIMAL),
    (dt.datetime, FieldKind.DATETIME),
    (dt.date, FieldKind.DATE),
    (uuid.UUID, FieldKind.GUID),
)


def edm_of_literal(value: object) -> str:
    if isinstance(value, EnumLiteral):
        return value.type_name
    kind = kind_of_literal(value)
    if kind is FieldKind.INT and not -(2**31) <= value < 2**31:  # type: ignore[operator]
        return "Edm.Int64"
    return "null" if kind is None else _EDM[kind]


def show_literal(value: object) -> str:
    """A literal as filter text would spell it (for messages)."""
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, EnumLiteral):
        return value.type_name + quote(value.member)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)
