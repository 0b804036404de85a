"""The SQLite file behind a :class:`~p2c_sandbox.store.Store`: rows as JSON, and metadata.

One table ``rows (tbl, pk, seq, data)`` with the primary key ``(tbl, pk)``, one ``meta (key,
value)``. The store decides what to write and when (after each outermost transaction, or once per
``$batch``); this module only writes it, in one SQLite transaction per flush.

Example::

    f = RowFile(Path("crm.sqlite"))
    with f.transaction():
        f.insert([("account", "1", 1, b'{"name": "A"}')])
    [(tbl, pk, seq) for tbl, pk, seq, _ in f.rows()]  # [('account', '1', 1)]
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["RowFile", "StoredRow"]

#: (table, primary key, row sequence, the row as JSON)
StoredRow = tuple[str, str, int, bytes]

_INSERT = (
    "INSERT INTO rows (tbl, pk, seq, data) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (tbl, pk) DO UPDATE SET seq = excluded.seq, data = excluded.data"
)
# an update in place: the upsert above cost 2.5 times as much for a row the file holds (every
# PATCH of an order line is one), and INSERT OR REPLACE (delete, insert again) three times
_UPDATE = "UPDATE rows SET seq = ?3, data = ?4 WHERE tbl = ?1 AND pk = ?2"


class RowFile:
    """One SQLite file of rows and metadata, written through one connection."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # checkpoint every 40 MB of log rather than 4 MB: a batch of PATCHes rewrites rows all
        # over the file, and each checkpoint copied the same index pages again (half a commit's CPU)
        self._db.execute("PRAGMA wal_autocheckpoint=10000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS rows (tbl TEXT NOT NULL, pk TEXT NOT NULL, seq INTEGER NOT NULL,"
            " data BLOB NOT NULL, PRIMARY KEY (tbl, pk))"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)")

    @property
    def is_empty(self) -> bool:
        return self._db.execute("SELECT 1 FROM meta LIMIT 1").fetchone() is None

    def meta(self) -> Iterator[tuple[str, bytes]]:
        yield from self._db.execute("SELECT key, value FROM meta")

    def rows(self) -> Iterator[StoredRow]:
        """Every row, in creation order."""
        yield from self._db.execute("SELECT tbl, pk, seq, data FROM rows ORDER BY seq")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def insert(self, rows: list[StoredRow]) -> None:
        """Rows the file may not hold yet (an existing one is replaced)."""
        if rows:
            self._db.executemany(_INSERT, rows)

    def update(self, rows: list[StoredRow]) -> None:
        """Rows the file should hold: updated in place. Should one be missing after all, they are
        all written again as inserts, so nothing is lost on a wrong guess."""
        if rows and self._db.executemany(_UPDATE, rows).rowcount != len(rows):
            self._db.executemany(_INSERT, rows)

    def delete(self, keys: list[tuple[str, str]]) -> None:
        if keys:
            self._db.executemany("DELETE FROM rows WHERE tbl = ? AND pk = ?", keys)

    def put_meta(self, items: Iterable[tuple[str, bytes]]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", items)

    def wipe(self) -> None:
        self._db.execute("DELETE FROM rows")
        self._db.execute("DELETE FROM meta")

    def close(self) -> None:
        self._db.close()
