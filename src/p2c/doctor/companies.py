"""The project's legal entities against the CRM: each business unit and owning team must exist.

A business unit the CRM lacks routes no CRM record to its company (they are skipped, see
:mod:`p2c.flows.companies`); an owning team it lacks fails every record the sync would create from
that company. Both are named with the setting to correct (``legal_entities.<company>...``).
"""

from __future__ import annotations

from collections.abc import Iterator

from p2c.doctor.base import Check, CheckStatus, DoctorContext
from p2c.errors import RecordError
from p2c.flows import CompanyRouter

__all__ = ["check_legal_entities"]

UNITS = ["businessunitid", "name", "_parentbusinessunitid_value"]
TEAMS = ["teamid", "name", "_businessunitid_value", "isdefault"]


def check_legal_entities(ctx: DoctorContext) -> Iterator[Check]:
    project = ctx.project
    units = ctx.crm_rows("businessunits", UNITS)
    teams = ctx.crm_rows("teams", TEAMS)
    router = CompanyRouter(project.legal_entities, units, teams, where=str(project.path))
    names = {str(u.get("name")).casefold() for u in units}
    for company, le in project.legal_entities.items():
        name = f"legal entity {company}"
        several = len(project.legal_entities) > 1
        if le.business_unit.casefold() not in names and (several or not le.owning_team):
            detail = f"the business unit {le.business_unit!r} does not exist in the CRM"
            fix = f"name an existing business unit in legal_entities.{company}.business_unit ({project.path})"
            yield Check(name, CheckStatus.FAIL, detail, fix)
            continue
        try:
            router.team(company)
        except RecordError as exc:
            yield Check(
                name,
                CheckStatus.FAIL,
                exc.reason,
                f"create the team in the CRM, or {exc.reason.split('; ')[-1]}",
            )
            continue
        yield Check(name, CheckStatus.OK, f"business unit {le.business_unit!r}, owned by team {le.team!r}")
