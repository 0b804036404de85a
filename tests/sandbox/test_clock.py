"""The emulators' row stamp: UTC to the second, formatted once per second."""

from __future__ import annotations

import pytest

from p2c_sandbox import clock


def test_the_stamp_follows_the_clock_second_by_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_780_000_000_400_000_000]  # 2026-05-28T20:26:40.4Z
    monkeypatch.setattr(clock.time, "time_ns", lambda: now[0])
    assert clock.now_utc_text() == "2026-05-28T20:26:40Z"
    now[0] += 500_000_000  # 40.9 s: the same second, the same text
    assert clock.now_utc_text() == "2026-05-28T20:26:40Z"
    now[0] += 200_000_000  # 41.1 s
    assert clock.now_utc_text() == "2026-05-28T20:26:41Z"
