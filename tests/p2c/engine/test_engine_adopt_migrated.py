"""Issue 12 end to end: an environment that ran Microsoft's P2C (the sandbox's ``migrated`` seed) is
taken over by ``p2c adopt`` — pairs linked by natural key, only the real differences written,
nothing created twice in either system, Microsoft's Freight Tax lines recognised — and the next
``p2c run`` writes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine_helpers import count_tables, crm_rows, erp_rows, p2c

from conftest import ALL_TEMPLATES, EngineWorld
from p2c.store import StateStore


def _twice(keys: Iterable[Any]) -> list[Any]:
    return [k for k, n in Counter(keys).items() if n > 1]


def duplicates(world: EngineWorld) -> dict[str, list[Any]]:
    """Natural keys held more than once, per table of both systems (all empty: no duplicate)."""
    crm, erp = world.crm(), world.erp()
    orders = crm_rows(crm, "salesorders", ["salesorderid", "ordernumber"])
    lines = crm_rows(
        crm,
        "salesorderdetails",
        ["_salesorderid_value", "sequencenumber", "isproductoverridden", "productdescription"],
    )
    freight = [ln for ln in lines if ln["isproductoverridden"] and ln["productdescription"] == "Freight Tax"]
    invoice_lines = crm_rows(crm, "invoicedetails", ["_invoiceid_value", "sequencenumber"])
    return {
        "customers": _twice(
            (r["dataAreaId"], r["CustomerAccount"])
            for r in erp_rows(erp, "CustomersV3", ["dataAreaId", "CustomerAccount"])
        ),
        "contact persons": _twice(
            (r["dataAreaId"], r["ContactPersonPartyNumber"], r["AssociatedContactNumber"])
            for r in erp_rows(
                erp,
                "CDSContactPersonsV2",
                ["dataAreaId", "ContactPersonPartyNumber", "AssociatedContactNumber"],
            )
        ),
        "erp quotations": _twice(
            (r["dataAreaId"], r["SalesQuotationNumber"])
            for r in erp_rows(erp, "CDSSalesQuotationHeaders", ["dataAreaId", "SalesQuotationNumber"])
        ),
        "erp orders": _twice(
            (r["dataAreaId"], r["SalesOrderNumber"])
            for r in erp_rows(erp, "CDSSalesOrderHeaders", ["dataAreaId", "SalesOrderNumber"])
        ),
        "erp order lines": _twice(
            (r["dataAreaId"], r["SalesOrderNumber"], r["LineCreationSequenceNumber"])
            for r in erp_rows(
                erp, "CDSSalesOrderLines", ["dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber"]
            )
        ),
        "accounts": _twice(r["accountnumber"] for r in crm_rows(crm, "accounts", ["accountnumber"])),
        "contacts": _twice(
            r["msdynce_contactnumber"]
            for r in crm_rows(crm, "contacts", ["msdynce_contactnumber"])
            if r["msdynce_contactnumber"]
        ),
        "products": _twice(r["productnumber"] for r in crm_rows(crm, "products", ["productnumber"])),
        "price list items": _twice(
            (r["_pricelevelid_value"], r["_productid_value"])
            for r in crm_rows(crm, "productpricelevels", ["_pricelevelid_value", "_productid_value"])
        ),
        "orders": _twice(r["ordernumber"] for r in orders),
        "order lines": _twice(
            (r["_salesorderid_value"], r["sequencenumber"]) for r in lines if r["sequencenumber"] is not None
        ),
        "freight tax lines": _twice(r["_salesorderid_value"] for r in freight),
        "invoices": _twice(r["invoicenumber"] for r in crm_rows(crm, "invoices", ["invoicenumber"])),
        "invoice lines": _twice((r["_invoiceid_value"], r["sequencenumber"]) for r in invoice_lines),
    }


def freight_tax_lines(world: EngineWorld) -> Counter[str]:
    lines = crm_rows(
        world.crm(), "salesorderdetails", ["_salesorderid_value", "isproductoverridden", "productdescription"]
    )
    return Counter(
        ln["_salesorderid_value"]
        for ln in lines
        if ln["isproductoverridden"] and ln["productdescription"] == "Freight Tax"
    )


def _table(text: str) -> dict[str, dict[str, str]]:
    """p2c adopt's table: task → column → cell."""
    lines = [ln.replace("┃", "│") for ln in text.splitlines() if ln[:1] in "│┃" and "─" not in ln]
    header = [c.strip() for c in lines[0].strip("│").split("│")]
    rows = [dict(zip(header, [c.strip() for c in ln.strip("│").split("│")], strict=True)) for ln in lines[1:]]
    return {r["task"]: r for r in rows}


