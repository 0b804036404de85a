"""The org's live metadata: tables with their custom columns, alternate keys, change tracking.

Everything here is persisted in the store's metadata (``dv.*`` entries), so a restarted sandbox
has the same custom columns, keys and settings as before, and a rolled-back transaction undoes a
metadata change like any row change. The catalogue also owns the org-wide ``versionnumber``
counter that feeds ETags and delta tokens.

Alternate keys are built asynchronously in Dataverse: a new key is ``Pending`` and becomes
``Active`` after ``key_activation_seconds`` — or ``Failed`` when existing rows hold duplicate
values. :meth:`Catalog.keys` performs that transition lazily, on the first look after the delay.

Example::

    >>> from p2c_sandbox.store import Store
    >>> cat = Catalog(Store(None), activation_seconds=0)
    >>> cat.table_by_set("accounts").name
    'account'
    >>> cat.next_version() < cat.next_version()
    True
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from p2c_sandbox.dataverse.errors import Code, DataverseError
from p2c_sandbox.dataverse.schema import Column, Kind, TableDef
from p2c_sandbox.dataverse.tables import TABLES
from p2c_sandbox.store import Row, Store

__all__ = ["Catalog", "KeyCheck", "KeyDef", "KeyStatus", "key_value", "metadata_id"]

_NS = uuid.UUID("6a1e0f3c-1d2b-4c59-9a53-7f0d3b8f2c11")


def metadata_id(*parts: str) -> str:
    """A stable MetadataId for a table, column or key."""
    return str(uuid.uuid5(_NS, "/".join(parts)))


class KeyStatus(StrEnum):
    """``EntityKeyIndexStatus``."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    ACTIVE = "Active"
    FAILED = "Failed"


@dataclass
class KeyDef:
    table: str
    schema_name: str
    attributes: list[str]
    status: KeyStatus
    created: float
    metadata_id: str
    label: str = ""

    @property
    def logical_name(self) -> str:
        return self.schema_name.lower()

    @property
    def index(self) -> str:
        return f"key:{self.logical_name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "schema_name": self.schema_name,
            "attributes": self.attributes,
            "status": str(self.status),
            "created": self.created,
            "metadata_id": self.metadata_id,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KeyDef:
        return cls(
            d["table"],
            d["schema_name"],
            list(d["attributes"]),
            KeyStatus(d["status"]),
            float(d["created"]),
            d["metadata_id"],
            d.get("label", ""),
        )


def _norm(value: Any) -> Any:
    # Dataverse compares key values with the database's case-insensitive collation
    return value.casefold() if isinstance(value, str) else value


def key_value(wires: list[str]) -> Callable[[Row], Any]:
    """The index function of a key: a tuple of normalised values, ``None`` if any part is null.

    It runs three times per write of a keyed table (the uniqueness check, then the store's unindex
    of the old row and index of the new one), so it is a plain loop, not generators.
    """
    if len(wires) == 1:
        (w,) = wires

        def one(row: Row) -> Any:
            v = row.get(w)
            return None if v is None else (_norm(v),)

        return one
    if len(wires) == 2:  # the usual compound key: a parent and a number (order line keys)
        a, b = wires

        def two(row: Row) -> Any:
            va, vb = row.get(a), row.get(b)
            if va is None or vb is None:
                return None
            return (
                va.casefold() if isinstance(va, str) else va,
                vb.casefold() if isinstance(vb, str) else vb,
            )

        return two
    names = tuple(wires)

    def many(row: Row) -> Any:
        out = []
        for w in names:
            v = row.get(w)
            if v is None:
                return None
            out.append(v.casefold() if isinstance(v, str) else v)
        return tuple(out)

    return many


class KeyCheck(NamedTuple):
    """An Active key with its store index name and value function (:func:`key_value`)."""

    key: KeyDef
    index_name: str
    value: Callable[[Row], Any]


KEYABLE = {Kind.STRING, Kind.INTEGER, Kind.DECIMAL, Kind.DATETIME, Kind.LOOKUP, Kind.CUSTOMER, Kind.PICKLIST}


