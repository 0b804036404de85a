"""The digest and delivery over real receivers: one message at once, one digest later, a broken
channel that neither stops the others nor loses its alerts, a history, and no secret in any log."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import datetime

import pytest
from alert_helpers import HOOK_SECRET, SMTP_PASSWORD, SMTP_USER, Clock, Receiver, SmtpServer, Tls, free_port

from p2c.alerts import (
    HISTORY_SIZE,
    Alert,
    Alerter,
    AlertKind,
    AlertSettings,
    Channel,
    Delivery,
    EmailChannel,
    WebhookChannel,
)


def hook(url: str, attempts: int = 2) -> WebhookChannel:
    return WebhookChannel(url, HOOK_SECRET, "ops", attempts=attempts, backoff=0.001)


def mail(smtp: SmtpServer) -> EmailChannel:
    return EmailChannel(smtp.host, smtp.port, "p2c@example.com", ["ops@example.com"])


def failed(clock: Clock, run_id: int, project: str = "contoso") -> Alert:
    return Alert(project, AlertKind.RUN_FAILED, f"run {run_id}: ERP refused the login", clock.now, run_id)


def kinds_and_counts(receiver: Receiver) -> list[list[tuple[str, int]]]:
    return [[(a["kind"], a["count"]) for a in json.loads(r.body)["alerts"]] for r in receiver.requests]


def test_sixty_failures_in_one_interval_are_one_message_now_and_one_digest(
    receiver: Receiver, smtp: SmtpServer, clock: Clock
) -> None:
    channels: list[Channel] = [hook(receiver.url), mail(smtp)]
    alerter = Alerter(AlertSettings(digest_minutes=15), channels, clock=clock)
    alerter.raise_alert(failed(clock, 1))
    assert [d.ok for d in alerter.flush()] == [True, True]  # the first goes out at once
    for run_id in range(2, 61):
        clock.advance(seconds=10)
        alerter.raise_alert(failed(clock, run_id))
        assert alerter.flush() == []  # held: the service flushes every few seconds
    assert [(a.kind, a.count) for a in alerter.pending()["email"]] == [(AlertKind.RUN_FAILED, 59)]
    clock.advance(minutes=6)  # 15 minutes after the first message
    deliveries = alerter.flush()
    assert [(d.channel, d.ok, d.alerts) for d in deliveries] == [
        ("webhook ops", True, 59),
        ("email", True, 59),
    ]
    assert alerter.flush() == [] and alerter.pending() == {}
    assert kinds_and_counts(receiver) == [[("run_failed", 1)], [("run_failed", 59)]]
    subjects = [m["Subject"] for m in smtp.inbox.messages]
    assert subjects == ["[p2c] contoso: run 1 failed", "[p2c] contoso: 59 alerts (run_failed ×59)"]
    digest = json.loads(receiver.requests[1].body)["alerts"][0]
    assert digest["run_id"] == 60 and digest["first_at"] < digest["at"]


def test_a_broken_hour_is_a_handful_of_messages_not_sixty(receiver: Receiver, clock: Clock) -> None:
    alerter = Alerter(AlertSettings(digest_minutes=15), [hook(receiver.url)], clock=clock)
    for run_id in range(60):
        alerter.raise_alert(failed(clock, run_id))
        alerter.flush()
        clock.advance(minutes=1)
    alerter.flush()
    counts = [c for message in kinds_and_counts(receiver) for _, c in message]
    assert len(receiver.requests) == 5 and sum(counts) == 60, counts


def test_digest_zero_sends_each_alert_as_its_own_message(receiver: Receiver, clock: Clock) -> None:
    alerter = Alerter(AlertSettings(digest_minutes=0), [hook(receiver.url)], clock=clock)
    for run_id in (1, 2, 3):
        alerter.raise_alert(failed(clock, run_id))
    assert len(alerter.flush()) == 3
    assert kinds_and_counts(receiver) == [[("run_failed", 1)]] * 3


def test_projects_have_their_own_digest(receiver: Receiver, clock: Clock) -> None:
    alerter = Alerter(AlertSettings(), [hook(receiver.url)], clock=clock)
    alerter.raise_alert(failed(clock, 1, "contoso"))
    alerter.raise_alert(failed(clock, 2, "fabrikam"))
    assert len(alerter.flush()) == 2
    assert sorted(json.loads(r.body)["project"] for r in receiver.requests) == ["contoso", "fabrikam"]


def test_a_broken_channel_does_not_stop_the_others(smtp: SmtpServer, clock: Clock) -> None:
    broken = hook(f"http://127.0.0.1:{free_port()}/hook?token=tok-77")
    alerter = Alerter(AlertSettings(), [broken, mail(smtp)], clock=clock)
    alerter.raise_alert(failed(clock, 1))
    deliveries = alerter.flush()
    assert [(d.channel, d.ok, d.attempts) for d in deliveries] == [
        ("webhook ops", False, 2),
        ("email", True, 1),
    ]
    assert len(smtp.inbox.messages) == 1
    [record] = alerter.history()
    assert record.status == "partly delivered" and record.waiting == ("webhook ops",)
    assert "tok-77" not in json.dumps(record.as_dict())


class Exploding:
    """A channel with a bug: the alerter must carry on with the next one."""

    name = "exploding"

    def send(self, project: str, alerts: Sequence[Alert], sent_at: datetime) -> Delivery:
        raise RuntimeError("bug")

    def close(self) -> None:
        pass


def test_a_channel_that_raises_is_a_failed_delivery(receiver: Receiver, clock: Clock) -> None:
    alerter = Alerter(AlertSettings(), [Exploding(), hook(receiver.url)], clock=clock)
    alerter.raise_alert(failed(clock, 1))
    deliveries = alerter.flush()
    assert [(d.channel, d.ok) for d in deliveries] == [("exploding", False), ("webhook ops", True)]
    assert deliveries[0].error == "RuntimeError in the channel"


def test_a_failed_channel_keeps_its_alerts_for_the_next_digest(receiver: Receiver, clock: Clock) -> None:
    alerter = Alerter(AlertSettings(digest_minutes=0), [hook(receiver.url)], clock=clock)
    receiver.default = 503
    alerter.raise_alert(failed(clock, 1))
    assert [d.ok for d in alerter.flush()] == [False]
    assert [a.run_id for a in alerter.pending()["webhook ops"]] == [1]
    receiver.default = 200
    clock.advance(seconds=30)
    assert alerter.flush() == []  # not hammered: a failed channel waits at least a minute
    clock.advance(seconds=31)
    assert [d.ok for d in alerter.flush()] == [True]
    assert alerter.pending() == {}
    assert [r.status for r in alerter.history()] == ["delivered"]
    assert len(alerter.history()[0].deliveries) == 2


def test_without_channels_alerts_are_recorded_and_logged(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    alerter = Alerter(AlertSettings(), clock=clock)
    assert alerter.channels == []
    with caplog.at_level(logging.INFO, logger="p2c.alerts"):
        alerter.raise_alert(failed(clock, 7))
    assert alerter.flush() == [] and alerter.pending() == {}
    [record] = alerter.history()
    assert record.status == "recorded"
    assert "alert contoso run_failed: run 7: ERP refused the login" in caplog.text


def test_send_test_goes_out_at_once_past_the_digest(receiver: Receiver, clock: Clock) -> None:
    alerter = Alerter(AlertSettings(), [hook(receiver.url)], clock=clock)
    alerter.raise_alert(failed(clock, 1))
    alerter.flush()
    [delivery] = alerter.send_test("contoso")
    assert delivery.ok and kinds_and_counts(receiver)[-1] == [("test", 1)]
    assert alerter.history()[0].alert.kind is AlertKind.TEST


def test_raising_from_many_threads_loses_nothing(receiver: Receiver, clock: Clock) -> None:
    alerter = Alerter(AlertSettings(), [hook(receiver.url)], clock=clock)

    def worker(n: int) -> None:
        for i in range(25):
            alerter.raise_alert(failed(clock, n * 100 + i))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(alerter.history()) == 200
    assert len(alerter.flush()) == 1
    assert [a.count for a in alerter.pending()["webhook ops"]] == [199]


def test_history_is_newest_first_and_bounded(clock: Clock) -> None:
    alerter = Alerter(AlertSettings(), clock=clock)
    for run_id in range(HISTORY_SIZE + 50):
        alerter.raise_alert(failed(clock, run_id))
    history = alerter.history()
    assert len(history) == HISTORY_SIZE
    assert history[0].alert.run_id == HISTORY_SIZE + 49 and history[-1].alert.run_id == 50


def test_no_secret_in_any_repr_log_line_error_or_history(
    smtp_starttls: SmtpServer, tls: Tls, receiver: Receiver, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-smtp-password-31337"
    token_url = f"http://127.0.0.1:{free_port()}/hook?token=tok-secret-in-query"
    settings = AlertSettings.model_validate(
        {
            "webhooks": [
                {"url": token_url, "secret": HOOK_SECRET, "attempts": 2, "backoff_seconds": 0.001},
                {"url": receiver.url, "secret": HOOK_SECRET},
            ],
            "email": {
                "host": smtp_starttls.host,
                "port": smtp_starttls.port,
                "starttls": True,
                "username": SMTP_USER,
                "password": wrong,
                "sender": "p2c@example.com",
                "to": ["ops@example.com"],
            },
        }
    )
    with caplog.at_level(logging.DEBUG), Alerter(settings, clock=clock) as alerter:
        # the default channels use the system CA store: trust the test CA on the email one
        email = alerter.channels[-1]
        assert isinstance(email, EmailChannel)
        email._context = tls.client_context()
        assert [c.name for c in alerter.channels] == [
            "webhook 127.0.0.1",
            "webhook 127.0.0.1 #2",
            "email",
        ]
        alerter.raise_alert(failed(clock, 1))
        deliveries = alerter.flush()
        history = json.dumps([r.as_dict() for r in alerter.history()])
        texts = [repr(settings), settings.model_dump_json(), repr(alerter.channels), repr(deliveries)]
        texts += [history, caplog.text]
    assert [d.ok for d in deliveries] == [False, True, False]
    assert "login as 'p2c' refused" in caplog.text
    for text in texts:
        for leak in (wrong, HOOK_SECRET, "tok-secret-in-query", SMTP_PASSWORD):
            assert leak not in text, (leak, text)


def test_a_failed_test_message_is_not_retried(clock: Clock) -> None:
    alerter = Alerter(AlertSettings(), [hook(f"http://127.0.0.1:{free_port()}/hook")], clock=clock)
    [delivery] = alerter.send_test()
    assert not delivery.ok
    assert alerter.pending() == {} and alerter.history()[0].status == "failed"
