"""An arriving invoice marks its CRM order Invoiced and takes the order's owner; tax rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from p2c.errors import RecordError
from p2c.rules.invoices import (
    invoice_header_tax_excluding_charges,
    invoice_line_discount,
    invoice_line_tax,
    invoice_order_update,
    order_owner,
)

ORDER = {"salesorderid": "o1", "statecode": 0, "statuscode": 1, "_ownerid_value": "u-sales"}


def test_order_becomes_invoiced_and_keeps_its_owner() -> None:
    update = invoice_order_update(ORDER)
    assert update == {"statecode": 4, "statuscode": 100003}  # no ownerid: the order's owner stays


def test_only_what_is_not_so_already() -> None:
    invoiced = {**ORDER, "statecode": 4, "statuscode": 100003}
    assert invoice_order_update(invoiced) == {}
    pending = {**ORDER, "statuscode": 2}
    assert invoice_order_update(pending) == {"statecode": 4, "statuscode": 100003}


def test_the_invoice_owner_is_the_orders_user_or_team() -> None:
    assert order_owner(ORDER) == ("systemusers", "u-sales")
    # the lookuplogicalname annotation says which table the owner is in
    annotation = "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"
    assert order_owner({"_ownerid_value": "T-1", annotation: "team"}) == ("teams", "t-1")
    assert order_owner({"_ownerid_value": "U-1", annotation: "systemuser"}) == ("systemusers", "u-1")
    # without it, Dataverse's owningteam (set exactly when a team owns the record) tells
    assert order_owner({"_ownerid_value": "T-1", "_owningteam_value": "t-1"}) == ("teams", "t-1")
    assert order_owner({"_ownerid_value": "U-1", "_owninguser_value": "u-1"}) == ("systemusers", "u-1")
    assert order_owner({"_ownerid_value": None}) is None


def test_line_tax_includes_line_charge_tax() -> None:
    line = {
        "LineTotalTaxAmount": Decimal("8.25"),
        "LineTotalChargeAmount": Decimal("10.00"),
        "LineAmount": 100,
    }
    assert invoice_line_tax(line) == Decimal("8.25")
    assert invoice_line_tax({}) == 0 and invoice_line_tax({"LineTotalTaxAmount": None}) == 0
    assert invoice_line_tax({"LineTotalTaxAmount": "1.5"}) == Decimal("1.5")


def test_header_tax_without_header_charge_tax() -> None:
    header = {"TotalTaxAmount": Decimal("20.63"), "InvoiceHeaderTaxAmount": Decimal("0.63")}
    assert invoice_header_tax_excluding_charges(header) == Decimal("20.00")
    assert invoice_header_tax_excluding_charges({"TotalTaxAmount": Decimal("5")}) == Decimal("5")
    assert invoice_header_tax_excluding_charges({}) == 0


def test_bad_amounts() -> None:
    with pytest.raises(RecordError) as e:
        invoice_line_tax({"LineTotalTaxAmount": "n/a"})
    assert e.value.field == "LineTotalTaxAmount"
    with pytest.raises(RecordError):
        invoice_header_tax_excluding_charges({"TotalTaxAmount": "Infinity"})
    with pytest.raises(TypeError):
        invoice_line_tax({"LineTotalTaxAmount": 1.5})


@pytest.mark.parametrize(
    ("quantity", "discount", "charge", "precision", "expected"),
    [
        ("3", "9.99", "-0.01", 2, "10.00"),  # 10.00 split as 3 × 3.33 and −0.01: restored exactly
        ("3", "10.02", "0.01", 2, "10.01"),  # 10.01 split as 3 × 3.34 and +0.01
        ("3", "9.99", "0", 2, "9.99"),  # no charge
        ("3", "9.99", "5.00", 2, "9.99"),  # a real charge: no CRM column for it, discount as it is
        ("1", "0", "0.01", 2, "0"),  # no discount: a charge cannot be its remainder
        ("3", "0.01", "0.015", 2, "0.01"),  # would turn the discount negative: left alone
        ("2", "9.99", "-0.01", None, "9.99"),  # currency unknown: nothing folded back
        ("0.3", "0.999", "-0.001", 2, "1.000"),  # fractional quantity, exact remainder
    ],
)
def test_line_discount_folds_back_only_a_rounding_remainder(
    quantity: str, discount: str, charge: str, precision: int | None, expected: str
) -> None:
    line = {
        "InvoicedQuantity": quantity,
        "LineTotalDiscountAmount": discount,
        "LineTotalChargeAmount": charge,
    }
    assert invoice_line_discount(line, precision=precision) == Decimal(expected)


def test_line_discount_names_a_bad_amount() -> None:
    with pytest.raises(RecordError) as e:
        invoice_line_discount({"InvoicedQuantity": "1", "LineTotalChargeAmount": "x"}, precision=2)
    assert e.value.field == "LineTotalChargeAmount"
