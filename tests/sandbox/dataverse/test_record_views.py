"""The CRM's record page ``/main.aspx?etn=..&id=..``: read-only HTML a person opens from the console."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dv_helpers import entity_id, first


@pytest.fixture
def browser(dv: Any) -> Iterator[httpx.Client]:
    """A client on the CRM's host with no bearer token, as a browser is."""
    with httpx.Client(base_url=dv.url, verify=dv.ssl, timeout=60) as c:
        yield c


def view(browser: httpx.Client, etn: str, pk: str, **extra: str) -> httpx.Response:
    return browser.get("/main.aspx", params={"etn": etn, "id": pk, "pagetype": "entityrecord", **extra})


def title(resp: httpx.Response) -> str:
    text = resp.text
    return html.unescape(text[text.index("<title>") + 7 : text.index("</title>")])


def row_of(resp: httpx.Response, column: str) -> str:
    """The HTML of the table row showing ``column`` (its logical name)."""
    text = resp.text
    at = (
        text.index(f"<small>{column}</small>")
        if f"<small>{column}</small>" in text
        else text.index(f"<th>{column}</th>")
    )
    return text[at : text.index("</tr>", at)]


def test_account_page_without_a_token(crm: httpx.Client, browser: httpx.Client) -> None:
    account = first(
        crm,
        "accounts",
        "$filter=_primarycontactid_value ne null&$select=name,accountnumber,_primarycontactid_value",
    )
    contact = crm.get(f"contacts({account['_primarycontactid_value']})?$select=fullname").json()
    resp = view(browser, "account", account["accountid"])
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert title(resp).startswith(f"Account: {account['name']}")
    assert account["accountnumber"] in row_of(resp, "accountnumber")
    lookup = row_of(resp, "primarycontactid")
    assert html.escape(contact["fullname"]) in lookup
    assert f"etn=contact&amp;id={contact['contactid']}" in lookup
    assert "Active" in row_of(resp, "statecode")  # a choice by its label
    assert "<script" not in resp.text and "http://" not in resp.text and "https://" not in resp.text


def test_contact_page_shows_its_account_by_name(crm: httpx.Client, browser: httpx.Client) -> None:
    account = first(crm, "accounts", "$select=name")
    cid = entity_id(
        crm.post(
            "contacts",
            json={
                "firstname": "Ada",
                "lastname": "Lovelace",
                "jobtitle": "Analyst",
                "parentcustomerid_account@odata.bind": f"/accounts({account['accountid']})",
            },
        )
    )
    resp = view(browser, "contact", cid)
    assert resp.status_code == 200
    assert title(resp).startswith("Contact: Ada Lovelace")
    assert "Analyst" in row_of(resp, "jobtitle")
    assert html.escape(account["name"]) in row_of(resp, "parentcustomerid")
    # the account's page lists the contact under its relationship
    assert f"id={cid}" in view(browser, "account", account["accountid"]).text


def test_id_with_braces_and_upper_case(crm: httpx.Client, browser: httpx.Client) -> None:
    account = first(crm, "accounts", "$select=name")
    resp = view(browser, "Account", "{" + account["accountid"].upper() + "}")
    assert resp.status_code == 200
    assert account["name"] in title(resp)


def test_unknown_record_and_table_are_404_pages(browser: httpx.Client) -> None:
    missing = view(browser, "account", "00000000-0000-0000-0000-00000000abcd")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "00000000-0000-0000-0000-00000000abcd" in missing.text
    table = view(browser, "nosuchtable", "00000000-0000-0000-0000-00000000abcd")
    assert table.status_code == 404
    assert "nosuchtable" in table.text


def test_missing_or_malformed_parameters_are_400_pages(browser: httpx.Client) -> None:
    no_id = browser.get("/main.aspx", params={"etn": "account", "pagetype": "entityrecord"})
    assert no_id.status_code == 400
    assert "id parameter" in no_id.text
    no_etn = browser.get("/main.aspx", params={"id": "00000000-0000-0000-0000-00000000abcd"})
    assert no_etn.status_code == 400
    assert "etn parameter" in no_etn.text
    bad = view(browser, "account", "not-a-guid")
    assert bad.status_code == 400
    assert "not-a-guid" in bad.text


def test_values_are_escaped(crm: httpx.Client, browser: httpx.Client) -> None:
    aid = entity_id(
        crm.post("accounts", json={"name": "<script>alert(1)</script> & Co", "telephone1": '"x"'})
    )
    resp = view(browser, "account", aid)
    assert resp.status_code == 200
    assert "<script>" not in resp.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in resp.text
    assert title(resp).startswith("Account: <script>alert(1)</script> & Co")
    assert "&quot;x&quot;" in row_of(resp, "telephone1")


def test_read_only_and_head(crm: httpx.Client, browser: httpx.Client) -> None:
    account = first(crm, "accounts", "$select=name")
    url = f"/main.aspx?etn=account&id={account['accountid']}"
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        resp = browser.request(method, url)
        assert resp.status_code == 405, method
        assert resp.headers["allow"] == "GET, HEAD"
    head = browser.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(browser.get(url).content)


def test_pages_bypass_faults(crm: httpx.Client, browser: httpx.Client, admin: httpx.Client) -> None:
    account = first(crm, "accounts", "$select=name")
    admin.put("faults", json={"throttle_every": 1}).raise_for_status()
    assert crm.get("WhoAmI").status_code == 429
    assert view(browser, "account", account["accountid"]).status_code == 200
