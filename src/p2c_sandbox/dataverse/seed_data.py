"""The people and documents of the ``demo`` seed: accounts, contacts, quotes and orders.

Everything goes through the writer (:func:`create`), so pricing, numbering and totals are what the
Sales rules compute. Deterministic for a given RNG.

Example::

    accounts = seed_accounts(writer, random.Random(1), Ids(random.Random(1)))
"""

from __future__ import annotations

import random
import uuid
from decimal import Decimal
from typing import Any

from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.write import Writer
from p2c_sandbox.store import Row

#: well-known currency ids of the seeds
USD_ID = "a7c1e6a1-0b0e-4f5e-9a5a-0000000000d1"
EUR_ID = "a7c1e6a1-0b0e-4f5e-9a5a-0000000000e1"

__all__ = [
    "ACCOUNTS",
    "BUSINESS_UNITS",
    "CITIES",
    "CONTOSO_DE_ID",
    "CONTOSO_US_ID",
    "EUR_ID",
    "OWNERS",
    "USD_ID",
    "Ids",
    "create",
    "seed_accounts",
    "seed_contacts",
    "seed_documents",
]

ACCOUNTS = [
    "Adventure Works",
    "Alpine Ski House",
    "Blue Yonder Airlines",
    "City Power & Light",
    "Coho Winery",
    "Fabrikam",
    "Fourth Coffee",
    "Humongous Insurance",
    "Litware",
    "Lucerne Publishing",
    "Margie's Travel",
    "Northwind Traders",
    "Proseware",
    "Southridge Video",
    "Tailspin Toys",
    "Trey Research",
    "Wide World Importers",
    "Wingtip Toys",
    "Woodgrove Bank",
    "Graphic Design Institute",
    "School of Fine Art",
    "VanArsdel",
    "Relecloud",
    "Contoso Pharmaceuticals",
    "A. Datum Corporation",
    "Best For You Organics",
    "First Up Consultants",
    "Consolidated Messenger",
    "Bellows College",
    "Munson's Pickles and Preserves",
]
FIRST = [
    "Yvonne",
    "Susanna",
    "Nancy",
    "Maria",
    "Sidney",
    "Scott",
    "Robert",
    "Paul",
    "Rene",
    "Patrick",
    "Jim",
    "Thomas",
    "Darren",
    "Cathan",
    "Brian",
    "Rachel",
    "Alan",
    "Mary",
    "Julie",
    "Ian",
]
LAST = [
    "McKay",
    "Stephens",
    "Anderson",
    "Campbell",
    "Higa",
    "Konersmann",
    "Lyon",
    "Cannon",
    "Valdes",
    "Sands",
    "Daly",
    "Andersen",
    "Parker",
    "Mullan",
    "Smith",
    "Hall",
    "Steiner",
    "Kay",
    "Dean",
    "Bell",
]
CITIES = [
    ("Redmond", "WA", "98052"),
    ("Seattle", "WA", "98101"),
    ("Portland", "OR", "97201"),
    ("Dallas", "TX", "75201"),
    ("Chicago", "IL", "60601"),
    ("Boston", "MA", "02108"),
    ("Denver", "CO", "80202"),
    ("Atlanta", "GA", "30303"),
]
#: the demo's business units under the organisation's root one: the sandbox's connections.yaml
#: maps ERP company usmf to Contoso US (and a project may map demf to Contoso DE)
CONTOSO_US_ID = "a7c1e6a1-0b0e-4f5e-9a5a-00000000b002"
CONTOSO_DE_ID = "a7c1e6a1-0b0e-4f5e-9a5a-00000000b003"
BUSINESS_UNITS = ((CONTOSO_US_ID, "Contoso US"), (CONTOSO_DE_ID, "Contoso DE"))
#: the demo's users (record owners), all in Contoso US
OWNERS = [
    ("a7c1e6a1-0b0e-4f5e-9a5a-00000000a002", "Alex", "Wu"),
    ("a7c1e6a1-0b0e-4f5e-9a5a-00000000a003", "Jamie", "Reyes"),
    ("a7c1e6a1-0b0e-4f5e-9a5a-00000000a004", "Priya", "Natarajan"),
]


class Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def new(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def create(writer: Writer, table: str, fields: dict[str, Any]) -> Row:
    t = writer.catalog.table(table)
    return writer.create_fields(t, {k: v for k, v in fields.items() if v is not None})


def seed_accounts(writer: Writer, rng: random.Random, ids: Ids) -> list[str]:
    out = []
    for i, name in enumerate(ACCOUNTS):
        city, state, postal = CITIES[i % len(CITIES)]
        out.append(
            create(
                writer,
                "account",
                {
                    "accountid": ids.new(),
                    "name": name,
                    "accountnumber": f"C{10100 + i}" if i % 2 == 0 else None,
                    "telephone1": f"+1 425 555 {1000 + i:04d}",
                    "emailaddress1": f"info@{name.split()[0].lower().strip('.')}.example",
                    "address1_line1": f"{100 + 7 * i} Main Street",
                    "address1_city": city,
                    "address1_stateorprovince": state,
                    "address1_postalcode": postal,
                    "address1_country": "United States" if i % 5 else "USA",
                    "paymenttermscode": rng.choice([1, 2, 3, 4]),
                    "customertypecode": 3,
                    "creditlimit": Decimal(rng.choice([5000, 10000, 25000, 50000])),
                    "_transactioncurrencyid_value": USD_ID,
                    "_ownerid_value": OWNERS[i % len(OWNERS)][0],
                },
            )["accountid"]
        )
    return out


def seed_contacts(writer: Writer, rng: random.Random, ids: Ids, accounts: list[str]) -> list[str]:
    out = []
    account_t = writer.catalog.table("account")
    for i in range(40):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7 + i // len(FIRST)) % len(LAST)]
        parent = accounts[i % len(accounts)] if i < 26 else None
        row = create(
            writer,
            "contact",
            {
                "contactid": ids.new(),
                "firstname": first,
                "lastname": last,
                "jobtitle": rng.choice(["Purchasing Manager", "CFO", "Owner", "Buyer", None]),
                "emailaddress1": f"{first.lower()}.{last.lower()}@example.com" if i % 3 else None,
                "telephone1": f"+1 206 555 {2000 + i:04d}",
                "address1_city": CITIES[i % len(CITIES)][0],
                "address1_country": "United States",
                "_parentcustomerid_value": parent,
                "~parentcustomerid": "account" if parent else None,
                "_ownerid_value": OWNERS[i % len(OWNERS)][0],
            },
        )
        out.append(row["contactid"])
        if parent is not None and i < len(accounts):
            account = writer.org.rows("account").get(parent) or {}
            writer.update_fields(account_t, account, {"_primarycontactid_value": row["contactid"]})
    return out


def seed_documents(
    org: Org,
    writer: Writer,
    rng: random.Random,
    ids: Ids,
    accounts: list[str],
    contacts: list[str],
    products: list[tuple[str, str]],
    price_list: str,
) -> None:
    """Three draft and three active quotes, five active orders, with product and write-in lines."""
    for kind, count in (("quote", 6), ("salesorder", 5)):
        line_table = "quotedetail" if kind == "quote" else "salesorderdetail"
        for i in range(count):
            by_contact = i == count - 1
            customer = (
                contacts[30 + i] if by_contact else accounts[(i * 3 + (kind == "salesorder")) % len(accounts)]
            )
            header = create(
                writer,
                kind,
                {
                    f"{kind}id": ids.new(),
                    "name": f"{'Quote' if kind == 'quote' else 'Order'} {i + 1} for the sandbox",
                    "_customerid_value": customer,
                    "~customerid": "contact" if by_contact else "account",
                    "_pricelevelid_value": price_list,
                    "shipto_city": "Redmond",
                    "shipto_country": "United States",
                    "freightamount": Decimal("25.00") if i % 2 else None,
                    "discountpercentage": Decimal("5") if i == 1 else None,
                    "_ownerid_value": OWNERS[i % len(OWNERS)][0],
                },
            )
            hid = header[f"{kind}id"]
            for n in range(rng.randint(1, 3)):
                pid, unit = products[rng.randrange(len(products))]
                create(
                    writer,
                    line_table,
                    {
                        f"{line_table}id": ids.new(),
                        f"_{kind}id_value": hid,
                        "_productid_value": pid,
                        "_uomid_value": unit,
                        "quantity": Decimal(rng.randint(1, 10)),
                        "lineitemnumber": n + 1,
                        "manualdiscountamount": Decimal("10.00") if n == 1 else None,
                        "tax": Decimal("4.75") if n == 0 else None,
                    },
                )
            if i % 3 == 2:
                create(
                    writer,
                    line_table,
                    {
                        f"{line_table}id": ids.new(),
                        f"_{kind}id_value": hid,
                        "isproductoverridden": True,
                        "productdescription": "Site survey (write-in)",
                        "quantity": Decimal(1),
                        "priceperunit": Decimal("150.00"),
                        "ispriceoverridden": True,
                    },
                )
            if kind == "quote" and i >= 3:
                t = org.catalog.table("quote")
                writer.update_fields(t, org.rows("quote").get(hid) or {}, {"statecode": 1, "statuscode": 2})
