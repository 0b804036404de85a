"""``crm_schema: microsoft``: every p2c column with a counterpart in Microsoft's P2C solution is
the solution's once the project is loaded (catalog, task fields, keys, lookups, filters, rules)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from p2c_project_files import assert_error

from p2c.errors import ConfigError
from p2c.mapping import lookups, source_fields
from p2c.project import load_project
from p2c.project.crm_schema import MICROSOFT_PROCESSING_STATUS, SOLUTION_COLUMNS, CrmSchemaName, crm_schema
from p2c.rules.status import ProcessingStatus
from p2c.settings import System
from p2c.setup import requirements

ALL = ["accounts", "products", "contacts", "quotes", "orders_to_erp", "orders_from_erp", "invoices"]


def project_text(schema: str | None) -> str:
    line = f"crm_schema: {schema}\n" if schema else ""
    return f"name: t\nconnections: connections.yaml\ntemplates: [{', '.join(ALL)}]\n{line}"


def every_name(project) -> set[str]:  # type: ignore[no-untyped-def]
    """Every column name the loaded tasks use, wherever it sits."""
    out: set[str] = set()
    for t in project.tasks:
        out |= set(t.fields) | set(t.defaults) | set(t.key_source) | set(t.key_target)
        out |= t.source_fields() | set(t.extra_source_fields)
        out.add(t.filter or "")
        for expr in t.fields.values():
            out |= source_fields(expr)
            out |= {name for spec in lookups(expr) for name in (spec.by or "", spec.field)}
    return out


def test_default_is_p2c_and_keeps_p2c_columns(write: Callable[..., Path]) -> None:
    project = load_project(write(project_text(None)))
    assert project.crm_schema.name is CrmSchemaName.P2C
    assert project.task("OrderHeader").filter is not None
    assert "p2c_processingstatus eq 100000001" in project.task("OrderHeader").filter
    assert not any("msdynce_" in n for n in every_name(project))


def test_microsoft_uses_the_solution_columns_everywhere(write: Callable[..., Path]) -> None:
    project = load_project(write(project_text("microsoft")))
    names = every_name(project)
    # only invoices.p2c_isexternallymaintained has no counterpart in the solution
    assert {n for n in names if "p2c_" in n} == {"p2c_isexternallymaintained"}
    assert "p2c_isexternallymaintained" in project.task("SalesInvoiceHeader").fields
    order = project.task("OrderHeader")
    assert order.filter == (
        "(statecode eq 0 or statecode eq 1) and msdynce_processingstatus eq 647390000"
        " and msdynce_hasexternallymaintainedproductsonly eq true"
    )
    assert project.task("OrderLine").filter == "msdynce_orderhasexternalmaintainedproductsonly eq true"
    assert project.task("QuoteLine").filter == "msdynce_quotehasexternalmaintainedproductsonly eq true"
    assert project.task("ContactToCustomer").key_source == ("msdynce_contactnumber",)
    assert "msdynce_isactivecustomer" in project.task("Contacts").extra_source_fields
    assert "msdynce_ismaintainedexternally" in project.task("Products").fields
    header = project.task("OrderHeaderFromERP").fields
    assert {"msdynce_processingstatus", "msdynce_ismaintainedexternally"} <= set(header)
    [contact_lookup] = [s for s in lookups(header["customerid"]) if s.entity == "contacts"]
    assert contact_lookup.by == "msdynce_contactnumber"


def test_microsoft_catalog_has_the_solution_columns_not_custom(write: Callable[..., Path]) -> None:
    project = load_project(write(project_text("microsoft")))
    for col in SOLUTION_COLUMNS:
        spec = project.catalog.entity(System.CRM, col.entity).field(col.name)
        assert spec is not None and spec.solution and not spec.custom, col
        if col.replaces:
            assert project.catalog.entity(System.CRM, col.entity).field(col.replaces) is None
    status = project.catalog.entity(System.CRM, "salesorders").field("msdynce_processingstatus")
    assert status is not None and dict(status.options) == dict(MICROSOFT_PROCESSING_STATUS)
    contacts = project.catalog.entity(System.CRM, "contacts")
    assert contacts.alternate_keys["p2c_contactnumber_key"] == ("msdynce_contactnumber",)
    plan = requirements(project)
    assert [(c.entity.name, c.spec.name) for c in plan.columns] == [
        ("invoices", "p2c_isexternallymaintained")
    ]
    assert {c.spec.name for c in plan.solution_columns} >= {
        "msdynce_contactnumber",
        "msdynce_isactivecustomer",
        "msdynce_ismaintainedexternally",
        "msdynce_processingstatus",
        "msdynce_orderhasexternalmaintainedproductsonly",
    }


def test_processing_status_values_map_by_label() -> None:
    schema = crm_schema("microsoft")
    got = {s: schema.option("salesorders", "p2c_processingstatus", s.option) for s in ProcessingStatus}
    assert got[ProcessingStatus.DRAFT] == 647390011
    assert got[ProcessingStatus.ACTIVE] == 647390000
    assert got[ProcessingStatus.CONFIRMED] == 647390001
    assert got[ProcessingStatus.INVOICED] == 647390003
    assert got[ProcessingStatus.CANCELLED] == 647390010
    assert sorted(got.values()) == sorted(MICROSOFT_PROCESSING_STATUS)
    assert crm_schema("p2c").option("salesorders", "p2c_processingstatus", 100000002) == 100000002


def test_filters_translate_choice_values_only_after_the_column() -> None:
    schema = crm_schema("microsoft")
    text = "p2c_processingstatus in (100000002, 100000004) and statecode eq 100000002"
    assert schema.filter("salesorders", text) == (
        "msdynce_processingstatus in (647390001, 647390003) and statecode eq 100000002"
    )
    # another table's columns are not touched: p2c_processingstatus is a salesorders column only
    assert (
        schema.filter("invoices", "p2c_isexternallymaintained eq true")
        == "p2c_isexternallymaintained eq true"
    )


def test_a_project_override_with_p2c_names_is_translated(write: Callable[..., Path]) -> None:
    text = project_text("microsoft") + (
        'tasks:\n  OrderHeader:\n    filter: "p2c_processingstatus ne 100000011"\n'
    )
    project = load_project(write(text))
    assert project.task("OrderHeader").extra_filter == "msdynce_processingstatus ne 647390010"


def test_an_unknown_schema_is_refused_with_file_and_line(write: Callable[..., Path]) -> None:
    path = write(project_text("dynamics"))
    with pytest.raises(ConfigError) as info:
        load_project(path)
    assert_error(info.value, path, "crm_schema", 4, "")
    assert "'microsoft'" in str(info.value) and "'p2c'" in str(info.value)
