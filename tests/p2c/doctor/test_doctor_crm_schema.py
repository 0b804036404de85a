"""``p2c doctor`` compares the CRM's columns with the project's ``crm_schema`` and names the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_doctor import _diagnose, _project, _setup

from p2c.doctor import CheckStatus

TEMPLATES = ("accounts", "products", "contacts", "orders_to_erp", "orders_from_erp")


def _with_solution(sandbox: Any) -> None:
    sandbox.admin("crm").post("reset", json={"seed": "demo+microsoft"}).raise_for_status()


def test_p2c_schema_on_a_crm_with_microsofts_solution_warns_naming_microsoft(
    sandbox: Any, tmp_path: Path
) -> None:
    _with_solution(sandbox)
    project = _project(sandbox.sb.connections(), tmp_path, templates=TEMPLATES)
    check = _diagnose(project).check("crm schema")
    assert check.status is CheckStatus.WARN, check
    assert "crm_schema: microsoft" in check.fix
    assert "contact.msdynce_contactnumber (for p2c_contactnumber)" in check.detail
    assert "salesorder.msdynce_processingstatus (for p2c_processingstatus)" in check.detail


def test_microsoft_schema_on_a_crm_without_the_solution_fails_naming_the_columns(
    sandbox: Any, tmp_path: Path
) -> None:
    project = _project(
        sandbox.sb.connections(), tmp_path, templates=TEMPLATES, extra="crm_schema: microsoft\n"
    )
    report = _diagnose(project)
    check = report.check("crm schema")
    assert check.status is CheckStatus.FAIL, check
    assert "contact has no msdynce_contactnumber, msdynce_isactivecustomer" in check.detail
    assert "salesorder has no" in check.detail and "msdynce_processingstatus" in check.detail
    assert "crm_schema: p2c" in check.fix and "Microsoft's Prospect to cash solution" in check.fix
    assert report.blocking


def test_each_schema_on_its_own_environment_is_ok(sandbox: Any, tmp_path: Path) -> None:
    (tmp_path / "p2c").mkdir()
    (tmp_path / "ms").mkdir()
    p2c = _project(sandbox.sb.connections(), tmp_path / "p2c")
    _setup(p2c)
    assert _diagnose(p2c).check("crm schema").status is CheckStatus.OK
    _with_solution(sandbox)
    ms = _project(
        sandbox.sb.connections(), tmp_path / "ms", templates=TEMPLATES, extra="crm_schema: microsoft\n"
    )
    _setup(ms)
    report = _diagnose(ms)
    assert report.check("crm schema").status is CheckStatus.OK, report.check("crm schema")
    assert not report.failed, [str(c) for c in report.failed]
