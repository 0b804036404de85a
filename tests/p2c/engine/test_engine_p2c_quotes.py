"""Sales quotations, header and lines (P2C.md flow 4), over HTTPS against the sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from engine_helpers import crm_rows, erp_rows

from p2c.store import Action, RunStatus

BEFORE = ("Accounts", "Products", "ProductPriceListItems", "Contacts", "ContactToCustomer")


@pytest.fixture
def quotes_project(provisioned_project: Any) -> Any:
    """The engine tests' sandbox project with contacts and quotes too, provisioned for them."""
    world = provisioned_project
    world.write(templates=["accounts", "products", "contacts", "quotes"])
    world.provision()
    with world.open() as h:
        report = h.run(*BEFORE)
        assert report.status is RunStatus.SUCCEEDED, report
    return world


def external_products(crm: Any) -> list[dict[str, Any]]:
    rows = crm_rows(
        crm,
        "products",
        ["productid", "productnumber", "_defaultuomid_value", "statecode"],
        "p2c_isexternallymaintained eq true",
    )
    return sorted((r for r in rows if r["statecode"] == 0), key=lambda r: r["productnumber"])


def new_quote(crm: Any, lines: list[dict[str, Any]], *, activate: bool = True) -> tuple[str, str]:
    """A quote of the first numbered account with ``lines``; (quoteid, quotenumber)."""
    account = crm_rows(crm, "accounts", ["accountid", "accountnumber"], "accountnumber ne null")[0]
    price_list = crm_rows(crm, "pricelevels", ["pricelevelid"], "name eq 'CRM Service USA (sample)'")[0]
    response = crm.post(
        "quotes",
        json={
            "name": "Engine test quote",
            "customerid_account@odata.bind": f"/accounts({account['accountid']})",
            "pricelevelid@odata.bind": f"/pricelevels({price_list['pricelevelid']})",
        },
        headers={"Prefer": "return=representation"},
    )
    assert response.status_code == 201, response.text
    quote = response.json()
    for line in lines:
        add_line(crm, quote["quoteid"], line)
    if activate:
        r = crm.patch(f"quotes({quote['quoteid']})", json={"statecode": 1, "statuscode": 2})
        assert r.status_code == 204, r.text
    return quote["quoteid"], quote["quotenumber"]


def add_line(crm: Any, quote: str, line: dict[str, Any]) -> str:
    body = {"quoteid@odata.bind": f"/quotes({quote})"}
    if "product" in line:
        p = line["product"]
        body["productid@odata.bind"] = f"/products({p['productid']})"
        body["uomid@odata.bind"] = f"/uoms({p['_defaultuomid_value']})"
    else:
        body |= {
            "isproductoverridden": True,
            "productdescription": "Write-in",
            "priceperunit": 10,
            "quantity": 1,
        }
    body |= {k: v for k, v in line.items() if k != "product"}
    response = crm.post("quotedetails", json=body, headers={"Prefer": "return=representation"})
    assert response.status_code == 201, response.text
    return str(response.json()["quotedetailid"])


def erp_lines(world: Any, number: str) -> dict[int, dict[str, Any]]:
    rows = erp_rows(
        world.erp(),
        "CDSSalesQuotationLines",
        [
            "LineCreationSequenceNumber",
            "ProductNumber",
            "RequestedSalesQuantity",
            "LineDiscountAmount",
            "FixedPriceCharges",
            "SalesUnitSymbol",
        ],
        f"dataAreaId eq 'usmf' and SalesQuotationNumber eq '{number}'",
    )
    return {int(r["LineCreationSequenceNumber"]): r for r in rows}


def test_quote_with_external_products_arrives_with_split_discount(quotes_project: Any) -> None:
    world = quotes_project
    crm = world.crm()
    products = external_products(crm)
    _quote, number = new_quote(
        crm,
        [
            {"product": products[0], "quantity": 3, "manualdiscountamount": 10},
            {"product": products[1], "quantity": 2},
        ],
    )
    _, other = new_quote(crm, [{"product": products[0], "quantity": 1}, {}])  # a write-in line
    with world.open() as h:
        report = h.run("QuoteHeader", "QuoteLine")
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    header = erp_rows(
        world.erp(),
        "CDSSalesQuotationHeaders",
        ["SalesQuotationNumber", "RequestingCustomerAccountNumber"],
        "dataAreaId eq 'usmf'",
    )
    numbers = {r["SalesQuotationNumber"] for r in header}
    assert number in numbers and other not in numbers
    # an active quote cannot be edited in the CRM: the engine's own evaluation of the flag decided
    lines = erp_lines(world, number)
    assert sorted(lines) == [1, 2]
    # quantity 3, discount 10.00 → 3.33 per unit and a −0.01 charge
    assert (Decimal(str(lines[1]["LineDiscountAmount"])), Decimal(str(lines[1]["FixedPriceCharges"]))) == (
        Decimal("3.33"),
        Decimal("-0.01"),
    )
    assert (lines[1]["ProductNumber"], Decimal(str(lines[1]["RequestedSalesQuantity"]))) == (
        products[0]["productnumber"],
        3,
    )
    assert Decimal(str(lines[2]["LineDiscountAmount"])) == 0
    assert erp_lines(world, other) == {}  # its lines are skipped with the quote
    with world.open() as h:
        again = h.run("QuoteHeader", "QuoteLine")
    assert sum(t.written for t in again.tasks) == 0


