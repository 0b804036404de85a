"""Functions and actions: ``WhoAmI`` and the Sales lifecycle messages (DATAVERSE.md §3.7).

``WinQuote``/``CloseQuote`` close an active quote as Won (2/4) or Closed (3/5-7);
``ConvertQuoteToSalesOrder`` creates an order (header and lines copied, linked by ``quoteid`` and
``quotedetailid``) and wins an active quote; ``FulfillSalesOrder``/``CancelSalesOrder`` move an
order to Fulfilled (3/100001) or Canceled (2/4); ``ConvertSalesOrderToInvoice`` creates an
invoice from an order. Each is unbound (``POST /WinQuote``); the sandbox also accepts the bound
spelling ``POST /salesorders/Microsoft.Dynamics.CRM.FulfillSalesOrder``.

Example::

    POST WinQuote {"QuoteClose": {"subject": "Won", "quoteid@odata.bind": "/quotes(<id>)"}, "Status": -1}
    -> 204
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from p2c_sandbox.dataverse.entities import not_allowed, read_json
from p2c_sandbox.dataverse.errors import Code, DataverseError, bad_request
from p2c_sandbox.dataverse.org import APP_USER_ID, BUSINESS_UNIT_ID, ORGANIZATION_ID, Org
from p2c_sandbox.dataverse.project import Annotations, Projector
from p2c_sandbox.dataverse.read import context_url, service_root
from p2c_sandbox.dataverse.schema import TableDef
from p2c_sandbox.dataverse.tables_sales import HEADERS, LINE_PARENT
from p2c_sandbox.dataverse.urls import parse_reference
from p2c_sandbox.dataverse.values import parse_guid
from p2c_sandbox.dataverse.write import Writer
from p2c_sandbox.http import Request, Response, json_response
from p2c_sandbox.store import Row

__all__ = ["Actions"]

# action -> (close entity property, document table, target state, default status, allowed statuses, from states)
_CLOSERS: dict[str, tuple[str, str, int, int, frozenset[int], frozenset[int]]] = {
    "WinQuote": ("QuoteClose", "quote", 2, 4, frozenset({4}), frozenset({1})),
    "CloseQuote": ("QuoteClose", "quote", 3, 5, frozenset({5, 6, 7}), frozenset({0, 1})),
    "FulfillSalesOrder": (
        "OrderClose",
        "salesorder",
        3,
        100001,
        frozenset({100001, 100002}),
        frozenset({0, 1}),
    ),
    "CancelSalesOrder": ("OrderClose", "salesorder", 2, 4, frozenset({4}), frozenset({0, 1})),
}
_CONVERTERS = {
    "ConvertQuoteToSalesOrder": ("QuoteId", "quote", "salesorder"),
    "ConvertSalesOrderToInvoice": ("SalesOrderId", "salesorder", "invoice"),
}
_HEADER_COPY = (
    "name",
    "description",
    "_customerid_value",
    "~customerid",
    "_pricelevelid_value",
    "_transactioncurrencyid_value",
    "paymenttermscode",
    "shippingmethodcode",
    "freighttermscode",
    "discountamount",
    "discountpercentage",
    "freightamount",
    "willcall",
    "requestdeliveryby",
    "_ownerid_value",
)
_LINE_COPY = (
    "_productid_value",
    "_uomid_value",
    "productdescription",
    "quantity",
    "priceperunit",
    "ispriceoverridden",
    "isproductoverridden",
    "manualdiscountamount",
    "tax",
    "description",
    "lineitemnumber",
    "sequencenumber",
    "requestdeliveryby",
    "willcall",
)


class Actions:
    """Unbound functions and actions."""

    def __init__(self, org: Org, writer: Writer) -> None:
        self.org = org
        self.writer = writer

    def knows(self, name: str) -> bool:
        return name in _CLOSERS or name in _CONVERTERS

    def knows_bound(self, name: str) -> bool:
        return self.knows(name)

    def handle_bound(self, req: Request, t: TableDef, name: str) -> Response:
        return self.handle(req, name, [])

    def handle(self, req: Request, name: str, rest: list[str]) -> Response:
        if rest:
            raise DataverseError(404, Code.QUERY, f"Resource not found for the segment '{rest[0]}'.")
        if name == "WhoAmI":
            if req.method != "GET":
                raise not_allowed(req.method)
            return json_response(
                200,
                {
                    "@odata.context": f"{service_root(req)}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                    "BusinessUnitId": BUSINESS_UNIT_ID,
                    "UserId": APP_USER_ID,
                    "OrganizationId": ORGANIZATION_ID,
                },
            )
        if req.method != "POST":
            raise not_allowed(req.method)
        body = read_json(req, name)
        if not isinstance(body, dict):
            raise bad_request(f"The body of {name} must be a JSON object.", Code.PAYLOAD)
        with self.org.transaction():
            if name in _CLOSERS:
                self._close(name, body)
                return Response(204, {"odata-version": "4.0"})
            row, target = self._convert(name, body)
        t = self.org.catalog.table(target)
        out = {"@odata.context": context_url(req, t, None, "/$entity")}
        out.update(Projector(self.org, t, None, Annotations()).project(row))
        return json_response(200, out)

    def _close(self, name: str, body: dict[str, Any]) -> None:
        prop, table, state, default_status, statuses, from_states = _CLOSERS[name]
        close = body.get(prop)
        bind = close.get(f"{table}id@odata.bind") if isinstance(close, dict) else None
        if not isinstance(bind, str):
            raise bad_request(f'{name} needs {prop} with "{table}id@odata.bind": "/{table}s(<id>)".')
        set_name, key = parse_reference(bind)
        t = self.org.catalog.table(table)
        if set_name != t.set_name:
            raise bad_request(f"{prop}.{table}id@odata.bind must name a {table}.")
        row = self.org.require(t, key)
        status = body.get("Status", -1)
        if status == -1:
            status = default_status
        if status not in statuses:
            raise bad_request(f"{status} is not a valid Status for {name}; use one of {sorted(statuses)}.")
        if row.get("statecode") not in from_states:
            label = t.columns["statecode"].options.get(row.get("statecode") or 0)
            raise DataverseError(
                400, Code.INVALID_STATE, f"{name} can't be applied to a {table} in state {label}."
            )
        fields: dict[str, Any] = {"statecode": state, "statuscode": status}
        if table == "quote":
            fields["closedon"] = dt.date.today().isoformat()
        self._set_state(t, row, fields)

    def _set_state(self, t: TableDef, row: Row, fields: dict[str, Any]) -> Row:
        fields = {k: v for k, v in fields.items() if v is not None}
        new = dict(row)
        new.update(fields)
        new["versionnumber"] = self.org.catalog.next_version()
        return self.org.put(t, new, row)

    def _convert(self, name: str, body: dict[str, Any]) -> tuple[Row, str]:
        id_prop, source_table, target_table = _CONVERTERS[name]
        source_id = parse_guid(str(body.get(id_prop, "")))
        if source_id is None:
            raise bad_request(f"{name} needs {id_prop} (the GUID of the {source_table}).")
        st, tt = self.org.catalog.table(source_table), self.org.catalog.table(target_table)
        source = self.org.require(st, source_id)
        if source_table == "quote" and source.get("statecode") not in (1, 2):
            raise DataverseError(
                400, Code.INVALID_STATE, "Only an active or won quote can be converted to an order."
            )
        fields = {k: source[k] for k in _HEADER_COPY if source.get(k) is not None}
        fields[f"_{source_table}id_value"] = source[st.pk]
        header = self.writer.create_fields(tt, fields)
        line_source = next(k for k, v in LINE_PARENT.items() if v[0] == source_table)
        line_target = next(k for k, v in LINE_PARENT.items() if v[0] == target_table)
        lt = self.org.catalog.table(line_target)
        for line in self.org.children(line_source, f"_{source_table}id_value", source[st.pk]):
            copy = {k: line[k] for k in _LINE_COPY if line.get(k) is not None}
            copy[f"_{target_table}id_value"] = header[tt.pk]
            link_col = f"_{line_source}id_value"
            if link_col in lt.by_wire:
                copy[link_col] = line[f"{line_source}id"]
            self.writer.create_fields(lt, copy)
        if source_table == "quote" and source.get("statecode") == 1:
            self._set_state(
                st, self.org.rows("quote").get(source_id) or source, {"statecode": 2, "statuscode": 4}
            )
        assert target_table in HEADERS
        return self.org.rows(target_table).get(header[tt.pk]) or header, target_table
