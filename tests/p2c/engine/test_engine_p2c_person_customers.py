"""Orders and invoices of person customers (a CRM contact that is an ERP customer, P2C.md flows 3,
5 and 6) come back from the ERP onto that contact, over HTTPS against the sandbox."""

from __future__ import annotations

from typing import Any

from engine_helpers import crm_rows, erp_rows
from test_engine_p2c_orders import new_order
from test_engine_p2c_quotes import external_products
from test_engine_p2c_two_way import FROM_ERP, TO_ERP, confirmed_erp_order, erp_action

from p2c.store import Action, RunStatus

INVOICES = ("SalesInvoiceHeader", "SalesInvoiceLine")
CONTACTS = ("Contacts", "ContactToCustomer")
INVOICED = 100000004  # p2c_processingstatus Invoiced
ANNOTATIONS = {"Prefer": 'odata.include-annotations="*"'}
LOGICAL_NAME = "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"


def new_contact(crm: Any, lastname: str, **fields: Any) -> str:
    response = crm.post(
        "contacts",
        json={"firstname": "Pat", "lastname": lastname, **fields},
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["contactid"])


def test_a_person_customers_order_and_invoice_come_back_onto_the_contact(every_flow_project: Any) -> None:
    world = every_flow_project
    crm = world.crm()
    products = external_products(crm)
    contact = new_contact(crm, "Person-Customer")
    order, number = new_order(
        crm,
        [{"product": products[0], "quantity": 3}, {"product": products[1], "quantity": 2}],
        contact=contact,
    )
    # the order makes the contact an active customer: it becomes an ERP customer (a person), then
    # the order goes to the ERP under the contact's number
    with world.open() as h:
        sent = h.run(*CONTACTS, *TO_ERP)
    assert sent.status is RunStatus.SUCCEEDED, sent.tasks
    [person] = crm_rows(crm, "contacts", ["p2c_contactnumber"], f"contactid eq {contact}")
    customer_number = person["p2c_contactnumber"]
    [erp_customer] = erp_rows(
        world.erp(),
        "CustomersV3",
        ["PartyType"],
        f"dataAreaId eq 'usmf' and CustomerAccount eq '{customer_number}'",
    )
    assert erp_customer["PartyType"] == "Person"
    [erp_header] = erp_rows(
        world.erp(),
        "CDSSalesOrderHeaders",
        ["OrderingCustomerAccountNumber", "InvoiceCustomerAccountNumber"],
        f"dataAreaId eq 'usmf' and SalesOrderNumber eq '{number}'",
    )
    assert erp_header == {**erp_header, "OrderingCustomerAccountNumber": customer_number}

    erp_action(world, number, "confirm")
    erp_action(world, number, "calculate-totals")
    erp_action(world, number, "invoice")
    erp_action(world, number, "calculate-totals")
    with world.open() as h:
        back = h.run(*FROM_ERP, *INVOICES)
    assert back.status is RunStatus.SUCCEEDED, back.tasks
    header, lines, inv_header, inv_lines = back.tasks
    # onto the order and lines it came from, not duplicated
    assert (header.created, header.updated, lines.created, lines.updated) == (0, 1, 0, 2), back.tasks
    assert (inv_header.created, inv_lines.created) == (1, 2), back.tasks
    assert sum(t.waiting + t.failed for t in back.tasks) == 0, back.tasks

    [crm_order] = crm_rows(
        crm,
        "salesorders",
        ["salesorderid", "_customerid_value", "p2c_processingstatus", "statecode"],
        f"ordernumber eq '{number}'",
    )
    assert str(crm_order["salesorderid"]) == order and str(crm_order["_customerid_value"]) == contact
    assert (crm_order["p2c_processingstatus"], crm_order["statecode"]) == (INVOICED, 4)
    [erp_invoice] = erp_rows(
        world.erp(),
        "ExternallyMaintainedCustomerSalesInvoiceHeaders",
        ["InvoiceNumber", "InvoiceCustomerAccountNumber"],
        f"dataAreaId eq 'usmf' and SalesOrderNumber eq '{number}'",
    )
    assert erp_invoice["InvoiceCustomerAccountNumber"] == customer_number
    response = crm.get(
        "invoices",
        params={
            "$select": "invoiceid,_customerid_value,_salesorderid_value",
            "$filter": f"invoicenumber eq '{erp_invoice['InvoiceNumber']}'",
        },
        headers=ANNOTATIONS,
    )
    assert response.status_code == 200, response.text
    [invoice] = response.json()["value"]
    assert str(invoice["_customerid_value"]) == contact and str(invoice["_salesorderid_value"]) == order
    assert invoice[LOGICAL_NAME] == "contact"  # the customer is the contact, not an account
    assert crm_rows(crm, "accounts", ["accountid"], f"accountid eq {contact}") == []

    with world.open() as h:
        again = h.run(*FROM_ERP, *INVOICES)
        assert again.status is RunStatus.SUCCEEDED, again.tasks
        assert sum(t.written + t.waiting + t.failed for t in again.tasks) == 0, again.tasks
        echo = h.run(*CONTACTS, *TO_ERP)
        assert sum(t.written for t in echo.tasks) == 0, echo.tasks


def test_an_erp_order_of_an_unknown_customer_waits_naming_both_lookups(every_flow_project: Any) -> None:
    """A customer typed in the ERP that is neither a CRM account nor a CRM contact: its order waits
    with the reason, and arrives once a contact with that number exists."""
    world = every_flow_project
    crm, erp = world.crm(), world.erp()
    products = external_products(crm)
    number_of_customer = "CON-09999-NOBODY"
    customer = {
        "dataAreaId": "usmf",
        "CustomerAccount": number_of_customer,
        "PartyType": "Person",
        "PersonFirstName": "No",
        "PersonLastName": "Body",
        "CustomerGroupId": "10",
        "SalesCurrencyCode": "USD",
        "IsExternallyMaintained": "Yes",
    }
    response = erp.post("CustomersV3", json=customer)
    assert response.status_code == 201, response.text
    number = confirmed_erp_order(
        world, number_of_customer, [products[0]["productnumber"]], SalesOrderName="Nobody's"
    )

    with world.open() as h:
        report = h.run(*FROM_ERP)
        assert report.status is RunStatus.SUCCEEDED, report.tasks
        assert [(t.waiting, t.failed, t.written) for t in report.tasks] == [(1, 0, 0), (1, 0, 0)], (
            report.tasks
        )
        waiting = {o.task: o for o in h.store.outcomes(report.run_id, actions=[Action.WAITING])}
    header = waiting["OrderHeaderFromERP"]
    assert header.source_key == f"usmf,{number}"
    assert (
        f"no accounts with accountnumber '{number_of_customer}'"
        f" and no contacts with p2c_contactnumber '{number_of_customer}' yet"
    ) in (header.message or ""), header.message
    assert crm_rows(crm, "salesorders", ["salesorderid"], f"ordernumber eq '{number}'") == []

    # the person gets a CRM contact with that number: the waiting order and its line arrive
    contact = new_contact(crm, "Body", p2c_contactnumber=number_of_customer)
    with world.open() as h:
        later = h.run(*FROM_ERP)
    assert later.status is RunStatus.SUCCEEDED, later.tasks
    assert [(t.created, t.waiting, t.failed) for t in later.tasks] == [(1, 0, 0), (1, 0, 0)], later.tasks
    [crm_order] = crm_rows(crm, "salesorders", ["_customerid_value"], f"ordernumber eq '{number}'")
    assert str(crm_order["_customerid_value"]) == contact
