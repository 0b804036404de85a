"""Side writes — numbers written back, derived flags, Freight Tax lines, orders marked Invoiced —
go through the engine like records: planned, sent, recorded, and shown by ``p2c plan``.

Over HTTPS against the sandbox; what arrived is read with the sandbox's raw clients.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from engine_helpers import ACCOUNT_NUMBER, crm_rows, numberless_accounts, synced_customers
from test_engine_p2c_quotes import external_products
from test_engine_p2c_two_way import FROM_ERP, confirmed_erp_order, crm_order, erp_action

from p2c.flows import SideWriteKind
from p2c.store import Action, RunStatus

INVOICES = ("SalesInvoiceHeader", "SalesInvoiceLine")


def _freight(world: Any, order_id: str) -> list[Decimal]:
    lines = crm_order(world, order_id)[1].values()
    return [Decimal(str(r["priceperunit"])) for r in lines if r["productdescription"] == "Freight Tax"]


def _erp_order(world: Any, tax: str) -> tuple[str, str]:
    """A confirmed ERP order of a synced customer with a header charge taxed ``tax``: (number, customer)."""
    crm = world.crm()
    products = external_products(crm)
    customer = crm_rows(crm, "accounts", ["accountnumber"], "accountnumber ne null")[2]["accountnumber"]
    number = confirmed_erp_order(world, customer, [products[0]["productnumber"]], quantity=2)
    erp_action(world, number, "header-charge", {"amount": "15.00", "tax": tax})
    erp_action(world, number, "calculate-totals")
    return number, customer


def test_a_change_of_only_the_header_tax_reaches_the_freight_tax_line(every_flow_project: Any) -> None:
    world = every_flow_project
    number, _customer = _erp_order(world, "1.50")
    with world.open() as h:
        assert h.run(*FROM_ERP).status is RunStatus.SUCCEEDED
    [order] = crm_rows(world.crm(), "salesorders", ["salesorderid"], f"ordernumber eq '{number}'")
    assert _freight(world, order["salesorderid"]) == [Decimal("1.50")]

    # the header tax goes 1.50 → 3.50 and nothing else of the header changes (a charge of 0.00 taxed 2.00)
    erp_action(world, number, "header-charge", {"amount": "0.00", "tax": "2.00"})
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        report = h.run(*FROM_ERP)
        assert report.status is RunStatus.SUCCEEDED, report.tasks
        assert report.tasks[0].updated == 1, report.tasks
        assert _freight(world, order["salesorderid"]) == [Decimal("3.50")]
        side = [o for o in h.store.outcomes(report.run_id, operations=True)]
        assert [(o.operation, o.action) for o in side] == [(SideWriteKind.FREIGHT_TAX_LINE, Action.UPDATED)]
        # and once there, nothing more: the next run writes nothing
        again = h.run(*FROM_ERP)
        assert sum(t.written + t.side_writes for t in again.tasks) == 0, again.tasks

    # a tax that drops to zero removes the line
    erp_action(world, number, "header-charge", {"amount": "0.00", "tax": "-3.50"})
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        assert h.run(*FROM_ERP).status is RunStatus.SUCCEEDED
    assert _freight(world, order["salesorderid"]) == []


def test_the_plan_shows_the_numbers_the_run_then_writes(provisioned_project: Any) -> None:
    world = provisioned_project
    crm = world.crm()
    new = numberless_accounts(crm)
    with world.open() as h:
        plans = [h.plan("Accounts"), h.plan("Accounts")]
    planned = [
        {
            p.source_key: p.target_key
            for p in plan.tasks[0].planned
            if p.operation == SideWriteKind.NUMBER_WRITE_BACK
        }
        for plan in plans
    ]
    numberless = {a["accountid"] for a in crm_rows(crm, "accounts", ["accountid"], "accountnumber eq null")}
    assert set(planned[0]) == numberless >= set(new)
    assert planned[0] == planned[1]  # two plans, the same numbers
    numbers = {}
    for account in numberless:
        [write_back] = [
            p for p in plans[0].tasks[0].planned if p.source_key == account and p.operation is not None
        ]
        assert write_back.action is Action.UPDATED
        found = re.search(ACCOUNT_NUMBER, write_back.message or "")
        assert found, write_back
        numbers[account] = found.group(0)
        # the customer the plan shows is created under that number
        [customer] = [p for p in plans[0].tasks[0].planned if p.source_key == account and p.operation is None]
        assert customer.action is Action.CREATED and customer.target_key == f"usmf,{numbers[account]}"
    # a plan writes nothing
    assert all(
        a["accountnumber"] is None
        for a in crm_rows(crm, "accounts", ["accountnumber"], "name eq 'Numberless One'")
    )

    with world.open() as h:
        report = h.run("Accounts")
        assert report.status is RunStatus.SUCCEEDED, report.tasks
        side = h.store.outcomes(report.run_id, operations=True)
    assert {o.source_key for o in side if o.operation == SideWriteKind.NUMBER_WRITE_BACK} == numberless
    after = {
        a["accountid"]: a["accountnumber"] for a in crm_rows(crm, "accounts", ["accountid", "accountnumber"])
    }
    assert {a: after[a] for a in numberless} == numbers  # the run wrote the numbers the plan showed
    assert set(numbers.values()) <= set(synced_customers(world.erp()))


def test_the_plan_lists_freight_tax_lines_and_orders_marked_invoiced(every_flow_project: Any) -> None:
    world = every_flow_project
    number, _customer = _erp_order(world, "1.50")
    with world.open() as h:
        plan = h.plan(*FROM_ERP)
    header_plan = plan.tasks[0].planned
    [order_plan] = [p for p in header_plan if p.operation is None]
    assert order_plan.action is Action.CREATED and order_plan.target_key == number
    [freight] = [p for p in header_plan if p.operation == SideWriteKind.FREIGHT_TAX_LINE]
    assert freight.action is Action.CREATED and freight.payload is not None
    assert Decimal(str(freight.payload["priceperunit"])) == Decimal("1.50")
    assert crm_rows(world.crm(), "salesorders", ["salesorderid"], f"ordernumber eq '{number}'") == []

    with world.open() as h:
        assert h.run(*FROM_ERP).status is RunStatus.SUCCEEDED
    erp_action(world, number, "invoice")
    with world.open() as h:
        plan = h.plan(*INVOICES)
    [order] = crm_rows(
        world.crm(), "salesorders", ["salesorderid", "statecode"], f"ordernumber eq '{number}'"
    )
    assert order["statecode"] == 0  # the plan did not touch it
    kinds = {p.operation for p in plan.tasks[0].planned if p.operation}
    assert SideWriteKind.ORDER_INVOICED in kinds, plan.tasks[0].planned
    with world.open() as h:
        report = h.run(*INVOICES)
        assert report.status is RunStatus.SUCCEEDED, report.tasks
        recorded = {o.operation for o in h.store.outcomes(report.run_id, operations=True)}
    assert SideWriteKind.ORDER_INVOICED in recorded
    [order] = crm_rows(world.crm(), "salesorders", ["statecode"], f"ordernumber eq '{number}'")
    assert order["statecode"] == 4


def test_a_freight_tax_line_made_by_microsofts_solution_is_taken_over_not_doubled(
    every_flow_project: Any,
) -> None:
    """Microsoft's P2C solution writes the header tax as a write-in product named Freight Tax, with
    no reserved sequence number: p2c updates that line instead of adding its own."""
    world = every_flow_project
    number, _customer = _erp_order(world, "1.50")
    with world.open() as h:
        assert h.run(*FROM_ERP).status is RunStatus.SUCCEEDED
    [order] = crm_rows(world.crm(), "salesorders", ["salesorderid"], f"ordernumber eq '{number}'")
    crm = world.crm()
    [line] = [
        r
        for r in crm_order(world, order["salesorderid"])[1].values()
        if r["productdescription"] == "Freight Tax"
    ]
    moved = crm.patch(f"salesorderdetails({line['salesorderdetailid']})", json={"sequencenumber": None})
    assert moved.status_code == 204, moved.text  # now it looks like the solution's line

    erp_action(world, number, "header-charge", {"amount": "0.00", "tax": "2.00"})
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        assert h.run(*FROM_ERP).status is RunStatus.SUCCEEDED
    written = crm_rows(
        crm,
        "salesorderdetails",
        ["salesorderdetailid", "priceperunit", "sequencenumber"],
        f"_salesorderid_value eq {order['salesorderid']} and productdescription eq 'Freight Tax'",
    )
    # one line, the solution's, updated
    assert [
        (r["salesorderdetailid"], Decimal(str(r["priceperunit"])), r["sequencenumber"]) for r in written
    ] == [(line["salesorderdetailid"], Decimal("3.50"), None)]
