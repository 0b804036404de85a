"""Query options and server paging (FNO.md §1.4)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

ENUM = "Microsoft.Dynamics.DataEntities"


def _values(r) -> list[dict]:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    return r.json()["value"]


def test_filter_select_top_skip_orderby(erp) -> None:
    rows = _values(
        erp.get(
            "SellableReleasedProducts",
            params={
                "$filter": "SalesPrice ge 100 and SalesPrice lt 1000",
                "$select": "ProductNumber,SalesPrice",
                "$orderby": "SalesPrice desc,ProductNumber",
                "$top": "3",
                "$skip": "1",
            },
        )
    )
    assert [r["ProductNumber"] for r in rows] == ["T0002-WHT", "T0002-BLK", "T0002-SLV"]
    assert set(rows[0]) == {"@odata.etag", "ProductNumber", "SalesPrice"}


def test_wildcards_in_eq_are_contains_and_startswith(erp) -> None:
    names = {
        r["ProductNumber"]
        for r in _values(
            erp.get("SellableReleasedProducts", params={"$filter": "ProductName eq '*speaker*'"})
        )
    }
    assert names == {"D0001", "D0003", "D0004", "L0001", "L0002"}
    starts = _values(erp.get("SellableReleasedProducts", params={"$filter": "ProductNumber eq 'T0002*'"}))
    assert {r["ProductNumber"] for r in starts} == {"T0002-BLK", "T0002-SLV", "T0002-WHT"}


def test_enum_literals_with_eq_and_ne(erp) -> None:
    confirmed = _values(
        erp.get(
            "CDSSalesOrderHeaders",
            params={
                "$filter": f"SalesOrderProcessingStatus ne {ENUM}.SalesOrderProcessingStatus'Active' and "
                f"AreTotalsUpdated eq {ENUM}.NoYes'Yes'"
            },
        )
    )
    assert [r["SalesOrderNumber"] for r in confirmed] == ["000002"]


def test_date_time_offset_literals(erp) -> None:
    rows = _values(
        erp.get("CDSSalesOrderHeaders", params={"$filter": "OrderCreationDateTime gt 2000-01-01T00:00:00Z"})
    )
    assert len(rows) == 2
    assert _values(
        erp.get("CDSSalesOrderHeaders", params={"$filter": "ConfirmedShippingDate eq 1900-01-01T12:00:00Z"})
    )


@pytest.mark.parametrize(
    "bad",
    [
        "CustomerGroupId in ('10','20')",
        "contains(CustomerGroupId,'1')",
        "Nope eq 1",
        "CustomerGroupId eq",
        f"IsSalesTaxIncludedInPrice gt {ENUM}.NoYes'No'",
    ],
)
def test_bad_filters_are_400(erp, bad: str) -> None:
    r = erp.get("CustomerGroups", params={"$filter": bad})
    assert r.status_code == 400
    assert r.json()["error"]["innererror"]["message"]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("$select", "Nope"),
        ("$orderby", "Nope desc"),
        ("$top", "-1"),
        ("$skip", "x"),
        ("$count", "maybe"),
        ("$expand", "Nope"),
        ("$search", "x"),
        ("$skiptoken", "1"),
    ],
)
def test_bad_options_are_400(erp, option: str, value: str) -> None:
    assert erp.get("CDSSalesOrderHeaders", params={option: value}).status_code == 400


def test_count_ignores_top_and_count_segment_is_plain_text(erp) -> None:
    body = erp.get("SellableReleasedProducts", params={"$count": "true", "$top": "2"}).json()
    assert body["@odata.count"] == 18 and len(body["value"]) == 2
    r = erp.get(
        "SellableReleasedProducts/$count",
        params={"$filter": "ProductType eq Microsoft.Dynamics.DataEntities.EcoResProductType'Service'"},
    )
    assert r.text == "1" and r.headers["content-type"].startswith("text/plain")


def test_expand_first_level_with_nested_select(erp) -> None:
    rows = _values(
        erp.get(
            "CDSSalesOrderHeaders",
            params={
                "$select": "SalesOrderNumber",
                "$expand": "SalesOrderLines($select=ProductNumber,LineAmount)",
            },
        )
    )
    second = next(r for r in rows if r["SalesOrderNumber"] == "000002")
    assert [ln["ProductNumber"] for ln in second["SalesOrderLines"]] == [
        "D0001",
        "L0001",
        "P0001",
        "D0003",
        "D0004",
    ]
    assert set(second["SalesOrderLines"][0]) == {"@odata.etag", "ProductNumber", "LineAmount"}
    nested = erp.get("CDSSalesOrderHeaders", params={"$expand": "SalesOrderLines($expand=SalesOrderHeader)"})
    assert nested.status_code == 400
    quote = _values(erp.get("CDSSalesQuotationHeaders", params={"$expand": "SalesQuotationLines"}))[0]
    assert len(quote["SalesQuotationLines"]) == 2


def test_format_json(erp) -> None:
    assert erp.get("CustomerGroups", params={"$format": "json"}).status_code == 200
    assert erp.get("CustomerGroups", params={"$format": "atom"}).status_code == 400


def test_server_paging_emits_skip_top_next_links(erp, erp_env) -> None:
    erp_env.service.config.erp_page_size = 4
    r = erp.get("SellableReleasedProducts", params={"cross-company": "true", "$select": "ProductNumber"})
    body = r.json()
    assert len(body["value"]) == 4
    link = body["@odata.nextLink"]
    assert link.startswith(erp_env.root + "SellableReleasedProducts?")
    assert link.endswith("&$skip=4&$top=4")
    assert dict(parse_qsl(urlsplit(link).query))["cross-company"] == "true"
    seen = [p["ProductNumber"] for p in body["value"]]
    pages = 1
    while "@odata.nextLink" in body:
        body = erp.get(body["@odata.nextLink"]).json()
        seen += [p["ProductNumber"] for p in body["value"]]
        pages += 1
    assert len(seen) == 18 + 5 and pages == 6


def test_paging_respects_a_client_top(erp, erp_env) -> None:
    erp_env.service.config.erp_page_size = 4
    body = erp.get("SellableReleasedProducts", params={"$top": "6", "$select": "ProductNumber"}).json()
    assert body["@odata.nextLink"].endswith("$skip=4&$top=2")
    rest = erp.get(body["@odata.nextLink"]).json()
    assert len(rest["value"]) == 2 and "@odata.nextLink" not in rest


def test_default_order_is_by_key(erp) -> None:
    rows = _values(
        erp.get("CustomersV3", params={"cross-company": "true", "$select": "dataAreaId,CustomerAccount"})
    )
    keys = [(r["dataAreaId"], r["CustomerAccount"]) for r in rows]
    assert keys == sorted(keys)


def test_paged_filtered_reads_see_writes_between_pages(erp, erp_env) -> None:
    erp_env.service.config.erp_page_size = 2
    params = {
        "cross-company": "true",
        "$filter": "CustomerGroupId eq '10'",
        "$orderby": "dataAreaId,CustomerAccount",
    }
    first = erp.get("CustomersV3", params=params).json()
    assert [r["CustomerAccount"] for r in first["value"]] == ["DE-001", "US-001"]
    assert (
        erp.post("CustomersV3", json={"CustomerAccount": "US-900", "CustomerGroupId": "10"}).status_code
        == 201
    )
    rest = erp.get(first["@odata.nextLink"]).json()
    assert [r["CustomerAccount"] for r in rest["value"]] == ["US-002", "US-900"]


@pytest.mark.parametrize("entity", ["CustomersV3", "SellableReleasedProducts", "CDSSalesOrderLines"])
def test_select_gives_each_property_as_the_full_read_does(erp, entity: str) -> None:
    """Unset properties come with their defaults (enums their first member, decimals 0) either way."""
    whole = _values(erp.get(entity, params={"cross-company": "true", "$top": "5"}))
    assert whole
    names = [k for k in whole[0] if not k.startswith("@")]
    chosen = _values(
        erp.get(entity, params={"cross-company": "true", "$top": "5", "$select": ",".join(names)})
    )
    assert chosen == whole


def _cached_rows(erp_env, entity: str, flt: str) -> list:  # type: ignore[no-untyped-def]
    """The rows the emulator keeps for a filtered read (its query cache), by entity and filter."""
    [query] = [q for k, q in erp_env.service.data._queries.items() if k[0] == entity and k[2] == flt]
    return query.rows  # type: ignore[no-any-return]


def test_a_cached_filtered_read_outlives_writes_it_cannot_see(erp, erp_env) -> None:
    """A write of a row outside a large filtered read (another group, another company) keeps the
    read's cached result; a write of a row in it, before or after, computes it again. A small
    result is not watched: any write of its table drops it (asking every cached lookup on every
    write made an initial load 1.8x slower)."""
    flt = "CustomerGroupId eq '10'"
    params = {"$filter": flt, "$select": "CustomerAccount"}

    def accounts() -> list[str]:
        return [r["CustomerAccount"] for r in _values(erp.get("CustomersV3", params=params))]

    data = erp_env.service.data
    assert accounts() == ["US-001", "US-002"]
    small = _cached_rows(erp_env, "CustomersV3", flt)
    assert (
        erp.post("CustomersV3", json={"CustomerAccount": "US-900", "CustomerGroupId": "20"}).status_code
        == 201
    )
    assert accounts() == ["US-001", "US-002"]
    assert _cached_rows(erp_env, "CustomersV3", flt) is not small  # two rows: computed again
    data.watched_min_rows = 1  # every result watched, as a whole read of a large table is
    data.forget_caches()
    accounts()
    kept = _cached_rows(erp_env, "CustomersV3", flt)
    outside = {"CustomerAccount": "US-901", "CustomerGroupId": "20"}
    assert erp.post("CustomersV3", json=outside).status_code == 201
    other = {"dataAreaId": "demf", "CustomerAccount": "DE-901", "CustomerGroupId": "10"}
    assert erp.post("CustomersV3?cross-company=true", json=other).status_code == 201
    assert erp.patch(CUSTOMER_901, json={"OrganizationName": "Still outside"}).status_code == 204
    assert accounts() == ["US-001", "US-002"]
    assert _cached_rows(erp_env, "CustomersV3", flt) is kept

    assert erp.patch(CUSTOMER_901, json={"CustomerGroupId": "10"}).status_code == 204  # moves in
    assert accounts() == ["US-001", "US-002", "US-901"]
    assert erp.patch(CUSTOMER_901, json={"CustomerGroupId": "20"}).status_code == 204  # and out
    assert accounts() == ["US-001", "US-002"]
    assert erp.patch(CUSTOMER_901, json={"CustomerGroupId": "10"}).status_code == 204
    assert accounts() == ["US-001", "US-002", "US-901"]
    assert erp.delete(CUSTOMER_901).status_code == 204
    assert accounts() == ["US-001", "US-002"]


CUSTOMER_901 = "CustomersV3(dataAreaId='usmf',CustomerAccount='US-901')"


def test_a_read_narrowed_by_an_enum_gives_what_a_scan_gives_and_follows_writes(erp, admin, erp_env) -> None:
    """A filter that ands enum comparisons is served from an index of the enums' values
    (enumfilter.py: the ERP's own order lines, among 250 000 Active CRM lines after a load).
    Its rows are those the whole read filtered by hand gives, for eq and ne, a member in another
    case, an absent value (the set's default), a company scope and two enum comparisons at once
    (the rows both keep); a write that moves a line in or out of a group is seen at the next read."""
    status = f"{ENUM}.SalesOrderProcessingStatus"
    select = (
        "dataAreaId,SalesOrderNumber,LineCreationSequenceNumber,SalesOrderProcessingStatus,ProductName,"
        "IsDeliveryAddressPrivate"
    )

    def keys(rows: list[dict]) -> list[tuple]:
        return [(r["dataAreaId"], r["SalesOrderNumber"], r["LineCreationSequenceNumber"]) for r in rows]

    def read(flt: str, company: bool = False) -> list[tuple]:
        params = {"$filter": flt, "$select": select, **({} if company else {"cross-company": "true"})}
        return keys(_values(erp.get("CDSSalesOrderLines", params=params)))

    def by_hand(op: str, member: str, company: bool = False, private: str | None = None) -> list[tuple]:
        whole = _values(erp.get("CDSSalesOrderLines", params={"cross-company": "true", "$select": select}))
        kept = [r for r in whole if (r["SalesOrderProcessingStatus"] == member) == (op == "eq")]
        kept = [r for r in kept if private is None or r["IsDeliveryAddressPrivate"] == private]
        return keys([r for r in kept if not company or r["dataAreaId"] == "usmf"])

    def check() -> None:
        for member in ("Confirmed", "Active"):
            for op in ("eq", "ne"):
                flt = f"SalesOrderProcessingStatus {op} {status}'{member.lower()}' and ProductName ne 'none'"
                assert read(flt) == by_hand(op, member), flt
                assert read(flt, company=True) == by_hand(op, member, company=True), flt
                both = f"{flt} and IsDeliveryAddressPrivate eq {ENUM}.NoYes'Yes'"
                assert read(both) == by_hand(op, member, private="Yes"), both

    data = erp_env.service.data
    for n in range(20):  # 22 Active lines against 5 Confirmed: a comparison narrow enough to index
        line = {"SalesOrderNumber": "000001", "ProductNumber": "D0001", "OrderedSalesQuantity": 1}
        assert erp.post("CDSSalesOrderLines", json=line).status_code == 201
        if n % 3 == 0:  # some with a private delivery address: a second comparison to intersect
            added = max(data.table("SalesLine").rows.values(), key=lambda r: r["_recid"])
            with data.transaction():
                data.update("SalesLine", added, {"IsDeliveryAddressPrivate": "Yes"})
    lines = data.table("SalesLine")
    with data.transaction():  # and order 000002's: they will be Canceled, beside Active ones
        for row in [r for r in lines.rows.values() if r["SalesOrderNumber"] == "000002"]:
            data.update("SalesLine", row, {"IsDeliveryAddressPrivate": "Yes"})
    check()
    assert lines.has_group("enum:SalesOrderProcessingStatus")  # served by the index
    assert admin.post("orders/usmf/000001/confirm").status_code == 200  # 22 lines move to Confirmed
    check()
    pk, row = next(iter(lines.rows.items()))  # a Confirmed line of 000001...
    with data.transaction():  # ...stored without its status reads as the set's default (Active)
        lines.put(pk, {k: v for k, v in row.items() if k != "SalesOrderProcessingStatus"})
    data.forget_caches()
    check()
    assert admin.post("orders/usmf/000002/cancel").status_code == 200  # 5 lines move to Canceled
    check()
