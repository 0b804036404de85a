"""Sales rules (DATAVERSE.md §3): product states, document states, pricing, numbering, actions."""

from __future__ import annotations

import re

import httpx
from dv_helpers import entity_id, error_of, first

REP = {"Prefer": "return=representation"}


def unit(crm: httpx.Client, name: str) -> str:
    return first(crm, "uoms", f"$filter=name eq '{name}'&$select=name")["uomid"]


def price_list(crm: httpx.Client, name: str = "CRM Service USA (sample)") -> str:
    return first(crm, "pricelevels", f"$filter=name eq '{name}'&$select=name")["pricelevelid"]


def product(crm: httpx.Client, number: str) -> dict:
    return first(
        crm,
        "products",
        f"$filter=productnumber eq '{number}'&$select=productnumber,statecode,_defaultuomid_value",
    )


def new_order(crm: httpx.Client, **extra: object) -> str:
    account = first(crm, "accounts", "$select=name")
    body = {"name": "Test order", "customerid_account@odata.bind": f"/accounts({account['accountid']})",
            "pricelevelid@odata.bind": f"/pricelevels({price_list(crm)})", **extra}  # fmt: skip
    resp = crm.post("salesorders", json=body)
    assert resp.status_code == 204, resp.text
    return entity_id(resp)


def add_line(crm: httpx.Client, order: str, number: str, quantity: float, **extra: object) -> httpx.Response:
    p = product(crm, number)
    return crm.post(
        "salesorderdetails?$select=priceperunit,baseamount,extendedamount",
        json={"salesorderid@odata.bind": f"/salesorders({order})", "productid@odata.bind": f"/products({p['productid']})",
              "uomid@odata.bind": f"/uoms({p['_defaultuomid_value']})", "quantity": quantity, **extra},
        headers=REP,
    )  # fmt: skip


def test_product_created_draft_unless_org_setting(crm: httpx.Client, admin: httpx.Client) -> None:
    group = first(crm, "uomschedules", "$select=name")["uomscheduleid"]
    body = {"name": "P", "productnumber": "P-1", "defaultuomscheduleid@odata.bind": f"/uomschedules({group})",
            "defaultuomid@odata.bind": f"/uoms({unit(crm, 'ea')})"}  # fmt: skip
    row = crm.post("products?$select=statecode,statuscode", json=body, headers=REP).json()
    assert (row["statecode"], row["statuscode"]) == (2, 0)
    assert admin.post("settings", json={"products_created_active": True}).status_code == 200
    row = crm.post(
        "products?$select=statecode,statuscode", json={**body, "productnumber": "P-2"}, headers=REP
    ).json()
    assert (row["statecode"], row["statuscode"]) == (0, 1)
    with_list = crm.post(
        "products",
        json={**body, "productnumber": "P-3", "pricelevelid@odata.bind": f"/pricelevels({price_list(crm)})"},
    )
    assert with_list.status_code == 400 and "pricelevelid" in error_of(with_list)[1]
    missing = crm.post("products", json={"name": "No number", "defaultuomscheduleid@odata.bind": f"/uomschedules({group})",
                                         "defaultuomid@odata.bind": f"/uoms({unit(crm, 'ea')})"})  # fmt: skip
    assert missing.status_code == 400 and "'productnumber'" in error_of(missing)[1]


def test_order_needs_price_list_and_gets_a_number(crm: httpx.Client) -> None:
    account = first(crm, "accounts", "$select=name")
    resp = crm.post(
        "salesorders",
        json={"name": "No list", "customerid_account@odata.bind": f"/accounts({account['accountid']})"},
    )
    assert resp.status_code == 400 and "'pricelevelid'" in error_of(resp)[1]
    order = crm.get(
        f"salesorders({new_order(crm)})?$select=ordernumber,_transactioncurrencyid_value,totalamount"
    ).json()
    assert re.fullmatch(r"ORD-\d{5}-[A-Z0-9]{6}", order["ordernumber"])
    assert order["totalamount"] == 0
    assert order["_transactioncurrencyid_value"]


