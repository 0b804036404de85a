"""Requests on entity sets and rows: the URL grammar below ``/api/data/v9.2/`` for data.

=======================================  =====================================================
``GET/POST {set}``                        query (paged, tracked, delta) / create
``GET {set}/$count``                      bare count (also with ``$deltatoken``)
``POST {set}/Microsoft.Dynamics.CRM.X``   bulk actions (:mod:`~p2c_sandbox.dataverse.bulk`)
``GET/PATCH/DELETE {set}(<key>)``         read (304 on a matching ``If-None-Match``), upsert
                                          matrix of DATAVERSE.md §2.5, delete (``If-Match``)
``GET/PUT/DELETE {set}(<key>)/<column>``  one property
``GET {set}(<key>)/<navigation>``         the related row or rows
``PUT/DELETE {set}(<key>)/<nav>/$ref``    set or clear a lookup
=======================================  =====================================================

Example (in-process)::

    Entities(org, writer, reader, tracker).handle(req, segments)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from p2c_sandbox.dataverse.changes import TRACK, ChangeTracker
from p2c_sandbox.dataverse.errors import Code, DataverseError, bad_request, not_found_by_id, not_found_by_key
from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.project import Annotations, Projector, etag
from p2c_sandbox.dataverse.query import ExpandPlan, parse_expand_only, parse_query
from p2c_sandbox.dataverse.read import Reader, context_url, service_root
from p2c_sandbox.dataverse.schema import TableDef
from p2c_sandbox.dataverse.urls import KeySpec, format_key, parse_reference, parse_segment
from p2c_sandbox.dataverse.write import Writer
from p2c_sandbox.http import Request, Response, json_response, loads
from p2c_sandbox.store import Row

__all__ = ["Entities", "not_allowed", "read_json"]


def not_allowed(method: str) -> DataverseError:
    return DataverseError(
        405, Code.NOT_ALLOWED, f"The requested resource does not support http method '{method}'."
    )


def read_json(req: Request, what: str) -> Any:
    """The request body as JSON; a malformed body is the real service's payload error."""
    try:
        return loads(req.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataverseError(
            400,
            Code.PAYLOAD,
            f"Error identified in Payload provided by the user for Entity :'{what}', For more information on this "
            "error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ---->  "
            f"InnerException : Microsoft.OData.ODataException: Invalid JSON. {exc}",
        ) from exc


#: entries kept in Entities._shapes (distinct table + query + annotations) before it starts over
_SHAPES = 256


class _Shape(NamedTuple):
    """What a one-row answer shows (:meth:`Entities._shape`)."""

    table: TableDef
    select: list[str] | None
    expand: list[ExpandPlan]
    notes: Annotations
    projector: Projector


def _if_header(req: Request, name: str) -> str | None:
    value = req.header(name)
    if value is None or value.strip().lower() == "null":
        return None  # "If-None-Match: null" is what the docs tell clients to send on every request
    return value.strip()


class Entities:
    """Data requests on entity sets and rows."""

    def __init__(self, org: Org, writer: Writer, reader: Reader, tracker: ChangeTracker) -> None:
        self.org = org
        self.writer = writer
        self.reader = reader
        self.tracker = tracker
        self._shapes: dict[tuple[str, tuple[tuple[str, str], ...], str | None], _Shape] = {}

    def handle(self, req: Request, t: TableDef, key: KeySpec | None, rest: list[str]) -> Response:
        if key is None:
            if not rest:
                return self._collection(req, t)
            if rest == ["$count"]:
                if req.method != "GET":
                    raise not_allowed(req.method)
                token = req.param("$deltatoken")
                if token is not None:
                    return self.tracker.count(t, token)
                return self.reader.count_only(t, parse_query(self.org, t, req))
            raise DataverseError(404, Code.QUERY, f"Resource not found for the segment '{rest[0]}'.")
        if not rest:
            return self._entity(req, t, key)
        return self._member(req, t, key, rest)

    # -- collections ---------------------------------------------------------------------------

    def _collection(self, req: Request, t: TableDef) -> Response:
        if req.method == "GET":
            spec = parse_query(self.org, t, req)
            token = req.param("$deltatoken")
            if token is not None:
                return self.tracker.delta(req, t, spec, token)
            if TRACK in req.prefer():
                return self.tracker.initial(req, t, spec)
            return self.reader.collection(req, t, spec)
        if req.method == "POST":
            body = read_json(req, t.set_name)
            with self.org.transaction():
                row = self.writer.create(t, body)
            return self._written(req, t, row, row[t.pk], 201)
        raise not_allowed(req.method)

    def _written(self, req: Request, t: TableDef, row: Row, key_text: str, created_status: int) -> Response:
        prefer = req.prefer()
        if prefer.get("return") == "representation":
            shape = self._shape(req, t, prefer)  # a written row is answered without its $expand
            body = {"@odata.context": context_url(req, t, shape.select, "/$entity")}
            body.update(shape.projector.project(row))
            return json_response(
                created_status, body, {"etag": etag(row), "preference-applied": "return=representation"}
            )
        entity_id = f"{service_root(req)}{t.set_name}({key_text})"
        return Response(204, {"odata-entityid": entity_id, "location": entity_id, "odata-version": "4.0"})

    def _shape(self, req: Request, t: TableDef, prefer: dict[str, str]) -> _Shape:
        """The ``$select``, ``$expand`` and annotations of a one-row answer, and its projector
        (without the ``$expand``).

        Cached per table, query and annotation preference when there is no ``$expand``: a batch of
        1 000 PATCHes asks the same ``$select`` 1 000 times. An entry serves only while its table
        is the catalogue's current one (a new column or a reload makes a new TableDef, which
        misses). An ``$expand`` depends on other tables too, so it is parsed each time.
        """
        wanted = prefer.get("odata.include-annotations")
        cache_key = (t.name, tuple(req.query), wanted)
        hit = self._shapes.get(cache_key)
        if hit is not None and hit.table is t:
            return hit
        select, expand = parse_expand_only(self.org, t, req)
        notes = Annotations.parse(wanted)
        shape = _Shape(t, select, expand, notes, Projector(self.org, t, select, notes))
        if not expand:
            if len(self._shapes) >= _SHAPES:
                self._shapes.clear()
            self._shapes[cache_key] = shape
        return shape

    # -- single rows ---------------------------------------------------------------------------

    def _entity(self, req: Request, t: TableDef, key: KeySpec) -> Response:
        if req.method == "GET":
            shape = self._shape(req, t, req.prefer())
            select, expand, notes = shape.select, shape.expand, shape.notes
            row = self.org.require(t, key)
            wanted = _if_header(req, "if-none-match")
            if wanted is not None and wanted == etag(row) and not expand and not notes.any:
                return Response(304, {"etag": etag(row), "odata-version": "4.0"})
            body = {"@odata.context": context_url(req, t, select, "/$entity")}
            projector = Projector(self.org, t, select, notes, expand) if expand else shape.projector
            body.update(projector.project(row))
            return json_response(200, body)
        if req.method == "PATCH":
            return self._upsert(req, t, key)
        if req.method == "DELETE":
            with self.org.transaction():
                row = self.org.require(t, key)
                self._check_if_match(_if_header(req, "if-match"), row)
                self.writer.delete(t, row)
            return Response(204, {"odata-version": "4.0"})
        raise not_allowed(req.method)

    @staticmethod
    def _check_if_match(wanted: str | None, row: Row) -> None:
        """``wanted``: the request's ``If-Match`` (:func:`_if_header`)."""
        if wanted is not None and wanted != "*" and wanted != etag(row):
            raise DataverseError(
                412,
                Code.VERSION_MISMATCH,
                "The version of the existing record doesn't match the RowVersion property provided.",
            )

    def _upsert(self, req: Request, t: TableDef, key: KeySpec) -> Response:
        body = read_json(req, t.set_name)
        if_match, if_none = _if_header(req, "if-match"), _if_header(req, "if-none-match")
        with self.org.transaction():
            row = self.org.find(t, key)
            if row is not None:
                if if_none == "*":
                    raise DataverseError(
                        412, Code.DUPLICATE_RECORD, "A record with matching key values already exists."
                    )
                self._check_if_match(if_match, row)
                drop = set(self.org.key_fields(t, key)) if isinstance(key, dict) else None
                row = self.writer.update(t, row, body, drop)
                status = 200
            else:
                if if_match is not None:
                    if isinstance(key, str):
                        raise not_found_by_id(t.name, key)
                    raise not_found_by_key(t.name)
                row = self.writer.create(t, body, self.org.key_fields(t, key))
                status = 201
        key_text = key if isinstance(key, str) else format_key(key)
        return self._written(req, t, row, key_text, status)

    # -- properties and navigation -------------------------------------------------------------

    def _member(self, req: Request, t: TableDef, key: KeySpec, rest: list[str]) -> Response:
        name, sub_key = parse_segment(rest[0])
        if sub_key is not None or len(rest) > 2 or (len(rest) == 2 and rest[1] != "$ref"):
            raise DataverseError(404, Code.QUERY, f"Resource not found for the segment '{rest[-1]}'.")
        row = self.org.require(t, key)
        if name in t.navs:
            return self._navigation(req, t, row, name, ref=len(rest) == 2)
        if name in t.collections and len(rest) == 1:
            if req.method != "GET":
                raise not_allowed(req.method)
            child_name, lookup = t.collections[name]
            child = self.org.catalog.table(child_name)
            spec = parse_query(self.org, child, req)
            wire, parent = child.columns[lookup].wire, row[t.pk]
            inner = spec.predicate
            spec.predicate = (
                (lambda r: r.get(wire) == parent and inner(r)) if inner else (lambda r: r.get(wire) == parent)
            )
            return self.reader.collection(req, child, spec)
        col = t.columns.get(name)
        if col is None or col.is_lookup or len(rest) == 2:
            raise DataverseError(404, Code.QUERY, f"Resource not found for the segment '{name}'.")
        if req.method == "GET":
            value = row.get(name)
            if value is None:
                return Response(204, {"odata-version": "4.0"})
            ctx = f"{service_root(req)}$metadata#{t.set_name}({row[t.pk]})/{name}"
            return json_response(200, {"@odata.context": ctx, "value": value})
        if req.method in ("PUT", "DELETE"):
            if req.method == "PUT":
                body = read_json(req, t.set_name)
                if not isinstance(body, dict) or "value" not in body:
                    raise bad_request('The body of a single-property PUT must be {"value": ...}.')
                value = body["value"]
            else:
                value = None
            with self.org.transaction():
                self.writer.update(t, row, {name: value})
            return Response(204, {"odata-version": "4.0"})
        raise not_allowed(req.method)

    def _navigation(self, req: Request, t: TableDef, row: Row, nav: str, ref: bool) -> Response:
        col, target_name = t.navs[nav]
        target = self.org.catalog.table(target_name)
        if req.method == "GET" and not ref:
            target_id = row.get(col.wire)
            if len(col.targets) > 1 and row.get(f"~{col.name}") != target_name:
                target_id = None
            related = self.org.get(target_name, target_id)
            if related is None:
                return Response(204, {"odata-version": "4.0"})
            select, expand = parse_expand_only(self.org, target, req)
            notes = Annotations.parse(req.prefer().get("odata.include-annotations"))
            body = {"@odata.context": context_url(req, target, select, "/$entity")}
            body.update(Projector(self.org, target, select, notes, expand).project(related))
            return json_response(200, body)
        if ref and req.method == "DELETE":
            with self.org.transaction():
                self.writer.update(t, row, {f"{nav}@odata.bind": None})
            return Response(204, {"odata-version": "4.0"})
        if ref and req.method == "PUT":
            body = read_json(req, t.set_name)
            if not isinstance(body, dict) or not isinstance(body.get("@odata.id"), str):
                raise bad_request('The body of a $ref PUT must be {"@odata.id": "<entity URL>"}.')
            parse_reference(body["@odata.id"])
            with self.org.transaction():
                self.writer.update(t, row, {f"{nav}@odata.bind": body["@odata.id"]})
            return Response(204, {"odata-version": "4.0"})
        raise not_allowed(req.method)
