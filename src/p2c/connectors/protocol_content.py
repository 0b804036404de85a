"""Is a record read back the one we meant to create? For creates whose answer was lost.

A create sent again after a dropped response is answered "already exists" when the first attempt
went through. The writers read the record by its key and ask :func:`same_content`: the same
content means the create is done (reported created); different content means someone else's
record, or an older version of ours, and the writer updates it as an upsert would.

Values are compared as the services return them: numbers by value (``3`` == ``3.0`` ==
``Decimal("3.00")``), everything else exactly; a Dataverse lookup (``nav@odata.bind:
"accounts(<id>)"``) by the id in its ``_<nav>_value`` column. What cannot be compared counts as
different, so the worst outcome is an update that changes nothing.

Example::

    >>> from decimal import Decimal
    >>> same_content({"name": "A", "total": 3}, {"name": "A", "total": Decimal("3.00")})
    True
    >>> same_content({"customerid_account@odata.bind": "/accounts(0f8fad5b-d9cb-469f-a165-70867728950e)"},
    ...              {"_customerid_value": "0F8FAD5B-D9CB-469F-A165-70867728950E"})
    True
    >>> same_content({"name": "A"}, {"name": "B"})
    False
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["same_content", "same_value"]

_BIND_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def same_value(sent: Any, found: Any) -> bool:
    a, b = _number(sent), _number(found)
    if a is not None and b is not None:
        return a == b
    return bool(sent == found)


def _same_bind(nav: str, value: Any, row: Mapping[str, Any]) -> bool:
    match = _BIND_ID.search(str(value)) if value is not None else None
    # a polymorphic lookup's navigation property names its target table: customerid_account
    columns = [f"_{nav}_value", *([f"_{nav.rsplit('_', 1)[0]}_value"] if "_" in nav else [])]
    found = next((row[c] for c in columns if c in row), None)
    if match is None or found is None:
        return value is None and found is None and any(c in row for c in columns)
    return str(found).casefold() == match.group(1).casefold()


def same_content(payload: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    """Whether every field of ``payload`` has the same value in ``row`` (as read back)."""
    for name, value in payload.items():
        field, _, annotation = name.partition("@")
        if annotation == "odata.bind":
            if not _same_bind(field, value, row):
                return False
        elif annotation:
            continue  # other annotations describe a value, they are not one
        elif field not in row or not same_value(value, row[field]):
            return False
    return True
