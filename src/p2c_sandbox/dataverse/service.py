"""The emulated Dataverse Web API as a :class:`~p2c_sandbox.service.Service`.

Routes a request below ``/api/data/v9.2/`` to the part that serves it: the service document and
``$metadata`` (:mod:`~p2c_sandbox.dataverse.csdl`), ``$batch`` (the shared
:func:`~p2c_sandbox.odata.execute_batch`), ``EntityDefinitions`` (:mod:`~p2c_sandbox.dataverse.metadata`),
``WhoAmI`` and the Sales actions (:mod:`~p2c_sandbox.dataverse.actions`), the bulk messages
(:mod:`~p2c_sandbox.dataverse.bulk`), and entity sets (:mod:`~p2c_sandbox.dataverse.entities`).
Client errors are :class:`~p2c_sandbox.dataverse.errors.DataverseError` answered in Dataverse's
``{"error": {"code", "message"}}`` shape; a write that fails leaves no trace (each runs in a
store transaction).

Example::

    >>> from p2c_sandbox.config import SandboxConfig
    >>> from p2c_sandbox.http import Request
    >>> svc = DataverseService(SandboxConfig(data_dir=None, seed="empty"), None)
    >>> svc.handle(Request("GET", "WhoAmI", base_url="https://h")).status
    200
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.dataverse.actions import Actions
from p2c_sandbox.dataverse.admin import Admin
from p2c_sandbox.dataverse.bulk import bulk
from p2c_sandbox.dataverse.changes import ChangeTracker
from p2c_sandbox.dataverse.csdl import csdl, service_document
from p2c_sandbox.dataverse.entities import Entities, not_allowed, read_json
from p2c_sandbox.dataverse.errors import Code, DataverseError
from p2c_sandbox.dataverse.metadata import Metadata
from p2c_sandbox.dataverse.org import Org
from p2c_sandbox.dataverse.read import Reader
from p2c_sandbox.dataverse.sales import Sales
from p2c_sandbox.dataverse.seed import seed_demo, seed_empty
from p2c_sandbox.dataverse.seed_large import seed_large
from p2c_sandbox.dataverse.solution import install_solution
from p2c_sandbox.dataverse.storage import decoder
from p2c_sandbox.dataverse.urls import parse_segment, split_path
from p2c_sandbox.dataverse.views import PAGE_PATH, RecordViews
from p2c_sandbox.dataverse.write import Writer
from p2c_sandbox.http import Request, Response, json_response
from p2c_sandbox.odata import BatchDialect, execute_batch
from p2c_sandbox.store import Store

__all__ = ["DataverseService"]

log = logging.getLogger(__name__)
ACTION_PREFIX = "Microsoft.Dynamics.CRM."


class DataverseService:
    """Dynamics 365 Sales (Dataverse Web API v9.2) for the sandbox.

    ``store_path`` ``None`` keeps everything in memory; otherwise data, metadata, keys, the
    version counter and tombstones persist in that SQLite file and are loaded on start.
    """

    name = "crm"
    root_path = "/api/data/v9.2/"

    def __init__(self, config: SandboxConfig, store_path: Path | None) -> None:
        self.config = config
        self.store = Store(store_path, decode=decoder(lambda: self.store.meta))
        fresh = self.store.is_empty
        if not fresh:
            self.store.load()
        self.org = Org(self.store, config.key_activation_seconds)
        self.sales = Sales(self.org)
        self.writer = Writer(self.org, self.sales)
        self.reader = Reader(self.org, config.crm_page_size)
        self.tracker = ChangeTracker(self.org, self.reader)
        self.entities = Entities(self.org, self.writer, self.reader, self.tracker)
        self.metadata = Metadata(self.org)
        self.actions = Actions(self.org, self.writer)
        self.admin_api = Admin(self)
        self.views = RecordViews(self.org)
        if fresh:
            self.seed(config.seed)

    # -- Service protocol ----------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        try:
            with self.store.lock:
                return self._route(req)
        except DataverseError as exc:
            resp = self.error(exc.status, exc.code, exc.message)
            resp.headers.update(exc.headers)
            return resp
        except Exception as exc:  # a sandbox bug must still answer, and say what broke
            log.exception("unexpected error in the Dataverse emulator")
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            return self.error(500, Code.UNEXPECTED, f"An unexpected error occurred in the sandbox: {detail}")

    def admin(self, req: Request) -> Response:
        try:
            with self.store.lock:
                return self.admin_api.handle(req)
        except DataverseError as exc:
            return self.error(exc.status, exc.code, exc.message)

    def page(self, req: Request) -> Response | None:
        """The record page at ``/main.aspx`` (:mod:`~p2c_sandbox.dataverse.views`); None elsewhere."""
        if req.path.lower() != PAGE_PATH:
            return None
        with self.store.lock:
            return self.views.page(req)

    def error(self, status: int, code: str, message: str) -> Response:
        return json_response(status, {"error": {"code": str(code), "message": message}})

    def seed(self, spec: str) -> None:
        """Wipe everything (rows, custom columns, keys, settings) and load ``spec``: a seed, and
        optionally ``+solution`` (``demo+microsoft``: :mod:`~p2c_sandbox.dataverse.solution`)."""
        spec, _, solution = spec.partition("+")
        migrated = spec == "migrated"  # demo, with Microsoft's P2C solution and what it synchronised
        if migrated:
            spec, solution = "demo", solution or "microsoft"
        with self.store.lock:
            self.store.wipe()
            self.org.reset_caches()
            if solution:
                install_solution(self.org, solution)
            active = self.config.products_created_active
            app_id = self.config.credentials.client_id if self.config.credentials else ""
            if spec == "empty":
                seed_empty(self.org, self.writer, active, app_id)
            elif spec == "demo":
                seed_demo(self.org, self.writer, active, app_id)
            elif spec.startswith("large:") and spec[6:].isdigit():
                seed_large(self.org, self.writer, int(spec[6:]), active, app_id)
            elif spec.startswith("accounts:") and spec[9:].isdigit():
                seed_large(self.org, self.writer, int(spec[9:]), active, app_id, accounts_only=True)
            else:
                raise ValueError(f"unknown seed '{spec}': use demo, migrated, empty, large:N or accounts:N")
            if migrated:
                from p2c_sandbox.migrated import migrate_crm

                migrate_crm(self)
            self.store.flush()
            self.org.reset_caches()

    def close(self) -> None:
        self.store.close()

    # -- routing -------------------------------------------------------------------------------

    def _route(self, req: Request) -> Response:
        path = req.path.lstrip("/")
        if path in ("", "$metadata"):
            if req.method != "GET":
                raise not_allowed(req.method)
            return service_document(req, self.org) if path == "" else csdl(self.org)
        if path == "$batch":
            if req.method != "POST":
                raise not_allowed(req.method)
            if req.in_batch:
                raise DataverseError(
                    400, Code.PAYLOAD, "A $batch request can't contain another $batch request."
                )
            with self.store.deferred():
                return execute_batch(
                    req, self.handle, self.org.transaction, BatchDialect.DATAVERSE, error=self.error
                )
        segments = split_path(path)
        name, key = parse_segment(segments[0])
        rest = segments[1:]
        if name == "EntityDefinitions":
            return self.metadata.handle(req, key, rest)
        if name in ("WhoAmI", "WhoAmI()") or self.actions.knows(name):
            return self.actions.handle(req, name.removesuffix("()"), rest)
        t = self.org.catalog.table_by_set(name)
        if key is None and len(rest) == 1 and rest[0].startswith(ACTION_PREFIX):
            message = rest[0][len(ACTION_PREFIX) :]
            if self.actions.knows_bound(message):
                return self.actions.handle_bound(req, t, message)
            body: Any = read_json(req, t.set_name) if req.method == "POST" else None
            return bulk(self.org, self.writer, req, t, message, body)
        return self.entities.handle(req, t, key, rest)
