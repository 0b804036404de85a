"""Creates whose answer was lost: the retry meets "already exists", which is our own earlier write,
not a failure (DESIGN: resolved by reading the record back, never reported failed)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine_helpers import crm_rows
from test_engine_p2c_quotes import external_products
from test_engine_p2c_two_way import confirmed_erp_order

from p2c.store import RunStatus

ORDERS = 40


def test_erp_orders_created_in_the_crm_under_dropped_responses_are_created_once_and_none_fails(
    every_flow_project: Any,
) -> None:
    world = every_flow_project
    crm = world.crm()
    product = external_products(crm)[0]["productnumber"]
    customer = crm_rows(crm, "accounts", ["accountnumber"], "accountnumber ne null")[0]["accountnumber"]
    numbers = [confirmed_erp_order(world, customer, [product]) for _ in range(ORDERS)]
    admin = world.sandbox.admin("crm")
    try:
        with world.open() as h:
            check = h.engine.check_reachable

            def then_drop(tasks: Any) -> None:  # the run's writes lose answers, not its check
                check(tasks)
                admin.put("faults", json={"drop_rate": 0.5, "seed": 2}).raise_for_status()

            h.engine.check_reachable = then_drop  # type: ignore[method-assign]
            report = h.run("OrderHeaderFromERP")
            dropped = admin.get("faults").json()["injected"]["drop"]
    finally:
        admin.put("faults", json={}).raise_for_status()
    assert dropped >= 5, dropped  # answers were lost...
    assert report.http["crm"]["retries"] >= dropped, report.http  # ...and each request sent again
    [task] = report.tasks
    assert task.failed == 0 and report.status is RunStatus.SUCCEEDED, task
    assert task.created == ORDERS, task  # read back with the content sent: created, not updated
    orders = Counter(
        r["ordernumber"] for r in crm_rows(crm, "salesorders", ["ordernumber"], "ordernumber ne null")
    )
    assert {n: orders[n] for n in numbers} == dict.fromkeys(numbers, 1)
