"""quotes.yaml (flow 4): active CRM quotes of externally maintained products → ERP sales quotations."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from p2c.errors import RecordError, WaitingForParentError
from p2c.project import Project, load_project, load_template
from p2c.settings import System

ACCOUNT_NUMBER = ("accounts", "accountid", "accountnumber")
CONTACT_NUMBER = ("contacts", "contactid", "p2c_contactnumber")
CURRENCY = ("transactioncurrencies", "transactioncurrencyid", "isocurrencycode")
QUOTE_NUMBER = ("quotes", "quoteid", "quotenumber")
PRODUCT_NUMBER = ("products", "productid", "productnumber")
UNIT_NAME = ("uoms", "uomid", "name")

HEADER_RELATED = {
    ACCOUNT_NUMBER: {"a1": "ACC-01000-ABCDEF"},
    CONTACT_NUMBER: {"k1": "CON-01000-BVRCPS"},
    CURRENCY: {"c-usd": "USD", "c-eur": "EUR"},
}
LINE_RELATED = {
    QUOTE_NUMBER: {"q1": "QUO-01001-AAAAAA"},
    PRODUCT_NUMBER: {"p1": "D0001", "p2": "T0001"},
    UNIT_NAME: {"u-ea": "ea", "u-hour": "hour", "u-primary": "Primary Unit"},
}


@pytest.fixture
def project(write: Callable[..., Path]) -> Project:
    return load_project(
        write("name: p2c\nconnections: connections.yaml\ntemplates: [accounts, products, contacts, quotes]\n")
    )


def test_quotes_template_follows_p2c() -> None:
    header, line = load_template("quotes").tasks
    assert (header.name, header.source.system, header.source.entity) == ("QuoteHeader", System.CRM, "quotes")
    assert (header.target.system, header.target.entity) == (System.ERP, "CDSSalesQuotationHeaders")
    assert header.key_source == ("quotenumber",)
    assert header.key_target == ("dataAreaId", "SalesQuotationNumber")
    assert header.filter == "statecode eq 1 and p2c_hasexternallymaintainedproductsonly eq true"
    assert header.depends_on == ("Accounts", "Contacts", "ContactToCustomer", "Products")
    assert (line.name, line.source.entity, line.target.entity) == (
        "QuoteLine", "quotedetails", "CDSSalesQuotationLines",
    )  # fmt: skip
    assert line.key_target == ("dataAreaId", "LineCreationSequenceNumber", "SalesQuotationNumber")
    assert line.filter == "p2c_hasexternallymaintainedproductsonly eq true"
    assert line.depends_on == ("QuoteHeader", "Products")
    assert line.rules == ("split_line_discount", "lines_follow_headers")
    assert {"quantity", "manualdiscountamount"} <= line.source_fields()  # the split reads them
    # the ERP prices the quotation: header discount, discount % and freight, and line tax, are not read
    assert not {"discountamount", "discountpercentage", "freightamount"} & header.source_fields()
    assert "tax" not in line.source_fields()


def test_quote_header_payload(project: Project) -> None:
    row = {
        "quoteid": "q1", "quotenumber": "QUO-01001-AAAAAA", "name": "Speakers for the lobby", "statecode": 1,
        "_customerid_value": "a1", "_transactioncurrencyid_value": "c-eur", "requestdeliveryby": "2025-03-01",
        "expireson": "2025-02-15", "shipto_name": "Lobby", "shipto_line1": "1 Main St", "shipto_line2": None,
        "shipto_line3": "Dock 2", "shipto_city": "Redmond", "shipto_stateorprovince": "WA",
        "shipto_postalcode": "98052", "shipto_country": None,
        "discountamount": Decimal("50.00"), "discountpercentage": Decimal("5"), "freightamount": Decimal("9.95"),
    }  # fmt: skip
    out = project.mapper("QuoteHeader", "usmf").map(row, HEADER_RELATED)
    assert out == {
        "dataAreaId": "usmf",
        "SalesQuotationNumber": "QUO-01001-AAAAAA",
        "SalesQuotationName": "Speakers for the lobby",
        "RequestingCustomerAccountNumber": "ACC-01000-ABCDEF",
        "InvoiceCustomerAccountNumber": "ACC-01000-ABCDEF",
        "CurrencyCode": "EUR",
        "ReceiptDateRequested": "2025-03-01",
        "SalesQuotationExpiryDate": "2025-02-15",
        "DeliveryAddressName": "Lobby",
        "DeliveryAddressStreet": "1 Main St\nDock 2",
        "DeliveryAddressCity": "Redmond",
        "DeliveryAddressStateId": "WA",
        "DeliveryAddressZipCode": "98052",
        "DeliveryAddressCountryRegionISOCode": "US",  # blank ship-to country → US
    }
    # no requested delivery date: the quote's effective-from date, else the day it was created
    mapper = project.mapper("QuoteHeader", "usmf")
    undated = {
        **row,
        "requestdeliveryby": None,
        "effectivefrom": "2025-02-01",
        "createdon": "2025-01-20T09:30:00Z",
    }
    assert mapper.map(undated, HEADER_RELATED)["ReceiptDateRequested"] == "2025-02-01"
    undated["effectivefrom"] = None
    assert mapper.map(undated, HEADER_RELATED)["ReceiptDateRequested"] == "2025-01-20T09:30:00Z"


def test_quote_for_a_contact_goes_to_the_contacts_customer(project: Project) -> None:
    row = {
        "quotenumber": "QUO-01002-BBBBBB", "name": "Q", "_customerid_value": "k1",
        "_transactioncurrencyid_value": None, "shipto_country": "Germany",
    }  # fmt: skip
    out = project.mapper("QuoteHeader", "usmf").map(row, HEADER_RELATED)
    assert out["RequestingCustomerAccountNumber"] == out["InvoiceCustomerAccountNumber"] == "CON-01000-BVRCPS"
    assert out["CurrencyCode"] == "USD"
    assert out["DeliveryAddressCountryRegionISOCode"] == "DE"


def test_quote_line_payload(project: Project) -> None:
    row = {
        "quotedetailid": "d1", "_quoteid_value": "q1", "sequencenumber": 2, "_productid_value": "p2",
        "_uomid_value": "u-hour", "quantity": Decimal("3"), "priceperunit": Decimal("120.00"),
        "manualdiscountamount": Decimal("10.00"), "tax": Decimal("25.20"), "description": "Installation",
        "$discount_per_unit": Decimal("3.33"), "$discount_charge": Decimal("-0.01"),
    }  # fmt: skip
    out = project.mapper("QuoteLine", "usmf").map(row, LINE_RELATED)
    assert out == {
        "dataAreaId": "usmf",
        "SalesQuotationNumber": "QUO-01001-AAAAAA",
        "LineCreationSequenceNumber": 2,
        "ProductNumber": "T0001",
        "LineDescription": "Installation",
        "RequestedSalesQuantity": Decimal("3"),
        "SalesUnitSymbol": "hour",  # CRM unit name → ERP sales unit (unit_to_erp)
        "SalesPrice": Decimal("120.00"),
        "LineDiscountAmount": Decimal("3.33"),
        "FixedPriceCharges": Decimal("-0.01"),
    }


def test_quote_line_waits_for_its_quote_and_fails_on_an_unknown_unit(project: Project) -> None:
    mapper = project.mapper("QuoteLine", "usmf")
    row = {"quotedetailid": "d2", "_quoteid_value": "q9", "sequencenumber": 1, "_productid_value": "p1",
           "_uomid_value": "u-ea", "quantity": Decimal("1")}  # fmt: skip
    with pytest.raises(WaitingForParentError) as waiting:
        mapper.map(row, LINE_RELATED)
    assert waiting.value.field == "SalesQuotationNumber" and waiting.value.key == "d2"
    with pytest.raises(RecordError) as failed:
        mapper.map({**row, "_quoteid_value": "q1", "_uomid_value": "u-primary"}, LINE_RELATED)
    assert failed.value.field == "SalesUnitSymbol" and "unit_to_erp" in failed.value.reason