def test_lines_of_a_draft_quote_are_skipped_and_go_once_it_is_active(quotes_project: Any) -> None:
    world = quotes_project
    crm = world.crm()
    products = external_products(crm)
    quote, number = new_quote(crm, [{"product": products[2], "quantity": 1}], activate=False)
    with world.open() as h:
        first = h.run("QuoteHeader", "QuoteLine")
        skipped = {o.source_key: o.message for o in h.store.outcomes(first.run_id, actions=[Action.SKIPPED])}
    flag = crm_rows(crm, "quotes", ["p2c_hasexternallymaintainedproductsonly"], f"quoteid eq {quote}")[0]
    assert flag["p2c_hasexternallymaintainedproductsonly"] is True  # a draft is written back
    [line] = [
        r["quotedetailid"]
        for r in crm_rows(crm, "quotedetails", ["quotedetailid"], f"_quoteid_value eq {quote}")
    ]
    assert "not synchronised by QuoteHeader" in (skipped[line] or "")
    r = crm.patch(f"quotes({quote})", json={"statecode": 1, "statuscode": 2})
    assert r.status_code == 204, r.text
    with world.open() as h:
        h.run("QuoteHeader", "QuoteLine")
    assert sorted(erp_lines(world, number)) == [1]


def test_a_quote_the_erp_refuses_for_its_missing_customer_waits_for_it(quotes_project: Any) -> None:
    world = quotes_project
    crm = world.crm()
    response = crm.post(
        "accounts",
        json={"name": "Far Away Ltd", "accountnumber": "XX-7", "address1_country": "Atlantis"},
        headers={"Prefer": "return=representation"},
    )
    account = response.json()["accountid"]
    price_list = crm_rows(crm, "pricelevels", ["pricelevelid"], "name eq 'CRM Service USA (sample)'")[0]
    response = crm.post(
        "quotes",
        json={
            "name": "Quote for a customer the ERP lacks",
            "customerid_account@odata.bind": f"/accounts({account})",
            "pricelevelid@odata.bind": f"/pricelevels({price_list['pricelevelid']})",
        },
        headers={"Prefer": "return=representation"},
    )
    quote = response.json()["quoteid"]
    add_line(crm, quote, {"product": external_products(crm)[0], "quantity": 1})
    assert crm.patch(f"quotes({quote})", json={"statecode": 1, "statuscode": 2}).status_code == 204
    with world.open() as h:
        report = h.run("Accounts", "QuoteHeader", "QuoteLine")  # the account fails: unknown country
        waiting = {o.task: o for o in h.store.outcomes(report.run_id, actions=[Action.WAITING])}
    assert waiting["QuoteHeader"].source_key == quote and "XX-7" in (waiting["QuoteHeader"].message or "")
    assert waiting["QuoteLine"].error_class == "WaitingForParentError"
    assert crm.patch(f"accounts({account})", json={"address1_country": "Canada"}).status_code == 204
    with world.open() as h:
        report = h.run("Accounts", "QuoteHeader", "QuoteLine")
    assert [(t.created, t.waiting) for t in report.tasks] == [(1, 0), (1, 0), (1, 0)]


def test_lines_without_a_sequence_number_are_numbered_and_written_back(quotes_project: Any) -> None:
    world = quotes_project
    crm = world.crm()
    products = external_products(crm)
    quote, _number = new_quote(
        crm,
        [{"product": products[0], "quantity": 1}, {"product": products[1], "quantity": 1}],
        activate=False,
    )
    lines = crm_rows(crm, "quotedetails", ["quotedetailid", "sequencenumber"], f"_quoteid_value eq {quote}")
    for line in lines:  # lines from before the CRM numbered them (what P2C's one-time job fills)
        r = crm.patch(f"quotedetails({line['quotedetailid']})", json={"sequencenumber": None})
        assert r.status_code == 204, r.text
    cleared = crm_rows(crm, "quotedetails", ["sequencenumber"], f"_quoteid_value eq {quote}")
    assert [r["sequencenumber"] for r in cleared] == [None, None]
    with world.open() as h:
        h.run("QuoteHeader")
    numbered = crm_rows(crm, "quotedetails", ["sequencenumber"], f"_quoteid_value eq {quote}")
    assert sorted(r["sequencenumber"] for r in numbered) == [1, 2]
