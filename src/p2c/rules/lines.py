"""Lines follow headers: what to add, change and remove at the target (issue 4, flow 7).

Lines are matched by their sequence number — LineCreationSequenceNumber in the ERP,
``sequencenumber`` in the CRM — unique within a header. :func:`diff_lines` compares the source
lines, already mapped to the target's fields, with the target's current lines::

    >>> source = {1: {"quantity": Decimal("2"), "priceperunit": Decimal("5.00")},
    ...           3: {"quantity": Decimal("1"), "priceperunit": Decimal("9.50")}}
    >>> target = {1: {"salesorderdetailid": "d1", "quantity": 2.0, "priceperunit": 5},
    ...           2: {"salesorderdetailid": "d2", "quantity": 1, "priceperunit": 3}}
    >>> d = diff_lines(source, target)
    >>> sorted(d.add), d.change, sorted(d.remove)
    ([3], {}, [2])
    >>> diff_lines({1: {"quantity": 3}}, target).change
    {1: {'quantity': 3}}

- **add**: source lines without a target line, with their full payload;
- **change**: lines on both sides, with only the fields whose values differ (a line that differs
  in nothing is absent, so a rerun writes nothing);
- **remove**: target lines without a source line, as the target holds them (their ids for the
  DELETE).

Values compare as the systems store them: numbers by value (``2.0`` = ``Decimal("2.00")``; JSON
numbers may arrive as int or float), ``None`` = ``""`` (the ERP returns empty strings for nulls),
anything else (text, booleans, lookup ids) exactly. Target fields the source payload does not name
are not compared.

CRM lines may have no sequence number yet; :func:`number_lines` gives them
:func:`next_sequence_number` in order, so they get a key before they are written to the ERP.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from p2c.errors import RecordError
from p2c.rules.freight import FREIGHT_TAX_SEQUENCE

__all__ = ["LineDiff", "diff_lines", "index_lines", "next_sequence_number", "number_lines"]


@dataclass(frozen=True)
class LineDiff:
    """What the target's lines need: ``add`` / ``change`` / ``remove``, each by sequence number.

    >>> LineDiff().empty
    True
    """

    add: dict[Hashable, dict[str, Any]] = field(default_factory=dict)
    change: dict[Hashable, dict[str, Any]] = field(default_factory=dict)
    remove: dict[Hashable, dict[str, Any]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.add or self.change or self.remove)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        # repr(float) is the shortest decimal that round-trips: 0.1 → "0.1", not 0.1000000000000000055…
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return None


def _same(a: Any, b: Any) -> bool:
    if a is None or a == "":
        return b is None or b == ""
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def diff_lines(
    source_lines: Mapping[Hashable, Mapping[str, Any]],
    target_lines: Mapping[Hashable, Mapping[str, Any]],
) -> LineDiff:
    """The writes that make ``target_lines`` match ``source_lines`` (both keyed by sequence number)."""
    add: dict[Hashable, dict[str, Any]] = {}
    change: dict[Hashable, dict[str, Any]] = {}
    for seq, payload in source_lines.items():
        current = target_lines.get(seq)
        if current is None:
            add[seq] = dict(payload)
            continue
        differs = {k: v for k, v in payload.items() if not _same(v, current.get(k))}
        if differs:
            change[seq] = differs
    remove = {seq: dict(line) for seq, line in target_lines.items() if seq not in source_lines}
    return LineDiff(add, change, remove)


def _sequence(value: Any) -> int | None:
    """A sequence number, or None when unfilled (the ERP's unfilled value is 0)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if number != value and str(number) != str(value).strip():
        return None
    return number if number > 0 else None


def index_lines(
    lines: Iterable[Mapping[str, Any]],
    field: str,
    *,
    entity: str,
    key: str | None = None,
) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """``(lines by sequence number, lines without one)``; a number used twice is a RecordError.

    ``key`` names the header (the error fails the header with all its lines: they must never be
    written half).

    >>> index_lines([{"LineCreationSequenceNumber": 2}, {"LineCreationSequenceNumber": 0}],
    ...             "LineCreationSequenceNumber", entity="CDSSalesOrderLines")
    ({2: {'LineCreationSequenceNumber': 2}}, [{'LineCreationSequenceNumber': 0}])
    """
    numbered: dict[int, dict[str, Any]] = {}
    unnumbered: list[dict[str, Any]] = []
    for line in lines:
        seq = _sequence(line.get(field))
        if seq is None:
            unnumbered.append(dict(line))
        elif seq in numbered:
            raise RecordError(
                f"two lines have sequence number {seq}; lines are matched by it, so it must be unique",
                entity=entity,
                key=key,
                field=field,
            )
        else:
            numbered[seq] = dict(line)
    return numbered, unnumbered


def next_sequence_number(existing: Iterable[int | None]) -> int:
    """One more than the highest sequence number in use (1 for none), the Freight Tax one aside.

    >>> next_sequence_number([3, None, 1, 1_000_000_000])
    4
    """
    numbers = [n for n in (_sequence(e) for e in existing) if n is not None and n < FREIGHT_TAX_SEQUENCE]
    return max(numbers, default=0) + 1


def number_lines(
    lines: Iterable[Mapping[str, Any]], field: str = "sequencenumber"
) -> list[tuple[int, dict[str, Any]]]:
    """Every line with a sequence number: its own, or the next free one for lines without one.

    Returns ``(number, line)`` pairs in the lines' order; the caller writes the new numbers back
    to the CRM (like generated account numbers) before the lines go to the ERP.

    >>> number_lines([{"sequencenumber": 5}, {"sequencenumber": None}, {}])
    [(5, {'sequencenumber': 5}), (6, {'sequencenumber': None}), (7, {})]
    """
    rows = [dict(line) for line in lines]
    following = next_sequence_number(row.get(field) for row in rows)
    out: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        seq = _sequence(row.get(field))
        if seq is None:
            seq, following = following, following + 1
        out.append((seq, row))
    return out
