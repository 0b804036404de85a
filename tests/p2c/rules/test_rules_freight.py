"""Header-level ERP tax becomes the CRM write-in line "Freight Tax"."""

from __future__ import annotations

from decimal import Decimal

import pytest

from p2c.rules.freight import FREIGHT_TAX_SEQUENCE, freight_tax_line, is_freight_tax_line


def test_the_line() -> None:
    assert freight_tax_line(Decimal("7.50"), sequence=900, currency_precision=2) == {
        "sequencenumber": 900,
        "isproductoverridden": True,
        "productdescription": "Freight Tax",
        "quantity": Decimal("1"),
        "priceperunit": Decimal("7.50"),
        "ispriceoverridden": True,
    }
    line = freight_tax_line("4.125", currency_precision=2)
    assert line is not None and line["priceperunit"] == Decimal("4.13")  # half up
    assert line["sequencenumber"] == FREIGHT_TAX_SEQUENCE == 1_000_000_000
    assert str(freight_tax_line(Decimal("4.5"), currency_precision=0)["priceperunit"]) == "5"  # type: ignore[index]
    credit = freight_tax_line(Decimal("-1.20"), currency_precision=2)
    assert credit is not None and credit["priceperunit"] == Decimal("-1.20")


def test_no_tax_no_line() -> None:
    for tax in (None, 0, Decimal("0.00"), "0", Decimal("0.004")):
        assert freight_tax_line(tax, currency_precision=2) is None
    with pytest.raises(TypeError):
        freight_tax_line(1.5, currency_precision=2)  # type: ignore[arg-type]
    for precision in (-1, 11, True):
        with pytest.raises(ValueError):
            freight_tax_line(Decimal(1), currency_precision=precision)


def test_recognising_the_line() -> None:
    line = freight_tax_line(Decimal(1), currency_precision=2)
    assert line is not None and is_freight_tax_line(line)
    assert is_freight_tax_line({"isproductoverridden": True, "productdescription": " freight tax "})
    assert not is_freight_tax_line({"isproductoverridden": False, "productdescription": "Freight Tax"})
    assert not is_freight_tax_line({"isproductoverridden": True, "productdescription": "Freight"})
    assert not is_freight_tax_line({"isproductoverridden": True})
    assert not is_freight_tax_line({"_productid_value": "p", "quantity": 1})
