"""The emulator's data: stored tables behind the entity sets, key indexes, views, number sequences, caches.

Each stored row carries two persisted internal fields: ``_recid`` (its RecId, also its primary key
in the store) and ``_ver`` (its record version, bumped on every write; the ETag is derived from
both). Rows are never changed in place: :meth:`Data.update` copies, changes and puts, so a row
object's identity stands for its content and the per-row JSON cache can check it with ``is``.

Example::

    >>> from p2c_sandbox.store import Store
    >>> from p2c_sandbox.fno.releases import release
    >>> data = Data(Store(None), release("10.0.40"), "usmf")
    >>> es = data.sets["CustomerGroups"]
    >>> with data.transaction():
    ...     _ = data.insert(es.table, {"dataAreaId": "usmf", "CustomerGroupId": "10"})
    >>> data.find(es, {"dataAreaId": "USMF", "CustomerGroupId": "10"})["CustomerGroupId"]
    '10'
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from threading import get_ident
from typing import Any

import orjson

from p2c_sandbox.fno.entities import ENTITY_SETS, EntitySet, Kind, Prop
from p2c_sandbox.fno.releases import Release
from p2c_sandbox.fno.stored import INDEX_NAMES, RECID, VERSION, etag, group_key, index_name, key_fn, key_part
from p2c_sandbox.fno.values import to_wire
from p2c_sandbox.store import Row, Store, Table

__all__ = ["Data"]

_FIRST_RECID = 5637144576  # RecIds in a real database start here
_JSON_CACHE_BYTES = 64 << 20  # per entity set


class Data:
    """All rows of one emulated F&O environment, with the lookups the service and actions need."""

    def __init__(self, store: Store, rel: Release, default_company: str) -> None:
        self.store = store
        self.release = rel
        self.default_company = default_company.lower()
        self.sets: dict[str, EntitySet] = {n: es for n, es in ENTITY_SETS.items() if rel.has_set(n)}
        # per-table change counters (bumped by every write, and for all tables by a rollback): the
        # sorted-rows cache keys on them; the group indexes are maintained by the writes themselves
        self._tv: dict[str, int] = defaultdict(int)
        self._sorted: dict[tuple[str, str | None], tuple[tuple[int, ...], list[Row]]] = {}
        self._queries: dict[tuple[Any, ...], _Query] = {}
        # get()'s answers by its arguments, with the table version they were read at (stale once
        # it moves: a write of the table or any rollback; forget_caches() drops them)
        self._gets: dict[tuple[Any, ...], tuple[int, Row | None]] = {}
        self._watched: dict[str, dict[tuple[Any, ...], None]] = {}  # table → queries kept across writes
        # our open transactions and their thread (only it, holding the store's lock, changes these)
        self._open = 0
        self._owner: int | None = None
        self.watched_min_rows = WATCHED_MIN_ROWS
        self._json: dict[str, dict[str, tuple[Row, bytes]]] = {n: {} for n in ENTITY_SETS}
        self._json_bytes: dict[str, int] = {}
        # per entity set and fixed by the release: the visible properties, their wire defaults in
        # $metadata order (the templates of wire() put them behind its annotations), the decimal
        # ones, and the stored table (the Store never replaces a Table object)
        self._fields: dict[str, dict[str, Prop]] = {}
        self._wire_defaults: dict[str, dict[str, Any]] = {}
        self._wire_templates: dict[tuple[str, bool], dict[str, Any]] = {}
        self._decimals: dict[str, frozenset[str]] = {}
        self._tables: dict[str, Table] = {}
        for es in ENTITY_SETS.values():
            hidden = rel.hidden_props(es.name)
            fields = {p.name: p for p in es.props if p.name not in hidden}
            self._fields[es.name] = fields
            defaults = {name: to_wire(p.default) for name, p in fields.items()}
            self._wire_defaults[es.name] = defaults
            self._wire_templates[es.name, False] = {"@odata.etag": None, **defaults}
            self._wire_templates[es.name, True] = {"@odata.context": None, "@odata.etag": None, **defaults}
            self._decimals[es.name] = frozenset(n for n, p in fields.items() if p.kind is Kind.DECIMAL)
            table = self._tables[es.name] = store.table(es.table)
            name = index_name(es)
            if name not in table._index_fns:
                table.add_index(name, key_fn(es))

    # -- structure ---------------------------------------------------------------------------------

    def table(self, name: str) -> Table:
        return self.store.table(name)

    def visible_props(self, es: EntitySet) -> list[str]:
        return list(self._wire_defaults[es.name])

    def fields(self, es: EntitySet) -> dict[str, Prop]:
        """The visible properties by name (shared: do not change it)."""
        return self._fields[es.name]

    def transaction(self) -> AbstractContextManager[None]:
        """The store's transaction; a rollback restores rows behind our back, so caches are dropped."""
        return _Transaction(self)

    def atomic(self) -> AbstractContextManager[None]:
        """A transaction unless one of ours is open already: for a write whose failure the caller
        answers with an error, which makes an enclosing transaction (a ``$batch`` change set)
        roll back all of it anyway; nesting would only pay for a second one."""
        return _NO_TRANSACTION if self._owner == get_ident() else _Transaction(self)

    def _invalidate(self) -> None:
        for name in list(self.store.tables):
            self._tv[name] += 1
        self._queries.clear()
        self._watched.clear()

    def _wrote(self, table: str, *rows: Row) -> None:
        """A write of ``table`` (the row before and after it): its version moves (the cached
        queries kept by version are stale), and the watched queries whose result ``rows`` may be
        among are dropped. Only large results are watched (``watched_min_rows``): a write asks
        each of them, and an initial load's many small lookups, all asked on every write, made
        the load 1.8x slower at large:100000."""
        self._tv[table] += 1
        watched = self._watched.get(table)
        if not watched:
            return
        for key in list(watched):
            q = self._queries.get(key)
            if q is None or q.among is None or any(q.among(r) for r in rows):
                self._queries.pop(key, None)
                del watched[key]

    def _versions(self, es: EntitySet) -> tuple[int, ...]:
        if es.view == "external_invoice":
            return (self._tv[es.table], self._tv["CustTable"])
        return (self._tv[es.table],)

    # -- lookups -----------------------------------------------------------------------------------

    def find(self, es: EntitySet, key: dict[str, Any], *, visible: bool = True) -> Row | None:
        """The row of ``es`` with these key values (dataAreaId and strings case-insensitive), if visible."""
        return self._lookup(es, [key[k] for k in es.keys], visible)

    def get(self, set_name: str, company: str | None, *values: Any, visible: bool = True) -> Row | None:
        """Shortcut for :meth:`find` by positional key values after dataAreaId.

        The answer is remembered until the next write of the set's table: the rules of one write
        ask for the same order header, product, unit or customer several times, and the writes of
        a ``$batch`` for the same ones again.
        """
        es = ENTITY_SETS[set_name]
        version = self._tv[es.table]
        asked = (set_name, company, values, visible)
        known = self._gets.get(asked)
        if known is not None and known[0] == version:
            return known[1]
        key = (company, *values) if es.company else values
        if len(key) != len(es.keys):
            raise ValueError(f"{set_name} has {len(es.keys)} key fields, got {len(key)} values")
        row = self._lookup(es, key, visible)
        if es.view != "external_invoice":  # whose visibility reads another table
            if len(self._gets) >= _GETS_MAX:
                self._gets.clear()
            self._gets[asked] = (version, row)
        return row

    def _lookup(self, es: EntitySet, key: Any, visible: bool) -> Row | None:
        """``key``: the key values in ``es.keys`` order; one index probe (validation makes many)."""
        table = self._tables[es.name]
        pk = table.indexes[INDEX_NAMES[es.name]].get(
            tuple([v.casefold() if isinstance(v, str) else v for v in key])
        )
        if pk is None:
            return None
        row = table.rows.get(pk)
        if row is None or (visible and es.view is not None and not self.visible(es, row)):
            return None
        return row

    def visible(self, es: EntitySet, row: Row) -> bool:
        if es.view is None:
            return True
        if es.view == "sellable":
            return bool(row.get("SalesUnitSymbol")) and bool(row.get("_distinct", True))
        if es.view == "external_invoice":
            account = row.get("InvoiceCustomerAccountNumber") or row.get("_customer", "")
            customer = self.get("CustomersV3", row["dataAreaId"], account)
            return customer is not None and customer.get("IsExternallyMaintained") == "Yes"
        raise AssertionError(es.view)

    def rows(self, es: EntitySet, company: str | None) -> list[Row]:
        """Visible rows of ``es`` (of one company, or all when ``company`` is None) in key order."""
        scope = company if es.company else None
        cache_key = (es.name, scope)
        versions = self._versions(es)
        cached = self._sorted.get(cache_key)
        if cached is not None and cached[0] == versions:
            return cached[1]
        out = self.sort(es, self._scan(es, scope))
        self._sorted[cache_key] = (versions, out)
        return out

    def select(self, es: EntitySet, company: str | None, predicate: Callable[[Row], bool]) -> list[Row]:
        """The visible rows of ``es`` (as :meth:`rows`) for which ``predicate`` holds, in key order.
        From the sorted rows when they are current; else the table is filtered first and only what
        is left is sorted."""
        scope = company if es.company else None
        cached = self._sorted.get((es.name, scope))
        if cached is not None and cached[0] == self._versions(es):
            return [r for r in cached[1] if predicate(r)]
        return self.sort(es, [r for r in self._scan(es, scope) if predicate(r)])

    def _scan(self, es: EntitySet, scope: str | None) -> Iterator[Row] | list[Row]:
        source: Iterator[Row] | list[Row] = iter(self.store.table(es.table).rows.values())
        if scope is not None:
            source = [r for r in source if r["dataAreaId"] == scope]
        if es.view is not None:
            source = [r for r in source if self.visible(es, r)]
        return source

    @staticmethod
    def sort(es: EntitySet, source: Iterator[Row] | list[Row]) -> list[Row]:
        """``source`` in key order."""
        try:
            # key fields are always stored, so a C-level getter sorts 250 000 lines in a blink; the
            # order is then case-sensitive where SQL's collation is not (only mixed-case keys differ)
            return sorted(source, key=itemgetter(*es.keys))
        except (KeyError, TypeError):
            keys = es.keys
            return sorted(source, key=lambda r: tuple(key_part(r.get(k, "")) for k in keys))

    def query_cache(
        self,
        es: EntitySet,
        key: tuple[Any, ...],
        compute: Callable[[], list[Row]],
        among: Callable[[Row], bool] | None = None,
    ) -> list[Row]:
        """Filtered and sorted rows of ``es`` for one query shape, until a write may change them.

        Clients page with the same ``$filter``/``$orderby`` and growing ``$skip``; without this each
        page would filter and sort the whole table again. ``among`` tells whether a row may be in
        the result (in the query's company, visible, its filter true): a write of a row that is
        not, before or after it, keeps the query (an order line written for a CRM order keeps the
        read of the ERP's own lines, which would otherwise filter 250 000 lines again). Without
        ``among`` (a view that reads other tables) any write of the set's tables drops it.
        """
        versions = self._versions(es)
        hit = self._queries.get(key)
        if hit is not None and (hit.among is not None or hit.versions == versions):
            return hit.rows
        if len(self._queries) > 64:
            self._queries.clear()
            self._watched.clear()
        rows = compute()
        if among is not None and len(rows) < self.watched_min_rows:
            among = None  # kept by version: not asked on every write of its table
        self._queries[key] = _Query(versions, rows, among)
        if among is not None:
            self._watched.setdefault(es.table, {})[key] = None
        return rows

    def children(self, table: str, company: str, field: str, value: str) -> list[Row]:
        """Rows of ``table`` whose ``field`` equals ``value`` (case-insensitive), e.g. an order's lines,
        in creation order.

        Served by a group index of the store, built on first use and kept current by every write
        and rollback, so neither a batch of line writes nor a failed change set rescans the table.
        """
        rows = self.store.table(table)
        name = "g:" + field
        if not rows.has_group(name):
            rows.add_group(name, lambda r: group_key(r, field))
        all_rows = rows.rows
        found = [all_rows[pk] for pk in rows.group(name, (company, value.casefold())) if pk in all_rows]
        if len(found) > 1:
            found.sort(key=_seq)
        return found

    # -- writes ------------------------------------------------------------------------------------

    def insert(self, table: str, row: Row) -> Row:
        recid = int(self.store.get_meta("recid", _FIRST_RECID)) + 1
        self.store.set_meta("recid", recid)
        row[RECID] = recid
        row[VERSION] = 1
        self._wrote(table, row)
        return self.store.table(table).put(str(recid), row)

    def update(self, table: str, row: Row, changes: dict[str, Any]) -> Row:
        new = {k: v for k, v in row.items() if not k.startswith("@")}
        new.update(changes)
        new[VERSION] = int(row.get(VERSION, 0)) + 1
        self._wrote(table, row, new)
        pk = str(row[RECID])
        return self.store.table(table).put(pk, new)

    def delete(self, table: str, row: Row) -> None:
        self._wrote(table, row)
        pk = str(row[RECID])
        self.store.table(table).delete(pk)

    def next_number(self, company: str, sequence: str, render: Callable[[int], str]) -> str:
        """The next value of a per-company number sequence, skipping values already taken."""
        meta_key = f"numseq:{company}:{sequence}"
        number = int(self.store.get_meta(meta_key, 0)) + 1
        self.store.set_meta(meta_key, number)
        return render(number)

    def set_counter(self, company: str, sequence: str, value: int) -> None:
        self.store.set_meta(f"numseq:{company}:{sequence}", value)

    # -- wire form -------------------------------------------------------------------------------

    def wire(self, es: EntitySet, row: Row, context: str | None = None) -> dict[str, Any]:
        """The full JSON object of a row: the ETag, then every property in $metadata order; with
        ``context``, an ``@odata.context`` first (a POST's answer: one dict, not a copy of this one)."""
        # a copy of the template (keys in their final order) is much cheaper than inserting them
        out = self._wire_templates[es.name, context is not None].copy()
        if context is not None:
            out["@odata.context"] = context
        out["@odata.etag"] = etag(row)
        visible, decimals = self._wire_defaults[es.name], self._decimals[es.name]
        for name, value in row.items():
            if name in visible:
                out[name] = to_wire(value) if type(value) is Decimal and name in decimals else value
        return out

    def row_json(self, es: EntitySet, row: Row) -> bytes:
        cache = self._json[es.name]
        pk = str(row[RECID])
        hit = cache.get(pk)
        if hit is not None and hit[0] is row:
            return hit[1]
        body = orjson.dumps(self.wire(es, row))
        # bounded: an order line is ~30 KB of JSON (every property of the entity), so reading
        # 250 000 lines kept 7 GB; past the budget the set's cache starts again
        size = self._json_bytes.get(es.name, 0) + len(body)
        if size > _JSON_CACHE_BYTES:
            cache.clear()
            size = len(body)
        self._json_bytes[es.name] = size
        cache[pk] = (row, body)
        return body

    def forget_caches(self) -> None:
        """After rows were loaded or wiped behind the write methods (seeding, loading)."""
        self._sorted.clear()
        self._queries.clear()
        self._watched.clear()
        self._gets.clear()
        for cache in self._json.values():
            cache.clear()
        self._json_bytes.clear()
        self._invalidate()


