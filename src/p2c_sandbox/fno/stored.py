"""The stored form of F&O rows: the internal RecId and version fields, the ETag made of them, the
keys of the key indexes, and the Store hook that reads persisted rows back.

Example::

    >>> etag({"_recid": 5637144577, "_ver": 2})
    'W/"JzIsNTYzNzE0NDU3Nyc="'
    >>> key_fn(ENTITY_SETS["CustomersV3"])({"dataAreaId": "usmf", "CustomerAccount": "US-001"})
    ('usmf', 'us-001')
"""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any

from p2c_sandbox.fno.entities import DECIMAL, ENTITY_SETS, EntitySet, Kind
from p2c_sandbox.store import Row

__all__ = [
    "INDEX_NAMES",
    "RECID",
    "VERSION",
    "decode_row",
    "etag",
    "group_key",
    "index_name",
    "key_fn",
    "key_part",
    "table_kinds",
]

RECID = "_recid"
VERSION = "_ver"


def key_part(value: Any) -> Any:
    """Key values compare case-insensitively (SQL Server collation), numbers as numbers."""
    return value.casefold() if isinstance(value, str) else value


def group_key(row: Row, field: str) -> tuple[str, str]:
    return (row.get("dataAreaId", ""), str(row.get(field, "")).casefold())


def etag(row: Row) -> str:
    """A weak ETag from the record version and RecId, shaped like F&O's (base64 of ``'ver,recid'``)."""
    raw = f"'{row.get(VERSION, 1)},{row.get(RECID, 0)}'".encode()
    # base64.b64encode without its wrapper and the newline keyword: the text ends with one b"\n"
    return 'W/"' + b2a_base64(raw)[:-1].decode() + '"'


def index_name(es: EntitySet) -> str:
    return "key:" + ",".join(es.keys)


INDEX_NAMES = {es.name: index_name(es) for es in ENTITY_SETS.values()}


def key_fn(es: EntitySet) -> Callable[[Row], Any]:
    """The key index's key of a row (its key values as :func:`key_part`), None without them all.
    Every insert computes it, every update twice: a C getter, no generator."""
    get = itemgetter(*es.keys)
    single = len(es.keys) == 1

    def fn(row: Row) -> Any:
        try:
            values = get(row)
        except KeyError:
            return None
        if single:
            values = (values,)
        return tuple([v.casefold() if isinstance(v, str) else v for v in values])

    return fn


def decode_row(kinds: dict[str, dict[str, Kind]]) -> Callable[[str, Row], Row]:
    """The Store ``decode`` hook: persisted JSON numbers back to Decimal for decimal properties."""

    def decode(table: str, row: Row) -> Row:
        table_kinds = kinds.get(table, {})
        for name, value in row.items():
            if table_kinds.get(name) is DECIMAL and not isinstance(value, Decimal):
                row[name] = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return row

    return decode


def table_kinds() -> dict[str, dict[str, Kind]]:
    out: dict[str, dict[str, Kind]] = {}
    for es in ENTITY_SETS.values():
        kinds = out.setdefault(es.table, {})
        for p in es.props:
            kinds[p.name] = p.kind
    return out
