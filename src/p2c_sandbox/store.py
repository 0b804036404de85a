"""In-memory tables with write-through SQLite persistence and nested transactions.

The emulators keep every row in memory (fast paged reads and bulk writes) and persist the rows a
request changed into one SQLite file when the outermost transaction commits, so data survives a
restart of the sandbox. A transaction can be nested (a ``$batch`` change set inside a request, an
``UpsertMultiple`` action); rolling one back restores exactly the rows it touched.

Rows are plain dicts. Keys starting with ``@`` are internal to the emulator (row sequence, version)
and never appear on the wire. ``Table.scan(after_seq)`` walks rows in creation order, which is what
server-side paging resumes from.

Example::

    >>> store = Store(None)
    >>> t = store.table("accounts")
    >>> with store.transaction():
    ...     t.put("1", {"name": "A"})
    >>> t.get("1")["name"]
    'A'
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from p2c_sandbox.http import dumps
from p2c_sandbox.rowfile import RowFile, StoredRow

__all__ = ["Row", "Store", "Table", "share_decimals"]

Row = dict[str, Any]
SEQ = "@seq"


class Table:
    """Rows of one table keyed by a string primary key, kept in creation order."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        self.rows: dict[str, Row] = {}
        self._order: list[int] = []  # ascending row sequence numbers (may hold deleted ones)
        self._by_seq: dict[int, str] = {}
        self.indexes: dict[str, dict[Any, str]] = {}
        self._index_fns: dict[str, Callable[[Row], Any]] = {}
        # non-unique indexes: key -> {pk: None} (an ordered set), e.g. an order's lines
        self.groups: dict[str, dict[Any, dict[str, None]]] = {}
        self._group_fns: dict[str, Callable[[Row], Any]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, pk: str) -> Row | None:
        return self.rows.get(pk)

    def add_index(self, name: str, key_fn: Callable[[Row], Any]) -> None:
        """A unique lookup index; ``key_fn`` returns ``None`` for rows outside the index."""
        self._index_fns[name] = key_fn
        idx: dict[Any, str] = {}
        for pk, row in self.rows.items():
            k = key_fn(row)
            if k is not None:
                idx[k] = pk
        self.indexes[name] = idx

    def drop_index(self, name: str) -> None:
        self._index_fns.pop(name, None)
        self.indexes.pop(name, None)

    def lookup(self, index: str, key: Any) -> str | None:
        return self.indexes[index].get(key)

    def add_group(self, name: str, key_fn: Callable[[Row], Any]) -> None:
        """A non-unique index (rows by a column's value), kept current by every write and rollback."""
        self._group_fns[name] = key_fn
        groups: dict[Any, dict[str, None]] = {}
        for pk, row in self.rows.items():
            k = key_fn(row)
            if k is not None:
                groups.setdefault(k, {})[pk] = None
        self.groups[name] = groups

    def has_group(self, name: str) -> bool:
        return name in self._group_fns

    def group(self, name: str, key: Any) -> list[str]:
        """Primary keys of the rows whose ``name`` index key is ``key`` (any order)."""
        found = self.groups[name].get(key)
        return list(found) if found else []

    def put(self, pk: str, row: Row) -> Row:
        """Insert or replace a row (the dict is stored as given)."""
        old = self.rows.get(pk)
        self.store._undo_log(self, pk, old)
        if old is None:
            seq = self.store.next_seq()
            row[SEQ] = seq
            self._order.append(seq)
            self._by_seq[seq] = pk
        else:
            row[SEQ] = old[SEQ]
            self._unindex(pk, old)
        self.rows[pk] = row
        self._index(pk, row)
        self.store._dirty(self, pk, old is not None)
        return row

    def delete(self, pk: str) -> Row | None:
        old = self.rows.get(pk)
        if old is None:
            return None
        self.store._undo_log(self, pk, old)
        del self.rows[pk]
        self._by_seq.pop(old[SEQ], None)
        self._unindex(pk, old)
        self.store._dirty(self, pk, True)
        return old

    def _index(self, pk: str, row: Row) -> None:
        for name, fn in self._index_fns.items():
            k = fn(row)
            if k is not None:
                self.indexes[name][k] = pk
        for name, fn in self._group_fns.items():
            k = fn(row)
            if k is not None:
                self.groups[name].setdefault(k, {})[pk] = None

    def _unindex(self, pk: str, row: Row) -> None:
        for name, fn in self._index_fns.items():
            k = fn(row)
            if k is not None and self.indexes[name].get(k) == pk:
                del self.indexes[name][k]
        for name, fn in self._group_fns.items():
            k = fn(row)
            if k is not None:
                bucket = self.groups[name].get(k)
                if bucket is not None:
                    bucket.pop(pk, None)
                    if not bucket:
                        del self.groups[name][k]

    def _restore(self, pk: str, old: Row | None) -> None:
        """Undo one change without logging it (used by rollback)."""
        cur = self.rows.get(pk)
        if cur is not None:
            self._unindex(pk, cur)
            if old is None:
                del self.rows[pk]
                self._by_seq.pop(cur[SEQ], None)
        if old is not None:
            seq = old[SEQ]
            if seq not in self._by_seq:
                self._by_seq[seq] = pk
                bisect.insort(self._order, seq)
            self.rows[pk] = old
            self._index(pk, old)
        self.store._dirty(self, pk, cur is not None)

    def scan(self, after_seq: int = 0) -> Iterator[Row]:
        """Rows in creation order, starting after the row with sequence ``after_seq``."""
        order = self._order
        if len(order) > 2 * len(self._by_seq) + 1024:
            self._order = order = [s for s in order if s in self._by_seq]
        start = bisect.bisect_right(order, after_seq)
        by_seq, rows = self._by_seq, self.rows
        for i in range(start, len(order)):
            pk = by_seq.get(order[i])
            if pk is not None:
                row = rows.get(pk)
                if row is not None:
                    yield row

    def clear(self) -> None:
        for pk in list(self.rows):
            self.delete(pk)


