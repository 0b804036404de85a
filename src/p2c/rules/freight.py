"""Header-level tax from the ERP as a CRM write-in line, "Freight Tax" (P2C.md, Sales orders).

The ERP can tax the order header (tax on a freight charge: ``OrderHeaderTaxAmount`` on
CDSSalesOrderHeaders); the CRM has no header tax, only line tax. So the amount becomes a write-in
order line named ``Freight Tax`` — quantity 1, the tax as its overridden price — and the CRM's
totals match the ERP's::

    >>> line = freight_tax_line(Decimal("4.125"), currency_precision=2)
    >>> line["productdescription"], line["quantity"], line["priceperunit"], line["sequencenumber"]
    ('Freight Tax', Decimal('1'), Decimal('4.13'), 1000000000)
    >>> freight_tax_line(Decimal("0.00"), currency_precision=2) is None
    True
    >>> is_freight_tax_line(line), is_freight_tax_line({"productdescription": "Freight Tax"})
    (True, False)

The line has no ERP counterpart, so it takes a reserved sequence number,
:data:`FREIGHT_TAX_SEQUENCE` (the top of the CRM's ``sequencenumber`` range, far above any
LineCreationSequenceNumber the ERP hands out). Put it among the *source* lines under that number
before :func:`p2c.rules.lines.diff_lines`: a changed header tax then changes the line, a tax that
drops to zero removes it, and nothing else ever touches it. The amount is rounded half up to the
currency's precision (``priceperunit`` is money); a tax that rounds to zero gives no line.
Negative tax (a credit) is kept as a negative price.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["FREIGHT_TAX_DESCRIPTION", "FREIGHT_TAX_SEQUENCE", "freight_tax_line", "is_freight_tax_line"]

FREIGHT_TAX_DESCRIPTION = "Freight Tax"
FREIGHT_TAX_SEQUENCE = 1_000_000_000
"""The reserved ``sequencenumber`` of the Freight Tax line (catalog.yaml: sequencenumber max)."""


def freight_tax_line(
    header_tax: Decimal | int | str | None,
    *,
    sequence: int = FREIGHT_TAX_SEQUENCE,
    currency_precision: int,
) -> dict[str, Any] | None:
    """The CRM salesorderdetail payload for ``header_tax``, or None when there is no tax."""
    if header_tax is None:
        return None
    if isinstance(header_tax, float | bool):
        raise TypeError(f"header_tax must be a Decimal, int or str, not {type(header_tax).__name__}")
    if isinstance(currency_precision, bool) or not isinstance(currency_precision, int):
        raise ValueError(f"the currency precision must be an int, not {currency_precision!r}")
    if not 0 <= currency_precision <= 10:
        raise ValueError(f"the currency precision must be from 0 to 10, not {currency_precision}")
    tax = Decimal(header_tax).quantize(Decimal(1).scaleb(-currency_precision), rounding=ROUND_HALF_UP)
    if tax == 0:
        return None
    return {
        "sequencenumber": sequence,
        "isproductoverridden": True,
        "productdescription": FREIGHT_TAX_DESCRIPTION,
        "quantity": Decimal(1),
        "priceperunit": tax,
        "ispriceoverridden": True,
    }


def is_freight_tax_line(line: Mapping[str, Any]) -> bool:
    """Whether a CRM order line is the sync's Freight Tax write-in line (case and spaces ignored)."""
    description = str(line.get("productdescription") or "").strip().casefold()
    return bool(line.get("isproductoverridden")) and description == FREIGHT_TAX_DESCRIPTION.casefold()
