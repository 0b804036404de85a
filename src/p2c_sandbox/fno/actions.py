"""What an F&O user does to a sales order outside OData: confirm, pick, deliver, invoice, cancel,
"calculate sales totals", misc. charges and tax, and the one-time P2C jobs.

Status moves (FNO.md §3)::

    Active ─confirm→ Confirmed ─pick→ Picked ─deliver→ PartiallyDelivered | Delivered
           ─invoice→ PartiallyInvoiced | DeliveredPartiallyInvoiced | Invoiced        (cancel: Canceled)

Invoicing posts what was not invoiced yet (or given quantities per LineCreationSequenceNumber),
delivering it first if needed, and writes an invoice header (``CustInvoiceJour``) and lines
(``CustInvoiceTrans``) with InvoiceNumber ``CIV-000001``, LedgerVoucher ``ARI000001`` and InvoiceDate
today at noon; header charges and their tax go on the order's first invoice.

Example::

    actions = Actions(data)
    actions.confirm("usmf", "000003")
    actions.calculate_totals("usmf", "000003")
    invoice = actions.invoice("usmf", "000003")   # {"InvoiceNumber": "CIV-000001", ...}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from p2c_sandbox.fno.amounts import CHARGES, ZERO, charges_of, money, recompute_line
from p2c_sandbox.fno.data import Data
from p2c_sandbox.fno.enums import NoYes, SalesOrderProcessingStatus, SalesQuotationStatus, SalesStatus
from p2c_sandbox.fno.errors import FnoError
from p2c_sandbox.fno.values import today_noon_text
from p2c_sandbox.store import Row

__all__ = ["ActionError", "Actions"]

PS = SalesOrderProcessingStatus


class ActionError(FnoError):
    """A business action that cannot run (400, or 404 for a missing order)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(status, message, "Microsoft.Dynamics.Ax.Xpp.ErrorException")


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ActionError(f"'{value}' is not a number") from None