_seq = itemgetter("@seq")
_NO_TRANSACTION = nullcontext()


class _Transaction:
    """:meth:`Data.transaction`: a plain class, as a ``$batch`` enters one per change set and a
    ``contextmanager`` generator costs twice as much; it also keeps :meth:`Data.atomic` informed."""

    __slots__ = ("data", "inner")

    def __init__(self, data: Data) -> None:
        self.data = data
        self.inner = data.store.transaction()

    def __enter__(self) -> None:
        self.inner.__enter__()
        data = self.data
        if not data._open:
            data._owner = get_ident()
        data._open += 1

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        data = self.data
        data._open -= 1
        if not data._open:
            data._owner = None
        try:
            suppressed = self.inner.__exit__(kind, exc, tb)
        except BaseException:  # leaving by an exception drops the caches, whoever raised it
            data._invalidate()
            raise
        if kind is not None and not suppressed:
            data._invalidate()
        return bool(suppressed)


#: a cached query result this large (a whole read of a table, paged with $skip) is kept across
#: writes that cannot change it; a smaller one is computed again after any write of its table
WATCHED_MIN_ROWS = 5000
_GETS_MAX = 10_000  # remembered get() answers; past it they start again


@dataclass
class _Query:
    """A cached query result (:meth:`Data.query_cache`): the versions of the set's tables it was
    computed at, and whether a row may be in it (None: any write of its table drops it)."""

    versions: tuple[int, ...]
    rows: list[Row]
    among: Callable[[Row], bool] | None
