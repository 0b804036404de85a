"""Checks of the Prospect-to-cash prerequisites (P2C.md §3): reference data the flows look up, price
lists per currency, the CRM's pricing and product settings, and the two one-time F&O jobs.

Reference data is generic: every lookup a task resolves on its target side with ``missing: fail``
(units, unit groups, currencies, ...) is checked against the values the task would read, through
the same value map the mapping uses. A problem that fails only some records is a *warn* (the run
goes ahead, those records fail with the same reason); one that fails every record is a *fail*.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from p2c.doctor.base import Check, CheckStatus, DoctorContext, sample
from p2c.errors import NotFoundError, P2CError, RecordError
from p2c.mapping import TransformError
from p2c.project import Task
from p2c.rules import RULES, RuleName, choose_price_list
from p2c.settings import System
from p2c.setup import LookupNeed

__all__ = [
    "LINE_SETS",
    "check_discount_setting",
    "check_distinct_products",
    "check_line_numbers",
    "check_price_lists",
    "check_product_state",
    "check_reference_values",
    "uses_entity",
    "uses_rule",
]

_TITLES = {
    "uoms": "units",
    "uomschedules": "unit groups",
    "transactioncurrencies": "currencies",
    "pricelevels": "price lists",
}
#: F&O line entities whose LineCreationSequenceNumber the one-time job fills
LINE_SETS = (
    "CDSSalesOrderLines",
    "CDSSalesQuotationLines",
    "ExternallyMaintainedCustomerSalesInvoiceLines",
)
POPULATE_LINES_FIX = (
    "run the SalesPopulateProspectToCash job once in F&O: open "
    "<your F&O url>/?cmp=<company>&mi=action:SalesPopulateProspectToCash and click OK "
    "(it numbers the existing sales order, quotation and invoice lines)"
)
POPULATE_PRODUCTS_FIX = (
    "run 'Populate distinct product table' in F&O (Product information management > Periodic > "
    "Populate distinct product table), then run `p2c doctor` again"
)


def uses_rule(name: RuleName) -> Any:
    return lambda ctx: any(name in t.rules for t in ctx.project.enabled_tasks())


def uses_entity(name: str) -> Any:
    return lambda ctx: any(name in (t.source.entity, t.target.entity) for t in ctx.project.enabled_tasks())


def _severity(affected: int, total: int) -> CheckStatus:
    if affected == 0:
        return CheckStatus.OK
    return CheckStatus.FAIL if affected >= total else CheckStatus.WARN


def _row_label(task: Task, row: dict[str, Any]) -> str:
    return " ".join(str(row.get(k, "")) for k in task.key_source)


# -- reference data looked up on the target side ---------------------------------------------------


def check_reference_values(ctx: DoctorContext) -> Iterator[Check]:
    groups: dict[tuple[Any, ...], list[LookupNeed]] = {}
    for need in ctx.plan.lookups:
        task = ctx.project.task(need.task)
        s = need.spec
        key = (task.source.system, task.source.entity, s.source, s.value_map, s.system, s.entity, s.by)
        groups.setdefault(key, []).append(need)
    for needs in groups.values():
        spec = needs[0].spec
        title = _TITLES.get(spec.entity, spec.entity)
        name = f"{title}: " + ", ".join(f"{n.task}.{n.target_field}" for n in needs)
        try:
            yield _reference(ctx, name, needs)
        except P2CError as exc:
            yield Check(name, CheckStatus.FAIL, f"could not be checked: {exc}")


def _reference(ctx: DoctorContext, name: str, needs: Sequence[LookupNeed]) -> Check:
    spec = needs[0].spec
    catalog = ctx.project.catalog
    related = catalog.entity(spec.system or System.CRM, spec.entity)
    by = related.field(spec.by or related.primary_key)
    by_name = by.read_name if by is not None else (spec.by or "")
    if related.system is System.CRM:
        known_rows = ctx.crm_rows(related.name, [by_name])
    else:
        key = ("erp-rows", related.name, by_name)
        known_rows = ctx.cached(
            key, lambda: [r for p in ctx.erp.read(related.name, select=[by_name]) for r in p]
        )
    known = {str(r.get(by_name)).casefold() for r in known_rows if r.get(by_name) not in (None, "")}
    vm = ctx.project.value_maps.get(spec.value_map) if spec.value_map else None

    first = ctx.project.task(needs[0].task)
    source_entity = catalog.entity(first.source.system, first.source.entity)
    source_field = source_entity.field(spec.source)
    read_name = source_field.read_name if source_field is not None else spec.source
    seen: set[tuple[Any, ...]] = set()
    total = 0
    problems: dict[str, list[str]] = {}
    unmapped: set[str] = set()
    absent: set[str] = set()
    for need in needs:
        task = ctx.project.task(need.task)
        for row in ctx.source_rows(task):
            ident = tuple(row.get(k) for k in task.key_source)
            if ident in seen:
                continue
            seen.add(ident)
            value = row.get(read_name)
            try:
                mapped = vm.apply(value, spec.source) if vm is not None else value
            except TransformError:
                unmapped.add(str(value))
                reason = f"{spec.source} {value!r} is not in value map '{spec.value_map}'"
            else:
                if mapped in (None, ""):
                    continue
                if str(mapped).casefold() in known:
                    total += 1
                    continue
                absent.add(str(mapped))
                shown = f"{value!r} → {mapped!r}" if vm is not None and mapped != value else repr(value)
                reason = f"{spec.source} {shown}: no {related.name} row has {by_name} {mapped!r}"
            total += 1
            problems.setdefault(reason, []).append(_row_label(task, row))
    rows_word = f"{source_entity.name} rows"
    if not problems:
        detail = (
            f"every {spec.source} of the {total} {rows_word} resolves to {related.name}.{by_name}"
            if total
            else f"no {rows_word} to check"
        )
        return Check(name, CheckStatus.OK, detail)
    affected = sum(len(v) for v in problems.values())
    parts = [
        f"{reason} ({len(rows)} row{'s' if len(rows) > 1 else ''}: {sample(rows)})"
        for reason, rows in problems.items()
    ]
    detail = f"{affected} of {total} {rows_word} would fail: " + "; ".join(parts)
    fixes = []
    if absent:
        where = "CRM" if related.system is System.CRM else "ERP"
        fixes.append(f"create {', '.join(sorted(absent))} in the {where} ({related.name}.{by_name})")
    if vm is not None:
        example = sorted(unmapped | absent)[0]
        fixes.append(
            f"map {'them' if len(unmapped | absent) > 1 else 'it'} to an existing {related.name} value in the "
            f"project's value map '{vm.name}' (value_maps: {{{vm.name}: {{{example}: <{by_name}>}}}})"
        )
    return Check(name, _severity(affected, total), detail, "; or ".join(fixes))


# -- price lists per currency --------------------------------------------------------------------


def check_price_lists(ctx: DoctorContext) -> Iterator[Check]:
    currency_fields = RULES[RuleName.CHOOSE_PRICE_LIST].requires
    preferred = ctx.project.settings.price_list
    currencies = {
        str(r["transactioncurrencyid"]): str(r.get("isocurrencycode") or "")
        for r in ctx.crm_rows("transactioncurrencies", ["transactioncurrencyid", "isocurrencycode"])
    }
    lists = [
        {"name": r.get("name"), "currency": currencies.get(str(r.get("_transactioncurrencyid_value")), "")}
        for r in ctx.crm_rows("pricelevels", ["name", "_transactioncurrencyid_value"])
    ]
    for task in ctx.project.enabled_tasks():
        if RuleName.CHOOSE_PRICE_LIST not in task.rules:
            continue
        name = f"price lists per currency: {task.name}"
        rows = ctx.source_rows(task)
        by_pair: dict[tuple[str, str], list[str]] = {}
        for row in rows:
            company = str(row.get("dataAreaId") or "")
            by_pair.setdefault((company, str(row.get(currency_fields[0]) or "")), []).append(
                _row_label(task, row)
            )
        chosen, failed = [], []
        for (company, currency), labels in sorted(by_pair.items()):
            try:
                chosen.append(f"{company} {currency} → {choose_price_list(lists, currency, preferred)}")
            except RecordError as exc:
                failed.append((company, currency, labels, exc.reason))
        if not failed:
            detail = "; ".join(chosen) or f"no {task.source.entity} rows to price"
            yield Check(name, CheckStatus.OK, detail)
            continue
        affected = sum(len(f[2]) for f in failed)
        parts = [
            f"{c} {cur or '(no currency)'}: {reason} ({len(labels)} products: {sample(labels)})"
            for c, cur, labels, reason in failed
        ]
        detail = f"{affected} of {len(rows)} products would fail: " + "; ".join(parts)
        missing = sorted({cur for _, cur, _, _ in failed if cur})
        if preferred and not any(str(p["name"]).casefold() == preferred.casefold() for p in lists):
            status = CheckStatus.FAIL
            fix = f"create the price list '{preferred}' in the CRM or change settings.price_list"
        else:
            status = _severity(affected, len(rows))
            fix = f"create a price list in {', '.join(missing) or 'that currency'} in the CRM" + (
                " or set settings.price_list to one in the products' currency"
                if not preferred
                else f", or change settings.price_list ('{preferred}')"
            )
        yield Check(name, status, detail, fix)


# -- CRM settings --------------------------------------------------------------------------------


def check_discount_setting(ctx: DoctorContext) -> Iterator[Check]:
    """P2C moves whole-line discounts and relies on the CRM computing totals (system pricing)."""
    org = ctx.organization()
    name = "crm discount calculation"
    problems, seen = [], []
    if "discountcalculationmethod" in org:
        seen.append("discountcalculationmethod")
        if org.get("discountcalculationmethod") not in (0, None):
            problems.append(
                "discount calculation method is Per unit; P2C moves a whole-line discount amount (Line item)"
            )
    if "oobpricecalculationenabled" in org:
        seen.append("oobpricecalculationenabled")
        if org.get("oobpricecalculationenabled") is False:
            problems.append("system pricing is off: the CRM will not compute line and order totals")
    if problems:
        fix = "in the CRM's system settings (Sales tab): use system pricing and the Line item discount calculation"
        yield Check(name, CheckStatus.WARN, "; ".join(problems), fix)
    elif seen:
        yield Check(name, CheckStatus.OK, f"as P2C expects ({', '.join(seen)})")
    else:
        yield Check(name, CheckStatus.OK, "the organization row exposes no discount calculation setting")


def check_product_state(ctx: DoctorContext) -> Iterator[Check]:
    org = ctx.organization()
    name = "crm product state on create"
    setting = "createproductswithoutparentinactivestate"
    if setting not in org:
        yield Check(
            name, CheckStatus.OK, f"the organization row has no {setting}; products follow the project"
        )
        return
    org_active = bool(org.get(setting))
    wanted = ctx.project.settings.products_created_active
    org_text = f"the CRM creates new products {'Active' if org_active else 'Draft'} (organization.{setting} = {str(org_active).lower()})"
    if org_active == wanted:
        yield Check(name, CheckStatus.OK, f"{org_text}, as settings.products_created_active says")
    elif wanted:
        detail = f"{org_text}; settings.products_created_active is true, so p2c activates each new product with one more request"
        fix = "set 'Create products in active state' in the CRM's product catalog settings, or products_created_active: false"
        yield Check(name, CheckStatus.WARN, detail, fix)
    else:
        detail = (
            f"{org_text}; settings.products_created_active is false, but the CRM will make them Active anyway"
        )
        fix = "switch off 'Create products in active state' in the CRM, or set products_created_active: true"
        yield Check(name, CheckStatus.WARN, detail, fix)


# -- the one-time F&O jobs -----------------------------------------------------------------------


def _companies_filter(ctx: DoctorContext) -> str:
    return "(" + " or ".join(f"dataAreaId eq '{c}'" for c in ctx.companies()) + ")"


def check_line_numbers(ctx: DoctorContext) -> Iterator[Check]:
    used = {e for t in ctx.project.enabled_tasks() for e in (t.source.entity, t.target.entity)}
    for set_name in LINE_SETS:
        name = f"line numbers {set_name}"
        spec = ctx.project.catalog.get(System.ERP, set_name)
        keys = [k for k in (spec.key if spec else ()) if k != "LineCreationSequenceNumber"]
        params = {
            "$filter": f"{_companies_filter(ctx)} and LineCreationSequenceNumber eq 0",
            "$top": "5",
            "$count": "true",
            "$select": ",".join(keys or ["dataAreaId"]),
        }
        try:
            found = ctx.probe(System.ERP, set_name, params)
        except NotFoundError:
            if set_name in used:
                continue  # the entity-set check already fails it
            yield Check(name, CheckStatus.OK, f"{set_name} does not exist in this release; no task uses it")
            continue
        except P2CError as exc:
            yield Check(name, CheckStatus.FAIL, f"could not be checked: {exc}")
            continue
        rows = found.get("value") or []
        if not rows:
            yield Check(name, CheckStatus.OK, "every line has a LineCreationSequenceNumber")
            continue
        count = found.get("@odata.count")
        how_many = f"{count}" if count is not None else f"at least {len(rows)}"
        examples = sample(list(dict.fromkeys(" ".join(str(r.get(k, "")) for k in keys) for r in rows)))
        detail = f"{how_many} lines have LineCreationSequenceNumber 0 (e.g. in {examples})"
        if set_name in used:
            yield Check(
                name, CheckStatus.FAIL, detail + "; lines are matched by that number", POPULATE_LINES_FIX
            )
        else:
            detail += (
                "; no task of this project uses these lines yet, the quotation, order and invoice flows do"
            )
            yield Check(name, CheckStatus.WARN, detail, POPULATE_LINES_FIX)


def check_distinct_products(ctx: DoctorContext) -> Iterator[Check]:
    name = "distinct product table"
    empty: list[str] = []
    evidence: list[str] = []
    for company in ctx.companies():
        found = ctx.probe(
            System.ERP, "SellableReleasedProducts", {"$filter": f"dataAreaId eq '{company}'", "$top": "1"}
        )
        if found.get("value"):
            continue
        empty.append(company)
        hint = _released_products_exist(ctx, company)
        if hint:
            evidence.append(f"{company}: {hint}")
    if not empty:
        yield Check(
            name, CheckStatus.OK, f"SellableReleasedProducts has products in {', '.join(ctx.companies())}"
        )
    elif evidence:
        detail = f"SellableReleasedProducts is empty in {', '.join(empty)} although released products exist ({'; '.join(evidence)})"
        yield Check(name, CheckStatus.FAIL, detail, POPULATE_PRODUCTS_FIX)
    else:
        detail = f"SellableReleasedProducts is empty in {', '.join(empty)}: no products will sync from there"
        yield Check(
            name,
            CheckStatus.WARN,
            detail,
            "release sellable products in F&O; if they exist, " + POPULATE_PRODUCTS_FIX,
        )


def _released_products_exist(ctx: DoctorContext, company: str) -> str:
    """Evidence that ``company`` has released products: the released-products entity, or lines selling them."""
    probes = (
        ("ReleasedProductsV2", "ItemNumber", "released product"),
        ("CDSSalesOrderLines", "ProductNumber", "sales order lines sell"),
        ("CDSSalesQuotationLines", "ProductNumber", "quotation lines sell"),
    )
    for set_name, field, what in probes:
        params = {"$filter": f"dataAreaId eq '{company}' and {field} ne ''", "$top": "1", "$select": field}
        try:
            rows = ctx.probe(System.ERP, set_name, params).get("value") or []
        except (NotFoundError, RecordError):
            continue
        if rows:
            return f"{what} {rows[0].get(field)}"
    return ""
