"""Creates in ``$batch`` whose answer was dropped: the retry meets "already exists" — our own first
write — and the record is read back instead of reported failed. A real duplicate stays a failure."""

from __future__ import annotations

from typing import Any

from connector_helpers import faults

from p2c.connectors import FnoConnector, OpKind, WriteAction, WriteOp
from p2c.errors import DuplicateRecordError


def _customer(n: int, name: str = "Dropped") -> WriteOp:
    return WriteOp(
        OpKind.CREATE,
        {"dataAreaId": "usmf", "CustomerAccount": f"D-{n:04d}"},
        {"OrganizationName": f"{name} {n}", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"},
    )


def _accounts(erp: FnoConnector) -> list[str]:
    rows = erp.read("CustomersV3", select=["CustomerAccount"], filter="CustomerAccount eq 'D-*'")
    return sorted(r["CustomerAccount"] for page in rows for r in page)


def test_fno_creates_in_batch_under_dropped_responses_are_created_once_and_none_fails(
    sandbox: Any, erp: FnoConnector
) -> None:
    erp.batch_size, erp.concurrency = 10, 2
    ops = [_customer(n) for n in range(40)]
    faults(sandbox, "erp", drop_rate=0.5, seed=2)
    try:
        results = erp.write("CustomersV3", ops)
    finally:
        faults(sandbox, "erp")
    assert [r.error for r in results if not r.ok] == []
    assert {r.action for r in results} == {WriteAction.CREATED}  # read back: the content sent
    assert erp.stats["retries"] > 0  # responses were really dropped
    assert _accounts(erp) == [f"D-{n:04d}" for n in range(40)]


def test_fno_create_of_an_existing_record_on_its_first_attempt_stays_a_failure(erp: FnoConnector) -> None:
    [first] = erp.write("CustomersV3", [_customer(1)])
    assert first.ok and first.action is WriteAction.CREATED
    [again] = erp.write("CustomersV3", [_customer(1, name="Someone else's")])
    assert not again.ok and isinstance(again.error, DuplicateRecordError), again
    assert _accounts(erp) == ["D-0001"]
