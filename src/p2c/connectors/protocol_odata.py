"""OData literals, key segments and key filters for Dataverse and F&O, without I/O.

Two places take literals and they escape differently:

* **URL key segments** (``accounts(accountnumber='X')``): the quote is doubled, then the literal is
  percent-encoded here, because it is part of the *path* (:func:`quote`, :func:`key_predicate`).
* **``$filter`` values**: only the quote is doubled (:func:`literal`); the whole query string is
  percent-encoded once, by httpx, or by :func:`query_string` for URLs written into a ``$batch``.

Example::

    >>> quote("O'Brien & Co")
    "'O''Brien%20%26%20Co'"
    >>> entity_path("CustomersV3", {"CustomerAccount": "X", "dataAreaId": "usmf"}, company_first=True)
    "CustomersV3(dataAreaId='usmf',CustomerAccount='X')"
    >>> literal("O'Brien & Co")
    "'O''Brien & Co'"
    >>> key_filter([{"accountnumber": "A1"}, {"accountnumber": "A2"}])
    "accountnumber eq 'A1' or accountnumber eq 'A2'"
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote as _pct

__all__ = [
    "EnumLiteral",
    "distinct_values",
    "entity_path",
    "in_filter",
    "in_filters",
    "key_filter",
    "key_filters",
    "key_predicate",
    "literal",
    "odata_bind",
    "query_string",
    "quote",
]

COMPANY = "dataAreaId"
# characters left readable in a query string written by us; everything else is percent-encoded
_QUERY_SAFE = "$'(),:@/*;!"


@dataclass(frozen=True)
class EnumLiteral:
    """An F&O enum value: ``EnumLiteral("NoYes", "Yes")`` → ``Microsoft.Dynamics.DataEntities.NoYes'Yes'``."""

    type_name: str
    member: str
    namespace: str = "Microsoft.Dynamics.DataEntities"

    def __str__(self) -> str:
        return f"{self.namespace}.{self.type_name}'{self.member}'"


def _datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def literal(value: Any) -> str:
    """An OData literal for ``$filter``: strings quoted with ``'`` doubled, numbers and dates bare."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        raise TypeError("floats are not OData literals in p2c; use Decimal")
    if isinstance(value, dt.datetime):
        return _datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | EnumLiteral):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no OData literal for {type(value).__name__}")


def quote(value: Any) -> str:
    """A literal for a URL path segment: :func:`literal`, then percent-encoded (``'`` kept)."""
    return _pct(literal(value), safe="':")  # "'" and ":" are legal in a path segment


def key_predicate(key: Mapping[str, Any], *, company_first: bool = False, encode: bool = True) -> str:
    """``k1='v1',k2=2`` for ``Set(...)``; F&O puts ``dataAreaId`` first (``company_first``).

    ``encode=False`` leaves the literals unencoded, for references inside JSON bodies.
    """
    if not key:
        raise ValueError("a key needs at least one field")
    items = list(key.items())
    if company_first:
        items.sort(key=lambda kv: kv[0] != COMPANY)
    fmt = quote if encode else literal
    return ",".join(f"{name}={fmt(value)}" for name, value in items)


def entity_path(
    entity_set: str, key: Mapping[str, Any] | uuid.UUID, *, company_first: bool = False, encode: bool = True
) -> str:
    """``accounts(accountnumber='X')``; a bare ``uuid.UUID`` gives ``accounts(<guid>)``.

    Percent-encoded for a request URL; ``encode=False`` for ``@odata.id``/``@odata.bind`` values
    in a JSON body, which the service reads as references, not as URLs to decode.
    """
    if isinstance(key, uuid.UUID):
        return f"{entity_set}({key})"
    return f"{entity_set}({key_predicate(key, company_first=company_first, encode=encode)})"


def _eq(name: str, value: Any) -> str:
    return f"{name} eq {literal(value)}"


def key_filter(keys: Sequence[Mapping[str, Any]], *, company_first: bool = False) -> str:
    """One ``$filter`` matching any of ``keys`` (all with the same fields).

    Composite keys are grouped by all fields but the last, so ``usmf`` is written once per group:
    ``(dataAreaId eq 'usmf' and (CustomerAccount eq 'A' or CustomerAccount eq 'B'))``.
    """
    if not keys:
        raise ValueError("key_filter needs at least one key")
    names = list(keys[0])
    if company_first:
        names.sort(key=lambda n: n != COMPANY)
    if len(names) == 1:
        return " or ".join(_eq(names[0], k[names[0]]) for k in keys)
    *prefix, last = names
    groups: dict[tuple[str, ...], list[str]] = {}
    for k in keys:
        head = tuple(_eq(n, k[n]) for n in prefix)
        groups.setdefault(head, []).append(_eq(last, k[last]))
    terms = []
    for head, tails in groups.items():
        tail = tails[0] if len(tails) == 1 else "(" + " or ".join(tails) + ")"
        terms.append("(" + " and ".join((*head, tail)) + ")")
    return " or ".join(terms)


