"""Several legal entities (issue 9): CRM records go to the company of their owning business unit;
what comes from a company is owned by its team; one account number may be a customer of both."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import crm_rows, erp_rows
from test_engine_p2c_quotes import add_line, external_products

from p2c.store import Action, RunStatus

TWO = {"usmf": "Contoso US", "demf": {"business_unit": "Contoso DE"}}


def unit(crm: Any, name: str) -> str:
    [row] = crm_rows(crm, "businessunits", ["businessunitid"], f"name eq '{name}'")
    return str(row["businessunitid"])


def team(crm: Any, name: str) -> str:
    [row] = crm_rows(crm, "teams", ["teamid"], f"name eq '{name}'")
    return str(row["teamid"])


def new_unit(crm: Any, name: str, parent: str) -> str:
    """A business unit under ``parent`` (Dataverse gives it a default team of the same name)."""
    body = {"name": name, "parentbusinessunitid@odata.bind": f"/businessunits({unit(crm, parent)})"}
    response = crm.post("businessunits", json=body)
    assert response.status_code == 204, response.text
    return unit(crm, name)


def new_account(crm: Any, name: str, number: str | None, owner_team: str | None = None) -> str:
    body: dict[str, Any] = {"name": name, "accountnumber": number}
    if owner_team:
        body["ownerid@odata.bind"] = f"/teams({team(crm, owner_team)})"
    response = crm.post("accounts", json=body, headers={"Prefer": "return=representation"})
    assert response.status_code == 201, response.text
    return str(response.json()["accountid"])


def customers(world: Any) -> dict[tuple[str, str], str]:
    rows = erp_rows(world.erp(), "CustomersV3", ["dataAreaId", "CustomerAccount", "OrganizationName"])
    return {(r["dataAreaId"], r["CustomerAccount"]): r["OrganizationName"] for r in rows}


@pytest.fixture
def two_companies(provisioned_project: Any) -> Any:
    world = provisioned_project
    world.write(legal_entities=TWO)
    return world


def test_accounts_go_to_the_company_of_their_business_unit(two_companies: Any) -> None:
    world = two_companies
    crm = world.crm()
    new_unit(crm, "Contoso DE Sales", "Contoso DE")  # a child of a mapped unit: its parent's company
    new_unit(crm, "Contoso FR", "Contoso (sandbox)")  # mapped by no legal entity
    us = new_account(crm, "Fourth Coffee US", "LE-C1")  # owned by the application user...
    assert crm.patch(  # ...then assigned to the Contoso US team
        f"accounts({us})", json={"ownerid@odata.bind": f"/teams({team(crm, 'Contoso US')})"}
    ).is_success
    new_account(crm, "Fourth Coffee DE", "LE-C1", "Contoso DE")  # the same number, in Germany
    new_account(crm, "Fourth Coffee Berlin", "LE-C2", "Contoso DE Sales")
    fr = new_account(crm, "Fourth Coffee FR", "LE-C3", "Contoso FR")
    root = new_account(crm, "Nobody's", "LE-C4")  # the application user's: the root business unit

    with world.open() as h:
        report = h.run("Accounts")
        skipped = {
            o.source_key: o
            for o in h.store.outcomes(report.run_id, actions=[Action.SKIPPED])
            if o.message and "legal entit" in o.message
        }
        assert report.status is RunStatus.SUCCEEDED, report.tasks
        again = h.run("Accounts")
    found = customers(world)
    assert found[("usmf", "LE-C1")] == "Fourth Coffee US"
    assert found[("demf", "LE-C1")] == "Fourth Coffee DE"  # one number, two customers, no duplicate error
    assert found[("demf", "LE-C2")] == "Fourth Coffee Berlin"
    assert (
        ("usmf", "LE-C2") not in found and ("demf", "LE-C3") not in found and ("usmf", "LE-C3") not in found
    )
    assert set(skipped) == {fr, root}
    assert skipped[fr].message == (
        "owned by business unit 'Contoso FR', which no legal entity of the project maps "
        f"(legal_entities in {world.path.resolve()})"
    )
    assert "'Contoso (sandbox)'" in str(skipped[root].message)
    # the demo's accounts are owned by Contoso US users: all in usmf, none in demf
    demo = crm_rows(
        crm,
        "accounts",
        ["accountnumber"],
        "accountnumber ne null and startswith(accountnumber,'LE-') eq false",
    )
    assert {("usmf", r["accountnumber"]) for r in demo} <= set(found)
    assert not {("demf", r["accountnumber"]) for r in demo} & set(found)
    assert again.tasks[0].written == 0, again.tasks  # idempotent, routing included


def test_one_legal_entity_takes_every_record_whatever_its_business_unit(provisioned_project: Any) -> None:
    world = provisioned_project
    world.write(legal_entities={"usmf": {"business_unit": "Contoso US"}})
    crm = world.crm()
    new_unit(crm, "Contoso FR", "Contoso (sandbox)")
    new_account(crm, "Fabrikam FR", "LE-F1", "Contoso FR")
    new_account(crm, "Fabrikam DE", "LE-F2", "Contoso DE")
    with world.open() as h:
        report = h.run("Accounts")
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    found = customers(world)
    assert found[("usmf", "LE-F1")] == "Fabrikam FR" and found[("usmf", "LE-F2")] == "Fabrikam DE"


def test_two_accounts_of_one_company_with_one_number_still_fail(two_companies: Any) -> None:
    world = two_companies
    crm = world.crm()
    first = new_account(crm, "Twin one", "LE-T1", "Contoso DE")
    second = new_account(crm, "Twin two", "LE-T1", "Contoso DE")
    with world.open() as h:
        report = h.run("Accounts")
        failed = {o.source_key: o for o in h.store.outcomes(report.run_id, actions=[Action.FAILED])}
    assert set(failed) == {first, second}
    assert "not unique" in str(failed[first].message)
    assert ("demf", "LE-T1") not in customers(world)


def erp_action(world: Any, company: str, number: str, action: str) -> None:
    response = world.sandbox.admin("erp").post(f"orders/{company}/{number}/{action}", json={})
    assert response.status_code == 200, response.text


def confirmed_order(world: Any, company: str, customer: str, product: str) -> str:
    """An order typed in the ERP of ``company``, confirmed, totals calculated: its number."""
    erp = world.erp()
    body = {"dataAreaId": company, "OrderingCustomerAccountNumber": customer, "SalesOrderName": "From Berlin"}
    response = erp.post("CDSSalesOrderHeaders", json=body)
    assert response.status_code == 201, response.text
    number = str(response.json()["SalesOrderNumber"])
    line = {
        "dataAreaId": company,
        "SalesOrderNumber": number,
        "LineCreationSequenceNumber": 1,
        "ProductNumber": product,
        "OrderedSalesQuantity": 1,
    }
    assert erp.post("CDSSalesOrderLines", json=line).status_code == 201
    erp_action(world, company, number, "confirm")
    erp_action(world, company, number, "calculate-totals")
    return number


def test_an_order_and_invoice_of_demf_come_owned_by_the_de_team_for_the_de_account(
    provisioned_project: Any,
) -> None:
    world = provisioned_project
    world.write(templates=["accounts", "products", "orders_from_erp", "invoices"])
    world.provision()
    with world.open() as h:  # products as one company (usmf) knows them: products are the organisation's
        assert h.run("Products").status is RunStatus.SUCCEEDED
    world.write(
        legal_entities=TWO,
        tasks={"Products": {"disabled": True}, "ProductPriceListItems": {"disabled": True}},
        value_maps={"currency_price_list": {"EUR": "CRM Service Europe (sample)"}},
    )
    crm = world.crm()
    us = new_account(crm, "Fourth Coffee US", "LE-C1", "Contoso US")
    de = new_account(crm, "Fourth Coffee DE", "LE-C1", "Contoso DE")
    with world.open() as h:
        assert h.run("Accounts").status is RunStatus.SUCCEEDED
    number = confirmed_order(world, "demf", "LE-C1", "D0001")
    with world.open() as h:
        report = h.run("OrderHeaderFromERP")
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    assert report.tasks[0].created == 1, report.tasks
    select = ["salesorderid", "_customerid_value", "_ownerid_value", "_owningbusinessunit_value"]
    [order] = crm_rows(crm, "salesorders", select, f"ordernumber eq '{number}'")
    assert order["_customerid_value"] == de != us  # the account linked to demf/LE-C1
    assert order["_ownerid_value"] == team(crm, "Contoso DE")
    assert order["_owningbusinessunit_value"] == unit(crm, "Contoso DE")
    # a person reassigns the order: the next change from the ERP leaves the owner alone
    alex = crm_rows(crm, "systemusers", ["systemuserid"], "firstname eq 'Alex'")[0]["systemuserid"]
    assert crm.patch(
        f"salesorders({order['salesorderid']})", json={"ownerid@odata.bind": f"/systemusers({alex})"}
    ).is_success
    erp = world.erp()
    r = erp.patch(
        f"CDSSalesOrderHeaders(dataAreaId='demf',SalesOrderNumber='{number}')",
        json={"SalesOrderName": "Renamed"},
        params={"cross-company": "true"},
    )
    assert r.status_code == 204, r.text
    erp_action(world, "demf", number, "calculate-totals")  # an edited order is in the flow again
    with world.open() as h:
        assert h.run("OrderHeaderFromERP").tasks[0].updated == 1
    [order] = crm_rows(crm, "salesorders", ["name", "_ownerid_value"], f"ordernumber eq '{number}'")
    assert (order["name"], order["_ownerid_value"]) == ("Renamed", alex)

    erp_action(world, "demf", number, "invoice")
    with world.open() as h:
        report = h.run("SalesInvoiceHeader")
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    [invoice] = crm_rows(
        crm,
        "invoices",
        ["_customerid_value", "_ownerid_value"],
        f"name eq 'Invoice {_invoice(world, number)}'",
    )
    assert invoice["_customerid_value"] == de
    # the invoice is given its order's owner (the person it was reassigned to), not the company's team
    assert invoice["_ownerid_value"] == alex
    [order] = crm_rows(crm, "salesorders", ["_ownerid_value", "statecode"], f"ordernumber eq '{number}'")
    assert (order["_ownerid_value"], order["statecode"]) == (alex, 4)


def _invoice(world: Any, order: str) -> str:
    [row] = erp_rows(
        world.erp(),
        "ExternallyMaintainedCustomerSalesInvoiceHeaders",
        ["InvoiceNumber"],
        f"dataAreaId eq 'demf' and SalesOrderNumber eq '{order}'",
    )
    return str(row["InvoiceNumber"])


def test_an_owning_team_the_crm_lacks_fails_the_record_naming_team_company_and_setting(
    provisioned_project: Any,
) -> None:
    world = provisioned_project
    world.write(templates=["accounts", "products", "orders_from_erp"])
    world.provision()
    with world.open() as h:
        assert h.run("Products").status is RunStatus.SUCCEEDED
    world.write(
        legal_entities={"usmf": {"business_unit": "Contoso US", "owning_team": "US Inside Sales"}},
        tasks={"Products": {"disabled": True}, "ProductPriceListItems": {"disabled": True}},
    )
    crm = world.crm()
    new_account(crm, "Owned nowhere", "LE-N1", "Contoso US")
    with world.open() as h:
        assert h.run("Accounts").status is RunStatus.SUCCEEDED
        number = confirmed_order(world, "usmf", "LE-N1", "D0001")
        report = h.run("OrderHeaderFromERP")
        [failed] = [
            o
            for o in h.store.outcomes(report.run_id, actions=[Action.FAILED])
            if o.source_key.endswith(number)
        ]
    assert failed.message is not None
    assert "'US Inside Sales'" in failed.message and "usmf" in failed.message
    assert "legal_entities.usmf.owning_team" in failed.message
    assert crm_rows(crm, "salesorders", ["salesorderid"], f"ordernumber eq '{number}'") == []


def test_a_contact_and_a_quote_of_a_de_account_go_to_demf(provisioned_project: Any) -> None:
    world = provisioned_project
    world.write(templates=["accounts", "products", "contacts", "quotes"])
    world.provision()
    with world.open() as h:  # products as one company knows them (they are the organisation's)
        assert h.run("Products", "ProductPriceListItems").status is RunStatus.SUCCEEDED
    world.write(
        legal_entities=TWO,
        tasks={"Products": {"disabled": True}, "ProductPriceListItems": {"disabled": True}},
    )
    crm = world.crm()
    de = new_account(crm, "Fourth Coffee DE", "LE-Q1", "Contoso DE")
    de_team = team(crm, "Contoso DE")
    contact = {
        "lastname": "Becker",
        "parentcustomerid_account@odata.bind": f"/accounts({de})",
        "ownerid@odata.bind": f"/teams({de_team})",
    }
    assert crm.post("contacts", json=contact).status_code == 204
    [product] = external_products(crm)[:1]
    price_list = crm_rows(crm, "pricelevels", ["pricelevelid"], "name eq 'CRM Service USA (sample)'")[0]
    response = crm.post(
        "quotes",
        json={
            "name": "Berlin quote",
            "customerid_account@odata.bind": f"/accounts({de})",
            "pricelevelid@odata.bind": f"/pricelevels({price_list['pricelevelid']})",
            "ownerid@odata.bind": f"/teams({de_team})",
        },
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 201, response.text
    quote = response.json()
    add_line(crm, quote["quoteid"], {"product": product, "quantity": 2})
    assert crm.patch(f"quotes({quote['quoteid']})", json={"statecode": 1, "statuscode": 2}).is_success
    with world.open() as h:
        report = h.run("Accounts", "Contacts", "ContactToCustomer", "QuoteHeader", "QuoteLine")
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    persons = erp_rows(
        world.erp(), "CDSContactPersonsV2", ["dataAreaId", "LastName", "AssociatedContactNumber"]
    )
    assert [
        (p["dataAreaId"], p["AssociatedContactNumber"]) for p in persons if p["LastName"] == "Becker"
    ] == [("demf", "LE-Q1")]
    quotes = erp_rows(
        world.erp(),
        "CDSSalesQuotationHeaders",
        ["dataAreaId", "SalesQuotationNumber", "RequestingCustomerAccountNumber"],
    )
    [erp_quote] = [q for q in quotes if q["SalesQuotationNumber"] == quote["quotenumber"]]
    assert (erp_quote["dataAreaId"], erp_quote["RequestingCustomerAccountNumber"]) == ("demf", "LE-Q1")
    lines = erp_rows(world.erp(), "CDSSalesQuotationLines", ["dataAreaId", "SalesQuotationNumber"])
    assert {ln["dataAreaId"] for ln in lines if ln["SalesQuotationNumber"] == quote["quotenumber"]} == {
        "demf"
    }
