"""What an outcome stores of a record (``Outcomes.clean``): annotations left out, at most
``SOURCE_ROW_FIELDS`` fields, secrets and tokens masked, always a copy."""

from __future__ import annotations

from decimal import Decimal

from p2c.connectors import Redactor
from p2c.engine.outcomes import SOURCE_ROW_FIELDS, Outcomes
from p2c.engine.report import TaskReport

SECRET = "p2c~very-secret-value"


def _outcomes() -> Outcomes:
    return Outcomes("Accounts", TaskReport("Accounts"), Redactor([SECRET]))


def test_a_record_is_stored_without_annotations_and_with_secrets_masked() -> None:
    clean = _outcomes().clean
    row = {"@odata.etag": 'W/"1"', "name": "Contoso", "credit": Decimal("10.5"), "n": None}
    assert clean(row) == {"name": "Contoso", "credit": Decimal("10.5"), "n": None}
    plain = {"name": "Contoso", "city": "Seattle"}
    kept = clean(plain)
    assert kept == plain and kept is not plain  # a copy, also when every field is kept
    for text, shown in (
        (f"key {SECRET}", "key ***"),
        ("Authorization: BEARER abcdefghijklmnop123", "Authorization: BEARER ***"),
        ("tok eyJabcd.efgh.ijk", "tok ***"),
    ):
        assert clean({"name": "Contoso", "note": text}) == {"name": "Contoso", "note": shown}
    assert clean({"password": "hunter22", "name": "x"}) == {"password": "***", "name": "x"}
    assert clean(None) is None


def test_the_same_keys_record_after_record_give_each_record_its_own_values() -> None:
    """The fields kept are worked out once per set of keys; the values are each record's."""
    clean = _outcomes().clean
    first = clean({"@odata.etag": "a", "name": "One", "note": "plain"})
    second = clean({"@odata.etag": "b", "name": "Two", "note": f"has {SECRET}"})
    assert first == {"name": "One", "note": "plain"}
    assert second == {"name": "Two", "note": "has ***"}


def test_a_wide_record_keeps_its_first_fields() -> None:
    row = {f"f{n:03d}": n for n in range(SOURCE_ROW_FIELDS + 10)}
    row = {"@odata.etag": "x", **row}
    kept = _outcomes().clean(row)
    assert kept is not None
    # the first SOURCE_ROW_FIELDS fields of the record, of which the annotation is left out
    assert list(kept) == [f"f{n:03d}" for n in range(SOURCE_ROW_FIELDS - 1)]
