"""The pure rules: which alerts a run raises, when a project is stale, how repeats fold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from p2c.alerts import Alert, AlertKind, AlertSettings, alerts_for_run, fold, stale_alert, subject_line
from p2c.store import RunStatus

AT = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_a_failed_or_crashed_run_raises_run_failed() -> None:
    for status in (RunStatus.FAILED, RunStatus.CRASHED, "failed"):
        [alert] = alerts_for_run("contoso", 12, status, 0, "ERP refused the login", AlertSettings(), AT)
        assert (alert.kind, alert.run_id, alert.message) == (
            AlertKind.RUN_FAILED,
            12,
            "ERP refused the login",
        )
        assert alert.summary == "run 12 failed"


def test_a_partial_run_alerts_from_the_threshold_on() -> None:
    settings = AlertSettings(failed_records=3)
    assert alerts_for_run("c", 1, RunStatus.PARTIAL, 2, "2 failed", settings, AT) == []
    [alert] = alerts_for_run("c", 1, RunStatus.PARTIAL, 3, "3 failed", settings, AT)
    assert alert.kind is AlertKind.RUN_PARTIAL
    assert alert.summary == "run 1 ended with 3 failed records"
    assert alerts_for_run("c", 1, RunStatus.SUCCEEDED, 0, "", settings, AT) == []


def test_stale_after_the_configured_hours_and_only_then() -> None:
    settings = AlertSettings(stale_hours=24)
    assert stale_alert("c", AT - timedelta(hours=23), settings, AT) is None
    alert = stale_alert("c", AT - timedelta(hours=26), settings, AT)
    assert alert is not None and alert.kind is AlertKind.STALE
    assert alert.summary == "no successful run for 26 h"
    assert stale_alert("c", AT - timedelta(days=9), AlertSettings(stale_hours=None), AT) is None


def test_a_project_that_never_succeeded_is_stale_from_when_it_was_scheduled() -> None:
    settings = AlertSettings(stale_hours=1)
    assert stale_alert("c", None, settings, AT) is None
    alert = stale_alert("c", None, settings, AT, since=AT - timedelta(hours=2))
    assert alert is not None and "since it was scheduled" in alert.message


def test_repeats_fold_into_one_alert_with_a_count_and_the_first_time() -> None:
    alerts = [
        Alert("c", AlertKind.RUN_FAILED, f"boom {n}", AT + timedelta(minutes=n), run_id=n) for n in range(60)
    ]
    alerts.insert(5, Alert("c", AlertKind.AUTO_PAUSED, "paused after 5 failures", AT))
    folded = fold(alerts)
    assert [(a.kind, a.count) for a in folded] == [(AlertKind.RUN_FAILED, 60), (AlertKind.AUTO_PAUSED, 1)]
    failed = folded[0]
    assert (failed.run_id, failed.message, failed.first_at, failed.at) == (
        59,
        "boom 59",
        AT,
        AT + timedelta(minutes=59),
    )
    assert subject_line("c", folded) == "c: 61 alerts (run_failed ×60, auto_paused)"
    assert subject_line("c", alerts[:1]) == "c: run 0 failed"


def test_as_dict_is_json_ready() -> None:
    alert = Alert(
        "c", AlertKind.UNREACHABLE, "no answer", AT, details={"service": "ERP", "since": AT, "n": 2}
    )
    data = json.loads(json.dumps(alert.as_dict()))
    assert data["kind"] == "unreachable" and data["at"] == "2024-05-01T10:00:00+00:00"
    assert data["summary"] == "ERP unreachable" and data["details"]["since"] == "2024-05-01T10:00:00+00:00"
    assert data["count"] == 1 and data["first_at"] == data["at"]
