"""Sales orders CRM → ERP (P2C.md flow 5): activated (or submitted) orders, create-only, lines follow, split discount."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from engine_helpers import crm_rows, erp_rows
from test_engine_p2c_quotes import BEFORE, external_products

from p2c.store import Action, RunStatus

ACTIVE = 100000001  # p2c_processingstatus Active: the user activated the order


@pytest.fixture
def orders_project(provisioned_project: Any) -> Any:
    world = provisioned_project
    world.write(templates=["accounts", "products", "contacts", "quotes", "orders_to_erp"])
    world.provision()
    with world.open() as h:
        assert h.run(*BEFORE).status is RunStatus.SUCCEEDED
    return world


def new_order(
    crm: Any, lines: list[dict[str, Any]], *, activate: bool = True, contact: str | None = None
) -> tuple[str, str]:
    """A CRM order (activated unless told) for a numbered account, or for the contact ``contact``:
    (order id, order number)."""
    if contact is None:
        account = crm_rows(crm, "accounts", ["accountid"], "accountnumber ne null")[1]["accountid"]
        customer = {"customerid_account@odata.bind": f"/accounts({account})"}
    else:
        customer = {"customerid_contact@odata.bind": f"/contacts({contact})"}
    price_list = crm_rows(crm, "pricelevels", ["pricelevelid"], "name eq 'CRM Service USA (sample)'")[0]
    response = crm.post(
        "salesorders",
        json={
            "name": "Engine test order",
            **customer,
            "pricelevelid@odata.bind": f"/pricelevels({price_list['pricelevelid']})",
        },
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 201, response.text
    order = response.json()
    for line in lines:
        add_line(crm, order["salesorderid"], line)
    if activate:
        r = crm.patch(f"salesorders({order['salesorderid']})", json={"p2c_processingstatus": ACTIVE})
        assert r.status_code == 204, r.text
    return order["salesorderid"], order["ordernumber"]


def add_line(crm: Any, order: str, line: dict[str, Any]) -> str:
    p = line["product"]
    body = {
        "salesorderid@odata.bind": f"/salesorders({order})",
        "productid@odata.bind": f"/products({p['productid']})",
        "uomid@odata.bind": f"/uoms({p['_defaultuomid_value']})",
        **{k: v for k, v in line.items() if k != "product"},
    }
    response = crm.post("salesorderdetails", json=body, headers={"Prefer": "return=representation"})
    assert response.status_code == 201, response.text
    return str(response.json()["salesorderdetailid"])


def erp_order(world: Any, number: str) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    flt = f"dataAreaId eq 'usmf' and SalesOrderNumber eq '{number}'"
    headers = erp_rows(
        world.erp(), "CDSSalesOrderHeaders", ["SalesOrderName", "OrderingCustomerAccountNumber"], flt
    )
    lines = erp_rows(
        world.erp(),
        "CDSSalesOrderLines",
        [
            "LineCreationSequenceNumber",
            "ProductNumber",
            "OrderedSalesQuantity",
            "LineDiscountAmount",
            "FixedPriceCharges",
        ],
        flt,
    )
    return headers, {int(r["LineCreationSequenceNumber"]): r for r in lines}


def test_activated_order_goes_once_with_split_discount_and_lines_follow(orders_project: Any) -> None:
    world = orders_project
    crm = world.crm()
    products = external_products(crm)
    order, number = new_order(
        crm,
        [
            {"product": products[0], "quantity": 3, "manualdiscountamount": 10},
            {"product": products[1], "quantity": 2},
        ],
    )
    _, draft = new_order(crm, [{"product": products[0], "quantity": 1}], activate=False)
    with world.open() as h:
        report = h.run("OrderHeader", "OrderLine")
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    headers, lines = erp_order(world, number)
    assert [h["SalesOrderName"] for h in headers] == ["Engine test order"]
    assert sorted(lines) == [1, 2]
    assert (Decimal(str(lines[1]["LineDiscountAmount"])), Decimal(str(lines[1]["FixedPriceCharges"]))) == (
        Decimal("3.33"),
        Decimal("-0.01"),
    )
    assert erp_order(world, draft) == ([], {})  # not activated: not sent

    # lines follow: one changed, one removed, one added; the header's own change is not sent
    crm_lines = {
        r["sequencenumber"]: r["salesorderdetailid"]
        for r in crm_rows(
            crm,
            "salesorderdetails",
            ["salesorderdetailid", "sequencenumber"],
            f"_salesorderid_value eq {order}",
        )
    }
    assert crm.patch(f"salesorderdetails({crm_lines[1]})", json={"quantity": 4}).status_code == 204
    assert crm.delete(f"salesorderdetails({crm_lines[2]})").status_code == 204
    add_line(crm, order, {"product": products[2], "quantity": 5})
    assert crm.patch(f"salesorders({order})", json={"name": "Renamed in the CRM"}).status_code == 204
    with world.open() as h:
        report = h.run("OrderHeader", "OrderLine")
    line_task = report.tasks[1]
    assert (line_task.created, line_task.updated, line_task.deleted) == (1, 1, 1), line_task
    headers, lines = erp_order(world, number)
    assert [h["SalesOrderName"] for h in headers] == ["Engine test order"]  # create-only: the ERP owns it
    # the CRM numbered the new line 2 again (the highest number + 1): the old line 2 went first
    assert sorted(lines) == [1, 2]
    assert Decimal(str(lines[1]["OrderedSalesQuantity"])) == 4
    assert (Decimal(str(lines[1]["LineDiscountAmount"])), Decimal(str(lines[1]["FixedPriceCharges"]))) == (
        Decimal("2.50"),
        Decimal("0.00"),
    )
    assert (lines[2]["ProductNumber"], Decimal(str(lines[2]["OrderedSalesQuantity"]))) == (
        products[2]["productnumber"],
        5,
    )
    with world.open() as h:
        again = h.run("OrderHeader", "OrderLine")
    assert sum(t.written for t in again.tasks) == 0


# -- what sends an order: settings.order_activation ------------------------------------------

DRAFT = 100000000  # p2c_processingstatus Draft: the column's default (p2c setup)
SUBMITTED = {"statecode": 1, "statuscode": 3}  # the standard Submit: state Submitted, status In Progress


def test_a_new_order_starts_draft_and_submitting_it_is_not_activating_it(orders_project: Any) -> None:
    world = orders_project
    crm = world.crm()
    products = external_products(crm)
    order, number = new_order(crm, [{"product": products[0], "quantity": 1}], activate=False)
    [row] = crm_rows(crm, "salesorders", ["p2c_processingstatus"], f"salesorderid eq {order}")
    assert row["p2c_processingstatus"] == DRAFT  # the column's default (p2c setup)
    assert crm.patch(f"salesorders({order})", json=SUBMITTED).status_code == 204
    with world.open() as h:
        report = h.run("OrderHeader", "OrderLine")
        outcomes = {o.source_key: o for o in h.store.outcomes(report.run_id)}
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    assert erp_order(world, number) == ([], {})  # order_activation: processing_status (the default)
    filtered = outcomes[order]  # a record its filter leaves out is named by its id
    assert filtered.action is Action.FILTERED and "p2c_processingstatus eq 100000001" in (
        filtered.message or ""
    )
    # activating it (processing status Active) sends it, submitted or not
    assert crm.patch(f"salesorders({order})", json={"statecode": 0, "statuscode": 1}).status_code == 204
    assert crm.patch(f"salesorders({order})", json={"p2c_processingstatus": ACTIVE}).status_code == 204
    with world.open() as h:
        assert h.run("OrderHeader", "OrderLine").status is RunStatus.SUCCEEDED
    headers, lines = erp_order(world, number)
    assert len(headers) == 1 and sorted(lines) == [1]


def test_with_order_activation_submitted_the_standard_submit_sends_the_order(orders_project: Any) -> None:
    world = orders_project
    world.configure(settings={"order_activation": "submitted"})
    crm = world.crm()
    products = external_products(crm)
    lines = [
        {"product": products[0], "quantity": 3, "manualdiscountamount": 10},
        {"product": products[1], "quantity": 2},
    ]
    order, number = new_order(crm, lines, activate=False)
    with world.open() as h:
        assert h.run("OrderHeader", "OrderLine").status is RunStatus.SUCCEEDED
    assert erp_order(world, number) == ([], {})  # a draft (Active state, not submitted) stays in the CRM

    assert crm.patch(f"salesorders({order})", json=SUBMITTED).status_code == 204
    with world.open() as h:
        report = h.run("OrderHeader", "OrderLine")
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    assert (report.tasks[0].created, report.tasks[1].created) == (1, 2), report.tasks
    headers, erp_lines = erp_order(world, number)
    assert len(headers) == 1 and sorted(erp_lines) == [1, 2]
    [row] = crm_rows(crm, "salesorders", ["statecode", "p2c_processingstatus"], f"salesorderid eq {order}")
    assert (row["statecode"], row["p2c_processingstatus"]) == (1, DRAFT)  # the CRM order is left as it is
    with world.open() as h:
        again = h.run("OrderHeader", "OrderLine")
    assert sum(t.written + t.failed for t in again.tasks) == 0, again.tasks


def test_an_order_without_requested_delivery_date_asks_the_erp_for_its_order_date(
    orders_project: Any,
) -> None:
    world = orders_project
    crm = world.crm()
    products = external_products(crm)
    order, number = new_order(crm, [{"product": products[0], "quantity": 1}])
    dated, dated_number = new_order(crm, [{"product": products[0], "quantity": 1}])
    assert crm.patch(f"salesorders({dated})", json={"requestdeliveryby": "2031-05-04"}).status_code == 204
    with world.open() as h:
        assert h.run("OrderHeader", "OrderLine").status is RunStatus.SUCCEEDED
    [crm_order] = crm_rows(crm, "salesorders", ["createdon", "requestdeliveryby"], f"salesorderid eq {order}")
    assert crm_order["requestdeliveryby"] is None
    erp = {
        n: erp_rows(
            world.erp(),
            "CDSSalesOrderHeaders",
            ["RequestedReceiptDate"],
            f"dataAreaId eq 'usmf' and SalesOrderNumber eq '{n}'",
        )[0]["RequestedReceiptDate"]
        for n in (number, dated_number)
    }
    assert erp[number][:10] == crm_order["createdon"][:10] and not erp[number].startswith("1900")
    assert erp[dated_number].startswith("2031-05-04")
