"""Line discounts between the CRM (one amount per line) and the ERP (per unit, plus a charge).

The CRM stores a whole-line discount (``manualdiscountamount``); the ERP a per-unit discount
(``LineDiscountAmount``) and a line charge (``FixedPriceCharges``, the "sales charge" of P2C.md).
CRM → ERP divides the discount by the quantity and rounds it to the currency's precision; the
charge holds the rounding remainder, so the round trip is exact (P2C.md, Sales orders)::

    >>> split_line_discount(Decimal("3"), Decimal("10.00"), 2)
    (Decimal('3.33'), Decimal('-0.01'))
    >>> restore_line_discount(Decimal("3"), Decimal("3.33"), Decimal("-0.01"))
    Decimal('10.00')

Decisions:

- **Rounding**: ``ROUND_HALF_UP`` (half away from zero for the positive amounts allowed here),
  the ERP's "Normal" currency rounding. 10.00 / 3 = 3.333… → 3.33; 10.01 / 3 = 3.3366… → 3.34.
  The quotient is rounded from the exact rational value, never from a truncated decimal.
- **Sign of the charge**: a charge *adds* to the ERP line amount, so
  ``charge = quantity × per_unit − discount`` and ``discount = quantity × per_unit − charge``.
  The ERP line then totals ``quantity × price − quantity × per_unit + charge =
  quantity × price − discount``, the CRM's amount. 3 × 3.33 = 9.99 gives away 0.01 too little,
  so the charge is −0.01 (it lowers the line); 3 × 3.34 = 10.02 gives 0.02 too much, charge +0.02.
- **The charge is exact, not rounded**: with a fractional quantity the remainder may have more
  decimals than the currency (0.3 × 3.33 − 1.00 = −0.001). Rounding it would break the round
  trip; it is bounded by ``|quantity| × ½ × 10^-precision``.
- **Edge cases**: a zero discount splits into zeros whatever the quantity (return lines with
  negative quantities too); a negative discount, or a discount on a line whose quantity is zero
  or negative, is a :class:`~p2c.errors.RecordError`. ``float`` is refused (``TypeError``).
- Restoring refuses a negative result (``manualdiscountamount`` is at least 0) and, given the
  precision, a charge larger than a rounding remainder: that is a real ERP charge, and a CRM line
  has no place for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal, Inexact, InvalidOperation, localcontext
from fractions import Fraction
from typing import Any

from p2c.errors import RecordError

__all__ = ["max_remainder", "restore_line_discount", "split_line_discount"]

ROUNDING = ROUND_HALF_UP
_EXACT_DIGITS = 120  # Decimal precision for the products and differences, far beyond any money value


def _decimal(value: Any, field: str, entity: str, key: str | None) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, float | bool):
        raise TypeError(f"{field} must be a Decimal, int or str, not {type(value).__name__}")
    try:
        out = Decimal(value)
    except (ArithmeticError, ValueError, TypeError):
        raise RecordError(f"{value!r} is not a number", entity=entity, key=key, field=field) from None
    if not out.is_finite():
        raise RecordError(f"{value!r} is not a finite number", entity=entity, key=key, field=field)
    return out


def _quantum(precision: int) -> Decimal:
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 10:
        raise ValueError(f"the currency precision must be an int from 0 to 10, not {precision!r}")
    return Decimal(1).scaleb(-precision)


@contextmanager
def _exact() -> Iterator[None]:
    """Decimal arithmetic that is exact or raises ``decimal.Inexact`` (never silently rounds)."""
    with localcontext() as ctx:
        ctx.prec = _EXACT_DIGITS
        ctx.rounding = ROUNDING
        ctx.traps[Inexact] = True
        yield


def _tidy(value: Decimal, quantum: Decimal) -> Decimal:
    """``value`` at the currency's exponent when that loses nothing (0.01000 → 0.01)."""
    try:
        with _exact():
            return value.quantize(quantum)
    except (Inexact, InvalidOperation):
        return value


