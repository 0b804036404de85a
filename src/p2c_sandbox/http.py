"""Transport-neutral request and response objects for the emulated services.

Every emulator is a function ``handle(Request) -> Response``. The same function serves a request
that arrived on a socket (through :mod:`p2c_sandbox.app`) and one that arrived inside a ``$batch``
body, so batch parts behave exactly like single requests.

Example::

    >>> req = Request("GET", "accounts", query=[("$top", "1")], base_url="https://127.0.0.1:8441")
    >>> req.param("$top")
    '1'
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

__all__ = ["Request", "Response", "dumps", "json_response", "loads"]


@dataclass
class Request:
    """One OData request, relative to the service root.

    ``path`` is the percent-decoded path below the service root (``accounts(accountnumber='A1')``),
    ``query`` the decoded query pairs in order, ``headers`` with lower-case names.
    """

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    base_url: str = ""
    service_root: str = ""
    in_batch: bool = False
    raw_query: str = ""

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def prefer(self) -> dict[str, str]:
        """The ``Prefer`` header as ``{name: value}`` (value ``""`` for bare tokens)."""
        raw = self.headers.get("prefer", "")
        if not raw:
            return {}
        parsed = _PREFER_CACHE.get(raw)
        if parsed is None:  # a batch repeats the same few headers a thousand times
            parsed = {}
            for part in _split_prefer(raw):
                name, _, value = part.partition("=")
                parsed[name.strip().lower()] = value.strip().strip('"')
            if len(_PREFER_CACHE) > 256:
                _PREFER_CACHE.clear()
            _PREFER_CACHE[raw] = parsed
        return dict(parsed)

    def json(self) -> Any:
        return loads(self.body)


_PREFER_CACHE: dict[str, dict[str, str]] = {}


def _split_prefer(raw: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in raw:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    if buf:
        parts.append("".join(buf).strip())
    return [p for p in parts if p]


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A float prints the shortest text that round-trips; money in the emulators has at most
        # 15 significant digits, so the JSON number is the exact decimal value.
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default)


def loads(body: bytes | str) -> Any:
    """Parse JSON keeping numbers exact: non-integral numbers become :class:`Decimal`.

    A body without a ``.`` has no decimal fraction: orjson parses it, and only a number in
    exponent form (a float) or a document orjson refuses sends it to :mod:`json`. A body with a
    ``.`` goes to :mod:`json` at once (an F&O order line's prices and quantities: parsing it twice
    cost three times the single parse). :mod:`json` keeps each number's exact decimal value and
    gives the errors (and the leniency) the emulators have always had; for a document both accept
    without a float, both give the same value.
    """
    fraction = b"." in body if isinstance(body, bytes | bytearray) else "." in body
    if not fraction:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            if not _has_float(value):
                return value
    text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
    return _EXACT.decode(text)


# one decoder for every call: ``json.loads(text, parse_float=Decimal)`` builds a new one each time,
# which cost more than the parse of an order line's body
_EXACT = json.JSONDecoder(parse_float=Decimal)


def _has_float(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float):
            return True
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


JSON_TYPE = "application/json; odata.metadata=minimal"


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    hdrs = {"content-type": JSON_TYPE, "odata-version": "4.0"}
    if headers:
        hdrs.update(headers)
    return Response(status, hdrs, dumps(payload))
