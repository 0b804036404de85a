"""The computed amounts of an order or quotation line (money is Decimal, rounded to 2 places)::

    LineAmount          = qty × (SalesPrice − LineDiscountAmount) × (100 − LineDiscount% − MultilineDiscount%) / 100
    TotalDiscountAmount = qty × SalesPrice − LineAmount
    TotalChargesAmount  = FixedPriceCharges + the line's misc. charges (admin endpoint)
    TotalTaxAmount      = the line's tax (admin endpoint) + the tax of its charges

A client may send LineAmount itself (F&O lets users override it); TotalChargesAmount sent by a
client sets FixedPriceCharges so that the sum above holds.

Example::

    >>> line_amount(Decimal(3), Decimal("10.00"), Decimal("3.33"), Decimal(0))
    Decimal('20.01')
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from p2c_sandbox.fno.data import Data

__all__ = ["CENT", "CHARGES", "ZERO", "charges_of", "line_amount", "money", "recompute_line"]

CENT = Decimal("0.01")
ZERO = Decimal(0)
CHARGES = "MarkupTrans"  # internal table: misc. charges and their tax, per header or line
_HUNDRED = Decimal(100)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)  # positional: a keyword costs twice the rounding


def line_amount(qty: Decimal, price: Decimal, discount: Decimal, percent: Decimal) -> Decimal:
    return money(qty * (price - discount) * (_HUNDRED - percent) / _HUNDRED)


def charges_of(data: Data, company: str, owner: str, recid: int) -> tuple[Decimal, Decimal]:
    """Sum of (amount, tax) of the misc. charges attached to a header or line (``owner`` = table name)."""
    amount = tax = ZERO
    for c in data.children(CHARGES, company, "Owner", f"{owner}:{recid}"):
        amount += Decimal(c["Amount"])
        tax += Decimal(c["Tax"])
    return amount, tax


def recompute_line(data: Data, table: str, row: dict[str, Any], explicit: set[str]) -> None:
    """Fill the computed amounts of an order or quotation line in place."""
    qty_field = "OrderedSalesQuantity" if table == "SalesLine" else "RequestedSalesQuantity"
    qty = row.get(qty_field, ZERO)
    price = row.get("SalesPrice", ZERO)
    discount = row.get("LineDiscountAmount", ZERO)
    percent = row.get("LineDiscountPercentage", ZERO) + row.get("MultilineDiscountPercentage", ZERO)
    if "LineAmount" not in explicit:
        row["LineAmount"] = line_amount(qty, price, discount, percent)
    row["TotalDiscountAmount"] = money(qty * price - row["LineAmount"])
    charge, charge_tax = (ZERO, ZERO)
    if "_recid" in row:
        charge, charge_tax = charges_of(data, row["dataAreaId"], table, row["_recid"])
    if "TotalChargesAmount" in explicit and "FixedPriceCharges" not in explicit:
        row["FixedPriceCharges"] = row["TotalChargesAmount"] - charge
    row["TotalChargesAmount"] = row.get("FixedPriceCharges", ZERO) + charge
    tax = Decimal(row["_tax"]) if "_tax" in row else ZERO  # no text to parse for a line without tax
    row["TotalTaxAmount"] = money(tax + charge_tax)
