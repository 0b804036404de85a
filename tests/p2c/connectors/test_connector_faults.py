"""Injected 429s, 503s and dropped connections: retried, honoured, never a record failure."""

from __future__ import annotations

from typing import Any

from connector_helpers import faults

from p2c.connectors import DataverseConnector, FnoConnector, OpKind, WriteOp


def test_dataverse_writes_complete_under_throttling_and_outages(
    sandbox: Any, crm: DataverseConnector, account_key: str
) -> None:
    crm.batch_size, crm.concurrency, crm.isolate_at = 25, 4, 4
    ops = [WriteOp(OpKind.UPSERT, {account_key: f"F-{n:04d}"}, {"name": f"Faulty {n}"}) for n in range(200)]
    ops[7] = WriteOp(OpKind.UPSERT, ops[7].key, {"name": "x" * 200})  # one genuinely bad row
    faults(sandbox, "crm", throttle_rate=0.2, error_rate=0.1, error_status=503, retry_after=1, seed=1)
    results = crm.write("accounts", ops)
    faults(sandbox, "crm")
    assert [n for n, r in enumerate(results) if not r.ok] == [7]
    stats = crm.stats
    assert stats["throttled"] > 0 and stats["retries"] > stats["throttled"]
    rows = [
        r
        for p in crm.read("accounts", select=["accountnumber"], filter="startswith(accountnumber,'F-')")
        for r in p
    ]
    assert len(rows) == 199


def test_fno_writes_complete_under_throttling_outages_and_drops(sandbox: Any, erp: FnoConnector) -> None:
    erp.batch_size, erp.concurrency = 20, 4
    ops = [
        WriteOp(
            OpKind.UPSERT,
            {"dataAreaId": "usmf", "CustomerAccount": f"F-{n:04d}"},
            {"OrganizationName": f"Faulty {n}", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"},
        )
        for n in range(120)
    ]
    faults(
        sandbox,
        "erp",
        throttle_rate=0.2,
        error_rate=0.1,
        error_status=503,
        drop_every=7,
        retry_after=1,
        seed=2,
    )
    results = erp.write("CustomersV3", ops)
    faults(sandbox, "erp")
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert erp.stats["throttled"] > 0
    rows = [
        r
        for p in erp.read("CustomersV3", select=["CustomerAccount"], filter="CustomerAccount eq 'F-*'")
        for r in p
    ]
    assert len(rows) == 120


def test_reads_complete_under_faults(sandbox: Any, crm: DataverseConnector) -> None:
    expected = sum(len(p) for p in crm.read("accounts", select=["name"]))
    faults(sandbox, "crm", throttle_every=3, error_every=5, error_status=502, retry_after=1)
    got = sum(len(p) for p in crm.read("accounts", select=["name"], page_size=5))
    faults(sandbox, "crm")
    assert got == expected
