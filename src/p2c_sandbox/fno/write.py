"""POST, PATCH/PUT and DELETE on entity sets (FNO.md §1.6): body checks, company context, keys, rules.

Answers: POST → 201 with the full entity (``#Set/$entity``, ``Location`` and ``ETag`` headers), or,
asked ``Prefer: return=minimal``, 204 with ``Location``, ``OData-EntityId``, ``ETag`` and
``Preference-Applied`` (OData 4.0 Part 1 §8.2.8.7, as the Web API OData stack F&O serves from
answers a create); PATCH/PUT → 204; DELETE → 204. A POST whose key exists fails with the Infolog
"The record already exists." text (400 here; the ``$batch`` executor reports it as 500 inside a
change set, as F&O does).

Example (in-process)::

    resp = write(data, rules, target, Request("POST", "CustomerGroups", body=b'{"CustomerGroupId": "40"}'))
    assert resp.status == 201
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from p2c_sandbox.fno.amounts import recompute_line
from p2c_sandbox.fno.data import Data
from p2c_sandbox.fno.entities import STRING, EntitySet, label_of
from p2c_sandbox.fno.errors import FnoError, bad_request, write_failed
from p2c_sandbox.fno.read import find_for_request
from p2c_sandbox.fno.routing import Target, format_key
from p2c_sandbox.fno.rules import Rules
from p2c_sandbox.fno.stored import etag
from p2c_sandbox.fno.values import coerce
from p2c_sandbox.http import Request, Response, json_response, loads
from p2c_sandbox.store import Row

__all__ = ["insert_entity", "write"]

_LINE_TABLES = ("SalesLine", "SalesQuotationLine")
_URL_SAFE = "=,()'"
# a character that quote(..., safe=_URL_SAFE) changes: anything but its always-safe ASCII and _URL_SAFE
_URL_UNSAFE = re.compile(r"[^A-Za-z0-9_.~=,()'-]")


def write(data: Data, rules: dict[str, Rules], target: Target, req: Request) -> Response:
    es = target.es
    if target.nav is not None or target.prop is not None or target.count:
        raise FnoError(405, f"The HTTP method '{req.method}' is not supported on this resource.")
    if es.read_only:
        raise FnoError(405, f"The entity set '{es.name}' is read-only: {req.method} is not allowed.")
    if req.method == "POST":
        if target.key is not None:
            raise FnoError(405, "POST is not allowed on an entity; post to the entity set.")
        return _create(data, rules[es.table], es, req)
    if target.key is None:
        raise FnoError(405, f"The HTTP method '{req.method}' is not supported on an entity set.")
    row = find_for_request(data, target, req)
    _check_etag(req, row)
    if req.method == "DELETE":
        return _delete(data, rules[es.table], es, row)
    return _update(data, rules[es.table], es, row, req)


def _body(data: Data, es: EntitySet, req: Request) -> dict[str, Any]:
    """The request body as coerced property values (annotations dropped); 400 for anything wrong."""
    try:
        doc = loads(req.body) if req.body.strip() else None
    except ValueError as exc:
        raise bad_request(f"Invalid JSON. {exc}") from None
    if not isinstance(doc, dict):
        raise bad_request("The request body must be a JSON object describing one entity.")
    fields = data.fields(es)
    values: dict[str, Any] = {}
    for name, value in doc.items():
        prop = fields.get(name)
        if prop is None:
            if name.startswith("@") or "@odata." in name:
                continue
            if es.navigation(name) is not None:
                raise bad_request(f"Deep insert through the navigation property '{name}' is not supported.")
            raise bad_request(
                f"The property '{name}' does not exist on type '{es.qualified_type}'. Make sure to only use "
                "property names that are defined by the type or mark the type as open type."
            )
        limit = prop.max_length
        if prop.kind is STRING and type(value) is str and (limit is None or len(value) <= limit):
            values[name] = value  # what coerce answers for a string that fits, without the call
        else:
            values[name] = coerce(es, prop, value)
    return values


def _company(data: Data, es: EntitySet, values: dict[str, Any]) -> str:
    company = str(values.get("dataAreaId") or data.default_company).lower()
    if data.get("LegalEntities", None, company) is None:
        raise write_failed(es.aot, [f"Company '{company}' does not exist"], level="Error")
    return company


def _create(data: Data, rules: Rules, es: EntitySet, req: Request) -> Response:
    values = _body(data, es, req)
    if es.company:
        values["dataAreaId"] = _company(data, es, values)
    with data.atomic():
        row = insert_entity(data, rules, es, values)
    location = f"{req.service_root}{es.name}({_url_quote(format_key(es, row))})"
    if req.prefer().get("return") == "minimal":
        headers = {"location": location, "odata-entityid": location, "etag": etag(row)}
        return Response(204, {**headers, "preference-applied": "return=minimal", "odata-version": "4.0"})
    body = data.wire(es, row, context=f"{req.service_root}$metadata#{es.name}/$entity")
    return json_response(201, body, {"location": location, "etag": body["@odata.etag"]})


def insert_entity(data: Data, rules: Rules, es: EntitySet, values: dict[str, Any]) -> Row:
    """Create a row of ``es`` from coerced ``values`` as a POST does (defaults, key check, validation).

    Runs inside the caller's transaction; the seed uses it to build demo documents like a user would.
    """
    explicit = set(values)
    if not rules.computed.isdisjoint(explicit):
        for name in rules.computed:
            values.pop(name, None)
    company = values.get("dataAreaId", "")
    rules.defaults(data, es, company, values)
    rules.validate(data, es, company, values, None)
    missing = [k for k in es.keys if values.get(k) in (None, "") and k != "dataAreaId"]
    if missing:
        raise write_failed(es.aot, [f"Field '{label_of(k)}' must be filled in" for k in missing])
    if data.find(es, values, visible=False) is not None:
        key_text = ", ".join(f"{values[k]}" for k in es.keys if k != "dataAreaId")
        raise write_failed(
            es.aot,
            [
                f"Cannot create a record in {es.table_label}. {label_of(es.keys[-1])}: {key_text}. The record already exists."
            ],
            level="Info",
        )
    if es.table in _LINE_TABLES:
        recompute_line(data, es.table, values, explicit)
    for prop, default in es.key_defaults:  # key fields are always stored, even at their default value
        values.setdefault(prop.name, default)
    row = data.insert(es.table, values)
    rules.after_write(data, es, None, row)
    return row


def _update(data: Data, rules: Rules, es: EntitySet, row: Row, req: Request) -> Response:
    changes = _body(data, es, req)
    explicit = set(changes)
    for name in rules.computed:
        changes.pop(name, None)
    for k in es.keys:
        if k in changes:
            same = str(changes[k]).casefold() == str(row.get(k, "")).casefold()
            if not same:
                raise write_failed(
                    es.aot,
                    [
                        f"The key field '{label_of(k)}' cannot be changed (from '{row.get(k)}' to '{changes[k]}')"
                    ],
                )
            del changes[k]
    company = row.get("dataAreaId", "")
    with data.transaction():
        merged = {k: v for k, v in row.items() if not k.startswith("@")}
        merged.update(changes)
        rules.validate(data, es, company, merged, row)
        if es.table in _LINE_TABLES:
            recompute_line(data, es.table, merged, explicit)
        new = data.update(es.table, row, {k: v for k, v in merged.items() if row.get(k, _MISSING) != v})
        rules.after_write(data, es, row, new)
    return Response(204, {"odata-version": "4.0", "etag": etag(new)})


def _delete(data: Data, rules: Rules, es: EntitySet, row: Row) -> Response:
    with data.transaction():
        rules.on_delete(data, es, row)
        data.delete(es.table, row)
        rules.after_write(data, es, row, None)
    return Response(204, {"odata-version": "4.0"})


def _url_quote(text: str) -> str:
    """``quote(text, safe=_URL_SAFE)``; a key of plain characters (most) comes back as it is."""
    return quote(text, safe=_URL_SAFE) if _URL_UNSAFE.search(text) else text


def _check_etag(req: Request, row: Row) -> None:
    wanted = req.header("if-match")
    if wanted is None or wanted.strip() == "*":
        return
    if etag(row) not in [w.strip() for w in wanted.split(",")]:
        raise FnoError(
            412, "The ETag of the record does not match the If-Match header: the record was changed."
        )


_MISSING = object()
