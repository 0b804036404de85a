"""The Web API's resource paths: segments, key predicates and ``@odata.bind`` references.

Example::

    >>> split_path("accounts(accountnumber='A/1')/primarycontactid")
    ["accounts(accountnumber='A/1')", 'primarycontactid']
    >>> parse_segment("accounts(accountnumber='O''Brien',name='x')")
    ('accounts', {'accountnumber': "O'Brien", 'name': 'x'})
    >>> parse_reference("https://org/api/data/v9.2/accounts(00000000-0000-0000-0000-000000000001)")
    ('accounts', '00000000-0000-0000-0000-000000000001')
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from p2c_sandbox.dataverse.errors import bad_request
from p2c_sandbox.dataverse.values import parse_guid
from p2c_sandbox.odata.text import split_top_level

__all__ = ["KeySpec", "format_key", "parse_reference", "parse_segment", "split_path"]

#: A key predicate: a GUID string, or ``{name: value}`` for an alternate key.
KeySpec = str | dict[str, Any]
API_MARKER = "/api/data/v9.2/"


def split_path(path: str) -> list[str]:
    """Split on ``/`` outside quotes and parentheses."""
    return split_top_level(path, "/")


def parse_segment(segment: str) -> tuple[str, KeySpec | None]:
    """``name`` or ``name(<key>)`` → ``(name, key)``; ``key`` is a GUID or ``{name: value}``."""
    if not segment.endswith(")") or "(" not in segment:
        return segment, None
    name, _, inner = segment.partition("(")
    return name, parse_key(inner[:-1])


def parse_key(text: str) -> KeySpec:
    text = text.strip()
    guid = parse_guid(text) if "=" not in text else None
    if guid is not None:
        return guid
    if "=" not in text:
        raise bad_request(f"Bad Request - Error in query syntax: invalid key '{text}'.")
    out: dict[str, Any] = {}
    for part in split_top_level(text):
        name, eq, raw = part.partition("=")
        if not eq or not name.strip():
            raise bad_request(f"Bad Request - Error in query syntax: invalid key '{text}'.")
        out[name.strip()] = _literal(raw.strip())
    return out


def _literal(raw: str) -> Any:
    if len(raw) >= 2 and raw[0] == "'" and raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    guid = parse_guid(raw)
    if guid is not None:
        return guid
    try:
        number = Decimal(raw)
    except InvalidOperation as exc:
        raise bad_request(f"Bad Request - Error in query syntax: invalid key value '{raw}'.") from exc
    return int(number) if number == number.to_integral_value() and "." not in raw else number


def format_key(values: dict[str, Any]) -> str:
    """The key predicate text of ``{name: value}`` (strings quoted, quotes doubled)."""
    parts = []
    for name, value in values.items():
        if isinstance(value, str) and parse_guid(value) is None:
            text = "'" + value.replace("'", "''") + "'"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        parts.append(f"{name}={text}")
    return ",".join(parts)


def parse_reference(value: str) -> tuple[str, KeySpec]:
    """An ``@odata.bind``/``@odata.id`` value → ``(entity set, key)``.

    Accepts ``/accounts(<guid>)``, ``accounts(<guid>)``, the alternate-key form and an absolute
    URL of the service.
    """
    text = value.strip()
    at = text.find(API_MARKER)
    if at >= 0:
        text = text[at + len(API_MARKER) :]
    text = text.lstrip("/")
    name, key = parse_segment(text)
    if key is None or "/" in name or not name:
        raise bad_request(f"The URI '{value}' is not valid for an entity reference.")
    return name, key
