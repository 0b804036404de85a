"""The emulators' JSON reader: exact numbers, one parse per body."""

from __future__ import annotations

from decimal import Decimal

import pytest

from p2c_sandbox.http import loads


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # more digits than a float holds: kept to the last one
        (
            b'{"SalesPrice": 12.345678901234567891, "Qty": 3}',
            {"SalesPrice": Decimal("12.345678901234567891"), "Qty": 3},
        ),
        (b'{"n": 1e2, "m": [7]}', {"n": Decimal("1E+2"), "m": [7]}),  # a float without a "."
        (b'{"name": "A.B", "n": 5}', {"name": "A.B", "n": 5}),  # a "." only in a string
        ('{"n": 0.10}', {"n": Decimal("0.10")}),  # text as well as bytes
        (b'{"n": 10}', {"n": 10}),
    ],
)
def test_numbers_come_back_exact_and_integers_stay_integers(body: bytes | str, expected: object) -> None:
    got = loads(body)
    assert got == expected
    assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]  # type: ignore[attr-defined]


def test_a_malformed_body_is_refused_with_the_position() -> None:
    with pytest.raises(ValueError, match="line 1 column 12"):
        loads(b'{"n": 1.5, }')
