"""The P2C flows' rules are registered, read fields their tasks' sources have, and their examples hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

from p2c.catalog import load_catalog
from p2c.rules import RULES
from p2c.settings import System

# rule → (system, source entity of the task that names it)
SOURCES = {
    "generate_contact_number": (System.CRM, "contacts"),
    "derive_is_active_customer": (System.CRM, "contacts"),
    "route_contact": (System.CRM, "contacts"),
    "split_line_discount": (System.CRM, "salesorderdetails"),
    "restore_line_discount": (System.ERP, "CDSSalesOrderLines"),
    "map_processing_status": (System.ERP, "CDSSalesOrderHeaders"),
    "keep_order_active": (System.ERP, "CDSSalesOrderHeaders"),
    "freight_tax_line": (System.ERP, "CDSSalesOrderHeaders"),
    "invoice_marks_order": (System.ERP, "ExternallyMaintainedCustomerSalesInvoiceHeaders"),
    "invoice_line_tax": (System.ERP, "ExternallyMaintainedCustomerSalesInvoiceLines"),
    "lines_follow_headers": (System.ERP, "CDSSalesOrderLines"),
}


def test_registered_with_fields_their_sources_have() -> None:
    catalog = load_catalog()
    assert set(SOURCES) <= set(RULES)
    for name, (system, entity) in SOURCES.items():
        rule = RULES[name]
        assert rule.name == name and rule.summary and callable(rule.function)
        spec = catalog.entity(system, entity)
        missing = [f for f in rule.requires if spec.field(f) is None]
        assert not missing, f"{name} reads {missing}, which {entity} does not have"
        assert all(p.startswith("$") for p in rule.provides)
    provided = [p for r in RULES.values() for p in r.provides]
    assert len(provided) == len(set(provided))  # one rule per pseudo-field
    assert RULES["split_line_discount"].provides == ("$discount_per_unit", "$discount_charge")
    assert RULES["restore_line_discount"].provides == ("$line_discount",)
    assert RULES["map_processing_status"].provides == ("$processing_status",)


MODULES = [
    "p2c.rules",
    *(f"p2c.rules.{m}" for m in ("contacts", "discounts", "status", "freight", "invoices", "lines")),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
