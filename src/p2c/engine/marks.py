"""The cursor of an ERP task with a watermark: per company, the highest value of the field read.

Stored as the task's cursor (JSON), committed with the task's last chunk like a CRM delta link,
so a run that stops early reads the same rows again::

    {"watermark": "InvoiceDate", "marks": {"usmf": "2026-11-30T12:00:00Z"}}

A cursor written for another field (the project changed its watermark), or none at all, means
a whole read; a company without a mark (new in the project, or nothing read yet) is read whole.
A mark is never later than the moment the read started, so a value dated in the future (an
invoice post-dated, a clock ahead) cannot make the next read skip what arrives until then.

Example::

    >>> from datetime import timedelta
    >>> from p2c.project.watermark import Watermark
    >>> m = Marks.start(Watermark("InvoiceDate", True, timedelta(days=2)), None)
    >>> m.filter("usmf") is None          # no mark yet: read whole
    True
    >>> m.saw("usmf", [{"InvoiceDate": "2026-01-10T12:00:00Z"}, {"InvoiceDate": "1900-01-01T12:00:00Z"}])
    >>> later = Marks.start(m.watermark, m.cursor())
    >>> later.filter("usmf")
    'InvoiceDate ge 2026-01-08T00:00:00Z'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from p2c.project.watermark import Watermark

__all__ = ["Marks"]

EMPTY_YEAR = "1900"  # F&O's empty date and date-time (FNO.md §1.5)


def _parse(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Marks:
    """The marks of one read: the ones it starts from and the highest values it sees."""

    def __init__(self, watermark: Watermark | None, marks: Mapping[str, str]) -> None:
        self.watermark = watermark
        self.before = dict(marks)
        self.seen: dict[str, str] = {}
        self.started = datetime.now(UTC).replace(microsecond=0)

    @classmethod
    def start(cls, watermark: Watermark | None, cursor: str | None) -> Marks:
        """The marks ``cursor`` holds for ``watermark`` (none when it was written for another field)."""
        marks: dict[str, str] = {}
        if watermark is not None and cursor:
            try:
                data = json.loads(cursor)
            except ValueError:
                data = None
            if isinstance(data, dict) and data.get("watermark") == watermark.field:
                marks = {str(k): str(v) for k, v in (data.get("marks") or {}).items()}
        return cls(watermark, marks)

    def filter(self, company: str) -> str | None:
        """``field ge <mark - overlap>`` for ``company``, or None: read it whole."""
        wm = self.watermark
        mark = _parse(self.before.get(company, "")) if wm is not None else None
        if wm is None or mark is None:
            return None
        since = mark - wm.overlap
        if wm.date_only:  # dates are written at noon: from the start of that day
            since = since.replace(hour=0, minute=0, second=0, microsecond=0)
        return f"{wm.field} ge {since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"

    def saw(self, company: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Note the highest value of the field among ``rows`` (as F&O wrote them, empty dates ignored)."""
        if self.watermark is None:
            return
        name = self.watermark.field
        top = self.seen.get(company, "")
        for row in rows:
            value = row.get(name)
            # ISO texts of one service compare as their instants; the empty year sorts first anyway
            if isinstance(value, str) and value > top and not value.startswith(EMPTY_YEAR):
                top = value
        if top:
            self.seen[company] = top

    def cursor(self) -> str | None:
        """The cursor after this read: each company's highest value, capped at the read's start;
        companies that gave nothing keep their mark. None without a watermark."""
        if self.watermark is None:
            return None
        marks = dict(self.before)
        for company, text in self.seen.items():
            value = _parse(text)
            if value is None:
                continue
            value = min(value, self.started)
            old = _parse(marks.get(company, ""))
            if old is None or value > old:
                marks[company] = value.strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps({"watermark": self.watermark.field, "marks": dict(sorted(marks.items()))})
