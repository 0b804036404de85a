"""Small tables read whole together (reference tables: currencies, units): one request into
Dataverse for all of them, a table over the bound given as None, the rows a plain read gives."""

from __future__ import annotations

from typing import Any

from p2c.connectors import Connector
from p2c.connectors.dataverse import DataverseConnector
from p2c.connectors.fno import FnoConnector


def _plain(conn: Connector, entity: str, select: list[str]) -> list[dict[str, Any]]:
    return [row for page in conn.read(entity, select=select) for row in page]


def test_dataverse_reads_several_tables_whole_in_one_request(crm: DataverseConnector) -> None:
    tables = [
        ("transactioncurrencies", ["isocurrencycode", "transactioncurrencyid"]),
        ("uoms", ["name", "uomid"]),
    ]
    expected = [_plain(crm, entity, select) for entity, select in tables]
    before = crm.stats["requests"]
    got = crm.read_tables(tables, limit=5000)
    assert crm.stats["requests"] - before == 1
    assert [[{k: r[k] for k in s} for r in rows or []] for rows, (_, s) in zip(got, tables, strict=True)] == [
        [{k: r[k] for k in s} for r in rows] for rows, (_, s) in zip(expected, tables, strict=True)
    ]
    assert all(rows for rows in expected)  # the sandbox's org has both
    # a table with more rows than the bound is None; the other is read as before
    units = len(expected[1])
    assert units > 1 and len(expected[0]) < units
    small, large = crm.read_tables(tables, limit=units - 1)
    assert large is None and small is not None and len(small) == len(expected[0])


def test_fno_reads_several_tables_whole(erp: FnoConnector) -> None:
    tables = [("CustomerGroups", ["dataAreaId", "CustomerGroupId"])]
    (expected,) = [_plain(erp, entity, select) for entity, select in tables]
    assert len(expected) > 2
    (got,) = erp.read_tables(tables, limit=len(expected))
    assert got is not None and [(r["dataAreaId"], r["CustomerGroupId"]) for r in got] == [
        (r["dataAreaId"], r["CustomerGroupId"]) for r in expected
    ]
    assert erp.read_tables(tables, limit=len(expected) - 1) == [None]
