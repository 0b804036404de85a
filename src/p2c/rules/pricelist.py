"""Which CRM price list a product from the ERP goes into (P2C.md, Products).

The first price list, in alphabetical order of name, whose currency is the product's sales
currency; or the one a mapping names (matched case-insensitively), which must have that currency::

    >>> lists = [{"name": "Retail EUR", "currency": "EUR"}, {"name": "Wholesale", "currency": "USD"},
    ...          {"name": "CRM Service USA (sample)", "currency": "USD"}]
    >>> choose_price_list(lists, "usd")
    'CRM Service USA (sample)'
    >>> choose_price_list(lists, "USD", preferred_name="wholesale")
    'Wholesale'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from p2c.errors import RecordError

__all__ = ["choose_price_list"]


def choose_price_list(
    price_lists: Sequence[Mapping[str, Any]],
    currency: str | None,
    preferred_name: str | None = None,
    *,
    entity: str = "productpricelevels",
    key: str | None = None,
) -> str:
    """The name of the price list to use; RecordError (field ``pricelevelid``) when there is none.

    ``price_lists`` are ``{"name": ..., "currency": <ISO code>}`` mappings.
    """

    def fail(reason: str) -> RecordError:
        return RecordError(reason, entity=entity, key=key, field="pricelevelid")

    if not currency:
        raise fail("the product has no sales currency, so no price list can be chosen")
    wanted = currency.strip().upper()
    if preferred_name:
        named = [p for p in price_lists if str(p["name"]).casefold() == preferred_name.strip().casefold()]
        if not named:
            raise fail(f"there is no price list named {preferred_name!r}")
        for p in named:
            if str(p.get("currency") or "").upper() == wanted:
                return str(p["name"])
        raise fail(
            f"price list {named[0]['name']!r} is in {named[0].get('currency') or 'no currency'},"
            f" but the product's currency is {wanted}"
        )
    matching = sorted(
        (str(p["name"]) for p in price_lists if str(p.get("currency") or "").upper() == wanted),
        key=lambda name: (name.casefold(), name),
    )
    if not matching:
        raise fail(f"no price list has currency {wanted}; create one or name one in the project")
    return matching[0]
