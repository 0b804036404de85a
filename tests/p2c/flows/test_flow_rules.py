"""A template names its flow and its tasks' rules from closed vocabularies, checked at load time."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from p2c.errors import ConfigError
from p2c.flows import FLOWS, Flow
from p2c.project import load_project, load_template
from p2c.rules import FLOW_RULES, RULES, FlowName, RuleName

CONNECTIONS = {
    "crm": {
        "kind": "crm",
        "url": "https://127.0.0.1:1",
        "authority": "https://127.0.0.1:1/t",
        "client_id": "c",
        "client_secret": "s",
    },
    "erp": {
        "kind": "erp",
        "url": "https://127.0.0.1:2",
        "authority": "https://127.0.0.1:1/t",
        "client_id": "c",
        "client_secret": "s",
    },
    "legal_entities": {"usmf": "usmf"},
}
ALL = ["accounts", "products", "contacts", "quotes", "orders_to_erp", "orders_from_erp", "invoices"]


def _template(tmp_path: Path, flow: str | None, rules: list[str]) -> Path:
    doc = {
        "name": "mine",
        **({"flow": flow} if flow is not None else {}),
        "tasks": {
            "MyAccounts": {
                "source": {"system": "crm", "entity": "accounts"},
                "target": {"system": "erp", "entity": "CustomersV3"},
                "key": {"source": ["accountnumber"], "target": ["dataAreaId", "CustomerAccount"]},
                "rules": rules,
                "fields": {"dataAreaId": {"context": "company"}, "CustomerAccount": "accountnumber"},
            }
        },
    }
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_every_flow_has_its_module_and_every_rule_a_flow() -> None:
    assert set(FLOWS) == set(FlowName)
    assert FLOWS[FlowName.GENERIC] is Flow
    assert {r for rules in FLOW_RULES.values() for r in rules} == set(RuleName) == set(RULES)


def test_shipped_templates_name_their_flow(tmp_path: Path) -> None:
    (tmp_path / "connections.yaml").write_text(yaml.safe_dump(CONNECTIONS))
    path = tmp_path / "p2c.yaml"
    path.write_text(yaml.safe_dump({"name": "all", "connections": "connections.yaml", "templates": ALL}))
    project = load_project(path)
    flows = {t.name: t.flow for t in project.tasks}
    assert flows["Accounts"] is FlowName.ACCOUNTS
    assert flows["OrderHeaderFromERP"] is flows["OrderLineFromERP"] is FlowName.ORDERS_FROM_ERP
    assert flows["SalesInvoiceLine"] is FlowName.INVOICES
    for task in project.tasks:
        assert all(isinstance(r, RuleName) for r in task.rules)
        assert set(task.rules) <= FLOW_RULES[task.flow], task.name


def test_a_rule_of_another_flow_is_refused_at_load_naming_file_line_and_flow(tmp_path: Path) -> None:
    path = _template(tmp_path, "accounts", ["generate_account_number", "freight_tax_line"])
    with pytest.raises(ConfigError) as info:
        load_template(path)
    text = str(info.value)
    assert "mine.yaml" in text and "tasks.MyAccounts.rules[1]" in text
    assert "freight_tax_line belongs to the orders_from_erp flow" in text


def test_rules_without_a_flow_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_template(_template(tmp_path, None, ["generate_account_number"]))
    assert "this template's flow is generic" in str(info.value)
    assert "flow: accounts" in str(info.value)


def test_an_unknown_flow_or_rule_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_template(_template(tmp_path, "acounts", []))
    assert "unknown flow 'acounts'" in str(info.value) and "accounts" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_template(_template(tmp_path, "accounts", ["generate_acount_number"]))
    assert "unknown rule 'generate_acount_number'" in str(info.value)


def test_a_template_without_rules_needs_no_flow(tmp_path: Path) -> None:
    template = load_template(_template(tmp_path, None, []))
    assert template.tasks[0].flow is FlowName.GENERIC and template.tasks[0].rules == ()
