"""Switchable faults and service protection, seen from a client over HTTPS."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest


def test_faults_are_off_by_default(sandbox) -> None:  # type: ignore[no-untyped-def]
    crm = sandbox.crm()
    statuses = {crm.get("WhoAmI").status_code for _ in range(30)}
    assert statuses == {200}
    state = sandbox.admin("crm").get("faults").json()
    assert state["injected"] == {"throttle": 0, "error": 0, "drop": 0}


def test_throttle_every_nth_request_with_retry_after(sandbox) -> None:  # type: ignore[no-untyped-def]
    r = sandbox.admin("erp").put("faults", json={"throttle_every": 3, "retry_after": 7})
    assert r.status_code == 200
    erp = sandbox.erp()
    statuses = [erp.get("CustomerGroups") for _ in range(6)]
    assert [s.status_code for s in statuses] == [200, 200, 429, 200, 200, 429]
    assert statuses[2].headers["retry-after"] == "7"
    assert "error" in statuses[2].json()


def test_throttle_for_a_period(sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.admin("crm").put("faults", json={"throttle_for_seconds": 0.5, "retry_after": 1})
    crm = sandbox.crm()
    assert crm.get("WhoAmI").status_code == 429
    time.sleep(0.6)
    assert crm.get("WhoAmI").status_code == 200


def test_error_rate_answers_5xx_reproducibly(sandbox) -> None:  # type: ignore[no-untyped-def]
    admin = sandbox.admin("crm")
    crm = sandbox.crm()
    runs = []
    for _ in range(2):
        admin.put("faults", json={"error_rate": 0.3, "error_status": 503, "seed": 42})
        runs.append([crm.get("WhoAmI").status_code for _ in range(40)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}
    assert 5 <= runs[0].count(503) <= 20


def test_latency_is_added(sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.admin("erp").put("faults", json={"latency_ms": 250})
    erp = sandbox.erp()
    started = time.perf_counter()
    assert erp.get("CustomerGroups").status_code == 200
    assert time.perf_counter() - started >= 0.25


def test_dropped_connection_mid_response(sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.admin("crm").put("faults", json={"drop_every": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        sandbox.crm().get("accounts")
    assert sandbox.admin("crm").get("faults").json()["injected"]["drop"] == 1


def test_bad_fault_settings_are_refused(sandbox) -> None:  # type: ignore[no-untyped-def]
    r = sandbox.admin("crm").put("faults", json={"throttle_evry": 2})
    assert r.status_code == 400
    assert "throttle_evry" in r.json()["error"]["message"]
    r = sandbox.admin("crm").put("faults", json={"error_rate": 2})
    assert r.status_code == 400


def test_concurrency_limit_answers_429_with_the_documented_code(sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.admin("crm").put("limits", json={"max_concurrent": 3})
    sandbox.admin("crm").put("faults", json={"latency_ms": 400})
    crm = sandbox.crm()
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: crm.get("WhoAmI"), range(8)))
    refused = [r for r in responses if r.status_code == 429]
    assert len([r for r in responses if r.status_code == 200]) >= 3
    assert refused, [r.status_code for r in responses]
    assert refused[0].json()["error"]["code"] == "0x80072326"
    assert "concurrent requests exceeded the limit of 3" in refused[0].json()["error"]["message"]
    assert int(refused[0].headers["retry-after"]) >= 1


def test_request_budget_per_window(sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.admin("erp").put("limits", json={"requests_per_window": 5, "window_seconds": 60})
    erp = sandbox.erp()
    statuses = [erp.get("CustomerGroups").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429, 429]
    r = erp.get("CustomerGroups")
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_limits_report_the_peak_of_requests_in_flight(sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.admin("crm").put("faults", json={"latency_ms": 300})
    crm = sandbox.crm()
    assert sandbox.admin("crm").get("limits").json()["peak_in_flight"] == 0  # reset before each test
    with ThreadPoolExecutor(5) as pool:
        statuses = list(pool.map(lambda _: crm.get("WhoAmI").status_code, range(5)))
    assert statuses == [200] * 5
    limits = sandbox.admin("crm").get("limits").json()
    assert limits["in_flight"] == 0 and 2 <= limits["peak_in_flight"] <= 5
