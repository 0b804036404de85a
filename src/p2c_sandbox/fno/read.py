"""GET: collections with server paging, single entities, navigations, ``$count``, properties (FNO.md §1.4, §1.5).

Paged reads are the hot path. Rows of a set are kept sorted by key per company and version
(:meth:`Data.rows`), each row's full JSON is cached until the row changes, and a page without
``$select``/``$expand`` is assembled by joining those cached bytes.

Example (in-process)::

    resp = read_collection(data, target, req, page_size=10_000)
    # {"@odata.context": ".../$metadata#CustomersV3", "value": [...], "@odata.nextLink": "...$skip=10000&$top=10000"}
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import unquote

import orjson

from p2c_sandbox.fno.data import Data
from p2c_sandbox.fno.entities import ENTITY_SETS, EntitySet
from p2c_sandbox.fno.enumfilter import enum_lookup
from p2c_sandbox.fno.errors import not_found
from p2c_sandbox.fno.keyfilter import key_lookup
from p2c_sandbox.fno.query import Expand, Options, parse_options, sort_rows
from p2c_sandbox.fno.routing import Target
from p2c_sandbox.fno.stored import etag
from p2c_sandbox.fno.values import to_wire
from p2c_sandbox.http import JSON_TYPE, Request, Response, json_response
from p2c_sandbox.store import Row

__all__ = ["cross_company", "read"]

_HEADERS = {"content-type": JSON_TYPE, "odata-version": "4.0"}
_UNSET = object()


def cross_company(req: Request) -> bool:
    value = req.param("cross-company")
    return value is not None and value.strip().lower() == "true"


def read(data: Data, target: Target, req: Request, page_size: int) -> Response:
    es = target.es
    # options of a navigation apply to the related set: Headers(...)/SalesOrderLines?$select=...
    subject = ENTITY_SETS[target.nav.target] if target.nav is not None else es
    opts = parse_options(subject, req.query, data.visible_props(subject), data.visible_props)
    if target.key is not None:
        row = find_for_request(data, target, req)
        if target.nav is not None:
            return _navigation(data, target, row, req, opts, page_size)
        if target.prop is not None:
            return _property(data, target, row, req)
        return _entity(data, es, row, req, opts, target.key_text)
    companies = None if cross_company(req) else data.default_company
    if opts.tree is not None and opts.predicate is not None and not opts.orderby:
        found = key_lookup(data, es, opts.tree, opts.predicate, companies)
        if found is not None:  # a read by keys (upserts do one per batch): no scan of the set
            opts.predicate = None
            return _collection(data, es, found, req, opts, page_size, es.name, target.count)
    if opts.predicate is not None or opts.orderby:
        shape = (es.name, companies, req.param("$filter"), tuple(opts.orderby))
        compute = partial(_query, data, es, companies, opts)
        rows = data.query_cache(es, shape, compute, _among(data, es, companies, opts.predicate))
        opts.predicate, opts.orderby = None, []
    else:
        rows = data.rows(es, companies)
    return _collection(data, es, rows, req, opts, page_size, es.name, target.count)


def _among(
    data: Data, es: EntitySet, company: str | None, predicate: Callable[[Row], bool] | None
) -> Callable[[Row], bool] | None:
    """Whether a row may be in the result of a read of ``es`` (its company, visible, the filter
    true), for :meth:`Data.query_cache`; None for a view whose rows depend on other tables."""
    if es.view not in (None, "sellable"):
        return None
    scope = company if es.company else None

    def among(row: Row) -> bool:
        if scope is not None and row.get("dataAreaId") != scope:
            return False
        return data.visible(es, row) and (predicate is None or bool(predicate(row)))

    return among


def _query(data: Data, es: EntitySet, company: str | None, opts: Options) -> list[Row]:
    """The rows of a read of ``es`` with ``$filter``/``$orderby`` (what :meth:`Data.query_cache`
    keeps): narrowed by an enum index when the filter allows it (:mod:`.enumfilter`), else
    filtered before they are sorted (:meth:`Data.select`)."""
    pred = opts.predicate
    if pred is None:
        rows = data.rows(es, company)
    else:
        found = enum_lookup(data, es, opts.tree, pred, company) if opts.tree is not None else None
        rows = data.select(es, company, pred) if found is None else found
    return _ordered(es, rows, opts.orderby)


def _filter_sort(es: EntitySet, rows: list[Row], opts: Options) -> list[Row]:
    """``rows`` (in key order) filtered and sorted by ``opts``."""
    if opts.predicate is not None:
        pred = opts.predicate
        rows = [r for r in rows if pred(r)]
    return _ordered(es, rows, opts.orderby)


def _ordered(es: EntitySet, rows: list[Row], orderby: list[tuple[str, bool]]) -> list[Row]:
    """``rows`` (in key order) sorted by ``orderby``: an ``$orderby`` on (a prefix of) the key
    ascending needs no sort."""
    if orderby and orderby != [(k, False) for k in es.keys[: len(orderby)]]:
        return sort_rows(es, rows, orderby)
    return rows


def find_for_request(data: Data, target: Target, req: Request) -> Row:
    """The row addressed by the key, or 404 (also for another company without cross-company)."""
    es, key = target.es, target.key
    assert key is not None
    if es.company and key["dataAreaId"] != data.default_company and not cross_company(req):
        raise not_found(es.type_name, target.key_text)
    row = data.find(es, key)
    if row is None:
        raise not_found(es.type_name, target.key_text)
    return row


def _context(req: Request, fragment: str) -> str:
    return f"{req.service_root}$metadata#{fragment}"


def _select_suffix(opts: Options) -> str:
    items: list[str] = list(opts.select or [])
    for exp in opts.expand:
        items.append(f"{exp.nav.name}({','.join(exp.select or [])})")
    return f"({','.join(items)})" if items and (opts.select is not None or opts.expand) else ""


def _project(data: Data, es: EntitySet, row: Row, select: list[str] | None) -> dict[str, Any]:
    return _projector(data, es, select)(row)


def _projector(data: Data, es: EntitySet, select: list[str] | None) -> Callable[[Row], dict[str, Any]]:
    """The JSON object of a row with ``$select`` (the ETag, then the fields asked for): the
    defaults of unset fields looked up once per request, not once per row and field."""
    if select is None:
        return partial(data.wire, es)
    fields = [(name, to_wire(es.prop(name).default)) for name in select]

    def project(row: Row) -> dict[str, Any]:
        out: dict[str, Any] = {"@odata.etag": etag(row)}
        for name, default in fields:
            value = row.get(name, _UNSET)
            out[name] = default if value is _UNSET else to_wire(value) if type(value) is Decimal else value
        return out

    return project


def _expanded(data: Data, es: EntitySet, row: Row, expand: list[Expand], out: dict[str, Any]) -> None:
    for exp in expand:
        target = ENTITY_SETS[exp.nav.target]
        related = related_rows(data, exp.nav.target, exp.nav.pairs, row)
        project = _projector(data, target, exp.select)
        objects = [project(r) for r in related]
        out[exp.nav.name] = objects if exp.nav.many else (objects[0] if objects else None)


def related_rows(data: Data, target_name: str, pairs: tuple[tuple[str, str], ...], row: Row) -> list[Row]:
    target = ENTITY_SETS[target_name]
    (_, _), *rest = pairs  # the first pair is dataAreaId
    source_field, target_field = rest[0]
    value = str(row.get(source_field, ""))
    if not value:
        return []
    found = data.children(target.table, row["dataAreaId"], target_field, value)
    for src, dst in rest[1:]:
        found = [r for r in found if r.get(dst) == row.get(src)]
    found = [r for r in found if data.visible(target, r)]
    keys = target.keys
    return sorted(found, key=lambda r: tuple(str(r.get(k, "")) for k in keys))


def _collection(
    data: Data,
    es: EntitySet,
    rows: list[Row],
    req: Request,
    opts: Options,
    page_size: int,
    context_name: str,
    count_only: bool,
) -> Response:
    rows = _filter_sort(es, rows, opts)
    if count_only:
        return Response(200, {"content-type": "text/plain", "odata-version": "4.0"}, str(len(rows)).encode())
    total = len(rows)
    start = opts.skip
    limit = opts.top if opts.top is not None else total
    take = min(limit, page_size)
    page = rows[start : start + take]
    # S14: every nextLink carries $top = page size, so a $top equal to the page size continues the
    # server paging (otherwise the second page would be the last one)
    continues = opts.top is None or opts.top == page_size
    more = start + len(page) < total and (continues or len(page) < limit)
    parts = [b'{"@odata.context":', orjson.dumps(_context(req, context_name + _select_suffix(opts)))]
    if opts.count:
        parts.append(b',"@odata.count":' + str(total).encode())
    parts.append(b',"value":[')
    if opts.select is None and not opts.expand:
        row_json = data.row_json
        for r in page:  # one join for the whole body: no intermediate copy of the rows
            parts.append(row_json(es, r))
            parts.append(b",")
        if page:
            parts.pop()
    else:
        objects = []
        project = _projector(data, es, opts.select)
        for r in page:
            obj = project(r)
            _expanded(data, es, r, opts.expand, obj)
            objects.append(obj)
        parts.append(orjson.dumps(objects)[1:-1])
    parts.append(b"]")
    if more:
        remaining = None if continues else (opts.top or 0) - len(page)
        parts.append(
            b',"@odata.nextLink":' + orjson.dumps(_next_link(req, start + len(page), remaining, page_size))
        )
    parts.append(b"}")
    return Response(200, dict(_HEADERS), b"".join(parts))


def _next_link(req: Request, skip: int, remaining: int | None, page_size: int) -> str:
    """The same URL with ``$skip``/``$top`` replaced: ``...?cross-company=true&$skip=10000&$top=10000`` (S14)."""
    kept = [
        p for p in req.raw_query.split("&") if p and unquote(p.partition("=")[0]) not in ("$skip", "$top")
    ]
    top = page_size if remaining is None else remaining
    kept += [f"$skip={skip}", f"$top={top}"]
    return f"{req.service_root}{_path_for_link(req)}?{'&'.join(kept)}"


def _path_for_link(req: Request) -> str:
    from urllib.parse import quote

    return quote(req.path, safe="/(),='$*:@!")


def _entity(data: Data, es: EntitySet, row: Row, req: Request, opts: Options, key_text: str) -> Response:
    body: dict[str, Any] = {"@odata.context": _context(req, es.name + _select_suffix(opts) + "/$entity")}
    body.update(_project(data, es, row, opts.select))
    _expanded(data, es, row, opts.expand, body)
    return json_response(200, body, {"etag": etag(row)})


def _navigation(
    data: Data, target: Target, row: Row, req: Request, opts: Options, page_size: int
) -> Response:
    nav = target.nav
    assert nav is not None
    related_set = data.sets.get(nav.target)
    if related_set is None:
        raise not_found(target.es.type_name, target.key_text)
    related = related_rows(data, nav.target, nav.pairs, row)
    if nav.many:
        context = f"{target.es.name}({target.key_text})/{nav.name}"
        return _collection(data, related_set, related, req, opts, page_size, context, target.count)
    if not related:
        return Response(204, {"odata-version": "4.0"})
    return _entity(data, related_set, related[0], req, opts, "")


def _property(data: Data, target: Target, row: Row, req: Request) -> Response:
    name = target.prop
    assert name is not None
    if name not in data.visible_props(target.es):
        raise not_found(target.es.type_name, target.key_text)
    value = to_wire(row.get(name, target.es.prop(name).default))
    if target.raw_value:
        return Response(200, {"content-type": "text/plain", "odata-version": "4.0"}, str(value).encode())
    context = _context(req, f"{target.es.name}({target.key_text})/{name}")
    return json_response(200, {"@odata.context": context, "value": value})
