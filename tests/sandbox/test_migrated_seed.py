"""The ``migrated`` seed: both emulators as Microsoft's P2C templates leave them, and in agreement."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.dataverse.service import DataverseService
from p2c_sandbox.fno import FnoService
from p2c_sandbox.fno.entities import ENTITY_SETS


@pytest.fixture(scope="module")
def world() -> tuple[DataverseService, FnoService]:
    crm = DataverseService(SandboxConfig(data_dir=None, seed="migrated"), None)
    erp = FnoService(SandboxConfig(data_dir=None, seed="migrated"), None)
    return crm, erp


def crm_rows(crm: DataverseService, table: str) -> list[dict[str, Any]]:
    return list(crm.org.rows(table).rows.values())


def erp_rows(erp: FnoService, entity_set: str) -> list[dict[str, Any]]:
    return erp.data.rows(ENTITY_SETS[entity_set], "usmf")


def test_every_account_is_numbered_and_a_customer(world: tuple[DataverseService, FnoService]) -> None:
    crm, erp = world
    accounts = {a["accountnumber"]: a for a in crm_rows(crm, "account")}
    assert len(accounts) == 30 and None not in accounts
    customers = {c["CustomerAccount"]: c for c in erp_rows(erp, "CustomersV3")}
    for number in accounts:
        assert customers[number]["IsExternallyMaintained"] == "Yes"
    names = [accounts[n]["name"] == customers[n]["OrganizationName"] for n in accounts]
    assert names.count(False) == 1  # the name that drifted in the ERP


def test_contacts_are_numbered_as_the_templates_routed_them(
    world: tuple[DataverseService, FnoService],
) -> None:
    crm, erp = world
    contacts = crm_rows(crm, "contact")
    numbered = [c for c in contacts if c.get("msdynce_contactnumber")]
    active = [c for c in numbered if c["msdynce_isactivecustomer"]]
    assert len(numbered) == 29 and len(active) == 3
    persons = {p["ContactPersonPartyNumber"] for p in erp_rows(erp, "CDSContactPersonsV2")}
    customers = {c["CustomerAccount"]: c for c in erp_rows(erp, "CustomersV3")}
    for c in numbered:
        if c["msdynce_isactivecustomer"]:
            assert customers[c["msdynce_contactnumber"]]["PartyType"] == "Person"
        else:
            assert c["msdynce_contactnumber"] in persons


def test_documents_agree_line_by_line(world: tuple[DataverseService, FnoService]) -> None:
    crm, erp = world
    products = [p for p in crm_rows(crm, "product") if p["msdynce_ismaintainedexternally"]]
    assert len(products) == 17
    erp_orders = {o["SalesOrderNumber"] for o in erp_rows(erp, "CDSSalesOrderHeaders")}
    crm_orders = {o["ordernumber"]: o for o in crm_rows(crm, "salesorder")}
    sent = [o for o in crm_orders.values() if o["msdynce_hasexternallymaintainedproductsonly"]]
    assert len(sent) == 5 and all(o["ordernumber"] in erp_orders for o in sent)
    erp_lines = {
        (ln["SalesOrderNumber"], int(ln["LineCreationSequenceNumber"]))
        for ln in erp_rows(erp, "CDSSalesOrderLines")
    }
    by_id = {o["salesorderid"]: o["ordernumber"] for o in crm_orders.values()}
    product_lines = [
        ln
        for ln in crm_rows(crm, "salesorderdetail")
        if by_id[ln["_salesorderid_value"]] in erp_orders and not ln.get("isproductoverridden")
    ]
    assert product_lines and all(
        (by_id[ln["_salesorderid_value"]], ln["sequencenumber"]) in erp_lines for ln in product_lines
    )
    statuses = Counter(
        o["msdynce_processingstatus"] for o in crm_orders.values() if o["ordernumber"] in erp_orders
    )
    assert statuses == Counter(
        {647390000: 1, 647390001: 3, 647390003: 2}
    )  # open; confirmed (one of them the ERP's own, one picked since); invoiced
    invoices = {i["invoicenumber"] for i in crm_rows(crm, "invoice")}
    assert invoices == {
        i["InvoiceNumber"] for i in erp_rows(erp, "ExternallyMaintainedCustomerSalesInvoiceHeaders")
    }


def test_a_freight_tax_line_per_taxed_order(world: tuple[DataverseService, FnoService]) -> None:
    crm, erp = world
    taxed = {
        o["SalesOrderNumber"]: o.get("OrderHeaderTaxAmount") for o in erp_rows(erp, "CDSSalesOrderHeaders")
    }
    taxed = {k: v for k, v in taxed.items() if v}
    number = {o["salesorderid"]: o["ordernumber"] for o in crm_rows(crm, "salesorder")}
    lines = [
        ln
        for ln in crm_rows(crm, "salesorderdetail")
        if ln.get("isproductoverridden") and ln.get("productdescription") == "Freight Tax"
    ]
    assert len(taxed) == 2
    assert {number[ln["_salesorderid_value"]]: ln["priceperunit"] for ln in lines} == taxed
    assert all(ln["quantity"] == 1 and ln["sequencenumber"] != 1_000_000_000 for ln in lines)
