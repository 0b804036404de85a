"""Retry decisions, the throttle gate, paging and the bisection plan: pure, with literal responses."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from p2c.connectors.protocol import (
    Bisect,
    GiveUp,
    Isolate,
    Pager,
    PageRequest,
    Retry,
    RetryPolicy,
    Service,
    ThrottleGate,
    retry_after_seconds,
    split_failed,
)
from p2c.errors import RecordError, ServiceUnavailableError

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


def policy(**kw: object) -> RetryPolicy:
    return RetryPolicy(jitter=0, rng=random.Random(1), **kw)  # type: ignore[arg-type]


def test_429_honours_retry_after_in_seconds() -> None:
    assert policy().decide(429, {"Retry-After": "7"}, attempt=1) == Retry(
        7.0, "throttled (429), Retry-After 7 s"
    )


def test_429_honours_retry_after_as_an_http_date() -> None:
    decision = policy().decide(429, {"retry-after": "Wed, 01 May 2024 12:00:42 GMT"}, attempt=1, now=NOW)
    assert isinstance(decision, Retry)
    assert decision.after_seconds == 42.0


def test_retry_after_forms() -> None:
    assert retry_after_seconds("3", NOW) == 3.0
    assert retry_after_seconds(" 1.5 ", NOW) == 1.5
    assert retry_after_seconds("Wed, 01 May 2024 11:59:00 GMT", NOW) == 0.0  # in the past: now
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None


def test_429_without_retry_after_waits_the_service_default() -> None:
    fno = RetryPolicy.for_service(Service.FNO, jitter=0).decide(429, {}, attempt=1)
    crm = RetryPolicy.for_service(Service.DATAVERSE, jitter=0).decide(429, {}, attempt=1)
    assert isinstance(fno, Retry) and fno.after_seconds == 30.0  # FNO.md §1.9
    assert isinstance(crm, Retry) and crm.after_seconds == 5.0


def test_5xx_and_network_errors_back_off_exponentially_up_to_the_cap() -> None:
    p = policy(base=1.0, cap=5.0)
    delays = []
    for attempt in range(1, 6):
        d = p.decide(503, {}, attempt=attempt)
        assert isinstance(d, Retry)
        delays.append(d.after_seconds)
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert isinstance(p.decide(None, {}, attempt=1), Retry)  # network error
    assert isinstance(p.decide(502, {}, attempt=1), Retry)
    assert isinstance(p.decide(504, {}, attempt=1), Retry)


def test_jitter_adds_at_most_the_fraction() -> None:
    p = RetryPolicy(base=1.0, jitter=0.5, rng=random.Random(3))
    for _ in range(50):
        d = p.decide(503, {}, attempt=1)
        assert isinstance(d, Retry) and 1.0 <= d.after_seconds <= 1.5


def test_gives_up_after_max_attempts_and_on_terminal_statuses() -> None:
    p = policy(max_attempts=3)
    assert isinstance(p.decide(503, {}, attempt=2), Retry)
    assert p.decide(503, {}, attempt=3) == GiveUp("HTTP 503 after 3 attempts")
    for status in (400, 401, 404, 409, 412):
        assert isinstance(p.decide(status, {}, attempt=1), GiveUp)


def test_the_class_of_the_error_decides_for_a_500() -> None:
    p = policy()
    infolog = RecordError("Customer group 99 does not exist", status=500)
    assert isinstance(p.decide(500, {}, attempt=1, error=infolog), GiveUp)
    assert isinstance(p.decide(500, {}, attempt=1, error=ServiceUnavailableError("boom", status=500)), Retry)


def test_retry_after_longer_than_the_limit_is_capped() -> None:
    d = policy(max_retry_after=60).decide(429, {"Retry-After": "3600"}, attempt=1)
    assert isinstance(d, Retry) and d.after_seconds == 60


def test_throttle_gate_pauses_everyone_until_the_latest_deadline() -> None:
    gate = ThrottleGate()
    assert gate.delay(now=10.0) == 0.0
    gate.pause(5.0, now=10.0)
    gate.pause(1.0, now=11.0)  # a shorter pause does not shorten the running one
    assert gate.delay(now=12.0) == 3.0
    assert gate.delay(now=20.0) == 0.0


def test_pager_follows_next_links_verbatim_and_keeps_the_delta_link() -> None:
    pager = Pager("accounts", {"$select": "name"})
    assert pager.next_request == PageRequest("accounts", {"$select": "name"})
    link = "https://org/api/data/v9.2/accounts?$select=name&$skiptoken=%3Ccookie%20pagenumber=%222%22%20/%3E"
    assert pager.feed({"value": [{"name": "A"}, {"name": "B"}], "@odata.nextLink": link}) == [
        {"name": "A"},
        {"name": "B"},
    ]
    assert pager.next_request == PageRequest(link, None)
    delta = "https://org/api/data/v9.2/accounts?$select=name&$deltatoken=919042%2108%2f22%2f2017"
    assert pager.feed({"value": [{"name": "C"}], "@odata.deltaLink": delta}) == [{"name": "C"}]
    assert pager.done and pager.delta_link == delta and pager.pages == 2


def test_pager_refuses_a_body_without_value() -> None:
    with pytest.raises(ValueError, match="value"):
        Pager("x").feed({"error": {}})


def test_split_plan_bisects_large_batches_and_isolates_small_ones() -> None:
    plan = split_failed(list(range(10)), isolate_at=3)
    assert plan == Bisect(([0, 1, 2, 3, 4], [5, 6, 7, 8, 9]))
    assert split_failed([0, 1, 2], isolate_at=3) == Isolate([0, 1, 2])
    assert split_failed([7], isolate_at=0) == Isolate([7])


def test_bisection_isolates_every_bad_row_of_a_batch() -> None:
    """Drive the plan as the connector does, with an all-or-nothing 'service' that refuses bad rows."""
    bad = {13, 500, 501, 977}
    requests = 0
    isolated: list[int] = []

    def send(rows: list[int]) -> None:
        nonlocal requests
        requests += 1
        if not bad & set(rows):
            return
        plan = split_failed(rows, isolate_at=64)
        if isinstance(plan, Isolate):
            isolated.extend(r for r in plan.items if r in bad)  # one request of single operations
            requests += 1
            return
        for half in plan.halves:
            send(half)

    send(list(range(1000)))
    assert sorted(isolated) == sorted(bad)
    assert requests < 30
