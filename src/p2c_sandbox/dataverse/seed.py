"""Seed data: ``empty`` (what a fresh Sales org has) and ``demo`` (a small Contoso-like world).

``empty``: the organization row, its business units (the root one, named after the organisation,
and its children Contoso US and Contoso DE, each with its default team: the sandbox's
connections.yaml names Contoso US, so every seed has them), the application user (in the root
business unit), currencies USD (base, precision 2) and
EUR, the unit group ``Default Unit`` with its base unit ``Primary Unit``, and the platform's
``sdkmessage``/``sdkmessagefilter`` rows that say which tables support the ``*Multiple``
messages. No price lists, products, accounts — and none of p2c's custom columns or keys.

``demo`` adds the units ``ea``, ``pcs`` and ``hour``; the price lists ``CRM Service USA
(sample)`` (USD), ``CRM Service Europe (sample)`` (EUR) and ``Retail USA`` (USD, after the sample
alphabetically); three owners (users of Contoso US); thirty accounts (half with an account number); forty contacts;
six products typed into the CRM (one still Draft) with price list items; draft and active
quotes and active orders with product and write-in lines. Rows go through the writer, so every
Sales rule (pricing, numbering, totals) has run on them. Everything is deterministic (seeded RNG).

Example::

    seed_demo(org, writer, products_active=False)
"""

from __future__ import annotations

import random
from decimal import Decimal

from p2c_sandbox.clock import now_utc_text
from p2c_sandbox.dataverse.catalog import metadata_id
from p2c_sandbox.dataverse.org import APP_USER_ID, BUSINESS_UNIT_ID, ORGANIZATION_ID, Org
from p2c_sandbox.dataverse.seed_data import (
    BUSINESS_UNITS,
    CONTOSO_DE_ID,
    CONTOSO_US_ID,
    EUR_ID,
    OWNERS,
    USD_ID,
    Ids,
    create,
    seed_accounts,
    seed_contacts,
    seed_documents,
)
from p2c_sandbox.dataverse.write import Writer

__all__ = ["DEMO_IDS", "MULTIPLE", "sdk_message_filters", "seed_demo", "seed_empty"]

UNIT_GROUP_ID = "a7c1e6a1-0b0e-4f5e-9a5a-0000000000f1"
#: well-known ids of the seed, for tests and demos
DEMO_IDS = {
    "usd": USD_ID,
    "eur": EUR_ID,
    "default_unit_group": UNIT_GROUP_ID,
    "root_business_unit": BUSINESS_UNIT_ID,
    "contoso_us": CONTOSO_US_ID,
    "contoso_de": CONTOSO_DE_ID,
}
MESSAGES = ("Create", "Update", "Delete", "Retrieve", "RetrieveMultiple", "Upsert")
MULTIPLE = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")

# product number, name, unit, USD price, EUR price
PRODUCTS = [
    ("SVC-INSTALL", "Installation service", "hour", "95.00", "89.00"),
    ("SVC-TRAINING", "Training day", "hour", "120.00", "110.00"),
    ("SVC-WARRANTY", "Extended warranty, 3 years", "ea", "249.00", None),
    ("ACC-CABLE", "Speaker cable, 10 m", "pcs", "12.50", "11.90"),
    ("ACC-MOUNT", "Wall mount", "ea", "39.99", None),
]


def seed_empty(org: Org, writer: Writer, products_active: bool, app_id: str = "") -> None:
    """What a freshly provisioned Sales org holds (see module docstring)."""
    store, cat = org.store, org.catalog
    now = now_utc_text()
    v = cat.next_version()
    base = {
        "createdon": now,
        "modifiedon": now,
        "versionnumber": v,
        "_createdby_value": APP_USER_ID,
        "_modifiedby_value": APP_USER_ID,
    }
    store.table("systemuser").put(
        APP_USER_ID,
        {
            "systemuserid": APP_USER_ID,
            "firstname": "#",
            "lastname": "P2C Sandbox",
            "fullname": "# P2C Sandbox",
            "domainname": "p2c-sandbox@contoso.onmicrosoft.com",
            "applicationid": app_id,
            "_businessunitid_value": BUSINESS_UNIT_ID,
            "isdisabled": False,
            "accessmode": 4,
            **base,
        },
    )
    store.table("organization").put(
        ORGANIZATION_ID,
        {
            "organizationid": ORGANIZATION_ID,
            "name": "Contoso (sandbox)",
            "createproductswithoutparentinactivestate": products_active,
            "oobpricecalculationenabled": True,
            "pricingdecimalprecision": 2,
            "expirechangetrackingindays": 90,
            "quoteprefix": "QUO",
            "orderprefix": "ORD",
            "invoiceprefix": "INV",
            "currentquotenumber": 1000,
            "currentordernumber": 1000,
            "currentinvoicenumber": 1000,
            **base,
        },
    )
    create(
        writer,
        "transactioncurrency",
        {
            "transactioncurrencyid": USD_ID,
            "isocurrencycode": "USD",
            "currencyname": "US Dollar",
            "currencysymbol": "$",
            "exchangerate": Decimal(1),
            "currencyprecision": 2,
        },
    )
    # the root business unit is named after the organisation
    create(writer, "businessunit", {"businessunitid": BUSINESS_UNIT_ID, "name": org.org_row["name"]})
    for unit_id, name in BUSINESS_UNITS:
        create(
            writer,
            "businessunit",
            {"businessunitid": unit_id, "name": name, "_parentbusinessunitid_value": BUSINESS_UNIT_ID},
        )
    org_row = dict(org.org_row)
    org_row["_basecurrencyid_value"] = USD_ID
    store.table("organization").put(ORGANIZATION_ID, org_row)
    create(
        writer,
        "transactioncurrency",
        {
            "transactioncurrencyid": EUR_ID,
            "isocurrencycode": "EUR",
            "currencyname": "Euro",
            "currencysymbol": "€",
            "exchangerate": Decimal("0.9200000000"),
            "currencyprecision": 2,
        },
    )
    create(
        writer,
        "uomschedule",
        {"uomscheduleid": UNIT_GROUP_ID, "name": "Default Unit", "baseuomname": "Primary Unit"},
    )
    _sdk_messages(org)


