"""Which ERP company a CRM record goes to, and which CRM team owns what comes from a company.

A project maps each ERP company to a CRM business unit (``legal_entities``, :class:`LegalEntity`):

- **CRM → ERP**: a record goes to the company whose business unit is the record's owning business
  unit (``_owningbusinessunit_value``) or, failing that, the nearest parent unit a company maps
  (``parentbusinessunitid``, up to the root). A record whose units map to no company is skipped
  (:data:`SkipReason.NO_LEGAL_ENTITY`). With one legal entity every record goes to it, whatever
  its unit (as before several companies were possible): nothing is read.
- **ERP → CRM**: a record the sync creates in the CRM is owned by its company's owning team: the
  legal entity's ``owning_team`` (by name), else its business unit's default team (``isdefault``).

The business units and teams are read once per run (:class:`~p2c.flows.cache.RunCache`); the
router is pure over them.

Example::

    router = cache.router(project)
    router.route({"_owningbusinessunit_value": de_id})   # 'demf', or a Skip saying why not
    router.team("demf")                                   # the Contoso DE team's id, or RecordError
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from p2c.errors import RecordError
from p2c.flows.base import FlowContext, Prepared, Skip, SkipReason
from p2c.mapping import source_fields
from p2c.rules import FlowName, RuleName
from p2c.settings import LegalEntity

__all__ = ["LINKED_ACCOUNT", "OWNING_TEAM", "OWNING_UNIT", "CompanyRouter", "erp_ownership"]

#: the column a CRM source row must carry for routing (its owning business unit's id)
OWNING_UNIT = "_owningbusinessunit_value"


def _id(value: Any) -> str:
    return str(value or "").lower()


@dataclass(frozen=True)
class CompanyRouter:
    """Routes CRM records to companies and names each company's owning team (module docstring).

    ``units`` are the CRM's business unit rows (``businessunitid``, ``name``,
    ``_parentbusinessunitid_value``), ``teams`` its team rows (``teamid``, ``name``,
    ``_businessunitid_value``, ``isdefault``); ``where`` names the file of the settings, for errors.
    """

    legal: Mapping[str, LegalEntity]
    units: Sequence[Mapping[str, Any]] = ()
    teams: Sequence[Mapping[str, Any]] = ()
    where: str = "p2c.yaml"
    _by_id: dict[str, Mapping[str, Any]] = field(init=False, repr=False)
    _company_of_unit: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_id = {_id(u.get("businessunitid")): u for u in self.units}
        by_name = {str(le.business_unit).casefold(): c for c, le in self.legal.items()}
        company = {
            i: by_name[str(u.get("name")).casefold()]
            for i, u in by_id.items()
            if str(u.get("name")).casefold() in by_name
        }
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_company_of_unit", company)

    @functools.cached_property
    def single(self) -> str | None:
        """The one company of a project with one legal entity (every CRM record goes there)."""
        return next(iter(self.legal)) if len(self.legal) == 1 else None

    def route(self, row: Mapping[str, Any]) -> str | Skip:
        """The company of a CRM source row, or why it goes to none."""
        if self.single is not None:
            return self.single
        unit = _id(row.get(OWNING_UNIT))
        seen: set[str] = set()
        while unit and unit not in seen:
            seen.add(unit)
            company = self._company_of_unit.get(unit)
            if company is not None:
                return company
            unit = _id((self._by_id.get(unit) or {}).get("_parentbusinessunitid_value"))
        own = self._by_id.get(_id(row.get(OWNING_UNIT)))
        name = f"business unit {own.get('name')!r}" if own else "no business unit the CRM lists"
        return Skip(
            SkipReason.NO_LEGAL_ENTITY,
            f"owned by {name}, which no legal entity of the project maps (legal_entities in {self.where})",
        )

    def team(self, company: str, entity: str = "", key: str | None = None) -> str:
        """The id of the team that owns what the sync creates from ``company``'s records."""
        le = self.legal[company]
        if le.owning_team:
            wanted = le.owning_team.casefold()
            found = [t for t in self.teams if str(t.get("name")).casefold() == wanted]
            unit = self._unit_id(le.business_unit)
            found.sort(key=lambda t: _id(t.get("_businessunitid_value")) != unit)  # its own unit's first
            if found:
                return str(found[0]["teamid"])
            reason = f"the owning team {le.owning_team!r} of company {company} does not exist in the CRM"
            setting = f"legal_entities.{company}.owning_team"
        else:
            unit = self._unit_id(le.business_unit)
            found = [
                t
                for t in self.teams
                if unit and t.get("isdefault") and _id(t.get("_businessunitid_value")) == unit
            ]
            if found:
                return str(found[0]["teamid"])
            reason = (
                f"the business unit {le.business_unit!r} of company {company}, whose default team owns "
                "its records, does not exist in the CRM"
                if not unit
                else f"the business unit {le.business_unit!r} of company {company} has no default team"
            )
            setting = f"legal_entities.{company}.business_unit, or give owning_team"
        raise RecordError(
            f"{reason}; correct {setting} in {self.where}", entity=entity, key=key, field="ownerid"
        )

    def _unit_id(self, name: str) -> str:
        wanted = name.casefold()
        return next((i for i, u in self._by_id.items() if str(u.get("name")).casefold() == wanted), "")


#: pseudo-fields an ERP → CRM header task's mapping reads (``templates/orders_from_erp.yaml``):
#: the id of the company's owning team, and the CRM account linked to the row's company + customer
OWNING_TEAM = "$owning_team"
LINKED_ACCOUNT = "$linked_account"


def erp_ownership(ctx: FlowContext, rows: Sequence[dict[str, Any]], customer: str) -> Prepared:
    """Fill :data:`OWNING_TEAM` and :data:`LINKED_ACCOUNT` on ERP rows whose task maps them.

    The linked account comes from the accounts task's links by (company, ``customer`` field): the
    same account number may be a customer of several companies, each linked to its own CRM account.
    A company whose owning team the CRM lacks fails its rows, naming the team and the setting."""
    out = Prepared()
    if not ctx.has(RuleName.COMPANY_OWNER):
        return out
    uses: set[str] = set().union(*(source_fields(e) for e in ctx.task.fields.values()))
    companies = list(ctx.project.legal_entities)

    def company_of(row: Mapping[str, Any]) -> str:
        company = str(row.get("dataAreaId") or "").lower()
        return company if company in ctx.project.legal_entities else companies[0]

    if OWNING_TEAM in uses and rows:
        router = ctx.cache.owning_router(ctx.project)
        for row in rows:
            try:
                row[OWNING_TEAM] = router.team(company_of(row), ctx.task.target.entity)
            except RecordError as exc:
                out.fail(row, exc)
    accounts = next((t.name for t in ctx.project.tasks if t.flow is FlowName.ACCOUNTS), None)
    if LINKED_ACCOUNT in uses and accounts and rows:
        wanted = [(company_of(r), str(r.get(customer))) for r in rows if r.get(customer)]
        linked = ctx.store.linked_targets(accounts, wanted)
        for row in rows:
            key = (company_of(row).casefold(), str(row.get(customer)).casefold())
            row[LINKED_ACCOUNT] = linked.get(key)
    return out
