"""The binder of a task: which target record each source record is, and what was last written.

Identity is a pair of typed keys. The **source key** is the CRM primary key (a GUID) or the ERP
key fields; the **target key** is the values of the task's target key fields, stored in the link
as a JSON array (``["usmf", "QUO-001", 2]``) and read back typed by the catalog (whole-number
fields as ints), never by splitting text. Outcomes and the CLI show the key as text
(``usmf,QUO-001,2``, :meth:`Binder.display`).

Example::

    binder = Binder(task, spec, store)
    link = binder.link("4f1c…", payload, digest)     # Link(target_key='["usmf","ACC-1"]', ...)
    binder.target_of(link)                          # {"dataAreaId": "usmf", "CustomerAccount": "ACC-1"}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from p2c.catalog import EntitySpec, FieldType
from p2c.project import Task
from p2c.store import Link, StateStore, now

__all__ = ["Binder", "encode_key"]


def _plain(value: Any) -> Any:
    """A key value as JSON holds it: lookups as their id, whole numbers as ints, the rest as text."""
    if type(value) is str:  # most key values
        return value
    if isinstance(value, tuple) and len(value) == 2:  # a polymorphic lookup: (table, id)
        value = value[1]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | Decimal | float) and value == int(value):
        return int(value)
    return str(value)


def encode_key(values: Iterable[Any]) -> str:
    """The stored form of a target key (its values in key order): compact JSON, UTF-8 as is::

    >>> encode_key(["usmf", "QUO-001", Decimal("2")])
    '["usmf","QUO-001",2]'
    """
    return orjson.dumps([_plain(v) for v in values]).decode()


class Binder:
    def __init__(self, task: Task, spec: EntitySpec, store: StateStore) -> None:
        self.task = task
        self.spec = spec
        self.store = store
        self.names = task.key_target
        self._ints = {n for n in self.names if (f := spec.field(n)) is not None and f.type is FieldType.INT}

    def values(self, payload: Mapping[str, Any]) -> list[Any]:
        return [payload.get(k) for k in self.names]

    def encode(self, payload: Mapping[str, Any]) -> str:
        return encode_key(self.values(payload))

    def display(self, payload: Mapping[str, Any]) -> str:
        """The target key as people read it: ``usmf,QUO-001,2``."""
        return ",".join("" if v is None else str(_plain(v)) for v in self.values(payload))

    def target_of(self, link: Link) -> dict[str, Any]:
        """The typed target key of ``link``."""
        values = json.loads(link.target_key)
        return {
            n: int(v) if n in self._ints and isinstance(v, str) and v.lstrip("-").isdigit() else v
            for n, v in zip(self.names, values, strict=False)
        }

    def shown(self, link: Link) -> str:
        return ",".join("" if v is None else str(v) for v in self.target_of(link).values())

    def links(self, source_keys: Sequence[str]) -> dict[str, Link]:
        return self.store.links(self.task.name, list(source_keys)) if source_keys else {}

    def link(
        self,
        source_key: str,
        payload: Mapping[str, Any],
        digest: str,
        source: str | None = None,
        at: datetime | None = None,
    ) -> Link:
        """The link of a record just written: its target key, the hash of what was written and
        ``source``, the hash of the source row it came from (:func:`p2c.engine.hashing.source_hash`);
        ``at``: when (now when not given; a chunk's links share one time, which the store binds once)."""
        return Link(self.task.name, source_key, self.encode(payload), digest, at or now(), source_hash=source)
