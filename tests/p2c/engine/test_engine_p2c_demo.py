"""``run_demo`` runs every template: the ERP's confirmed and invoiced orders come back in run 2."""

from __future__ import annotations

from pathlib import Path

from p2c.cli.demo import ERP_ORDERS, TEMPLATES, run_demo
from p2c.store import RunStatus


def test_the_demo_runs_every_flow_and_brings_erp_orders_and_invoices_back(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", port_base=0, say=lambda _text: None)
    assert len(TEMPLATES) == 7
    first, second = result.runs
    assert first.status is second.status is RunStatus.SUCCEEDED
    tasks = {t.task: t for t in second.tasks}
    assert len(tasks) == 13
    assert tasks["OrderHeaderFromERP"].created == ERP_ORDERS
    assert tasks["OrderLineFromERP"].created == 2 * ERP_ORDERS
    assert tasks["SalesInvoiceHeader"].created == ERP_ORDERS
    assert tasks["SalesInvoiceLine"].created == 2 * ERP_ORDERS
    assert {t.task: t.created for t in first.tasks}["Contacts"] == 26
