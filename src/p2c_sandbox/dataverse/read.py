"""Collection and single-row reads: query options, server paging, ``$count`` (DATAVERSE.md §2.6, §2.7).

Paging follows the real service: at most ``Prefer: odata.maxpagesize`` rows (default and
maximum: the sandbox's ``crm_page_size``, 5 000) per page and an absolute ``@odata.nextLink``
whose ``$skiptoken`` is a URL-encoded ``<cookie pagenumber=".." pagingcookie=".." />``. Without
``$orderby`` the cookie holds the store sequence of the last row returned, so page *n* resumes with
``Table.scan(after_seq)`` and reading 100 000 rows costs O(rows); with ``$orderby`` it holds an
offset into the sorted result.

Example::

    >>> Cookie.parse(Cookie(3, "seq=42").render()).state
    {'seq': '42'}
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote

from p2c_sandbox.dataverse.errors import bad_request
from p2c_sandbox.dataverse.keyfilter import candidates
from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.project import Annotations, Projector
from p2c_sandbox.dataverse.query import QuerySpec, RowSchema
from p2c_sandbox.dataverse.schema import TableDef
from p2c_sandbox.http import Request, Response, json_response
from p2c_sandbox.odata.options import sort_rows
from p2c_sandbox.store import Row

__all__ = ["COUNT_LIMIT", "Cookie", "Page", "Reader", "context_url", "link"]

COUNT_LIMIT = 5000
_COOKIE = re.compile(r'<cookie pagenumber="(\d+)" pagingcookie="([^"]*)" istracking="(True|False)" />')
_SAFE = "$(),'*/:@=;!"


@dataclass
class Cookie:
    """The ``$skiptoken`` of a page: opaque to clients, ``key=value;...`` state for the sandbox."""

    page: int
    raw_state: str
    tracking: bool = False
    state: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.state and self.raw_state:
            self.state = dict(p.split("=", 1) for p in self.raw_state.split(";") if "=" in p)

    def render(self) -> str:
        return (
            f'<cookie pagenumber="{self.page}" pagingcookie="{self.raw_state}" '
            f'istracking="{"True" if self.tracking else "False"}" />'
        )

    @classmethod
    def parse(cls, text: str) -> Cookie:
        m = _COOKIE.fullmatch(text.strip())
        if m is None:
            raise bad_request(
                "The $skiptoken is not valid: use the @odata.nextLink of the previous page verbatim."
            )
        return cls(int(m.group(1)), m.group(2), m.group(3) == "True")

    def int(self, name: str) -> int:
        try:
            return int(self.state.get(name, "0"))
        except ValueError as exc:
            raise bad_request("The $skiptoken is not valid.") from exc


def service_root(req: Request) -> str:
    root = req.service_root or f"{req.base_url}/api/data/v9.2/"
    return root if root.endswith("/") else root + "/"


def link(req: Request, path: str, drop: tuple[str, ...], extra: list[tuple[str, str]]) -> str:
    """An absolute URL to ``path`` with the request's query minus ``drop`` plus ``extra``."""
    pairs = [(k, v) for k, v in req.query if k not in drop] + extra
    query = "&".join(f"{quote(k, safe=_SAFE)}={quote(v, safe=_SAFE)}" for k, v in pairs)
    return f"{service_root(req)}{path}" + (f"?{query}" if query else "")


def context_url(req: Request, t: TableDef, select: list[str] | None, suffix: str = "") -> str:
    cols = f"({','.join(select)})" if select else ""
    return f"{service_root(req)}$metadata#{t.set_name}{cols}{suffix}"


@dataclass
class Page:
    rows: list[Row]
    cookie: Cookie | None  # the next page's cookie, None on the last page


