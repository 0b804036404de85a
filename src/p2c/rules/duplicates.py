"""Natural keys that are not unique: reported, never merged (P2C.md, Accounts).

Keys compare as Dataverse and F&O compare them: case-insensitively, ignoring surrounding spaces.
Empty keys are not duplicates (they get a generated number)::

    >>> rows = [{"accountid": "a", "accountnumber": "ACC-1"}, {"accountid": "b", "accountnumber": "acc-1 "},
    ...         {"accountid": "c", "accountnumber": "ACC-2"}, {"accountid": "d", "accountnumber": None}]
    >>> find_duplicates(rows, "accountnumber", "accountid")
    {'ACC-1': ['a', 'b']}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["find_duplicates"]


def find_duplicates(
    rows: Iterable[Mapping[str, Any]], key_field: str, id_field: str = "id"
) -> dict[str, list[Any]]:
    """``{key as first seen: [ids of every row with that key]}`` for keys held by two rows or more."""
    groups: dict[str, tuple[str, list[Any]]] = {}
    for row in rows:
        value = row.get(key_field)
        if value is None or str(value).strip() == "":
            continue
        norm = str(value).strip().casefold()
        groups.setdefault(norm, (str(value).strip(), []))[1].append(row.get(id_field))
    return {first: ids for first, ids in groups.values() if len(ids) > 1}
