"""``p2c serve``'s REST API, driven over HTTP against a real service process and the sandbox."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
from engine_helpers import crm_rows, p2c, synced_customers
from serve_helpers import serve, wait_for


def _break_accounts(world: Any, numbers: list[str]) -> list[str]:
    """The customer group comes from the ticker symbol; these accounts get one the ERP lacks."""
    world.configure(tasks={"Accounts": {"fields": {"CustomerGroupId": "tickersymbol"}}})
    crm = world.crm()
    ids = []
    for number in numbers:
        [row] = crm_rows(crm, "accounts", ["accountid"], f"accountnumber eq '{number}'")
        assert crm.patch(f"accounts({row['accountid']})", json={"tickersymbol": "99"}).status_code == 204
        ids.append(row["accountid"])
    return ids


def test_every_endpoint_but_healthz_wants_a_token(provisioned_project: Any) -> None:
    world = provisioned_project
    with serve(world.path) as s:
        assert httpx.get(f"{s.url}/healthz").json()["status"] == "ok"
        for path in ("/api/v1/projects", "/metrics", "/readyz", f"/api/v1/projects/{s.project}/runs"):
            bare = httpx.get(s.url + path)
            assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer", path
            wrong = httpx.get(s.url + path, headers={"Authorization": "Bearer not-the-token-at-all"})
            assert wrong.status_code == 401, path
        assert httpx.post(f"{s.url}/api/v1/projects/{s.project}/runs", json={}).status_code == 401
        [view] = s.client.get("/api/v1/projects").json()
        assert view["name"] == s.project and view["paused"] is False and view["error"] is None
        ready = s.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["projects"][s.project] == {"store": "ok", "crm": "ok", "erp": "ok"}
        conns = s.get("/connections")
        assert conns["crm"]["client_secret"] == "**********"
        assert world.secret not in json.dumps(conns)
        assert s.client.get("/api/v1/projects/nope").status_code == 404
    assert s.token not in s.output() and world.secret not in s.output()


def test_run_now_records_grouped_errors_and_a_retry_of_chosen_keys(provisioned_project: Any) -> None:
    world = provisioned_project
    first, second = _break_accounts(world, ["C10104", "C10106"])
    with serve(world.path) as s:
        accepted = s.post("/runs", expect=202, json={"tasks": ["Accounts"]})
        assert accepted["run_url"] == s.api(f"/runs/{accepted['run_id']}")
        run = s.wait_run(accepted["run_id"])
        assert run["status"] == "partial" and run["trigger"] == "api"
        assert len(run["task_runs"]) == 1, run
        [task] = run["task_runs"]
        counts = task["counts"]
        assert counts["failed"] == 2 and counts["read"] == sum(v for k, v in counts.items() if k != "read")
        assert run["requests"]["crm"]["requests"] > 0 and run["requests"]["erp"]["status"]

        groups = s.get(f"/runs/{run['id']}/groups")
        assert len(groups) == 1, [g["message"] for g in groups]
        [group] = groups
        assert (group["count"], group["field"], sorted(group["keys"])) == (
            2,
            "CustomerGroupId",
            sorted([first, second]),
        )
        page = s.get(f"/runs/{run['id']}/records", params={"action": "failed", "q": "customer group"})
        assert page["total"] == 2 and {r["source_key"] for r in page["records"]} == {first, second}
        assert s.get(f"/runs/{run['id']}/records", params={"action": "created"})["total"] == 28

        crm = world.crm()
        for key in (first, second):  # both fixed at the source...
            assert crm.patch(f"accounts({key})", json={"tickersymbol": "20"}).status_code == 204
        # ...but only the first is retried
        retry = s.post(f"/runs/{run['id']}/retry", expect=202, json={"keys": {"Accounts": [first]}})
        again = s.wait_run(retry["run_id"])
        assert (again["trigger"], again["status"], again["counts"]["read"], again["counts"]["created"]) == (
            "retry",
            "succeeded",
            1,
            1,
        )
        assert s.get("")["open_failures"] == 1
        assert s.post("/dismiss", json={"keys": [second]}) == {"dismissed": 1}
        assert s.get("")["open_failures"] == 0

        runs = s.get("/runs", params={"trigger": "retry"})
        assert [r["id"] for r in runs] == [retry["run_id"]]
        metrics = s.client.get("/metrics").text
        assert f'p2c_records_total{{action="created",project="{s.project}",task="Accounts"}} 29.0' in metrics
        assert f'p2c_requests_total{{project="{s.project}",service="erp",status="200"}}' in metrics
        assert f'p2c_open_failures{{project="{s.project}"}} 0.0' in metrics
    assert len(synced_customers(world.erp())) == 29


def test_pause_stops_every_run_and_resume_lets_them_go(provisioned_project: Any) -> None:
    world = provisioned_project
    world.write(schedule={"every": "1s"})
    with serve(world.path) as s:
        wait_for(
            lambda: [r for r in s.get("/runs") if r["trigger"] == "schedule" and r["status"] == "succeeded"]
        )
        paused = s.post("/pause", json={"reason": "month-end close"})
        assert (paused["paused"], paused["paused_reason"], paused["paused_by"]) == (
            True,
            "month-end close",
            "tester",
        )
        wait_for(lambda: s.get("")["running_run"] is None)
        before = len(s.get("/runs", params={"limit": 500}))
        refused = s.client.post(s.api("/runs"), json={})
        assert refused.status_code == 409 and "month-end close" in refused.json()["detail"]
        cli = p2c("run", cwd=world.dir)  # the CLI obeys the pause too
        assert cli.returncode == 3 and "is paused" in cli.stderr
        wait_for(lambda: s.get("")["next_run_at"], timeout=5)
        import time

        time.sleep(3)  # three schedule periods: nothing runs
        assert len(s.get("/runs", params={"limit": 500})) == before
        assert s.post("/resume")["paused"] is False
        wait_for(lambda: len(s.get("/runs", params={"limit": 500})) > before, timeout=10)
    # the pause is in the store: p2c pause / resume from a shell work the same way
    assert p2c("pause", "--reason", "audit", cwd=world.dir).returncode == 0
    assert p2c("run", cwd=world.dir).returncode == 3
    assert p2c("resume", cwd=world.dir).returncode == 0
    assert p2c("run", cwd=world.dir).returncode == 0


def test_a_bad_project_file_is_refused_before_serving(provisioned_project: Any) -> None:
    world = provisioned_project
    world.write(schedule={"every": "soon"})
    out = subprocess.run(
        [*p2c_cmd(), "serve", "--project", str(world.path), "--port", "0"],
        cwd=world.dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "schedule" in out.stderr and "invalid interval" in out.stderr


def p2c_cmd() -> list[str]:
    import sys

    return [sys.executable, "-m", "p2c.cli"]
