"""Shipped templates and projects load into immutable, ordered objects; p2c init's project round-trips."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from p2c_project_files import MINI_TEMPLATE

from p2c.errors import RecordError, WaitingForParentError
from p2c.mapping.expression import ContextValue, Lookup, LookupSpec, Missing
from p2c.project import load_project, load_template, shipped_templates, write_sandbox_project
from p2c.settings import System

CUR = ("transactioncurrencies", "transactioncurrencyid", "isocurrencycode")


def test_shipped_templates() -> None:
    assert shipped_templates() == [
        "accounts", "contacts", "invoices", "orders_from_erp", "orders_to_erp", "products", "quotes",
    ]  # fmt: skip


def test_accounts_template_follows_p2c() -> None:
    t = load_template("accounts")
    task = t.task("Accounts")
    assert (task.source.system, task.source.entity) == (System.CRM, "accounts")
    assert (task.target.system, task.target.entity) == (System.ERP, "CustomersV3")
    assert task.key_source == ("accountnumber",)
    assert task.key_target == ("dataAreaId", "CustomerAccount")
    assert task.rules == ("generate_account_number", "report_duplicate_numbers")
    assert dict(task.defaults) == {
        "CustomerGroupId": "10",
        "SiteId": "1",
        "WarehouseId": "13",
        "LanguageId": "en-us",
    }
    assert task.fields["dataAreaId"] == ContextValue("company")
    lookup = task.fields["SalesCurrencyCode"]
    assert lookup.input == Lookup(  # type: ignore[union-attr]
        LookupSpec("_transactioncurrencyid_value", "transactioncurrencies", "isocurrencycode",
                   "transactioncurrencyid", "crm", Missing.FAIL)
    )  # fmt: skip
    assert t.value_maps["country"].apply("") == "US"
    assert t.value_maps["country"].apply("united states") == "US"
    assert t.value_maps["country"].apply("Norway") == "NO"  # YAML 1.2: NO is text, not false
    assert "accountid" in task.source_fields()  # the numbering rule writes back by id


def test_products_template_follows_p2c() -> None:
    t = load_template("products")
    products, items = t.tasks
    assert products.name == "Products" and items.name == "ProductPriceListItems"
    assert items.depends_on == ("Products",) and items.rules == ("choose_price_list",)
    assert products.key_source == ("dataAreaId", "ProductNumber") and products.key_target == (
        "productnumber",
    )
    assert products.filter == "IsSalesStopped eq Microsoft.Dynamics.DataEntities.NoYes'No'"
    assert t.value_maps["unit_group"].apply("anything") == "Default Unit"
    assert "CurrencyCode" in items.source_fields() and "$price_list" not in items.source_fields()


def test_project_of_the_sandbox_round_trips(tmp_path: Path, connections_file: Path) -> None:
    path = write_sandbox_project(tmp_path / "proj", connections_file)
    assert path == tmp_path / "proj" / "p2c.yaml"
    project = load_project(path)
    assert project.name == "sandbox"
    assert [t.name for t in project.tasks] == [
        "Accounts",
        "Products",
        "ProductPriceListItems",
        "Contacts",
        "ContactToCustomer",
        "QuoteHeader",
        "QuoteLine",
        "OrderHeader",
        "OrderLine",
        "OrderHeaderFromERP",
        "OrderLineFromERP",
        "SalesInvoiceHeader",
        "SalesInvoiceLine",
    ]
    assert project.state_url == f"sqlite:///{(tmp_path / 'proj' / 'p2c.db').resolve()}"
    assert project.settings.batch_size is None and project.settings.concurrency == 4
    assert project.settings.products_created_active is True
    assert {c: le.business_unit for c, le in project.legal_entities.items()} == {"usmf": "usmf"}
    assert project.connections.erp.companies == ("usmf", "demf")
    with pytest.raises(FileExistsError):
        write_sandbox_project(tmp_path / "proj", connections_file)
    assert load_project(tmp_path / "proj").name == "sandbox"  # a directory means its p2c.yaml


def test_project_relative_connections(tmp_path: Path, connections_file: Path) -> None:
    path = write_sandbox_project(tmp_path, connections_file, name="here")
    assert 'connections: "connections.yaml"' in path.read_text()
    assert load_project(path).name == "here"


def test_project_mappers_map_a_row_end_to_end(write: Callable[..., Path]) -> None:
    path = write(
        """\
        name: demo
        connections: connections.yaml
        templates: [accounts, products]
        settings: {price_list: Retail}
        value_maps:
          country: {Narnia: "NA"}
        tasks:
          Accounts:
            defaults: {CustomerGroupId: "20"}
            fields:
              CreditLimit: {source: creditlimit, default: 0}
              PrimaryContactFax: null          # removes the template's mapping
          Products:
            defaults: {}
        """
    )
    project = load_project(path)
    m = project.mapper("Accounts", "USMF")
    row = {
        "accountid": "a1", "accountnumber": "ACC-01000-BVRCPS", "name": "Contoso", "address1_country": "narnia",
        "address1_line1": "1 Main St", "address1_line3": "Floor 3", "_transactioncurrencyid_value": "c1",
        "creditlimit": 2500.5,
    }  # fmt: skip
    out = m.map(row, {CUR: {"c1": "EUR"}})
    assert out["dataAreaId"] == "usmf"
    assert out["CustomerAccount"] == "ACC-01000-BVRCPS"
    assert out["AddressCountryRegionISOCode"] == "NA"  # the project's entry, merged over the template's map
    assert project.value_maps["country"].apply("Canada") == "CA"  # the template's entries remain
    assert out["AddressStreet"] == "1 Main St\nFloor 3"
    assert out["SalesCurrencyCode"] == "EUR"
    assert out["IsExternallyMaintained"] == "Yes" and out["PartyType"] == "Organization"
    assert out["CustomerGroupId"] == "20" and out["SiteId"] == "1"
    assert out["CreditLimit"] == Decimal("2500.5") and isinstance(out["CreditLimit"], Decimal)
    assert "PrimaryContactFax" not in out and "PrimaryContactFax" not in project.task("Accounts").fields
    assert m.map({**row, "_transactioncurrencyid_value": None}, {CUR: {}})["SalesCurrencyCode"] == "USD"
    with pytest.raises(RecordError) as info:
        m.map({**row, "_transactioncurrencyid_value": "zz"}, {CUR: {"c1": "EUR"}})
    assert info.value.field == "SalesCurrencyCode" and info.value.key == "ACC-01000-BVRCPS"

    p = project.mapper("Products", "usmf")
    assert {s.key for s in p.lookups()} == {
        ("transactioncurrencies", "isocurrencycode", "transactioncurrencyid"),
        ("uomschedules", "name", "uomscheduleid"),
        ("uoms", "name", "uomid"),
    }
    related = {
        ("transactioncurrencies", "isocurrencycode", "transactioncurrencyid"): {"USD": "cur-usd"},
        ("uomschedules", "name", "uomscheduleid"): {"Default Unit": "grp-1"},
        ("uoms", "name", "uomid"): {"ea": "uom-ea"},
    }
    product = {
        "dataAreaId": "usmf", "ProductNumber": "D0001", "ProductName": "MidRangeSpeaker", "ProductDescription": "",
        "ProductType": "Item", "SalesUnitSymbol": "ea", "SalesUnitDecimalPrecision": 2, "SalesPrice": 219.0,
        "CurrencyCode": "USD", "IsSalesStopped": "No",
    }  # fmt: skip
    assert p.lookup_values([product]) == {
        ("transactioncurrencies", "isocurrencycode", "transactioncurrencyid"): {"USD"},
        ("uomschedules", "name", "uomscheduleid"): {"Default Unit"},
        ("uoms", "name", "uomid"): {"ea"},
    }
    out = p.map(product, related)
    assert out == {
        "productnumber": "D0001", "name": "MidRangeSpeaker", "description": "", "producttypecode": 1,
        "quantitydecimal": 2, "price": Decimal("219.0"), "transactioncurrencyid": "cur-usd",
        "defaultuomscheduleid": "grp-1", "defaultuomid": "uom-ea", "p2c_isexternallymaintained": True,
    }  # fmt: skip
    with pytest.raises(RecordError, match="no uoms has name 'pcs'"):
        p.map({**product, "SalesUnitSymbol": "pcs"}, related)

    items = project.mapper("ProductPriceListItems", "usmf")
    item_related = {
        ("pricelevels", "name", "pricelevelid"): {"Retail": "pl-1"},
        ("products", "productnumber", "productid"): {},
        ("uoms", "name", "uomid"): {"ea": "uom-ea"},
        ("uomschedules", "name", "uomscheduleid"): {"Default Unit": "grp-1"},
    }
    with pytest.raises(WaitingForParentError) as waiting:  # the product is not synchronised yet
        items.map({**product, "$price_list": "Retail"}, item_related)
    assert waiting.value.field == "productid" and waiting.value.key == "usmf,D0001"
    item_related[("products", "productnumber", "productid")] = {"D0001": "prod-1"}
    assert items.map({**product, "$price_list": "retail"}, item_related) == {
        "pricelevelid": "pl-1", "productid": "prod-1", "uomid": "uom-ea", "uomscheduleid": "grp-1",
        "amount": Decimal("219.0"), "pricingmethodcode": 1,
    }  # fmt: skip


def test_dependency_order_parents_first_ties_in_template_order(write: Callable[..., Path]) -> None:
    write(
        MINI_TEMPLATE.replace("name: mini", "name: chain")
        + """\
  Zeta:
    source: {system: crm, entity: accounts}
    target: {system: erp, entity: CustomerGroups}
    key: {source: [accountnumber], target: [dataAreaId, CustomerGroupId]}
    depends_on: [Beta]
    fields: {dataAreaId: {context: company}, CustomerGroupId: accountnumber}
  Alpha:
    source: {system: crm, entity: accounts}
    target: {system: erp, entity: CustomerGroups}
    key: {source: [accountnumber], target: [dataAreaId, CustomerGroupId]}
    fields: {dataAreaId: {context: company}, CustomerGroupId: accountnumber}
  Beta:
    source: {system: crm, entity: accounts}
    target: {system: erp, entity: CustomerGroups}
    key: {source: [accountnumber], target: [dataAreaId, CustomerGroupId]}
    depends_on: [Accounts, Alpha]
    fields: {dataAreaId: {context: company}, CustomerGroupId: accountnumber}