def _sdk_messages(org: Org) -> None:
    """``sdkmessage`` / ``sdkmessagefilter`` rows: which messages each table supports."""
    now = now_utc_text()
    v = org.catalog.version
    stamp = {"createdon": now, "modifiedon": now, "versionnumber": v}
    messages = org.store.table("sdkmessage")
    for name in (*MESSAGES, *MULTIPLE):
        mid = metadata_id("sdkmessage", name)
        messages.put(mid, {"sdkmessageid": mid, "name": name, **stamp})
    for t in org.catalog.tables.values():
        if not t.read_only:
            sdk_message_filters(org, t.name, MESSAGES)
            sdk_message_filters(org, t.name, MULTIPLE, on=org.catalog.bulk(t.name))


def sdk_message_filters(org: Org, table: str, names: tuple[str, ...], *, on: bool = True) -> None:
    """Put (or, ``on=False``, take away) the ``sdkmessagefilter`` rows of ``names`` for ``table``."""
    now = now_utc_text()
    filters = org.store.table("sdkmessagefilter")
    for name in names:
        fid = metadata_id("sdkmessagefilter", name, table)
        if not on:
            filters.delete(fid)
            continue
        filters.put(
            fid,
            {
                "sdkmessagefilterid": fid,
                "name": f"{name} {table}",
                "primaryobjecttypecode": table,
                "_sdkmessageid_value": metadata_id("sdkmessage", name),
                "isvisible": True,
                "createdon": now,
                "modifiedon": now,
                "versionnumber": org.catalog.version,
            },
        )


def seed_demo(org: Org, writer: Writer, products_active: bool, app_id: str = "") -> None:
    seed_empty(org, writer, products_active, app_id)
    rng = random.Random(20240501)
    ids = Ids(rng)
    store = org.store
    for uid, first, last in OWNERS:
        create(
            writer,
            "systemuser",
            {
                "systemuserid": uid,
                "firstname": first,
                "lastname": last,
                "domainname": f"{first.lower()}@contoso.com",
                "internalemailaddress": f"{first.lower()}@contoso.com",
                "_businessunitid_value": CONTOSO_US_ID,
            },
        )
    group = store.table("uomschedule").get(UNIT_GROUP_ID) or {}
    base_unit = next(
        u for u in org.children("uom", "_uomscheduleid_value", UNIT_GROUP_ID) if u.get("isschedulebaseuom")
    )
    units = {"Primary Unit": base_unit["uomid"]}
    for name in ("ea", "pcs", "hour", "m"):
        units[name] = create(
            writer,
            "uom",
            {
                "uomid": ids.new(),
                "name": name,
                "quantity": Decimal(1),
                "_uomscheduleid_value": group.get("uomscheduleid"),
                "_baseuom_value": base_unit["uomid"],
            },
        )["uomid"]
    lists = {}
    for key, name, currency in (
        ("usd", "CRM Service USA (sample)", USD_ID),
        ("eur", "CRM Service Europe (sample)", EUR_ID),
        ("retail", "Retail USA", USD_ID),
    ):
        lists[key] = create(
            writer,
            "pricelevel",
            {"pricelevelid": ids.new(), "name": name, "_transactioncurrencyid_value": currency},
        )["pricelevelid"]
    products: list[tuple[str, str]] = []
    for number, name, unit, usd, eur in PRODUCTS:
        pid = create(
            writer,
            "product",
            {
                "productid": ids.new(),
                "productnumber": number,
                "name": name,
                "_defaultuomscheduleid_value": UNIT_GROUP_ID,
                "_defaultuomid_value": units[unit],
                "price": Decimal(usd),
                "quantitydecimal": 2 if unit == "hour" else 0,
                "producttypecode": 3 if number.startswith("SVC") else 1,
            },
        )["productid"]
        for list_key, price in (("usd", usd), ("eur", eur), ("retail", usd)):
            if price is not None:
                create(
                    writer,
                    "productpricelevel",
                    {
                        "productpricelevelid": ids.new(),
                        "_pricelevelid_value": lists[list_key],
                        "_productid_value": pid,
                        "_uomid_value": units[unit],
                        "amount": Decimal(price),
                        "pricingmethodcode": 1,
                    },
                )
        product_t = org.catalog.table("product")
        row = store.table("product").get(pid) or {}
        writer.update_fields(
            product_t, row, {"_pricelevelid_value": lists["usd"], "statecode": 0, "statuscode": 1}
        )
        products.append((pid, units[unit]))
    create(
        writer,
        "product",
        {
            "productid": ids.new(),
            "productnumber": "SVC-CONSULT",
            "name": "Consulting (not yet published)",
            "_defaultuomscheduleid_value": UNIT_GROUP_ID,
            "_defaultuomid_value": units["hour"],
            "price": Decimal("150"),
            "quantitydecimal": 2,
        },
    )
    accounts = seed_accounts(writer, rng, ids)
    contacts = seed_contacts(writer, rng, ids, accounts)
    seed_documents(org, writer, rng, ids, accounts, contacts, products, lists["usd"])
