"""All Prospect-to-cash templates load alone and together, and a project runs their tasks in P2C's order."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from p2c_project_files import assert_error, line_of

from p2c.errors import ConfigError
from p2c.project import Project, load_project, load_template, shipped_templates

ALL = ["accounts", "products", "contacts", "quotes", "orders_to_erp", "orders_from_erp", "invoices"]

ORDER = [
    "Accounts", "Products", "ProductPriceListItems",
    "Contacts", "ContactToCustomer",
    "QuoteHeader", "QuoteLine",
    "OrderHeader", "OrderLine",
    "OrderHeaderFromERP", "OrderLineFromERP",
    "SalesInvoiceHeader", "SalesInvoiceLine",
]  # fmt: skip

# P2C.md §1: (task, tasks that must run before it)
MUST_FOLLOW = {
    "ProductPriceListItems": {"Products"},
    "Contacts": {"Accounts"},
    "ContactToCustomer": {"Accounts"},
    "QuoteHeader": {"Accounts", "Products", "Contacts", "ContactToCustomer"},
    "QuoteLine": {"QuoteHeader", "Products"},
    "OrderHeader": {"Accounts", "Products", "Contacts", "ContactToCustomer"},
    "OrderLine": {"OrderHeader", "Products"},
    "OrderHeaderFromERP": {"Accounts", "Products"},
    "OrderLineFromERP": {"OrderHeaderFromERP", "Products"},
    "SalesInvoiceHeader": {"Accounts", "Products", "OrderHeaderFromERP", "OrderLineFromERP"},
    "SalesInvoiceLine": {"SalesInvoiceHeader", "Products"},
}


def _project(write: Callable[..., Path], templates: list[str]) -> Project:
    return load_project(
        write(f"name: p2c\nconnections: connections.yaml\ntemplates: [{', '.join(templates)}]\n")
    )


def test_every_template_ships_and_loads_alone() -> None:
    assert shipped_templates() == sorted(ALL)
    tasks = {name: [t.name for t in load_template(name).tasks] for name in ALL}
    assert tasks == {
        "accounts": ["Accounts"],
        "products": ["Products", "ProductPriceListItems"],
        "contacts": ["Contacts", "ContactToCustomer"],
        "quotes": ["QuoteHeader", "QuoteLine"],
        "orders_to_erp": ["OrderHeader", "OrderLine"],
        "orders_from_erp": ["OrderHeaderFromERP", "OrderLineFromERP"],
        "invoices": ["SalesInvoiceHeader", "SalesInvoiceLine"],
    }


def test_project_with_every_template_runs_tasks_in_dependency_order(write: Callable[..., Path]) -> None:
    project = _project(write, ALL)
    assert [t.name for t in project.tasks] == ORDER
    for task in project.tasks:
        assert set(task.depends_on) == MUST_FOLLOW.get(task.name, set()), task.name


SHUFFLED = ["invoices", "quotes", "orders_from_erp", "accounts", "orders_to_erp", "contacts", "products"]


@pytest.mark.parametrize("templates", [ALL[::-1], SHUFFLED])
def test_dependencies_hold_whatever_the_listing(write: Callable[..., Path], templates: list[str]) -> None:
    names = [t.name for t in _project(write, templates).tasks]
    assert sorted(names) == sorted(ORDER)
    for task, parents in MUST_FOLLOW.items():
        assert all(names.index(p) < names.index(task) for p in parents), (task, names)


def test_shared_value_maps_are_one_map(write: Callable[..., Path]) -> None:
    project = _project(write, ALL)
    assert project.value_maps["country"] == load_template("accounts").value_maps["country"]
    assert project.value_maps["unit"] == load_template("products").value_maps["unit"]
    for name in ("contacts", "quotes", "orders_to_erp"):
        assert load_template(name).value_maps["country"] == project.value_maps["country"], name
    assert load_template("quotes").value_maps["unit_to_erp"] == project.value_maps["unit_to_erp"]
    for name in ("orders_from_erp", "invoices"):
        t = load_template(name)
        for vm in ("unit", "erp_country", "currency_price_list"):
            assert t.value_maps[vm] == project.value_maps[vm], (name, vm)


def test_a_template_needs_the_templates_of_its_parents(write: Callable[..., Path]) -> None:
    path = write("name: p2c\nconnections: connections.yaml\ntemplates: [products, contacts]\n")
    with pytest.raises(ConfigError) as info:
        load_project(path)
    text = resources.files("p2c.templates").joinpath("contacts.yaml").read_text(encoding="utf-8")
    assert_error(
        info.value,
        "p2c/templates/contacts.yaml",
        "tasks.Contacts.depends_on[0]",
        line_of(text, "depends_on: [Accounts]"),
        "unknown task 'Accounts' in depends_on",
    )
