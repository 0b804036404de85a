"""Sales invoices, header and lines (P2C.md flow 6), over HTTPS against the sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine_helpers import crm_rows, erp_rows
from test_engine_p2c_orders import new_order
from test_engine_p2c_quotes import external_products
from test_engine_p2c_two_way import FROM_ERP, TO_ERP, erp_action

from p2c.store import Action, RunStatus

INVOICES = ("SalesInvoiceHeader", "SalesInvoiceLine")


def test_an_invoiced_order_brings_its_invoice_and_marks_the_order(every_flow_project: Any) -> None:
    world = every_flow_project
    crm = world.crm()
    products = external_products(crm)
    order, number = new_order(
        crm,
        [
            {"product": products[0], "quantity": 3, "manualdiscountamount": 10},
            {"product": products[1], "quantity": 2},
        ],
    )
    ship_to = {"shipto_line1": "1 Pier Rd", "shipto_city": "Tacoma", "shipto_postalcode": "98402"}
    assert crm.patch(f"salesorders({order})", json=ship_to).status_code == 204
    users = crm_rows(crm, "systemusers", ["systemuserid", "fullname"])
    other = next(u["systemuserid"] for u in users if not str(u["fullname"]).startswith("#"))
    assert (
        crm.patch(f"salesorders({order})", json={"ownerid@odata.bind": f"/systemusers({other})"}).status_code
        == 204
    )
    with world.open() as h:
        assert h.run(*TO_ERP).status is RunStatus.SUCCEEDED
    erp_action(world, number, "confirm")
    erp_action(world, number, "lines/2/charge", {"amount": "5.00", "tax": "0.50"})
    erp_action(world, number, "lines/2/tax", {"amount": "2.00"})
    erp_action(world, number, "header-charge", {"amount": "15.00", "tax": "1.50"})
    erp_action(world, number, "calculate-totals")
    erp_action(world, number, "invoice")
    [erp_invoice] = erp_rows(
        world.erp(),
        "ExternallyMaintainedCustomerSalesInvoiceHeaders",
        ["InvoiceNumber", "SalesOrderNumber", "InvoiceDate"],
        f"dataAreaId eq 'usmf' and SalesOrderNumber eq '{number}'",
    )
    erp_lines = erp_rows(
        world.erp(),
        "ExternallyMaintainedCustomerSalesInvoiceLines",
        ["LineCreationSequenceNumber", "LineTotalTaxAmount"],
        f"dataAreaId eq 'usmf' and InvoiceNumber eq '{erp_invoice['InvoiceNumber']}'",
    )
    with world.open() as h:
        report = h.run(*FROM_ERP, *INVOICES)
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    assert (report.tasks[2].created, report.tasks[3].created) == (1, 2), report.tasks

    [invoice] = crm_rows(
        crm,
        "invoices",
        [
            "invoiceid",
            "invoicenumber",
            "_ownerid_value",
            "_salesorderid_value",
            "p2c_isexternallymaintained",
            "p2c_invoicedate",
        ],
        f"invoicenumber eq '{erp_invoice['InvoiceNumber']}'",
    )
    assert str(invoice["_salesorderid_value"]) == order and invoice["p2c_isexternallymaintained"] is True
    # the ERP's invoice date (noon UTC) arrives as the date on p2c's own invoice date column
    assert invoice["p2c_invoicedate"] == erp_invoice["InvoiceDate"][:10]
    # each ERP order line's ship-to address comes onto its CRM order line
    erp_order_lines = erp_rows(
        world.erp(),
        "CDSSalesOrderLines",
        [
            "LineCreationSequenceNumber",
            "DeliveryAddressCity",
            "DeliveryAddressZipCode",
            "DeliveryAddressStreet",
        ],
        f"dataAreaId eq 'usmf' and SalesOrderNumber eq '{number}'",
    )
    crm_order_lines = {
        int(r["sequencenumber"]): r
        for r in crm_rows(
            crm,
            "salesorderdetails",
            ["sequencenumber", "shipto_city", "shipto_postalcode", "shipto_line1"],
            f"_salesorderid_value eq {order}",
        )
    }
    for erp_line in erp_order_lines:
        crm_line = crm_order_lines[int(erp_line["LineCreationSequenceNumber"])]
        assert erp_line["DeliveryAddressCity"] == "Tacoma"  # the ERP gives lines their order's address
        assert (crm_line["shipto_city"], crm_line["shipto_postalcode"], crm_line["shipto_line1"]) == (
            erp_line["DeliveryAddressCity"],
            erp_line["DeliveryAddressZipCode"],
            erp_line["DeliveryAddressStreet"].split("\n")[0],
        )
    [crm_order] = crm_rows(
        crm, "salesorders", ["statecode", "statuscode", "_ownerid_value"], f"salesorderid eq {order}"
    )
    assert (crm_order["statecode"], crm_order["statuscode"]) == (4, 100003)
    # the invoice is given the order's owner (a user here); the order keeps its owner
    assert crm_order["_ownerid_value"] == invoice["_ownerid_value"] == other
    lines = {
        int(r["sequencenumber"]): r
        for r in crm_rows(
            crm,
            "invoicedetails",
            ["sequencenumber", "tax", "manualdiscountamount"],
            f"_invoiceid_value eq {invoice['invoiceid']}",
        )
    }
    # the order line's 10.00 went to the ERP as 3 × 3.33 and a −0.01 charge: it comes back whole;
    # line 2's 5.00 charge is a real charge, not a remainder, and leaves its (zero) discount alone
    assert Decimal(str(lines[1]["manualdiscountamount"])) == Decimal("10.00")
    assert Decimal(str(lines[2]["manualdiscountamount"] or 0)) == 0
    taxes = {int(r["LineCreationSequenceNumber"]): Decimal(str(r["LineTotalTaxAmount"])) for r in erp_lines}
    # the line's tax with its charge's tax (2.00 + 0.50); the header charge's 1.50 is not synced
    assert taxes[2] == Decimal("2.50")
    assert {k: Decimal(str(v["tax"] or 0)) for k, v in lines.items()} == taxes
    with world.open() as h:
        again = h.run(*FROM_ERP, *INVOICES)
    assert sum(t.written for t in again.tasks) == 0, again.tasks


def test_an_order_invoiced_in_two_parts_ends_invoiced_without_failures(every_flow_project: Any) -> None:
    """The first partial invoice makes the CRM order Invoiced (read-only in Dataverse); the ERP
    keeps changing the order until the rest is invoiced. Those changes are skipped with the
    reason, once, not failed on every run; the second invoice still arrives."""
    world = every_flow_project
    crm = world.crm()
    products = external_products(crm)
    order, number = new_order(
        crm, [{"product": products[0], "quantity": 3}, {"product": products[1], "quantity": 2}]
    )
    # a team owns the order: its invoices are bound to the team (/teams(id)), not to a user
    [sales_team] = crm_rows(crm, "teams", ["teamid"], "name eq 'Contoso US'")
    owner = {"ownerid@odata.bind": f"/teams({sales_team['teamid']})"}
    assert crm.patch(f"salesorders({order})", json=owner).status_code == 204
    with world.open() as h:
        assert h.run(*TO_ERP).status is RunStatus.SUCCEEDED
    erp_action(world, number, "confirm")
    erp_action(world, number, "invoice", {"lines": {"1": "3"}})
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        first = h.run(*FROM_ERP, *INVOICES)
    assert first.status is RunStatus.SUCCEEDED, first.tasks
    [crm_order] = crm_rows(crm, "salesorders", ["statecode"], f"salesorderid eq {order}")
    assert crm_order["statecode"] == 4

    erp_action(world, number, "lines/2/tax", {"amount": "7.00"})  # a line changes too
    erp_action(world, number, "invoice")  # the rest: the ERP order becomes Invoiced
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        plan = h.plan(*FROM_ERP)
        second = h.run(*FROM_ERP, *INVOICES)
    # the plan says what the run then does: the closed order and its line are skipped
    assert [(t.updated, t.skipped, t.unchanged) for t in plan.tasks] == [(0, 1, 0), (0, 1, 1)], plan.tasks
    [planned] = plan.tasks[0].planned
    assert planned.action is Action.SKIPPED and "is Invoiced in the CRM" in (planned.message or "")
    assert second.status is RunStatus.SUCCEEDED, second.tasks
    header, lines, inv_header, _inv_lines = second.tasks
    assert (header.failed, lines.failed) == (0, 0), second.tasks
    assert inv_header.created == 1, second.tasks
    with world.open() as h:
        skips = {o.task: o for o in h.store.outcomes(second.run_id) if o.message}
    header_skip, line_skip = skips["OrderHeaderFromERP"], skips["OrderLineFromERP"]
    assert header_skip.source_key.endswith(number) and "is Invoiced" in (header_skip.message or "")
    assert line_skip.source_key.endswith(",2") and "salesorders record is Invoiced" in (
        line_skip.message or ""
    )
    invoices = crm_rows(
        crm,
        "invoices",
        ["invoicenumber", "_ownerid_value", "_owningteam_value"],
        f"_salesorderid_value eq {order}",
    )
    assert len(invoices) == 2
    assert {(i["_ownerid_value"], i["_owningteam_value"]) for i in invoices} == {
        (sales_team["teamid"], sales_team["teamid"])
    }
    [crm_order] = crm_rows(crm, "salesorders", ["_ownerid_value"], f"salesorderid eq {order}")
    assert crm_order["_ownerid_value"] == sales_team["teamid"]
    with world.open() as h:
        again = h.run(*FROM_ERP, *INVOICES)
    assert again.status is RunStatus.SUCCEEDED and sum(t.written + t.failed for t in again.tasks) == 0
