"""Whole-line CRM discounts ↔ ERP per-unit discounts plus a charge: the round trip is exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2c.errors import RecordError
from p2c.rules.discounts import max_remainder, restore_line_discount, split_line_discount

D = Decimal


def test_the_p2c_example_verbatim() -> None:
    # P2C.md: quantity 3, discount 10.00 → per-unit 3.33, charge -0.01; back: 3 × 3.33 + 0.01 = 10.00
    assert split_line_discount(D("3"), D("10.00"), 2) == (D("3.33"), D("-0.01"))
    assert restore_line_discount(D("3"), D("3.33"), D("-0.01")) == D("10.00")
    assert D(3) * D("3.33") + D("0.01") == D("10.00")


def test_rounding_is_half_up_and_the_charge_may_be_positive() -> None:
    assert split_line_discount(D("3"), D("10.01"), 2) == (D("3.34"), D("0.01"))  # 3.3366… → 3.34
    assert split_line_discount(D("8"), D("0.20"), 2) == (D("0.03"), D("0.04"))  # 0.025 exactly → up
    assert split_line_discount(D("8"), D("0.12"), 2) == (D("0.02"), D("0.04"))  # 0.015 → 0.02
    assert split_line_discount(D("3"), D("10"), 0) == (D("3"), D("-1"))
    assert split_line_discount(D("4"), D("10"), 0) == (D("3"), D("2"))  # 2.5 → 3, 12 − 10 = +2
    assert split_line_discount(D("7"), D("1.000"), 3) == (D("0.143"), D("0.001"))


def test_representation() -> None:
    per_unit, charge = split_line_discount(D("3.000"), D("10.00"), 2)
    assert (str(per_unit), str(charge)) == ("3.33", "-0.01")  # at the currency's exponent when exact
    per_unit, charge = split_line_discount(D("2.5"), D("10.00"), 2)
    assert (str(per_unit), str(charge)) == ("4.00", "0.00")
    per_unit, charge = split_line_discount(D("0.3"), D("1.00"), 2)
    assert (per_unit, charge) == (D("3.33"), D("-0.001"))  # the remainder keeps its decimals
    assert restore_line_discount(D("0.3"), per_unit, charge) == D("1.00")
    assert str(restore_line_discount(D("2.5"), D("4.00"), D("0"), precision=2)) == "10.00"
    assert split_line_discount(3, "10.00", 2) == (D("3.33"), D("-0.01"))  # int and str are fine


def test_zero_and_refused_inputs() -> None:
    assert split_line_discount(D("3"), D("0"), 2) == (D("0.00"), D("0.00"))
    assert split_line_discount(D("0"), D("0.00"), 2) == (D("0.00"), D("0.00"))
    assert split_line_discount(D("-2"), D("0"), 2) == (D("0.00"), D("0.00"))  # a return line, no discount
    assert split_line_discount(D("2"), None, 2) == (D("0.00"), D("0.00"))  # type: ignore[arg-type]
    with pytest.raises(RecordError) as e:
        split_line_discount(D("0"), D("10.00"), 2, key="ORD-1/1")
    assert (e.value.field, e.value.key, e.value.entity) == ("quantity", "ORD-1/1", "salesorderdetails")
    assert "quantity of 0" in e.value.reason
    with pytest.raises(RecordError) as e:
        split_line_discount(D("-3"), D("10.00"), 2)
    assert e.value.field == "quantity"
    with pytest.raises(RecordError) as e:
        split_line_discount(D("3"), D("-1.00"), 2)
    assert e.value.field == "manualdiscountamount"
    with pytest.raises(RecordError):
        split_line_discount(D("3"), D("NaN"), 2)
    with pytest.raises(RecordError):
        split_line_discount(D("3"), "ten", 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        split_line_discount(D("3"), 10.0, 2)  # type: ignore[arg-type]
    for precision in (-1, 11, True, 2.0):
        with pytest.raises(ValueError):
            split_line_discount(D("3"), D("10"), precision)  # type: ignore[arg-type]


def test_restore_refusals() -> None:
    assert restore_line_discount(D("5"), None, None) == 0  # type: ignore[arg-type]
    assert restore_line_discount(D("5"), D("0"), D("0")) == 0
    with pytest.raises(RecordError) as e:
        restore_line_discount(D("1"), D("0"), D("5.00"), key="000123/2")  # a real ERP charge
    assert (e.value.field, e.value.entity) == ("LineDiscountAmount", "CDSSalesOrderLines")
    with pytest.raises(RecordError) as e:
        restore_line_discount(D("3"), D("3.00"), D("0.50"), precision=2)  # more than a remainder
    assert e.value.field == "FixedPriceCharges" and "0.015" in e.value.reason
    assert restore_line_discount(D("3"), D("3.00"), D("0.015"), precision=2) == D("8.985")
    with pytest.raises(TypeError):
        restore_line_discount(D("3"), 3.33, D("0"))  # type: ignore[arg-type]


def test_max_remainder() -> None:
    assert max_remainder(D("3"), 2) == D("0.015")
    assert max_remainder(D("-4"), 0) == D("2")
    assert max_remainder(D("0.5"), 3) == D("0.00025")


quantities = st.one_of(
    st.integers(min_value=1, max_value=10_000).map(Decimal),
    st.decimals(min_value=D("0.001"), max_value=D("100000"), places=3),
    st.decimals(min_value=D("0.00001"), max_value=D("10"), places=5),
    st.sampled_from([D("2.5"), D("0.3"), D("3"), D("7"), D("1E+3")]),
)


@settings(max_examples=300, deadline=None)
@given(quantity=quantities, data=st.data(), precision=st.sampled_from([0, 2, 3]))
def test_round_trip_is_exact(quantity: Decimal, data: st.DataObject, precision: int) -> None:
    discount = data.draw(st.decimals(min_value=D(0), max_value=D("10000000"), places=precision))
    per_unit, charge = split_line_discount(quantity, discount, precision)
    assert per_unit == per_unit.quantize(D(1).scaleb(-precision))
    assert abs(charge) <= max_remainder(quantity, precision)
    assert quantity * per_unit - charge == discount
    assert restore_line_discount(quantity, per_unit, charge) == discount
    assert restore_line_discount(quantity, per_unit, charge, precision=precision) == discount
    if discount:
        exact = discount / quantity  # the per-unit is the nearest step, ties away from zero
        step = D(1).scaleb(-precision)
        assert abs(per_unit - exact) <= step / 2
