"""The seeds: demo contents and the large:N generator's shapes and totals (in-process)."""

from __future__ import annotations

from decimal import Decimal

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.dataverse import DataverseService


def test_demo_world() -> None:
    svc = DataverseService(SandboxConfig(data_dir=None, seed="demo"), None)
    org = svc.org
    lists = sorted(r["name"] for r in org.rows("pricelevel").rows.values())
    assert lists == ["CRM Service Europe (sample)", "CRM Service USA (sample)", "Retail USA"]
    units = {r["name"] for r in org.rows("uom").rows.values()}
    assert {"Primary Unit", "ea", "pcs"} <= units
    accounts = list(org.rows("account").rows.values())
    numbers = [a.get("accountnumber") for a in accounts if a.get("accountnumber")]
    assert len(accounts) == 30 and len(numbers) == 15 and len(set(numbers)) == 15
    quotes = [q["statecode"] for q in org.rows("quote").rows.values()]
    assert sorted(quotes) == [0, 0, 0, 1, 1, 1]
    assert all(o["statecode"] == 0 for o in org.rows("salesorder").rows.values())
    assert len(org.rows("systemuser")) >= 4
    again = DataverseService(SandboxConfig(data_dir=None, seed="demo"), None)
    assert set(again.org.rows("account").rows) == set(org.rows("account").rows)  # deterministic ids


def test_large_rows_have_the_writer_shape_and_consistent_totals() -> None:
    svc = DataverseService(SandboxConfig(data_dir=None, seed="empty"), None)
    svc.seed("large:400")
    org = svc.org
    assert len(org.rows("account")) == 400
    assert len(org.rows("product")) == 100
    assert len(org.rows("salesorder")) == 200
    accounts = list(org.rows("account").rows.values())
    assert set(accounts[0]) == set(accounts[1])  # the first went through the writer, the rest are copies
    orders = list(org.rows("salesorder").rows.values())
    assert set(orders[0]) == set(orders[-1])
    for order in orders[1:20]:
        lines = org.children("salesorderdetail", "_salesorderid_value", order["salesorderid"])
        assert len(lines) == 5
        assert order["totalamount"] == sum((line["extendedamount"] for line in lines), Decimal(0))
        assert set(lines[0]) == set(
            org.children("salesorderdetail", "_salesorderid_value", orders[0]["salesorderid"])[0]
        )
    versions = [
        r["versionnumber"] for t in ("account", "product", "salesorder") for r in org.rows(t).rows.values()
    ]
    assert len(set(versions)) == len(versions)
    assert max(versions) <= org.catalog.version
