"""Flow 6, Sales invoices (ERP → CRM), header and lines.

Header task (SalesInvoiceHeader):

- Ownership (:func:`p2c.flows.companies.erp_ownership`): a new invoice is owned by its company's
  owning team; ``$linked_account`` is the CRM account linked to its company and customer.

- ``invoice_marks_order``: after the invoices are written, one read of them (by invoice number)
  and one of their orders; each order gets the invoice's owner first (an Invoiced order can no
  longer be edited, but assignment and state changes always work), then state Invoiced
  (statecode 4, statuscode 100003) — :func:`p2c.rules.invoice_order_update` says what changes.
  Both are planned writes the engine sends and records, so a plan shows them and a run resumed
  after a crash finds the order already Invoiced and writes nothing twice.

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
from p2c.rules import FlowName, RuleName, invoice_line_discount, invoice_line_tax, invoice_order_update
from p2c.settings import System

__all__ = ["InvoicesFlow"]


class InvoicesFlow(Flow):
    name: ClassVar[FlowName] = FlowName.INVOICES

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.deletes_follow = ctx.has(RuleName.LINES_FOLLOW_HEADERS)

    def prepare_chunk(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        out = erp_ownership(self.ctx, rows, "InvoiceCustomerAccountNumber")
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

    def after_write(self, written: Sequence[Written]) -> list[SideWrite]:
        """The invoices' orders: given the invoice's owner, then marked Invoiced. The order is the
        one the invoice was written for (its ``salesorderid``); the owner is the invoice's as the
        CRM has it (an invoice a plan would only create has none yet: its order keeps its owner)."""
        if not self.ctx.has(RuleName.INVOICE_MARKS_ORDER) or not written:
            return []
        reads = self.ctx.reads
        order_of = {w.key: _id(w.payload.get("salesorderid")) for w in written}
        numbers = sorted({str(w.payload.get("invoicenumber")) for w in written})
        select = ["invoicenumber", "_ownerid_value", "_owningteam_value"]
        invoices = {
            str(r["invoicenumber"]): r
            for r in reads.by_values(System.CRM, "invoices", "invoicenumber", numbers, select)
        }
        owners = {n: r.get("_ownerid_value") for n, r in invoices.items()}
        ids = sorted({i for i in order_of.values() if i})
        select = ["salesorderid", "_ownerid_value", "statecode", "statuscode"]
        orders = {
            str(o["salesorderid"]).lower(): o
            for o in reads.by_values(System.CRM, "salesorders", "salesorderid", ids, select)
        }
        owner_writes: list[SideWrite] = []
        state_writes: list[SideWrite] = []
        done: set[str] = set()
        for w in written:
            order = orders.get(order_of[w.key] or "")
            if order is None or order_of[w.key] in done:  # two invoices of one order: one change
                continue
            done.add(str(order_of[w.key]))
            number = str(w.payload.get("invoicenumber"))
            change = invoice_order_update(order, {"_ownerid_value": owners.get(number)})
            key = {"salesorderid": order["salesorderid"]}
            if "ownerid" in change:
                # the owner is a user or a team (a company's owning team): its own entity set
                team = _id((invoices.get(number) or {}).get("_owningteam_value")) == change["ownerid"]
                bind = {
                    "ownerid@odata.bind": f"/{'teams' if team else 'systemusers'}({change.pop('ownerid')})"
                }
                op = WriteOp(OpKind.UPDATE, key, bind, ref=w.key)
                owner_writes.append(
                    _side(SideWriteKind.ORDER_OWNER, op, w.key, "give the order the invoice's owner")
                )
            if change:
                op = WriteOp(OpKind.UPDATE, key, change, ref=w.key)
                state_writes.append(_side(SideWriteKind.ORDER_INVOICED, op, w.key, "mark the order Invoiced"))
        # the owner first: an Invoiced order can still be assigned, but not edited
        return owner_writes + state_writes


def _id(value: Any) -> str | None:
    """A lookup's id as the payload holds it (lowercase), or None."""
    if isinstance(value, tuple):
        value = value[-1]
    return str(value).lower() if value else None


def _side(kind: SideWriteKind, op: WriteOp, record: str | None, what: str) -> SideWrite:
    return SideWrite(kind, System.CRM, "salesorders", op, what, record=record, blocking=True)
