"""Posting a sales invoice: CustInvoiceJour/CustInvoiceTrans rows behind the invoice entities (FNO.md §2.7).

Invoicing posts what was not invoiced yet (or given quantities per LineCreationSequenceNumber),
delivering it first if needed. The invoice gets InvoiceNumber ``CIV-000001``, LedgerVoucher
``ARI000001`` and InvoiceDate today at noon (or the given date); its lines copy the order lines'
LineCreationSequenceNumber, quantities, prices and amounts, with line charges and tax prorated by the
invoiced quantity; header charges and their tax go on the order's first invoice.

Example::

    actions = SalesActions(data)
    actions.invoice("usmf", "000002")   # {"InvoiceNumber": "CIV-000001", "LedgerVoucher": "ARI000001", ...}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from p2c_sandbox.fno.actions import ActionError, Actions, _dec
from p2c_sandbox.fno.amounts import ZERO, charges_of, line_amount, money
from p2c_sandbox.fno.values import date_text, today_noon_text
from p2c_sandbox.store import Row

__all__ = ["SalesActions"]


class SalesActions(Actions):
    """:class:`Actions` plus invoicing."""

    def invoice(
        self, company: str, number: str, quantities: dict[int, Any] | None = None, date: dt.date | None = None
    ) -> dict[str, Any]:
        """Post an invoice; returns its key (InvoiceNumber, InvoiceDate, LedgerVoucher) and total."""
        with self.data.transaction():
            header = self.order(company, number)
            lines = self._open(header)
            co = header["dataAreaId"]
            todo = self._quantities(header, lines, quantities, "_invoiced")
            if not todo:
                raise ActionError(f"Sales order {number} has nothing left to invoice")
            # invoicing posts the delivery of what was not delivered yet
            self._deliver(
                [
                    (ln, max(ZERO, _dec(ln.get("_invoiced", "0")) + q - _dec(ln.get("_delivered", "0"))))
                    for ln, q in todo
                ]
            )
            invoice_no = self.data.next_number(co, "InvoiceNumber", lambda n: f"CIV-{n:06d}")
            voucher = self.data.next_number(co, "LedgerVoucher", lambda n: f"ARI{n:06d}")
            day = date_text(date) if date else today_noon_text()
            key = {
                "dataAreaId": co,
                "InvoiceNumber": invoice_no,
                "InvoiceDate": day,
                "LedgerVoucher": voucher,
            }
            totals = {"amount": ZERO, "discount": ZERO, "charge": ZERO, "tax": ZERO}
            for line, qty in todo:
                line = self.data.table("SalesLine").get(str(line["_recid"])) or line
                self._invoice_line(key, line, qty, totals)
            first = not header.get("_header_invoiced")
            head_charge, head_tax = (
                charges_of(self.data, co, "SalesTable", header["_recid"]) if first else (ZERO, ZERO)
            )
            charge, tax = totals["charge"] + head_charge, totals["tax"] + head_tax
            self.data.insert(
                "CustInvoiceJour",
                {
                    **key,
                    "InvoiceCustomerAccountNumber": header.get("InvoiceCustomerAccountNumber", ""),
                    "SalesOrderNumber": number,
                    "CurrencyCode": header.get("CurrencyCode", ""),
                    "TotalTaxAmount": money(tax),
                    "InvoiceHeaderTaxAmount": money(head_tax),
                    "TotalChargeAmount": money(charge),
                    "TotalDiscountAmount": money(totals["discount"]),
                    "TotalInvoiceAmount": money(totals["amount"] + charge + tax),
                    **{
                        f"InvoiceAddress{p}": header.get(f"InvoiceAddress{p}", "")
                        for p in (
                            "City",
                            "Street",
                            "StreetNumber",
                            "ZipCode",
                            "CountryRegionId",
                            "CountryRegionISOCode",
                        )
                    },
                    "InvoiceAddressState": header.get("InvoiceAddressStateId", ""),
                    "PaymentTermsName": header.get("PaymentTermsName", ""),
                    "DeliveryModeCode": header.get("DeliveryModeCode", ""),
                    "DeliveryTermsCode": header.get("DeliveryTermsCode", ""),
                    "ContactPersonId": header.get("ContactPersonId", ""),
                    "CustomersOrderReference": header.get("CustomersOrderReference", ""),
                    "SalesOrderOriginType": header.get("SalesOrderOriginType", "NotSpecified"),
                    "SalesOrderResponsiblePersonnelNumber": header.get("OrderResponsiblePersonnelNumber", ""),
                },
            )
            header = self.data.update("SalesTable", self.order(co, number), {"_header_invoiced": True})
            self._refresh_status(header)
            return {**key, "TotalInvoiceAmount": float(money(totals["amount"] + charge + tax))}

    def _invoice_line(self, key: dict[str, Any], line: Row, qty: Decimal, totals: dict[str, Decimal]) -> None:
        ordered = line.get("OrderedSalesQuantity", ZERO) or Decimal(1)
        share = qty / ordered
        pct = line.get("LineDiscountPercentage", ZERO) + line.get("MultilineDiscountPercentage", ZERO)
        price = line.get("SalesPrice", ZERO)
        amount = line_amount(qty, price, line.get("LineDiscountAmount", ZERO), pct)
        charge = money(line.get("TotalChargesAmount", ZERO) * share)
        tax = money(line.get("TotalTaxAmount", ZERO) * share)
        discount = money(qty * price - amount)
        product = self.data.get(
            "SellableReleasedProducts", key["dataAreaId"], line.get("ProductNumber", ""), visible=False
        )
        self.data.insert(
            "CustInvoiceTrans",
            {
                **key,
                "LineCreationSequenceNumber": line.get("LineCreationSequenceNumber", 0),
                "InvoicedQuantity": qty,
                "SalesPrice": price,
                "LineAmount": amount,
                "LineTotalDiscountAmount": discount,
                "LineTotalChargeAmount": charge,
                "LineTotalTaxAmount": tax,
                "CurrencyCode": line.get("CurrencyCode", ""),
                "SalesUnitSymbol": line.get("SalesUnitSymbol", ""),
                "ProductNumber": line.get("ProductNumber", ""),
                "ProductName": line.get("ProductName", ""),
                "ProductDescription": (product or {}).get("ProductDescription", ""),
                "ConfirmedShippingDate": line.get("ConfirmedShippingDate") or key["InvoiceDate"],
                "_order_line": line["_recid"],
                "_customer": self._invoice_account(line),
            },
        )
        self.data.update("SalesLine", line, {"_invoiced": str(_dec(line.get("_invoiced", "0")) + qty)})
        totals["amount"] += amount
        totals["discount"] += discount
        totals["charge"] += charge
        totals["tax"] += tax

    def _invoice_account(self, line: Row) -> str:
        header = self.order(line["dataAreaId"], line["SalesOrderNumber"])
        return str(header.get("InvoiceCustomerAccountNumber", ""))
