"""The record page of the emulated F&O: ``/?cmp=<company>&mi=<menu item>&<KeyField>=<value>...``.

F&O deep links open a form with ``cmp`` (the company) and ``mi`` (a display menu item). The
sandbox maps each menu item of the forms p2c's records live in to the data entity that shows them
(:data:`MENU_ITEMS`, first entity the release has) and answers with a read-only HTML page of the
one record the other query parameters name: key fields (``CustomerAccount=US-001``), or any
fields of the entity, matched case-insensitively like F&O (a date by its day, ``2026-12-02``).
``entity=<EntitySet>`` instead of ``mi`` opens any entity set (order lines, lookups).

A menu item opens a *form*, which shows the table's rows: there the entity's row filter (sellable
products only, invoices of externally maintained customers only) does not apply; ``entity=`` shows
exactly what the entity set returns. No bearer token is needed (see DEVIATIONS.md).

Example::

    >>> from p2c_sandbox.config import SandboxConfig
    >>> from p2c_sandbox.fno import FnoService
    >>> erp = FnoService(SandboxConfig(data_dir=None), None)
    >>> q = [("cmp", "USMF"), ("mi", "CustTable"), ("CustomerAccount", "us-001")]
    >>> RecordViews(erp.data).page(Request("GET", "/", query=q)).status
    200
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from p2c_sandbox.fno.data import Data
from p2c_sandbox.fno.entities import EMPTY_DATE, EMPTY_UTC, EntitySet, Kind, Prop, label_of
from p2c_sandbox.http import Request, Response
from p2c_sandbox.pages import (
    PAGE_METHODS,
    Field,
    Link,
    PageError,
    RecordPage,
    error_response,
    not_allowed_page,
)
from p2c_sandbox.store import Row

__all__ = ["MENU_ITEMS", "PAGE_PATH", "RecordViews", "record_url"]

PRODUCT = "Dynamics 365 Finance and Operations"
PAGE_PATH = "/"

#: Display menu item -> the entity sets that show its form's records, preferred first (releases
#: before dual-write lack the V2/V3 entities).
MENU_ITEMS: dict[str, tuple[str, ...]] = {
    "CustTable": ("CustomersV3", "CustomersV2"),
    "ContactPerson": ("CDSContactPersonsV2", "CDSContactPersons"),
    "SalesQuotationTable": ("CDSSalesQuotationHeaders",),
    "SalesTable": ("CDSSalesOrderHeaders",),
    "CustInvoiceJour": ("ExternallyMaintainedCustomerSalesInvoiceHeaders",),
    "EcoResProductDetailsExtended": ("SellableReleasedProducts",),
    "CustGroup": ("CustomerGroups",),
    "PaymTerm": ("PaymentTerms",),
    "UnitOfMeasure": ("UnitsOfMeasure",),
    "InventSite": ("OperationalSites",),
    "InventLocation": ("Warehouses",),
    "Currency": ("Currencies",),
}

#: Fields that name a record of another form: shown as a link to it when that record exists.
FIELD_LINKS = {
    "OrderingCustomerAccountNumber": "CustTable",
    "InvoiceCustomerAccountNumber": "CustTable",
    "RequestingCustomerAccountNumber": "CustTable",
    "InvoiceAccount": "CustTable",
    "CustomerAccount": "CustTable",
    "CustomerGroupId": "CustGroup",
    "ProductNumber": "EcoResProductDetailsExtended",
    "SalesOrderNumber": "SalesTable",
    "GeneratedSalesOrderNumber": "SalesTable",
    "SalesQuotationNumber": "SalesQuotationTable",
    "QuotationNumber": "SalesQuotationTable",
}

#: Fields whose values name a record, tried in order (joined with a space when several).
NAME_FIELDS = (
    ("OrganizationName",),
    ("PersonFirstName", "PersonLastName"),
    ("FirstName", "LastName"),
    ("SalesOrderName",),
    ("SalesQuotationName",),
    ("ProductName",),
    ("LineDescription",),
    ("SiteName",),
    ("WarehouseName",),
    ("UnitDescription",),
    ("Description",),
    ("Name",),
)

#: Parameters of real F&O URLs that do not select a record (language, partition, navigation).
IGNORED = frozenset({"lng", "prt", "limitednav", "pagetype"})
RELATED_LIMIT = 50
MATCH_LIMIT = 20
_EMPTY = ("", None, EMPTY_DATE, EMPTY_UTC)


def record_url(company: str | None, how: str, name: str, keys: dict[str, Any]) -> str:
    """A record's page: ``how`` is ``mi`` (``name`` a menu item) or ``entity`` (an entity set)."""
    query = {"cmp": company.upper()} if company else {}
    query[how] = name
    query.update({k: str(v) for k, v in keys.items()})
    return f"{PAGE_PATH}?" + urlencode(query)


