"""Flow 5b, Sales orders ERP → CRM, header and lines: everything that happens to an ERP order
coming to the CRM, besides the template's mapping (``templates/orders_from_erp.yaml``).

Header task (OrderHeaderFromERP):

- Ownership (:func:`p2c.flows.companies.erp_ownership`): ``$owning_team`` = the order company's
  owning team (the template maps it to ``ownerid``, written on create only), ``$linked_account`` =
  the CRM account linked to the order's company and customer.
- ``map_processing_status``: ``$processing_status`` = the CRM option of the ERP's
  ``SalesOrderProcessingStatus`` (:func:`p2c.rules.processing_status_from_erp`).
- After the headers are written, one read of the written CRM orders (by order number) gives their
  ids and states; the consequences are planned writes the engine sends and records:
  ``keep_order_active`` moves an order that is not Active back to Active (keeping its Active
  status reason), and ``freight_tax_line`` creates, updates or deletes the write-in line
  ``Freight Tax`` (sequence :data:`p2c.rules.FREIGHT_TAX_SEQUENCE`) holding ``OrderHeaderTaxAmount``.
  The header tax is part of the header's content hash (:meth:`consequence`): an order whose only
  change is its header tax is written again, and its Freight Tax line follows.

Line task (OrderLineFromERP):

- ``restore_line_discount``: ``$line_discount`` = quantity × per-unit discount − charge, exactly.
- ``lines_follow_headers``: lines are read whole each run (F&O has no change tracking): a linked
  line the read no longer returns is deleted in the CRM (never the Freight Tax line: it is not a
  line of this task).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from p2c.connectors import OpKind, WriteOp
from p2c.errors import RecordError
from p2c.flows.base import Flow, FlowContext, Prepared, SideWrite, SideWriteKind, Written
from p2c.flows.companies import erp_ownership
from p2c.rules import (
    FREIGHT_TAX_DESCRIPTION,
    FREIGHT_TAX_SEQUENCE,
    FlowName,
    RuleName,
    active_order_state,
    freight_tax_line,
    is_freight_tax_line,
    processing_status_from_erp,
    restore_line_discount,
)
from p2c.settings import System

__all__ = ["OrdersFromErpFlow"]

ACTIVE = 0
STATUS = "p2c_processingstatus"  # p2c's name; the project's crm_schema maps its options
ORDER_SELECT = ["salesorderid", "ordernumber", "statecode", "statuscode", "_transactioncurrencyid_value"]


class OrdersFromErpFlow(Flow):
    name: ClassVar[FlowName] = FlowName.ORDERS_FROM_ERP

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.deletes_follow = ctx.has(RuleName.LINES_FOLLOW_HEADERS)

    def prepare_chunk(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        out = erp_ownership(self.ctx, rows, "OrderingCustomerAccountNumber")
        status = self.ctx.has(RuleName.MAP_PROCESSING_STATUS)
        discount = self.ctx.has(RuleName.RESTORE_LINE_DISCOUNT)
        currencies = self.ctx.cache.currencies if discount else None
        schema = self.ctx.project.crm_schema
        for row in rows:
            try:
                if status:
                    option = processing_status_from_erp(row.get("SalesOrderProcessingStatus") or "").option
                    row["$processing_status"] = schema.option("salesorders", STATUS, option)
                if currencies is not None:
                    row["$line_discount"] = restore_line_discount(
                        Decimal(str(row.get("OrderedSalesQuantity") or 0)),
                        Decimal(str(row.get("LineDiscountAmount") or 0)),
                        Decimal(str(row.get("FixedPriceCharges") or 0)),
                        precision=currencies.precision(row.get("CurrencyCode")),
                    )
            except RecordError as exc:
                out.fail(row, exc)
        return out

    def consequence(self, row: Mapping[str, Any]) -> Any:
        if self.ctx.has(RuleName.FREIGHT_TAX_LINE):
            return {"freight_tax": _money(row.get("OrderHeaderTaxAmount"))}
        return None

    def side_targets(self) -> set[tuple[System, str]]:
        out = set()
        if self.ctx.has(RuleName.KEEP_ORDER_ACTIVE):
            out.add((System.CRM, "salesorders"))
        if self.ctx.has(RuleName.FREIGHT_TAX_LINE):
            out.add((System.CRM, "salesorderdetails"))
        return out

    def after_write(self, written: Sequence[Written]) -> list[SideWrite]:
        if not written or not (
            self.ctx.has(RuleName.KEEP_ORDER_ACTIVE) or self.ctx.has(RuleName.FREIGHT_TAX_LINE)
        ):
            return []
        numbers = sorted({str(w.payload.get("ordernumber")) for w in written})
        orders = {
            str(o["ordernumber"]): o
            for o in self.ctx.reads.by_values(System.CRM, "salesorders", "ordernumber", numbers, ORDER_SELECT)
        }
        out: list[SideWrite] = []
        if self.ctx.has(RuleName.KEEP_ORDER_ACTIVE):
            for w in written:
                order = orders.get(str(w.payload.get("ordernumber")))
                if order is not None and order.get("statecode") != ACTIVE:
                    op = WriteOp(
                        OpKind.UPDATE,
                        {"salesorderid": order["salesorderid"]},
                        active_order_state(order.get("statuscode")),
                        ref=w.key,
                    )
                    out.append(
                        self._side(
                            SideWriteKind.KEEP_ORDER_ACTIVE, "salesorders", op, w, "keep the order Active"
                        )
                    )
        if self.ctx.has(RuleName.FREIGHT_TAX_LINE):
            out.extend(self._freight(written, orders))
        return out

    def _freight(
        self, written: Sequence[Written], orders: Mapping[str, Mapping[str, Any]]
    ) -> list[SideWrite]:
        """The Freight Tax line of each written order: created, changed or removed to hold its header tax."""
        ids = sorted(str(o["salesorderid"]) for o in orders.values())
        # p2c's line has the reserved sequence number; one that Microsoft's P2C solution made (a
        # write-in product named Freight Tax) is taken over as it is, never doubled
        found = self.ctx.reads.by_values(
            System.CRM,
            "salesorderdetails",
            "_salesorderid_value",
            ids,
            [
                "salesorderdetailid",
                "_salesorderid_value",
                "sequencenumber",
                "isproductoverridden",
                "productdescription",
            ],
            filter=(
                f"sequencenumber eq {FREIGHT_TAX_SEQUENCE} or "
                f"(isproductoverridden eq true and productdescription eq '{FREIGHT_TAX_DESCRIPTION}')"
            ),
        )
        existing: dict[str, str] = {}
        for r in sorted(found, key=lambda r: r.get("sequencenumber") == FREIGHT_TAX_SEQUENCE):
            if r.get("sequencenumber") == FREIGHT_TAX_SEQUENCE or is_freight_tax_line(r):
                existing[str(r["_salesorderid_value"]).lower()] = str(r["salesorderdetailid"])
        currencies = self.ctx.cache.currencies
        out: list[SideWrite] = []
        for w in written:
            number = str(w.payload.get("ordernumber"))
            order = orders.get(number)
            if order is None and not w.created:
                continue
            # an order a plan would only create has no id yet: its line is shown bound by the number
            oid = str(order["salesorderid"]) if order else ""
            bind = f"/salesorders({oid})" if order else f"/salesorders(ordernumber='{number}')"
            currency = (
                order.get("_transactioncurrencyid_value") if order else w.payload.get("transactioncurrencyid")
            )
            precision = currencies.precision_of_id(currency)
            line = freight_tax_line(_money(w.row.get("OrderHeaderTaxAmount")), currency_precision=precision)
            current = existing.get(oid.lower())
            if line is None:
                if not current:
                    continue
                op = WriteOp(OpKind.DELETE, {"salesorderdetailid": current}, ref=w.key)
            elif current:
                change = {k: line[k] for k in ("quantity", "priceperunit")}
                op = WriteOp(OpKind.UPDATE, {"salesorderdetailid": current}, change, ref=w.key)
            else:
                op = WriteOp(OpKind.CREATE, {}, {**line, "salesorderid@odata.bind": bind}, ref=w.key)
            out.append(
                self._side(
                    SideWriteKind.FREIGHT_TAX_LINE, "salesorderdetails", op, w, "write the Freight Tax line"
                )
            )
        return out

    @staticmethod
    def _side(kind: SideWriteKind, entity: str, op: WriteOp, w: Written, what: str) -> SideWrite:
        return SideWrite(kind, System.CRM, entity, op, what, record=w.key, blocking=True)


def _money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))
