"""How reconciliation compares a mapped value with what the target holds: per field type, as the service stores it.

A run writes the mapped payload; the service then keeps its own spelling of some values. Two
values are *equal* when the target would not change if the payload were written again:

- numbers (int, decimal, money) by value (``95`` = ``95.0``), rounded to the field's precision
  when the catalog gives one;
- booleans as booleans (``true`` = ``"Yes"``), F&O enums by member name, case-insensitively;
  Dataverse choices by option value;
- lookups and GUIDs by the id, case-insensitively (a polymorphic ``(entity set, id)`` by its id);
- dates by the day, date-times by the instant;
- strings exactly — except F&O codes and ids (``LanguageId``, ``SiteId``, ``SalesCurrencyCode``,
  ...), which F&O matches case-insensitively and re-spells (``en-us`` comes back ``en-US``);
- ``None`` and ``""`` are the same empty value (F&O has no null strings, Dataverse no empty ones).

Example::

    >>> from p2c.catalog import FieldSpec, FieldType
    >>> same(Decimal("95"), Decimal("95.0"), FieldSpec("price", FieldType.MONEY), System.CRM)
    True
    >>> same("en-us", "en-US", FieldSpec("LanguageId", FieldType.STRING), System.ERP)
    True
    >>> same("Contoso", "CONTOSO", FieldSpec("OrganizationName", FieldType.STRING), System.ERP)
    False
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from p2c.catalog import NUMERIC_TYPES, FieldSpec, FieldType
from p2c.mapping import TransformError, is_empty, to_bool, to_decimal
from p2c.settings import System

__all__ = ["UNCOMPARABLE", "comparable", "jsonable", "normalise", "same"]

# F&O string fields that hold codes and ids of other records: matched case-insensitively by F&O
_ERP_CODE_SUFFIXES = ("Id", "Code", "Symbol", "Group", "Terms", "Mode", "Account", "Number")


class _Uncomparable:
    """A mapped value reconciliation cannot compare (a lookup given by alternate key)."""

    def __repr__(self) -> str:
        return "UNCOMPARABLE"


UNCOMPARABLE: Any = _Uncomparable()


def comparable(spec: FieldSpec | None) -> bool:
    """Whether a mapped field is compared at all: known to the catalog and written by a run.

    Read-only fields (computed or re-formatted by the service), fields that can be neither
    created nor updated, and fields written on create only (an owner a person may reassign since)
    are skipped.
    """
    return spec is not None and spec.writable and not spec.create_only


def normalise(value: Any, spec: FieldSpec, system: System) -> Any:
    """``value`` in the form two equal values share (see the module docstring)."""
    if isinstance(value, tuple) and len(value) == 2:  # a polymorphic lookup: (entity set, id)
        value = value[1]
    if isinstance(value, Mapping):
        return UNCOMPARABLE
    if is_empty(value):
        return None
    t = spec.type
    if t in (FieldType.LOOKUP, FieldType.GUID):
        return str(value).casefold()
    if t in NUMERIC_TYPES:
        return _number(value, spec)
    if t is FieldType.BOOL:
        return _bool(value)
    if t is FieldType.ENUM:
        return _bool(value) if isinstance(value, bool) else str(value).strip().casefold()
    if t is FieldType.CHOICE:
        text = str(value).strip()
        return int(text) if text.lstrip("-").isdigit() else text.casefold()
    if t is FieldType.DATE:
        return value.isoformat()[:10] if isinstance(value, dt.date) else str(value)[:10]
    if t is FieldType.DATETIME:
        return _instant(value)
    text = value if isinstance(value, str) else str(value)
    if system is System.ERP and spec.name.endswith(_ERP_CODE_SUFFIXES):
        return text.casefold()
    return text


def same(mapped: Any, target: Any, spec: FieldSpec, system: System) -> bool:
    """Whether the target's ``target`` value is what a run writing ``mapped`` leaves there."""
    if system is System.ERP and (mapped is None or mapped == ""):
        # F&O fills what a write leaves empty (FNO.md §1.6: initValue/defaultRow, e.g. a delivery
        # address name from the customer), so an empty mapped value says nothing about the target
        return True
    left = normalise(mapped, spec, system)
    if left is UNCOMPARABLE:
        return True
    right = normalise(target, spec, system)
    if spec.type is FieldType.ENUM and isinstance(left, bool) != isinstance(right, bool):
        left, right = _yes_no(left), _yes_no(right)  # NoYes: True and "Yes" are one value
    return bool(left == right)


def jsonable(value: Any) -> Any:
    """``value`` for JSON: Decimal as exact text, dates as ISO text, tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _number(value: Any, spec: FieldSpec) -> Any:
    try:
        number = to_decimal(value)
    except TransformError:
        return str(value)
    if spec.precision is not None:
        with contextlib.suppress(InvalidOperation):  # too many digits for the precision: keep as is
            number = number.quantize(Decimal(1).scaleb(-spec.precision))
    return number


def _bool(value: Any) -> Any:
    try:
        return to_bool(value)
    except TransformError:
        return str(value).strip().casefold()  # not a boolean: compared as text


def _yes_no(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _instant(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        return value.isoformat()
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
