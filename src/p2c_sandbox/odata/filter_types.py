"""Property kinds, the schema protocol ``compile_filter`` reads, and value normalisation.

Every stored value and literal is brought to one comparable form per kind before comparing:
text stays text (compared case-folded), numbers become ``int``/``Decimal``, timestamps aware
``datetime``, dates ``date``, GUIDs lower-case text without braces, enum members their name.

    >>> normalise(FieldKind.GUID, "{AAAAAAAA-0000-0000-0000-000000000001}")
    'aaaaaaaa-0000-0000-0000-000000000001'
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from p2c_sandbox.odata.filter_tree import parse_moment
from p2c_sandbox.odata.records import value_type

__all__ = ["CollectionSchema", "FilterSchema", "Getter", "MappingSchema"]
__all__ += ["Field", "FieldKind", "edm_name", "field_type", "kind_of", "normalise", "quote"]

Getter = Callable[[Any], Any]


#: how the sandbox classifies a property's values; the value names the kind in lower case
FieldKind = StrEnum(
    "FieldKind",
    [
        ("STRING", "string"),
        ("INT", "int"),
        ("DECIMAL", "decimal"),
        ("BOOL", "bool"),
        ("DATETIME", "datetime"),
        ("DATE", "date"),
        ("GUID", "guid"),
        ("ENUM", "enum"),
    ],
)


@value_type
class Field:
    """A property a ``$filter`` may name (``path`` joined by '/'); an enum names its type and members."""

    name: str
    kind: FieldKind
    enum_type: str | None = None
    members: tuple[str, ...] = ()


def field_type(f: Field) -> str:
    """The type of ``f`` as messages name it: the enum's own name, else the Edm type.

    >>> field_type(Field("IsActive", FieldKind.ENUM, "NoYes", ("No", "Yes")))
    'NoYes'
    """
    return (f.kind is FieldKind.ENUM and f.enum_type) or edm_name(f.kind)


def edm_name(kind: FieldKind | None) -> str:
    if kind is None:
        return "null"
    suffix = {"int": "Int32", "bool": "Boolean", "datetime": "DateTimeOffset", "enum": "Enum"}
    return "Edm." + suffix.get(kind.value, kind.value.capitalize())


class FilterSchema(Protocol):
    """What ``compile_filter`` needs of an entity; ``type_name`` is used in messages."""

    type_name: str

    def field(self, path: tuple[str, ...]) -> Field | None: ...

    def getter(self, path: tuple[str, ...]) -> Getter: ...


class CollectionSchema(FilterSchema, Protocol):
    """A schema with collection navigation, for ``any``/``all``."""

    def element_schema(self, path: tuple[str, ...]) -> FilterSchema | None: ...

    def collection(self, row: Any, path: tuple[str, ...]) -> Iterable[Any]: ...


class MappingSchema:
    """Rows are mappings holding each field under its name."""

    def __init__(self, type_name: str, fields: Iterable[Field]) -> None:
        self.type_name = type_name
        self.fields = {f.name: f for f in fields}

    def __repr__(self) -> str:
        return f"MappingSchema({self.type_name!r}, {sorted(self.fields)})"

    def field(self, path: tuple[str, ...]) -> Field | None:
        if len(path) != 1:
            return None
        return self.fields.get(path[0])

    def getter(self, path: tuple[str, ...]) -> Getter:
        key = path[0]

        def read(row: Any) -> Any:
            return row.get(key) if isinstance(row, Mapping) else None

        return read


def quote(text: str) -> str:
    """``text`` as an OData string literal.

    >>> quote("O'Brien")
    "'O''Brien'"
    """
    return "'" + text.replace("'", "''") + "'"


_LITERAL_KINDS: tuple[tuple[type | tuple[type, ...], FieldKind], ...] = (
    (bool, FieldKind.BOOL),  # before int: a bool is an int to isinstance
    (int, FieldKind.INT),
    ((Decimal, float), FieldKind.DECIMAL),
    (dt.datetime, FieldKind.DATETIME),  # before date, for the same reason
    (dt.date, FieldKind.DATE),
    (uuid.UUID, FieldKind.GUID),
)


def kind_of(value: object) -> FieldKind | None:
    """The kind of a literal value (None for null; text for anything else)."""
    if value is None:
        return None
    return next((kind for types, kind in _LITERAL_KINDS if isinstance(value, types)), FieldKind.STRING)


def _to_moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            day = _to_day(text)
            return None if day is None else _to_moment(day)
        return parse_moment(text)
    return None


def _to_day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 10:
            moment = parse_moment(text)
            return None if moment is None else _to_day(moment)
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def _to_number(value: Any) -> int | Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


_HEX = "0123456789abcdef-"


@functools.lru_cache(maxsize=65536)
def _guid_text(text: str) -> str | None:
    # stored ids repeat on every row read (a line's order id): parse each once
    try:
        return str(uuid.UUID(text.strip().strip("{}")))
    except ValueError:
        return None


def _to_guid(value: Any) -> str | None:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        if (
            len(value) == 36
            and value[8] == value[13] == value[18] == value[23] == "-"
            and not value.strip(_HEX)
        ):
            return value  # already canonical, as stored ids are: the hot path of every id filter
        return _guid_text(value)
    return None


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _to_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_NORMALISERS: dict[FieldKind, Callable[[Any], Any]] = {
    FieldKind.STRING: _to_text,
    FieldKind.INT: _to_number,
    FieldKind.DECIMAL: _to_number,
    FieldKind.BOOL: _to_bool,
    FieldKind.DATETIME: _to_moment,
    FieldKind.DATE: _to_day,
    FieldKind.GUID: _to_guid,
    FieldKind.ENUM: lambda v: v if isinstance(v, str) else None,
}


def normalise(kind: FieldKind, value: Any) -> Any:
    """``value`` in the comparable form of ``kind``; None when it is null or not of that kind."""
    if value is None:
        return None
    return _NORMALISERS[kind](value)
