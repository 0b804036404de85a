"""Bad records fail alone: the record key, the field and the service's message are in the history,
and the other records of their batch are written."""

from __future__ import annotations

from typing import Any

from engine_helpers import boxed_product, crm_rows, erp_rows, synced_customers

from p2c.store import Action, RunStatus


def test_customer_group_the_erp_rejects_fails_only_its_account(provisioned_project: Any) -> None:
    world = provisioned_project
    # the customer group comes from a CRM column; empty → the template default 10
    world.configure(tasks={"Accounts": {"fields": {"CustomerGroupId": "tickersymbol"}}})
    crm, erp = world.crm(), world.erp()
    accounts = crm_rows(crm, "accounts", ["accountid", "accountnumber", "name"])
    bad = next(a for a in accounts if a["accountnumber"] == "C10104")
    assert crm.patch(f"accounts({bad['accountid']})", json={"tickersymbol": "99"}).status_code == 204

    with world.open() as h:
        report = h.run("Accounts")
        failed = h.store.outcomes(report.run_id, actions=[Action.FAILED])

    task = report.tasks[0]
    assert report.status is RunStatus.PARTIAL
    assert (task.created, task.failed) == (29, 1)  # the whole batch of 30 went in one request
    [rec] = failed
    assert rec.source_key == bad["accountid"]
    assert rec.field == "CustomerGroupId"
    assert "99" in (rec.message or "") and "Customer group" in (rec.message or "")
    assert rec.target_payload is not None and rec.target_payload["CustomerAccount"] == "C10104"
    customers = synced_customers(erp, ["CustomerGroupId"])
    assert "C10104" not in customers
    assert len(customers) == 29
    assert {c["CustomerGroupId"] for c in customers.values()} == {"10"}


def test_unit_missing_in_the_crm_fails_only_its_product(provisioned_project: Any) -> None:
    world = provisioned_project
    boxed_product(world)

    with world.open() as h:
        report = h.run("Products", "ProductPriceListItems")
        failed = h.store.outcomes(report.run_id, actions=[Action.FAILED, Action.WAITING])

    products, items = report.tasks
    assert (products.created, products.failed) == (17, 1)
    assert (items.created, items.failed, items.waiting) == (17, 0, 1)
    by_task = {(r.task, r.source_key): r for r in failed}
    rec = by_task["Products", "usmf,B0001"]
    assert rec.action is Action.FAILED
    assert rec.field == "defaultuomid"
    assert "box" in (rec.message or "")
    # its price-list item is not lost: it waits for the product, named by the lookup that waits
    item = by_task["ProductPriceListItems", "usmf,B0001"]
    assert (item.action, item.field) == (Action.WAITING, "productid")
    numbers = {p["productnumber"] for p in crm_rows(world.crm(), "products", ["productnumber"])}
    assert "B0001" not in numbers and {"D0001", "T0002-BLK", "L0002"} <= numbers
    assert (
        len(erp_rows(world.erp(), "SellableReleasedProducts", ["ProductNumber"], "ProductNumber eq 'B0001'"))
        == 1
    )


def test_account_numbers_that_are_not_unique_fail_both_and_merge_nothing(provisioned_project: Any) -> None:
    world = provisioned_project
    crm = world.crm()
    ids = []
    for name in ("Twin Peaks Ltd", "Twin Peaks Inc"):
        response = crm.post(
            "accounts",
            json={"name": name, "accountnumber": "TWIN-1"},
            headers={"Prefer": "return=representation"},
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["accountid"])

    with world.open() as h:
        report = h.run("Accounts")
        failed = {r.source_key: r for r in h.store.outcomes(report.run_id, actions=[Action.FAILED])}

    task = report.tasks[0]
    assert (task.created, task.failed) == (30, 2)
    assert set(failed) == set(ids)
    for me, other in (ids, ids[::-1]):
        assert failed[me].field == "accountnumber"
        assert "TWIN-1" in (failed[me].message or "") and other in (failed[me].message or "")
    customers = synced_customers(world.erp(), ["OrganizationName"])
    assert "TWIN-1" not in customers and len(customers) == 30
    assert not any("Twin Peaks" in c["OrganizationName"] for c in customers.values())