def test_adopting_an_environment_microsofts_p2c_ran_on(sandbox: Any, tmp_path: Path) -> None:
    sandbox.reset("migrated")
    world = EngineWorld(sandbox, tmp_path)
    world.write(templates=ALL_TEMPLATES, crm_schema="microsoft")
    assert {t: keys for t, keys in duplicates(world).items() if keys} == {}
    taxed = freight_tax_lines(world)
    assert len(taxed) == 2 and set(taxed.values()) == {1}

    setup = p2c("setup", cwd=world.dir)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    before = _everything(world)

    dry = p2c("adopt", cwd=world.dir)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert _everything(world) == before  # a dry adoption writes nothing anywhere...
    with StateStore(world.project().state_url) as store:
        assert store.runs() == []  # ...and links nothing
    found = _table(dry.stdout)
    differ = {task: int(row["differ"]) for task, row in found.items() if row["differ"] != "0"}
    # only what changed since Microsoft's last run: an account's phone (CRM) and name (drifted in the
    # ERP), a contact's e-mail (CRM) and phone (drifted), an order picked and a quantity changed in
    # the ERP — and where p2c differs from Microsoft's templates on purpose: the invoices'
    # p2c_isexternallymaintained (p2c's own column, which the solution lacks), and the requested
    # date of the quotes and the order sent without one (Microsoft's templates sent 1900-01-01; p2c
    # sends the document's date)
    assert differ == {
        "Accounts": 2,
        "Contacts": 2,
        "QuoteHeader": 2,
        "OrderHeader": 1,
        "OrderHeaderFromERP": 1,
        "OrderLineFromERP": 1,
        "SalesInvoiceHeader": 2,
    }, dry.stdout
    assert int(found["Accounts"]["to link"]) == 28 and int(found["Products"]["to link"]) == 17
    assert found["OrderHeaderFromERP"]["to link"] == "4" and found["SalesInvoiceLine"]["to link"] == "4"

    applied = p2c("adopt", "--apply", cwd=world.dir)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    [written] = [t for t in count_tables(applied.stdout) if t]
    assert all(r["new"] == "0" for r in written if r["task"] in ("Accounts", "Contacts", "Products")), written

    again = p2c("run", cwd=world.dir)
    assert again.returncode == 0, again.stdout + again.stderr
    with StateStore(world.project().state_url) as store:
        last = store.runs(limit=1)[0]
        assert {t.task: t.counts.written for t in last.task_runs if t.counts.written} == {}
        assert store.outcomes(last.id, operations=True) == []  # no side write either

    assert {t: keys for t, keys in duplicates(world).items() if keys} == {}
    assert freight_tax_lines(world) == taxed  # Microsoft's lines taken over, none added


def _everything(world: EngineWorld) -> dict[str, Any]:
    """The ETag of every row of the tables adopt reads in both systems."""
    crm, erp = world.crm(), world.erp()
    out: dict[str, Any] = {}
    for entity in (
        "accounts",
        "contacts",
        "products",
        "productpricelevels",
        "quotes",
        "quotedetails",
        "salesorders",
        "salesorderdetails",
        "invoices",
        "invoicedetails",
    ):
        out[entity] = sorted(str(r["@odata.etag"]) for r in crm_rows(crm, entity))
    for entity in (
        "CustomersV3",
        "CDSContactPersonsV2",
        "CDSSalesQuotationHeaders",
        "CDSSalesQuotationLines",
        "CDSSalesOrderHeaders",
        "CDSSalesOrderLines",
    ):
        out[entity] = sorted(str(r["@odata.etag"]) for r in erp_rows(erp, entity))
    return out
