"""The webhook channel against a real HTTP receiver on loopback: signature, retries, redaction."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

import httpx
import pytest
from alert_helpers import HOOK_SECRET, Receiver, free_port

from p2c.alerts import Alert, AlertKind, WebhookChannel, retry_delay, safe_url, sign, verify_signature

AT = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
ALERT = Alert("contoso", AlertKind.RUN_FAILED, "ERP refused the login", AT, run_id=12)


def channel(url: str, sleeps: list[float], **kw: object) -> WebhookChannel:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    return WebhookChannel(url, HOOK_SECRET, "ops", None, backoff=0.01, sleep=sleep, **kw)  # type: ignore[arg-type]


def test_the_post_is_signed_json_that_a_receiver_can_verify(receiver: Receiver, sleeps: list[float]) -> None:
    hook = channel(receiver.url, sleeps)
    delivery = hook.send("contoso", [ALERT], AT)
    assert (delivery.ok, delivery.attempts, delivery.error, delivery.channel) == (
        True,
        1,
        None,
        "webhook ops",
    )
    [request] = receiver.requests
    assert request.path == "/hooks/p2c"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert body["project"] == "contoso" and body["sent_at"] == AT.isoformat()
    assert body["summary"] == "contoso: run 12 failed"
    assert [a["kind"] for a in body["alerts"]] == ["run_failed"] and body["alerts"][0]["run_id"] == 12
    ts, signature = request.headers["X-P2C-Timestamp"], request.headers["X-P2C-Signature"]
    assert signature.startswith("sha256=")
    assert verify_signature(HOOK_SECRET, ts, request.body, signature)
    assert not verify_signature("another-secret", ts, request.body, signature)
    assert not verify_signature(HOOK_SECRET, ts, request.body + b" ", signature)
    assert not verify_signature(HOOK_SECRET, ts, request.body, signature, now=int(ts) + 301)
    assert not verify_signature(HOOK_SECRET, "not-a-number", request.body, signature)
    assert not verify_signature(HOOK_SECRET, ts, request.body, None)
    hook.close()


def test_503_twice_then_200_is_delivered_on_the_third_attempt(
    receiver: Receiver, sleeps: list[float]
) -> None:
    receiver.script = [(503, {}), (503, {})]
    delivery = channel(receiver.url, sleeps).send("contoso", [ALERT], AT)
    assert (delivery.ok, delivery.attempts) == (True, 3)
    assert len(receiver.requests) == 3
    assert sleeps == [0.01, 0.02]  # doubling back-off
    # every attempt is signed afresh and verifies
    for request in receiver.requests:
        assert verify_signature(
            HOOK_SECRET, request.headers["X-P2C-Timestamp"], request.body, request.headers["X-P2C-Signature"]
        )


def test_400_is_not_retried(receiver: Receiver, sleeps: list[float]) -> None:
    receiver.script = [(400, {})]
    delivery = channel(receiver.url, sleeps).send("contoso", [ALERT], AT)
    assert (delivery.ok, delivery.attempts, len(receiver.requests), sleeps) == (False, 1, 1, [])
    assert delivery.error == f"HTTP 400 Bad Request from {receiver.url}"


def test_429_waits_what_retry_after_says(receiver: Receiver, sleeps: list[float]) -> None:
    receiver.script = [(429, {"Retry-After": "0.05"})]
    delivery = channel(receiver.url, sleeps).send("contoso", [ALERT], AT)
    assert (delivery.ok, delivery.attempts, sleeps) == (True, 2, [0.05])


def test_a_receiver_that_stays_down_gives_up_after_the_attempts(
    receiver: Receiver, sleeps: list[float]
) -> None:
    receiver.default = 500
    delivery = channel(receiver.url, sleeps, attempts=4).send("contoso", [ALERT], AT)
    assert (delivery.ok, delivery.attempts, len(receiver.requests)) == (False, 4, 4)
    assert sleeps == [0.01, 0.02, 0.04]
    assert delivery.error is not None and delivery.error.startswith("HTTP 500")


def test_errors_show_neither_the_secret_nor_the_query_string(sleeps: list[float]) -> None:
    url = f"http://user:pw-in-url@127.0.0.1:{free_port()}/hook?token=tok-in-query-77"
    hook = channel(url, sleeps, attempts=3)
    delivery = hook.send("contoso", [ALERT], AT)
    assert (delivery.ok, delivery.attempts) == (False, 3)  # connection refused is retried
    assert delivery.error is not None and "ConnectError" in delivery.error
    assert safe_url(url) in delivery.error
    for text in (delivery.error, repr(hook), repr(delivery)):
        assert "tok-in-query-77" not in text and HOOK_SECRET not in text and "pw-in-url" not in text


def test_an_injected_client_is_used_and_not_closed(receiver: Receiver, sleeps: list[float]) -> None:
    with httpx.Client(headers={"X-Test": "injected"}) as client:
        hook = WebhookChannel(receiver.url, HOOK_SECRET, client=client)
        assert hook.send("contoso", [ALERT], AT).ok
        hook.close()
        assert not client.is_closed
    assert receiver.requests[0].headers["X-Test"] == "injected"
    assert hook.name == "webhook 127.0.0.1"


@pytest.mark.parametrize(
    ("status", "retry_after", "attempt", "expected"),
    [
        (None, None, 1, 1.0),
        (502, None, 2, 2.0),
        (503, None, 10, 60.0),  # capped
        (429, "7", 1, 7.0),
        (429, None, 2, 2.0),
        (429, "100000", 1, 300.0),  # a receiver cannot park the service for a day
        (429, "Wed, 01 May 2024 10:00:30 GMT", 1, 30.0),
        (400, None, 1, None),
        (404, None, 1, None),
        (301, None, 1, None),
    ],
)
def test_retry_delay(
    status: int | None, retry_after: str | None, attempt: int, expected: float | None
) -> None:
    assert retry_delay(status, retry_after, attempt, 1.0, now=AT) == expected


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, b"{}") == f"sha256={expected}"


def test_the_token_in_a_webhook_query_never_reaches_a_log_line(
    receiver: Receiver, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    url = receiver.url + "?token=tok-logged-by-httpx"
    with caplog.at_level(logging.DEBUG):
        delivery = channel(url, sleeps).send("contoso", [ALERT], AT)
    assert delivery.ok
    assert receiver.requests[0].path == "/hooks/p2c?token=tok-logged-by-httpx"  # the receiver gets it
    assert "HTTP Request: POST" in caplog.text  # httpx did log the request...
    assert "tok-logged-by-httpx" not in caplog.text  # ...without the token
