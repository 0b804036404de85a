"""Price list choice: first alphabetical of the currency, or the named one; a clear error otherwise."""

from __future__ import annotations

import pytest

from p2c.errors import RecordError
from p2c.rules.pricelist import choose_price_list

LISTS = [
    {"name": "Wholesale USD", "currency": "USD"},
    {"name": "CRM Service USA (sample)", "currency": "USD"},
    {"name": "crm retail", "currency": "USD"},
    {"name": "Europe", "currency": "EUR"},
]


def test_first_alphabetical_of_the_currency() -> None:
    assert choose_price_list(LISTS, "USD") == "crm retail"  # "crm r" < "crm s" < "whol", ignoring case
    assert choose_price_list(LISTS, "eur") == "Europe"


def test_order_is_case_insensitive() -> None:
    lists = [{"name": "beta", "currency": "USD"}, {"name": "Alpha", "currency": "USD"}]
    assert choose_price_list(lists, "USD") == "Alpha"


def test_preferred_name_matched_case_insensitively() -> None:
    assert choose_price_list(LISTS, "USD", preferred_name="wholesale usd") == "Wholesale USD"
    with pytest.raises(RecordError) as info:
        choose_price_list(LISTS, "USD", preferred_name="europe", key="D0001")
    e = info.value
    assert (e.entity, e.key, e.field) == ("productpricelevels", "D0001", "pricelevelid")
    assert e.reason == "price list 'Europe' is in EUR, but the product's currency is USD"
    with pytest.raises(RecordError, match="there is no price list named 'Nope'"):
        choose_price_list(LISTS, "USD", preferred_name="Nope")


def test_no_price_list_for_the_currency_is_a_clear_record_error() -> None:
    with pytest.raises(RecordError) as info:
        choose_price_list(LISTS, "GBP", key="D0002")
    assert info.value.reason == "no price list has currency GBP; create one or name one in the project"
    assert str(info.value) == (
        "productpricelevels 'D0002' field pricelevelid: no price list has currency GBP; create one or name one in the project"
    )
    with pytest.raises(RecordError, match="no sales currency"):
        choose_price_list(LISTS, None)
