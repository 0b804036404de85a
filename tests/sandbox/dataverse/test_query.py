"""Query options (DATAVERSE.md §2.6): $select, $filter, $orderby, $top, $expand, $count."""

from __future__ import annotations

import httpx
from dv_helpers import error_of, first


def names(resp: httpx.Response) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [r["name"] for r in resp.json()["value"]]


def test_select_returns_only_selected_columns_plus_key_and_etag(crm: httpx.Client, dv) -> None:
    body = crm.get("accounts?$select=name,accountnumber&$top=2").json()
    assert body["@odata.context"] == f"{dv.root}$metadata#accounts(name,accountnumber)"
    assert len(body["value"]) == 2
    assert set(body["value"][0]) == {"@odata.etag", "name", "accountnumber", "accountid"}


def test_filter_operators_and_functions(crm: httpx.Client) -> None:
    assert names(crm.get("accounts?$select=name&$filter=name eq 'fabrikam'")) == ["Fabrikam"]
    assert names(crm.get("accounts?$select=name&$filter=startswith(name,'wi')")) == [
        "Wide World Importers",
        "Wingtip Toys",
    ]
    assert "Coho Winery" in names(crm.get("accounts?$select=name&$filter=contains(name,'winery')"))
    both = names(crm.get("accounts?$select=name&$filter=name eq 'Litware' or name eq 'Proseware'"))
    assert both == ["Litware", "Proseware"]
    numbered = crm.get("accounts?$select=name&$filter=accountnumber ne null&$count=true").json()
    assert numbered["@odata.count"] == 15
    assert names(
        crm.get(
            "accounts?$select=name&$filter=Microsoft.Dynamics.CRM.In(PropertyName='accountnumber',PropertyValues=['C10100','C10102'])"
        )
    ) == [
        "Adventure Works",
        "Blue Yonder Airlines",
    ]
    aliased = crm.get("accounts?$select=name&$filter=name eq @n&@n='Litware'")
    assert names(aliased) == ["Litware"]
    big = crm.get("accounts?$select=creditlimit&$filter=creditlimit ge 25000").json()["value"]
    assert big and all(r["creditlimit"] >= 25000 for r in big)


def test_filter_on_lookup_and_navigation_path(crm: httpx.Client) -> None:
    account = first(crm, "accounts", "$filter=name eq 'Adventure Works'&$select=name")
    contacts = crm.get(
        f"contacts?$select=fullname&$filter=_parentcustomerid_value eq {account['accountid']}"
    ).json()
    assert contacts["value"]
    via_nav = crm.get(
        "contacts?$select=fullname&$filter=parentcustomerid_account/name eq 'Adventure Works'"
    ).json()
    assert [c["contactid"] for c in via_nav["value"]] == [c["contactid"] for c in contacts["value"]]
    with_lambda = crm.get(
        "accounts?$select=name&$filter=contact_customer_accounts/any(c: c/lastname eq 'McKay')"
    ).json()["value"]
    assert [a["name"] for a in with_lambda] == ["Adventure Works"]


def test_orderby_and_top(crm: httpx.Client) -> None:
    asc = names(crm.get("accounts?$select=name&$orderby=name asc&$top=3"))
    assert asc == ["A. Datum Corporation", "Adventure Works", "Alpine Ski House"]
    desc = names(crm.get("accounts?$select=name&$orderby=name desc&$top=2"))
    assert desc == ["Woodgrove Bank", "Wingtip Toys"]
    assert crm.get("accounts?$top=0").json()["value"] == []


def test_expand_single_and_collection(crm: httpx.Client) -> None:
    rows = crm.get(
        "accounts?$select=name&$filter=name eq 'Adventure Works'&$expand=primarycontactid($select=fullname),"
        "contact_customer_accounts($select=lastname;$orderby=lastname)"
    ).json()["value"]
    row = rows[0]
    assert set(row["primarycontactid"]) == {"@odata.etag", "fullname", "contactid"}
    lastnames = [c["lastname"] for c in row["contact_customer_accounts"]]
    assert lastnames == sorted(lastnames) and lastnames
    order = first(
        crm,
        "salesorders",
        "$select=name&$expand=order_details($select=quantity),customerid_account($select=name)",
    )
    assert isinstance(order["order_details"], list) and order["order_details"]
    assert "customerid_account" in order
    by_contact = crm.get(
        "salesorders?$select=name&$expand=customerid_account($select=name)&$filter=customerid_contact/fullname ne null"
    ).json()
    assert by_contact["value"] and by_contact["value"][0]["customerid_account"] is None


def test_count_and_bare_count(crm: httpx.Client) -> None:
    body = crm.get("contacts?$select=fullname&$count=true&$top=1").json()
    assert body["@odata.count"] == 40
    assert len(body["value"]) == 1
    bare = crm.get("contacts/$count")
    assert bare.status_code == 200 and bare.text == "40"


def test_unsupported_and_bad_options_are_400(crm: httpx.Client) -> None:
    skip = crm.get("accounts?$skip=5")
    assert skip.status_code == 400 and "$skip" in error_of(skip)[1]
    assert crm.get("accounts?$search=x").status_code == 400
    assert crm.get("accounts?$Select=name").status_code == 400  # option names are case-sensitive
    bad = crm.get("accounts?$select=bogus")
    assert bad.status_code == 400
    assert error_of(bad) == (
        "0x80060888",
        "Could not find a property named 'bogus' on type 'Microsoft.Dynamics.CRM.account'.",
    )
    bad_filter = crm.get("accounts?$filter=name eq")
    assert bad_filter.status_code == 400 and error_of(bad_filter)[0] == "0x80060888"
    unknown_in_filter = crm.get("accounts?$filter=bogus eq 1")
    assert "Could not find a property named 'bogus'" in error_of(unknown_in_filter)[1]
    wrong_type = crm.get("accounts?$filter=name eq 5")
    assert wrong_type.status_code == 400
    assert crm.get("accounts?$top=-1").status_code == 400
    assert crm.get("accounts?$orderby=bogus").status_code == 400
    assert crm.get("accounts?$expand=bogus").status_code == 400
    assert crm.get("nothings").status_code == 404
    assert error_of(crm.get("nothings"))[1] == "Resource not found for the segment 'nothings'."
