"""Seed data: ``empty`` (companies and lookups, like a fresh environment), ``demo`` (a small Contoso
world, FNO.md §4) and ``large:N`` (volume for benchmarks, built straight into the store).

``demo``: companies usmf (default) and demf; customer groups 10 "Wholesales customers", 20 "Major
customers", 30 "Retail customers"; payment terms Net10/Net30/Net45; sites 1 and 2, warehouses 11, 12
and 13 (13 on site 1); units ea, pcs, hour, m; currencies USD and EUR; sellable products D0001
MidRangeSpeaker and 14 more, including variants of T0002 and H0001 (each variant its own product
number, ``T0002-BLK``), one product stopped for sales (D0007) and one that is not sellable (X0001, no
sales unit); customers US-001..US-005 and DE-001..DE-002 (IsExternallyMaintained No); orders 000001
(open) and 000002 (confirmed, totals calculated, lines D0001, L0001, P0001, D0003, D0004); quotation
000001. Deterministic apart from creation timestamps.

``large:N``: N/10 customers ``LC-000001``.., N/4 products ``LP-000001``.., N/2 orders of 5 lines
(40 % confirmed with totals, 20 % invoiced with invoice rows), all in usmf.

Example::

    seed(service_data, rules, actions, jobs, "demo")
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from p2c_sandbox.clock import now_utc_text
from p2c_sandbox.fno.actions import Actions
from p2c_sandbox.fno.data import Data
from p2c_sandbox.fno.entities import ENTITY_SETS
from p2c_sandbox.fno.jobs import Jobs
from p2c_sandbox.fno.rules import Rules
from p2c_sandbox.fno.values import today_noon_text
from p2c_sandbox.fno.write import insert_entity
from p2c_sandbox.store import share_decimals

__all__ = ["seed"]

COMPANIES = (
    ("usmf", "Contoso Entertainment System USA", "USA", "en-us"),
    ("demf", "Contoso Entertainment System Germany", "DEU", "de"),
)
GROUPS = (("10", "Wholesales customers"), ("20", "Major customers"), ("30", "Retail customers"))
TERMS = (("Net10", "Net 10 days", 10), ("Net30", "Net 30 days", 30), ("Net45", "Net 45 days", 45))
UNITS = (("ea", "Each", 0), ("pcs", "Pieces", 0), ("hour", "Hours", 2), ("m", "Meters", 2))
# number, name, unit, USD price, type; variants are separate product numbers
PRODUCTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("D0001", "MidRangeSpeaker", "ea", "219.00", "Item"),
    ("D0002", "Cabinet", "ea", "95.00", "Item"),
    ("D0003", "StandardSpeaker", "ea", "129.00", "Item"),
    ("D0004", "HighEndSpeaker", "ea", "449.00", "Item"),
    ("D0005", "CarAudioSystem", "ea", "799.00", "Item"),
    ("L0001", "SpeakerCable10", "ea", "12.50", "Item"),
    ("L0002", "SpeakerCable20", "m", "1.99", "Item"),
    ("M0001", "MidRangeWoofer", "pcs", "45.00", "Item"),
    ("P0001", "ProjectorHD", "ea", "1299.00", "Item"),
    ("P0002", "ProjectorScreen", "ea", "349.00", "Item"),
    ("S0001", "InstallationService", "hour", "85.00", "Service"),
    ("T0001", "Television M12037 37in", "ea", "599.00", "Item"),
    ("T0002-BLK", "Television M12040 40in Black", "ea", "699.00", "Item"),
    ("T0002-SLV", "Television M12040 40in Silver", "ea", "699.00", "Item"),
    ("T0002-WHT", "Television M12040 40in White", "ea", "719.00", "Item"),
    ("H0001-BLK", "Headphones Black", "ea", "59.00", "Item"),
    ("H0001-WHT", "Headphones White", "ea", "59.00", "Item"),
    ("D0007", "Subwoofer (stopped)", "ea", "299.00", "Item"),
    ("X0001", "Discontinued speaker (no sales unit)", "", "0", "Item"),
)
_DEMF_PRODUCTS = {
    "D0001": "199.00",
    "D0003": "119.00",
    "D0004": "419.00",
    "L0001": "11.50",
    "T0001": "549.00",
}
CUSTOMERS = (
    ("usmf", "US-001", "Contoso Retail San Diego", "10", "San Diego", "CA", "92101", "Net30"),
    ("usmf", "US-002", "Contoso Retail Los Angeles", "10", "Los Angeles", "CA", "90012", "Net30"),
    ("usmf", "US-003", "Forest Wholesales", "20", "Seattle", "WA", "98101", "Net45"),
    ("usmf", "US-004", "Cave Wholesales", "20", "Portland", "OR", "97204", "Net30"),
    ("usmf", "US-005", "Contoso Retail Chicago", "30", "Chicago", "IL", "60601", "Net10"),
    ("demf", "DE-001", "Elektronik Berlin GmbH", "10", "Berlin", "", "10115", "Net30"),
    ("demf", "DE-002", "HiFi Haus München", "20", "München", "", "80331", "Net30"),
)


def seed(data: Data, rules: dict[str, Rules], actions: Actions, jobs: Jobs, spec: str) -> None:
    """Wipe and load ``spec`` (``empty``, ``demo`` or ``large:N``; ``accounts:N`` is CRM accounts
    only: the ERP gets what ``empty`` has); a CRM solution after ``+`` (``demo+microsoft``) does not
    concern the ERP."""
    kind, _, arg = spec.partition("+")[0].partition(":")
    if kind not in ("empty", "demo", "large", "accounts") or (kind in ("large", "accounts")) != bool(arg):
        raise ValueError(f"unknown seed '{spec}' (use demo, empty, large:N or accounts:N)")
    data.store.wipe()
    data.forget_caches()
    with data.transaction():
        _lookups(data)
    if kind == "demo":
        with data.transaction():
            _demo(data, rules, actions)
    elif kind == "large":
        try:
            count = int(arg)
        except ValueError:
            raise ValueError(f"large:N needs a number, got '{arg}'") from None
        _large(data, count)
    if data.release.distinct_products_unpopulated:
        jobs.populate_distinct_products(False)
    if data.release.lines_unfilled:
        jobs.clear_line_sequence_numbers()
    data.forget_caches()


def _put(data: Data, table: str, **values: Any) -> None:
    data.insert(table, values)


def _lookups(data: Data) -> None:
    for code, name, symbol in (("USD", "US Dollar", "$"), ("EUR", "Euro", "€")):
        _put(
            data, "Currency", CurrencyCode=code, Name=name, Symbol=symbol, GeneralRoundingRule=Decimal("0.01")
        )
    for unit, text, precision in UNITS:
        _put(
            data,
            "UnitOfMeasure",
            UnitSymbol=unit,
            UnitDescription=text,
            DecimalPrecision=precision,
            UnitClass="Quantity" if precision == 0 else "Length" if unit == "m" else "Time",
        )
    for company, name, country, language in COMPANIES:
        _put(
            data,
            "CompanyInfo",
            LegalEntityId=company,
            Name=name,
            AddressCountryRegionId=country,
            LanguageId=language,
        )
        for term, text, days in TERMS:
            _put(data, "PaymTerm", dataAreaId=company, Name=term, Description=text, NumberOfDays=days)
        for group, text in GROUPS:
            _put(
                data,
                "CustGroup",
                dataAreaId=company,
                CustomerGroupId=group,
                Description=text,
                PaymentTermId="Net30",
            )
        for site, text in (("1", "Central site"), ("2", "East site")):
            _put(data, "InventSite", dataAreaId=company, SiteId=site, SiteName=text)
        for warehouse, site in (("11", "1"), ("12", "2"), ("13", "1")):
            _put(
                data,
                "InventLocation",
                dataAreaId=company,
                WarehouseId=warehouse,
                OperationalSiteId=site,
                WarehouseName=f"Warehouse {warehouse}",
                WarehouseType="Standard",
            )


def _product_row(company: str, number: str, name: str, unit: str, price: str, type_: str) -> dict[str, Any]:
    return {
        "dataAreaId": company,
        "ProductNumber": number,
        "ProductName": name,
        "ProductDescription": name,
        "ProductType": type_,
        "SalesUnitSymbol": unit,
        "InventoryUnitSymbol": unit,
        "SalesPrice": Decimal(price),
        "UnitCost": (Decimal(price) * Decimal("0.6")).quantize(Decimal("0.01")),
        "CurrencyCode": "EUR" if company == "demf" else "USD",
        "IsStockedProduct": "Yes" if type_ == "Item" else "No",
        "_distinct": True,
        "IsSalesStopped": "Yes" if number == "D0007" else "No",
        "SalesUnitDecimalPrecision": 2 if unit in ("hour", "m") else 0,
        "InventoryUnitDecimalPrecision": 2 if unit in ("hour", "m") else 0,
    }


def _demo(data: Data, rules: dict[str, Rules], actions: Actions) -> None:
    for number, name, unit, price, type_ in PRODUCTS:
        data.insert("InventTable", _product_row("usmf", number, name, unit, price, type_))
    for number, price in _DEMF_PRODUCTS.items():
        _, name, unit, _, type_ = next(p for p in PRODUCTS if p[0] == number)
        data.insert("InventTable", _product_row("demf", number, name, unit, price, type_))
    customers = ENTITY_SETS["CustomersV3"]
    for company, account, name, group, city, state, zip_code, terms in CUSTOMERS:
        iso = "US" if company == "usmf" else "DE"
        insert_entity(
            data,
            rules["CustTable"],
            customers,
            {
                "dataAreaId": company,
                "CustomerAccount": account,
                "OrganizationName": name,
                "CustomerGroupId": group,
                "PaymentTerms": terms,
                "AddressCity": city,
                "AddressState": state,
                "AddressZipCode": zip_code,
                "AddressStreet": "1 Main Street" if iso == "US" else "Hauptstraße 1",
                "AddressCountryRegionISOCode": iso,
                "AddressLocationRoles": "Business",
                "AddressDescription": name,
                "PrimaryContactEmail": f"orders@{account.lower()}.example.com",
                "PrimaryContactPhone": "+1 555 0100",
                "SiteId": "1",
                "WarehouseId": "13",
                "IsExternallyMaintained": "No",
            },
        )
    for company in ("usmf", "demf"):
        data.set_counter(company, "CustomerAccount", 5 if company == "usmf" else 2)
    contacts = ENTITY_SETS["CDSContactPersonsV2"]
    insert_entity(
        data,
        rules["ContactPerson"],
        contacts,
        {
            "dataAreaId": "usmf",
            "AssociatedContactNumber": "US-001",
            "FirstName": "Ashley",
            "LastName": "Chapman",
            "PrimaryEmailAddress": "ashley@us-001.example.com",
            "EmploymentProfession": "Purchaser",
        },
    )
    _order(data, rules, "US-002", [("D0001", 2), ("L0001", 10)])
    number = _order(
        data, rules, "US-001", [("D0001", 1), ("L0001", 5), ("P0001", 1), ("D0003", 2), ("D0004", 1)]
    )
    actions.confirm("usmf", number)
    actions.calculate_totals("usmf", number)
    quotes = ENTITY_SETS["CDSSalesQuotationHeaders"]
    header = insert_entity(
        data,
        rules["SalesQuotationTable"],
        quotes,
        {
            "dataAreaId": "usmf",
            "RequestingCustomerAccountNumber": "US-003",
            "SalesQuotationName": "Speakers for Seattle",
        },
    )
    for product, qty in (("D0003", 4), ("M0001", 8)):
        insert_entity(
            data,
            rules["SalesQuotationLine"],
            ENTITY_SETS["CDSSalesQuotationLines"],
            {
                "dataAreaId": "usmf",
                "SalesQuotationNumber": header["SalesQuotationNumber"],
                "ProductNumber": product,
                "RequestedSalesQuantity": Decimal(qty),
            },
        )


def _order(data: Data, rules: dict[str, Rules], customer: str, lines: list[tuple[str, int]]) -> str:
    header = insert_entity(
        data,
        rules["SalesTable"],
        ENTITY_SETS["CDSSalesOrderHeaders"],
        {
            "dataAreaId": "usmf",
            "OrderingCustomerAccountNumber": customer,
            "RequestedShippingDate": today_noon_text(),
        },
    )
    for product, qty in lines:
        insert_entity(
            data,
            rules["SalesLine"],
            ENTITY_SETS["CDSSalesOrderLinesV2"],
            {
                "dataAreaId": "usmf",
                "SalesOrderNumber": header["SalesOrderNumber"],
                "ProductNumber": product,
                "OrderedSalesQuantity": Decimal(qty),
            },
        )
    return str(header["SalesOrderNumber"])


def _large(data: Data, n: int) -> None:
    """Volume data written straight into the store (no rules): fast, deterministic, consistent."""
    rng = random.Random(n)
    store = data.store
    recid = int(store.get_meta("recid", 5637144576))
    now, today = now_utc_text(), today_noon_text()
    pool: dict[tuple[Decimal, int], Decimal] = {}

    def put(table: str, row: dict[str, Any]) -> dict[str, Any]:
        nonlocal recid
        recid += 1
        row["_recid"], row["_ver"] = recid, 1
        return store.table(table).put(str(recid), share_decimals(row, pool))

    n_customers, n_products, n_orders = max(1, n // 10), max(1, n // 4), max(1, n // 2)
    accounts = [f"LC-{i:06d}" for i in range(1, n_customers + 1)]
    for i, account in enumerate(accounts, 1):
        store.flush_rows_if_many()
        put(
            "CustTable",
            {
                "dataAreaId": "usmf",
                "CustomerAccount": account,
                "OrganizationName": f"Large customer {i}",
                "NameAlias": f"Large customer {i}",
                "PartyType": "Organization",
                "PartyNumber": f"{100000000 + i:09d}",
                "CustomerGroupId": GROUPS[i % 3][0],
                "SalesCurrencyCode": "USD",
                "LanguageId": "en-US",
                "AddressCountryRegionId": "USA",
                "AddressCountryRegionISOCode": "US",
                "AddressCity": "Springfield",
                "IsExternallyMaintained": "No",
            },
        )
    prices = []
    for i in range(1, n_products + 1):
        price = Decimal(rng.randrange(500, 200000)) / 100
        prices.append(price)
        put(
            "InventTable", _product_row("usmf", f"LP-{i:06d}", f"Large product {i}", "ea", str(price), "Item")
        )
    line_totals: dict[str, Decimal] = {}
    invoice_no = 0
    yes, backorder, one = "Yes", "Backorder", Decimal(1)
    for i in range(1, n_orders + 1):
        store.flush_rows_if_many()
        number = f"L{i:07d}"
        account = accounts[rng.randrange(n_customers)]
        share = i % 10  # 0-1 invoiced, 2-5 confirmed, rest open
        status = "Invoiced" if share < 2 else "Confirmed" if share < 6 else "Active"
        amount = Decimal(0)
        lines = []
        for lcsn in range(1, 6):
            p = rng.randrange(n_products)
            qty = Decimal(rng.randrange(1, 20))
            line_amount = qty * prices[p]
            amount += line_amount
            lines.append(
                put(
                    "SalesLine",
                    {
                        "dataAreaId": "usmf",
                        "SalesOrderNumber": number,
                        "SalesOrderNumberHeader": number,
                        "LineCreationSequenceNumber": lcsn,
                        "DefaultLineNumberFromLineCreationSequenceNumber": Decimal(lcsn),
                        "ProductNumber": f"LP-{p + 1:06d}",
                        "ProductName": f"Large product {p + 1}",
                        "SalesUnitSymbol": "ea",
                        "OrderedSalesQuantity": qty,
                        "SalesPrice": prices[p],
                        "SalesPriceQuantity": one,
                        "LineAmount": line_amount,
                        "CurrencyCode": "USD",
                        "SalesOrderProcessingStatus": status,
                        "SalesOrderLineStatus": "Invoiced" if status == "Invoiced" else backorder,
                        "AreTotalsCalculated": yes if status != "Active" else "No",
                        "AreSalesOrderTotalsUpdated": yes if status != "Active" else "No",
                        "InventoryLotId": f"{i * 5 + lcsn:09d}",
                        "_delivered": str(qty) if status == "Invoiced" else "0",
                        "_invoiced": str(qty) if status == "Invoiced" else "0",
                    },
                )
            )
        totals = status != "Active"
        put(
            "SalesTable",
            {
                "dataAreaId": "usmf",
                "SalesOrderNumber": number,
                "OrderingCustomerAccountNumber": account,
                "InvoiceCustomerAccountNumber": account,
                "CurrencyCode": "USD",
                "LanguageId": "en-US",
                "SalesOrderProcessingStatus": status,
                "SalesOrderStatus": "Invoiced" if status == "Invoiced" else backorder,
                "OrderCreationDateTime": now,
                "RequestedShippingDate": today,
                "DefaultShippingSiteId": "1",
                "DefaultShippingWarehouseId": "13",
                "OrderingCustomerIsExternallyMaintained": "No",
                "InvoiceCustomerIsExternallyMaintained": "No",
                "AreTotalsUpdated": yes if totals else "No",
                "OrderTotalAmount": amount if totals else Decimal(0),
                "_header_invoiced": status == "Invoiced",
            },
        )
        line_totals[number] = amount
        if status == "Invoiced":
            invoice_no += 1
            key = {
                "dataAreaId": "usmf",
                "InvoiceNumber": f"CIV-{invoice_no:06d}",
                "InvoiceDate": today,
                "LedgerVoucher": f"ARI{invoice_no:06d}",
            }
            put(
                "CustInvoiceJour",
                {
                    **key,
                    "InvoiceCustomerAccountNumber": account,
                    "SalesOrderNumber": number,
                    "CurrencyCode": "USD",
                    "TotalInvoiceAmount": amount,
                },
            )
            for line in lines:
                put(
                    "CustInvoiceTrans",
                    {
                        **key,
                        "LineCreationSequenceNumber": line["LineCreationSequenceNumber"],
                        "InvoicedQuantity": line["OrderedSalesQuantity"],
                        "SalesPrice": line["SalesPrice"],
                        "LineAmount": line["LineAmount"],
                        "ProductNumber": line["ProductNumber"],
                        "ProductName": line["ProductName"],
                        "SalesUnitSymbol": "ea",
                        "CurrencyCode": "USD",
                        "ConfirmedShippingDate": today,
                        "_order_line": line["_recid"],
                    },
                )
    store.set_meta("recid", recid)
    data.set_counter("usmf", "InvoiceNumber", invoice_no)
    data.set_counter("usmf", "LedgerVoucher", invoice_no)
    data.set_counter("", "PartyNumber", 100000000 + n_customers)
    data.set_counter("usmf", "InventTransId", n_orders * 5 + 10)
    store.flush()
