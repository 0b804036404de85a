"""`p2c demo` as a user runs it: one command, a fresh directory, a summary, a state to explore."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from p2c.store import RunStatus, StateStore
from p2c_sandbox.process import SandboxProcess


def test_demo_runs_every_task_twice_and_leaves_a_history(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    out = subprocess.run(
        [sys.executable, "-m", "p2c.cli", "demo", "--dir", str(directory), "--port-base", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"demo finished in \d+\.\d s", out.stdout)
    assert "Traceback" not in out.stdout + out.stderr
    # the state a user explores afterwards: two runs, every task succeeded, records really created
    with StateStore(f"sqlite:///{directory / 'p2c.db'}") as store:
        runs = store.runs("demo")
        assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
        first = {t.task: t.counts for t in store.task_runs(runs[-1].id)}
        second = {t.task: t.counts for t in store.task_runs(runs[0].id)}
    assert first["Accounts"].created == 30
    assert first["Products"].created > 10
    assert first["ProductPriceListItems"].created == first["Products"].created
    # the second run is incremental: only the three accounts the demo edited are written again
    assert second["Accounts"].updated == 3
    assert second["Accounts"].created == 0
    assert second["Products"].created + second["Products"].updated == 0
    # the quote and the order the demo entered in the CRM go to the ERP, with their lines
    assert (second["QuoteHeader"].created, second["QuoteLine"].created) == (1, 2)
    assert (second["OrderHeader"].created, second["OrderLine"].created) == (1, 2)
    # the orders entered, confirmed and invoiced in the ERP come back, with their invoices
    assert second["OrderHeaderFromERP"].created == 3
    assert second["SalesInvoiceHeader"].created == 3
    history = subprocess.run(
        [sys.executable, "-m", "p2c.cli", "history", "--project", str(directory / "p2c.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert history.returncode == 0, history.stderr
    assert history.stdout.count("succeeded") == 2
    # no secret of the sandbox in what the user saw
    secret = (directory / "sandbox" / "identity.json").read_text().split('"client_secret":')[1].split('"')[1]
    assert secret not in out.stdout + out.stderr + history.stdout


def test_after_the_demo_every_flow_reconciles_without_drift(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    env = {**os.environ, "COLUMNS": "200"}
    out = subprocess.run(
        [sys.executable, "-m", "p2c.cli", "demo", "--dir", str(directory), "--port-base", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    sandbox = SandboxProcess.start(directory / "sandbox", timeout=120)  # the demo's data, served again
    try:
        rec = subprocess.run(
            [
                sys.executable,
                "-m",
                "p2c.cli",
                "reconcile",
                "--project",
                str(directory / "p2c.yaml"),
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        sandbox.stop()
    assert rec.returncode == 0, rec.stdout + rec.stderr
    report = json.loads(rec.stdout)
    tasks = {t["task"]: t for t in report["tasks"]}
    assert len(tasks) == 13
    assert report["drift"] == 0
    # every flow has records in sync, in both directions
    for name in (
        "Accounts",
        "Products",
        "Contacts",
        "QuoteHeader",
        "OrderLine",
        "OrderHeaderFromERP",
        "SalesInvoiceLine",
    ):
        assert tasks[name]["counts"]["in_sync"] > 0, (name, tasks[name]["counts"])
