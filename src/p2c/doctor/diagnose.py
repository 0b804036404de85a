"""``p2c doctor``: check both environments before anything is written; say what is missing and how to fix it.

:func:`diagnose` runs the registered checks in order and returns a :class:`DoctorReport`; it only
reads. ``report.blocking`` is true when a check failed (a run would fail as a whole, or every
record of a task would). Checks, in order:

==============================  ==============================================================
crm/erp reachable and authorised  WhoAmI; ``CustomerGroups?$top=1``. A refused login or an
                                unreachable host fails, and the checks needing it are skipped
entity sets (per entity)        every entity set the tasks use exists (``$top=1``) and has the
                                fields they use (CRM: attribute metadata; ERP: ``$select``)
crm schema                      the CRM's columns match ``crm_schema``: p2c's own, or Microsoft's
                                P2C solution's (msdynce_); names the setting either way
alternate keys                  p2c's keys exist and are Active (Failed: the duplicate values)
change tracking                 on for every CRM table a task reads incrementally
units, currencies, ...          every value a task looks up on its target side (through its
                                value map) exists there
price lists per currency        each (company, currency) of the products has a price list
crm discount calculation        Line item discounts and system pricing (warn)
crm product state on create     Draft/Active vs ``settings.products_created_active`` (warn)
order activation                open CRM orders without processing status, which never go
                                with ``order_activation: processing_status`` (warn)
line numbers <lines set>        no line with LineCreationSequenceNumber 0 (the one-time job)
distinct product table          SellableReleasedProducts populated where products exist
==============================  ==============================================================

More checks are added with :func:`register`; each says when it applies (e.g. only to projects
with a task reading a given entity) and which environments it needs.

Example::

    with open_connectors(project.connections) as (crm, erp):
        report = diagnose(project, crm, erp)
    for check in report.checks:
        print(check)
    raise SystemExit(3 if report.blocking else 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from p2c.connectors import DataverseConnector, FnoConnector
from p2c.doctor.base import Check, CheckDef, CheckStatus, DoctorContext
from p2c.doctor.companies import check_legal_entities
from p2c.doctor.generic import (
    check_change_tracking,
    check_crm_reachable,
    check_entities,
    check_erp_reachable,
    check_keys,
)
from p2c.doctor.orders import check_order_activation, sends_crm_orders
from p2c.doctor.prospect import (
    check_discount_setting,
    check_distinct_products,
    check_line_numbers,
    check_price_lists,
    check_product_state,
    check_reference_values,
    uses_entity,
    uses_rule,
)
from p2c.doctor.schema import check_crm_schema
from p2c.errors import P2CError
from p2c.project import Project
from p2c.rules import RuleName
from p2c.settings import System
from p2c.setup import requirements

__all__ = [
    "CHECKS",
    "Check",
    "CheckDef",
    "CheckStatus",
    "DoctorContext",
    "DoctorReport",
    "diagnose",
    "register",
]

_CRM = frozenset({System.CRM})
_ERP = frozenset({System.ERP})

CHECKS: list[CheckDef] = [
    CheckDef("crm reachable", check_crm_reachable, frozenset()),
    CheckDef("erp reachable", check_erp_reachable, frozenset()),
    CheckDef("entity sets and fields", check_entities, frozenset()),
    CheckDef("crm schema", check_crm_schema, _CRM),
    CheckDef("alternate keys", check_keys, _CRM),
    CheckDef("change tracking", check_change_tracking, _CRM),
    CheckDef("legal entities", check_legal_entities, _CRM),
    CheckDef("reference values", check_reference_values),
    CheckDef("price lists", check_price_lists, applies=uses_rule(RuleName.CHOOSE_PRICE_LIST)),
    CheckDef("discount calculation", check_discount_setting, _CRM),
    CheckDef("product state", check_product_state, _CRM, applies=uses_rule(RuleName.SET_PRODUCT_STATE)),
    CheckDef("order activation", check_order_activation, _CRM, applies=sends_crm_orders),
    CheckDef("line numbers", check_line_numbers, _ERP),
    CheckDef(
        "distinct product table",
        check_distinct_products,
        _ERP,
        applies=uses_entity("SellableReleasedProducts"),
    ),
]


def register(check: CheckDef, *, before: str | None = None) -> None:
    """Add a check (at the end, or before the one named ``before``)."""
    if before is None:
        CHECKS.append(check)
        return
    index = next((i for i, c in enumerate(CHECKS) if c.name == before), len(CHECKS))
    CHECKS.insert(index, check)


@dataclass
class DoctorReport:
    """The findings of one :func:`diagnose`, in check order."""

    checks: list[Check] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return any(c.status is CheckStatus.FAIL for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status is CheckStatus.FAIL]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status is CheckStatus.WARN]

    def check(self, name: str) -> Check:
        """The finding called ``name`` (KeyError if there is none)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; checks: {', '.join(c.name for c in self.checks)}")

    def find(self, text: str) -> list[Check]:
        """Findings whose name contains ``text``."""
        return [c for c in self.checks if text in c.name]

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return {
            "blocking": self.blocking,
            "checks": [
                {"name": c.name, "status": c.status.value, "detail": c.detail, "fix": c.fix}
                for c in self.checks
            ],
        }


def diagnose(
    project: Project,
    crm: DataverseConnector,
    erp: FnoConnector,
    *,
    checks: Sequence[CheckDef] | None = None,
    progress: Callable[[Check], None] | None = None,
) -> DoctorReport:
    """Run the checks (default :data:`CHECKS`) against both environments; writes nothing."""
    ctx = DoctorContext(project, crm, erp, requirements(project))
    report = DoctorReport()
    redact = _redactor(crm, erp)
    for definition in checks if checks is not None else CHECKS:
        if any(not ctx.reachable.get(system) for system in definition.needs):
            continue
        if not definition.applies(ctx):
            continue
        for check in _guarded(definition, ctx):
            safe = replace(check, detail=redact(check.detail), fix=redact(check.fix))
            report.checks.append(safe)
            if progress is not None:
                progress(safe)
    return report


def _guarded(definition: CheckDef, ctx: DoctorContext) -> Iterable[Check]:
    """A check that breaks half-way still reports what it found, then why it stopped."""
    try:
        yield from definition.run(ctx)
    except P2CError as exc:
        yield Check(definition.name, CheckStatus.FAIL, f"could not be checked: {exc}")


def _redactor(crm: DataverseConnector, erp: FnoConnector) -> Callable[[str], str]:
    def text(value: str) -> str:
        return erp.redactor.text(crm.redactor.text(value))

    return text
