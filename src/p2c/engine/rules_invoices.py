"""The engine's side of the invoice rules: ``invoice_marks_order``, ``invoice_line_tax`` and
``invoice_line_discount``.

- ``invoice_line_tax``: ``$line_tax`` = the ERP line's ``LineTotalTaxAmount`` (tax on the line's
  charges included); the header's charge tax is not synchronised.
- ``invoice_marks_order``: after the invoices are written, one read of them (by invoice number)
  and one of their orders; each order gets the invoice's owner first (an Invoiced order can no
  longer be edited, but assignment and state changes always work), then state Invoiced
  (statecode 4, statuscode 100003) — :func:`p2c.rules.invoice_order_update` says what changes.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from p2c.connectors.base import Connector, OpKind, WriteOp
from p2c.engine.related import in_filter
from p2c.engine.rules_orders import currency_precisions, precision_of
from p2c.errors import P2CError, RecordError
from p2c.rules import invoice_line_discount, invoice_line_tax, invoice_order_update

__all__ = ["InvoiceRules"]


class InvoiceRules:
    def __init__(self, crm: Connector, names: set[str], shared: MutableMapping[str, Any]) -> None:
        self.crm = crm
        self.names = names
        self.shared = shared

    def prepare(self, rows: Sequence[dict[str, Any]]) -> dict[int, P2CError]:
        errors: dict[int, P2CError] = {}
        currencies = (
            currency_precisions(self.crm, self.shared) if "invoice_line_discount" in self.names else {}
        )
        for row in rows:
            try:
                if "invoice_line_tax" in self.names:
                    row["$line_tax"] = invoice_line_tax(row)
                if "invoice_line_discount" in self.names:
                    precision = precision_of(currencies, row.get("CurrencyCode"))
                    row["$invoice_line_discount"] = invoice_line_discount(row, precision=precision)
            except RecordError as exc:
                errors[id(row)] = exc
        return errors

    def after_headers(self, written: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, P2CError]:
        """``written``: (source key, payload) of the invoices just written; errors by source key."""
        if "invoice_marks_order" not in self.names or not written:
            return {}
        by_number = {str(p.get("invoicenumber")): k for k, p in written}
        invoices: list[dict[str, Any]] = []
        numbers = sorted(by_number)
        for i in range(0, len(numbers), 200):
            select = ["invoicenumber", "_ownerid_value", "_salesorderid_value"]
            for page in self.crm.read(
                "invoices", select=select, filter=in_filter("invoicenumber", numbers[i : i + 200])
            ):
                invoices.extend(r for r in page if r.get("_salesorderid_value"))
        ids = sorted({str(r["_salesorderid_value"]) for r in invoices})
        orders: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 200):
            select = ["salesorderid", "_ownerid_value", "statecode", "statuscode"]
            for page in self.crm.read(
                "salesorders", select=select, filter=in_filter("salesorderid", ids[i : i + 200])
            ):
                orders |= {str(o["salesorderid"]).lower(): o for o in page}
        owner_ops: list[WriteOp] = []
        state_ops: list[WriteOp] = []
        for invoice in invoices:
            order = orders.get(str(invoice["_salesorderid_value"]).lower())
            if order is None:
                continue
            change = invoice_order_update(order, invoice)
            ref = by_number.get(str(invoice["invoicenumber"]))
            key = {"salesorderid": order["salesorderid"]}
            if "ownerid" in change:
                bind = {"ownerid@odata.bind": f"/systemusers({change.pop('ownerid')})"}
                owner_ops.append(WriteOp(OpKind.UPDATE, key, bind, ref=ref))
            if change:
                state_ops.append(WriteOp(OpKind.UPDATE, key, change, ref=ref))
        errors: dict[str, P2CError] = {}
        for what, ops in (
            ("give the order the invoice's owner", owner_ops),
            ("mark the order Invoiced", state_ops),
        ):
            if not ops:
                continue
            for op, res in zip(ops, self.crm.write("salesorders", ops), strict=True):
                if not res.ok and res.error is not None and op.ref is not None:
                    errors.setdefault(
                        op.ref,
                        RecordError(
                            f"written, but could not {what}: {res.error.reason}",
                            entity="salesorders",
                            key=op.ref,
                        ),
                    )
        return errors
