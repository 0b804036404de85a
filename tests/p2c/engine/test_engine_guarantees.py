"""The engine's guarantees (issue 3), each proven by what arrived in the other service.

- idempotent: a second run with no source change writes nothing and says so;
- incremental: after 3 accounts change in the CRM, the next run reads the delta and writes 3 customers;
- faults: with 429s and 503s on ~20 % of requests of both services, nothing is lost or failed.
"""

from __future__ import annotations

from typing import Any

from engine_helpers import crm_rows, snapshot, synced_customers

from p2c.store import Action, RunStatus

TASKS = ("Accounts", "Products", "ProductPriceListItems")


def test_second_run_without_source_changes_writes_nothing(provisioned_project: Any) -> None:
    world = provisioned_project
    crm, erp = world.crm(), world.erp()
    with world.open() as h:
        first = h.run()
        assert first.status is RunStatus.SUCCEEDED
        assert [t.created for t in first.tasks] == [30, 17, 17]
        before = snapshot(crm, erp)
        second = h.run()
        after = snapshot(crm, erp)
        third = h.run()

    assert [t.task for t in second.tasks] == list(TASKS)
    assert second.status is RunStatus.SUCCEEDED
    for t in second.tasks:
        assert (t.created, t.updated, t.failed, t.waiting) == (0, 0, 0, 0), t
        assert t.unchanged == t.read, t
    # the 15 numbers the first run wrote back were read back as it ended (unchanged, the cursor
    # moved past them): the CRM delta is empty; the ERP is read whole, unchanged
    assert [t.read for t in second.tasks] == [0, 17, 17]
    assert after == before  # not one ETag moved on either side
    assert [t.read for t in third.tasks] == [0, 17, 17]  # and then the delta is empty
    assert all(t.written == 0 for t in third.tasks)


def test_next_run_reads_the_delta_and_writes_exactly_the_changed_accounts(provisioned_project: Any) -> None:
    world = provisioned_project
    crm, erp = world.crm(), world.erp()
    with world.open() as h:
        h.run("Accounts")
        h.run("Accounts")  # absorbs the echo of the numbers written back
        before = synced_customers(erp, ["OrganizationName", "AddressCity"])
        accounts = crm_rows(crm, "accounts", ["accountid", "accountnumber", "name"])
        changed = {a["accountnumber"]: a for a in accounts[3:6]}
        for number, account in changed.items():
            response = crm.patch(
                f"accounts({account['accountid']})",
                json={"name": f"{account['name']} (renamed)", "address1_city": f"City of {number}"},
            )
            assert response.status_code == 204, response.text
        report = h.run("Accounts")

    task = report.tasks[0]
    assert (task.read, task.updated, task.created, task.failed) == (3, 3, 0, 0)
    after = synced_customers(erp, ["OrganizationName", "AddressCity"])
    assert after.keys() == before.keys()
    moved = {k for k in after if after[k]["@odata.etag"] != before[k]["@odata.etag"]}
    assert moved == set(changed)
    for number, account in changed.items():
        assert after[number]["OrganizationName"] == f"{account['name']} (renamed)"
        assert after[number]["AddressCity"] == f"City of {number}"


def test_run_completes_through_throttling_and_server_errors(provisioned_project: Any) -> None:
    world = provisioned_project
    world.reseed("large:400")  # 400 accounts, 100 products
    world.configure(settings={"batch_size": 20})  # many requests, so many of them are hit
    sandbox = world.sandbox
    faults = {"throttle_rate": 0.1, "error_rate": 0.12, "error_status": 503, "retry_after": 1, "seed": 7}
    for which in ("crm", "erp"):
        sandbox.admin(which).put("faults", json=faults).raise_for_status()
    try:
        with world.open() as h:
            report = h.run()
            injected = {w: sandbox.admin(w).get("faults").json()["injected"] for w in ("crm", "erp")}
            failed = h.store.outcomes(report.run_id, actions=[Action.FAILED, Action.WAITING])
            # a check's 429 or 503 is not retried (the host answered: the check passes)
            retries = sum(c.stats["retries"] + c.stats["checks"] for c in (h.crm, h.erp))
    finally:
        for which in ("crm", "erp"):
            sandbox.admin(which).put("faults", json={}).raise_for_status()

    # both servers really answered 429s and 503s, on both sides of the flow
    for which in ("crm", "erp"):
        assert injected[which]["throttle"] > 0 and injected[which]["error"] > 0, injected
    assert retries >= sum(i["throttle"] + i["error"] for i in injected.values())
    assert failed == []
    assert report.status is RunStatus.SUCCEEDED
    # the large seed's CRM products are the ERP's items (same numbers): products are updated, not created
    assert [(t.written, t.failed, t.waiting) for t in report.tasks] == [(400, 0, 0), (100, 0, 0), (100, 0, 0)]
    numbers = {a["accountnumber"] for a in crm_rows(world.crm(), "accounts", ["accountnumber"])}
    assert len(numbers) == 400 and None not in numbers
    assert set(synced_customers(world.erp())) == numbers
    products = crm_rows(world.crm(), "products", ["productid"], "p2c_isexternallymaintained eq true")
    assert len(products) == 100
    items = crm_rows(world.crm(), "productpricelevels", ["_productid_value"])
    ours = [
        i["_productid_value"] for i in items if i["_productid_value"] in {p["productid"] for p in products}
    ]
    assert sorted(ours) == sorted(p["productid"] for p in products)  # one price-list item each
