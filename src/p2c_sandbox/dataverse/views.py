"""The record page of the emulated Dynamics 365 Sales: ``/main.aspx?etn=<table>&id=<guid>``.

The real product opens a record at ``{org}/main.aspx?etn=account&id={guid}&pagetype=entityrecord``
(often with ``appid=`` and ``forceUCI=1``, which are ignored here). The sandbox answers with a
read-only HTML page: the table's display name and the record's primary name, then every column
with a value — lookups as a link to the related record, by its name; choices by their label — and
the records of the table's one-to-many relationships (an order's lines, an account's contacts).

No bearer token is needed (the real product uses a browser sign-in the sandbox does not emulate);
see DEVIATIONS.md.

Example::

    >>> from p2c_sandbox.store import Store
    >>> from p2c_sandbox.http import Request
    >>> org = Org(Store(None))
    >>> RecordViews(org).page(Request("GET", "/main.aspx", query=[("etn", "account")])).status
    400
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.schema import CHOICE_KINDS, Kind, TableDef
from p2c_sandbox.dataverse.values import format_value, parse_guid
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

__all__ = ["PAGE_PATH", "RecordViews", "record_url"]

PRODUCT = "Dynamics 365 Sales"
#: The path of the record page (compared case-insensitively, as IIS does).
PAGE_PATH = "/main.aspx"
#: Related records listed per relationship; the rest are counted.
RELATED_LIMIT = 50


def record_url(table: str, pk: str) -> str:
    """The server-relative URL of a record's page."""
    return f"{PAGE_PATH}?" + urlencode({"etn": table, "id": pk, "pagetype": "entityrecord"})


class RecordViews:
    """Serves ``/main.aspx`` from the organisation's tables."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def page(self, req: Request) -> Response:
        if req.method not in PAGE_METHODS:
            return not_allowed_page(PRODUCT, req.method)
        try:
            t, row = self._find(req)
        except PageError as exc:
            return error_response(PRODUCT, exc)
        return self._render(t, row).response()

    # -- finding the record --------------------------------------------------------------------

    def _find(self, req: Request) -> tuple[TableDef, Row]:
        etn = (req.param("etn") or "").strip().lower()
        raw_id = (req.param("id") or "").strip()
        if not etn:
            raise PageError(400, "The URL has no etn parameter (the table's logical name, e.g. etn=account).")
        if not raw_id:
            raise PageError(400, "The URL has no id parameter (the record's GUID, e.g. id={...}).")
        pagetype = (req.param("pagetype") or "entityrecord").strip().lower()
        if pagetype != "entityrecord":
            raise PageError(400, f"pagetype '{pagetype}' is not emulated: only pagetype=entityrecord is.")
        tables = self.org.catalog.tables
        t = tables.get(etn)
        if t is None:
            raise PageError(
                404, f"There is no table with the logical name '{etn}'. Known tables:", sorted(tables)
            )
        pk = parse_guid(raw_id)
        if pk is None:
            raise PageError(400, f"The id parameter '{raw_id}' is not a GUID.")
        row = self.org.get(t.name, pk)
        if row is None:
            raise PageError(404, f"There is no {t.label} ({t.name}) record with id {pk}.")
        return t, row

    # -- the page ------------------------------------------------------------------------------

    def _render(self, t: TableDef, row: Row) -> RecordPage:
        page = RecordPage(
            PRODUCT, t.label, self._caption(t, row) or "(no name)", [f"table {t.name}", f"id {row[t.pk]}"]
        )
        for col in t.columns.values():
            value = row.get(col.wire)
            if value is None or value == "":
                page.empty.append(col.name)
                continue
            label = col.label or col.name
            if col.is_lookup:
                target = str(row.get(f"~{col.name}") or col.targets[0])
                page.fields.append(self._lookup(label, col.name, target, str(value)))
            else:
                text, note = self._text(t, col.name, value, row)
                page.fields.append(Field(label, col.name, text, note=note))
        page.related = self._related(t, row)
        return page

    def _lookup(self, label: str, name: str, target: str, pk: str) -> Field:
        known = target in self.org.catalog.tables
        related = self.org.primary_name(target, pk) if known else None
        if related is None and not (known and self.org.get(target, pk)):
            return Field(label, name, pk, note=f"({target}; no such record)")
        return Field(label, name, related or pk, link=record_url(target, pk), note=f"({target})")

    def _text(self, t: TableDef, name: str, value: Any, row: Row) -> tuple[str, str]:
        """The text of a non-lookup value and a note (the raw value of a choice)."""
        col = t.columns[name]
        if col.kind in CHOICE_KINDS or col.kind is Kind.BOOLEAN:
            key = int(value) if col.kind is Kind.BOOLEAN else value
            label = col.options.get(key)
            return (label, f"({value})") if label is not None else (str(value), "")
        if col.kind is Kind.MONEY:
            currency = None if name.endswith("_base") else row.get("_transactioncurrencyid_value")
            return format_value(col, value, self.org.symbol(currency)) or str(value), ""
        return str(value), ""

    def _related(self, t: TableDef, row: Row) -> list[tuple[str, list[Link]]]:
        out: list[tuple[str, list[Link]]] = []
        for nav, (child, column) in t.collections.items():
            ct = self.org.catalog.tables.get(child)
            if ct is None:
                continue
            col = ct.columns[column]
            rows = self.org.children(child, col.wire, row[t.pk])
            if len(col.targets) > 1:  # a customer lookup: only the children pointing at this table
                rows = [r for r in rows if (r.get(f"~{column}") or col.targets[0]) == t.name]
            if not rows:
                continue
            links = [
                Link(self._caption(ct, r) or r[ct.pk], record_url(child, r[ct.pk]))
                for r in rows[:RELATED_LIMIT]
            ]
            shown = f"{len(rows)}" if len(rows) <= RELATED_LIMIT else f"first {RELATED_LIMIT} of {len(rows)}"
            out.append((f"{ct.label} records ({nav}, {shown})", links))
        return out

    def _caption(self, t: TableDef, row: Row) -> str:
        """The record's primary name; a line without one (write-in text) is named by its product."""
        name = row.get(t.primary_name)
        if name not in (None, ""):
            return str(name)
        product = row.get("_productid_value")
        return (self.org.primary_name("product", product) or "") if isinstance(product, str) else ""