class Store:
    """All tables of one emulated service, persisted in one SQLite file (or memory only).

    ``decode`` turns a persisted row (JSON: decimals as numbers) back into the emulator's types.
    """

    def __init__(self, path: Path | None, decode: Callable[[str, Row], Row] | None = None) -> None:
        self.path = path
        self.tables: dict[str, Table] = {}
        self.meta: dict[str, Any] = {}
        self._seq = 0
        self._undo: list[tuple[Table, str, Row | None]] | None = None
        self._meta_undo: list[tuple[str, Any]] | None = None
        self._depth = 0
        self._deferred = 0  # inside deferred(): commits persist when it ends, not each on its own
        # (table, pk) -> whether the row was in memory when it was first changed since the last
        # flush, i.e. whether SQLite holds it: flush() updates those in place and inserts the rest
        self._dirty_rows: dict[tuple[str, str], bool] = {}
        self._dirty_meta: set[str] = set()
        self._decode = decode
        self.lock = threading.RLock()
        self.file = RowFile(path) if path is not None else None

    # -- tables and metadata -------------------------------------------------------------------

    def table(self, name: str) -> Table:
        t = self.tables.get(name)
        if t is None:
            t = self.tables[name] = Table(self, name)
        return t

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def get_meta(self, key: str, default: Any = None) -> Any:
        return self.meta.get(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        if self._meta_undo is not None:
            self._meta_undo.append((key, self.meta.get(key, _MISSING)))
        self.meta[key] = value
        self._dirty_meta.add(key)

    # -- persistence ---------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        if self.file is None:
            return not self.tables
        return self.file.is_empty

    def load(self) -> None:
        """Read every persisted row and metadata entry into memory."""
        if self.file is None:
            return
        for key, value in self.file.meta():
            self.meta[key] = orjson.loads(value)
        decode = self._decode
        max_seq = 0
        for tbl, pk, seq, data in self.file.rows():
            row = orjson.loads(data)
            if decode is not None:
                row = decode(tbl, row)
            row[SEQ] = seq
            t = self.table(tbl)
            t.rows[pk] = row
            t._order.append(seq)
            t._by_seq[seq] = pk
            max_seq = max(max_seq, seq)
        self._seq = max(self._seq, max_seq)
        for t in self.tables.values():
            for name, fn in t._index_fns.items():
                t.indexes[name] = {k: pk for pk, r in t.rows.items() if (k := fn(r)) is not None}
            for name, fn in list(t._group_fns.items()):
                t.add_group(name, fn)

    def wipe(self) -> None:
        """Forget every row and metadata entry, in memory and on disk."""
        for t in self.tables.values():
            t.rows.clear()
            t._order.clear()
            t._by_seq.clear()
            for name in t.indexes:
                t.indexes[name] = {}
            for name in t.groups:
                t.groups[name] = {}
        self.meta.clear()
        self._dirty_rows.clear()
        self._dirty_meta.clear()
        if self.file is not None:
            self.file.wipe()

    def flush(self, rows_only: bool = False) -> None:
        """Write the rows and metadata changed since the last flush, in one SQLite transaction.

        Rows are serialised and written a chunk at a time: a seed of millions of rows never holds
        all their JSON at once (the peak memory of seeding ``large:N`` stays that of the rows).
        """
        if self.file is None:
            self._dirty_rows.clear()
            self._dirty_meta.clear()
            return
        if not self._dirty_rows and not self._dirty_meta:
            return
        file = self.file
        with file.transaction():
            new: list[StoredRow] = []
            old: list[StoredRow] = []
            dels: list[tuple[str, str]] = []
            for (tbl, pk), existed in self._dirty_rows.items():
                row = self.tables[tbl].rows.get(pk)
                if row is None:
                    dels.append((tbl, pk))
                    continue
                # as it is, "@seq" included (not copied without it: 15 000 rows a batch of PATCHes);
                # load() sets it from the seq column anyway. A row in memory at the last flush is in
                # the file: it is updated in place, the others inserted
                rows = old if existed else new
                rows.append((tbl, pk, row[SEQ], dumps(row)))
                if len(rows) >= _FLUSH_CHUNK:
                    (file.update if existed else file.insert)(rows)
                    rows.clear()
            file.delete(dels)
            file.insert(new)
            file.update(old)
            if not rows_only:
                file.put_meta((k, dumps(self.meta[k])) for k in self._dirty_meta if k in self.meta)
        self._dirty_rows.clear()
        if not rows_only:
            self._dirty_meta.clear()

    def close(self) -> None:
        if self.file is not None:
            self.flush()
            self.file.close()
            self.file = None

    # -- transactions --------------------------------------------------------------------------

    def _undo_log(self, table: Table, pk: str, old: Row | None) -> None:
        if self._undo is not None:
            self._undo.append((table, pk, old))

    def _dirty(self, table: Table, pk: str, existed: bool) -> None:
        self._dirty_rows.setdefault((table.name, pk), existed)

    def flush_rows_if_many(self, limit: int = 100_000) -> None:
        """Persist the pending row writes once there are ``limit`` of them, outside transactions.

        A volume seed calls it between two documents, so what waits to be written never holds a
        whole seed. Metadata stays pending until the seed's final flush: a crash in the middle
        leaves no metadata, so the next start sees an empty store and seeds again.
        """
        if len(self._dirty_rows) >= limit and not self._depth and not self._deferred:
            self.flush(rows_only=True)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing: an exception rolls back every row and metadata change made inside.

        Nested transactions roll back only their own part. The outermost commit persists.
        """
        with self.lock:
            outer = self._depth == 0
            if outer:
                self._undo, self._meta_undo = [], []
            assert self._undo is not None and self._meta_undo is not None
            mark, meta_mark = len(self._undo), len(self._meta_undo)
            self._depth += 1
            try:
                yield
            except BaseException:
                self._rollback_to(mark, meta_mark)
                raise
            finally:
                self._depth -= 1
                if outer:
                    self._undo = self._meta_undo = None
            if outer and not self._deferred:
                self.flush()

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Persist once at the end instead of after each transaction inside (a ``$batch`` of 1 000
        single operations is 1 000 transactions: one SQLite commit each cost more than the work).

        Transactions inside keep their all-or-nothing meaning in memory, which is what every reader
        sees; only the write to SQLite is grouped.
        """
        with self.lock:
            self._deferred += 1
            try:
                yield
            finally:
                self._deferred -= 1
                if not self._deferred and not self._depth:
                    self.flush()

    def _rollback_to(self, mark: int, meta_mark: int) -> None:
        assert self._undo is not None and self._meta_undo is not None
        while len(self._undo) > mark:
            table, pk, old = self._undo.pop()
            table._restore(pk, old)
        while len(self._meta_undo) > meta_mark:
            key, old = self._meta_undo.pop()
            if old is _MISSING:
                self.meta.pop(key, None)
            else:
                self.meta[key] = old
            self._dirty_meta.add(key)


_MISSING = object()


def share_decimals(row: Row, pool: dict[tuple[Decimal, int], Decimal]) -> Row:
    """Replace each Decimal of ``row`` by the pool's equal one (same digits after the point).

    A volume seed's rows repeat the same quantities, prices and zeros millions of times; one
    object per distinct value instead of one per row saves a tenth of the seed's memory.
    """
    for name, value in row.items():
        if type(value) is Decimal:
            exp = value.as_tuple().exponent
            row[name] = pool.setdefault((value, exp if isinstance(exp, int) else 0), value)
    return row


_FLUSH_CHUNK = 5000
