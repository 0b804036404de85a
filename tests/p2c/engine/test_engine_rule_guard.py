"""A template naming a rule this engine does not apply yet is refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from p2c.engine import Engine
from p2c.engine import run as engine_run
from p2c.engine.rules import IMPLEMENTED
from p2c.errors import ConfigError
from p2c.project import load_project
from p2c.store import StateStore

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


def _project(tmp_path: Path, templates: list[str]) -> Path:
    (tmp_path / "connections.yaml").write_text(yaml.safe_dump(CONNECTIONS))
    path = tmp_path / "p2c.yaml"
    path.write_text(
        yaml.safe_dump({"name": "guard", "connections": "connections.yaml", "templates": templates})
    )
    return path


def test_unimplemented_rules_refuse_the_run_naming_task_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every shipped rule is applied now: pretend this engine is one without the invoice rules
    monkeypatch.setattr(engine_run, "IMPLEMENTED", IMPLEMENTED - {"invoice_marks_order", "invoice_line_tax"})
    project = load_project(_project(tmp_path, ["accounts", "products", "orders_from_erp", "invoices"]))
    with StateStore(str(tmp_path / "state.db")) as store:
        engine = Engine(project, store, {})
        with pytest.raises(ConfigError) as info:
            engine.run()
        # the first task in dependency order with a missing rule is named, with the rule
        assert "task SalesInvoiceHeader needs rule(s) invoice_marks_order" in str(info.value)
        assert "disabled: true" in str(info.value)
        assert store.runs("guard") == []  # nothing was recorded: nothing ran


def test_shipped_rules_are_all_applied(tmp_path: Path) -> None:
    templates = ["accounts", "products", "contacts", "quotes", "orders_to_erp", "orders_from_erp", "invoices"]
    project = load_project(_project(tmp_path, templates))
    with StateStore(str(tmp_path / "state.db")) as store:
        Engine(project, store, {}).check_rules(project.tasks)  # raises if any rule were missing
