"""The sales documents: quote, salesorder, invoice and their lines (DATAVERSE.md §3.4-§3.6).

The three headers share the customer, price list, address and totals columns; the three line
tables share the product, unit, quantity, price and amount columns. Computed amounts (``baseamount``,
``extendedamount``, the header totals) are not valid for create or update: the emulator's system
pricing (:mod:`p2c_sandbox.dataverse.pricing`) sets them.

Example::

    >>> HEADERS["quote"].columns["totalamount"].create
    False
    >>> LINE_PARENT["salesorderdetail"]
    ('salesorder', 'salesorderid', 'order_details')
"""

from __future__ import annotations

from p2c_sandbox.dataverse.options import APP, FREIGHT_TERMS, PAYMENT_TERMS, RO, SHIPPING_METHODS, SYS
from p2c_sandbox.dataverse.schema import (
    Column,
    Kind,
    TableDef,
    boolean,
    customer,
    datetime_,
    decimal,
    integer,
    lookup,
    memo,
    money,
    picklist,
    string,
    table,
)

__all__ = ["HEADERS", "LINES", "LINE_PARENT", "SALES_TABLES"]

TOTALS = (
    "totallineitemamount",
    "totallineitemdiscountamount",
    "totaldiscountamount",
    "totalamountlessfreight",
    "totaltax",
    "totalamount",
)


def _party(prefix: str, with_freight: bool) -> list[Column]:
    cols = [
        string(prefix + "name", 200),
        string(prefix + "line1", 250),
        string(prefix + "line2", 250),
        string(prefix + "line3", 250),
        string(prefix + "city", 80),
        string(prefix + "stateorprovince", 50),
        string(prefix + "postalcode", 20),
        string(prefix + "country", 80),
        string(prefix + "telephone", 50),
        string(prefix + "fax", 50),
        string(prefix + "contactname", 150),
    ]
    if with_freight:
        cols.append(picklist(prefix + "freighttermscode", FREIGHT_TERMS))
    return cols


def _header_columns(number: str) -> list[Column]:
    return [
        string("name", 300, required=APP),
        string(number, 100, update=False),
        customer("customerid", required=APP, label="Potential Customer"),
        lookup("pricelevelid", "pricelevel", required=APP, label="Price List"),
        lookup("transactioncurrencyid", "transactioncurrency"),
        memo("description"),
        picklist("paymenttermscode", PAYMENT_TERMS),
        picklist("shippingmethodcode", SHIPPING_METHODS),
        picklist("freighttermscode", FREIGHT_TERMS),
        datetime_("requestdeliveryby", date_only=True),
        boolean("willcall", ("Address", "Will Call")),
        *_party("billto_", False),
        *_party("shipto_", True),
        money("discountamount"),
        decimal("discountpercentage", 2, 0, 100),
        money("freightamount"),
        *(money(name, **RO) for name in TOTALS),
    ]


def _line_columns(parent: str) -> list[Column]:
    return [
        lookup(
            parent,
            {"quoteid": "quote", "salesorderid": "salesorder", "invoiceid": "invoice"}[parent],
            required=SYS,
            update=False,
        ),
        lookup("productid", "product"),
        lookup("uomid", "uom", label="Unit"),
        string("productdescription", 500, label="Write-In Product"),
        string("productname", 500),
        decimal("quantity", 5, 0, 1000000000, required=APP),
        money("priceperunit"),
        boolean("ispriceoverridden", ("Use Default", "Override Price"), default=False),
        boolean("isproductoverridden", ("Existing", "Write In"), update=False, default=False),
        money("manualdiscountamount", min_value=0),
        money("volumediscountamount", **RO),
        money("tax"),
        money("baseamount", **RO),
        money("extendedamount", **RO),
        memo("description"),
        integer("lineitemnumber", 0, 1000000000),
        integer("sequencenumber", 0, 1000000000),
        datetime_("requestdeliveryby", date_only=True),
        lookup("salesrepid", "systemuser"),
        lookup("transactioncurrencyid", "transactioncurrency", **RO),
        Column("ownerid", Kind.OWNER, create=False, update=False, navs={"ownerid": "systemuser"}),
        picklist(
            "producttypecode",
            {
                1: "Product",
                2: "Bundle",
                3: "Required Bundle Product",
                4: "Optional Bundle Product",
                5: "Project-based Service",
            },
        ),
        boolean("willcall", ("Address", "Will Call")),
        *_party("shipto_", True),
    ]


