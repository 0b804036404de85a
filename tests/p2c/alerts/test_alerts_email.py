"""The e-mail channel against a real SMTP server on loopback (aiosmtpd): plain, STARTTLS + AUTH,
SMTPS, and errors that never show the password."""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime

import pytest
from alert_helpers import SMTP_PASSWORD, SMTP_USER, SmtpServer, Tls, free_port

from p2c.alerts import Alert, AlertKind, AlertSettings, EmailChannel, build_channels, fold
from p2c.settings import Secret
from p2c.yaml_doc import parse_yaml

AT = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
ALERT = Alert("contoso", AlertKind.RUN_FAILED, "ERP refused the login\nsecond line", AT, run_id=12)


def test_a_message_reaches_every_recipient_with_subject_and_body(smtp: SmtpServer) -> None:
    mail = EmailChannel(smtp.host, smtp.port, "p2c@example.com", ["ops@example.com", "oncall@example.com"])
    delivery = mail.send("contoso", [ALERT], AT)
    assert (delivery.ok, delivery.attempts, delivery.error, delivery.channel) == (True, 1, None, "email")
    [envelope] = smtp.inbox.envelopes
    assert envelope.mail_from == "p2c@example.com"
    assert envelope.rcpt_tos == ["ops@example.com", "oncall@example.com"]
    [message] = smtp.inbox.messages
    assert message["Subject"] == "[p2c] contoso: run 12 failed"
    assert message["To"] == "ops@example.com, oncall@example.com"
    body = message.get_content()
    assert "run_failed" in body and "run 12" in body and AT.isoformat() in body
    assert "ERP refused the login" in body and "second line" in body


def test_a_digest_has_one_subject_and_lists_each_kind_with_its_count(smtp: SmtpServer) -> None:
    alerts = [Alert("contoso", AlertKind.RUN_FAILED, "boom", AT, run_id=n) for n in range(59)]
    alerts.append(Alert("contoso", AlertKind.AUTO_PAUSED, "paused after repeated failures", AT))
    EmailChannel(smtp.host, smtp.port, "p2c@example.com", ["ops@example.com"]).send(
        "contoso", fold(alerts), AT
    )
    [message] = smtp.inbox.messages
    assert message["Subject"] == "[p2c] contoso: 60 alerts (run_failed ×59, auto_paused)"
    body = message.get_content()
    assert "run_failed ×59" in body and "auto_paused" in body and body.count("boom") == 1


def test_starttls_and_login(smtp_starttls: SmtpServer, tls: Tls) -> None:
    mail = EmailChannel(
        smtp_starttls.host,
        smtp_starttls.port,
        "p2c@example.com",
        ["ops@example.com"],
        username=SMTP_USER,
        password=Secret(SMTP_PASSWORD),
        starttls=True,
        ssl_context=tls.client_context(),
    )
    delivery = mail.send("contoso", [ALERT], AT)
    assert delivery.ok, delivery.error
    assert len(smtp_starttls.inbox.messages) == 1
    assert smtp_starttls.inbox.logins == [SMTP_USER]
    assert SMTP_PASSWORD not in repr(mail)


def test_a_wrong_password_is_a_clear_error_without_the_password(
    smtp_starttls: SmtpServer, tls: Tls, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-password-9f8e7d"
    mail = EmailChannel(
        smtp_starttls.host,
        smtp_starttls.port,
        "p2c@example.com",
        ["ops@example.com"],
        username=SMTP_USER,
        password=wrong,
        starttls=True,
        ssl_context=tls.client_context(),
        sleep=lambda s: None,
    )
    with caplog.at_level(logging.DEBUG):
        delivery = mail.send("contoso", [ALERT], AT)
    assert not delivery.ok and delivery.attempts == 1  # a refused login is not retried
    assert delivery.error is not None
    assert delivery.error.startswith(f"SMTP 127.0.0.1:{smtp_starttls.port}: login as 'p2c' refused (535")
    import base64

    leaks = [
        wrong,
        base64.b64encode(wrong.encode()).decode(),
        base64.b64encode(f"\0p2c\0{wrong}".encode()).decode(),
    ]
    for text in (delivery.error, repr(delivery), repr(mail), caplog.text):
        assert not any(leak in text for leak in leaks)
    assert smtp_starttls.inbox.envelopes == []


def test_without_starttls_the_server_that_requires_it_refuses(smtp_starttls: SmtpServer) -> None:
    mail = EmailChannel(
        smtp_starttls.host,
        smtp_starttls.port,
        "p2c@example.com",
        ["ops@example.com"],
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        sleep=lambda s: None,
    )
    delivery = mail.send("contoso", [ALERT], AT)
    assert not delivery.ok and delivery.error is not None and SMTP_PASSWORD not in delivery.error
    assert "STARTTLS" in delivery.error or "AUTH" in delivery.error, delivery.error


def test_an_untrusted_certificate_fails_the_tls_handshake(smtp_starttls: SmtpServer) -> None:
    mail = EmailChannel(
        smtp_starttls.host,
        smtp_starttls.port,
        "p2c@example.com",
        ["ops@example.com"],
        starttls=True,
        attempts=1,
    )
    delivery = mail.send("contoso", [ALERT], AT)
    assert not delivery.ok and delivery.error is not None and "TLS failed" in delivery.error


def test_smtps_from_settings_with_a_private_ca(smtps: SmtpServer, tls: Tls) -> None:
    text = (
        f"alerts:\n  email:\n    host: 127.0.0.1\n    port: {smtps.port}\n    ssl: true\n"
        f"    username: {SMTP_USER}\n    password: env:PW\n    sender: p2c@example.com\n"
        f"    to: [ops@example.com]\n    ca_bundle: {tls.cert}\n"
    )
    doc = parse_yaml(text, "p2c.yaml")
    settings = AlertSettings.from_data(doc.data["alerts"], doc, env={"PW": SMTP_PASSWORD})
    [mail] = build_channels(settings)
    delivery = mail.send("contoso", [ALERT], AT)
    assert delivery.ok, delivery.error
    assert smtps.inbox.messages[0]["Subject"] == "[p2c] contoso: run 12 failed"
    assert smtps.inbox.logins == [SMTP_USER]


def test_a_closed_port_is_retried_then_reported(sleeps: list[float]) -> None:
    port = free_port()
    mail = EmailChannel(
        "127.0.0.1", port, "p2c@example.com", ["o@example.com"], attempts=3, sleep=sleeps.append
    )
    delivery = mail.send("contoso", [ALERT], AT)
    assert (delivery.ok, delivery.attempts, sleeps) == (False, 3, [2.0, 4.0])
    assert delivery.error is not None and delivery.error.startswith(f"SMTP 127.0.0.1:{port}: ")


def test_ssl_and_starttls_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        EmailChannel("h", 1, "a@b", ["c@d"], starttls=True, ssl=True)


def test_smtplib_is_what_sends() -> None:
    # the channel uses the standard library only: no extra dependency for mail
    assert EmailChannel._deliver.__module__ == "p2c.alerts.mail" and smtplib.SMTP
