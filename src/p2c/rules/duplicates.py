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
    first: dict[str, tuple[str, Any]] = {}  # normalised key → (key as first seen, its row's id)
    twice: dict[str, list[Any]] = {}  # normalised key → ids, for keys seen again only
    for row in rows:
        value = row.get(key_field)
        if value is None:
            continue
        text = (value if type(value) is str else str(value)).strip()
        if not text:
            continue
        norm = text.casefold()
        seen = first.get(norm)
        if seen is None:
            first[norm] = (text, row.get(id_field))
        elif norm in twice:
            twice[norm].append(row.get(id_field))
        else:
            twice[norm] = [seen[1], row.get(id_field)]
    if len(twice) > 1:  # in the order the keys were first seen
        return {first[n][0]: twice[n] for n in first if n in twice}
    return {first[n][0]: ids for n, ids in twice.items()}