def test_line_price_from_price_list_and_totals(crm: httpx.Client) -> None:
    order = new_order(crm, freightamount=10, discountpercentage=10)
    line = add_line(crm, order, "ACC-CABLE", 3, manualdiscountamount=1.5, tax=2.25).json()
    assert line["priceperunit"] == 12.5
    assert line["baseamount"] == 37.5
    assert line["extendedamount"] == 38.25
    header = crm.get(
        f"salesorders({order})?$select=totallineitemamount,totalamountlessfreight,totaltax,totalamount,totaldiscountamount"
    ).json()
    assert header["totallineitemamount"] == 36.0
    assert header["totaldiscountamount"] == 3.6
    assert header["totalamountlessfreight"] == 32.4
    assert header["totaltax"] == 2.25
    assert header["totalamount"] == 44.65
    overridden = add_line(crm, order, "ACC-CABLE", 1, ispriceoverridden=True, priceperunit=9.999).json()
    assert overridden["priceperunit"] == 10.0


def _update_lines(crm: httpx.Client, changes: dict[str, dict[str, object]]) -> httpx.Response:
    """One ``UpdateMultiple`` of order lines: ``{line id: its changed columns}``."""
    line = "Microsoft.Dynamics.CRM.salesorderdetail"
    targets = [{"@odata.type": line, "salesorderdetailid": i, **c} for i, c in changes.items()]
    return crm.post("salesorderdetails/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": targets})


def test_lines_written_in_bulk_are_priced_and_totalled_as_single_writes(crm: httpx.Client) -> None:
    order = new_order(crm)
    p = product(crm, "ACC-CABLE")
    line = {"@odata.type": "Microsoft.Dynamics.CRM.salesorderdetail",
            "salesorderid@odata.bind": f"/salesorders({order})", "productid@odata.bind": f"/products({p['productid']})",
            "uomid@odata.bind": f"/uoms({p['_defaultuomid_value']})"}  # fmt: skip
    created = crm.post(
        "salesorderdetails/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{**line, "quantity": 2}, {**line, "quantity": 1}]},
    )
    assert created.status_code == 200, created.text
    first_id, second_id = created.json()["Ids"]
    assert crm.get(f"salesorderdetails({first_id})?$select=extendedamount").json()["extendedamount"] == 25.0
    assert crm.get(f"salesorders({order})?$select=totalamount").json()["totalamount"] == 37.5
    updated = _update_lines(crm, {first_id: {"quantity": 4}, second_id: {"sequencenumber": 7}})
    assert updated.status_code == 204, updated.text
    rows = {r["salesorderdetailid"]: r for r in crm.get(
        f"salesorderdetails?$filter=_salesorderid_value eq {order}&$select=extendedamount,sequencenumber"
    ).json()["value"]}  # fmt: skip
    assert rows[first_id]["extendedamount"] == 50.0
    assert (rows[second_id]["extendedamount"], rows[second_id]["sequencenumber"]) == (12.5, 7)
    assert crm.get(f"salesorders({order})?$select=totalamount").json()["totalamount"] == 62.5
    # all or nothing: a bad target keeps the good one out
    refused = _update_lines(crm, {first_id: {"quantity": 9}, second_id: {"baseamount": 1}})
    assert refused.status_code == 400 and "'baseamount'" in error_of(refused)[1]
    assert crm.get(f"salesorders({order})?$select=totalamount").json()["totalamount"] == 62.5


def test_line_errors(crm: httpx.Client) -> None:
    order = new_order(crm)
    draft = add_line(crm, order, "SVC-CONSULT", 1)
    assert draft.status_code == 400 and "not active" in error_of(draft)[1]
    eur_only = new_order(crm)
    not_listed = crm.patch(
        f"salesorders({eur_only})",
        json={"pricelevelid@odata.bind": f"/pricelevels({price_list(crm, 'CRM Service Europe (sample)')})"},
    )
    assert not_listed.status_code == 204, not_listed.text
    missing = add_line(crm, eur_only, "SVC-WARRANTY", 1)
    assert missing.status_code == 400 and "is not in the price list" in error_of(missing)[1]
    computed = add_line(crm, order, "ACC-CABLE", 1, baseamount=5)
    assert computed.status_code == 400 and "'baseamount'" in error_of(computed)[1]
    write_in = crm.post(
        "salesorderdetails?$select=priceperunit,extendedamount,productdescription",
        json={"salesorderid@odata.bind": f"/salesorders({order})", "isproductoverridden": True,
              "productdescription": "Freight Tax", "quantity": 1, "priceperunit": 4.2},
        headers=REP,
    ).json()  # fmt: skip
    assert write_in["extendedamount"] == 4.2


