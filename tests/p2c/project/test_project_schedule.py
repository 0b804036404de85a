"""A project's schedule: cron or a plain interval, optionally for some tasks, with precise errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from p2c.project import Schedule

T0 = datetime(2026, 12, 2, 10, 7, 30, tzinfo=UTC)


def test_cron_and_interval_give_the_next_run_after_a_moment() -> None:
    cron = Schedule.parse("*/15 * * * *")
    assert (cron.text, cron.next_after(T0)) == ("*/15 * * * *", datetime(2026, 12, 2, 10, 15, tzinfo=UTC))
    assert cron.next_after(datetime(2026, 12, 2, 10, 15, tzinfo=UTC)) == datetime(
        2026, 12, 2, 10, 30, tzinfo=UTC
    )
    every = Schedule.parse({"every": "5s", "tasks": ["Accounts"]})
    assert (every.text, every.every, every.tasks) == ("every 5s", timedelta(seconds=5), ("Accounts",))
    assert every.next_after(T0) == T0 + timedelta(seconds=5)
    assert Schedule.parse({"every": "2h"}).every == timedelta(hours=2)
    assert Schedule.parse({"cron": "0 6 * * 1-5"}).next_after(T0) == datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("every 5 minutes", "invalid cron expression"),
        ({"every": "5 minutes"}, "invalid interval"),
        ({"every": "0m"}, "invalid interval"),
        ({"every": "5m", "cron": "* * * * *"}, "one of cron or every"),
        ({}, "one of cron or every"),
        ({"every": "5m", "when": 1}, "unknown schedule key 'when'"),
        ({"every": "5m", "tasks": "Accounts"}, "list of task names"),
        (15, "a cron expression or a mapping"),
    ],
)
def test_bad_schedules_say_what_is_wrong(value: object, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Schedule.parse(value)
