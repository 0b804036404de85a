"""The store's SQLite file: what a restart reads back after rows were created, changed and deleted."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from p2c_sandbox.store import Store


def test_a_changed_row_is_read_back_changed_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = Store(path)
    t = store.table("salesorderdetail")
    with store.transaction():
        t.put("1", {"name": "first", "amount": Decimal("1.50")})
        t.put("2", {"name": "second"})
        t.put("3", {"name": "gone"})
    with store.deferred():  # a $batch of single operations: one flush at its end
        with store.transaction():
            t.put("1", {"name": "first, changed", "amount": Decimal("2.25")})
        with store.transaction():
            t.delete("3")
    seqs = {pk: row["@seq"] for pk, row in t.rows.items()}
    store.close()

    again = Store(path)
    again.load()
    rows = again.table("salesorderdetail").rows
    assert set(rows) == {"1", "2"}
    assert rows["1"]["name"] == "first, changed" and rows["1"]["amount"] == 2.25
    assert rows["2"]["name"] == "second"
    assert {pk: row["@seq"] for pk, row in rows.items()} == seqs  # creation order kept
    again.close()


def test_rows_changed_in_memory_reach_the_file_even_where_it_lost_them(tmp_path: Path) -> None:
    """A changed row the file should hold is updated in place; where it does not hold it (removed
    behind the store's back here), the flush writes it anyway. Deleted and re-created, rolled back,
    created in the same window: each ends as memory has it."""
    path = tmp_path / "store.db"
    store = Store(path)
    t = store.table("salesorder")
    with store.transaction():
        for pk in "abcd":
            t.put(pk, {"name": pk})
    sqlite3.connect(path).execute("DELETE FROM rows WHERE pk = 'b'").connection.commit()
    with store.deferred():
        with store.transaction():
            t.put("a", {"name": "a2"})
            t.put("b", {"name": "b2"})
        with store.transaction():
            t.delete("c")
            t.put("c", {"name": "c again"})
        try:
            with store.transaction():
                t.put("d", {"name": "never"})
                t.put("e", {"name": "never"})
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        with store.transaction():
            t.put("f", {"name": "f"})
    store.close()

    again = Store(path)
    again.load()
    names = {pk: row["name"] for pk, row in again.table("salesorder").rows.items()}
    assert names == {"a": "a2", "b": "b2", "c": "c again", "d": "d", "f": "f"}
    again.close()
