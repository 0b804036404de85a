"""The current time as both emulators stamp rows with it: UTC, to the second, ``...Z``.

>>> len(now_utc_text()), now_utc_text().endswith("Z")
(20, True)
"""

from __future__ import annotations

import time

__all__ = ["now_utc_text"]


def now_utc_text() -> str:
    """The current UTC time to the second, as Dataverse writes ``createdon``/``modifiedon`` and
    F&O ``OrderCreationDateTime``. Formatted once per second, not once per row: a ``$batch`` of
    1 000 writes asks it 1 000 times within a second or two."""
    global _now
    second = time.time_ns() // 1_000_000_000
    cached = _now
    if cached[0] != second:
        cached = _now = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return cached[1]


_now: tuple[int, str] = (-1, "")  # (the second, its text): replaced when the clock moves on