QUOTE = table(
    "quote",
    "quotes",
    "quoteid",
    "name",
    [
        *_header_columns("quotenumber"),
        integer("revisionnumber", 0, **RO),
        datetime_("effectivefrom", date_only=True),
        datetime_("effectiveto", date_only=True),
        datetime_("expireson", date_only=True),
        datetime_("closedon", date_only=True),
    ],
    type_code=1084,
    states={0: ("Draft", 1), 1: ("Active", 2), 2: ("Won", 4), 3: ("Closed", 7)},
    statuses={
        1: ("In Progress", 0),
        2: ("In Progress", 1),
        3: ("Open", 1),
        4: ("Won", 2),
        5: ("Lost", 3),
        6: ("Canceled", 3),
        7: ("Revised", 3),
    },
    collections={"quote_details": ("quotedetail", "quoteid")},
)

SALESORDER = table(
    "salesorder",
    "salesorders",
    "salesorderid",
    "name",
    [
        *_header_columns("ordernumber"),
        lookup("quoteid", "quote"),
        datetime_("datefulfilled"),
        datetime_("submitdate"),
        integer("submitstatus", 0),
        memo("submitstatusdescription"),
        boolean("ispricelocked", ("No", "Yes"), **RO),
        picklist("prioritycode", {1: "Default Value"}),
    ],
    label="Order",
    type_code=1088,
    states={
        0: ("Active", 1),
        1: ("Submitted", 3),
        2: ("Canceled", 4),
        3: ("Fulfilled", 100001),
        4: ("Invoiced", 100003),
    },
    statuses={
        1: ("New", 0),
        2: ("Pending", 0),
        700970000: ("In Progress", 0),
        3: ("In Progress", 1),
        4: ("No Money", 2),
        100001: ("Complete", 3),
        100002: ("Partial", 3),
        100003: ("Invoiced", 4),
    },
    collections={"order_details": ("salesorderdetail", "salesorderid")},
)

INVOICE = table(
    "invoice",
    "invoices",
    "invoiceid",
    "name",
    [
        *_header_columns("invoicenumber"),
        lookup("salesorderid", "salesorder"),
        datetime_("duedate", date_only=True),
        datetime_("datedelivered", date_only=True),
        boolean("ispricelocked", ("No", "Yes"), **RO),
    ],
    type_code=1090,
    states={0: ("Active", 1), 1: ("Closed (deprecated)", 3), 2: ("Paid", 100001), 3: ("Canceled", 100003)},
    statuses={
        1: ("New", 0),
        2: ("Partially Shipped", 0),
        4: ("Billed", 0),
        5: ("Booked (applies to services)", 0),
        6: ("Installed (applies to services)", 0),
        3: ("Canceled (deprecated)", 1),
        7: ("Paid in Full (deprecated)", 1),
        100001: ("Complete", 2),
        100002: ("Partial", 2),
        100003: ("Canceled", 3),
    },
    collections={"invoice_details": ("invoicedetail", "invoiceid")},
)

QUOTEDETAIL = table(
    "quotedetail",
    "quotedetails",
    "quotedetailid",
    "productdescription",
    _line_columns("quoteid"),
    label="Quote Product",
    type_code=1085,
)

SALESORDERDETAIL = table(
    "salesorderdetail",
    "salesorderdetails",
    "salesorderdetailid",
    "productdescription",
    [
        *_line_columns("salesorderid"),
        lookup("quotedetailid", "quotedetail"),
        decimal("quantityshipped", 5, 0),
        decimal("quantitybackordered", 5, 0),
        decimal("quantitycancelled", 5, 0),
    ],
    label="Order Product",
    type_code=1089,
)

INVOICEDETAIL = table(
    "invoicedetail",
    "invoicedetails",
    "invoicedetailid",
    "productdescription",
    [
        *_line_columns("invoiceid"),
        lookup("salesorderdetailid", "salesorderdetail"),
        decimal("quantityshipped", 5, 0),
        decimal("quantitybackordered", 5, 0),
        decimal("quantitycancelled", 5, 0),
        string("shippingtrackingnumber", 100),
    ],
    label="Invoice Product",
    type_code=1091,
)

HEADERS: dict[str, TableDef] = {t.name: t for t in (QUOTE, SALESORDER, INVOICE)}
LINES: dict[str, TableDef] = {t.name: t for t in (QUOTEDETAIL, SALESORDERDETAIL, INVOICEDETAIL)}
#: line table -> (header table, lookup column to the header, header's collection navigation)
LINE_PARENT: dict[str, tuple[str, str, str]] = {
    "quotedetail": ("quote", "quoteid", "quote_details"),
    "salesorderdetail": ("salesorder", "salesorderid", "order_details"),
    "invoicedetail": ("invoice", "invoiceid", "invoice_details"),
}
SALES_TABLES = (QUOTE, QUOTEDETAIL, SALESORDER, SALESORDERDETAIL, INVOICE, INVOICEDETAIL)
