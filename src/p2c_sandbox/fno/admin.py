"""The ERP admin API under ``/sandbox/`` (no token): business actions an F&O user would trigger.

=========================================================  ============================================
``GET  tables``                                            row counts per entity set and company
``GET  release``                                           the emulated release and what it lacks
``POST orders/{company}/{number}/confirm``                 Active → Confirmed (SalesOrderStatus Backorder)
``POST orders/{company}/{number}/pick``                    → Picked
``POST orders/{company}/{number}/deliver``                 ``{"lines": {"1": 2}}`` optional → (Partially)Delivered
``POST orders/{company}/{number}/invoice``                 ``{"lines": {...}, "date": "2026-07-30"}`` optional
``POST orders/{company}/{number}/calculate-totals``        totals, AreTotalsUpdated = Yes
``POST orders/{company}/{number}/cancel``                  → Canceled
``POST orders/{company}/{number}/header-charge``           ``{"amount": "15.00", "tax": "1.50"}``
``POST orders/{company}/{number}/lines/{lcsn}/charge``     ``{"amount": "-0.01", "tax": "0"}``
``POST orders/{company}/{number}/lines/{lcsn}/tax``        ``{"amount": "12.34"}`` (the line's own tax)
``POST quotations/{company}/{number}/calculate-totals``
``POST quotations/{company}/{number}/status``              ``{"status": "Sent"}``
``POST calculate-totals``                                  ``{"company": "usmf"}`` optional: the batch job
``POST jobs/populate-prospect-to-cash``                    fill LineCreationSequenceNumber 0 on lines
``POST jobs/clear-line-sequence-numbers``                  the state before that job
``POST jobs/populate-distinct-products``                   (``{"populated": false}`` empties it)
``POST products``                                          ``{"dataAreaId": "usmf", "ProductNumber": ...}``
``POST customers``                                         a CustomersV3 body, as an ERP user creates it
=========================================================  ============================================

Example::

    httpx.post(f"{erp}/sandbox/orders/usmf/000001/confirm").json()["SalesOrderProcessingStatus"]  # 'Confirmed'
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from p2c_sandbox.fno.errors import FnoError
from p2c_sandbox.http import Request, Response, json_response, loads

if TYPE_CHECKING:
    from p2c_sandbox.fno import FnoService

__all__ = ["admin"]


def _error(status: int, message: str) -> Response:
    return json_response(status, {"error": {"code": "", "message": message}})


def admin(svc: FnoService, req: Request) -> Response:
    parts = [p for p in req.path.strip("/").split("/") if p]
    try:
        body: Any = loads(req.body) if req.body.strip() else {}
    except ValueError as exc:
        return _error(400, f"invalid JSON: {exc}")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    try:
        result = _route(svc, req.method, parts, body)
    except FnoError as exc:
        return _error(exc.status, exc.message)
    except (ValueError, KeyError, TypeError) as exc:
        return _error(400, str(exc))
    if result is None:
        return _error(404, f"no admin route {req.method} /sandbox/{req.path}")
    return json_response(200, result)


def _route(svc: FnoService, method: str, parts: list[str], body: dict[str, Any]) -> Any:
    if method == "GET" and parts == ["tables"]:
        return svc.table_counts()
    if method == "GET" and parts == ["release"]:
        rel = svc.data.release
        return {
            "release": rel.name,
            "description": rel.description,
            "missing_sets": sorted(rel.missing_sets),
            "missing_props": {k: sorted(v) for k, v in rel.missing_props.items()},
        }
    if method != "POST":
        return None
    if len(parts) >= 4 and parts[0] == "orders":
        return _order_action(svc, parts[1], parts[2], parts[3:], body)
    if len(parts) == 4 and parts[0] == "quotations":
        if parts[3] == "calculate-totals":
            return svc.wire("CDSSalesQuotationHeaders", svc.calculate_quotation_totals(parts[1], parts[2]))
        if parts[3] == "status":
            return svc.wire(
                "CDSSalesQuotationHeaders", svc.set_quotation_status(parts[1], parts[2], body["status"])
            )
    if parts == ["calculate-totals"]:
        return {"orders": svc.calculate_all_totals(body.get("company"))}
    if len(parts) == 2 and parts[0] == "jobs":
        job = parts[1]
        if job == "populate-prospect-to-cash":
            return {"lines": svc.populate_prospect_to_cash()}
        if job == "clear-line-sequence-numbers":
            return {"lines": svc.clear_line_sequence_numbers()}
        if job == "populate-distinct-products":
            return {"products": svc.populate_distinct_products(bool(body.get("populated", True)))}
    if parts == ["products"]:
        company = str(body.pop("dataAreaId", svc.data.default_company))
        return svc.wire("SellableReleasedProducts", svc.create_product(company, body))
    if parts == ["customers"]:
        return svc.wire("CustomersV3", svc.create_customer(body))
    return None


def _order_action(svc: FnoService, company: str, number: str, rest: list[str], body: dict[str, Any]) -> Any:
    lines = {int(k): v for k, v in body.get("lines", {}).items()} if body.get("lines") else None
    if len(rest) == 1:
        action = rest[0]
        if action == "confirm":
            row = svc.confirm_order(company, number)
        elif action == "pick":
            row = svc.pick_order(company, number)
        elif action == "deliver":
            row = svc.deliver_order(company, number, lines)
        elif action == "invoice":
            date = dt.date.fromisoformat(body["date"]) if body.get("date") else None
            return svc.invoice_order(company, number, lines, date)
        elif action == "calculate-totals":
            row = svc.calculate_totals(company, number)
        elif action == "cancel":
            row = svc.cancel_order(company, number)
        elif action == "header-charge":
            row = svc.add_header_charge(company, number, body["amount"], body.get("tax", "0"))
        else:
            return None
        return svc.wire("CDSSalesOrderHeaders", row)
    if len(rest) == 3 and rest[0] == "lines":
        lcsn = int(rest[1])
        if rest[2] == "charge":
            svc.add_line_charge(company, number, lcsn, body["amount"], body.get("tax", "0"))
        elif rest[2] == "tax":
            svc.set_line_tax(company, number, lcsn, body["amount"])
        else:
            return None
        return svc.wire("CDSSalesOrderHeaders", svc.actions.order(company, number))
    return None