def test_only_active_orders_and_draft_quotes_are_editable(crm: httpx.Client) -> None:
    order = new_order(crm)
    line_id = add_line(crm, order, "ACC-MOUNT", 1).json()["salesorderdetailid"]
    assert crm.patch(f"salesorders({order})", json={"statecode": 1, "statuscode": 3}).status_code == 204
    blocked = crm.patch(f"salesorders({order})", json={"name": "Changed"})
    assert blocked.status_code == 400 and "Only active orders can be edited." in error_of(blocked)[1]
    line_blocked = crm.patch(f"salesorderdetails({line_id})", json={"quantity": 2})
    assert line_blocked.status_code == 400
    invoiced = crm.patch(f"salesorders({order})", json={"statecode": 4, "statuscode": 100003})
    assert invoiced.status_code == 204
    bad_pair = crm.patch(f"salesorders({new_order(crm)})", json={"statecode": 0, "statuscode": 100003})
    assert bad_pair.status_code == 400
    quote = first(crm, "quotes", "$filter=statecode eq 1&$select=name")
    assert crm.patch(f"quotes({quote['quoteid']})", json={"name": "x"}).status_code == 400
    draft = first(crm, "quotes", "$filter=statecode eq 0&$select=name")
    assert crm.patch(f"quotes({draft['quoteid']})", json={"name": "Draft edit"}).status_code == 204
    back = crm.patch(f"quotes({quote['quoteid']})", json={"statecode": 0, "statuscode": 1})
    assert back.status_code == 400


def test_win_and_convert_quote(crm: httpx.Client) -> None:
    quote = first(crm, "quotes", "$filter=statecode eq 1&$select=name,totalamount")
    resp = crm.post(
        "ConvertQuoteToSalesOrder", json={"QuoteId": quote["quoteid"], "ColumnSet": {"AllColumns": True}}
    )
    assert resp.status_code == 200, resp.text
    order = resp.json()
    assert order["_quoteid_value"] == quote["quoteid"]
    assert order["totalamount"] == quote["totalamount"]
    assert crm.get(f"quotes({quote['quoteid']})?$select=statecode").json()["statecode"] == 2
    fulfil = crm.post(
        "FulfillSalesOrder",
        json={
            "OrderClose": {
                "subject": "Done",
                "salesorderid@odata.bind": f"/salesorders({order['salesorderid']})",
            },
            "Status": 100001,
        },
    )
    assert fulfil.status_code == 204
    state = crm.get(f"salesorders({order['salesorderid']})?$select=statecode,statuscode").json()
    assert (state["statecode"], state["statuscode"]) == (3, 100001)
    draft = first(crm, "quotes", "$filter=statecode eq 0&$select=name")
    win = crm.post(
        "WinQuote",
        json={
            "QuoteClose": {"subject": "x", "quoteid@odata.bind": f"/quotes({draft['quoteid']})"},
            "Status": -1,
        },
    )
    assert win.status_code == 400


def test_price_list_item_rules(crm: httpx.Client) -> None:
    p = product(crm, "ACC-CABLE")
    dup = crm.post("productpricelevels", json={
        "pricelevelid@odata.bind": f"/pricelevels({price_list(crm)})", "productid@odata.bind": f"/products({p['productid']})",
        "uomid@odata.bind": f"/uoms({p['_defaultuomid_value']})", "amount": 1})  # fmt: skip
    assert dup.status_code == 400 and "already" in error_of(dup)[1]
