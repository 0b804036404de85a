"""Invoices read only new ones (issue 13, target 5): the InvoiceDate watermark, over HTTPS against the sandbox.

Posted invoices never change, so after its first run the invoice tasks read only invoices dated
from the last one read minus the overlap (2 days); an invoice posted later with an older date is
left for ``p2c run --full`` (the decision documented in docs/templates.md).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

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
