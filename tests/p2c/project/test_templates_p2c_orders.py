"""orders_to_erp.yaml and orders_from_erp.yaml (flow 5): sales orders both ways, in one project."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from p2c.errors import RecordError, WaitingForParentError
from p2c.project import Project, load_project, load_template
from p2c.rules import processing_status_from_erp, restore_line_discount, split_line_discount
from p2c.settings import System

NOYES = "Microsoft.Dynamics.DataEntities.NoYes"
ERP_FILTER = (
    f"OrderingCustomerIsExternallyMaintained eq {NOYES}'Yes'"
    f" and InvoiceCustomerIsExternallyMaintained eq {NOYES}'Yes'"
    " and SalesOrderProcessingStatus ne Microsoft.Dynamics.DataEntities.SalesOrderProcessingStatus'Active'"
    f" and AreTotalsUpdated eq {NOYES}'Yes'"
)

# CRM → ERP lookups (by the CRM record id)
ACCOUNT_NUMBER = ("accounts", "accountid", "accountnumber")
CONTACT_NUMBER = ("contacts", "contactid", "p2c_contactnumber")
CURRENCY_CODE = ("transactioncurrencies", "transactioncurrencyid", "isocurrencycode")
ORDER_NUMBER = ("salesorders", "salesorderid", "ordernumber")
PRODUCT_NUMBER = ("products", "productid", "productnumber")
UNIT_NAME = ("uoms", "uomid", "name")
# ERP → CRM lookups (by the ERP's value)
ACCOUNT_ID = ("accounts", "accountnumber", "accountid")
CONTACT_ID = ("contacts", "p2c_contactnumber", "contactid")
CURRENCY_ID = ("transactioncurrencies", "isocurrencycode", "transactioncurrencyid")
PRICE_LIST_ID = ("pricelevels", "name", "pricelevelid")
ORDER_ID = ("salesorders", "ordernumber", "salesorderid")
PRODUCT_ID = ("products", "productnumber", "productid")
UNIT_ID = ("uoms", "name", "uomid")

FROM_ERP_HEADER_RELATED = {
    ACCOUNT_ID: {"ACC-01000-ABCDEF": "a1"},
    ("teams", "teamid", "teamid"): {"t-us": "t-us"},  # company_owner: the company's owning team
    CONTACT_ID: {},
    CURRENCY_ID: {"USD": "c-usd", "EUR": "c-eur"},
    PRICE_LIST_ID: {"CRM Service USA (sample)": "pl-usa"},
}
FROM_ERP_LINE_RELATED = {
    ORDER_ID: {"ORD-01000-XYZXYZ": "o1"},
    PRODUCT_ID: {"D0001": "p1"},
    UNIT_ID: {"ea": "u-ea", "Primary Unit": "u-primary"},
}


@pytest.fixture
def project(write: Callable[..., Path]) -> Project:
    return load_project(
        write(
            "name: p2c\nconnections: connections.yaml\n"
            "templates: [accounts, products, contacts, orders_to_erp, orders_from_erp]\n"
        )
    )


def test_orders_templates_follow_p2c() -> None:
    header, line = load_template("orders_to_erp").tasks
    back_header, back_line = load_template("orders_from_erp").tasks
    # task names key the store's links: the two directions must not share them
    assert [header.name, line.name, back_header.name, back_line.name] == [
        "OrderHeader", "OrderLine", "OrderHeaderFromERP", "OrderLineFromERP",
    ]  # fmt: skip
    assert (header.source.entity, header.target.entity) == ("salesorders", "CDSSalesOrderHeaders")
    assert header.key_source == ("ordernumber",) and header.key_target == ("dataAreaId", "SalesOrderNumber")
    assert header.filter == (
        "(statecode eq 0 or statecode eq 1) and p2c_processingstatus eq 100000001"
        " and p2c_hasexternallymaintainedproductsonly eq true"
    )
    assert (line.source.entity, line.target.entity) == ("salesorderdetails", "CDSSalesOrderLines")
    assert line.key_target == ("dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber")
    assert line.rules == ("split_line_discount", "lines_follow_headers")
    assert (back_header.source.system, back_header.target.system) == (System.ERP, System.CRM)
    assert back_header.key_source == ("dataAreaId", "SalesOrderNumber")
    assert back_header.key_target == ("ordernumber",)
    assert back_header.filter == ERP_FILTER
    assert back_header.rules == (
        "map_processing_status",
        "keep_order_active",
        "freight_tax_line",
        "company_owner",
    )
    assert back_header.depends_on == ("Accounts", "Products")
    assert back_line.key_source == ("dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber")
    assert back_line.key_target == ("salesorderid", "sequencenumber")
    assert back_line.rules == ("restore_line_discount", "lines_follow_headers")
    assert {"OrderedSalesQuantity", "LineDiscountAmount", "FixedPriceCharges"} <= back_line.source_fields()
    assert {"SalesOrderProcessingStatus", "OrderHeaderTaxAmount"} <= back_header.source_fields()


def test_order_to_erp_payloads(project: Project) -> None:
    header = {
        "salesorderid": "o1", "ordernumber": "ORD-01000-XYZXYZ", "name": "Lobby speakers", "statecode": 0,
        "p2c_processingstatus": 100000001, "_customerid_value": "k1", "_transactioncurrencyid_value": "c-usd",
        "requestdeliveryby": "2025-04-01", "shipto_name": None, "shipto_line1": "1 Main St",
        "shipto_city": "Redmond", "shipto_stateorprovince": "WA", "shipto_postalcode": "98052",
        "shipto_country": "", "discountamount": Decimal("20"), "freightamount": Decimal("9.95"),
    }  # fmt: skip
    related = {
        ACCOUNT_NUMBER: {},
        CONTACT_NUMBER: {"k1": "CON-01000-BVRCPS"},
        CURRENCY_CODE: {"c-usd": "USD"},
    }
    assert project.mapper("OrderHeader", "usmf").map(header, related) == {
        "dataAreaId": "usmf",
        "SalesOrderNumber": "ORD-01000-XYZXYZ",
        "SalesOrderName": "Lobby speakers",
        "OrderingCustomerAccountNumber": "CON-01000-BVRCPS",
        "InvoiceCustomerAccountNumber": "CON-01000-BVRCPS",
        "CurrencyCode": "USD",
        "RequestedReceiptDate": "2025-04-01",
        "DeliveryAddressName": None,
        "DeliveryAddressStreet": "1 Main St",
        "DeliveryAddressCity": "Redmond",
        "DeliveryAddressStateId": "WA",
        "DeliveryAddressZipCode": "98052",
        "DeliveryAddressCountryRegionISOCode": "US",
    }
    # no requested delivery date: the order date (the day it was created), never 1900-01-01
    undated = {**header, "requestdeliveryby": None, "createdon": "2025-03-20T09:30:00Z"}
    assert project.mapper("OrderHeader", "usmf").map(undated, related)["RequestedReceiptDate"] == (
        "2025-03-20T09:30:00Z"
    )
    per_unit, charge = split_line_discount(Decimal("3"), Decimal("10.00"), 2)
    line = {
        "salesorderdetailid": "d1", "_salesorderid_value": "o1", "sequencenumber": 1, "_productid_value": "p1",
        "_uomid_value": "u-ea", "quantity": Decimal("3"), "priceperunit": Decimal("219.00"),
        "manualdiscountamount": Decimal("10.00"), "tax": Decimal("52.00"), "description": None,
        "$discount_per_unit": per_unit, "$discount_charge": charge,
    }  # fmt: skip
    related = {
        ORDER_NUMBER: {"o1": "ORD-01000-XYZXYZ"},
        PRODUCT_NUMBER: {"p1": "D0001"},
        UNIT_NAME: {"u-ea": "ea"},
    }
    assert project.mapper("OrderLine", "usmf").map(line, related) == {
        "dataAreaId": "usmf",
        "SalesOrderNumber": "ORD-01000-XYZXYZ",
        "LineCreationSequenceNumber": 1,
        "ProductNumber": "D0001",
        "LineDescription": None,
        "OrderedSalesQuantity": Decimal("3"),
        "SalesUnitSymbol": "ea",
        "SalesPrice": Decimal("219.00"),
        "LineDiscountAmount": Decimal("3.33"),
        "FixedPriceCharges": Decimal("-0.01"),
    }


def test_order_from_erp_header_payload(project: Project) -> None:
    row = {
        "dataAreaId": "usmf", "SalesOrderNumber": "ORD-01000-XYZXYZ", "SalesOrderName": "",
        "OrderingCustomerAccountNumber": "ACC-01000-ABCDEF", "InvoiceCustomerAccountNumber": "ACC-01000-ABCDEF",
        "CurrencyCode": "USD", "SalesOrderProcessingStatus": "PartiallyDelivered",
        "OrderHeaderTaxAmount": Decimal("1.50"),
        "DeliveryAddressName": "Lobby", "DeliveryAddressStreet": "1 Main St\nFloor 3",
        "DeliveryAddressCity": "Redmond", "DeliveryAddressStateId": "WA", "DeliveryAddressZipCode": "98052",
        "DeliveryAddressCountryRegionId": "USA", "InvoiceAddressStreet": "2 Side Rd",
        "InvoiceAddressCity": "Toronto", "InvoiceAddressStateId": "ON", "InvoiceAddressZipCode": "M5V",
        "InvoiceAddressCountryRegionId": "CAN",
        "$processing_status": processing_status_from_erp("PartiallyDelivered"),  # map_processing_status
        "$owning_team": "t-us",  # company_owner
    }  # fmt: skip
    assert project.mapper("OrderHeaderFromERP", "usmf").map(row, FROM_ERP_HEADER_RELATED) == {
        "ordernumber": "ORD-01000-XYZXYZ",
        "name": "(no name)",
        "customerid": ("accounts", "a1"),
        "ownerid": ("teams", "t-us"),  # the company's owning team (company_owner)
        "transactioncurrencyid": "c-usd",
        "pricelevelid": "pl-usa",  # currency_price_list: USD → CRM Service USA (sample)
        "p2c_processingstatus": 100000009,
        "p2c_isexternallymaintained": True,
        "shipto_name": "Lobby",
        "shipto_line1": "1 Main St",
        "shipto_line2": "Floor 3",
        "shipto_line3": None,
        "shipto_city": "Redmond",
        "shipto_stateorprovince": "WA",
        "shipto_postalcode": "98052",
        "shipto_country": "United States",
        "billto_line1": "2 Side Rd",
        "billto_line2": None,
        "billto_line3": None,
        "billto_city": "Toronto",
        "billto_stateorprovince": "ON",
        "billto_postalcode": "M5V",
        "billto_country": "Canada",
    }


def test_order_from_erp_header_waits_for_its_customer_and_needs_a_price_list(project: Project) -> None:
    mapper = project.mapper("OrderHeaderFromERP", "usmf")
    row = {"dataAreaId": "usmf", "SalesOrderNumber": "000042", "OrderingCustomerAccountNumber": "ACC-9",
           "CurrencyCode": "USD", "$processing_status": "Confirmed"}  # fmt: skip
    with pytest.raises(WaitingForParentError) as waiting:
        mapper.map(row, FROM_ERP_HEADER_RELATED)
    assert waiting.value.field == "customerid" and waiting.value.key == "usmf,000042"
    with pytest.raises(RecordError) as failed:
        mapper.map({**row, "OrderingCustomerAccountNumber": "ACC-01000-ABCDEF", "CurrencyCode": "EUR"},
                   FROM_ERP_HEADER_RELATED)  # fmt: skip
    assert failed.value.field == "pricelevelid" and "currency_price_list" in failed.value.reason


def test_order_from_erp_line_payload_restores_the_discount(project: Project) -> None:
    discount = restore_line_discount(Decimal("3"), Decimal("3.33"), Decimal("-0.01"))
    row = {
        "dataAreaId": "usmf", "SalesOrderNumber": "ORD-01000-XYZXYZ", "LineCreationSequenceNumber": 1,
        "ProductNumber": "D0001", "SalesUnitSymbol": "", "OrderedSalesQuantity": Decimal("3"),
        "SalesPrice": Decimal("219.00"), "LineDiscountAmount": Decimal("3.33"),
        "FixedPriceCharges": Decimal("-0.01"), "TotalTaxAmount": Decimal("52.00"),
        "LineDescription": "MidRangeSpeaker", "$line_discount": discount,
        "DeliveryAddressName": "Dock", "DeliveryAddressStreet": "1 Pier Rd\nGate 4", "DeliveryAddressCity": "Tacoma",
        "DeliveryAddressStateId": "WA", "DeliveryAddressZipCode": "98402", "DeliveryAddressCountryRegionId": "USA",
    }  # fmt: skip
    assert project.mapper("OrderLineFromERP", "usmf").map(row, FROM_ERP_LINE_RELATED) == {
        "salesorderid": "o1",
        "sequencenumber": 1,
        "isproductoverridden": False,
        "productid": "p1",
        "uomid": "u-primary",  # unit map: an ERP line without a unit → Primary Unit
        "quantity": Decimal("3"),
        "ispriceoverridden": True,
        "priceperunit": Decimal("219.00"),
        "manualdiscountamount": Decimal("10.00"),  # 3 × 3.33 + 0.01
        "tax": Decimal("52.00"),
        "description": "MidRangeSpeaker",
        # the line's own ship-to address, country through erp_country
        "shipto_name": "Dock",
        "shipto_line1": "1 Pier Rd",
        "shipto_line2": "Gate 4",
        "shipto_line3": None,
        "shipto_city": "Tacoma",
        "shipto_stateorprovince": "WA",
        "shipto_postalcode": "98402",
        "shipto_country": "United States",
    }
    with pytest.raises(WaitingForParentError) as waiting:
        project.mapper("OrderLineFromERP", "usmf").map(
            {**row, "SalesOrderNumber": "000099"}, FROM_ERP_LINE_RELATED
        )
    assert waiting.value.field == "salesorderid"