class Reader:
    """Runs collection queries for one org."""

    def __init__(self, org: Org, page_size: int) -> None:
        self.org = org
        self.page_size = page_size

    def page_size_for(self, req: Request) -> tuple[int, bool]:
        """``(page size, whether odata.maxpagesize was given)``."""
        raw = req.prefer().get("odata.maxpagesize")
        if raw is None:
            return self.page_size, False
        try:
            size = int(raw)
        except ValueError as exc:
            raise bad_request(f"The odata.maxpagesize preference '{raw}' is not a positive integer.") from exc
        if size < 1:
            raise bad_request(f"The odata.maxpagesize preference '{raw}' is not a positive integer.")
        return min(size, self.page_size), True

    def scan(self, t: TableDef, spec: QuerySpec, cookie: Cookie | None, size: int) -> Page:
        """One page of matching rows in creation order (no ``$orderby``)."""
        if size <= 0:
            return Page([], None)
        after = cookie.int("seq") if cookie else 0
        pred = spec.predicate
        rows: list[Row] = []
        indexed = candidates(self.org, t, spec.tree)
        it: Iterator[Row] = (
            self.org.rows(t.name).scan(after)
            if indexed is None
            else (r for r in indexed if r["@seq"] > after)
        )
        more = False
        for row in it:
            if pred is None or pred(row):
                if len(rows) == size:
                    more = True
                    break
                rows.append(row)
        next_cookie = None
        if more:
            page = (cookie.page if cookie else 1) + 1
            next_cookie = Cookie(page, f"seq={rows[-1]['@seq']}")
        return Page(rows, next_cookie)

    def sorted_page(self, t: TableDef, spec: QuerySpec, cookie: Cookie | None, size: int) -> Page:
        pred = spec.predicate
        table = self.org.rows(t.name)
        source = candidates(self.org, t, spec.tree)
        matches = [r for r in (table.scan(0) if source is None else source) if pred is None or pred(r)]
        schema = RowSchema(self.org, t)
        ordered = sort_rows(matches, spec.orderby, schema.get)
        offset = cookie.int("off") if cookie else 0
        rows = cast(list[Row], ordered[offset : offset + size])
        next_cookie = None
        if offset + size < len(ordered):
            next_cookie = Cookie((cookie.page if cookie else 1) + 1, f"off={offset + size}")
        return Page(rows, next_cookie)

    def count(self, t: TableDef, spec: QuerySpec) -> int:
        """Matching rows, counting at most ``COUNT_LIMIT + 1``."""
        table = self.org.rows(t.name)
        if spec.predicate is None:
            return len(table)
        n = 0
        source = candidates(self.org, t, spec.tree)
        for row in table.scan(0) if source is None else source:
            if spec.predicate(row):
                n += 1
                if n > COUNT_LIMIT:
                    break
        return n

    def collection(self, req: Request, t: TableDef, spec: QuerySpec) -> Response:
        notes = Annotations.parse(req.prefer().get("odata.include-annotations"))
        size, explicit = self.page_size_for(req)
        applied = []
        if explicit:
            applied.append(f"odata.maxpagesize={size}")
        if notes.any:
            applied.append(f'odata.include-annotations="{req.prefer().get("odata.include-annotations")}"')
        raw_token = req.param("$skiptoken")
        cookie = Cookie.parse(raw_token) if raw_token is not None else None
        paged = True
        if spec.top is not None and not explicit:
            size, paged = min(spec.top, self.page_size), False
        page = self.sorted_page(t, spec, cookie, size) if spec.orderby else self.scan(t, spec, cookie, size)
        projector = Projector(self.org, t, spec.select, notes, spec.expand)
        body: dict[str, Any] = {"@odata.context": context_url(req, t, spec.select)}
        if spec.count:
            n = self.count(t, spec)
            body["@odata.count"] = min(n, COUNT_LIMIT)
            if n > COUNT_LIMIT:
                body["@Microsoft.Dynamics.CRM.totalrecordcount"] = -1
                body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = True
        project = projector.project
        body["value"] = [project(r) for r in page.rows]
        if page.cookie is not None and paged:
            body["@odata.nextLink"] = link(
                req, t.set_name, ("$skiptoken",), [("$skiptoken", page.cookie.render())]
            )
        headers = {"preference-applied": ",".join(applied)} if applied else None
        return json_response(200, body, headers)

    def count_only(self, t: TableDef, spec: QuerySpec) -> Response:
        n = min(self.count(t, spec), COUNT_LIMIT)
        return Response(200, {"content-type": "text/plain", "odata-version": "4.0"}, str(n).encode())
