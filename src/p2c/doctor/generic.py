"""Checks every project gets, whatever its templates: reach and login, entity sets and fields per
task, p2c's alternate keys, change tracking. All of them are derived from the project's
requirements (:mod:`p2c.setup.plan`), so a new template is checked without new code here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from p2c.catalog import EntitySpec
from p2c.connectors import KNOWN_KEYS
from p2c.doctor.base import PROSPECT_TO_CASH_DOCS, Check, CheckStatus, DoctorContext
from p2c.errors import AuthError, NotFoundError, P2CError, RecordError, TransientError
from p2c.settings import System
from p2c.setup import FieldUse, describe_duplicates, duplicate_values, find_key
from p2c.setup.columns import SOLUTION_FIX

__all__ = [
    "check_change_tracking",
    "check_crm_reachable",
    "check_entities",
    "check_erp_reachable",
    "check_keys",
]

_NAMES = {System.CRM: "CRM (Dataverse)", System.ERP: "ERP (F&O)"}
LOGIN_FIX = (
    "check tenant, client_id and client_secret (or the certificate) in the connections file, and that "
    "the app registration is an application user of the environment with a security role"
)
REACH_FIX = "check the url in the connections file, the network or proxy, and that the environment is running"


def _unreachable(system: System, url: str, exc: P2CError) -> Check:
    name = f"{system.value} reachable and authorised"
    who = _NAMES[system]
    if isinstance(exc, AuthError):
        code = f" [{exc.code}]" if exc.code else ""
        detail = f"the {who} at {url} refused the login{code}: {exc.reason}"
        if exc.code == "AADSTS500011":  # Entra knows no such resource: the url is wrong, not the secret
            fix = (
                "the url names no environment of this tenant: check its host and port in the connections file"
            )
            return Check(name, CheckStatus.FAIL, detail, fix)
        return Check(name, CheckStatus.FAIL, detail, LOGIN_FIX)
    if isinstance(exc, TransientError):
        return Check(name, CheckStatus.FAIL, f"cannot reach the {who} at {url}: {exc.reason}", REACH_FIX)
    if isinstance(exc, NotFoundError):
        detail = f"{url} answers, but not as the {who} service ({exc.reason})"
        return Check(name, CheckStatus.FAIL, detail, "check the url (and api path) in the connections file")
    return Check(name, CheckStatus.FAIL, f"the {who} at {url} answered: {exc}", REACH_FIX)


def check_crm_reachable(ctx: DoctorContext) -> Iterator[Check]:
    url = ctx.crm.api_url
    try:
        with ctx.quick(System.CRM):
            me = ctx.crm.whoami()
    except P2CError as exc:
        ctx.reachable[System.CRM] = False
        yield _unreachable(System.CRM, url, exc)
        return
    ctx.reachable[System.CRM] = True
    detail = f"{url} answers WhoAmI as user {me.get('UserId')} (business unit {me.get('BusinessUnitId')})"
    yield Check("crm reachable and authorised", CheckStatus.OK, detail)


def check_erp_reachable(ctx: DoctorContext) -> Iterator[Check]:
    url = ctx.erp.api_url
    try:
        with ctx.quick(System.ERP):
            ctx.probe(System.ERP, "CustomerGroups", {"$top": "1"})
    except P2CError as exc:
        ctx.reachable[System.ERP] = False
        yield _unreachable(System.ERP, url, exc)
        return
    ctx.reachable[System.ERP] = True
    yield Check("erp reachable and authorised", CheckStatus.OK, f"{url} answers CustomerGroups?$top=1")


# -- entity sets and fields ----------------------------------------------------------------------


def _uses(use: FieldUse) -> str:
    return f"{'/'.join(use.roles)} of {', '.join(use.tasks)}"


def check_entities(ctx: DoctorContext) -> Iterator[Check]:
    """Every entity set the tasks use exists and has every field they use (one check per set)."""
    for ref, entity in ctx.plan.entities.items():
        if not ctx.reachable.get(entity.system):
            continue
        uses = ctx.plan.fields.get(ref, {})
        try:
            if entity.system is System.CRM:
                yield _crm_entity(ctx, entity, uses)
            else:
                yield _erp_entity(ctx, entity, uses)
        except P2CError as exc:
            yield Check(_entity_name(entity), CheckStatus.FAIL, f"could not be checked: {exc}")


def _entity_name(entity: EntitySpec) -> str:
    return f"{entity.system.value} entity set {entity.name}"


def _tasks(ctx: DoctorContext, entity: EntitySpec) -> str:
    return ", ".join(ctx.plan.entity_tasks((entity.system, entity.name))) or "-"


def _crm_entity(ctx: DoctorContext, entity: EntitySpec, uses: Mapping[str, FieldUse]) -> Check:
    name = _entity_name(entity)
    try:
        ctx.probe(System.CRM, entity.name, {"$top": "1", "$select": entity.primary_key or "createdon"})
    except NotFoundError as exc:
        detail = f"the CRM has no entity set {entity.name} (table {entity.logical_name}): {exc.reason}"
        fix = "install or update Dynamics 365 Sales in this environment (the Sales tables are part of it)"
        return Check(name, CheckStatus.FAIL, detail, fix)
    present = ctx.attributes(entity.logical_name)
    missing = [use for n, use in uses.items() if n not in present]
    if not missing:
        return Check(
            name, CheckStatus.OK, f"exists with the {len(uses)} fields used by {_tasks(ctx, entity)}"
        )
    custom = [u for u in missing if u.spec.custom]
    solution = [u for u in missing if u.spec.solution]
    standard = [u for u in missing if not u.spec.custom and not u.spec.solution]
    parts, fixes = [], []
    if solution:
        parts.append(
            "missing column(s) of Microsoft's P2C solution " + ", ".join(u.spec.name for u in solution)
        )
        fixes.append(SOLUTION_FIX)
    if custom:
        parts.append("missing p2c column(s) " + ", ".join(f"{u.spec.name} ({_uses(u)})" for u in custom))
        fixes.append("run `p2c setup` to create p2c's columns")
    if standard:
        parts.append(
            "missing standard column(s) " + ", ".join(f"{u.spec.name} ({_uses(u)})" for u in standard)
        )
        fixes.append(
            "update Dynamics 365 Sales, or remove the fields from the project's tasks "
            "(tasks: <task>: fields: <field>: null)"
        )
    return Check(name, CheckStatus.FAIL, f"{entity.logical_name}: " + "; ".join(parts), "; ".join(fixes))


def _erp_select(ctx: DoctorContext, entity: str, names: list[str]) -> None:
    ctx.probe(System.ERP, entity, {"$top": "1", "$select": ",".join(names)})


def _older_versions(ctx: DoctorContext, set_name: str) -> list[str]:
    """Other versions of a missing entity set that this environment has (CustomersV2 for CustomersV3)."""
    stem = re.sub(r"V\d+$", "", set_name)
    found = []
    for other in sorted({*ctx.project.catalog.names(System.ERP), *KNOWN_KEYS}):
        if other != set_name and re.sub(r"V\d+$", "", other) == stem:
            try:
                ctx.probe(System.ERP, other, {"$top": "1", "$select": "dataAreaId"})
            except P2CError:
                continue
            found.append(other)
    return found


def _erp_entity(ctx: DoctorContext, entity: EntitySpec, uses: Mapping[str, FieldUse]) -> Check:
    name = _entity_name(entity)
    names = sorted(uses) or list(entity.key[:1])
    try:
        _erp_select(ctx, entity.name, names)
        return Check(
            name, CheckStatus.OK, f"exists with the {len(uses)} fields used by {_tasks(ctx, entity)}"
        )
    except NotFoundError:
        detail = f"this F&O environment has no entity set {entity.name} (used by {_tasks(ctx, entity)})"
        older = _older_versions(ctx, entity.name)
        instead = (
            f" (this release has {', '.join(older)}: a copy of the template may use it)" if older else ""
        )
        fix = (
            f"older F&O release? {entity.name} arrived with a later release or hotfix: update Finance and "
            f"Operations (see {PROSPECT_TO_CASH_DOCS}), or use a template that does not need it{instead}"
        )
        return Check(name, CheckStatus.FAIL, detail, fix)
    except RecordError:
        pass  # a field the release does not have: find out which, one at a time
    missing = []
    for n in names:
        try:
            _erp_select(ctx, entity.name, [n])
        except RecordError:
            missing.append(uses[n])
    if not missing:  # the set refused the whole select for another reason
        _erp_select(ctx, entity.name, names)
    listed = ", ".join(f"{u.spec.name} ({_uses(u)})" for u in missing)
    detail = f"{entity.name} lacks {listed}: this F&O release does not have {'it' if len(missing) == 1 else 'them'}"
    fix = (
        "update Finance and Operations to a release with these fields (older F&O release? see "
        f"{PROSPECT_TO_CASH_DOCS}), or remove them from the project's tasks (fields: <field>: null, "
        "or change the filter)"
    )
    return Check(name, CheckStatus.FAIL, detail, fix)


# -- what `p2c setup` provisions -----------------------------------------------------------------


def check_keys(ctx: DoctorContext) -> Iterator[Check]:
    keys_by_entity: dict[str, list[dict[str, object]]] = {}
    for need in ctx.plan.keys:
        entity = need.entity
        name = f"alternate key {entity.name}.{need.name}"
        try:
            if entity.name not in keys_by_entity:
                keys_by_entity[entity.name] = ctx.crm.keys(entity.logical_name)
            found = find_key(keys_by_entity[entity.name], need)
            cols = ", ".join(need.columns)
            if found is None:
                detail = f"{entity.logical_name} has no alternate key on {cols} (needed to upsert by {cols} for {', '.join(need.tasks)})"
                yield Check(name, CheckStatus.FAIL, detail, "run `p2c setup`")
                continue
            status = str(found.get("EntityKeyIndexStatus") or "")
            if status == "Active":
                yield Check(name, CheckStatus.OK, f"Active on {cols}")
            elif status == "Failed":
                dups = duplicate_values(ctx.crm, entity, need.columns)
                what = (
                    f"duplicate values in {describe_duplicates(need.columns, dups)}"
                    if dups
                    else "no duplicates left"
                )
                detail = f"the key on {entity.logical_name} ({cols}) is Failed: {what}"
                yield Check(
                    name,
                    CheckStatus.FAIL,
                    detail,
                    f"make the values unique in {entity.name}, then run `p2c setup`",
                )
            else:
                detail = f"the key on {entity.logical_name} ({cols}) is {status or 'Pending'}: Dataverse is still building it"
                yield Check(name, CheckStatus.WARN, detail, "wait a few minutes and run `p2c doctor` again")
        except P2CError as exc:
            yield Check(name, CheckStatus.FAIL, f"could not be checked: {exc}")


def check_change_tracking(ctx: DoctorContext) -> Iterator[Check]:
    for need in ctx.plan.tracking:
        logical = need.entity.logical_name
        name = f"change tracking {need.entity.name}"
        try:
            on = ctx.crm.change_tracking_enabled(logical)
        except P2CError as exc:
            yield Check(name, CheckStatus.FAIL, f"could not be checked: {exc}")
            continue
        if on:
            yield Check(name, CheckStatus.OK, f"on for {logical} (read by {', '.join(need.tasks)})")
        else:
            detail = f"off for {logical}, which {', '.join(need.tasks)} read{'s' if len(need.tasks) == 1 else ''} incrementally"
            yield Check(name, CheckStatus.FAIL, detail, "run `p2c setup` (it switches change tracking on)")