class RecordViews:
    """Serves the ERP's deep links from the emulator's data."""

    def __init__(self, data: Data) -> None:
        self.data = data

    def page(self, req: Request) -> Response:
        if req.method not in PAGE_METHODS:
            return not_allowed_page(PRODUCT, req.method)
        try:
            return self._page(req)
        except PageError as exc:
            return error_response(PRODUCT, exc)

    def _page(self, req: Request) -> Response:
        es, menu_item = self._entity(req)
        company = self._company(req, es)
        given = self._criteria(req, es)
        row = self._find(es, company, given, menu_item)
        return self._render(es, company, menu_item, row).response()

    # -- what the URL names ------------------------------------------------------------------------

    def menu_entities(self) -> dict[str, str]:
        """Menu item -> the entity set it opens in this release."""
        out: dict[str, str] = {}
        for mi, names in MENU_ITEMS.items():
            found = next((n for n in names if n in self.data.sets), None)
            if found is not None:
                out[mi] = found
        return out

    def _entity(self, req: Request) -> tuple[EntitySet, str | None]:
        mi, entity = (req.param("mi") or "").strip(), (req.param("entity") or "").strip()
        menu = self.menu_entities()
        known: list[str | Link] = [f"mi={m} → {e}" for m, e in menu.items()]
        if mi and entity:
            raise PageError(400, "Give either mi (a menu item) or entity (an entity set), not both.")
        if mi:
            match = next((m for m in menu if m.casefold() == mi.casefold()), None)
            if match is None:
                raise PageError(400, f"Unknown menu item '{mi}'. The sandbox knows these menu items:", known)
            return self.data.sets[menu[match]], match
        if entity:
            es = next((s for n, s in self.data.sets.items() if n.casefold() == entity.casefold()), None)
            if es is None:
                raise PageError(
                    404, f"There is no entity set '{entity}'. Known entity sets:", sorted(self.data.sets)
                )
            return es, None
        raise PageError(
            400, "The URL names no form: add mi=<menu item> (or entity=<entity set>). Menu items:", known
        )

    def _company(self, req: Request, es: EntitySet) -> str | None:
        if not es.company:
            return None
        company = (req.param("cmp") or self.data.default_company).strip().casefold()
        companies = sorted(
            str(r["LegalEntityId"]).casefold() for r in self.data.table("CompanyInfo").rows.values()
        )
        if company not in companies:
            raise PageError(
                404, f"There is no company '{company.upper()}'. Companies:", [c.upper() for c in companies]
            )
        return company

    def _criteria(self, req: Request, es: EntitySet) -> dict[str, str]:
        props = {p.casefold(): p for p in self.data.visible_props(es)}
        keys = [k for k in es.keys if k != "dataAreaId"]
        given: dict[str, str] = {}
        for name, value in req.query:
            if name in ("cmp", "mi", "entity") or name.casefold() in IGNORED:
                continue
            prop = props.get(name.casefold())
            if prop is None:
                raise PageError(
                    400, f"'{name}' is not a field of {es.name}. Its key fields: {', '.join(keys)}."
                )
            given[prop] = value.strip()
        if not given:
            raise PageError(
                400, f"The URL names no record of {es.name}: add its key fields ({', '.join(keys)})."
            )
        return given

    # -- finding the record ------------------------------------------------------------------------

    def _find(self, es: EntitySet, company: str | None, given: dict[str, str], menu_item: str | None) -> Row:
        visible = menu_item is None  # a form shows the table's rows, an entity set its own view
        keys = [k for k in es.keys if k != "dataAreaId"]
        if set(given) == set(keys) and all(es.prop(k).kind is Kind.STRING for k in keys):
            found = self.data.find(es, {**given, "dataAreaId": company}, visible=visible)
            matches = [found] if found is not None else []
        else:
            tests = [(name, es.prop(name), _matcher(es.prop(name), text)) for name, text in given.items()]
            matches = [
                r
                for r in self._rows(es, company, visible)
                if all(test(r.get(name, prop.default)) for name, prop, test in tests)
            ]
        where = " and ".join(f"{k} = '{v}'" for k, v in given.items())
        in_company = f" in company {company.upper()}" if company else ""
        if not matches:
            raise PageError(404, f"There is no {es.name} record with {where}{in_company}.")
        if len(matches) > 1:
            how, name = ("mi", menu_item) if menu_item else ("entity", es.name)
            links: list[str | Link] = [
                Link(self._caption(es, r), record_url(company, how, name, self._key(es, r)))
                for r in matches[:MATCH_LIMIT]
            ]
            raise PageError(
                400, f"{len(matches)} {es.name} records match {where}{in_company}: add key fields.", links
            )
        return matches[0]

    def _rows(self, es: EntitySet, company: str | None, visible: bool) -> list[Row]:
        if visible:
            return self.data.rows(es, company)
        rows = self.data.table(es.table).rows.values()
        return [r for r in rows if company is None or r.get("dataAreaId") == company]

    # -- the page ----------------------------------------------------------------------------------

    def _render(self, es: EntitySet, company: str | None, menu_item: str | None, row: Row) -> RecordPage:
        facts = [f"entity {es.name}", es.table_label]
        if menu_item:
            facts.append(f"menu item {menu_item}")
        if company:
            facts.append(f"company {company.upper()}")
        page = RecordPage(PRODUCT, es.name, self._caption(es, row), facts)
        menu = self.menu_entities()
        for name in self.data.visible_props(es):
            prop = es.prop(name)
            value = row.get(name, prop.default)
            if value in _EMPTY:
                page.empty.append(name)
                continue
            link = None
            target_mi = FIELD_LINKS.get(name)
            if target_mi in menu and not (prop.key and self.data.sets[menu[target_mi]].table == es.table):
                link = self._link(company, target_mi, menu[target_mi], value)
            note = "(key)" if prop.key else ""
            page.fields.append(Field(label_of(name), name, str(value), link=link, note=note))
        page.related = self._related(es, company, row)
        return page

    def _link(self, company: str | None, mi: str, set_name: str, value: Any) -> str | None:
        target = self.data.sets[set_name]
        keys = [k for k in target.keys if k != "dataAreaId"]
        if len(keys) != 1 or not isinstance(value, str):
            return None
        key = {keys[0]: value, "dataAreaId": company}
        if self.data.find(target, key, visible=False) is None:
            return None
        return record_url(company if target.company else None, "mi", mi, {keys[0]: value})

    def _related(self, es: EntitySet, company: str | None, row: Row) -> list[tuple[str, list[Link]]]:
        out: list[tuple[str, list[Link]]] = []
        for nav in es.navigations:
            target = self.data.sets.get(nav.target)
            if target is None or company is None:
                continue
            pairs = [(mine, theirs) for mine, theirs in nav.pairs if mine != "dataAreaId"]
            (first_mine, first_theirs), rest = pairs[0], pairs[1:]
            value = row.get(first_mine, es.prop(first_mine).default)
            if not isinstance(value, str) or value == "":
                continue
            rows = self.data.children(target.table, company, first_theirs, value)
            rows = [
                r
                for r in rows
                if all(r.get(t) == row.get(m) for m, t in rest) and self.data.visible(target, r)
            ]
            rows.sort(key=lambda r: tuple(str(r.get(k, "")) for k in target.keys))
            if not rows:
                continue
            links = [
                Link(
                    self._caption(target, r), record_url(company, "entity", target.name, self._key(target, r))
                )
                for r in rows[:RELATED_LIMIT]
            ]
            shown = f"{len(rows)}" if len(rows) <= RELATED_LIMIT else f"first {RELATED_LIMIT} of {len(rows)}"
            out.append((f"{nav.name} ({target.name}, {shown})", links))
        return out

    @staticmethod
    def _key(es: EntitySet, row: Row) -> dict[str, Any]:
        return {k: row.get(k, es.prop(k).default) for k in es.keys if k != "dataAreaId"}

    def _caption(self, es: EntitySet, row: Row) -> str:
        """What F&O's form caption shows: the key values, then the record's name."""
        parts = [str(v) for v in self._key(es, row).values()]
        for names in NAME_FIELDS:
            text = " ".join(str(row[n]) for n in names if n in es.by_name and row.get(n))
            if text:
                parts.append(text)
                break
        return " : ".join(parts)


def _matcher(prop: Prop, text: str) -> Callable[[Any], bool]:
    """Compare a stored value with the URL's text as F&O would: case-insensitive, numbers as numbers."""
    if prop.kind in (Kind.INT32, Kind.INT64, Kind.DECIMAL):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise PageError(400, f"{prop.name} is a number; '{text}' is not.") from None
        return lambda v: Decimal(v) == number
    if prop.kind in (Kind.DATE, Kind.UTC) and len(text) == 10:
        return lambda v: str(v)[:10] == text
    folded = text.casefold()
    return lambda v: str(v or "").casefold() == folded
