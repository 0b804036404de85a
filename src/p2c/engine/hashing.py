"""A stable fingerprint of a payload: what the engine compares to skip unchanged records.

Numbers hash by value (``Decimal("10.0")`` and ``10`` are the same money), strings as they are,
key order does not matter. Example::

    >>> content_hash({"a": 1, "b": "x"}) == content_hash({"b": "x", "a": Decimal("1.00")})
    True

:func:`source_hash` fingerprints a *source* row as the task reads it, with the task's
configuration (:func:`task_fingerprint`), and is stored in the record's link. A row read again
whose source hash equals its link's is unchanged at once, as read (:mod:`p2c.engine.intake`): no
flow hook, no lookups resolved, no mapping. The values p2c writes back to a source row (a
generated number, a derived flag) are in the row when its hash is taken, so the next read, which
sees them, finds the row unchanged. A flow whose hook derives a value from other records reads a
field of the row that moves with them (a document header reads its lines' total). What the hash
cannot see: a change to a record the row only looks up (a parent's target key moved), or to the
target behind p2c's back — ``p2c run --full`` (which maps every row) and ``p2c reconcile`` pick
those up. A changed project (mapping, filters, rules, value maps) changes the fingerprint, so
the next run maps everything again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

__all__ = ["content_hash", "normalize", "source_hash", "task_fingerprint"]


_EXACT = 10**28  # Decimal's default precision: smaller whole numbers normalize exactly
_PLAIN = (str, bool, type(None))  # values that normalize to themselves


def normalize(value: Any) -> Any:
    kind = type(value)  # the usual types first: a source row's money values and counts, each row
    if kind is Decimal:  # Decimal(value) of a Decimal is itself
        return "#" + format(value.normalize(), "f")
    if kind is int and -_EXACT < value < _EXACT:  # what the Decimal below gives, sooner
        return f"#{value}"
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
    """The fingerprint of ``payload``: the same as hashing ``normalize(payload)``, with the plain
    values of its top level (most of a record's: text, flags, empties) taken as they are, without a
    call each (every record written is hashed)."""
    fields = {
        (k if type(k) is str else str(k)): (v if type(v) in _PLAIN else normalize(v))
        for k, v in payload.items()
    }
    data = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def task_fingerprint(project: Any, task: Any) -> str:
    """A fingerprint of ``task``'s configuration in ``project`` (a :class:`p2c.project.Project`):
    the ``repr`` of its immutable parts — the task (filters, rules, keys), its mapping
    expressions, defaults and columns, the value maps and the legal entities."""
    parts = (
        task,
        sorted((k, repr(v)) for k, v in task.fields.items()),
        sorted(task.defaults.items()),
        sorted(task.columns.items()),
        sorted(project.value_maps.items()),
        sorted(project.legal_entities.items()),
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def source_hash(row: Mapping[str, Any], fingerprint: str) -> str:
    """The hash of a source row as read (annotations such as ``@odata.etag`` left out: a
    write-back changes them) under the task configuration ``fingerprint``: the same value as
    ``content_hash({"#config": fingerprint, "#row": fields})``, computed without the generic walk
    (a no-change run hashes every row it reads, so this is its cost per row)."""
    fields = {
        k: v if type(v) in _PLAIN else normalize(v)
        for k, v in row.items()
        if "@" not in k or not (k[0] == "@" or k.endswith("@odata.etag"))
    }
    data = orjson.dumps({"#config": fingerprint, "#row": fields}, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=16).hexdigest()
