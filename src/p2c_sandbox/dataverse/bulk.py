"""The bulk messages ``CreateMultiple``, ``UpdateMultiple`` and ``UpsertMultiple`` (DATAVERSE.md §2.10).

Each is bound to an entity set (``POST accounts/Microsoft.Dynamics.CRM.UpsertMultiple``), takes
``{"Targets": [...]}`` where every target carries ``@odata.type``, and runs all-or-nothing in one
transaction: the first failing target's error is the answer and nothing is kept. A table without
these messages (``organization``, or one the ``bulk_messages`` setting withdrew them from:
``sdkmessagefilters`` has no rows for it) answers 400. The line tables (quotedetail,
salesorderdetail, invoicedetail) take them, as Dataverse's table reference lists CreateMultiple,
UpdateMultiple and UpsertMultiple among their messages.

An ``UpsertMultiple`` target names its row by ``@odata.id`` (``accounts(accountnumber='A1')`` or
``accounts(<guid>)``), by its primary key in the body, or by the values of an Active alternate
key in the body; otherwise it is created.

Example::

    POST accounts/Microsoft.Dynamics.CRM.CreateMultiple
    {"Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "A"}]}
    -> 200 {"Ids": ["..."]}
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from p2c_sandbox.dataverse.errors import Code, DataverseError, bad_request
from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.read import service_root
from p2c_sandbox.dataverse.schema import TableDef
from p2c_sandbox.dataverse.urls import KeySpec, parse_reference
from p2c_sandbox.dataverse.write import Writer
from p2c_sandbox.http import Request, Response, json_response

__all__ = ["BulkMessage", "bulk"]


class BulkMessage(StrEnum):
    CREATE = "CreateMultiple"
    UPDATE = "UpdateMultiple"
    UPSERT = "UpsertMultiple"


def _targets(body: Any, t: TableDef) -> list[dict[str, Any]]:
    targets = body.get("Targets") if isinstance(body, dict) else None
    if not isinstance(targets, list):
        raise bad_request(
            'The request body must be {"Targets": [...]} with one entity per target.', Code.PAYLOAD
        )
    for i, target in enumerate(targets):
        if not isinstance(target, dict):
            raise bad_request(f"Target {i} is not an entity object.", Code.PAYLOAD)
        if "@odata.type" not in target:
            raise bad_request(
                f"Target {i}: the '@odata.type' annotation is required on every target "
                f'("@odata.type": "{t.type_name}").',
                Code.PAYLOAD,
            )
    return targets


def bulk(org: Org, writer: Writer, req: Request, t: TableDef, message: str, body: Any) -> Response:
    if message not in BulkMessage.__members__.values():
        raise DataverseError(
            404, Code.QUERY, f"Resource not found for the segment 'Microsoft.Dynamics.CRM.{message}'."
        )
    if req.method != "POST":
        raise DataverseError(
            405, Code.NOT_ALLOWED, f"The requested resource does not support http method '{req.method}'."
        )
    if not org.catalog.bulk(t.name):
        raise DataverseError(
            400,
            Code.UNSUPPORTED_MESSAGE,
            f"The '{message}' method does not support entities of type '{t.name}'. "
            "MessageProcessorCache returned MessageProcessor.Empty.",
        )
    targets = _targets(body, t)
    with org.transaction():
        if message == BulkMessage.CREATE:
            ids = [writer.create(t, target)[t.pk] for target in targets]
            return json_response(
                200,
                {
                    "@odata.context": f"{service_root(req)}$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse",
                    "Ids": ids,
                },
            )
        for target in targets:
            if message == BulkMessage.UPDATE:
                pk = target.get(t.pk)
                if not isinstance(pk, str):
                    raise bad_request(f"Each UpdateMultiple target needs its primary key '{t.pk}'.")
                writer.update(t, org.require(t, pk.lower()), target)
            else:
                _upsert_one(org, writer, t, target)
    return Response(204, {"odata-version": "4.0"})


def _upsert_one(org: Org, writer: Writer, t: TableDef, target: dict[str, Any]) -> None:
    key: KeySpec | None = None
    body = target
    if "@odata.id" in target:
        body = {k: v for k, v in target.items() if k != "@odata.id"}
        set_name, key = parse_reference(str(target["@odata.id"]))
        if set_name != t.set_name:
            raise bad_request(f"The @odata.id '{target['@odata.id']}' does not name a row of '{t.set_name}'.")
    elif isinstance(target.get(t.pk), str):
        key = str(target[t.pk]).lower()
    else:
        key = _key_in_body(org, t, target)
    row = org.find(t, key) if key is not None else None
    if row is not None:
        drop = set(org.key_fields(t, key)) if isinstance(key, dict) else None
        if isinstance(key, str) and t.pk in body:
            body = {k: v for k, v in body.items() if k != t.pk}
        writer.update(t, row, body, drop)
    else:
        writer.create(t, body, org.key_fields(t, key) if key is not None else None)


def _key_in_body(org: Org, t: TableDef, target: dict[str, Any]) -> dict[str, Any] | None:
    """The first Active alternate key whose columns all have values in the body."""
    for check in org.catalog.key_checks(t.name):
        wires = org.catalog.key_wires(check.key)
        if all(target.get(w) is not None for w in wires) and check.value(target) is not None:
            return {w: target[w] for w in wires}
    return None
