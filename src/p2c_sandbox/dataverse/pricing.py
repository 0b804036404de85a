"""System pricing (DATAVERSE.md §3.8): line amounts, header totals and price list prices.

Pure functions on :class:`~decimal.Decimal`; every amount is rounded half-up to the currency's
precision (``transactioncurrency.currencyprecision``, 2 for USD).

Example::

    >>> line = line_amounts(Decimal("3.333"), Decimal(3), Decimal("1"), Decimal(0), Decimal("0.5"), 2)
    >>> line["baseamount"], line["extendedamount"]
    (Decimal('10.00'), Decimal('9.50'))
    >>> stored = {**line, "manualdiscountamount": Decimal(1), "tax": Decimal("0.5")}
    >>> totals = header_totals([stored], Decimal(10), Decimal(0), Decimal(5), 2)
    >>> totals["totalamountlessfreight"], totals["totalamount"]
    (Decimal('8.10'), Decimal('13.60'))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from p2c_sandbox.dataverse.values import quantize

__all__ = ["header_totals", "line_amounts", "list_price"]

ZERO = Decimal(0)


def _d(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)


def line_amounts(
    priceperunit: Any, quantity: Any, manual_discount: Any, volume_discount: Any, tax: Any, precision: int
) -> dict[str, Decimal]:
    """``baseamount = priceperunit × quantity``;
    ``extendedamount = baseamount − volume discount − manual discount + tax``."""
    base = quantize(_d(priceperunit) * _d(quantity), precision)
    extended = quantize(base - _d(volume_discount) - _d(manual_discount) + _d(tax), precision)
    return {"baseamount": base, "extendedamount": extended}


def header_totals(
    lines: Iterable[Mapping[str, Any]],
    discount_percentage: Any,
    discount_amount: Any,
    freight_amount: Any,
    precision: int,
) -> dict[str, Decimal]:
    """The header totals from its lines and header discount and freight.

    ``totallineitemamount`` is Σ(baseamount − line discounts), without tax; the header discount
    (percentage of that, then the amount) gives ``totalamountlessfreight``; ``totalamount`` adds
    freight and Σ tax.
    """
    line_total = line_discount = tax = ZERO
    for line in lines:
        discounts = _d(line.get("manualdiscountamount")) + _d(line.get("volumediscountamount"))
        line_total += _d(line.get("baseamount")) - discounts
        line_discount += discounts
        tax += _d(line.get("tax"))
    line_total = quantize(line_total, precision)
    header_discount = quantize(line_total * _d(discount_percentage) / 100, precision) + _d(discount_amount)
    less_freight = quantize(line_total - header_discount, precision)
    return {
        "totallineitemamount": line_total,
        "totallineitemdiscountamount": quantize(line_discount, precision),
        "totaldiscountamount": quantize(header_discount, precision),
        "totalamountlessfreight": less_freight,
        "totaltax": quantize(tax, precision),
        "totalamount": quantize(less_freight + _d(freight_amount) + tax, precision),
    }


def list_price(item: Mapping[str, Any], product: Mapping[str, Any], precision: int) -> Decimal:
    """The unit price a price list item gives (``pricingmethodcode`` 1-6)."""
    method = item.get("pricingmethodcode") or 1
    pct = _d(item.get("percentage")) / 100
    if method == 1:
        price = _d(item.get("amount"))
    elif method == 2:
        price = _d(product.get("price")) * pct
    elif method in (3, 5):
        cost = _d(product.get("currentcost" if method == 3 else "standardcost"))
        price = cost * (1 + pct)
    else:
        cost = _d(product.get("currentcost" if method == 4 else "standardcost"))
        price = cost / (1 - pct) if pct < 1 else cost
    return quantize(price, precision)
