"""Server-side paging (DATAVERSE.md §2.7): odata.maxpagesize, nextLink with an opaque skiptoken."""

from __future__ import annotations

from urllib.parse import unquote

import httpx


def read_all(crm: httpx.Client, url: str, page_size: int) -> tuple[list[dict], list[httpx.Response]]:
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    rows: list[dict] = []
    pages = []
    while url:
        resp = crm.get(url, headers=headers)
        assert resp.status_code == 200, resp.text
        pages.append(resp)
        body = resp.json()
        rows += body["value"]
        url = body.get("@odata.nextLink", "")
    return rows, pages


def test_pages_cover_all_rows_once(crm: httpx.Client, dv) -> None:
    rows, pages = read_all(crm, "accounts?$select=name&$filter=statecode eq 0", 7)
    assert len(rows) == 30
    assert len({r["accountid"] for r in rows}) == 30
    assert [len(p.json()["value"]) for p in pages] == [7, 7, 7, 7, 2]
    assert all(p.headers["Preference-Applied"] == "odata.maxpagesize=7" for p in pages)
    link = pages[0].json()["@odata.nextLink"]
    assert link.startswith(dv.root + "accounts?")
    assert "$select=name" in link and "$filter=statecode%20eq%200" in link
    assert unquote(link.split("$skiptoken=")[1]).startswith('<cookie pagenumber="2" pagingcookie="')


def test_paging_with_orderby(crm: httpx.Client) -> None:
    rows, _ = read_all(crm, "contacts?$select=lastname&$orderby=lastname desc", 9)
    lastnames = [r["lastname"] for r in rows]
    assert len(rows) == 40 and lastnames == sorted(lastnames, reverse=True)


def test_top_is_ignored_with_maxpagesize(crm: httpx.Client) -> None:
    rows, pages = read_all(crm, "accounts?$select=name&$top=3", 10)
    assert len(rows) == 30 and len(pages) == 3
    plain = crm.get("accounts?$select=name&$top=3").json()
    assert len(plain["value"]) == 3 and "@odata.nextLink" not in plain


def test_default_page_is_5000_and_count_is_capped(dv) -> None:
    dv.reset("large:12000")
    crm = dv.client()
    body = crm.get("accounts?$select=name&$count=true").json()
    assert len(body["value"]) == 5000
    assert body["@odata.count"] == 5000
    assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is True
    rows = body["value"]
    url = body["@odata.nextLink"]
    while url:
        page = crm.get(url).json()
        rows += page["value"]
        url = page.get("@odata.nextLink")
    assert len(rows) == 12000 and len({r["accountid"] for r in rows}) == 12000
    assert crm.get("accounts/$count").text == "5000"
    big = crm.get("accounts?$select=name", headers={"Prefer": "odata.maxpagesize=9000"})
    assert len(big.json()["value"]) == 5000


def test_bad_skiptoken_and_maxpagesize(crm: httpx.Client) -> None:
    assert crm.get("accounts?$skiptoken=garbage").status_code == 400
    assert crm.get("accounts", headers={"Prefer": "odata.maxpagesize=abc"}).status_code == 400
