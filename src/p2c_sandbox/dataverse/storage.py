"""Reading persisted rows back: JSON numbers in money and decimal columns become ``Decimal`` again.

The store persists rows as JSON, where a ``Decimal`` is written as a number; on load
:func:`decoder` restores each money/decimal column (standard or custom) as a ``Decimal`` at the
stored value, so a restarted sandbox computes with exactly the values it stored.

Example::

    >>> decode = decoder(lambda: {})
    >>> decode("account", {"creditlimit": 10.5})["creditlimit"]
    Decimal('10.5')
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from p2c_sandbox.dataverse.schema import Column, Kind
from p2c_sandbox.dataverse.tables import TABLES
from p2c_sandbox.store import Row

__all__ = ["decoder"]

_NUMERIC = (Kind.MONEY, Kind.DECIMAL)


def decoder(meta: Callable[[], dict[str, Any]]) -> Callable[[str, Row], Row]:
    """A ``Store`` decode function; ``meta`` gives the store's metadata (for custom columns)."""
    cache: dict[str, dict[str, int]] = {}

    def numeric_columns(table: str) -> dict[str, int]:
        found = cache.get(table)
        if found is None:
            t = TABLES.get(table)
            cols = list(t.columns.values()) if t is not None else []
            cols += [Column.from_dict(d) for d in meta().get("dv.columns", {}).get(table, [])]
            found = cache[table] = {c.name: c.precision for c in cols if c.kind in _NUMERIC}
        return found

    def decode(table: str, row: Row) -> Row:
        if "~" in table:
            return row
        for name in numeric_columns(table):
            value = row.get(name)
            if value is not None and value.__class__ is not Decimal:
                # repr of the JSON float is the shortest text that round-trips: the stored value
                row[name] = Decimal(repr(value)) if value.__class__ is float else Decimal(value)
        return row

    return decode
