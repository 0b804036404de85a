"""Resource paths below ``/data/`` (FNO.md §1.3): entity set, key predicate, navigation, ``$count``, property.

Example::

    >>> from p2c_sandbox.fno.entities import ENTITY_SETS
    >>> t = parse_target(ENTITY_SETS, "CustomersV3(CustomerAccount='US-001',dataAreaId='USMF')", "u")
    >>> t.es.name, t.key
    ('CustomersV3', {'dataAreaId': 'usmf', 'CustomerAccount': 'US-001'})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from p2c_sandbox.fno.entities import ENUM, STRING, EntitySet, Kind, Navigation
from p2c_sandbox.fno.enums import ENUMS
from p2c_sandbox.fno.errors import FnoError, bad_request, no_resource
from p2c_sandbox.fno.values import date_text, parse_key_predicate, parse_wire_datetime

__all__ = ["Target", "format_key", "parse_target"]


@dataclass
class Target:
    es: EntitySet
    key: dict[str, Any] | None = None
    key_text: str = ""
    nav: Navigation | None = None
    count: bool = False
    prop: str | None = None
    raw_value: bool = False


def _key_mismatch(es: EntitySet) -> FnoError:
    return bad_request(
        "The number of keys specified in the URI does not match number of key properties for the "
        f"resource '{es.qualified_type}'."
    )


def parse_target(sets: dict[str, EntitySet], path: str, url: str) -> Target:
    """Parse ``path`` (decoded, below the service root); ``url`` is quoted in 404 messages."""
    head, rest = _split_head(path)
    name, paren, key_part = head.partition("(")
    es = sets.get(name)
    if es is None:
        raise no_resource(url)
    target = Target(es)
    if paren:
        if not key_part.endswith(")"):
            raise bad_request(f"Bad Request - Error in query syntax: '{head}'.")
        target.key_text = key_part[:-1]
        target.key = _parse_key(es, target.key_text)
    segments = [s for s in rest.split("/") if s] if rest else []
    if segments and segments[-1] == "$count":
        target.count = True
        segments.pop()
    if segments and segments[-1] == "$value" and target.key is not None:
        target.raw_value = True
        segments.pop()
    if segments:
        if target.key is None or len(segments) > 1:
            raise no_resource(url)
        seg = segments[0]
        nav = es.navigation(seg)
        if nav is not None:
            target.nav = nav
        elif seg in es.by_name:
            target.prop = seg
        else:
            raise no_resource(url)
    if target.count and target.key is not None and target.nav is None:
        raise no_resource(url)
    return target


def _split_head(path: str) -> tuple[str, str]:
    """``Set(key)`` and the rest after ``/``; a ``/`` inside a quoted key literal does not split."""
    if "/" not in path:  # the common case, without a walk over the characters
        return path, ""
    quoted = False
    for i, ch in enumerate(path):
        if ch == "'":
            quoted = not quoted
        elif ch == "/" and not quoted:
            return path[:i], path[i + 1 :]
    return path, ""


def _parse_key(es: EntitySet, text: str) -> dict[str, Any]:
    try:
        pairs = parse_key_predicate(text)
    except ValueError:
        raise bad_request(
            f"Bad Request - Error in query syntax: the key predicate '({text})' is not valid."
        ) from None
    if len(pairs) == 1 and pairs[0][0] is None and len(es.keys) == 1:
        pairs = [(es.keys[0], pairs[0][1])]
    if len(pairs) != len(es.keys) or any(n is None for n, _ in pairs):
        raise _key_mismatch(es)
    key: dict[str, Any] = {}
    for name, literal in pairs:
        assert name is not None
        if name not in es.keys or name in key:
            raise _key_mismatch(es)
        prop = es.prop(name)
        value = literal.value
        if prop.kind is Kind.STRING:
            if not literal.quoted:
                raise bad_request(
                    f"The key value ({literal.text}) for '{name}' is not a valid Edm.String literal."
                )
            if name == "dataAreaId":
                value = value.lower()
        elif prop.kind in (Kind.INT32, Kind.INT64):
            if literal.quoted or not isinstance(value, int):
                raise bad_request(
                    f"The key value ({literal.text}) for '{name}' is not a valid {prop.edm_type} literal."
                )
        elif prop.kind in (Kind.DATE, Kind.UTC):
            if literal.quoted or not isinstance(value, str):
                raise bad_request(
                    f"The key value ({literal.text}) for '{name}' is not a valid Edm.DateTimeOffset literal."
                )
            if prop.kind is Kind.DATE:
                value = date_text(parse_wire_datetime(value).date())
        elif prop.kind is Kind.ENUM and (not literal.quoted or value not in ENUMS[prop.enum or ""]):
            raise bad_request(
                f"The key value ({literal.text}) for '{name}' is not a valid {prop.edm_type} literal."
            )
        key[name] = value
    return key


def format_key(es: EntitySet, row: dict[str, Any]) -> str:
    """The canonical key predicate of a row, for URLs: ``dataAreaId='usmf',CustomerAccount='US-001'``."""
    parts = []
    for prop, default in es.key_defaults:
        name, kind = prop.name, prop.kind
        value = row.get(name, default)
        if kind is STRING:
            parts.append(f"{name}='{str(value).replace(_QUOTE, _QUOTES)}'")
        elif kind is ENUM:
            parts.append(f"{name}=Microsoft.Dynamics.DataEntities.{prop.enum}'{value}'")
        else:
            parts.append(f"{name}={value}")
    return ",".join(parts)


_QUOTE, _QUOTES = "'", "''"
