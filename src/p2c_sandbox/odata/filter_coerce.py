"""Literals turned into the comparable form of the field they are compared with.

Done once per query, at compile time, so the per-row work is a lookup and a compare. Which
literal fits which field (OData Part 2 §5.1.1 plus what the services are seen to accept):

- a string field takes strings; a number field takes integers and decimals; a Boolean takes
  ``true``/``false``; a GUID field takes bare GUIDs and GUID text (braces allowed);
- a date-time field takes date-times and dates (midnight UTC); a date field takes dates;
  Dataverse also takes quoted ISO text for both;
- an F&O enum field takes ``Type'Member'`` of its own type, or the member name as a string;
- inside Dataverse query functions (``PropertyValues=["5"]``) every value may be text.

    >>> to_field("CONTOSO", Field("name", FieldKind.STRING), Dialect.FNO)
    'contoso'
    >>> to_field("7", Field("n", FieldKind.INT), Dialect.DATAVERSE, from_text=True)
    Decimal('7')
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from p2c_sandbox.odata.filter_ast import Dialect, EnumLiteral
from p2c_sandbox.odata.filter_values import NUMBERS, TIMES, Field, FieldKind, as_date, as_datetime, quote

__all__ = ["Mismatch", "to_field"]


class Mismatch(Exception):
    """The literal does not fit the field; ``reason`` (possibly empty) says why in words."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def to_field(value: object, field: Field, dialect: Dialect, *, from_text: bool = False) -> Any:
    """``value`` in the comparable form of ``field``'s kind (None stays None); raises Mismatch."""
    if value is None:
        return None
    kind = field.kind
    if kind is FieldKind.ENUM:
        return _enum_member(value, field)
    if isinstance(value, EnumLiteral):
        raise Mismatch()
    if kind is FieldKind.STRING and isinstance(value, str):
        return value.lower()
    if kind in NUMBERS:
        return _number(value, from_text)
    if kind is FieldKind.BOOL:
        return _boolean(value, from_text)
    if kind in TIMES:
        return _time(value, kind, text_ok=from_text or dialect is Dialect.DATAVERSE)
    if kind is FieldKind.GUID:
        return _guid(value)
    raise Mismatch()


def _number(value: object, from_text: bool) -> int | Decimal:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return value
    if from_text and isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise Mismatch(f"{quote(value)} is not a number") from None
    raise Mismatch()


def _boolean(value: object, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise Mismatch()


def _time(value: object, kind: FieldKind, *, text_ok: bool) -> dt.date | dt.datetime:
    if isinstance(value, str) and text_ok:
        parsed = as_date(value) if kind is FieldKind.DATE else as_datetime(value)
        if parsed is None:
            raise Mismatch(f"{quote(value)} is not an ISO 8601 date")
        return parsed
    if isinstance(value, dt.date):
        if kind is FieldKind.DATETIME:
            converted = as_datetime(value)
            assert converted is not None  # every date converts
            return converted
        if not isinstance(value, dt.datetime):
            return value
    raise Mismatch()


def _guid(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip("{}")))
        except ValueError:
            raise Mismatch(f"{quote(value)} is not a GUID") from None
    raise Mismatch()


def _enum_member(value: object, field: Field) -> str:
    if isinstance(value, EnumLiteral):
        # Types match by their last segment: clients write either the short or the qualified name.
        if field.enum_type and value.type_name.rsplit(".", 1)[-1] != field.enum_type.rsplit(".", 1)[-1]:
            raise Mismatch(f"the enum type '{value.type_name}' is not '{field.enum_type}'")
        member = value.member
    elif isinstance(value, str):
        member = value
    else:
        raise Mismatch()
    if field.members and member.lower() not in {m.lower() for m in field.members}:
        raise Mismatch(f"'{member}' is not a member of {field.edm_type} ({', '.join(field.members)})")
    return member.lower()
