"""The emulated Dynamics 365 Supply Chain Management (F&O) OData service at ``/data/`` (FNO.md).

:class:`FnoService` implements :class:`p2c_sandbox.service.Service`: entity sets of the Prospect to
cash entities and their lookups, companies (``dataAreaId``, ``cross-company=true``), keys and
literals, query options with server paging, writes with F&O's validation and Infolog errors,
``$batch`` change sets, and the business actions an ERP user triggers (confirm, deliver, invoice,
calculate sales totals) as Python methods and as the admin API (:mod:`p2c_sandbox.fno.admin`).

Module map: ``catalog``/``entities``/``enums`` (what exists), ``releases`` (which of it a release
has), ``data``/``stored`` (stored rows, indexes, caches; RecIds, ETags, index keys),
``routing``/``query``/``read`` (GET), ``values``/``write``/``rules``/``sales``/``amounts``
(writes), ``actions`` (business), ``edmx``, ``seed``, ``admin``, ``errors``, ``views`` (the record
pages deep links open).

Example::

    >>> from p2c_sandbox.config import SandboxConfig
    >>> from p2c_sandbox.http import Request
    >>> erp = FnoService(SandboxConfig(data_dir=None), None)
    >>> resp = erp.handle(Request("GET", "CustomerGroups", query=[("$select", "CustomerGroupId")],
    ...                           service_root="https://erp/data/"))
    >>> resp.status
    200
    >>> erp.confirm_order("usmf", "000001")["SalesOrderProcessingStatus"]
    'Confirmed'
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from p2c_sandbox.config import SandboxConfig
from p2c_sandbox.fno.admin import admin
from p2c_sandbox.fno.data import Data
from p2c_sandbox.fno.edmx import metadata_xml, service_document
from p2c_sandbox.fno.entities import ENTITY_SETS
from p2c_sandbox.fno.errors import FnoError, error_response, no_resource
from p2c_sandbox.fno.invoicing import SalesActions
from p2c_sandbox.fno.jobs import Jobs
from p2c_sandbox.fno.read import read
from p2c_sandbox.fno.releases import release
from p2c_sandbox.fno.routing import parse_target
from p2c_sandbox.fno.rules import Rules, party_rules
from p2c_sandbox.fno.sales import sales_rules
from p2c_sandbox.fno.seed import seed
from p2c_sandbox.fno.stored import decode_row, table_kinds
from p2c_sandbox.fno.values import coerce
from p2c_sandbox.fno.views import PAGE_PATH, RecordViews
from p2c_sandbox.fno.write import insert_entity, write
from p2c_sandbox.http import Request, Response, json_response
from p2c_sandbox.odata import BatchDialect, execute_batch
from p2c_sandbox.store import Row, Store

__all__ = ["FnoService"]

MAX_BATCH_OPERATIONS = 5000


class FnoService:
    """The emulated F&O environment: OData at ``/data/``, business actions at ``/sandbox/``."""

    name = "erp"
    root_path = "/data/"

    def __init__(self, config: SandboxConfig, store_path: Path | None) -> None:
        self.config = config
        self.store = Store(store_path, decode=decode_row(table_kinds()))
        empty = self.store.is_empty  # before Data registers its tables and indexes
        self.data = Data(self.store, release(config.erp_release), config.erp_default_company)
        self.rules: dict[str, Rules] = {**party_rules(), **sales_rules()}
        self.actions = SalesActions(self.data)
        self.jobs = Jobs(self.data)
        self.views = RecordViews(self.data)
        if empty:
            self.seed(config.seed)
        else:
            self.store.load()
            self.data.forget_caches()

    # -- Service protocol --------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        try:
            return self._handle(req)
        except FnoError as exc:
            return exc.response()

    def _handle(self, req: Request) -> Response:
        path = req.path.strip("/")
        method = req.method.upper()
        if path == "":
            if method != "GET":
                raise FnoError(405, f"The HTTP method '{method}' is not supported on the service document.")
            return json_response(200, service_document(self.data.release, req.service_root))
        if path == "$metadata":
            body = metadata_xml(self.data.release).encode()
            return Response(200, {"content-type": "application/xml", "odata-version": "4.0"}, body)
        if path == "$batch":
            if method != "POST" or req.in_batch:
                raise no_resource(req.service_root + path)
            with self.data.store.deferred():
                return execute_batch(
                    req,
                    self.handle,
                    self.data.transaction,
                    BatchDialect.FNO,
                    error=self.error,
                    max_operations=MAX_BATCH_OPERATIONS,
                )
        target = parse_target(self.data.sets, path, req.service_root + path)
        if method == "GET":
            return read(self.data, target, req, self.config.erp_page_size)
        if method in ("POST", "PATCH", "PUT", "DELETE"):
            return write(self.data, self.rules, target, req)
        raise FnoError(405, f"The HTTP method '{method}' is not supported.")

    def admin(self, req: Request) -> Response:
        return admin(self, req)

    def page(self, req: Request) -> Response | None:
        """The deep-link record page at ``/?cmp=..&mi=..`` (:mod:`~p2c_sandbox.fno.views`); None elsewhere."""
        return self.views.page(req) if req.path == PAGE_PATH else None

    def error(self, status: int, code: str, message: str) -> Response:
        return error_response(
            status,
            message,
            "Microsoft.Dynamics.Platform.Integration.Services.OData.ODataException"
            if status < 500
            else "System.Exception",
            code,
        )

    def seed(self, spec: str) -> None:
        if spec.partition("+")[0] != "migrated":
            seed(self.data, self.rules, self.actions, self.jobs, spec)
            return
        from p2c_sandbox.migrated import migrate_erp  # the demo, and what Microsoft's templates made of it

        seed(self.data, self.rules, self.actions, self.jobs, "demo")
        migrate_erp(self)
        self.store.flush()
        self.data.forget_caches()

    def close(self) -> None:
        self.store.close()

    # -- business actions (also the admin API) -----------------------------------------------------

    def confirm_order(self, company: str, number: str) -> Row:
        return self.actions.confirm(company, number)

    def pick_order(self, company: str, number: str) -> Row:
        return self.actions.pick(company, number)

    def deliver_order(self, company: str, number: str, lines: dict[int, Any] | None = None) -> Row:
        """``lines`` = quantity per LineCreationSequenceNumber; None delivers everything open."""
        return self.actions.deliver(company, number, lines)

    def invoice_order(
        self, company: str, number: str, lines: dict[int, Any] | None = None, date: dt.date | None = None
    ) -> dict[str, Any]:
        return self.actions.invoice(company, number, lines, date)

    def cancel_order(self, company: str, number: str) -> Row:
        return self.actions.cancel(company, number)

    def calculate_totals(self, company: str, number: str) -> Row:
        return self.actions.calculate_totals(company, number)

    def calculate_all_totals(self, company: str | None = None) -> int:
        return self.actions.calculate_all_totals(company)

    def add_header_charge(self, company: str, number: str, amount: Any, tax: Any = 0) -> Row:
        return self.actions.add_charge(company, number, amount, tax)

    def add_line_charge(self, company: str, number: str, lcsn: int, amount: Any, tax: Any = 0) -> Row:
        return self.actions.add_charge(company, number, amount, tax, lcsn)

    def set_line_tax(self, company: str, number: str, lcsn: int, amount: Any) -> Row:
        return self.actions.set_line_tax(company, number, lcsn, amount)

    def calculate_quotation_totals(self, company: str, number: str) -> Row:
        return self.actions.calculate_quotation_totals(company, number)

    def set_quotation_status(self, company: str, number: str, status: str) -> Row:
        return self.actions.set_quotation_status(company, number, status)

    def populate_prospect_to_cash(self) -> int:
        return self.jobs.populate_prospect_to_cash()

    def clear_line_sequence_numbers(self) -> int:
        return self.jobs.clear_line_sequence_numbers()

    def populate_distinct_products(self, populated: bool = True) -> int:
        return self.jobs.populate_distinct_products(populated)

    def create_product(self, company: str, values: dict[str, Any]) -> Row:
        return self.jobs.create_product(company, values)

    def create_customer(self, values: dict[str, Any]) -> Row:
        """A CustomersV3 row from a JSON-like body, validated like an OData POST."""
        es = ENTITY_SETS["CustomersV3"]
        coerced = {k: coerce(es, es.prop(k), v) for k, v in values.items() if k in es.by_name}
        unknown = [k for k in values if k not in es.by_name]
        if unknown:
            raise ValueError(f"unknown customer properties: {', '.join(unknown)}")
        coerced["dataAreaId"] = str(coerced.get("dataAreaId") or self.data.default_company).lower()
        with self.data.transaction():
            return insert_entity(self.data, self.rules["CustTable"], es, coerced)

    # -- inspection -------------------------------------------------------------------------------

    def table_counts(self) -> dict[str, Any]:
        """Visible rows per entity set and company (shared sets under ``"*"``)."""
        out: dict[str, dict[str, int]] = {}
        for es in self.data.sets.values():
            counts: dict[str, int] = {}
            for row in self.data.rows(es, None):
                company = row.get("dataAreaId", "*") if es.company else "*"
                counts[company] = counts.get(company, 0) + 1
            out[es.name] = counts
        return {"release": self.data.release.name, "default_company": self.data.default_company, "sets": out}

    def wire(self, set_name: str, row: Row) -> dict[str, Any]:
        """A row as the entity set shows it on the wire (for admin answers and tests)."""
        return self.data.wire(ENTITY_SETS[set_name], row)
