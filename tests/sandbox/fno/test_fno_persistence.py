"""Data and number sequences survive a restart on the same store file; seeds."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.fno import FnoService
from p2c_sandbox.http import Request, loads

ROOT = "https://erp.test/data/"


def _post(svc: FnoService, path: str, body: dict) -> dict:
    r = svc.handle(Request("POST", path, body=json.dumps(body).encode(), service_root=ROOT))
    assert r.status == 201, r.body
    return dict(loads(r.body))


def test_a_new_service_on_the_same_store_sees_everything(tmp_path: Path) -> None:
    path = tmp_path / "erp.sqlite"
    cfg = SandboxConfig(data_dir=tmp_path)
    svc = FnoService(cfg, path)
    customer = _post(
        svc, "CustomersV3", {"OrganizationName": "Persisted", "CustomerGroupId": "10", "CreditLimit": 12.34}
    )
    order = _post(svc, "CDSSalesOrderHeaders", {"OrderingCustomerAccountNumber": customer["CustomerAccount"]})
    _post(
        svc, "CDSSalesOrderLines", {"SalesOrderNumber": order["SalesOrderNumber"], "ProductNumber": "D0001"}
    )
    svc.add_header_charge("usmf", order["SalesOrderNumber"], "5.00", "0.50")
    svc.calculate_totals("usmf", order["SalesOrderNumber"])
    svc.invoice_order("usmf", order["SalesOrderNumber"])
    svc.close()

    again = FnoService(cfg, path)
    got = again.handle(
        Request(
            "GET",
            f"CustomersV3(dataAreaId='usmf',CustomerAccount='{customer['CustomerAccount']}')",
            service_root=ROOT,
        )
    )
    body = loads(got.body)
    assert body["OrganizationName"] == "Persisted" and str(body["CreditLimit"]) == "12.34"
    assert body["@odata.etag"] == customer["@odata.etag"]
    header = again.data.get("CDSSalesOrderHeaders", "usmf", order["SalesOrderNumber"])
    assert header is not None and header["SalesOrderProcessingStatus"] == "Invoiced"
    assert header["OrderTotalAmount"] == Decimal("224.50")
    nxt = _post(again, "CustomersV3", {"CustomerGroupId": "10"})
    assert nxt["CustomerAccount"] == "US-007"
    nxt_order = _post(again, "CDSSalesOrderHeaders", {"OrderingCustomerAccountNumber": "US-001"})
    assert int(nxt_order["SalesOrderNumber"]) == int(order["SalesOrderNumber"]) + 1
    again.seed("empty")
    assert again.data.get("CustomersV3", "usmf", "US-001") is None
    again.close()
    assert FnoService(cfg, path).data.get("CustomerGroups", "usmf", "10") is not None


def test_large_seed_is_consistent_and_fast() -> None:
    svc = FnoService(SandboxConfig(data_dir=None, seed="empty"), None)
    started = time.perf_counter()
    svc.seed("large:2000")
    assert time.perf_counter() - started < 5
    counts = svc.table_counts()["sets"]
    assert counts["CustomersV3"] == {"usmf": 200}
    assert counts["SellableReleasedProducts"] == {"usmf": 500}
    assert counts["CDSSalesOrderHeaders"] == {"usmf": 1000}
    assert counts["CDSSalesOrderLines"] == {"usmf": 5000}
    invoiced = svc.data.rows(svc.data.sets["CDSSalesOrderHeaders"], "usmf")
    assert sum(1 for h in invoiced if h["SalesOrderProcessingStatus"] == "Invoiced") == 200
    assert len(svc.data.table("CustInvoiceJour").rows) == 200
    number = "L0000009"  # an open one (orders ending in 6-9 are open)
    svc.confirm_order("usmf", number)  # rows built directly still work with the business actions
    assert svc.invoice_order("usmf", number)["InvoiceNumber"] == "CIV-000201"


@pytest.mark.parametrize("spec", ["bogus", "large:x", "large"])
def test_bad_seed_specs(spec: str) -> None:
    svc = FnoService(SandboxConfig(data_dir=None, seed="empty"), None)
    with pytest.raises(ValueError):
        svc.seed(spec)