def key_filters(
    keys: Sequence[Mapping[str, Any]],
    *,
    max_chars: int = 6000,
    company_first: bool = False,
    use_in: bool = False,
) -> list[str]:
    """:func:`key_filter` over ``keys``, cut into filters of at most about ``max_chars`` characters each.

    URLs are limited (Dataverse: 32,768 characters for a GET, 65,536 inside ``$batch``), so a
    large key set becomes several queries; the connectors send them together in one ``$batch``.
    ``use_in`` (Dataverse): keys of one text column become :func:`in_filter` lists of at most
    :data:`IN_CHARS` characters as sent (percent-encoded) and :data:`IN_VALUES` values: a third
    of the length of the ``or``-ed equalities, and a set lookup, not a chain of comparisons, at
    the service. Any other key (several columns, a value that is not text) is ``or``-ed as before.
    """
    if use_in and keys and len(keys[0]) == 1:
        ((name, _),) = keys[0].items()
        texts = [v for k in keys if isinstance(v := k.get(name), str)]
        if len(texts) == len(keys):
            return in_filters(name, texts)
    out: list[str] = []
    chunk: list[Mapping[str, Any]] = []
    size = 0
    for key in keys:
        cost = sum(len(str(n)) + len(literal(v)) + 9 for n, v in key.items())
        if chunk and size + cost > max_chars:
            out.append(key_filter(chunk, company_first=company_first))
            chunk, size = [], 0
        chunk.append(key)
        size += cost
    if chunk:
        out.append(key_filter(chunk, company_first=company_first))
    return out


#: the longest ``In`` list of one filter, percent-encoded as it is sent: with the rest of a GET's
#: URL well within Dataverse's 32,768 characters (1 000 keys of 10 characters take 16 000)
IN_CHARS = 24_000
#: and at most this many values in one list (the service turns each into a query parameter of
#: its database, whose statements take about 2 100)
IN_VALUES = 1000


def in_filters(field: str, values: Sequence[Any]) -> list[str]:
    """:func:`in_filter` over ``values``, cut into lists of at most :data:`IN_CHARS` characters as
    sent (percent-encoded) and :data:`IN_VALUES` values, in order."""
    out: list[list[str]] = [[]]
    size = 0
    for value in values:
        item = _in_item(value)
        cost = len(_pct(item, safe="")) + 3  # and its comma, encoded: %2C
        if out[-1] and (size + cost > IN_CHARS or len(out[-1]) >= IN_VALUES):
            out.append([])
            size = 0
        out[-1].append(item)
        size += cost
    return [_in_list(field, items) for items in out if items]


def in_filter(field: str, values: Iterable[Any]) -> str:
    """Dataverse ``Microsoft.Dynamics.CRM.In`` over ``values`` (strings quoted JSON-style, as the docs show)::

    >>> print(in_filter("accountnumber", ["A1", 'say "hi"']))
    Microsoft.Dynamics.CRM.In(PropertyName='accountnumber',PropertyValues=["A1","say \\"hi\\""])
    """
    return _in_list(field, [_in_item(v) for v in values])


def _in_item(value: Any) -> str:
    """One value of an ``In`` list, quoted and escaped JSON-style."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _in_list(field: str, items: Sequence[str]) -> str:
    return f"Microsoft.Dynamics.CRM.In(PropertyName='{field}',PropertyValues=[{','.join(items)}])"


def distinct_values(values: Iterable[Any]) -> list[Any]:
    """``values`` without empties and repeats (strings compared case-insensitively), in first-seen order."""
    seen: dict[Any, Any] = {}
    for v in values:
        if v is None or v == "":
            continue
        seen.setdefault(v.casefold() if isinstance(v, str) else v, v)
    return list(seen.values())


def odata_bind(entity_set: str, key: Mapping[str, Any] | uuid.UUID) -> str:
    """The value of ``<nav>@odata.bind``: ``/accounts(accountnumber='A1')`` (DATAVERSE.md §2.3)."""
    return "/" + entity_path(entity_set, key, encode=False)


def query_string(params: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """``a=1&$filter=name%20eq%20'x'``: for URLs written verbatim (``$batch`` parts, links)."""
    items = params.items() if isinstance(params, Mapping) else params
    return "&".join(f"{_pct(str(k), safe='$')}={_pct(str(v), safe=_QUERY_SAFE)}" for k, v in items)
