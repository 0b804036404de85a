"""The store's SQLite file: what a restart reads back after rows were created, changed and deleted."""

from __future__ import annotations

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
