"""Which CRM columns the environment has, against the project's ``crm_schema`` setting.

- ``crm_schema: p2c`` on a CRM that has Microsoft's P2C solution (its ``msdynce_`` columns) but
  not p2c's own columns: a warning naming ``crm_schema: microsoft`` (p2c setup would otherwise
  create a second set of columns beside the solution's).
- ``crm_schema: microsoft`` on a CRM that lacks the solution's columns the tasks use: a failure
  naming each missing column, the solution, and ``crm_schema: p2c``.
"""

from __future__ import annotations

from collections.abc import Iterator

from p2c.doctor.base import Check, CheckStatus, DoctorContext
from p2c.project.crm_schema import CrmSchemaName, crm_schema
from p2c.settings import System
from p2c.setup.columns import SOLUTION_FIX

__all__ = ["check_crm_schema"]

NAME = "crm schema"


def check_crm_schema(ctx: DoctorContext) -> Iterator[Check]:
    if ctx.project.crm_schema.name is CrmSchemaName.MICROSOFT:
        yield _microsoft(ctx)
    else:
        yield _p2c(ctx)


def _microsoft(ctx: DoctorContext) -> Check:
    missing: dict[str, list[str]] = {}
    for need in ctx.plan.solution_columns:
        table = need.entity.logical_name
        if need.spec.name not in ctx.attributes(table):
            missing.setdefault(table, []).append(need.spec.name)
    where = f"(crm_schema: microsoft in {ctx.project.path})"
    if not missing:
        count = len(ctx.plan.solution_columns)
        return Check(
            NAME, CheckStatus.OK, f"the CRM has the {count} columns of Microsoft's P2C solution {where}"
        )
    detail = "; ".join(f"{table} has no {', '.join(sorted(names))}" for table, names in missing.items())
    return Check(NAME, CheckStatus.FAIL, f"{detail} {where}", SOLUTION_FIX)


def _p2c(ctx: DoctorContext) -> Check:
    """p2c's columns the tasks use that the CRM lacks while it has the solution's counterpart."""
    microsoft = crm_schema(CrmSchemaName.MICROSOFT)
    found: list[str] = []
    for (system, entity_name), entity in ctx.plan.entities.items():
        if system is not System.CRM:
            continue
        used = ctx.plan.fields.get((system, entity_name), {})
        present = ctx.attributes(entity.logical_name)
        for p2c_name, ms_name in microsoft.columns(entity_name).items():
            if p2c_name in used and p2c_name not in present and ms_name in present:
                found.append(f"{entity.logical_name}.{ms_name} (for {p2c_name})")
    if not found:
        return Check(NAME, CheckStatus.OK, f"p2c's own columns (crm_schema: p2c in {ctx.project.path})")
    detail = (
        f"the CRM has Microsoft's P2C solution's columns {', '.join(found)} but not p2c's, and the project "
        "uses p2c's (crm_schema: p2c)"
    )
    fix = (
        f"set `crm_schema: microsoft` in {ctx.project.path} to use the solution's columns "
        "(or run `p2c setup` to create p2c's own beside them)"
    )
    return Check(NAME, CheckStatus.WARN, detail, fix)