def max_remainder(quantity: Decimal, precision: int) -> Decimal:
    """The largest charge a split can leave: ``|quantity| × ½ × 10^-precision``.

    >>> max_remainder(Decimal("3"), 2)
    Decimal('0.015')
    """
    with _exact():
        return abs(Decimal(quantity)) * _quantum(precision) / 2


def split_line_discount(
    quantity: Decimal,
    line_discount: Decimal,
    precision: int,
    *,
    entity: str = "salesorderdetails",
    key: str | None = None,
) -> tuple[Decimal, Decimal]:
    """``(per_unit, charge)`` for the ERP from the CRM's whole-line discount.

    ``per_unit`` is ``line_discount / quantity`` rounded half up to ``precision`` decimals;
    ``charge = quantity × per_unit − line_discount`` exactly (see the module docstring).

    >>> split_line_discount(Decimal("2.5"), Decimal("10.00"), 2)
    (Decimal('4.00'), Decimal('0.00'))
    >>> split_line_discount(Decimal("3"), Decimal("10.01"), 2)
    (Decimal('3.34'), Decimal('0.01'))
    >>> split_line_discount(Decimal("3"), Decimal("10"), 0)
    (Decimal('3'), Decimal('-1'))
    """
    quantum = _quantum(precision)
    qty = _decimal(quantity, "quantity", entity, key)
    discount = _decimal(line_discount, "manualdiscountamount", entity, key)
    if discount < 0:
        raise RecordError(
            f"the line discount {discount} is negative; a discount is at least 0",
            entity=entity,
            key=key,
            field="manualdiscountamount",
        )
    if discount == 0:
        zero = Decimal(0).quantize(quantum)
        return zero, zero
    if qty <= 0:
        raise RecordError(
            f"a line discount of {discount} cannot be spread over a quantity of {qty}",
            entity=entity,
            key=key,
            field="quantity",
        )
    units = math.floor(
        Fraction(discount) / Fraction(qty) / Fraction(quantum) + Fraction(1, 2)
    )  # half up, > 0
    with _exact():
        per_unit = Decimal(units).scaleb(-precision)
        charge = qty * per_unit - discount
    return per_unit, _tidy(charge, quantum)


def restore_line_discount(
    quantity: Decimal,
    per_unit: Decimal,
    charge: Decimal,
    *,
    precision: int | None = None,
    entity: str = "CDSSalesOrderLines",
    key: str | None = None,
) -> Decimal:
    """The CRM's whole-line discount from the ERP's per-unit discount and line charge, exactly.

    ``None`` counts as 0 (an ERP line without a discount). With ``precision``, a charge larger than
    :func:`max_remainder` is refused, and an exact result is given at the currency's exponent.

    >>> restore_line_discount(Decimal("3"), Decimal("3.34"), Decimal("0.02"))
    Decimal('10.00')
    >>> restore_line_discount(Decimal("2.5"), Decimal("4.00"), Decimal("0.000"), precision=2)
    Decimal('10.00')
    """
    qty = _decimal(quantity, "OrderedSalesQuantity", entity, key)
    unit = _decimal(per_unit, "LineDiscountAmount", entity, key)
    extra = _decimal(charge, "FixedPriceCharges", entity, key)
    if precision is not None and abs(extra) > max_remainder(qty, precision):
        raise RecordError(
            f"the line charge {extra} is more than the rounding remainder of a per-unit discount"
            f" (at most {max_remainder(qty, precision)} for quantity {qty}); a CRM line has no place for a charge",
            entity=entity,
            key=key,
            field="FixedPriceCharges",
        )
    with _exact():
        discount = qty * unit - extra
    if discount < 0:
        raise RecordError(
            f"quantity {qty} × per-unit discount {unit} − charge {extra} = {discount}:"
            " a CRM line discount cannot be negative",
            entity=entity,
            key=key,
            field="LineDiscountAmount",
        )
    return _tidy(discount, _quantum(precision)) if precision is not None else discount
