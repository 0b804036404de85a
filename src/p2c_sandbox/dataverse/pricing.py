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
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from p2c_sandbox.dataverse.values import quantize

__all__ = [
    "LINE_INPUTS",
    "TOTAL_INPUTS",
    "base_twins",
    "header_totals",
    "line_amounts",
    "list_price",
    "reprice_needed",
    "same_totals_inputs",
]

ZERO = Decimal(0)
_FOUR_PLACES = Decimal("0.0001")
#: The line columns its unit price depends on: a change re-prices the line from its price list.
LINE_INPUTS = (
    "_productid_value",
    "_uomid_value",
    "quantity",
    "priceperunit",
    "ispriceoverridden",
    "manualdiscountamount",
    "tax",
    "isproductoverridden",
)
#: The line columns a header's totals are computed from (:func:`header_totals`).
TOTAL_INPUTS = ("baseamount", "manualdiscountamount", "volumediscountamount", "tax")


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


def reprice_needed(line: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether an update of a line sets a :data:`LINE_INPUTS` column to a new value.

    A loop, not ``any()`` over a generator: it runs on every write of a line.
    """
    for name in LINE_INPUTS:  # noqa: SIM110 (no generator per row)
        if name in line and line[name] != old.get(name):
            return True
    return False


def same_totals_inputs(line: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether a line's :data:`TOTAL_INPUTS` are unchanged (its header's totals then are too)."""
    for name in TOTAL_INPUTS:  # noqa: SIM110 (no generator per row)
        if line.get(name) != old.get(name):
            return False
    return True


def base_twins(row: dict[str, Any], money: list[tuple[str, str]], rate: Decimal) -> None:
    """Set each ``(amount, twin)`` of ``money``: the twin is the amount in the base currency
    (divided by the exchange ``rate``) to four places; no amount, no twin."""
    for name, base in money:
        value = row.get(name)
        if value is None:
            row.pop(base, None)
        else:
            row[base] = (Decimal(value) / rate).quantize(_FOUR_PLACES, ROUND_HALF_UP)


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
    for line in lines:  # _d() written out: this runs for every line of a header on every write
        manual, volume = line.get("manualdiscountamount"), line.get("volumediscountamount")
        base, line_tax = line.get("baseamount"), line.get("tax")
        manual = ZERO if manual is None else Decimal(manual)
        discounts = manual + (ZERO if volume is None else Decimal(volume))
        line_total += (ZERO if base is None else Decimal(base)) - discounts
        line_discount += discounts
        tax += ZERO if line_tax is None else Decimal(line_tax)
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
