"""A task's watermark: the ERP date or date-time field an incremental read filters on.

F&O has no change tracking (FNO.md §1.11), so an ERP task is read whole and its content hashes
find what changed. Where a field tells what is new, the read can be narrowed instead:

- ``watermark: InvoiceDate`` (built into the invoices template): posted invoices never change,
  so only invoices dated from the last one read (minus the overlap) on are read again;
- ``watermark: ModifiedDateTime`` for customers who added such a field to their entities.

After a read the task's cursor keeps, per company, the highest value seen (never later than the
read's own start); the next read asks F&O for ``field ge <that value minus the overlap>``. The
overlap covers what arrives late: an invoice posted today but dated (back-dated) some days ago, a
transaction that committed after the read began, clocks a little apart. A row older than the
overlap that appears afterwards is **not** read until ``p2c run --full``; rows read twice within
the overlap are compared by their content hash and left alone.

Example::

    >>> parse_overlap("2d"), parse_overlap("90m"), parse_overlap(3600)
    (datetime.timedelta(days=2), datetime.timedelta(seconds=5400), datetime.timedelta(seconds=3600))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from p2c.catalog import EntitySpec, FieldType
from p2c.errors import ConfigError
from p2c.settings import System

#: the task keys of a watermark (template and project)
WATERMARK_KEYS = frozenset({"watermark", "watermark_overlap"})

__all__ = [
    "DEFAULT_DATETIME_OVERLAP",
    "DEFAULT_DATE_OVERLAP",
    "WATERMARK_KEYS",
    "Watermark",
    "build_watermark",
    "parse_overlap",
]

#: a date-only field (InvoiceDate): business dates, often set some days before posting
DEFAULT_DATE_OVERLAP = timedelta(days=2)
#: a date-time field (ModifiedDateTime): late commits and clock differences
DEFAULT_DATETIME_OVERLAP = timedelta(hours=1)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_OVERLAP = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")


def parse_overlap(value: Any) -> timedelta:
    """``2d``, ``12h``, ``30m``, ``45s`` or a number of seconds; ValueError saying why otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (use e.g. 2d, 12h, 30m or seconds)")
    match = _OVERLAP.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a duration (use e.g. 2d, 12h, 30m or seconds)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2) or "s"])


@dataclass(frozen=True)
class Watermark:
    """The field an ERP task's read is narrowed on, whether it holds a date only, and the overlap."""

    field: str
    date_only: bool
    overlap: timedelta


class _Origin(Protocol):
    def error(self, reason: str, *sub: str | int) -> ConfigError: ...


def build_watermark(source: EntitySpec, written: Mapping[str, tuple[Any, _Origin]]) -> Watermark | None:
    """The checked watermark of a task reading ``source`` from what the template and project wrote
    (``watermark``, ``watermark_overlap``, each with its origin); a ConfigError at the key that is
    wrong: a CRM source (change tracking already reads only what changed), a field the entity
    lacks, a field that is no date, an overlap that is no duration."""
    name, origin = written.get("watermark", (None, None))
    if not name or origin is None:
        return None
    overlap = written.get("watermark_overlap")
    if overlap is not None and overlap[0] is None:
        overlap = None
    if source.system is not System.ERP:
        raise origin.error(
            f"a watermark narrows ERP reads; {source.name} is a CRM entity, read through change tracking"
        )
    spec = source.field(name)
    if spec is None:
        raise origin.error(f"unknown field '{name}' on {source.name} (erp)")
    if spec.type not in (FieldType.DATE, FieldType.DATETIME):
        raise origin.error(
            f"'{name}' is a {spec.type.value} field; a watermark must be a date or a date-time"
        )
    date_only = spec.type is FieldType.DATE
    span = DEFAULT_DATE_OVERLAP if date_only else DEFAULT_DATETIME_OVERLAP
    if overlap is not None:
        try:
            span = parse_overlap(overlap[0])
        except ValueError as exc:
            raise overlap[1].error(str(exc)) from None
    return Watermark(name, date_only, span)
