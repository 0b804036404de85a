"""Sales orders ERP → CRM (P2C.md flow 5) and the two directions together, without echo."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from engine_helpers import crm_rows
from test_engine_p2c_orders import new_order
from test_engine_p2c_quotes import BEFORE, external_products

from p2c.store import RunStatus

TO_ERP = ("OrderHeader", "OrderLine")
FROM_ERP = ("OrderHeaderFromERP", "OrderLineFromERP")
CONFIRMED = 100000002


@pytest.fixture
def two_way_project(provisioned_project: Any) -> Any:
    world = provisioned_project
    world.write(templates=["accounts", "products", "contacts", "quotes", "orders_to_erp", "orders_from_erp"])
    world.provision()
    with world.open() as h:
        assert h.run(*BEFORE).status is RunStatus.SUCCEEDED
    return world


def erp_action(world: Any, number: str, action: str, body: dict[str, Any] | None = None) -> None:
    response = world.sandbox.admin("erp").post(f"orders/usmf/{number}/{action}", json=body or {})
    assert response.status_code == 200, response.text


def confirmed_erp_order(
    world: Any, customer: str, products: list[str], *, quantity: int = 1, **header: Any
) -> str:
    """An order typed in the ERP for ``customer``, one line of ``quantity`` per product number,
    confirmed and with its totals calculated (as ERP → CRM orders need): its order number."""
    erp = world.erp()
    body = {"dataAreaId": "usmf", "OrderingCustomerAccountNumber": customer, **header}
    response = erp.post("CDSSalesOrderHeaders", json=body)
    assert response.status_code == 201, response.text
    number = str(response.json()["SalesOrderNumber"])
    for seq, product in enumerate(products, start=1):
        line = {
            "dataAreaId": "usmf",
            "SalesOrderNumber": number,
            "LineCreationSequenceNumber": seq,
            "ProductNumber": product,
            "OrderedSalesQuantity": quantity,
        }
        r = erp.post("CDSSalesOrderLines", json=line)
        assert r.status_code == 201, r.text
    erp_action(world, number, "confirm")
    erp_action(world, number, "calculate-totals")
    return number


def crm_order(world: Any, order: str) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    crm = world.crm()
    [header] = crm_rows(
        crm,
        "salesorders",
        ["statecode", "p2c_processingstatus", "p2c_isexternallymaintained", "name"],
        f"salesorderid eq {order}",
    )
    lines = crm_rows(
        crm,
        "salesorderdetails",
        [
            "sequencenumber",
            "quantity",
            "manualdiscountamount",
            "priceperunit",
            "productdescription",
            "isproductoverridden",
        ],
        f"_salesorderid_value eq {order}",
    )
    return header, {int(r["sequencenumber"]): r for r in lines}


def test_an_order_confirmed_in_the_erp_comes_back_and_nothing_echoes(two_way_project: Any) -> None:
    world = two_way_project
    crm = world.crm()
    products = external_products(crm)
    order, number = new_order(
        crm,
        [
            {"product": products[0], "quantity": 3, "manualdiscountamount": 10},
            {"product": products[1], "quantity": 2},
        ],
    )
    with world.open() as h:
        assert h.run(*TO_ERP).status is RunStatus.SUCCEEDED
        first = h.run(*FROM_ERP)  # still Active in the ERP: not read back
    assert sum(t.written for t in first.tasks) == 0, first.tasks
    erp_action(world, number, "confirm")
    erp_action(world, number, "header-charge", {"amount": "15.00", "tax": "1.50"})
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        back = h.run(*FROM_ERP)
    assert back.status is RunStatus.SUCCEEDED, back.tasks
    assert (back.tasks[0].updated, back.tasks[1].updated) == (1, 2), back.tasks
    header, lines = crm_order(world, order)
    assert (header["statecode"], header["p2c_processingstatus"], header["p2c_isexternallymaintained"]) == (
        0,
        CONFIRMED,
        True,
    )
    assert Decimal(str(lines[1]["manualdiscountamount"])) == Decimal("10.00")  # 3 × 3.33 + 0.01
    freight = [r for r in lines.values() if r["productdescription"] == "Freight Tax"]
    assert [Decimal(str(r["priceperunit"])) for r in freight] == [Decimal("1.50")]

    # alternating runs with no real change write nothing, in either direction
    with world.open() as h:
        for _ in range(3):
            for tasks in (TO_ERP, FROM_ERP):
                report = h.run(*tasks)
                assert sum(t.written for t in report.tasks) == 0, report.tasks
                assert report.status is RunStatus.SUCCEEDED

    # a real change in the ERP travels, once
    erp_action(world, number, "pick")
    with world.open() as h:
        changed = h.run(*FROM_ERP)
        assert changed.tasks[0].updated == 1
        for tasks in (TO_ERP, FROM_ERP):
            assert sum(t.written for t in h.run(*tasks).tasks) == 0
    assert crm_order(world, order)[0]["p2c_processingstatus"] != CONFIRMED


def test_an_order_created_in_the_erp_arrives_and_its_lines_follow(two_way_project: Any) -> None:
    world = two_way_project
    crm, erp = world.crm(), world.erp()
    products = external_products(crm)
    customer = crm_rows(crm, "accounts", ["accountnumber"], "accountnumber ne null")[2]["accountnumber"]
    number = confirmed_erp_order(
        world,
        customer,
        [products[0]["productnumber"], products[1]["productnumber"]],
        quantity=2,
        SalesOrderName="Typed in the ERP",
    )
    with world.open() as h:
        report = h.run(*FROM_ERP)
        assert (report.tasks[0].created, report.tasks[1].created) == (1, 2), report.tasks
        [order] = crm_rows(crm, "salesorders", ["salesorderid", "name"], f"ordernumber eq '{number}'")
        assert order["name"] == "Typed in the ERP"
        # the ERP removes a line: the CRM line goes too
        r = erp.delete(
            f"CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='{number}',LineCreationSequenceNumber=2)"
        )
        assert r.status_code == 204, r.text
        again = h.run(*FROM_ERP)
        assert again.tasks[1].deleted == 1, again.tasks
        assert sorted(crm_order(world, order["salesorderid"])[1]) == [1]
        for tasks in (TO_ERP, FROM_ERP):  # and nothing travels back to the ERP
            assert sum(t.written for t in h.run(*tasks).tasks) == 0
        # an order that merely leaves the flow (its customer is no longer externally maintained) is
        # not deleted at the source: its CRM lines stay
        r = erp.patch(
            f"CustomersV3(dataAreaId='usmf',CustomerAccount='{customer}')",
            json={"IsExternallyMaintained": "No"},
        )
        assert r.status_code == 204, r.text
        r = erp.patch(
            f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{number}')",
            json={"SalesOrderName": "Left the flow"},
        )
        assert r.status_code == 204, r.text
        line = erp.get(
            f"CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='{number}',LineCreationSequenceNumber=1)"
        )
        assert line.json()["OrderingCustomerIsExternallyMaintained"] == "No"  # out of the filter now
        kept = h.run(*FROM_ERP)
        assert kept.tasks[1].deleted == 0, kept.tasks
        assert sorted(crm_order(world, order["salesorderid"])[1]) == [1]


def test_erp_dates_arrive_as_dates_and_the_erp_empty_date_as_nothing(two_way_project: Any) -> None:
    """F&O never sends null dates: an empty one is 1900-01-01, a date-only one comes at noon UTC
    (FNO.md §1.5). Mapped onto CRM date columns by a project, they arrive as the date, or empty."""
    world = two_way_project
    world.write(
        tasks={
            "OrderHeaderFromERP": {
                "fields": {"requestdeliveryby": "RequestedReceiptDate", "datefulfilled": "DeliveryValidTo"}
            }
        }
    )
    crm, erp = world.crm(), world.erp()
    products = external_products(crm)
    customer = crm_rows(crm, "accounts", ["accountnumber"], "accountnumber ne null")[2]["accountnumber"]
    numbers = [
        confirmed_erp_order(world, customer, [products[0]["productnumber"]], **dated)
        for dated in ({"RequestedReceiptDate": "2026-12-01T12:00:00Z"}, {})
    ]
    dated, undated = (
        erp.get(
            f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{n}')",
            params={"cross-company": "true"},
        ).json()
        for n in numbers
    )
    assert dated["RequestedReceiptDate"] == "2026-12-01T12:00:00Z"
    assert undated["RequestedReceiptDate"].startswith("1900-01-01")  # the ERP's empty date
    assert undated["DeliveryValidTo"].startswith("1900-01-01")
    with world.open() as h:
        report = h.run("OrderHeaderFromERP")
    assert report.status is RunStatus.SUCCEEDED and report.tasks[0].created == 2, report.tasks
    orders = {
        o["ordernumber"]: o
        for o in crm_rows(
            crm,
            "salesorders",
            ["ordernumber", "requestdeliveryby", "datefulfilled"],
            f"ordernumber eq '{numbers[0]}' or ordernumber eq '{numbers[1]}'",
        )
    }
    assert orders[numbers[0]]["requestdeliveryby"] == "2026-12-01"
    assert orders[numbers[1]]["requestdeliveryby"] is None
    assert orders[numbers[1]]["datefulfilled"] is None
    with world.open() as h:
        assert h.run("OrderHeaderFromERP").tasks[0].written == 0
