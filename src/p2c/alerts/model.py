"""What an alert is, and the pure rules that say which alerts a run or a quiet project raises.

An :class:`Alert` is one event for one project. The digest folds repeated events of one kind into
one alert with a ``count`` (``run_failed ×60``), keeping the latest message and the first time.

Example::

    >>> from datetime import UTC, datetime
    >>> at = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    >>> [a] = alerts_for_run("contoso", 12, "failed", 0, "ERP refused the login", AlertSettings(), at)
    >>> a.kind, a.summary
    (<AlertKind.RUN_FAILED: 'run_failed'>, 'run 12 failed')
    >>> a.as_dict()["at"]
    '2024-05-01T10:00:00+00:00'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from p2c.alerts.settings import AlertSettings

__all__ = ["Alert", "AlertKind", "alerts_for_run", "fold", "stale_alert"]

# run statuses (p2c.store.RunStatus values) that mean the run failed as a whole
_FAILED_STATUSES = frozenset({"failed", "crashed"})


class AlertKind(StrEnum):
    """Why a person is needed."""

    RUN_FAILED = "run_failed"  # a run failed (or crashed) as a whole
    RUN_PARTIAL = "run_partial"  # a run ended with at least ``failed_records`` failed records
    AUTO_PAUSED = "auto_paused"  # the service paused the project's schedule
    STALE = "stale"  # no successful run for ``stale_hours``
    UNREACHABLE = "unreachable"  # CRM or ERP gave no answer at all
    TEST = "test"  # a test message from the console or the CLI


@dataclass(frozen=True)
class Alert:
    """One event for one ``project``; ``count`` > 1 when the digest folded repeats of one kind
    (then ``first_at`` is the first one's time and ``at``/``message``/``run_id`` the latest's).

    ``details`` is free JSON-ready data; :attr:`summary` reads ``failed_records`` (run_partial),
    ``hours`` (stale) and ``service`` (unreachable: ``"ERP"``) from it when present."""

    project: str
    kind: AlertKind
    message: str
    at: datetime
    run_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    count: int = 1
    first_at: datetime | None = None

    @property
    def summary(self) -> str:
        """A short line for a subject or a chat message: ``run 12 failed``."""
        run = f"run {self.run_id}" if self.run_id is not None else "a run"
        if self.kind is AlertKind.RUN_FAILED:
            text = f"{run} failed"
        elif self.kind is AlertKind.RUN_PARTIAL:
            failed = self.details.get("failed_records")
            text = f"{run} ended with {failed} failed records" if failed is not None else f"{run} partial"
        elif self.kind is AlertKind.AUTO_PAUSED:
            text = "project paused"
        elif self.kind is AlertKind.STALE:
            hours = self.details.get("hours")
            text = f"no successful run for {hours:g} h" if isinstance(hours, int | float) else "stale"
        elif self.kind is AlertKind.UNREACHABLE:
            text = f"{self.details.get('service') or 'a service'} unreachable"
        else:
            text = "test alert"
        return f"{text} ×{self.count}" if self.count > 1 else text

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times in ISO 8601, the kind as its value."""
        return {
            "project": self.project,
            "kind": self.kind.value,
            "summary": self.summary,
            "message": self.message,
            "at": self.at.isoformat(),
            "first_at": (self.first_at or self.at).isoformat(),
            "count": self.count,
            "run_id": self.run_id,
            "details": _jsonable(self.details),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def fold(alerts: Iterable[Alert]) -> list[Alert]:
    """Repeats of one (project, kind) become one alert with their total ``count``, in order of
    first appearance; the latest message, time and run id win, ``first_at`` keeps the earliest.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2024, 5, 1, tzinfo=UTC)
    >>> [f] = fold(Alert("c", AlertKind.RUN_FAILED, "boom", t, run_id=n) for n in range(60))
    >>> f.summary, f.count
    ('run 59 failed ×60', 60)
    """
    out: dict[tuple[str, AlertKind], Alert] = {}
    for alert in alerts:
        key = (alert.project, alert.kind)
        seen = out.get(key)
        if seen is None:
            out[key] = alert
            continue
        first = min(seen.first_at or seen.at, alert.first_at or alert.at)
        latest = alert if alert.at >= seen.at else seen
        out[key] = replace(latest, count=seen.count + alert.count, first_at=first)
    return list(out.values())


def alerts_for_run(
    project: str,
    run_id: int | None,
    status: str,
    failed_records: int,
    message: str,
    settings: AlertSettings,
    at: datetime,
) -> list[Alert]:
    """The alerts a finished run raises: ``failed``/``crashed`` → run_failed; ``partial`` with at
    least ``settings.failed_records`` failed records → run_partial; anything else → none.
    ``status`` is a :class:`p2c.store.RunStatus` (or its value)."""
    status = str(status).lower()
    details: dict[str, Any] = {"status": status, "failed_records": failed_records}
    if status in _FAILED_STATUSES:
        return [Alert(project, AlertKind.RUN_FAILED, message, at, run_id, details)]
    if status == "partial" and failed_records >= settings.failed_records:
        return [Alert(project, AlertKind.RUN_PARTIAL, message, at, run_id, details)]
    return []


def stale_alert(
    project: str,
    last_success_at: datetime | None,
    settings: AlertSettings,
    now: datetime,
    since: datetime | None = None,
) -> Alert | None:
    """A ``stale`` alert when the project has had no successful run for ``settings.stale_hours``.

    ``last_success_at`` is None when it never succeeded: ``since`` (when it was first scheduled)
    is then the reference, and without it nothing can be said. The caller raises it once per
    stale episode (e.g. when this first returns an alert after a success); raising it on every
    check is folded by the digest but still sends one message per digest interval.
    """
    if settings.stale_hours is None:
        return None
    reference = last_success_at or since
    if reference is None or now - reference < timedelta(hours=settings.stale_hours):
        return None
    hours = round((now - reference).total_seconds() / 3600, 1)
    if last_success_at is None:
        message = f"no successful run since it was scheduled {hours:g} h ago"
    else:
        message = f"last successful run {hours:g} h ago ({last_success_at.isoformat()})"
    return Alert(
        project,
        AlertKind.STALE,
        message,
        now,
        details={"hours": hours, "last_success_at": last_success_at, "stale_hours": settings.stale_hours},
    )
