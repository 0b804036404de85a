"""Flow 6, Sales invoices (ERP → CRM), header and lines.

Header task (SalesInvoiceHeader):

- Ownership (:func:`p2c.flows.companies.erp_ownership`): a new invoice is owned by its company's
  owning team; ``$linked_account`` is the CRM account linked to its company and customer.

- ``order_owner``: ``$order_owner_user`` / ``$order_owner_team`` = the owner of the invoice's CRM
  sales order (one read of the chunk's orders by order number; :func:`p2c.rules.order_owner` tells
  a user from a team). The template maps them to the invoice's ``ownerid`` before the company's
  owning team: the invoice gets its order's owner (Microsoft's rule); an invoice whose order is not
  in the CRM keeps its company's team. The order's owner does not change.

- ``invoice_marks_order``: after the invoices are written, one read of their orders; each order
  not Invoiced yet becomes Invoiced (statecode 4, statuscode 100003) —
  :func:`p2c.rules.invoice_order_update` says what changes. It is a planned write the engine sends
  and records, so a plan shows it and a run resumed after a crash finds the order already
  Invoiced and writes nothing twice.

Line task (SalesInvoiceLine):

- ``invoice_line_tax``: ``$line_tax`` = the ERP line's ``LineTotalTaxAmount`` (tax on the line's
  charges included); the header's charge tax is not synchronised.
- ``invoice_line_discount``: ``$invoice_line_discount`` = the ERP line's discount with a split
  discount's rounding remainder folded back (9.99 + 0.01 = 10.00).
- ``lines_follow_headers``: a linked line the ERP no longer returns is deleted in the CRM.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from p2c.connectors import OpKind, WriteOp
from p2c.errors import RecordError
from p2c.flows.base import Flow, FlowContext, Prepared, SideWrite, SideWriteKind, Written
from p2c.flows.companies import erp_ownership
from p2c.rules import (
    FlowName,
    RuleName,
    invoice_line_discount,
    invoice_line_tax,
    invoice_order_update,
    order_owner,
)
from p2c.settings import System

__all__ = ["ORDER_OWNER_TEAM", "ORDER_OWNER_USER", "InvoicesFlow"]

#: pseudo-fields of ``order_owner``: the id of the order's owner, in the field of its kind
ORDER_OWNER_USER = "$order_owner_user"
ORDER_OWNER_TEAM = "$order_owner_team"


class InvoicesFlow(Flow):
    name: ClassVar[FlowName] = FlowName.INVOICES

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.deletes_follow = ctx.has(RuleName.LINES_FOLLOW_HEADERS)

    def prepare_chunk(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        out = erp_ownership(self.ctx, rows, "InvoiceCustomerAccountNumber")
        if self.ctx.has(RuleName.ORDER_OWNER):
            self._order_owners(rows)
        tax = self.ctx.has(RuleName.INVOICE_LINE_TAX)
        currencies = self.ctx.cache.currencies if self.ctx.has(RuleName.INVOICE_LINE_DISCOUNT) else None
        for row in rows:
            try:
                if tax:
                    row["$line_tax"] = invoice_line_tax(row)
                if currencies is not None:
                    precision = currencies.precision(row.get("CurrencyCode"))
                    row["$invoice_line_discount"] = invoice_line_discount(row, precision=precision)
            except RecordError as exc:
                out.fail(row, exc)
        return out

    def _order_owners(self, rows: Sequence[dict[str, Any]]) -> None:
        """The owner of each row's CRM order (by ``SalesOrderNumber``), in the pseudo-field of its kind."""
        numbers = sorted({str(r["SalesOrderNumber"]) for r in rows if r.get("SalesOrderNumber")})
        select = ["ordernumber", "_ownerid_value", "_owningteam_value"]
        found = self.ctx.reads.by_values(System.CRM, "salesorders", "ordernumber", numbers, select)
        owners = {str(o.get("ordernumber")).casefold(): order_owner(o) for o in found}
        for row in rows:
            owner = owners.get(str(row.get("SalesOrderNumber") or "").casefold())
            row[ORDER_OWNER_USER] = owner[1] if owner and owner[0] == "systemusers" else None
            row[ORDER_OWNER_TEAM] = owner[1] if owner and owner[0] == "teams" else None

    def side_targets(self) -> set[tuple[System, str]]:
        return {(System.CRM, "salesorders")} if self.ctx.has(RuleName.INVOICE_MARKS_ORDER) else set()

    def after_write(self, written: Sequence[Written]) -> list[SideWrite]:
        """The invoices' orders marked Invoiced: the order each invoice was written for (its
        ``salesorderid``), once however many of its invoices arrive."""
        if not self.ctx.has(RuleName.INVOICE_MARKS_ORDER) or not written:
            return []
        order_of = {w.key: _id(w.payload.get("salesorderid")) for w in written}
        ids = sorted({i for i in order_of.values() if i})
        select = ["salesorderid", "statecode", "statuscode"]
        orders = {
            str(o["salesorderid"]).lower(): o
            for o in self.ctx.reads.by_values(System.CRM, "salesorders", "salesorderid", ids, select)
        }
        writes: list[SideWrite] = []
        done: set[str] = set()
        for w in written:
            order = orders.get(order_of[w.key] or "")
            if order is None or order_of[w.key] in done:  # two invoices of one order: one change
                continue
            done.add(str(order_of[w.key]))
            change = invoice_order_update(order)
            if change:
                op = WriteOp(OpKind.UPDATE, {"salesorderid": order["salesorderid"]}, change, ref=w.key)
                writes.append(_side(SideWriteKind.ORDER_INVOICED, op, w.key, "mark the order Invoiced"))
        return writes


def _id(value: Any) -> str | None:
    """A lookup's id as the payload holds it (lowercase), or None."""
    if isinstance(value, tuple):
        value = value[-1]
    return str(value).lower() if value else None


def _side(kind: SideWriteKind, op: WriteOp, record: str | None, what: str) -> SideWrite:
    return SideWrite(kind, System.CRM, "salesorders", op, what, record=record, blocking=True)