class Actions:
    def __init__(self, data: Data) -> None:
        self.data = data

    # -- lookups -----------------------------------------------------------------------------------

    def order(self, company: str, number: str) -> Row:
        row = self.data.get("CDSSalesOrderHeaders", company.lower(), number)
        if row is None:
            raise ActionError(f"Sales order {number} does not exist in company {company.lower()}", 404)
        return row

    def lines(self, header: Row) -> list[Row]:
        lines = self.data.children(
            "SalesLine", header["dataAreaId"], "SalesOrderNumber", header["SalesOrderNumber"]
        )
        return sorted(lines, key=lambda r: (r.get("LineCreationSequenceNumber", 0), r["_recid"]))

    def _line(self, header: Row, lcsn: int) -> Row:
        for line in self.lines(header):
            if line.get("LineCreationSequenceNumber", 0) == lcsn:
                return line
        raise ActionError(f"Sales order {header['SalesOrderNumber']} has no line {lcsn}", 404)

    def _open(self, header: Row) -> list[Row]:
        if header.get("SalesOrderProcessingStatus") in (PS.INVOICED, PS.CANCELED):
            raise ActionError(
                f"Sales order {header['SalesOrderNumber']} is {header['SalesOrderProcessingStatus']}"
            )
        lines = [ln for ln in self.lines(header) if ln.get("SalesOrderLineStatus") != SalesStatus.CANCELED]
        if not lines:
            raise ActionError(f"Sales order {header['SalesOrderNumber']} has no lines")
        return lines

    def _set_status(
        self, header: Row, status: PS, line_status: dict[int, tuple[str, str]] | None = None
    ) -> Row:
        """Header and lines to ``status``; ``line_status`` overrides (line status, processing) per recid."""
        for line in self.lines(header):
            if line.get("SalesOrderLineStatus") == SalesStatus.CANCELED and status is not PS.CANCELED:
                continue
            changes: dict[str, Any] = {"SalesOrderProcessingStatus": status.value}
            if line_status and line["_recid"] in line_status:
                changes["SalesOrderLineStatus"], changes["SalesOrderProcessingStatus"] = line_status[
                    line["_recid"]
                ]
            self.data.update("SalesLine", line, changes)
        header = self.order(header["dataAreaId"], header["SalesOrderNumber"])
        return self.data.update("SalesTable", header, {"SalesOrderProcessingStatus": status.value})

    # -- life cycle -------------------------------------------------------------------------------

    def confirm(self, company: str, number: str) -> Row:
        with self.data.transaction():
            header = self.order(company, number)
            lines = self._open(header)
            if header.get("SalesOrderProcessingStatus") not in (PS.ACTIVE, PS.CONFIRMED):
                raise ActionError(
                    f"Sales order {number} is {header['SalesOrderProcessingStatus']}: it cannot be confirmed"
                )
            today = today_noon_text()
            for line in lines:
                self.data.update(
                    "SalesLine",
                    line,
                    {
                        "ConfirmedShippingDate": _date_or(line.get("RequestedShippingDate"), today),
                        "ConfirmedReceiptDate": _date_or(line.get("RequestedReceiptDate"), today),
                    },
                )
            header = self.data.update(
                "SalesTable",
                header,
                {
                    "SalesOrderStatus": SalesStatus.BACKORDER.value,
                    "ConfirmedShippingDate": _date_or(header.get("RequestedShippingDate"), today),
                    "ConfirmedReceiptDate": _date_or(header.get("RequestedReceiptDate"), today),
                },
            )
            return self._set_status(header, PS.CONFIRMED)

    def pick(self, company: str, number: str) -> Row:
        with self.data.transaction():
            header = self.order(company, number)
            for line in self._open(header):
                remaining = line.get("OrderedSalesQuantity", ZERO) - _dec(line.get("_delivered", "0"))
                self.data.update("SalesLine", line, {"PickedQuantity": remaining})
            return self._set_status(header, PS.PICKED)

    def deliver(self, company: str, number: str, quantities: dict[int, Any] | None = None) -> Row:
        """Post a packing slip for the given quantities per LineCreationSequenceNumber (default: all open)."""
        with self.data.transaction():
            header = self.order(company, number)
            lines = self._open(header)
            pairs = []
            for line, qty in self._quantities(header, lines, quantities, "_delivered"):
                pairs.append((line, qty))
            self._deliver(pairs)
            return self._refresh_status(self.order(company, number))

    def _quantities(
        self, header: Row, lines: list[Row], quantities: dict[int, Any] | None, done_field: str
    ) -> list[tuple[Row, Decimal]]:
        """(line, quantity) to post: the open rest of every line, or the given quantities per LCSN."""
        if quantities:
            known = {ln.get("LineCreationSequenceNumber", 0) for ln in lines}
            for k in quantities:
                if int(k) not in known:
                    raise ActionError(f"Sales order {header['SalesOrderNumber']} has no line {k}", 404)
            wanted = {int(k): _dec(v) for k, v in quantities.items()}
        out = []
        for line in lines:
            ordered, done = line.get("OrderedSalesQuantity", ZERO), _dec(line.get(done_field, "0"))
            lcsn = line.get("LineCreationSequenceNumber", 0)
            qty = ordered - done if not quantities else wanted.get(lcsn, ZERO)
            if qty < 0 or done + qty > ordered:
                raise ActionError(f"Line {lcsn}: cannot post {qty}, {ordered - done} remain")
            if qty:
                out.append((line, qty))
        return out

    def _deliver(self, pairs: list[tuple[Row, Decimal]]) -> None:
        for line, qty in pairs:
            current = self.data.table("SalesLine").get(str(line["_recid"])) or line
            delivered = _dec(current.get("_delivered", "0"))
            self.data.update(
                "SalesLine", current, {"_delivered": str(delivered + qty), "PickedQuantity": ZERO}
            )

    def _refresh_status(self, header: Row) -> Row:
        """Derive header and line statuses from delivered and invoiced quantities."""
        lines = [ln for ln in self.lines(header) if ln.get("SalesOrderLineStatus") != SalesStatus.CANCELED]
        overrides: dict[int, tuple[str, str]] = {}
        all_delivered = all_invoiced = True
        any_delivered = any_invoiced = False
        for ln in lines:
            ordered = ln.get("OrderedSalesQuantity", ZERO)
            delivered, invoiced = _dec(ln.get("_delivered", "0")), _dec(ln.get("_invoiced", "0"))
            all_delivered &= delivered >= ordered
            all_invoiced &= invoiced >= ordered
            any_delivered |= delivered > 0
            any_invoiced |= invoiced > 0
            if invoiced >= ordered:
                overrides[ln["_recid"]] = (SalesStatus.INVOICED.value, PS.INVOICED.value)
            elif delivered >= ordered:
                overrides[ln["_recid"]] = (SalesStatus.DELIVERED.value, PS.DELIVERED.value)
            elif delivered > 0:
                overrides[ln["_recid"]] = (SalesStatus.BACKORDER.value, PS.PARTIALLY_DELIVERED.value)
        if all_invoiced:
            status, sales_status = PS.INVOICED, SalesStatus.INVOICED
        elif any_invoiced:
            status = PS.DELIVERED_PARTIALLY_INVOICED if all_delivered else PS.PARTIALLY_INVOICED
            sales_status = SalesStatus.DELIVERED if all_delivered else SalesStatus.BACKORDER
        elif all_delivered:
            status, sales_status = PS.DELIVERED, SalesStatus.DELIVERED
        elif any_delivered:
            status, sales_status = PS.PARTIALLY_DELIVERED, SalesStatus.BACKORDER
        else:
            status = PS(header.get("SalesOrderProcessingStatus", "Active"))
            sales_status = SalesStatus(header.get("SalesOrderStatus", "None"))
        header = self.data.update("SalesTable", header, {"SalesOrderStatus": sales_status.value})
        return self._set_status(header, status, overrides)

    def cancel(self, company: str, number: str) -> Row:
        with self.data.transaction():
            header = self.order(company, number)
            if any(_dec(ln.get("_delivered", "0")) for ln in self.lines(header)):
                raise ActionError(f"Sales order {number} has deliveries and cannot be canceled")
            header = self.data.update("SalesTable", header, {"SalesOrderStatus": SalesStatus.CANCELED.value})
            overrides = {
                ln["_recid"]: (SalesStatus.CANCELED.value, PS.CANCELED.value) for ln in self.lines(header)
            }
            return self._set_status(header, PS.CANCELED, overrides)

    # -- charges, tax and totals -------------------------------------------------------------------

    def add_charge(
        self, company: str, number: str, amount: Any, tax: Any = 0, lcsn: int | None = None
    ) -> Row:
        """A misc. charge (with its tax) on the order header, or on one line when ``lcsn`` is given."""
        with self.data.transaction():
            header = self.order(company, number)
            owner_table, owner = (
                ("SalesTable", header) if lcsn is None else ("SalesLine", self._line(header, lcsn))
            )
            self.data.insert(
                CHARGES,
                {
                    "dataAreaId": header["dataAreaId"],
                    "Owner": f"{owner_table}:{owner['_recid']}",
                    "Amount": str(_dec(amount)),
                    "Tax": str(_dec(tax)),
                },
            )
            if lcsn is not None:
                self._recompute(owner)
            return self._untotal(header)

    def set_line_tax(self, company: str, number: str, lcsn: int, amount: Any) -> Row:
        with self.data.transaction():
            header = self.order(company, number)
            line = self.data.update("SalesLine", self._line(header, lcsn), {"_tax": str(_dec(amount))})
            self._recompute(line)
            return self._untotal(header)

    def _recompute(self, line: Row) -> Row:
        values = {k: v for k, v in line.items() if not k.startswith("@")}
        recompute_line(self.data, "SalesLine", values, {"LineAmount"})
        return self.data.update(
            "SalesLine",
            line,
            {"TotalChargesAmount": values["TotalChargesAmount"], "TotalTaxAmount": values["TotalTaxAmount"]},
        )

    def _untotal(self, header: Row) -> Row:
        header = self.order(header["dataAreaId"], header["SalesOrderNumber"])
        return self.data.update("SalesTable", header, {"AreTotalsUpdated": NoYes.NO.value})

    def calculate_totals(self, company: str, number: str) -> Row:
        """ "Calculate sales totals" for one order: header totals from lines and charges; AreTotalsUpdated = Yes."""
        with self.data.transaction():
            header = self.order(company, number)
            lines = [
                ln for ln in self.lines(header) if ln.get("SalesOrderLineStatus") != SalesStatus.CANCELED
            ]
            for line in lines:
                self.data.update(
                    "SalesLine", line, {"AreTotalsCalculated": "Yes", "AreSalesOrderTotalsUpdated": "Yes"}
                )
            lines = self.lines(header)
            head_charge, head_tax = charges_of(
                self.data, header["dataAreaId"], "SalesTable", header["_recid"]
            )
            charges = head_charge + sum((ln.get("TotalChargesAmount", ZERO) for ln in lines), ZERO)
            tax = head_tax + sum((ln.get("TotalTaxAmount", ZERO) for ln in lines), ZERO)
            amount = sum((ln.get("LineAmount", ZERO) for ln in lines), ZERO)
            return self.data.update(
                "SalesTable",
                header,
                {
                    "OrderTotalChargesAmount": money(charges),
                    "OrderHeaderTaxAmount": money(head_tax),
                    "OrderTotalTaxAmount": money(tax),
                    "OrderTotalDiscountAmount": money(
                        sum((ln.get("TotalDiscountAmount", ZERO) for ln in lines), ZERO)
                    ),
                    "OrderTotalAmount": money(amount + charges + tax),
                    "AreTotalsUpdated": NoYes.YES.value,
                },
            )

    def calculate_all_totals(self, company: str | None = None) -> int:
        """The periodic "Calculate sales totals" job: every order whose totals are outdated."""
        count = 0
        for header in list(self.data.table("SalesTable").rows.values()):
            if (company is None or header["dataAreaId"] == company.lower()) and header.get(
                "AreTotalsUpdated"
            ) != "Yes":
                self.calculate_totals(header["dataAreaId"], header["SalesOrderNumber"])
                count += 1
        return count

    def calculate_quotation_totals(self, company: str, number: str) -> Row:
        with self.data.transaction():
            header = self.data.get("CDSSalesQuotationHeaders", company.lower(), number)
            if header is None:
                raise ActionError(f"Quotation {number} does not exist in company {company.lower()}", 404)
            lines = self.data.children(
                "SalesQuotationLine", header["dataAreaId"], "SalesQuotationNumber", number
            )
            for line in lines:
                self.data.update("SalesQuotationLine", line, {"AreTotalsCalculated": "Yes"})
            charges = sum((ln.get("TotalChargesAmount", ZERO) for ln in lines), ZERO)
            tax = sum((ln.get("TotalTaxAmount", ZERO) for ln in lines), ZERO)
            amount = sum((ln.get("LineAmount", ZERO) for ln in lines), ZERO)
            return self.data.update(
                "SalesQuotationTable",
                header,
                {
                    "QuotationTotalChargesAmount": money(charges),
                    "QuotationTotalTaxAmount": money(tax),
                    "QuotationTotalDiscountAmount": money(
                        sum((ln.get("TotalDiscountAmount", ZERO) for ln in lines), ZERO)
                    ),
                    "QuotationTotalAmount": money(amount + charges + tax),
                    "AreTotalsCalculated": "Yes",
                },
            )

    def set_quotation_status(self, company: str, number: str, status: str) -> Row:
        with self.data.transaction():
            header = self.data.get("CDSSalesQuotationHeaders", company.lower(), number)
            if header is None:
                raise ActionError(f"Quotation {number} does not exist in company {company.lower()}", 404)
            value = SalesQuotationStatus(status).value
            for line in self.data.children(
                "SalesQuotationLine", header["dataAreaId"], "SalesQuotationNumber", number
            ):
                self.data.update("SalesQuotationLine", line, {"SalesQuotationStatus": value})
            return self.data.update("SalesQuotationTable", header, {"SalesQuotationStatus": value})


def _date_or(value: Any, fallback: str) -> str:
    return value if isinstance(value, str) and not value.startswith("1900-01-01") else fallback
