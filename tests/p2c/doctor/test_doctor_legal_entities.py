"""`p2c doctor` checks each legal entity's business unit and owning team in the sandbox CRM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_doctor import _diagnose, _project

from p2c.doctor import CheckStatus


def test_business_units_and_owning_teams_the_crm_lacks_are_named_with_their_setting(
    sandbox: Any, tmp_path: Path
) -> None:
    extra = (
        "legal_entities:\n"
        "  usmf: {business_unit: Contoso US, owning_team: US Inside Sales}\n"
        "  demf: Contoso Deutschland\n"
    )
    project = _project(sandbox.sb.connections(), tmp_path, extra=extra)
    report = _diagnose(project)
    usmf, demf = report.check("legal entity usmf"), report.check("legal entity demf")
    assert usmf.status is CheckStatus.FAIL and demf.status is CheckStatus.FAIL
    assert "'US Inside Sales'" in usmf.detail and "legal_entities.usmf.owning_team" in usmf.fix
    assert "'Contoso Deutschland' does not exist" in demf.detail
    assert "legal_entities.demf.business_unit" in demf.fix


def test_the_sandbox_projects_legal_entities_exist(sandbox: Any, tmp_path: Path) -> None:
    extra = "legal_entities: {usmf: Contoso US, demf: {business_unit: Contoso DE, owning_team: Contoso DE}}\n"
    report = _diagnose(_project(sandbox.sb.connections(), tmp_path, extra=extra))
    for company, unit in (("usmf", "Contoso US"), ("demf", "Contoso DE")):
        check = report.check(f"legal entity {company}")
        assert check.status is CheckStatus.OK, check
        assert check.detail == f"business unit '{unit}', owned by team '{unit}'"
