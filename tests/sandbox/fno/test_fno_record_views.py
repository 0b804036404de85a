"""The ERP's deep-link record page ``/?cmp=..&mi=..&<Key>=..``: read-only HTML for a browser."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from p2c_sandbox.fno import FnoService


@pytest.fixture
def browser(erp_env: Any) -> Iterator[httpx.Client]:
    """A client on the ERP's host with no bearer token, as a browser is."""
    with httpx.Client(base_url=erp_env.url, verify=erp_env.verify, timeout=60) as c:
        yield c


def title(resp: httpx.Response) -> str:
    text = resp.text
    return html.unescape(text[text.index("<title>") + 7 : text.index("</title>")])


def row_of(resp: httpx.Response, prop: str) -> str:
    text = resp.text
    at = text.index(f"<small>{prop}</small>")
    return text[at : text.index("</tr>", at)]


def test_customer_by_menu_item(browser: httpx.Client) -> None:
    resp = browser.get("/", params={"cmp": "USMF", "mi": "CustTable", "CustomerAccount": "US-001"})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert title(resp).startswith("CustomersV3: US-001 : Contoso Retail San Diego")
    assert "San Diego" in row_of(resp, "AddressCity")
    assert 'href="/?cmp=USMF&amp;mi=CustGroup&amp;CustomerGroupId=10"' in row_of(resp, "CustomerGroupId")
    assert "http://" not in resp.text and "https://" not in resp.text


def test_company_and_key_compare_case_insensitively(browser: httpx.Client) -> None:
    resp = browser.get("/?cmp=usmf&mi=custtable&customeraccount=us-001")
    assert resp.status_code == 200
    assert "Contoso Retail San Diego" in title(resp)


def test_sales_order_by_number_lists_its_lines(browser: httpx.Client) -> None:
    resp = browser.get("/?cmp=USMF&mi=SalesTable&SalesOrderNumber=000001")
    assert resp.status_code == 200
    assert title(resp).startswith("CDSSalesOrderHeaders: 000001")
    assert "US-002" in row_of(resp, "OrderingCustomerAccountNumber")
    assert "mi=CustTable&amp;CustomerAccount=US-002" in row_of(resp, "OrderingCustomerAccountNumber")
    assert (
        "entity=CDSSalesOrderLines&amp;SalesOrderNumber=000001&amp;LineCreationSequenceNumber=1" in resp.text
    )
    line = browser.get(
        "/?cmp=USMF&entity=CDSSalesOrderLines&SalesOrderNumber=000001&LineCreationSequenceNumber=1"
    )
    assert line.status_code == 200
    assert "mi=EcoResProductDetailsExtended" in row_of(line, "ProductNumber")


def test_other_menu_items(browser: httpx.Client, erp_service: FnoService) -> None:
    pages = {
        "ContactPerson": "ContactPersonPartyNumber=000000008",
        "SalesQuotationTable": "SalesQuotationNumber=000001",
        "EcoResProductDetailsExtended": "ProductNumber=D0001",
    }
    for mi, key in pages.items():
        assert browser.get(f"/?cmp=USMF&mi={mi}&{key}").status_code == 200, mi
    erp_service.confirm_order("usmf", "000001")
    invoice = erp_service.invoice_order("usmf", "000001")
    # the form shows every invoice, also those the external-customer entity filters out
    resp = browser.get(
        "/", params={"cmp": "USMF", "mi": "CustInvoiceJour", "InvoiceNumber": invoice["InvoiceNumber"]}
    )
    assert resp.status_code == 200
    assert invoice["LedgerVoucher"] in row_of(resp, "LedgerVoucher")


def test_wrong_company_or_record_is_404(browser: httpx.Client) -> None:
    other = browser.get("/?cmp=DEMF&mi=CustTable&CustomerAccount=US-001")
    assert other.status_code == 404
    assert "company DEMF" in html.unescape(other.text)
    nowhere = browser.get("/?cmp=XXXX&mi=CustTable&CustomerAccount=US-001")
    assert nowhere.status_code == 404
    assert "no company &#x27;XXXX&#x27;" in nowhere.text
    assert browser.get("/?cmp=USMF&entity=NoSuchEntity&Key=1").status_code == 404


def test_unknown_menu_item_lists_the_known_ones(browser: httpx.Client) -> None:
    resp = browser.get("/?cmp=USMF&mi=NoSuchForm&CustomerAccount=US-001")
    assert resp.status_code == 400
    text = html.unescape(resp.text)
    assert "NoSuchForm" in text
    for mi, entity in (
        ("CustTable", "CustomersV3"),
        ("ContactPerson", "CDSContactPersonsV2"),
        ("SalesQuotationTable", "CDSSalesQuotationHeaders"),
        ("SalesTable", "CDSSalesOrderHeaders"),
        ("CustInvoiceJour", "ExternallyMaintainedCustomerSalesInvoiceHeaders"),
        ("EcoResProductDetailsExtended", "SellableReleasedProducts"),
    ):
        assert f"mi={mi} → {entity}" in text


def test_bad_or_ambiguous_criteria_are_400(browser: httpx.Client) -> None:
    assert browser.get("/?cmp=USMF&mi=CustTable").status_code == 400
    assert browser.get("/").status_code == 400
    unknown = browser.get("/?cmp=USMF&mi=CustTable&Nope=1")
    assert unknown.status_code == 400 and "CustomerAccount" in unknown.text
    both = browser.get("/?cmp=USMF&mi=CustTable&entity=CustomersV3&CustomerAccount=US-001")
    assert both.status_code == 400
    lines = browser.get("/?cmp=USMF&entity=CDSSalesOrderLines&SalesOrderNumber=000001")
    assert lines.status_code == 400
    assert "2 CDSSalesOrderLines records match" in lines.text
    assert "LineCreationSequenceNumber=2" in lines.text


def test_values_are_escaped(browser: httpx.Client, erp: httpx.Client) -> None:
    r = erp.post(
        "CustomersV3",
        json={
            "dataAreaId": "usmf",
            "CustomerAccount": "X-1",
            "CustomerGroupId": "10",
            "OrganizationName": "<script>x</script>",
        },
    )
    assert r.status_code == 201, r.text
    resp = browser.get("/?cmp=USMF&mi=CustTable&CustomerAccount=X-1")
    assert resp.status_code == 200
    assert "<script>" not in resp.text
    assert "&lt;script&gt;x&lt;/script&gt;" in resp.text


def test_read_only_no_token_and_no_faults(
    browser: httpx.Client, erp: httpx.Client, admin: httpx.Client
) -> None:
    url = "/?cmp=USMF&mi=CustTable&CustomerAccount=US-001"
    assert browser.post(url).status_code == 405
    assert browser.delete(url).status_code == 405
    assert browser.head(url).status_code == 200
    admin.put("faults", json={"throttle_every": 1}).raise_for_status()
    try:
        assert erp.get("CustomerGroups").status_code == 429
        assert browser.get(url).status_code == 200
    finally:
        admin.put("faults", json={}).raise_for_status()
