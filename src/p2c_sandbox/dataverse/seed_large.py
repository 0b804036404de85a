"""``large:N``: a volume seed — N accounts, N/4 active products with price list items, N/2 active
orders of five lines each; ``accounts:N``: the N accounts only (one task's million rows, without the
orders' millions of lines).

Building 100 000 accounts and 250 000 lines through the validating writer would take minutes, so
the first row of each kind goes through the writer (every rule runs) and serves as the template
for the rest, which are copies with their own ids, names, numbers, amounts (computed by the same
pricing functions) and version numbers, put straight into the store and flushed once. The rows
therefore have exactly the shape the writer produces.

Example::

    seed_large(org, writer, 1000, products_active=False)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from p2c_sandbox.dataverse.org import ORGANIZATION_ID, Org
from p2c_sandbox.dataverse.pricing import header_totals, line_amounts
from p2c_sandbox.dataverse.seed import UNIT_GROUP_ID, seed_empty
from p2c_sandbox.dataverse.seed_data import ACCOUNTS, CITIES, CONTOSO_US_ID, OWNERS, USD_ID
from p2c_sandbox.dataverse.seed_data import create as _create
from p2c_sandbox.dataverse.values import quantize
from p2c_sandbox.dataverse.write import Writer
from p2c_sandbox.store import Row, share_decimals

__all__ = ["seed_large"]

LINES_PER_ORDER = 5
_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


_BASE_ZERO = Decimal("0.0000")  # adding it gives a value four decimals, as the writer's _base twins


def _base_twins(row: Row, names: tuple[str, ...]) -> None:
    for name in names:
        value = row.get(name)
        if value is not None:
            row[name + "_base"] = value + _BASE_ZERO  # USD is the base currency: rate 1


def _uuid4_text(bits: int) -> str:
    """A version-4 GUID's text from 128 random bits (``uuid.UUID`` is slow for 450 000 rows)."""
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def seed_large(
    org: Org, writer: Writer, n: int, products_active: bool, app_id: str = "", *, accounts_only: bool = False
) -> None:
    seed_empty(org, writer, products_active, app_id)
    rng = random.Random(n)

    def new_id() -> str:
        return _uuid4_text(rng.getrandbits(128))

    for uid, first, last in OWNERS:
        _create(
            writer,
            "systemuser",
            {
                "systemuserid": uid,
                "firstname": first,
                "lastname": last,
                "domainname": f"{first.lower()}@contoso.com",
                "_businessunitid_value": CONTOSO_US_ID,
            },
        )
    unit = _create(
        writer,
        "uom",
        {"uomid": new_id(), "name": "ea", "quantity": Decimal(1), "_uomscheduleid_value": UNIT_GROUP_ID},
    )["uomid"]
    price_list = _create(
        writer,
        "pricelevel",
        {
            "pricelevelid": new_id(),
            "name": "CRM Service USA (sample)",
            "_transactioncurrencyid_value": USD_ID,
        },
    )["pricelevelid"]
    cat = org.catalog
    version = cat.version
    pool: dict[tuple[Decimal, int], Decimal] = {}

    def put(table: str, template: Row, pk_name: str, **fields: object) -> Row:
        nonlocal version
        # the writer also draws versions (for the template rows): never hand out one twice
        version = max(version, cat.version) + 1
        cat.store.set_meta("dv.version", version)
        row = dict(template)
        row.pop("@seq", None)
        row.update(fields)
        row["versionnumber"] = version
        org.store.table(table).put(str(row[pk_name]), share_decimals(row, pool))
        return row

    # accounts
    first_account = _create(
        writer,
        "account",
        {
            "accountid": new_id(),
            "name": "Large Account 0",
            "accountnumber": "L0000000",
            "address1_city": CITIES[0][0],
            "address1_country": "United States",
            "telephone1": "+1 425 555 0000",
            "creditlimit": Decimal(10000),
            "_transactioncurrencyid_value": USD_ID,
            "paymenttermscode": 1,
            "_ownerid_value": OWNERS[0][0],
        },
    )
    accounts = [first_account["accountid"]]
    for i in range(1, n):
        cat.store.flush_rows_if_many()
        owner = OWNERS[i % len(OWNERS)][0]
        row = put(
            "account",
            first_account,
            "accountid",
            accountid=new_id(),
            name=f"{ACCOUNTS[i % len(ACCOUNTS)]} {i}",
            address1_city=CITIES[i % len(CITIES)][0],
            telephone1=f"+1 425 555 {i % 10000:04d}",
            _ownerid_value=owner,
            _owninguser_value=owner,
        )
        if i % 10:
            row["accountnumber"] = f"L{i:07d}"
        else:
            row.pop("accountnumber", None)
        accounts.append(row["accountid"])

    if accounts_only:
        return
    # products (with a price list item each), active
    product_t, item_t = cat.table("product"), cat.table("productpricelevel")
    n_products = max(1, n // 4)
    first_product = _create(
        writer,
        "product",
        {
            "productid": new_id(),
            "productnumber": "LP-000001",  # the ERP's numbers (fno/seed.py large): the same items
            "name": "Large product 0",
            "_defaultuomscheduleid_value": UNIT_GROUP_ID,
            "_defaultuomid_value": unit,
            "price": Decimal("10.00"),
        },
    )
    first_item = _create(
        writer,
        "productpricelevel",
        {
            "productpricelevelid": new_id(),
            "_pricelevelid_value": price_list,
            "_productid_value": first_product["productid"],
            "_uomid_value": unit,
            "amount": Decimal("10.00"),
        },
    )
    first_product = writer.update_fields(product_t, first_product, {"statecode": 0, "statuscode": 1})
    _ = item_t
    products: list[tuple[str, Decimal]] = [(first_product["productid"], Decimal("10.00"))]
    for i in range(1, n_products):
        cat.store.flush_rows_if_many()
        price = Decimal(rng.randint(100, 100000)) / 100
        number = f"LP-{i + 1:06d}"
        p = put(
            "product",
            first_product,
            "productid",
            productid=new_id(),
            productnumber=number,
            name=f"Large product {i}",
            price=price,
            price_base=quantize(price, 4),
        )
        put(
            "productpricelevel",
            first_item,
            "productpricelevelid",
            productpricelevelid=new_id(),
            _productid_value=p["productid"],
            productnumber=number,
            amount=price,
            amount_base=quantize(price, 4),
        )
        products.append((p["productid"], price))

    # orders with lines
    n_orders = n // 2
    if n_orders:
        _orders(org, writer, rng, new_id, put, accounts, products, unit, price_list, n_orders, pool)
    cat.store.set_meta("dv.version", max(version, cat.version))


def _orders(
    org: Org,
    writer: Writer,
    rng: random.Random,
    new_id: Callable[[], str],
    put: Callable[..., Row],
    accounts: list[str],
    products: list[tuple[str, Decimal]],
    unit: str,
    price_list: str,
    n_orders: int,
    pool: dict[tuple[Decimal, int], Decimal],
) -> None:
    first_order = _create(
        writer,
        "salesorder",
        {
            "salesorderid": new_id(),
            "name": "Large order 0",
            "_customerid_value": accounts[0],
            "~customerid": "account",
            "_pricelevelid_value": price_list,
            "_ownerid_value": OWNERS[0][0],
        },
    )
    first_line = _create(
        writer,
        "salesorderdetail",
        {
            "salesorderdetailid": new_id(),
            "_salesorderid_value": first_order["salesorderid"],
            "_productid_value": products[0][0],
            "_uomid_value": unit,
            "quantity": Decimal(1),
        },
    )
    first_order = org.rows("salesorder").get(first_order["salesorderid"]) or first_order
    org_row = dict(org.org_row)
    counter = int(org_row.get("currentordernumber") or 1000)
    money = ("priceperunit", "baseamount", "extendedamount")
    for i in range(1, n_orders):
        org.store.flush_rows_if_many()
        order_id = new_id()
        lines = []
        for seq in range(1, LINES_PER_ORDER + 1):
            product_id, price = products[rng.randrange(len(products))]
            quantity = Decimal(rng.randint(1, 10))
            amounts = line_amounts(price, quantity, None, None, None, 2)
            line = put(
                "salesorderdetail",
                first_line,
                "salesorderdetailid",
                salesorderdetailid=new_id(),
                _salesorderid_value=order_id,
                _productid_value=product_id,
                quantity=quantity,
                priceperunit=quantize(price, 2),
                sequencenumber=seq,
                **amounts,
            )
            _base_twins(line, money)
            share_decimals(line, pool)
            lines.append(line)
        totals = header_totals(lines, None, None, None, 2)
        suffix = "".join(rng.choice(_CHARS) for _ in range(6))
        owner = OWNERS[i % len(OWNERS)][0]
        order = put(
            "salesorder",
            first_order,
            "salesorderid",
            salesorderid=order_id,
            name=f"Large order {i}",
            ordernumber=f"ORD-{counter:05d}-{suffix}",
            _customerid_value=accounts[i % len(accounts)],
            _ownerid_value=owner,
            _owninguser_value=owner,
            **totals,
        )
        _base_twins(order, tuple(totals))
        share_decimals(order, pool)
        for line in lines:
            line["_ownerid_value"] = owner
        counter += 1
    org_row["currentordernumber"] = counter
    org.store.table("organization").put(ORGANIZATION_ID, org_row)
