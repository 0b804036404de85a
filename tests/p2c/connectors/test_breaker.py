"""The breaker of one service: no HTTP answer at all for ``unreachable_after`` seconds → every request
fails at once with ServiceUnreachableError; busy answers (429, 5xx) and dropped responses stay patient.

A mock transport plays a host that refuses connections, or one that answers 503 or cuts responses.
"""

from __future__ import annotations

import time

import httpx
import pytest

from p2c.connectors import FnoConnector, RetryPolicy, StaticTokenProvider
from p2c.connectors.protocol_breaker import Breaker
from p2c.errors import ServiceUnavailableError, ServiceUnreachableError

# patient enough that, without a breaker, a refused host would keep a request busy for minutes
PATIENT = {"base": 0.05, "cap": 0.1, "max_attempts": 10_000, "jitter": 0.0}


def _erp(handler: object, after: float, **retry: float) -> FnoConnector:
    client = httpx.Client(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    policy = RetryPolicy(**{**PATIENT, **retry})  # type: ignore[arg-type]
    return FnoConnector(
        "https://erp.example.com", StaticTokenProvider("t0ken"), client, retry=policy, unreachable_after=after
    )


def test_a_refusing_host_opens_the_breaker_after_unreachable_after_and_then_fails_at_once() -> None:
    calls = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    erp = _erp(refuse, after=0.5)
    started = time.monotonic()
    with pytest.raises(ServiceUnreachableError) as caught:
        erp.probe("CustomerGroups")
    took = time.monotonic() - started
    assert 0.45 <= took < 1.5, took
    assert caught.value.service == "ERP"
    assert str(caught.value) == f"ERP unreachable since {caught.value.since}"
    assert len(caught.value.since) == 8  # hh:mm:ss
    sent = calls
    started = time.monotonic()
    with pytest.raises(ServiceUnreachableError):
        erp.probe("CustomersV3")
    assert time.monotonic() - started < 0.05 and calls == sent  # at once, nothing sent


@pytest.mark.parametrize("kind", ["503", "dropped"])
def test_busy_answers_and_dropped_responses_do_not_open_the_breaker(kind: str) -> None:
    calls = 0

    def busy(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls < 12:  # ~0.9 s of trouble, well past unreachable_after
            if kind == "dropped":
                raise httpx.RemoteProtocolError("peer closed connection", request=request)
            return httpx.Response(503, json={"error": {"code": "", "message": "busy"}})
        return httpx.Response(200, json={"value": []})

    erp = _erp(busy, after=0.2)
    assert erp.probe("CustomerGroups") == {"value": []}
    assert calls == 12


def test_an_answer_closes_the_streak_and_the_exhausted_back_off_stays_a_plain_unavailable() -> None:
    calls = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls % 2:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(503, json={"error": {"code": "", "message": "busy"}})

    erp = _erp(flaky, after=0.3, max_attempts=12)
    with pytest.raises(ServiceUnavailableError) as caught:
        erp.probe("CustomerGroups")
    assert not isinstance(caught.value, ServiceUnreachableError)


def test_breaker_bookkeeping() -> None:
    b = Breaker(after=10)
    assert b.remaining(now=0.0) is None and not b.is_open(now=0.0)
    b.failed(now=100.0)
    b.failed(now=105.0)  # the streak started at the first
    assert b.remaining(now=106.0) == 4.0
    assert b.is_open(now=110.0)
    b.reset()
    assert not b.is_open(now=1000.0) and b.since == ""
