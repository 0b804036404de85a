"""The engine's side of ERP → CRM orders: ``map_processing_status``, ``keep_order_active``,
``freight_tax_line``, ``restore_line_discount`` and ``lines_follow_headers`` on ERP line sources.

- ``map_processing_status``: ``$processing_status`` = the CRM option of the ERP's
  ``SalesOrderProcessingStatus`` (:func:`p2c.rules.processing_status_from_erp`).
- After the headers are written, one read of the written CRM orders (by order number) gives their
  ids and states: ``keep_order_active`` moves an order that is not Active back to Active (keeping
  its Active status reason), and ``freight_tax_line`` creates, updates or deletes the write-in line
  ``Freight Tax`` (sequence :data:`p2c.rules.FREIGHT_TAX_SEQUENCE`) holding ``OrderHeaderTaxAmount``.
- ``restore_line_discount``: ``$line_discount`` = quantity × per-unit discount − charge, exactly.
- Lines from an ERP source are read whole each run (F&O has no change tracking): a linked line
  that the read no longer returns is deleted in the CRM (never the Freight Tax line: it is not a
  line of this task).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from decimal import Decimal
from typing import Any

from p2c.connectors.base import Connector, OpKind, WriteOp
from p2c.engine.related import in_filter
from p2c.errors import P2CError, RecordError
from p2c.rules import (
    FREIGHT_TAX_SEQUENCE,
    active_order_state,
    freight_tax_line,
    processing_status_from_erp,
    restore_line_discount,
)

__all__ = ["OrderRules", "currency_precisions", "precision_of"]

ACTIVE = 0


def currency_precisions(crm: Connector, shared: MutableMapping[str, Any]) -> dict[str, tuple[str, int]]:
    """ISO code → (currency id, precision), and id → the same; read once per run."""
    found = shared.get("currencies")
    if found is None:
        found = {}
        select = ["transactioncurrencyid", "isocurrencycode", "currencyprecision"]
        for page in crm.read("transactioncurrencies", select=select):
            for r in page:
                entry = (str(r["transactioncurrencyid"]), int(r.get("currencyprecision") or 2))
                found[str(r.get("isocurrencycode") or "").upper()] = entry
                found[entry[0].lower()] = entry
        shared["currencies"] = found
    return dict(found)


def precision_of(currencies: Mapping[str, tuple[str, int]], code: Any) -> int | None:
    """The precision of the ISO currency ``code`` (from :func:`currency_precisions`), or None when
    the CRM does not know the currency."""
    found = currencies.get(str(code or "").upper())
    return found[1] if found else None


class OrderRules:
    def __init__(self, crm: Connector, names: set[str], shared: MutableMapping[str, Any]) -> None:
        self.crm = crm
        self.names = names
        self.shared = shared

    def prepare(self, rows: Sequence[dict[str, Any]]) -> dict[int, P2CError]:
        errors: dict[int, P2CError] = {}
        currencies = (
            currency_precisions(self.crm, self.shared) if "restore_line_discount" in self.names else {}
        )
        for row in rows:
            try:
                if "map_processing_status" in self.names:
                    status = processing_status_from_erp(row.get("SalesOrderProcessingStatus") or "")
                    row["$processing_status"] = status.option
                if "restore_line_discount" in self.names:
                    precision = precision_of(currencies, row.get("CurrencyCode"))
                    row["$line_discount"] = restore_line_discount(
                        Decimal(str(row.get("OrderedSalesQuantity") or 0)),
                        Decimal(str(row.get("LineDiscountAmount") or 0)),
                        Decimal(str(row.get("FixedPriceCharges") or 0)),
                        precision=precision,
                    )
            except RecordError as exc:
                errors[id(row)] = exc
        return errors

    def after_headers(
        self, written: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]]
    ) -> dict[str, P2CError]:
        """``written``: (source key, source row, payload) of the orders just written."""
        if not written or not self.names & {"keep_order_active", "freight_tax_line"}:
            return {}
        numbers = sorted({str(p.get("ordernumber")) for _k, _r, p in written})
        orders: dict[str, dict[str, Any]] = {}
        for i in range(0, len(numbers), 200):
            flt = in_filter("ordernumber", numbers[i : i + 200])
            select = [
                "salesorderid",
                "ordernumber",
                "statecode",
                "statuscode",
                "_transactioncurrencyid_value",
            ]
            for page in self.crm.read("salesorders", select=select, filter=flt):
                orders |= {str(o["ordernumber"]): o for o in page}
        errors: dict[str, P2CError] = {}
        if "keep_order_active" in self.names:
            ops = [
                WriteOp(
                    OpKind.UPDATE,
                    {"salesorderid": o["salesorderid"]},
                    active_order_state(o.get("statuscode")),
                    ref=n,
                )
                for n, o in orders.items()
                if o.get("statecode") != ACTIVE
            ]
            self._write("salesorders", ops, errors, written, "could not keep the order Active")
        if "freight_tax_line" in self.names:
            self._freight(written, orders, errors)
        return errors

    def _freight(
        self,
        written: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]],
        orders: Mapping[str, Mapping[str, Any]],
        errors: dict[str, P2CError],
    ) -> None:
        ids = sorted(str(o["salesorderid"]) for o in orders.values())
        existing: dict[str, str] = {}
        for i in range(0, len(ids), 200):
            flt = f"({in_filter('_salesorderid_value', ids[i : i + 200])}) and sequencenumber eq {FREIGHT_TAX_SEQUENCE}"
            select = ["salesorderdetailid", "_salesorderid_value", "priceperunit"]
            for page in self.crm.read("salesorderdetails", select=select, filter=flt):
                existing |= {
                    str(r["_salesorderid_value"]).lower(): str(r["salesorderdetailid"]) for r in page
                }
        currencies = currency_precisions(self.crm, self.shared)
        ops: list[WriteOp] = []
        for _key, row, payload in written:
            order = orders.get(str(payload.get("ordernumber")))
            if order is None:
                continue
            oid = str(order["salesorderid"])
            precision = currencies.get(str(order.get("_transactioncurrencyid_value") or "").lower(), ("", 2))[
                1
            ]
            line = freight_tax_line(_money(row.get("OrderHeaderTaxAmount")), currency_precision=precision)
            current = existing.get(oid.lower())
            number = str(payload.get("ordernumber"))
            if line is None:
                if current:
                    ops.append(WriteOp(OpKind.DELETE, {"salesorderdetailid": current}, ref=number))
            elif current:
                change = {k: line[k] for k in ("quantity", "priceperunit")}
                ops.append(WriteOp(OpKind.UPDATE, {"salesorderdetailid": current}, change, ref=number))
            else:
                body = {**line, "salesorderid@odata.bind": f"/salesorders({oid})"}
                ops.append(WriteOp(OpKind.CREATE, {}, body, ref=number))
        self._write("salesorderdetails", ops, errors, written, "could not write the Freight Tax line")

    def _write(
        self,
        entity: str,
        ops: list[WriteOp],
        errors: dict[str, P2CError],
        written: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]],
        what: str,
    ) -> None:
        if not ops:
            return
        by_number = {str(p.get("ordernumber")): k for k, _r, p in written}
        for op, res in zip(ops, self.crm.write(entity, ops), strict=True):
            if not res.ok and res.error is not None:
                key = by_number.get(op.ref, op.ref)
                errors[key] = RecordError(f"{what}: {res.error.reason}", entity=entity, key=key)


def _money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))
