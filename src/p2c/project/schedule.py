"""A project's schedule: a cron expression, or a plain interval (``every: 15m``).

In ``p2c.yaml``::

    schedule: "*/15 * * * *"                 # cron: minute hour day month weekday
    schedule: {every: 15m}                   # or every N s, m, h or d
    schedule: {cron: "0 6 * * 1-5", tasks: [Accounts, Contacts]}   # only these tasks

Example::

    >>> s = Schedule.parse({"every": "90s"})
    >>> s.text, s.next_after(datetime(2026, 1, 1, tzinfo=UTC)).isoformat()
    ('every 90s', '2026-01-01T00:01:30+00:00')
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["Schedule"]

_EVERY = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Schedule:
    """When a project runs by itself: ``cron`` or ``every`` (one of them), and the ``tasks`` a
    scheduled run runs (empty: every enabled task). ``text`` is how people read it."""

    text: str
    cron: str | None = None
    every: timedelta | None = None
    tasks: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: Any) -> Schedule:
        """A schedule from ``p2c.yaml``'s value; ValueError says what is wrong, for the loader to
        place in the file."""
        if isinstance(value, str):
            return cls._cron(value, ())
        if not isinstance(value, Mapping):
            raise ValueError("a schedule is a cron expression or a mapping with cron or every (and tasks)")
        unknown = sorted(set(value) - {"cron", "every", "tasks"})
        if unknown:
            raise ValueError(f"unknown schedule key {unknown[0]!r} (cron, every, tasks)")
        tasks = value.get("tasks") or ()
        if (
            isinstance(tasks, str)
            or not isinstance(tasks, Sequence)
            or not all(isinstance(t, str) for t in tasks)
        ):
            raise ValueError("tasks is a list of task names")
        if ("cron" in value) == ("every" in value):
            raise ValueError("give one of cron or every")
        if "cron" in value:
            return cls._cron(str(value["cron"]), tuple(tasks))
        match = _EVERY.match(str(value["every"]))
        if match is None or int(match.group(1)) == 0:
            raise ValueError(
                f"invalid interval {value['every']!r}: a positive number and s, m, h or d, e.g. 15m"
            )
        n, unit = int(match.group(1)), match.group(2)
        return cls(f"every {n}{unit}", every=timedelta(seconds=n * _UNIT[unit]), tasks=tuple(tasks))

    @classmethod
    def _cron(cls, text: str, tasks: tuple[str, ...]) -> Schedule:
        from croniter import croniter

        if not croniter.is_valid(text):
            raise ValueError(
                f"invalid cron expression {text!r} (minute hour day month weekday, e.g. '*/15 * * * *')"
            )
        return cls(text, cron=text, tasks=tasks)

    def next_after(self, moment: datetime) -> datetime:
        """The first run time strictly after ``moment`` (UTC). An interval counts from ``moment``:
        after downtime the service runs once, then every interval from then."""
        moment = moment.astimezone(UTC)
        if self.every is not None:
            return moment + self.every
        from croniter import croniter

        assert self.cron is not None
        found = croniter(self.cron, moment).get_next(datetime)
        return found if found.tzinfo else found.replace(tzinfo=UTC)
