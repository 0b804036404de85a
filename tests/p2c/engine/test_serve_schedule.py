"""``p2c serve`` runs projects on their schedule, never two runs of a project at once, stops cleanly."""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from engine_helpers import crm_rows, p2c, synced_customers
from serve_helpers import serve, stop, wait_for

from p2c.store import ProjectLockedError, RunStatus, StateStore, now


def _runs(world: Any) -> list[Any]:
    with StateStore(world.project().state_url) as store:
        return store.runs(limit=1000)


@pytest.mark.slow
def test_a_schedule_runs_by_itself_and_never_overlaps_a_cli_run(
    provisioned_project: Any, sandbox: Any
) -> None:
    world = provisioned_project
    world.write(schedule={"every": "1s"})
    sandbox.admin("erp").put("faults", json={"latency_ms": 40})  # runs of about a second: they meet
    cli_codes: list[int] = []
    with serve(world.path) as s:
        wait_for(lambda: len([r for r in s.get("/runs") if r["trigger"] == "schedule"]) >= 2, timeout=60)

        def cli_runs() -> None:
            for _ in range(4):
                cli_codes.append(p2c("run", cwd=world.dir).returncode)

        t = threading.Thread(target=cli_runs)
        t.start()
        t.join(300)
        # the project held by the test itself: the scheduled run is skipped and says why
        with StateStore(world.project().state_url) as store:

            def take() -> bool:
                try:
                    store.acquire_lock(world.project().name, None, lease=timedelta(minutes=5))
                except ProjectLockedError:
                    return False  # a scheduled run holds it: try again
                return True

            wait_for(take, timeout=30, every=0.05)
            skipped = wait_for(
                lambda: [r for r in store.runs(limit=50) if r.status is RunStatus.SKIPPED], timeout=30
            )
            store.release_lock(world.project().name, None)
        assert "being synchronised" in (skipped[0].message or ""), skipped[0]
        view = s.get("")
        assert view["schedule"] == "every 1s" and view["next_run_at"]
    ran = [r for r in _runs(world) if r.status is not RunStatus.SKIPPED]
    spans = sorted((r.started_at, r.finished_at or now()) for r in ran)
    for (_a_start, a_end), (b_start, _b_end) in itertools.pairwise(spans):
        assert a_end <= b_start, "two runs of the project overlapped"
    assert {r.trigger.value for r in ran} >= {"schedule", "cli"}
    assert all(code in (0, 3) for code in cli_codes), cli_codes  # 3: refused, the service held it
    assert len(synced_customers(world.erp())) == 30  # and nothing was written twice


def test_sigterm_stops_a_run_after_its_chunk_and_the_next_run_resumes(
    provisioned_project: Any, sandbox: Any
) -> None:
    world = provisioned_project
    sandbox.admin("crm").put("faults", json={"latency_ms": 150})  # the run lasts a while
    with serve(world.path) as s:
        accepted = s.post("/runs", expect=202, json={})
        wait_for(lambda: s.get(f"/runs/{accepted['run_id']}")["task_runs"], timeout=30)
        assert stop(s) in (0, -15)  # uvicorn ends by the signal, after its graceful shutdown
    sandbox.admin("crm").put("faults", json={"latency_ms": 0})
    [run] = [r for r in _runs(world) if r.id == accepted["run_id"]]
    assert run.status is RunStatus.INTERRUPTED, (run.status, run.message)
    assert "stopped on request" in (run.message or "")
    again = p2c("run", cwd=world.dir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(synced_customers(world.erp())) == 30
    assert p2c("run", cwd=world.dir).returncode == 0
    last = _runs(world)[0]
    assert sum(t.counts.written for t in last.task_runs) == 0  # nothing left to write, nothing twice


def test_json_logs_carry_the_run_and_task_and_no_secret(provisioned_project: Any) -> None:
    world = provisioned_project
    world.configure(tasks={"Accounts": {"fields": {"CustomerGroupId": "tickersymbol"}}})
    crm = world.crm()
    [bad] = crm_rows(crm, "accounts", ["accountid"], "accountnumber eq 'C10104'")
    assert crm.patch(f"accounts({bad['accountid']})", json={"tickersymbol": "99"}).status_code == 204
    with serve(world.path, "--log-format", "json") as s:
        run = s.wait_run(s.post("/runs", expect=202, json={"tasks": ["Accounts"]})["run_id"])
        time.sleep(0.5)
        lines = [json.loads(line) for line in s.output().splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    of_run = [line for line in lines if line.get("run_id") == run["id"]]
    assert of_run and all(line["project"] == s.project for line in of_run)
    assert any(line.get("task") == "Accounts" for line in of_run)
    [failed] = [line for line in of_run if line.get("record") == bad["accountid"]]
    assert failed["task"] == "Accounts" and "failed" in failed["message"]
    text = s.output()
    assert world.secret not in text and s.token not in text
