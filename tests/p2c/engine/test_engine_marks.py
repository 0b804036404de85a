"""The cursor of a watermarked ERP task (p2c.engine.marks), without a service."""

from __future__ import annotations

import doctest
import json
from datetime import UTC, datetime, timedelta

import p2c.engine.marks
import p2c.project.watermark
from p2c.engine.marks import Marks
from p2c.project.watermark import Watermark

STAMP = Watermark("ModifiedDateTime", False, timedelta(hours=1))


def test_docstring_examples() -> None:
    for module in (p2c.engine.marks, p2c.project.watermark):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0


def test_each_company_keeps_its_highest_value_and_a_company_without_one_is_read_whole() -> None:
    marks = Marks.start(
        STAMP, json.dumps({"watermark": "ModifiedDateTime", "marks": {"usmf": "2026-03-01T10:30:00Z"}})
    )
    assert marks.filter("usmf") == "ModifiedDateTime ge 2026-03-01T09:30:00Z"
    assert marks.filter("demf") is None  # new in the project: read whole
    marks.saw("usmf", [{"ModifiedDateTime": "2026-03-01T10:00:00Z"}])  # inside the overlap: no move
    marks.saw("demf", [{"ModifiedDateTime": "2026-02-01T08:00:00Z"}, {"ModifiedDateTime": None}])
    assert json.loads(marks.cursor() or "") == {
        "watermark": "ModifiedDateTime",
        "marks": {"demf": "2026-02-01T08:00:00Z", "usmf": "2026-03-01T10:30:00Z"},
    }


def test_a_value_in_the_future_is_capped_at_the_read_start() -> None:
    marks = Marks.start(STAMP, None)
    marks.saw("usmf", [{"ModifiedDateTime": "2999-01-01T00:00:00Z"}])
    mark = json.loads(marks.cursor() or "")["marks"]["usmf"]
    assert datetime.fromisoformat(mark.replace("Z", "+00:00")) <= datetime.now(UTC)


def test_a_cursor_of_another_field_or_no_json_reads_whole() -> None:
    other = json.dumps({"watermark": "InvoiceDate", "marks": {"usmf": "2026-03-01T12:00:00Z"}})
    assert Marks.start(STAMP, other).filter("usmf") is None
    assert Marks.start(STAMP, "not json").filter("usmf") is None
    assert Marks.start(None, other).cursor() is None  # no watermark: no cursor
