"""One emulated Dataverse organisation: the store, the catalogue and the lookups every part needs.

:class:`Org` is what reads, writes, metadata and actions share: finding a row by id or alternate
key, the children of a row (lines of a header, contacts of an account) through a cached parent
index, the base currency, the organisation row, and the calling user. All row writes go through
:meth:`Org.put` and :meth:`Org.delete` so the caches and the tombstone log (deleted rows, for
change tracking) stay right.

Example::

    >>> from p2c_sandbox.store import Store
    >>> org = Org(Store(None))
    >>> org.find(org.catalog.table("account"), "00000000-0000-0000-0000-000000000001") is None
    True
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import Decimal
from operator import itemgetter
from typing import Any

from p2c_sandbox.dataverse.catalog import Catalog
from p2c_sandbox.dataverse.errors import Code, DataverseError, bad_request, not_found_by_id, not_found_by_key
from p2c_sandbox.dataverse.schema import TableDef
from p2c_sandbox.dataverse.urls import KeySpec
from p2c_sandbox.dataverse.values import coerce
from p2c_sandbox.store import Row, Store, Table

__all__ = ["APP_USER_ID", "BUSINESS_UNIT_ID", "ORGANIZATION_ID", "Org"]

#: The application user the sandbox's client credentials act as (WhoAmI, createdby, ownerid).
APP_USER_ID = "a7c1e6a1-0b0e-4f5e-9a5a-00000000a001"
BUSINESS_UNIT_ID = "a7c1e6a1-0b0e-4f5e-9a5a-00000000b001"
ORGANIZATION_ID = "a7c1e6a1-0b0e-4f5e-9a5a-00000000c001"


def tombstones(name: str) -> str:
    """Store table holding ``{id, v}`` for each deleted row of ``name``."""
    return f"{name}~deleted"


def fold(value: Any) -> Any:
    """An index key: text case-folded (Dataverse compares text case-insensitively), else the value."""
    return value.casefold() if isinstance(value, str) else value


_seq = itemgetter("@seq")


class Org:
    """Data access shared by the emulator's parts."""

    def __init__(self, store: Store, activation_seconds: float = 0.5) -> None:
        self.store = store
        self.catalog = Catalog(store, activation_seconds)
        ppl = store.table("productpricelevel")
        ppl.add_index(
            "ppl",
            lambda r: (r.get("_pricelevelid_value"), r.get("_productid_value"), r.get("_uomid_value")),
        )

    # -- transactions and caches ---------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        """The store's transaction (handed out as is: one context manager less per write)."""
        return self.store.transaction()

    def reset_caches(self) -> None:
        self.catalog.reload()

    # -- rows ----------------------------------------------------------------------------------

    def rows(self, table: str) -> Table:
        return self.store.table(table)

    def get(self, table: str, pk: str | None) -> Row | None:
        return None if pk is None else self.store.table(table).get(pk)

    def put(self, t: TableDef, row: Row, old: Row | None) -> Row:
        pk = row[t.pk]
        self.store.table(t.name).put(pk, row)
        if old is None:
            self.store.table(tombstones(t.name)).delete(pk)
        return row

    def delete(self, t: TableDef, row: Row, version: int) -> None:
        pk = row[t.pk]
        self.store.table(t.name).delete(pk)
        self.store.table(tombstones(t.name)).put(pk, {"id": pk, "v": version})

    def children(self, child: str, wire: str, parent_id: str) -> list[Row]:
        """Rows of ``child`` whose ``wire`` column (``_x_value``) is ``parent_id``, in creation order."""
        return self.with_value(child, wire, parent_id)

    def with_value(self, table: str, column: str, value: Any) -> list[Row]:
        """Rows of ``table`` whose ``column`` equals ``value`` (text compared case-insensitively, as
        Dataverse does), in creation order: served by an index on the column, built on first use and
        kept current by every write and rollback (the store maintains it)."""
        rows = self.store.table(table)
        name = "v:" + column
        if not rows.has_group(name):
            rows.add_group(name, lambda r: fold(r.get(column)))
        get = rows.rows.get
        found = [row for pk in rows.group(name, fold(value)) if (row := get(pk)) is not None]
        found.sort(key=_seq)
        return found

    # -- finding rows by key -------------------------------------------------------------------

    def find(self, t: TableDef, key: KeySpec) -> Row | None:
        """The row named by a GUID or an alternate key (which must exist and be Active)."""
        rows = self.store.table(t.name)
        if isinstance(key, str):
            return rows.get(key)
        if len(key) == 1 and t.pk in key:
            pk = key[t.pk]
            return rows.get(pk) if isinstance(pk, str) else None
        index, value = self.key_lookup(t, key)
        pk = rows.lookup(index, value)
        return None if pk is None else rows.get(pk)

    def require(self, t: TableDef, key: KeySpec) -> Row:
        row = self.find(t, key)
        if row is None:
            if isinstance(key, str) or (len(key) == 1 and t.pk in key):
                pk = key if isinstance(key, str) else key[t.pk]
                raise not_found_by_id(t.name, str(pk))
            raise not_found_by_key(t.name)
        return row

    def key_lookup(self, t: TableDef, key: dict[str, Any]) -> tuple[str, Any]:
        """``(index name, normalised value)`` of an alternate-key predicate."""
        by_wire = t.by_wire
        attrs: dict[str, Any] = {}
        for name, value in key.items():
            col = by_wire.get(name)
            if col is None or (col.is_lookup and name == col.name):
                raise self._bad_key(t)
            attrs[col.name] = value
        for k, index, value_of in self.catalog.key_checks(t.name):
            if set(k.attributes) == set(attrs):
                row = {}
                for a in k.attributes:
                    col = t.columns[a]
                    row[col.wire] = attrs[a] if col.is_lookup else coerce(col, attrs[a], t.name)
                return index, value_of(row)
        raise self._bad_key(t)

    def key_fields(self, t: TableDef, key: KeySpec) -> dict[str, Any]:
        """The ``{wire: stored value}`` a key predicate names (copied into a row an upsert creates)."""
        if isinstance(key, str):
            return {t.pk: key}
        out: dict[str, Any] = {}
        for name, value in key.items():
            col = t.by_wire[name]
            out[col.wire] = value if col.is_lookup else coerce(col, value, t.name)
        return out

    @staticmethod
    def _bad_key(t: TableDef) -> DataverseError:
        return bad_request(
            f"The key in the request URI is not valid for resource '{t.type_name}'. Make sure the names and "
            "number of key properties match the type of key defined for the resource.",
            Code.QUERY,
        )

    # -- organisation-wide data ----------------------------------------------------------------

    @property
    def org_row(self) -> Row:
        return self.store.table("organization").rows.get(ORGANIZATION_ID) or {}

    @property
    def base_currency_id(self) -> str | None:
        value = self.org_row.get("_basecurrencyid_value")
        return value if isinstance(value, str) else None

    def currency(self, currency_id: str | None) -> Row:
        row = self.get("transactioncurrency", currency_id or self.base_currency_id)
        return row or {"currencyprecision": 2, "exchangerate": Decimal(1), "currencysymbol": "$"}

    def precision(self, currency_id: str | None) -> int:
        return int(self.currency(currency_id).get("currencyprecision", 2))

    def symbol(self, currency_id: str | None) -> str:
        return str(self.currency(currency_id).get("currencysymbol", "$"))

    def setting(self, name: str, default: Any = None) -> Any:
        return self.org_row.get(name, default)

    def primary_name(self, table: str, pk: str | None) -> str | None:
        row = self.get(table, pk)
        if row is None:
            return None
        value = row.get(self.catalog.table(table).primary_name)
        return None if value is None else str(value)
