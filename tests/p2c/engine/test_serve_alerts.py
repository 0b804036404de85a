"""``p2c serve`` tells someone: a run past its failure threshold pauses the project, and the signed
webhook and the e-mail say why — real receivers on loopback, the service a real process."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alert_helpers import Receiver, SmtpServer
from serve_helpers import serve, wait_for
from test_serve_api import _break_accounts

from p2c.alerts import verify_signature

SECRET = "webhook-secret-for-the-test-7d1"


def test_a_threshold_pauses_the_project_and_the_alerts_arrive(
    provisioned_project: Any, smtp: SmtpServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = provisioned_project
    monkeypatch.setenv("P2C_TEST_HOOK_SECRET", SECRET)  # the project file names it: env:P2C_TEST_HOOK_SECRET
    world.write(
        settings={"pause_after_failed_records": 1},
        alerts={
            "digest_minutes": 0,
            "webhooks": [{"url": receiver.url, "secret": "env:P2C_TEST_HOOK_SECRET", "name": "ops"}],
            "email": {
                "host": smtp.host,
                "port": smtp.port,
                "sender": "p2c@example.com",
                "to": ["ops@example.com"],
            },
        },
    )
    _break_accounts(world, ["C10104", "C10106"])
    with serve(world.path, env={"P2C_TEST_HOOK_SECRET": SECRET}) as s:
        run = s.wait_run(s.post("/runs", expect=202, json={"tasks": ["Accounts"]})["run_id"])
        assert (run["status"], run["counts"]["failed"]) == ("partial", 2)
        view = wait_for(lambda: (v := s.get("")) and v["paused"] and v)
        assert (
            view["paused_by"] == "p2c (auto-pause)" and "pause_after_failed_records" in view["paused_reason"]
        )
        assert s.client.post(s.api("/runs"), json={}).status_code == 409

        kinds = wait_for(
            lambda: _kinds(receiver) >= {"run_partial", "auto_paused"} and _kinds(receiver), timeout=30
        )
        assert kinds >= {"run_partial", "auto_paused"}
        for req in receiver.requests:  # each signed with the shared secret, and only with it
            headers = {k.lower(): v for k, v in req.headers.items()}
            ts, sig = headers["x-p2c-timestamp"], headers["x-p2c-signature"]
            assert verify_signature(SECRET, ts, req.body, sig)
            assert not verify_signature("another-secret-of-some-length", ts, req.body, sig)
        mail = wait_for(
            lambda: [m for m in smtp.inbox.messages if "pause" in m.get_content().lower()], timeout=30
        )
        assert mail[0]["To"] == "ops@example.com" and s.project in mail[0]["Subject"]
    assert SECRET not in s.output() and s.token not in s.output()


def _kinds(receiver: Receiver) -> set[str]:
    with receiver.lock:
        bodies = [json.loads(r.body) for r in receiver.requests]
    return {a["kind"] for b in bodies for a in b["alerts"]}
