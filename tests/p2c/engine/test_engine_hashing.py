"""Source hashes: what a read compares each row with. They are stored in links, so the same row
must hash the same across versions of p2c (else every record is mapped again once)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from p2c.engine.hashing import content_hash, normalize, source_hash

FP = "0123456789abcdef0123456789abcdef"
ROW = {
    "@odata.etag": 'W/"1"',
    "dataAreaId": "usmf",
    "ProductNumber": "LP-000123",
    "SalesUnitDecimalPrecision": 2,
    "SalesPrice": Decimal("123.450"),
    "Big": 123456789012345678901234567890,  # beyond Decimal's 28 digits: normalized as before
    "Zero": 0,
    "Hundred": -100,
    "IsSalesStopped": "No",
    "flag": True,
    "empty": None,
    "_parentid_value@OData.Community.Display.V1.FormattedValue": "Contoso",
    "lines@odata.etag": 'W/"2"',
    "nested": {"a": [1, Decimal("2.50")]},
}


def test_a_source_hash_is_the_content_hash_of_the_row_without_its_etags() -> None:
    kept = {k: v for k, v in ROW.items() if not k.startswith("@") and not k.endswith("@odata.etag")}
    assert source_hash(ROW, FP) == content_hash({"#config": FP, "#row": kept})
    # the value a link stored by an earlier p2c holds for this row
    assert source_hash(ROW, FP) == "22914f0040906cc39a943597f6957c26"


class _Kind(StrEnum):
    A = "a"


def test_a_payloads_hash_stays_what_links_hold() -> None:
    """The content hash of a written payload is stored in its link: the same payload must hash
    the same (every kind of value at the top level, where the hash takes plain ones as they are)."""
    payload = {
        "CustomerAccount": "C-1",
        "Amount": Decimal("10.50"),
        "Qty": 3,
        "On": False,
        "None": None,
        7: "seven",
        "Kind": _Kind.A,
        "lines": [{"x": Decimal("1.0")}],
        "pair": ("accounts", "id1"),
        "at": dt.date(2026, 1, 2),
    }
    # the value an earlier p2c (hashing the normalized payload whole) stored for this payload
    assert content_hash(payload) == "0d8e1b1fcf2edfae1edc2c458d302654"
    assert content_hash(payload) == content_hash({**payload, "Amount": Decimal("10.5"), "Qty": Decimal(3)})
    assert content_hash(payload) != content_hash({**payload, "On": True})


def test_whole_numbers_normalize_as_their_decimal_does() -> None:
    for n in (0, 7, -7, 100, -(10**27), 10**28 - 1, 10**28, -(10**28), 10**40 + 1):
        assert normalize(n) == "#" + format(Decimal(n).normalize(), "f"), n
