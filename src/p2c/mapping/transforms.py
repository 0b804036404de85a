"""Small named transforms the mapper applies: value maps, defaults, concat/split, numbers, target types.

Each is a pure function of values; a value it cannot handle raises :class:`TransformError` with a
reason meant for the user (the mapper adds entity, record key and field). Money is Decimal::

    >>> to_decimal(3.33) + to_decimal("0.01")
    Decimal('3.34')
    >>> vm = ValueMap("country", {"": "US", "United States": "US", "Canada": "CA"})
    >>> vm.apply("canada"), vm.apply(None)
    ('CA', 'US')
    >>> concat(["1 Main St", None, "Suite 5"], ", ")
    '1 Main St, Suite 5'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from p2c.catalog import FieldSpec, FieldType

__all__ = [
    "BLANK",
    "OTHER",
    "TransformError",
    "ValueMap",
    "coerce",
    "concat",
    "is_empty",
    "split",
    "to_bool",
    "to_decimal",
]

BLANK = ""  # value-map key for an empty source value (None or "")
OTHER = "*"  # value-map key for every value the map does not list


class TransformError(ValueError):
    """A value a transform cannot handle; ``reason`` is the user-facing text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_empty(value: Any) -> bool:
    """None and "" are empty; 0, False and "0" are values."""
    return value is None or value == ""


def _norm_key(value: Any) -> str:
    if is_empty(value):
        return BLANK
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float):
        value = to_decimal(value).normalize()
        # "10" and "10.00" are the same key; keep integers readable
        return str(int(value)) if value == value.to_integral_value() else str(value)
    return str(value).strip().casefold()


class ValueMap:
    """A named ``{from: to}`` table. Keys match case-insensitively, ignoring surrounding spaces.

    ``""`` is the entry for an empty value (None or ""); ``"*"`` the entry for any value not
    listed. A non-empty value with no entry and no ``"*"`` is an error; an empty value with no
    ``""`` entry stays empty.
    """

    def __init__(self, name: str, entries: Mapping[Any, Any]) -> None:
        self.name = name
        self.entries: Mapping[Any, Any] = MappingProxyType(dict(entries))
        index: dict[str, Any] = {}
        for key, value in entries.items():
            norm = OTHER if key == OTHER else _norm_key(key)
            if norm in index:
                raise ValueError(f"keys {self._first(norm)!r} and {key!r} are the same key")
            index[norm] = value
        self._index = index

    def _first(self, norm: str) -> Any:
        return next(k for k in self.entries if (OTHER if k == OTHER else _norm_key(k)) == norm)

    def __repr__(self) -> str:
        return f"ValueMap({self.name!r}, {len(self.entries)} entries)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueMap) and (self.name, dict(self.entries)) == (
            other.name,
            dict(other.entries),
        )

    __hash__ = None  # type: ignore[assignment]

    def merged(self, overrides: Mapping[Any, Any]) -> ValueMap:
        """This map with ``overrides`` added or replacing entries (matched like lookups)."""
        ValueMap(self.name, overrides)  # two override keys that match alike are an error too
        out = {k: v for k, v in self.entries.items()}
        norms = {(OTHER if k == OTHER else _norm_key(k)): k for k in out}
        for key, value in overrides.items():
            old = norms.get(OTHER if key == OTHER else _norm_key(key))
            if old is not None:
                del out[old]
            out[key] = value
        return ValueMap(self.name, out)

    def has(self, value: Any) -> bool:
        return _norm_key(value) in self._index

    def outputs(self) -> list[Any]:
        return list(self.entries.values())

    def apply(self, value: Any, source: str = "") -> Any:
        norm = _norm_key(value)
        if norm in self._index:
            return self._index[norm]
        if norm == BLANK:
            return None
        if OTHER in self._index:
            return self._index[OTHER]
        of = f" of {source}" if source else ""
        raise TransformError(f"value {value!r}{of} is not in value map {self.name!r}")


