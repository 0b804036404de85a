"""The numbers a read has seen (p2c.flows.numbers.SeenNumbers): a duplicate across pages is found,
per company, in bounded memory."""

from __future__ import annotations

from p2c.flows.numbers import SeenNumbers


def test_a_number_another_record_had_in_an_earlier_page_is_a_duplicate() -> None:
    seen = SeenNumbers()
    assert not seen.other("usmf", "C-1", "a")
    assert not seen.other("usmf", " c-1", "a")  # the same record read again (a later page)
    assert seen.other("USMF", "C-1", "b")  # numbers compare as the ERP does: trimmed, any case
    assert not seen.other("demf", "C-1", "c")  # another company may have it


def test_only_the_latest_numbers_are_kept() -> None:
    seen = SeenNumbers(limit=3)
    seen.other("usmf", "C-1", "a")
    for n in range(3):
        seen.other("usmf", f"N-{n}", f"k{n}")
    # forgotten: committed long ago, its link names it (duplicate_numbers asks the store)
    assert not seen.other("usmf", "C-1", "b")
    assert seen.other("usmf", "N-2", "z")
