"""`p2c doctor` counts the CRM orders that can never go to the ERP under order_activation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_doctor import _diagnose, _project, _setup

from p2c.doctor import CheckStatus

TEMPLATES = ("accounts", "products", "contacts", "quotes", "orders_to_erp")


def _open_orders_without_status(crm: Any) -> int:
    flt = "(statecode eq 0 or statecode eq 1) and p2c_processingstatus eq null"
    rows = crm.get("salesorders", params={"$select": "salesorderid", "$filter": flt}).json()["value"]
    return len(rows)


def test_orders_without_processing_status_are_counted_with_the_setting(sandbox: Any, tmp_path: Path) -> None:
    project = _project(sandbox.sb.connections(), tmp_path, templates=TEMPLATES)
    _setup(project)
    crm = sandbox.crm()
    # the demo's orders existed before p2c setup added the column: they have no processing status
    count = _open_orders_without_status(crm)
    assert count > 0
    check = _diagnose(project).check("order activation")
    assert check.status is CheckStatus.WARN
    assert f"{count} open CRM orders have no processing status" in check.detail
    assert "order_activation: processing_status" in check.detail
    assert "settings.order_activation: submitted" in check.fix and str(project.path) in check.fix

    # an order created now starts Draft (the column's default): it can be activated, not counted
    existing = crm.get(
        "salesorders",
        params={"$select": "_customerid_value,_pricelevelid_value", "$top": "1",
                "$filter": "customerid_account/accountid ne null"},
    ).json()["value"][0]  # fmt: skip
    created = crm.post(
        "salesorders",
        json={
            "name": "New order",
            "customerid_account@odata.bind": f"/accounts({existing['_customerid_value']})",
            "pricelevelid@odata.bind": f"/pricelevels({existing['_pricelevelid_value']})",
        },
    )
    assert created.status_code == 204, created.text
    assert _open_orders_without_status(crm) == count
    assert f"{count} open CRM orders" in _diagnose(project).check("order activation").detail

    submitted = _project(
        sandbox.sb.connections(),
        tmp_path,
        templates=TEMPLATES,
        extra="settings: {order_activation: submitted}\n",
    )
    check = _diagnose(submitted).check("order activation")
    assert check.status is CheckStatus.OK and "submitted" in check.detail


def test_no_check_without_a_crm_order_task(sandbox: Any, tmp_path: Path) -> None:
    report = _diagnose(_project(sandbox.sb.connections(), tmp_path))
    assert not report.find("order activation")
