"""Products (ERP → CRM, with price-list items): the rules of P2C.md §2 as they arrive in the CRM."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from engine_helpers import crm_rows, erp_rows

from p2c.store import Action

PRODUCT_FIELDS = [
    "productid",
    "productnumber",
    "name",
    "price",
    "statecode",
    "p2c_isexternallymaintained",
    "_defaultuomid_value",
    "_defaultuomscheduleid_value",
    "_transactioncurrencyid_value",
]


def _by_name(crm: Any, entity: str, pk: str) -> dict[str, str]:
    return {r["name"]: r[pk] for r in crm_rows(crm, entity, [pk, "name"])}


@pytest.mark.parametrize("active", [True, False], ids=["active", "draft"])
def test_sellable_products_arrive_with_units_and_a_price_list_item(
    provisioned_project: Any, active: bool
) -> None:
    world = provisioned_project
    world.configure(settings={"products_created_active": active})
    crm = world.crm()
    with world.open() as h:
        report = h.run("Products", "ProductPriceListItems")
    assert [(t.created, t.failed, t.waiting) for t in report.tasks] == [(17, 0, 0), (17, 0, 0)]

    erp = {
        p["ProductNumber"]: p
        for p in erp_rows(world.erp(), "SellableReleasedProducts", filter="dataAreaId eq 'usmf'")
    }
    everything = {p["productnumber"]: p for p in crm_rows(crm, "products", PRODUCT_FIELDS)}
    products = {n: p for n, p in everything.items() if p["p2c_isexternallymaintained"]}
    sellable = {n for n, p in erp.items() if p["IsSalesStopped"] == "No"}
    assert "D0007" in erp and "D0007" not in sellable  # stopped for sales: it does not arrive
    assert set(products) == sellable
    # the products typed into the CRM before p2c stay as they were: not marked
    assert {p["p2c_isexternallymaintained"] for n, p in everything.items() if n not in products} == {None}
    assert {"T0002-BLK", "T0002-SLV", "T0002-WHT", "H0001-BLK", "H0001-WHT"} <= set(products)  # variants

    uoms, groups = _by_name(crm, "uoms", "uomid"), _by_name(crm, "uomschedules", "uomscheduleid")
    currencies = {
        r["isocurrencycode"]: r["transactioncurrencyid"] for r in crm_rows(crm, "transactioncurrencies")
    }
    for number, p in products.items():
        source = erp[number]
        assert p["name"] == source["ProductName"]
        assert Decimal(str(p["price"])) == Decimal(str(source["SalesPrice"]))
        assert p["p2c_isexternallymaintained"] is True
        assert p["_defaultuomid_value"] == uoms[source["SalesUnitSymbol"]]  # ea, m, pcs, hour
        assert p["_defaultuomscheduleid_value"] == groups["Default Unit"]
        assert p["_transactioncurrencyid_value"] == currencies["USD"]
        assert p["statecode"] == (0 if active else 2)  # Active, or Draft until someone activates it

    lists = _by_name(crm, "pricelevels", "pricelevelid")
    items = crm_rows(
        crm, "productpricelevels", ["_pricelevelid_value", "_productid_value", "_uomid_value", "amount"]
    )
    ids = {p["productid"]: n for n, p in products.items()}
    ours = [i for i in items if i["_productid_value"] in ids]
    assert len(ours) == len(products)  # exactly one item per product
    for item in ours:
        number = ids[item["_productid_value"]]
        # USD has "CRM Service USA (sample)" and "Retail USA": the first by name
        assert item["_pricelevelid_value"] == lists["CRM Service USA (sample)"]
        assert Decimal(str(item["amount"])) == Decimal(str(erp[number]["SalesPrice"]))
        assert item["_uomid_value"] == uoms[erp[number]["SalesUnitSymbol"]]


def test_a_currency_without_price_list_fails_the_price_list_item_clearly(provisioned_project: Any) -> None:
    world = provisioned_project
    crm = world.crm()
    currency = {
        "isocurrencycode": "GBP",
        "currencyname": "Pound Sterling",
        "currencysymbol": "£",
        "exchangerate": 0.8,
        "currencyprecision": 2,
    }
    assert crm.post("transactioncurrencies", json=currency).status_code == 204
    created = world.sandbox.admin("erp").post(
        "products",
        json={
            "dataAreaId": "usmf",
            "ProductNumber": "G0001",
            "ProductName": "Teapot",
            "CurrencyCode": "GBP",
            "SalesPrice": 30,
            "SalesUnitSymbol": "ea",
            "IsSalesStopped": "No",
        },
    )
    assert created.status_code == 200, created.text

    with world.open() as h:
        report = h.run("Products", "ProductPriceListItems")
        [failed] = h.store.outcomes(report.run_id, actions=[Action.FAILED, Action.WAITING])

    products, items = report.tasks
    assert (products.created, products.failed) == (18, 0)  # the product itself is fine
    assert (items.created, items.failed, items.waiting) == (17, 1, 0)
    assert (failed.task, failed.source_key, failed.action) == (
        "ProductPriceListItems",
        "usmf,G0001",
        Action.FAILED,
    )
    assert "GBP" in (failed.message or "") and "price list" in (failed.message or "").lower()
    teapot = crm_rows(crm, "products", ["productid"], "productnumber eq 'G0001'")
    assert len(teapot) == 1
    assert (
        crm_rows(
            crm,
            "productpricelevels",
            ["productpricelevelid"],
            f"_productid_value eq {teapot[0]['productid']}",
        )
        == []
    )
