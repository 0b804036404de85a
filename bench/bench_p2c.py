"""p2c's own CPU per 1 000 records written, beside the sandbox's, for bench/sandbox.py (issue 13, target 2).

Runs, in this process and as `p2c run` does (bench/initial_load.py's setup), one ERP-bound task
(Accounts → CustomersV3) and one CRM-bound task (Products → products) against the running
sandbox, and prints per task p2c's CPU and the sandbox process's CPU per 1 000 records written
and their ratio. Returns the smallest p2c figure: the bar the sandbox's write paths must meet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from p2c.engine import Engine, open_project
from p2c.project import write_sandbox_project
from p2c.settings import System
from p2c.setup import provision

TASKS = {"Accounts → CustomersV3 (ERP-bound)": "Accounts", "Products → products (CRM-bound)": "Products"}


def run_p2c(work: Path, pid: int, cpu_of: Callable[[int], float]) -> float:
    connections = work / "sandbox" / "connections.yaml"
    path = write_sandbox_project(work, connections, templates=["accounts", "products"])
    bar = float("inf")
    with open_project(path) as session:
        project, store, conns = session.project, session.store, session.connectors
        setup = provision(project, conns.crm, wait_seconds=120)
        assert setup.ok, setup.failed
        engine = Engine(
            project, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=session.redactor
        )
        for label, task in TASKS.items():
            cpu0, sb0, t0 = time.process_time(), cpu_of(pid), time.perf_counter()
            report = engine.run([task])
            wall = time.perf_counter() - t0
            cpu, sandbox_cpu = time.process_time() - cpu0, cpu_of(pid) - sb0
            written = sum(t.written for t in report.tasks)
            if not written:
                print(f"p2c {label}: wrote nothing ({report.tasks})")
                continue
            p2c_k, sb_k = cpu / written * 1000, sandbox_cpu / written * 1000
            bar = min(bar, p2c_k)
            print(
                f"p2c {label:<36} {written:>7} written {wall:7.2f} s {written / wall:>8,.0f} records/s"
                f"  p2c CPU {p2c_k:.3f} s/1 000, sandbox CPU {sb_k:.3f} s/1 000, sandbox/p2c {sb_k / p2c_k:.2f}"
                f" ({'ok' if sb_k <= p2c_k else 'MISSES TARGET'})"
            )
    return bar