def to_decimal(value: Any) -> Decimal:
    """A Decimal from int, Decimal, numeric text or float (through its shortest repr, never binary)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TransformError(f"{value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    raise TransformError(f"{value!r} is not a number")


def concat(values: Iterable[Any], sep: str = " ") -> str | None:
    """Join the non-empty values with ``sep``; None when all are empty."""
    parts = [v if isinstance(v, str) else str(v) for v in values if not is_empty(v)]
    return sep.join(parts) if parts else None


def split(value: Any, sep: str, index: int) -> str | None:
    """Piece ``index`` of ``value`` split on ``sep``, stripped; None when absent or empty."""
    if is_empty(value):
        return None
    parts = str(value).split(sep)
    try:
        piece = parts[index].strip()
    except IndexError:
        return None
    return piece or None


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def coerce(value: Any, spec: FieldSpec, enum_members: Sequence[str] = ()) -> Any:
    """``value`` as the target field's type wants it; None passes through.

    decimal/money → Decimal, int → int, bool → bool, enum → the member's exact name (a bool
    becomes Yes/No for NoYes), choice → the option value (a label is accepted), string → text
    within max_length.
    """
    if value is None:
        return None
    t = spec.type
    if t is FieldType.STRING:  # most fields: first
        if isinstance(value, bool):
            raise TransformError(f"{value!r} is not text")
        text = value if isinstance(value, str) else str(value)
        if spec.max_length is not None and len(text) > spec.max_length:
            raise TransformError(
                f"{text[:40]!r} is {len(text)} characters long; the maximum is {spec.max_length}"
            )
        return text
    if t in (FieldType.DECIMAL, FieldType.MONEY):
        return to_decimal(value)
    if t is FieldType.INT:
        return _to_int(value, spec)
    if t is FieldType.BOOL:
        return to_bool(value)
    if t is FieldType.ENUM:
        return _to_enum(value, spec, enum_members)
    if t is FieldType.CHOICE:
        return _to_choice(value, spec)
    if t in (FieldType.DATE, FieldType.DATETIME) and not isinstance(value, str | dt.date):
        raise TransformError(f"{value!r} is not a date")
    return value


def _to_int(value: Any, spec: FieldSpec) -> int:
    if isinstance(value, bool):
        raise TransformError(f"{value!r} is not a whole number")
    number = to_decimal(value) if not isinstance(value, int) else Decimal(value)
    if number != number.to_integral_value():
        raise TransformError(f"{value!r} is not a whole number")
    out = int(number)
    if (spec.min is not None and out < spec.min) or (spec.max is not None and out > spec.max):
        raise TransformError(f"{out} is outside {spec.min}..{spec.max}")
    return out


def to_bool(value: Any) -> bool:
    """``True``/``False`` from a bool or the texts true/yes/1 and false/no/0 (any case); else TransformError."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TransformError(f"{value!r} is not true or false")


def _to_enum(value: Any, spec: FieldSpec, members: Sequence[str]) -> str:
    if isinstance(value, bool) and set(members) >= {"No", "Yes"}:
        return "Yes" if value else "No"
    text = str(value).strip()
    if not members:
        return text
    for m in members:
        if m.casefold() == text.casefold():
            return m
    raise TransformError(f"{value!r} is not a member of enum {spec.enum} ({', '.join(members)})")


def _to_choice(value: Any, spec: FieldSpec) -> int:
    if isinstance(value, bool):
        raise TransformError(f"{value!r} is not a choice value")
    if isinstance(value, int | Decimal) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        code = int(value)
        if spec.options and code not in spec.options:
            raise TransformError(f"{code} is not an option of {spec.name} ({_options(spec)})")
        return code
    text = str(value).strip().casefold()
    for code, label in spec.options.items():
        if label.casefold() == text:
            return code
    raise TransformError(f"{value!r} is not an option of {spec.name} ({_options(spec)})")


def _options(spec: FieldSpec) -> str:
    return ", ".join(f"{k} {v}" for k, v in spec.options.items())
