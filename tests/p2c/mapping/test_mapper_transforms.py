"""The small transforms: value maps, emptiness, numbers, concat/split, target-type coercion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from p2c.catalog import FieldSpec, FieldType
from p2c.mapping.transforms import TransformError, ValueMap, coerce, concat, is_empty, split, to_decimal


def test_is_empty() -> None:
    assert is_empty(None) and is_empty("")
    assert not is_empty(0) and not is_empty(False) and not is_empty("0") and not is_empty(" ")


def test_value_map_lookup_rules() -> None:
    vm = ValueMap("country", {"": "US", "United States": "US", "Canada": "CA", 10: "ten", True: "yes"})
    assert vm.apply("CANADA") == "CA" and vm.apply(" canada ") == "CA"
    assert vm.apply(None) == "US" and vm.apply("") == "US"
    assert vm.apply(10) == "ten" and vm.apply("10") == "ten" and vm.apply(Decimal("10.0")) == "ten"
    assert vm.apply(True) == "yes"
    assert vm.has("united states") and not vm.has("Mexico")
    with pytest.raises(TransformError) as info:
        vm.apply("Mexico", "address1_country")
    assert info.value.reason == "value 'Mexico' of address1_country is not in value map 'country'"
    assert ValueMap("m", {"a": 1}).apply(None) is None  # empty stays empty without a "" entry
    assert ValueMap("m", {"*": "other"}).apply("x") == "other"


def test_value_map_merge_and_duplicates() -> None:
    base = ValueMap("country", {"": "US", "Canada": "CA"})
    merged = base.merged({"canada": "CAN", "Narnia": "NA"})
    assert merged.apply("Canada") == "CAN" and merged.apply("narnia") == "NA" and merged.apply(None) == "US"
    assert dict(merged.entries) == {"": "US", "canada": "CAN", "Narnia": "NA"}
    assert base.apply("Canada") == "CA"  # the original is unchanged
    with pytest.raises(ValueError, match="keys 'Canada' and ' CANADA' are the same key"):
        ValueMap("m", {"Canada": 1, " CANADA": 2})
    with pytest.raises(ValueError, match="same key"):
        ValueMap("m", {None: 1, "": 2})
    assert ValueMap("m", {"a": 1}) == ValueMap("m", {"a": 1}) != ValueMap("m", {"a": 2})


def test_to_decimal_never_goes_through_binary_floats() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(3.33) * 3 + to_decimal("0.01") == Decimal("10.00")
    assert to_decimal(" 12.50 ") == Decimal("12.50") and to_decimal(7) == Decimal(7)
    for bad in ("abc", True, None, [1]):
        with pytest.raises(TransformError):
            to_decimal(bad)


def test_concat_and_split() -> None:
    assert concat(["a", None, "", "b", 3], "-") == "a-b-3"
    assert concat([None, ""]) is None
    assert split("Seattle, WA , USA", ",", 1) == "WA"
    assert split("a,b", ",", 5) is None and split(None, ",", 0) is None and split("a,,b", ",", 1) is None


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (FieldSpec("x", FieldType.DECIMAL), "1.50", Decimal("1.50")),
        (FieldSpec("x", FieldType.MONEY), 2, Decimal(2)),
        (FieldSpec("x", FieldType.INT), Decimal("4.0"), 4),
        (FieldSpec("x", FieldType.INT), "12", 12),
        (FieldSpec("x", FieldType.BOOL), "Yes", True),
        (FieldSpec("x", FieldType.BOOL), 0, False),
        (FieldSpec("x", FieldType.STRING, max_length=3), 12, "12"),
        (FieldSpec("x", FieldType.ENUM, enum="NoYes"), True, "Yes"),
        (FieldSpec("x", FieldType.ENUM, enum="NoYes"), "no", "No"),
        (FieldSpec("x", FieldType.CHOICE, options={1: "Net 30"}), "Net 30", 1),
        (FieldSpec("x", FieldType.DATE), dt.date(2024, 1, 2), dt.date(2024, 1, 2)),
        (FieldSpec("x", FieldType.GUID), "g", "g"),
        (FieldSpec("x", FieldType.DECIMAL), None, None),
    ],
)
def test_coerce(spec: FieldSpec, value: object, expected: object) -> None:
    got = coerce(value, spec, ("No", "Yes"))
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("spec", "value", "reason"),
    [
        (FieldSpec("x", FieldType.INT), "1.5", "'1.5' is not a whole number"),
        (FieldSpec("x", FieldType.INT, min=0, max=5), 9, "9 is outside 0..5"),
        (FieldSpec("x", FieldType.INT), True, "True is not a whole number"),
        (FieldSpec("x", FieldType.BOOL), "maybe", "'maybe' is not true or false"),
        (FieldSpec("x", FieldType.STRING, max_length=2), "abc", "is 3 characters long; the maximum is 2"),
        (FieldSpec("x", FieldType.STRING), False, "False is not text"),
        (
            FieldSpec("x", FieldType.ENUM, enum="NoYes"),
            "Maybe",
            "'Maybe' is not a member of enum NoYes (No, Yes)",
        ),
        (FieldSpec("x", FieldType.CHOICE, options={1: "A"}), 7, "7 is not an option of x (1 A)"),
        (FieldSpec("x", FieldType.DATETIME), 5, "5 is not a date"),
    ],
)
def test_coerce_errors(spec: FieldSpec, value: object, reason: str) -> None:
    with pytest.raises(TransformError) as info:
        coerce(value, spec, ("No", "Yes"))
    assert reason in info.value.reason
