"""A stable fingerprint of a payload: what the engine compares to skip unchanged records.

Numbers hash by value (``Decimal("10.0")`` and ``10`` are the same money), strings as they are,
key order does not matter. Example::

    >>> content_hash({"a": 1, "b": "x"}) == content_hash({"b": "x", "a": Decimal("1.00")})
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

__all__ = ["content_hash", "normalize"]


def normalize(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Decimal | float):
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        return "#" + format(d.normalize(), "f")
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    return str(value)


def content_hash(payload: Mapping[str, Any]) -> str:
    data = orjson.dumps(normalize(payload), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=16).hexdigest()
