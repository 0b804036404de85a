"""The standard tables of a Dynamics 365 Sales org (DATAVERSE.md §2.2, §3): reference data,
accounts, contacts, products, users and the organization; the sales documents are in
:mod:`p2c_sandbox.dataverse.tables_sales`.

Column lists follow the CE entity reference pages: names, types, maximum lengths, required level
and whether a column is valid for create/update. Only columns a quote-to-cash integration (or a
demo) touches are modelled; :data:`TABLES` is the catalogue the service starts from, before any
custom column or key is added through the metadata API.

Example::

    >>> TABLES["account"].columns["accountnumber"].max_length
    20
    >>> TABLES["contact"].navs["parentcustomerid_account"][1]
    'account'
"""

from __future__ import annotations

from p2c_sandbox.dataverse.options import APP, FREIGHT_TERMS, PAYMENT_TERMS, RO, SHIPPING_METHODS, SYS
from p2c_sandbox.dataverse.schema import (
    Column,
    Ownership,
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
from p2c_sandbox.dataverse.tables_sales import SALES_TABLES
from p2c_sandbox.dataverse.tables_system import SYSTEM_TABLES

__all__ = ["PAYMENT_TERMS", "TABLES", "address"]


ADDRESS_TYPES = {1: "Bill To", 2: "Ship To", 3: "Primary", 4: "Other"}
ACTIVE_INACTIVE = {0: ("Active", 1), 1: ("Inactive", 2)}
ACTIVE_INACTIVE_STATUS = {1: ("Active", 0), 2: ("Inactive", 1)}


def address(n: int) -> list[Column]:
    """The ``address<n>_*`` columns of accounts and contacts."""
    p = f"address{n}_"
    return [
        string(p + "name", 200),
        string(p + "line1", 250),
        string(p + "line2", 250),
        string(p + "line3", 250),
        string(p + "city", 80),
        string(p + "stateorprovince", 50),
        string(p + "postalcode", 20),
        string(p + "country", 80),
        string(p + "county", 50),
        string(p + "telephone1", 50),
        string(p + "fax", 50),
        picklist(p + "addresstypecode", ADDRESS_TYPES),
        picklist(p + "shippingmethodcode", SHIPPING_METHODS),
        picklist(p + "freighttermscode", FREIGHT_TERMS),
    ]


ACCOUNT = table(
    "account",
    "accounts",
    "accountid",
    "name",
    [
        string("name", 160, required=APP, label="Account Name"),
        string("accountnumber", 20, label="Account Number"),
        string("telephone1", 50),
        string("telephone2", 50),
        string("fax", 50),
        string("emailaddress1", 100),
        string("emailaddress2", 100),
        string("websiteurl", 200),
        string("tickersymbol", 10),
        *address(1),
        *address(2),
        memo("description"),
        picklist("paymenttermscode", PAYMENT_TERMS),
        picklist(
            "customertypecode",
            {
                1: "Competitor",
                2: "Consultant",
                3: "Customer",
                4: "Investor",
                5: "Partner",
                6: "Influencer",
                7: "Press",
                8: "Prospect",
                9: "Reseller",
                10: "Supplier",
                11: "Vendor",
                12: "Other",
            },
        ),
        picklist(
            "industrycode",
            {
                1: "Accounting",
                2: "Agriculture and Non-petrol Natural Resource Extraction",
                3: "Broadcasting Printing and Publishing",
                4: "Brokers",
                5: "Building Supply Retail",
                6: "Business Services",
                7: "Consulting",
                8: "Consumer Services",
                9: "Design, Direction and Creative Management",
                10: "Distributors, Dispatchers and Processors",
                11: "Doctor's Offices and Clinics",
                12: "Durable Manufacturing",
                33: "Wholesale",
            },
        ),
        picklist("accountcategorycode", {1: "Preferred Customer", 2: "Standard"}),
        picklist("shippingmethodcode", {1: "Default Value"}),
        money("creditlimit", label="Credit Limit"),
        boolean("creditonhold"),
        money("revenue"),
        integer("numberofemployees", 0, 1000000000),
        boolean("donotemail", ("Allow", "Do Not Allow")),
        lookup("primarycontactid", "contact"),
        lookup("parentaccountid", "account"),
        lookup("transactioncurrencyid", "transactioncurrency"),
        lookup("defaultpricelevelid", "pricelevel"),
    ],
    type_code=1,
    states=ACTIVE_INACTIVE,
    statuses=ACTIVE_INACTIVE_STATUS,
    collections={"contact_customer_accounts": ("contact", "parentcustomerid")},
)

CONTACT = table(
    "contact",
    "contacts",
    "contactid",
    "fullname",
    [
        string("firstname", 50),
        string("middlename", 50),
        string("lastname", 50, required=APP),
        string("fullname", 160, **RO),
        string("salutation", 100),
        string("jobtitle", 100),
        string("department", 100),
        string("emailaddress1", 100),
        string("emailaddress2", 100),
        string("telephone1", 50),
        string("telephone2", 50),
        string("mobilephone", 50),
        string("fax", 50),
        string("employeeid", 50),
        string("externaluseridentifier", 50),
        *address(1),
        memo("description"),
        datetime_("birthdate", date_only=True),
        picklist("gendercode", {1: "Male", 2: "Female"}),
        picklist("accountrolecode", {1: "Decision Maker", 2: "Employee", 3: "Influencer"}),
        picklist("paymenttermscode", PAYMENT_TERMS),
        money("creditlimit"),
        boolean("creditonhold"),
        customer("parentcustomerid", label="Company Name"),
        lookup("transactioncurrencyid", "transactioncurrency"),
        lookup("defaultpricelevelid", "pricelevel"),
    ],
    type_code=2,
    states=ACTIVE_INACTIVE,
    statuses=ACTIVE_INACTIVE_STATUS,
)

PRODUCT = table(
    "product",
    "products",
    "productid",
    "name",
    [
        string("name", 100, required=APP),
        string("productnumber", 100, required=SYS, label="Product ID"),
        memo("description"),
        lookup("defaultuomscheduleid", "uomschedule", required=APP),
        lookup("defaultuomid", "uom", required=APP),
        integer("quantitydecimal", 0, 5, required=APP, default=0, label="Decimals Supported"),
        # "Default Price List": not valid on create (DATAVERSE.md §3.1), set later by PATCH
        lookup("pricelevelid", "pricelevel", create=False),
        money("price", label="List Price"),
        money("standardcost"),
        money("currentcost"),
        boolean("isstockitem"),
        boolean("iskit", **RO),
        lookup("parentproductid", "product"),
        lookup("transactioncurrencyid", "transactioncurrency"),
        datetime_("validfromdate", date_only=True),
        datetime_("validtodate", date_only=True),
        string("vendorname", 100),
        string("vendorpartnumber", 100),
        string("suppliername", 100),
        string("size", 200),
        string("producturl", 255),
        decimal("quantityonhand", 2, 0),
        decimal("stockweight", 2, 0),
        decimal("stockvolume", 2, 0),
        picklist(
            "productstructure",
            {1: "Product", 2: "Product Family", 3: "Product Bundle"},
            update=False,
            default=1,
        ),
        picklist(
            "producttypecode",
            {1: "Sales Inventory", 2: "Miscellaneous Charges", 3: "Services", 4: "Flat Fees"},
        ),
    ],
    ownership=Ownership.ORGANIZATION,
    type_code=1024,
    states={0: ("Active", 1), 1: ("Retired", 2), 2: ("Draft", 0), 3: ("Under Revision", 3)},
    statuses={1: ("Active", 0), 2: ("Retired", 1), 0: ("Draft", 2), 3: ("Under Revision", 3)},
    default_state=2,
    collections={"product_price_levels": ("productpricelevel", "productid")},
)

PRICELEVEL = table(
    "pricelevel",
    "pricelevels",
    "pricelevelid",
    "name",
    [
        string("name", 100, required=APP),
        lookup("transactioncurrencyid", "transactioncurrency", required=APP, update=False),
        datetime_("begindate"),
        datetime_("enddate"),
        memo("description"),
        picklist("freighttermscode", FREIGHT_TERMS),
        picklist("shippingmethodcode", SHIPPING_METHODS),
        picklist("paymentmethodcode", {1: "Default Value"}),
    ],
    ownership=Ownership.ORGANIZATION,
    label="Price List",
    type_code=1022,
    states={0: ("Active", 100001), 1: ("Inactive", 100002)},
    statuses={100001: ("Active", 0), 100002: ("Inactive", 1)},
    collections={"price_level_product_price_levels": ("productpricelevel", "pricelevelid")},
)

PRODUCTPRICELEVEL = table(
    "productpricelevel",
    "productpricelevels",
    "productpricelevelid",
    "productnumber",
    [
        lookup("pricelevelid", "pricelevel", required=SYS, update=False),
        lookup("productid", "product", required=SYS, update=False),
        lookup("uomid", "uom", required=APP, update=False),
        lookup("uomscheduleid", "uomschedule", update=False),
        lookup("transactioncurrencyid", "transactioncurrency", **RO),
        string("productnumber", 100, **RO),
        money("amount"),
        decimal("percentage", 2, 0, 1000),
        picklist(
            "pricingmethodcode",
            {
                1: "Currency Amount",
                2: "Percent of List",
                3: "Percent Markup - Current Cost",
                4: "Percent Margin - Current Cost",
                5: "Percent Markup - Standard Cost",
                6: "Percent Margin - Standard Cost",
            },
            required=APP,
            default=1,
        ),
        picklist("quantitysellingcode", {1: "No Control", 2: "Whole", 3: "Whole and Fractional"}, default=1),
        picklist("roundingpolicycode", {1: "None", 2: "Up", 3: "Down", 4: "To Nearest"}),
        picklist("roundingoptioncode", {1: "Ends in", 2: "Multiple of"}),
        money("roundingoptionamount"),
    ],
    ownership=Ownership.ORGANIZATION,
    label="Price List Item",
    type_code=1026,
)

UOM = table(
    "uom",
    "uoms",
    "uomid",
    "name",
    [
        string("name", 100, required=APP),
        decimal("quantity", 5, 0, 1000000000, required=APP, default=1),
        lookup("uomscheduleid", "uomschedule", required=SYS, update=False),
        lookup("baseuom", "uom", required=APP),
        boolean("isschedulebaseuom", **RO),
    ],
    ownership=Ownership.ORGANIZATION,
    label="Unit",
    type_code=1055,
)

UOMSCHEDULE = table(
    "uomschedule",
    "uomschedules",
    "uomscheduleid",
    "name",
    [
        string("name", 200, required=APP),
        string("baseuomname", 100, required=APP, update=False),
        memo("description"),
    ],
    ownership=Ownership.ORGANIZATION,
    label="Unit Group",
    type_code=1056,
    states=ACTIVE_INACTIVE,
    statuses=ACTIVE_INACTIVE_STATUS,
    collections={"UoMSchedule_UoMs": ("uom", "uomscheduleid")},
)

TRANSACTIONCURRENCY = table(
    "transactioncurrency",
    "transactioncurrencies",
    "transactioncurrencyid",
    "currencyname",
    [
        string("isocurrencycode", 5, required=SYS, update=False),
        string("currencyname", 100, required=APP),
        string("currencysymbol", 10, required=APP),
        decimal("exchangerate", 10, 0.0000000001, 100000000000, required=APP, default=1),
        integer("currencyprecision", 0, 4, required=APP, default=2),
    ],
    ownership=Ownership.ORGANIZATION,
    label="Currency",
    type_code=9105,
    states=ACTIVE_INACTIVE,
    statuses=ACTIVE_INACTIVE_STATUS,
)

TABLES: dict[str, TableDef] = {
    t.name: t
    for t in (
        ACCOUNT,
        CONTACT,
        PRODUCT,
        PRICELEVEL,
        PRODUCTPRICELEVEL,
        UOM,
        UOMSCHEDULE,
        TRANSACTIONCURRENCY,
        *SYSTEM_TABLES,
        *SALES_TABLES,
    )
}