""",
        "chain.yaml",
    )
    path = write(
        """\
        name: order
        connections: connections.yaml
        templates: [products, chain.yaml]
        tasks:
          Alpha: {disabled: true}
        """
    )
    project = load_project(path)
    assert [t.name for t in project.tasks] == [
        "Products",
        "ProductPriceListItems",
        "Accounts",
        "Alpha",
        "Beta",
        "Zeta",
    ]
    assert [t.name for t in project.enabled_tasks()] == [
        "Products",
        "ProductPriceListItems",
        "Accounts",
        "Beta",
        "Zeta",
    ]


def test_extra_filter_is_anded_and_tasks_are_immutable(write: Callable[..., Path]) -> None:
    path = write(
        """\
        name: f
        connections: connections.yaml
        templates: [products]
        tasks:
          Products:
            filter: "SalesPrice gt 0"
        schedule: "*/15 * * * *"
        """
    )
    project = load_project(path)
    task = project.task("Products")
    assert (
        task.filter == "(IsSalesStopped eq Microsoft.Dynamics.DataEntities.NoYes'No') and (SalesPrice gt 0)"
    )
    assert project.task("ProductPriceListItems").extra_filter is None
    assert project.schedule is not None and project.schedule.cron == "*/15 * * * *"
    with pytest.raises(TypeError):
        task.fields["x"] = None  # type: ignore[index]
    with pytest.raises(AttributeError):
        task.name = "other"  # type: ignore[misc]


def test_custom_fields_declared_in_the_project_may_be_mapped(write: Callable[..., Path]) -> None:
    write(
        MINI_TEMPLATE.replace(
            "OrganizationName: name", "OrganizationName: new_tradingname\n      SalesMemo: p2c_memo"
        ),
        "mine.yaml",
    )
    path = write(
        """\
        name: c
        connections: connections.yaml
        templates: [mine.yaml]
        custom_fields:
          accounts:
            new_tradingname: {type: string, max_length: 100}
            p2c_memo: string
        """
    )
    project = load_project(path)
    spec = project.catalog.entity("crm", "accounts").field("new_tradingname")
    assert spec is not None and spec.custom and spec.max_length == 100
    assert (
        project.mapper("Accounts", "usmf").map({"accountnumber": "A", "new_tradingname": "Fabrikam"})[
            "OrganizationName"
        ]
        == "Fabrikam"
    )
