"""Products with their price-list items in one run, in few requests: the rows the Products task
wrote answer the items' product lookup (no read of the products back by number), the price lists
read to choose one answer their price-list lookup, and a CRM that
holds the products already (unlinked) gets them updated and priced, each exactly once, and
activated where they were not Active (no request for those that were)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from engine_helpers import crm_rows, erp_rows


def _spy_reads(h: Any) -> list[tuple[str, str]]:
    """The (entity, field) of each of the CRM connector's reads by values (alone, or several
    together: a chunk's lookups); they still go to the sandbox."""
    seen: list[tuple[str, str]] = []
    real = h.crm.read_by_values

    def read_by_values(entity: str, field: str, values: Any, **kw: Any) -> Iterator[list[dict[str, Any]]]:
        seen.append((entity, field))
        return real(entity, field, values, **kw)  # type: ignore[no-any-return]

    def read_by_values_many(queries: Any) -> list[list[dict[str, Any]]]:
        seen.extend((q.entity, q.field) for q in queries)
        return real_many(queries)  # type: ignore[no-any-return]

    real_many = h.crm.read_by_values_many
    h.crm.read_by_values = read_by_values
    h.crm.read_by_values_many = read_by_values_many
    return seen


def _check_synced(world: Any) -> None:
    """Every sellable product is Active with one price-list item of its own price and product."""
    erp = {
        p["ProductNumber"]: p
        for p in erp_rows(world.erp(), "SellableReleasedProducts", filter="dataAreaId eq 'usmf'")
        if p["IsSalesStopped"] == "No"
    }
    crm = world.crm()
    products = {
        p["productnumber"]: p
        for p in crm_rows(crm, "products", ["productid", "productnumber", "statecode"])
        if p["productnumber"] in erp
    }
    assert set(products) == set(erp)
    assert {n: p["statecode"] for n, p in products.items()} == {n: 0 for n in erp}  # Active
    number_of = {p["productid"]: n for n, p in products.items()}
    items = crm_rows(crm, "productpricelevels", ["_productid_value", "amount"])
    ours = [i for i in items if i["_productid_value"] in number_of]
    assert sorted(number_of[i["_productid_value"]] for i in ours) == sorted(erp)  # one each
    for item in ours:
        number = number_of[item["_productid_value"]]
        assert Decimal(str(item["amount"])) == Decimal(str(erp[number]["SalesPrice"]))


@pytest.mark.parametrize("crm_had_them", [False, True], ids=["new", "adopted"])
def test_price_list_items_take_their_product_from_the_products_just_written(
    provisioned_project: Any, crm_had_them: bool
) -> None:
    world = provisioned_project
    world.configure(settings={"products_created_active": True})
    if crm_had_them:  # a CRM that holds the products already, unknown to this store, some Draft
        with world.open() as h:
            h.run("Products")
        world.configure(state="adopting.db")
        crm = world.crm()
        drafted = crm_rows(crm, "products", ["productid"], "productnumber eq 'T0002-BLK'")
        patch = {"statecode": 2, "statuscode": 0}
        assert crm.patch(f"products({drafted[0]['productid']})", json=patch).status_code == 204
    with world.open() as h:
        reads = _spy_reads(h)
        report = h.run("Products", "ProductPriceListItems")
        activated = [o.source_key for o in h.store.outcomes(report.run_id, operations=True)]
    assert [t.failed + t.waiting for t in report.tasks] == [0, 0]
    assert [t.written for t in report.tasks] == [17, 17]
    assert ("products", "productnumber") not in reads  # the items' product: from the Products writes
    assert ("pricelevels", "name") not in reads  # their price list: from the price lists read to choose it
    # new products are activated; of those the CRM held, only the one found Draft
    assert len(activated) == 17 if not crm_had_them else activated == ["usmf,T0002-BLK"]
    _check_synced(world)


def test_items_into_dataverse_are_read_once_per_5000_rows_not_per_1000(provisioned_project: Any) -> None:
    """A chunk into Dataverse is 5 000 rows: the items' existence read (a key of lookups, found by
    product) goes once for 1 100 items, while their writes still go 1 000 rows a request."""
    world = provisioned_project
    world.reseed("large:4400")  # 1 100 products, each with its price-list item, in both systems
    with world.open() as h:
        reads = _spy_reads(h)
        report = h.run("Products", "ProductPriceListItems")
    assert [(t.written, t.failed, t.waiting) for t in report.tasks] == [(1100, 0, 0), (1100, 0, 0)]
    assert [t.updated for t in report.tasks] == [1100, 1100]  # the CRM held them: updated, once each
    assert reads.count(("productpricelevels", "_productid_value")) == 1
    items = crm_rows(world.crm(), "productpricelevels", ["_productid_value"])
    assert len(items) == len({i["_productid_value"] for i in items})  # no item written twice


def test_a_chunks_lookups_into_the_crm_go_together(provisioned_project: Any) -> None:
    """A product's currency, unit group and unit: read for the chunk in one request, not three
    (after the first run, which reads these reference tables whole: test_engine_reference.py)."""
    world = provisioned_project
    with world.open() as h:
        report = h.run("Products")
        together: list[set[str]] = []
        real = h.crm.read_by_values_many

        def read_by_values_many(queries: Any) -> list[list[dict[str, Any]]]:
            before = h.crm.stats["requests"]
            answers = real(queries)
            if h.crm.stats["requests"] - before == 1:
                together.append({q.entity for q in queries})
            return answers  # type: ignore[no-any-return]

        h.crm.read_by_values_many = read_by_values_many
        again = h.run("Products", full=True)  # every product mapped again: its lookups asked by value
    assert [(t.written, t.failed, t.waiting) for t in report.tasks] == [(17, 0, 0)]
    assert [(t.written, t.failed, t.waiting) for t in again.tasks] == [(17, 0, 0)]
    assert {"transactioncurrencies", "uomschedules", "uoms"} in together
    lookups = ["_transactioncurrencyid_value", "_defaultuomscheduleid_value", "_defaultuomid_value"]
    ours = crm_rows(world.crm(), "products", lookups, "p2c_isexternallymaintained eq true")
    assert len(ours) == 17 and all(p[c] for p in ours for c in lookups)  # each answered its own rows
