"""Source rows and target payloads as size-capped JSON text.

Values JSON cannot hold are written as text: ``Decimal`` as its exact string (never a float),
dates and times in ISO 8601, UUIDs as strings, enums as their value, sets as sorted lists,
bytes as base64. Anything else becomes its ``str()``, so recording history never fails on a type.

A document longer than the cap (in UTF-8 bytes) is replaced by a small valid JSON object that
says so and keeps the head of the text::

    {"_truncated": true, "_bytes": 40213, "_head": "{\\"name\\": \\"Contoso ..."}

Example::

    >>> from decimal import Decimal
    >>> dumps({"price": Decimal("10.10"), "qty": 3})
    '{"price":"10.10","qty":3}'
    >>> loads(dumps({"x": "y" * 500}, cap=200))["_truncated"]
    True
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson

__all__ = ["DEFAULT_CAP", "TRUNCATED_MARKER", "dumps", "loads"]

#: Bytes of JSON kept per source row or target payload.
DEFAULT_CAP = 16 * 1024
#: Key present (and true) in a document that was cut to the cap.
TRUNCATED_MARKER = "_truncated"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def dumps(value: Mapping[str, Any] | None, cap: int = DEFAULT_CAP) -> str | None:
    """JSON text of ``value`` (``None`` stays ``None``), at most ``cap`` bytes of UTF-8 (``cap`` ≥ 128)."""
    if value is None:
        return None
    # orjson: the same compact UTF-8 JSON as json.dumps(ensure_ascii=False) for these documents,
    # several times faster — every outcome of a run is written through here
    raw = orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
    size = len(raw)
    text = raw.decode("utf-8")
    if size <= cap:
        return text
    # The head is escaped again inside the wrapper, so shrink it until the wrapper fits the cap.
    budget = cap - 64
    while True:
        head = text.encode("utf-8")[: max(budget, 0)].decode("utf-8", errors="ignore")
        wrapped = json.dumps(
            {TRUNCATED_MARKER: True, "_bytes": size, "_head": head}, ensure_ascii=False, separators=(",", ":")
        )
        over = len(wrapped.encode("utf-8")) - cap
        if over <= 0 or budget <= 0:
            return wrapped
        budget -= max(over, 16)


def loads(text: str | None) -> dict[str, Any] | None:
    """The document :func:`dumps` stored (``None`` stays ``None``)."""
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else {"_value": value}
