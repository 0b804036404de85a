"""p2c's own CPU per 1 000 records written, beside the sandbox's, for bench/sandbox.py (issue 13, target 2).

Runs, in this process and as `p2c run` does (bench/initial_load.py's setup), one ERP-bound task
(Accounts → CustomersV3) and one CRM-bound task (Products → products) against the running
sandbox, and prints per task p2c's CPU and the sandbox process's CPU per 1 000 records written
and their ratio. Returns the smallest p2c figure: the bar the sandbox's write paths must meet.

Run on its own, it measures the orders (CRM → ERP) the same way, with what each order costs in
write-backs to the CRM (the derived products flag, line numbers): PATCH operations and requests
per order, from the run's side-write outcomes and its HTTP counters::

    .venv/bin/python bench/bench_p2c.py --seed large:20000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from p2c.engine import Engine, open_project
from p2c.project import write_sandbox_project
from p2c.settings import System
from p2c.setup import provision

TASKS = {"Accounts → CustomersV3 (ERP-bound)": "Accounts", "Products → products (CRM-bound)": "Products"}
ORDER_TASKS = ("OrderHeader", "OrderLine")


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


def run_orders(work: Path, pid: int, cpu_of: Callable[[int], float], crm_activate: Callable[[], str]) -> None:
    """Every task the orders depend on, then OrderHeader and OrderLine, measured: p2c's and the
    sandbox's CPU per 1 000 records written, and the CRM write-backs per order."""
    connections = work / "sandbox" / "connections.yaml"
    path = write_sandbox_project(
        work, connections, templates=["accounts", "products", "contacts", "orders_to_erp"]
    )
    with open_project(path) as session:
        project, store, conns = session.project, session.store, session.connectors
        setup = provision(project, conns.crm, wait_seconds=120)
        assert setup.ok, setup.failed
        print(f"prepared: {crm_activate()}")
        engine = Engine(
            project, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=session.redactor
        )
        for spec in project.enabled_tasks():
            cpu0, sb0, t0 = time.process_time(), cpu_of(pid), time.perf_counter()
            report = engine.run([spec.name])
            wall = time.perf_counter() - t0
            cpu, sandbox_cpu = time.process_time() - cpu0, cpu_of(pid) - sb0
            (t,) = report.tasks
            if spec.name not in ORDER_TASKS:
                print(f"  {spec.name:<18} {t.written:>7} written {wall:7.2f} s")
                continue
            assert report.run_id is not None
            side = store.outcomes(report.run_id, operations=True)
            rows = Counter(str(o.target_key).split(" ")[0] for o in {o.target_key: o for o in side}.values())
            crm = report.http.get(System.CRM.value, {})
            n = max(t.written, 1)
            p2c_k, sb_k = cpu / n * 1000, sandbox_cpu / n * 1000
            print(
                f"p2c {spec.name:<12} {t.written:>7} written {wall:7.2f} s; p2c CPU {p2c_k:.3f} s/1 000, "
                f"sandbox CPU {sb_k:.3f} s/1 000, sandbox/p2c {sb_k / p2c_k:.2f} "
                f"({'ok' if sb_k <= p2c_k else 'MISSES TARGET'})"
            )
            # the engine sends a row's write-backs of one run as one update (p2c.engine.writes.coalesce)
            print(
                f"    CRM write-backs: {len(side)} ({len(side) / n:.2f} per record written) as "
                f"{sum(rows.values())} PATCH operations ({sum(rows.values()) / n:.2f} per record; {dict(rows)}); "
                f"CRM requests {crm.get('requests', 0)} ({crm.get('requests', 0) / n:.3f} per record written)"
            )


def main() -> None:
    import httpx

    from p2c_sandbox.process import api_client, cpu_of

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", default="large:20000")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from full_cycle import activate_orders
    from sandbox import start

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc, conns = start(args.seed, work / "sandbox")
        crm: httpx.Client = api_client(conns["crm"])
        try:
            run_orders(work, proc.proc.pid, cpu_of, lambda: activate_orders(crm))
        finally:
            crm.close()
            proc.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
