"""Invoices from the ERP: what they do to their CRM order, and which tax travels (P2C.md, invoices).

When an invoice arrives, its sales order in the CRM becomes Invoiced (statecode 4, statuscode
100003, see :mod:`p2c.rules.status`). :func:`invoice_order_update` gives the order's PATCH,
holding only what is not so already (an empty dict: nothing to write, so a rerun writes
nothing)::

    >>> order = {"salesorderid": "o1", "statecode": 0, "statuscode": 1, "_ownerid_value": "u-sales"}
    >>> invoice_order_update(order)
    {'statecode': 4, 'statuscode': 100003}
    >>> invoice_order_update({**order, "statecode": 4, "statuscode": 100003})
    {}

The invoice is given the owner of its sales order (Microsoft: "the owner of the sales order is
assigned as the owner of the invoice"); the order's owner does not change. An owner is a user or a
team, each bound through its own entity set: :func:`order_owner` tells which, from the
``lookuplogicalname`` annotation of ``_ownerid_value`` when the read has it, else from
``_owningteam_value`` (Dataverse fills it exactly when a team owns the record)::

    >>> order_owner({**order, "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "team"})
    ('teams', 'u-sales')
    >>> order_owner({"_ownerid_value": "T1", "_owningteam_value": "t1"})
    ('teams', 't1')
    >>> order_owner(order)
    ('systemusers', 'u-sales')

Tax (FNO.md §2.7; S4 "tax on header charges is not synchronised; tax on line charges is"):

- A line's ``LineTotalTaxAmount`` is all of the line's tax, the tax on its line charges included:
  it is the CRM invoice line's ``tax`` as it is (:func:`invoice_line_tax`).
- The header's ``TotalTaxAmount`` is the whole invoice's tax; ``InvoiceHeaderTaxAmount`` the part
  on header charges [inf from the field names and OrderHeaderTaxAmount's role on orders]. That
  part is not synchronised (no Freight Tax line on invoices), so the CRM invoice's ``totaltax``
  (the sum of its line taxes) should equal ``TotalTaxAmount − InvoiceHeaderTaxAmount``
  (:func:`invoice_header_tax_excluding_charges`), which reconciliation can check::

    >>> header = {"TotalTaxAmount": "12.50", "InvoiceHeaderTaxAmount": "2.50"}
    >>> invoice_header_tax_excluding_charges(header)
    Decimal('10.00')
    >>> invoice_line_tax({"LineTotalTaxAmount": Decimal("10.00"), "LineTotalChargeAmount": Decimal("5")})
    Decimal('10.00')
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from p2c.errors import RecordError
from p2c.rules.discounts import max_remainder
from p2c.rules.status import ORDER_STATECODE_INVOICED, ORDER_STATUSCODE_INVOICED, invoiced_order_state

__all__ = [
    "invoice_header_tax_excluding_charges",
    "invoice_line_discount",
    "invoice_line_tax",
    "invoice_order_update",
    "order_owner",
]

#: the annotation that names a lookup's target table (``systemuser`` or ``team`` for owners)
LOOKUP_TYPE = "@Microsoft.Dynamics.CRM.lookuplogicalname"
OWNER_SETS = {"systemuser": "systemusers", "team": "teams"}


def _id(value: Any) -> str | None:
    text = str(value).strip().lower() if value is not None else ""
    return text or None


def invoice_order_update(order: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH for ``order`` (a CRM salesorder row, its ``statecode``/``statuscode``) now that
    an invoice of it exists: state Invoiced, unless it is so already. Its owner is left alone."""
    if (order.get("statecode"), order.get("statuscode")) == (
        ORDER_STATECODE_INVOICED,
        ORDER_STATUSCODE_INVOICED,
    ):
        return {}
    return invoiced_order_state()


def order_owner(order: Mapping[str, Any]) -> tuple[str, str] | None:
    """The owner of a CRM order row as (entity set, id): ``systemusers`` or ``teams``; None when
    the row has no owner. The id is lowercase, as lookups give them."""
    owner = _id(order.get("_ownerid_value"))
    if owner is None:
        return None
    kind = str(order.get(f"_ownerid_value{LOOKUP_TYPE}") or "").lower()
    if kind in OWNER_SETS:
        return OWNER_SETS[kind], owner
    team = _id(order.get("_owningteam_value"))
    return ("teams", team) if team is not None and team == owner else ("systemusers", owner)


def _amount(row: Mapping[str, Any], field: str, entity: str) -> Decimal:
    value = row.get(field)
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float | bool):
        raise TypeError(f"{field} must be a Decimal, int or str, not {type(value).__name__}")
    try:
        out = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        out = Decimal("NaN")
    if not out.is_finite():
        raise RecordError(f"{value!r} is not an amount", entity=entity, field=field)
    return out


def invoice_line_discount(line: Mapping[str, Any], *, precision: int | None) -> Decimal:
    """The CRM invoice line's ``manualdiscountamount``: the ERP line's discount with the rounding
    remainder of a split discount folded back, so the CRM line totals what the ERP line does.

    An order line's CRM discount of 10.00 over quantity 3 went to the ERP as 3.33 per unit and a
    −0.01 line charge; the ERP invoice line shows LineTotalDiscountAmount 9.99 and
    LineTotalChargeAmount −0.01, and the CRM invoice line gets 10.00 back. A charge larger than a
    rounding remainder (:func:`p2c.rules.discounts.max_remainder`) is a real ERP charge, which a CRM
    line has no column for: the discount is then the ERP's as it is.

    >>> line = {"InvoicedQuantity": "3", "LineTotalDiscountAmount": "9.99", "LineTotalChargeAmount": "-0.01"}
    >>> invoice_line_discount(line, precision=2)
    Decimal('10.00')
    >>> invoice_line_discount({**line, "LineTotalChargeAmount": "5.00"}, precision=2)
    Decimal('9.99')
    """
    entity = "ExternallyMaintainedCustomerSalesInvoiceLines"
    discount = _amount(line, "LineTotalDiscountAmount", entity)
    charge = _amount(line, "LineTotalChargeAmount", entity)
    quantity = _amount(line, "InvoicedQuantity", entity)
    if not charge or not discount or precision is None:
        return discount
    if abs(charge) <= max_remainder(quantity, precision) and discount - charge >= 0:
        return discount - charge
    return discount


def invoice_line_tax(line: Mapping[str, Any]) -> Decimal:
    """The CRM invoice line's ``tax``: the ERP line's LineTotalTaxAmount, line charge tax included."""
    return _amount(line, "LineTotalTaxAmount", "ExternallyMaintainedCustomerSalesInvoiceLines")


def invoice_header_tax_excluding_charges(header: Mapping[str, Any]) -> Decimal:
    """The invoice's tax without the tax on header charges: TotalTaxAmount − InvoiceHeaderTaxAmount."""
    entity = "ExternallyMaintainedCustomerSalesInvoiceHeaders"
    return _amount(header, "TotalTaxAmount", entity) - _amount(header, "InvoiceHeaderTaxAmount", entity)
