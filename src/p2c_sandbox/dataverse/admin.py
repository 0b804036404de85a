"""The CRM's admin API under ``/sandbox/`` (no token): inspection and settings for tests and demos.

=============================  ===========================================================
``GET tables``                 ``{table: row count}`` for every table
``GET keys``                   alternate keys with their ``EntityKeyIndexStatus``
``GET settings``               the org settings the sandbox models
``POST settings``              change them: ``{"products_created_active": true}``,
                               ``{"change_tracking": {"account": true}}``,
                               ``{"bulk_messages": {"salesorderdetail": false}}`` (a table
                               without ``*Multiple``, as some are in Dataverse)
``POST reset``                 ``{"seed": "demo" | "empty" | "large:N"}``: wipe and re-seed;
                               ``"demo+microsoft"``: with Microsoft's P2C solution
``POST salesorders/{id}/       the P2C solution's Activate button on an order
activate``                     (:func:`~p2c_sandbox.dataverse.solution.activate_order`)
=============================  ===========================================================

Example::

    POST /sandbox/settings {"products_created_active": true}  -> 200 {...settings...}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from p2c_sandbox.dataverse.errors import Code, DataverseError, bad_request
from p2c_sandbox.dataverse.org import ORGANIZATION_ID
from p2c_sandbox.dataverse.seed import MULTIPLE, sdk_message_filters
from p2c_sandbox.dataverse.solution import activate_order
from p2c_sandbox.http import Request, Response, json_response, loads

if TYPE_CHECKING:
    from p2c_sandbox.dataverse.service import DataverseService

__all__ = ["Admin"]


class Admin:
    def __init__(self, service: DataverseService) -> None:
        self.svc = service

    def handle(self, req: Request) -> Response:
        path = req.path.strip("/")
        org = self.svc.org
        if path == "tables" and req.method == "GET":
            return json_response(200, {name: len(org.rows(name)) for name in org.catalog.tables})
        if path == "keys" and req.method == "GET":
            keys = [
                {
                    "table": k.table,
                    "SchemaName": k.schema_name,
                    "KeyAttributes": k.attributes,
                    "EntityKeyIndexStatus": str(k.status),
                }
                for name in org.catalog.tables
                for k in org.catalog.keys(name)
            ]
            return json_response(200, {"value": keys})
        if path == "settings":
            if req.method == "POST":
                self._settings(self._body(req))
            elif req.method != "GET":
                raise DataverseError(405, Code.NOT_ALLOWED, f"{req.method} is not supported on settings.")
            return json_response(200, self._current())
        if path == "reset" and req.method == "POST":
            body = self._body(req) if req.body else {}
            spec = body.get("seed", self.svc.config.seed) if isinstance(body, dict) else self.svc.config.seed
            try:
                self.svc.seed(str(spec))
            except ValueError as exc:
                raise bad_request(str(exc)) from exc
            return json_response(200, {"seed": spec})
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "salesorders" and parts[2] == "activate" and req.method == "POST":
            return json_response(200, activate_order(org, self.svc.writer, parts[1]))
        raise DataverseError(404, Code.QUERY, f"No admin resource '{path}' on the CRM sandbox.")

    @staticmethod
    def _body(req: Request) -> Any:
        try:
            return loads(req.body or b"{}")
        except ValueError as exc:
            raise bad_request(f"Invalid JSON: {exc}") from exc

    def _current(self) -> dict[str, Any]:
        org = self.svc.org
        return {
            "products_created_active": bool(org.setting("createproductswithoutparentinactivestate")),
            "change_tracking": {name: org.catalog.tracking(name) for name in org.catalog.tables},
            "bulk_messages": {name: org.catalog.bulk(name) for name in org.catalog.tables},
            "version": org.catalog.version,
        }

    def _settings(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise bad_request("The settings body must be a JSON object.")
        org = self.svc.org
        unknown = set(body) - {"products_created_active", "change_tracking", "bulk_messages"}
        if unknown:
            raise bad_request(f"Unknown settings: {', '.join(sorted(unknown))}.")
        with org.transaction():
            if "products_created_active" in body:
                row = dict(org.org_row)
                row["createproductswithoutparentinactivestate"] = bool(body["products_created_active"])
                org.rows("organization").put(ORGANIZATION_ID, row)
            for name, on in dict(body.get("change_tracking") or {}).items():
                if name not in org.catalog.tables:
                    raise bad_request(f"Unknown table '{name}'.")
                org.catalog.set_tracking(name, bool(on))
            for name, on in dict(body.get("bulk_messages") or {}).items():
                t = org.catalog.tables.get(name)
                if t is None:
                    raise bad_request(f"Unknown table '{name}'.")
                if t.read_only or (on and not t.multiple):
                    raise bad_request(f"bulk_messages: table '{name}' cannot take the *Multiple messages.")
                org.catalog.set_bulk(name, bool(on))
                sdk_message_filters(org, name, MULTIPLE, on=bool(on))