class Catalog:
    """Tables (standard + custom columns), keys, change tracking flags and the version counter."""

    def __init__(self, store: Store, activation_seconds: float = 0.5) -> None:
        self.store = store
        self.activation_seconds = activation_seconds
        self.tables: dict[str, TableDef] = {}
        self.by_set: dict[str, TableDef] = {}
        self._keys: dict[str, list[KeyDef]] = {}
        self._checks: dict[str, list[KeyCheck]] = {}
        self._pending = False
        self.reload()

    # -- tables and columns --------------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild the tables and key indexes from the persisted metadata."""
        custom: dict[str, list[dict[str, Any]]] = self.store.get_meta("dv.columns", {})
        self.tables = {
            name: t.with_columns(Column.from_dict(d) for d in custom.get(name, []))
            for name, t in TABLES.items()
        }
        self.by_set = {t.set_name: t for t in self.tables.values()}
        self._checks.clear()
        self._keys = {
            name: [KeyDef.from_dict(d) for d in ds] for name, ds in self.store.get_meta("dv.keys", {}).items()
        }
        for name in TABLES:
            st = self.store.table(name)
            for idx in [i for i in st.indexes if i.startswith("key:")]:
                st.drop_index(idx)
        for keys in self._keys.values():
            for k in keys:
                if k.status is KeyStatus.ACTIVE:
                    self._install(k)
        self._pending = any(k.status is KeyStatus.PENDING for ks in self._keys.values() for k in ks)

    def table(self, name: str) -> TableDef:
        return self.tables[name]

    def table_by_set(self, set_name: str) -> TableDef:
        t = self.by_set.get(set_name)
        if t is None:
            raise DataverseError(404, Code.QUERY, f"Resource not found for the segment '{set_name}'.")
        return t

    def add_column(self, table: str, column: Column) -> None:
        custom = {k: list(v) for k, v in self.store.get_meta("dv.columns", {}).items()}
        custom.setdefault(table, []).append(column.to_dict())
        self.store.set_meta("dv.columns", custom)
        self.tables[table] = self.tables[table].with_columns([column])
        self.by_set[self.tables[table].set_name] = self.tables[table]
        self._checks.clear()

    # -- alternate keys ------------------------------------------------------------------------

    def keys(self, table: str) -> list[KeyDef]:
        """The table's keys, after moving due Pending keys to Active or Failed."""
        if self._pending:
            self._activate_due()
        return list(self._keys.get(table, []))

    def has_keys(self, table: str) -> bool:
        return bool(self._keys.get(table))

    def active_keys(self, table: str) -> list[KeyDef]:
        return [k for k in self.keys(table) if k.status is KeyStatus.ACTIVE]

    def key_checks(self, table: str) -> list[KeyCheck]:
        """The table's Active keys, each as a :class:`KeyCheck`: what a write checks uniqueness with.

        Built once per table rather than per written row (the wire names and the key's value
        function cost more than the check). The cache holds only what :meth:`active_keys` would
        give and is dropped whenever that can change: :meth:`reload`, :meth:`add_column`,
        :meth:`add_key`, :meth:`remove_key` and a Pending key's activation (:meth:`_activate_due`,
        run first, as :meth:`keys` does).
        """
        if self._pending:
            self._activate_due()
        checks = self._checks.get(table)
        if checks is None:
            checks = self._checks[table] = [
                KeyCheck(k, k.index, key_value(self.key_wires(k)))
                for k in self._keys.get(table, [])
                if k.status is KeyStatus.ACTIVE
            ]
        return checks

    def key_wires(self, key: KeyDef) -> list[str]:
        cols = self.tables[key.table].columns
        return [cols[a].wire for a in key.attributes]

    def add_key(self, key: KeyDef) -> None:
        self._keys.setdefault(key.table, []).append(key)
        self._pending = True
        self._checks.clear()
        self._save_keys()

    def remove_key(self, key: KeyDef) -> None:
        self._keys[key.table] = [k for k in self._keys.get(key.table, []) if k.metadata_id != key.metadata_id]
        self.store.table(key.table).drop_index(key.index)
        self._checks.clear()
        self._save_keys()

    def _save_keys(self) -> None:
        self.store.set_meta("dv.keys", {t: [k.to_dict() for k in ks] for t, ks in self._keys.items() if ks})

    def _activate_due(self) -> None:
        now = time.time()
        changed, pending = False, False
        for keys in self._keys.values():
            for k in keys:
                if k.status is not KeyStatus.PENDING:
                    continue
                if now < k.created + self.activation_seconds:
                    pending = True
                    continue
                k.status = KeyStatus.FAILED if self._has_duplicates(k) else KeyStatus.ACTIVE
                if k.status is KeyStatus.ACTIVE:
                    self._install(k)
                changed = True
        self._pending = pending
        if changed:
            self._checks.clear()
            with self.store.transaction():
                self._save_keys()

    def _has_duplicates(self, key: KeyDef) -> bool:
        fn = key_value(self.key_wires(key))
        seen: set[Any] = set()
        for row in self.store.table(key.table).rows.values():
            v = fn(row)
            if v is not None:
                if v in seen:
                    return True
                seen.add(v)
        return False

    def _install(self, key: KeyDef) -> None:
        self.store.table(key.table).add_index(key.index, key_value(self.key_wires(key)))

    # -- change tracking and versions ----------------------------------------------------------

    def tracking(self, table: str) -> bool:
        return bool(self.store.get_meta("dv.tracking", {}).get(table, False))

    def set_tracking(self, table: str, on: bool) -> None:
        flags = dict(self.store.get_meta("dv.tracking", {}))
        flags[table] = on
        self.store.set_meta("dv.tracking", flags)

    def bulk(self, table: str) -> bool:
        """Whether the table takes the ``*Multiple`` messages: its definition says so and the
        ``bulk_messages`` setting has not withdrawn them."""
        return self.tables[table].multiple and table not in self.store.get_meta("dv.bulk_off", [])

    def set_bulk(self, table: str, on: bool) -> None:
        off = set(self.store.get_meta("dv.bulk_off", []))
        self.store.set_meta("dv.bulk_off", sorted(off - {table} if on else off | {table}))

    def next_version(self) -> int:
        """The next org-wide row version (one counter for all tables, like SQL rowversion)."""
        v = int(self.store.get_meta("dv.version", 1000)) + 1
        self.store.set_meta("dv.version", v)
        return v

    @property
    def version(self) -> int:
        return int(self.store.get_meta("dv.version", 1000))
