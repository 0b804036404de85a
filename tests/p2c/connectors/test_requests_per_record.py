"""Requests per record on an initial load (issue 3 target: at most 0.02), measured by ``stats``."""

from __future__ import annotations

from p2c.connectors import DataverseConnector, FnoConnector, OpKind, WriteAction, WriteOp

N = 2000


def test_dataverse_initial_load_in_bulk(crm: DataverseConnector, account_key: str) -> None:
    ops = [
        WriteOp(OpKind.UPSERT, {account_key: f"ACC-{n:05d}-ABCDEF"}, {"name": f"Account {n}"})
        for n in range(N)
    ]
    crm.table("accounts")  # metadata look-ups happen once per connector, not per batch
    before = crm.stats["requests"]
    results = crm.write("accounts", ops)
    assert all(r.action == WriteAction.CREATED for r in results)
    per_record = (crm.stats["requests"] - before) / N
    assert per_record <= 0.005, per_record  # existence query + UpsertMultiple per 1000 rows


def test_fno_initial_load_in_batches(erp: FnoConnector) -> None:
    payload = {"CustomerGroupId": "10", "SalesCurrencyCode": "USD", "OrganizationName": "Bulk"}
    ops = [
        WriteOp(OpKind.UPSERT, {"dataAreaId": "usmf", "CustomerAccount": f"ACC-{n:05d}-ABCDEF"}, payload)
        for n in range(N)
    ]
    results = erp.write("CustomersV3", ops)
    assert all(r.action == WriteAction.CREATED for r in results)
    per_record = erp.stats["requests"] / N
    assert per_record <= 0.02, per_record  # existence query + $batch per 200 rows
