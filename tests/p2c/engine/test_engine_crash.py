"""Crash safety: ``kill -9`` of ``p2c run`` in the middle of a large account load, then a new run,
leaves every account in the ERP exactly once, with the right values."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from engine_helpers import ENV, crm_rows, p2c, synced_customers

from p2c.store import RunStatus, StateStore

ACCOUNTS = 20_000
CHUNK = 1000  # records the engine writes before it commits their outcomes and links
IN_FLIGHT = 4  # chunk writes in flight at once (settings.chunks_in_flight): written, maybe not recorded


@pytest.mark.slow
def test_killed_run_resumes_without_duplicates_or_losses(provisioned_project: Any) -> None:
    world = provisioned_project
    world.reseed(f"large:{ACCOUNTS}")
    erp = world.erp()
    proc = subprocess.Popen(
        [sys.executable, "-m", "p2c.cli", "run", "--task", "Accounts"],
        cwd=world.dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    try:
        deadline = time.monotonic() + 60
        written = 0
        # kill mid-load, preferably mid-chunk (some customers written whose outcomes are not recorded)
        while not ((written >= ACCOUNTS // 5 and written % CHUNK) or written >= ACCOUNTS // 2):
            assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr}"
            assert time.monotonic() < deadline, "no customers arrived in the ERP"
            time.sleep(0.02)
            written = int(erp.get("CustomersV3/$count", params=_synced()).text)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
    at_kill = int(erp.get("CustomersV3/$count", params=_synced()).text)
    assert 0 < at_kill < ACCOUNTS, at_kill

    done = p2c("run", "--task", "Accounts", cwd=world.dir, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

    accounts = crm_rows(world.crm(), "accounts", ["accountid", "accountnumber", "name"])
    customers = synced_customers(erp, ["OrganizationName"])
    numbers = [a["accountnumber"] for a in accounts]
    assert len(accounts) == ACCOUNTS
    assert None not in numbers and len(set(numbers)) == ACCOUNTS  # no account got two numbers
    # exactly once: one customer per account, none extra (a second generated number would add one)
    assert len(customers) == ACCOUNTS
    assert set(customers) == set(numbers)
    for account in random.Random(3).sample(accounts, 50):
        assert customers[account["accountnumber"]]["OrganizationName"] == account["name"]

    with StateStore(world.project().state_url) as store:
        runs = store.runs(limit=5)
        links = list(store.all_links("Accounts"))
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.CRASHED]
    # recorded exactly once: one link per account, each to its own customer
    assert len(links) == ACCOUNTS
    assert sorted(json.loads(lk.target_key)[-1] for lk in links) == sorted(numbers)
    resumed = runs[0].counts
    # the resumed run re-read everything (the cursor only moves with the last commit) and wrote
    # only what the killed run had not recorded — at most the chunks in flight when it died: the
    # rest compared equal at their source (unchanged, unmapped)
    assert resumed.created + resumed.updated + resumed.unchanged == ACCOUNTS
    assert resumed.unchanged >= at_kill - IN_FLIGHT * CHUNK, (at_kill, resumed)
    assert resumed.failed == 0


def _synced() -> dict[str, str]:
    return {
        "cross-company": "true",
        "$filter": "dataAreaId eq 'usmf' and IsExternallyMaintained eq Microsoft.Dynamics.DataEntities.NoYes'Yes'",
    }
