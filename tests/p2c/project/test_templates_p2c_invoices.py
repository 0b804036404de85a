"""invoices.yaml (flow 6): ERP invoices of externally maintained customers → CRM invoices."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from p2c.errors import RecordError
from p2c.project import Project, load_project, load_template
from p2c.rules import invoice_line_discount, invoice_line_tax
from p2c.settings import System

ACCOUNT_ID = ("accounts", "accountnumber", "accountid")
ORDER_ID = ("salesorders", "ordernumber", "salesorderid")
CURRENCY_ID = ("transactioncurrencies", "isocurrencycode", "transactioncurrencyid")
PRICE_LIST_ID = ("pricelevels", "name", "pricelevelid")
INVOICE_ID = ("invoices", "invoicenumber", "invoiceid")
PRODUCT_ID = ("products", "productnumber", "productid")
UNIT_ID = ("uoms", "name", "uomid")

HEADER_RELATED = {
    ACCOUNT_ID: {"ACC-01000-ABCDEF": "a1"},
    ("teams", "teamid", "teamid"): {"t-us": "t-us", "t-order": "t-order"},  # owning / order's team
    ("systemusers", "systemuserid", "systemuserid"): {"u-order": "u-order"},  # the order's owner
    ORDER_ID: {"ORD-01000-XYZXYZ": "o1"},
    CURRENCY_ID: {"USD": "c-usd"},
    PRICE_LIST_ID: {"CRM Service USA (sample)": "pl-usa"},
}
LINE_RELATED = {INVOICE_ID: {"CIV-000001": "i1"}, PRODUCT_ID: {"D0001": "p1"}, UNIT_ID: {"hour": "u-hour"}}


@pytest.fixture
def project(write: Callable[..., Path]) -> Project:
    return load_project(
        write(
            "name: p2c\nconnections: connections.yaml\n"
            "templates: [accounts, products, orders_from_erp, invoices]\n"
        )
    )


def test_invoices_template_follows_p2c() -> None:
    header, line = load_template("invoices").tasks
    assert (header.name, header.source.system, header.target.system) == (
        "SalesInvoiceHeader", System.ERP, System.CRM,
    )  # fmt: skip
    assert header.source.entity == "ExternallyMaintainedCustomerSalesInvoiceHeaders"
    assert header.key_source == ("dataAreaId", "InvoiceNumber", "InvoiceDate", "LedgerVoucher")
    assert header.key_target == ("invoicenumber",)
    assert header.filter is None  # the entity holds only invoices of externally maintained customers
    assert header.rules == ("invoice_marks_order", "order_owner", "company_owner")
    assert header.depends_on == ("Accounts", "Products", "OrderHeaderFromERP", "OrderLineFromERP")
    assert (line.name, line.source.entity, line.target.entity) == (
        "SalesInvoiceLine", "ExternallyMaintainedCustomerSalesInvoiceLines", "invoicedetails",
    )  # fmt: skip
    assert line.key_target == ("invoiceid", "sequencenumber")
    assert line.rules == ("invoice_line_tax", "invoice_line_discount", "lines_follow_headers")
    # header charge tax is not synchronised; the line's tax (with its charges' tax) is
    assert "InvoiceHeaderTaxAmount" not in header.source_fields()
    assert "LineTotalTaxAmount" in line.source_fields()


def test_invoice_header_payload(project: Project) -> None:
    row = {
        "dataAreaId": "usmf", "InvoiceNumber": "CIV-000001", "InvoiceDate": "2025-05-02T12:00:00Z",
        "LedgerVoucher": "ARI000001", "InvoiceCustomerAccountNumber": "ACC-01000-ABCDEF",
        "SalesOrderNumber": "ORD-01000-XYZXYZ", "CurrencyCode": "USD", "TotalTaxAmount": Decimal("12.50"),
        "InvoiceHeaderTaxAmount": Decimal("2.50"), "InvoiceAddressStreet": "1 Main St\nFloor 3",
        "InvoiceAddressCity": "Redmond", "InvoiceAddressState": "WA", "InvoiceAddressZipCode": "98052",
        "InvoiceAddressCountryRegionId": "USA", "$owning_team": "t-us",
        "$order_owner_user": None, "$order_owner_team": None,
    }  # fmt: skip
    assert project.mapper("SalesInvoiceHeader", "usmf").map(row, HEADER_RELATED) == {
        "invoicenumber": "CIV-000001",  # the invoice number is carried over
        "name": "Invoice CIV-000001",
        "customerid": ("accounts", "a1"),
        "ownerid": ("teams", "t-us"),  # the company's owning team (company_owner)
        "salesorderid": "o1",
        "transactioncurrencyid": "c-usd",
        "pricelevelid": "pl-usa",
        "p2c_isexternallymaintained": True,
        "p2c_invoicedate": "2025-05-02T12:00:00Z",  # InvoiceDate (the reader makes it 2025-05-02)
        "billto_line1": "1 Main St",
        "billto_line2": "Floor 3",
        "billto_line3": None,
        "billto_city": "Redmond",
        "billto_stateorprovince": "WA",
        "billto_postalcode": "98052",
        "billto_country": "United States",  # the invoice country value map (erp_country)
    }
    # the invoice is given its order's owner, a user or a team, before the company's team
    mapper = project.mapper("SalesInvoiceHeader", "usmf")
    assert mapper.map({**row, "$order_owner_user": "u-order"}, HEADER_RELATED)["ownerid"] == (
        "systemusers", "u-order",
    )  # fmt: skip
    assert mapper.map({**row, "$order_owner_team": "t-order"}, HEADER_RELATED)["ownerid"] == (
        "teams",
        "t-order",
    )
    # an invoice without a sales order has none in the CRM either
    out = project.mapper("SalesInvoiceHeader", "usmf").map({**row, "SalesOrderNumber": ""}, HEADER_RELATED)
    assert out["salesorderid"] is None
    with pytest.raises(RecordError) as failed:
        project.mapper("SalesInvoiceHeader", "usmf").map(
            {**row, "InvoiceAddressCountryRegionId": "ATL"}, HEADER_RELATED
        )
    assert failed.value.field == "billto_country" and "erp_country" in failed.value.reason


def test_invoice_line_payload(project: Project) -> None:
    row = {
        "dataAreaId": "usmf", "InvoiceNumber": "CIV-000001", "InvoiceDate": "2025-05-02T12:00:00Z",
        "LedgerVoucher": "ARI000001", "LineCreationSequenceNumber": 3, "ProductNumber": "D0001",
        "ProductDescription": "Installation hours", "SalesUnitSymbol": "hour", "InvoicedQuantity": Decimal("2.5"),
        "SalesPrice": Decimal("80.00"), "LineAmount": Decimal("190.00"), "LineTotalDiscountAmount": Decimal("10.00"),
        "LineTotalChargeAmount": Decimal("5.00"), "LineTotalTaxAmount": Decimal("19.50"),
    }  # fmt: skip
    row["$line_tax"] = invoice_line_tax(row)
    row["$invoice_line_discount"] = invoice_line_discount(row, precision=2)  # 5.00: a real charge
    assert project.mapper("SalesInvoiceLine", "usmf").map(row, LINE_RELATED) == {
        "invoiceid": "i1",
        "sequencenumber": 3,
        "isproductoverridden": False,
        "productid": "p1",
        "uomid": "u-hour",
        "quantity": Decimal("2.5"),
        "ispriceoverridden": True,
        "priceperunit": Decimal("80.00"),
        "manualdiscountamount": Decimal("10.00"),
        "tax": Decimal("19.50"),  # line charge tax included
        "description": "Installation hours",
    }
