"""One run per project at a time, end to end: ``p2c run`` processes against the sandbox.

Two runs started together used to both generate numbers for the same numberless accounts, and the
ERP got a second customer for each. Now the second is refused at once (exit 3, naming the holder),
and a holder killed with ``kill -9`` does not keep the project from the next run.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from engine_helpers import ENV, crm_rows, p2c, synced_customers

from p2c.store import RunStatus, StateStore

REFUSED = re.compile(
    r"project (\S+) is being synchronised by run (\d+) on host (\S+), pid (\d+), since "
    r"\d\d:\d\d:\d\d; wait for it or stop it"
)


def start_run(world: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "p2c.cli", "run", "--task", "Accounts"],
        cwd=world.dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def assert_one_customer_per_account(world: Any, accounts: int) -> None:
    rows = crm_rows(world.crm(), "accounts", ["accountid", "accountnumber"])
    numbers = [a["accountnumber"] for a in rows]
    assert len(rows) == accounts
    assert None not in numbers and len(set(numbers)) == accounts  # no account got two numbers
    customers = synced_customers(world.erp())
    assert len(customers) == accounts  # a second generated number would add a customer
    assert set(customers) == set(numbers)


def test_run_and_retry_refused_while_another_run_holds_the_project(provisioned_project: Any) -> None:
    world = provisioned_project
    project = world.project()
    with StateStore(project.state_url) as store:
        holder = store.start_run(project.name, ["Accounts"], lease=timedelta(minutes=2))
        store.finish_run(holder, RunStatus.FAILED)  # something for `retry` to name
        started = time.monotonic()
        refused = p2c("run", "--task", "Accounts", cwd=world.dir)
        retried = p2c("retry", str(holder), cwd=world.dir)
        planned = p2c("plan", "--task", "Accounts", cwd=world.dir)  # plan writes nothing: no lock
        elapsed = time.monotonic() - started
        assert store.release_lock(project.name, holder)
        assert [r.id for r in store.runs()] == [holder]  # the refused runs left no trace

        for done in (refused, retried):
            assert done.returncode == 3, done.stdout + done.stderr
            m = REFUSED.search(" ".join(done.stderr.split()))
            assert m, done.stderr
            assert m.groups() == (project.name, str(holder), socket.gethostname(), str(os.getpid()))
        assert planned.returncode == 0, planned.stdout + planned.stderr
        assert elapsed < 30  # refused at once, not after waiting for the holder

        done = p2c("run", "--task", "Accounts", cwd=world.dir)  # released: the project is free
        assert done.returncode == 0, done.stdout + done.stderr
        assert store.project_lock(project.name) is None


def test_two_runs_started_together_one_refused_one_customer_per_account(provisioned_project: Any) -> None:
    accounts = 2000  # large:N leaves every tenth account without a number: 200 to generate
    world = provisioned_project
    world.reseed(f"large:{accounts}")
    # every request answers 0.3 s late, so the run that takes the project is still at it when the
    # other, started beside it, asks (unloaded, a quick winner had ended before a slow start-up
    # of the other asked, and both ran)
    for which in ("crm", "erp"):
        world.sandbox.admin(which).patch("faults", json={"latency_ms": 300}).raise_for_status()
    try:
        procs = [start_run(world), start_run(world)]
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for which in ("crm", "erp"):
            world.sandbox.admin(which).patch("faults", json={"latency_ms": 0}).raise_for_status()
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], outs

    winner = next(p for p in procs if p.returncode == 0)
    refused = outs[[p.returncode for p in procs].index(3)][1]
    m = REFUSED.search(" ".join(refused.split()))
    assert m, refused
    assert m.group(4) == str(winner.pid)
    assert_one_customer_per_account(world, accounts)

    project = world.project()
    with StateStore(project.state_url) as store:
        runs = store.runs()
        assert [(r.id, r.status) for r in runs] == [(int(m.group(2)), RunStatus.SUCCEEDED)]
        assert store.project_lock(project.name) is None


def test_killed_holder_does_not_keep_the_next_run_waiting(provisioned_project: Any) -> None:
    accounts = 4000
    world = provisioned_project
    # a lease far longer than the test: only the dead pid can explain a takeover
    world.configure(settings={"lock_lease_seconds": 3600})
    world.reseed(f"large:{accounts}")
    erp = world.erp()
    proc = start_run(world)
    try:
        deadline = time.monotonic() + 120
        while len(synced_customers(erp)) < accounts // 10:
            assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()}"
            assert time.monotonic() < deadline, "no customers arrived in the ERP"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    project = world.project()
    with StateStore(project.state_url) as store:
        held = store.project_lock(project.name)
        assert held is not None and held.pid == proc.pid  # the dead holder left its lock behind

    started = time.monotonic()
    done = p2c("run", "--task", "Accounts", cwd=world.dir, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - started < 120
    assert_one_customer_per_account(world, accounts)

    with StateStore(project.state_url) as store:
        runs = store.runs()
        assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.CRASHED]
        assert runs[1].id == held.run_id
        # taken over when it started, not after a lease: it started right after the kill
        assert runs[0].started_at - runs[1].finished_at < timedelta(seconds=60)  # type: ignore[operator]
        assert store.project_lock(project.name) is None
