"""ERP documents read in proportion to change (issue 13, target 5), over HTTPS against the sandbox:
invoices by their InvoiceDate watermark, orders only in the statuses that flow.

Posted invoices never change, so after its first run the invoice tasks read only invoices dated
from the last one read minus the overlap (2 days); an invoice posted later with an older date is
left for ``p2c run --full`` (the decision documented in docs/templates.md).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from engine_helpers import erp_rows
from test_engine_p2c_invoices import INVOICES
from test_engine_p2c_orders import new_order
from test_engine_p2c_quotes import external_products
from test_engine_p2c_two_way import FROM_ERP, TO_ERP, erp_action

from p2c.store import RunStatus


def _invoiced_orders(world: Any, days_ago: list[int]) -> list[str]:
    """One CRM order per entry, sent to the ERP, confirmed and invoiced dated that many days ago."""
    crm = world.crm()
    product = external_products(crm)[0]
    numbers = [new_order(crm, [{"product": product, "quantity": 1}])[1] for _ in days_ago]
    with world.open() as h:
        assert h.run(*TO_ERP).status is RunStatus.SUCCEEDED
    for number, ago in zip(numbers, days_ago, strict=True):
        erp_action(world, number, "confirm")
        day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=ago)).isoformat()
        erp_action(world, number, "invoice", {"date": day})
        erp_action(world, number, "calculate-totals")
    return numbers


def test_after_the_first_run_only_new_invoices_are_read(every_flow_project: Any) -> None:
    world = every_flow_project
    _invoiced_orders(world, [10, 20])
    with world.open() as h:
        first = h.run(*FROM_ERP, *INVOICES)
        cursor = json.loads(h.store.cursor("SalesInvoiceHeader") or "{}")
    assert first.status is RunStatus.SUCCEEDED, first.tasks
    head, lines = first.tasks[2], first.tasks[3]
    assert (head.read, head.created, lines.read, lines.created) == (2, 2, 2, 2), first.tasks
    # the cursor holds the latest invoice date read (per company)
    ten_days_ago = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=10)
    assert cursor == {"watermark": "InvoiceDate", "marks": {"usmf": f"{ten_days_ago}T12:00:00Z"}}

    # posted since: one dated 11 days ago (inside the 2-day overlap of the last one read), one 13
    _invoiced_orders(world, [11, 13])
    with world.open() as h:
        second = h.run(*INVOICES)
    head, lines = second.tasks
    # read: the one inside the overlap, and the invoice of 10 days ago again (unchanged);
    # not the one of 20 days ago, nor the one of 13 days ago, which is older than the overlap
    assert (head.read, head.created, head.unchanged) == (2, 1, 1), second.tasks
    assert (lines.read, lines.created, lines.unchanged) == (2, 1, 1), second.tasks

    with world.open() as h:
        full = h.run(*INVOICES, full=True)
        again = h.run(*INVOICES)
    head, lines = full.tasks
    assert (head.read, head.created) == (4, 1), full.tasks  # --full reads every invoice
    assert (lines.read, lines.created) == (4, 1), full.tasks
    assert [t.read for t in again.tasks] == [2, 2], again.tasks  # the 10- and 11-day-old ones


def test_orders_from_the_erp_are_read_only_in_the_statuses_that_flow(every_flow_project: Any) -> None:
    """The order task's filter (both customers externally maintained, confirmed or later, totals
    calculated) goes to F&O: an order it leaves out is never read, so it is not even counted."""
    world = every_flow_project
    _order, number = new_order(world.crm(), [{"product": external_products(world.crm())[0], "quantity": 1}])
    with world.open() as h:
        assert h.run(*TO_ERP).status is RunStatus.SUCCEEDED  # in the ERP now, still Active there
        [task] = h.run("OrderHeaderFromERP").tasks
        text = h.project.tasks[[t.name for t in h.project.tasks].index("OrderHeaderFromERP")].filter
    every = erp_rows(world.erp(), "CDSSalesOrderHeaders", ["SalesOrderNumber"])
    flowing = {
        r["SalesOrderNumber"]
        for r in erp_rows(world.erp(), "CDSSalesOrderHeaders", ["SalesOrderNumber"], text)
    }
    assert number not in flowing and len(flowing) < len(every)
    assert (task.read, task.filtered) == (len(flowing), 0), task
    erp_action(world, number, "confirm")
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        [task] = h.run("OrderHeaderFromERP").tasks
    # the CRM order it came from is updated with its ERP status
    assert (task.read, task.updated, task.filtered) == (len(flowing) + 1, 1, 0), task
