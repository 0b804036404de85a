"""A service that goes away in the middle of ``p2c run``: the run stops soon, exit 3, and the history
says which tasks were not run and why — instead of every remaining task backing off for a minute."""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from engine_helpers import ENV, p2c

from p2c.project import load_project, write_sandbox_project
from p2c.store import RunStatus, StateStore
from p2c_sandbox.process import SandboxProcess

EXIT_CANNOT_RUN = 3
UNREACHABLE_AFTER = 5.0  # seconds; the default (60) is what a real environment gets


def _project(tmp_path: Path, sandbox: SandboxProcess) -> Path:
    conns = yaml.safe_load((sandbox.data / "connections.yaml").read_text())
    for name in ("crm", "erp"):
        conns[name]["unreachable_after"] = UNREACHABLE_AFTER
    connections = tmp_path / "connections.yaml"
    connections.write_text(yaml.safe_dump(conns))
    path = write_sandbox_project(tmp_path, connections, templates=["accounts", "products", "contacts"])
    setup = p2c("setup", cwd=tmp_path)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    # slow answers, so the run is still busy when the sandbox goes away
    trust = ssl.create_default_context(cafile=str(sandbox.data / "ca.pem"))
    for port in sandbox.ports[1:]:
        url = f"https://127.0.0.1:{port}/sandbox/faults"
        httpx.put(url, json={"latency_ms": 60}, verify=trust).raise_for_status()
    return path


def test_a_sandbox_stopped_mid_run_ends_the_run_within_seconds_with_exit_3(tmp_path: Path) -> None:
    sandbox = SandboxProcess.start(tmp_path / "sandbox", seed="demo", timeout=120)
    try:
        (tmp_path / "project").mkdir()
        path = _project(tmp_path / "project", sandbox)
        state = load_project(path).state_url
        run = subprocess.Popen(
            [sys.executable, "-m", "p2c.cli", "run"],
            cwd=path.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        deadline = time.monotonic() + 120
        first_done = False
        while not first_done and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.2)
            with StateStore(state) as store:
                runs = store.runs(limit=1)
                tasks = store.task_runs(runs[0].id) if runs else []
            first_done = any(t.finished_at is not None for t in tasks)
        assert first_done and run.poll() is None, "the run ended before the sandbox could be stopped"
    finally:
        sandbox.proc.kill()  # gone at once: every connection refused from now on
        sandbox.proc.communicate(timeout=30)
    stopped = time.monotonic()
    out, err = run.communicate(timeout=120)
    took = time.monotonic() - stopped
    assert run.returncode == EXIT_CANNOT_RUN, out + err
    assert took < 90, took
    assert took < UNREACHABLE_AFTER + 30, took  # not the patient minute per request and per task
    reason = re.search(r"(CRM|ERP) unreachable since \d\d:\d\d:\d\d", err)
    assert reason, err
    assert "Traceback" not in out + err
    with StateStore(state) as store:
        [info] = store.runs(limit=1)
        tasks = store.task_runs(info.id)
    assert info.status is RunStatus.FAILED
    assert info.message and reason.group(0) in info.message
    assert len(tasks) == len(list(load_project(path).enabled_tasks()))  # every task has its record
    finished = [t for t in tasks if t.status is RunStatus.SUCCEEDED]
    assert finished, tasks  # the task that ended before the stop keeps its outcome
    stopped_tasks = [t for t in tasks if t.status is RunStatus.FAILED]
    assert stopped_tasks and all(reason.group(0) in (t.message or "") for t in stopped_tasks), stopped_tasks
    not_run = [t for t in stopped_tasks if (t.message or "").startswith("not run: ")]
    assert not_run, stopped_tasks  # the tasks after the one that met the breaker: recorded, not run
    assert all(t.counts.read == 0 for t in not_run)
