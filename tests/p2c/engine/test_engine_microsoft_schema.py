"""``crm_schema: microsoft`` on a sandbox CRM with Microsoft's P2C solution (seed ``demo+microsoft``):
setup creates none of the solution's columns, and every flow reads and writes the msdynce_ ones."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from engine_helpers import crm_rows
from test_engine_p2c_orders import erp_order, new_order
from test_engine_p2c_two_way import erp_action

from p2c.setup import StepAction, StepKind, provision
from p2c.store import RunStatus

ALL = ["accounts", "products", "contacts", "quotes", "orders_to_erp", "orders_from_erp", "invoices"]
REFERENCE = ("Accounts", "Products", "ProductPriceListItems", "Contacts", "ContactToCustomer")
ACTIVE, CONFIRMED, INVOICED, DRAFT = 647390000, 647390001, 647390003, 647390011


def with_solution(world: Any) -> None:
    """The CRM wiped and seeded with Microsoft's P2C solution (the ERP keeps the demo seed)."""
    world.sandbox.admin("crm").post("reset", json={"seed": "demo+microsoft"}).raise_for_status()


@pytest.fixture
def ms_world(provisioned_project: Any) -> Any:
    """The engine world of the p2c project, on a CRM re-seeded with the solution (so without p2c's
    columns), with ``crm_schema: microsoft`` and every template."""
    world = provisioned_project
    with_solution(world)
    world.write(templates=ALL, crm_schema="microsoft")
    return world


def external_products(crm: httpx.Client) -> list[dict[str, Any]]:
    rows = crm_rows(
        crm,
        "products",
        ["productid", "productnumber", "_defaultuomid_value", "statecode"],
        "msdynce_ismaintainedexternally eq true",
    )
    return sorted((r for r in rows if r["statecode"] == 0), key=lambda r: r["productnumber"])


def test_setup_creates_no_solution_column_and_reports_none_missing(ms_world: Any) -> None:
    with ms_world.open() as h:
        report = provision(h.project, h.crm, wait_seconds=30)
    assert not report.failed, report.failed
    columns = [s for s in report.steps if s.kind is StepKind.COLUMN]
    created = {(s.entity, s.name) for s in columns if s.action is StepAction.CREATED}
    assert created == {("invoices", "p2c_isexternallymaintained")}  # no counterpart in the solution
    existing = {s.name for s in columns if s.action is StepAction.EXISTS}
    assert {"msdynce_contactnumber", "msdynce_processingstatus", "msdynce_ismaintainedexternally"} <= existing
    # p2c's keys and change tracking are still provisioned
    keys = ms_world.sandbox.admin("crm").get("keys").json()["value"]
    assert {(k["table"], tuple(k["KeyAttributes"])) for k in keys} >= {
        ("product", ("productnumber",)),
        ("salesorder", ("ordernumber",)),
    }
    tracking = ms_world.sandbox.admin("crm").get("settings").json()["change_tracking"]
    assert tracking["contact"] and tracking["salesorder"]
    attributes = ms_world.crm().get(
        "EntityDefinitions(LogicalName='contact')/Attributes", params={"$select": "LogicalName"}
    )
    assert not [a for a in attributes.json()["value"] if a["LogicalName"].startswith("p2c_")]


def test_setup_without_the_solution_names_the_missing_columns_and_the_setting(ms_world: Any) -> None:
    ms_world.sandbox.admin("crm").post("reset", json={"seed": "demo"}).raise_for_status()
    with ms_world.open() as h:
        report = provision(h.project, h.crm, wait_seconds=30)
    failed = {s.name: s.detail for s in report.failed}
    assert "msdynce_contactnumber" in failed and "msdynce_processingstatus" in failed
    assert "Microsoft's Prospect to cash solution" in failed["msdynce_contactnumber"]
    assert "crm_schema: p2c" in failed["msdynce_contactnumber"]
    assert not any(s.name.startswith("msdynce_") for s in report.created)


@pytest.fixture
def ms_synced(ms_world: Any) -> Any:
    ms_world.provision()
    with ms_world.open() as h:
        report = h.run(*REFERENCE)
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    return ms_world


def test_contacts_and_products_use_the_solution_columns(ms_synced: Any) -> None:
    crm = ms_synced.crm()
    contacts = crm_rows(crm, "contacts", ["contactid", "msdynce_contactnumber", "msdynce_isactivecustomer"])
    assert contacts and all(str(c["msdynce_contactnumber"]).startswith("CON-") for c in contacts)
    customers = {
        str(r["_customerid_value"]).lower()
        for entity in ("quotes", "salesorders", "invoices")
        for r in crm_rows(crm, entity, ["_customerid_value"])
    }
    flagged = {str(c["contactid"]).lower() for c in contacts if c["msdynce_isactivecustomer"]}
    assert flagged == customers & {str(c["contactid"]).lower() for c in contacts}
    assert flagged, "the demo seed has documents of contacts"
    assert len(external_products(crm)) > 0


def test_an_order_activated_by_the_solution_goes_to_the_erp_and_its_status_comes_back(ms_synced: Any) -> None:
    world = ms_synced
    crm = world.crm()
    products = external_products(crm)
    order, number = new_order(crm, [{"product": products[0], "quantity": 2}], activate=False)
    [fresh] = crm_rows(crm, "salesorders", ["msdynce_processingstatus"], f"salesorderid eq {order}")
    assert fresh["msdynce_processingstatus"] == DRAFT
    with world.open() as h:
        assert h.run("OrderHeader", "OrderLine").status is RunStatus.SUCCEEDED
    assert erp_order(world, number) == ([], {})  # a draft order is not sent

    activated = world.sandbox.admin("crm").post(f"salesorders/{order}/activate")
    assert activated.status_code == 200, activated.text
    with world.open() as h:
        report = h.run("OrderHeader", "OrderLine")
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    headers, lines = erp_order(world, number)
    assert len(headers) == 1 and sorted(lines) == [1]

    def status() -> Any:
        fields = ["msdynce_processingstatus", "msdynce_ismaintainedexternally", "statecode"]
        return crm_rows(crm, "salesorders", fields, f"salesorderid eq {order}")[0]

    erp_action(world, number, "confirm")
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        back = h.run("OrderHeaderFromERP", "OrderLineFromERP")
    assert back.status is RunStatus.SUCCEEDED, back.tasks
    assert status()["msdynce_processingstatus"] == CONFIRMED
    assert status()["msdynce_ismaintainedexternally"] is True
    with world.open() as h:  # confirmed: the CRM → ERP filter no longer keeps it, nothing echoes
        again = h.run("OrderHeader", "OrderLine")
    assert sum(t.written for t in again.tasks) == 0

    erp_action(world, number, "invoice")
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        final = h.run("OrderHeaderFromERP", "OrderLineFromERP", "SalesInvoiceHeader", "SalesInvoiceLine")
    assert final.status is RunStatus.SUCCEEDED, final.tasks
    assert status()["msdynce_processingstatus"] == INVOICED
