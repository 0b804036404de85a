"""Issue 13, goal 4 (requests) and the initial load: both flows of p2c against a fresh sandbox seeded large:N.

    .venv/bin/python bench/initial_load.py [--seed large:20000] [--latency-ms 80 --protection]

Starts `p2c sandbox up` (20 000 CRM accounts, 5 000 ERP products), writes the project `p2c init`
would, provisions it (`p2c setup`), then runs, in this process, Accounts and then Products with
ProductPriceListItems exactly as `p2c run` does (same connectors, store, settings) and prints per
flow: wall time, records written per second, HTTP requests per record written (all of the flow's
requests, and those to the service written), this process's CPU seconds per 1 000 records and the
sandbox process's CPU seconds; then peak memory, and the time of a second run with no change at
the source.

Targets (issue 13): <= 0.002 requests per record written into Dataverse (Products: UpsertMultiple of
1 000, existence reads folded in), <= 0.01 into F&O (Accounts) — goal 4; the sandbox's CPU per
1 000 records at most p2c's — goal 2; a no-change run <= 2 s — goal 5 (at large:100000).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from contenders import start_realistic  # bench/contenders.py: `p2c sandbox up`, latency, limits
from p2c.engine import Engine, RunReport, open_project
from p2c.project import write_sandbox_project
from p2c.settings import System
from p2c.setup import provision
from p2c_sandbox.process import cpu_of

NO_CHANGE_SECONDS = 2.0
# flow -> (its tasks, the service it writes); goal 4: requests per record written into that service
FLOWS = {"Accounts": (["Accounts"], "erp"), "Products": (["Products", "ProductPriceListItems"], "crm")}
REQUESTS_PER_RECORD = {"crm": 0.002, "erp": 0.01}


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSES TARGET"


def line(label: str, service: str, report: RunReport, wall: float, cpu: float, sandbox_cpu: float) -> int:
    written = sum(t.written for t in report.tasks)
    failed = sum(t.failed + t.waiting for t in report.tasks)
    requests = sum(report.requests.values())
    per_record = requests / written if written else float("inf")
    to_target = report.requests.get(service, 0) / written if written else float("inf")
    goal = REQUESTS_PER_RECORD[service]
    print(
        f"{label:<10} {written:>6} written {failed:>3} failed  {wall:6.2f} s  {written / wall:8,.0f} records/s  "
        f"{requests:>4} requests ({', '.join(f'{k} {v}' for k, v in report.requests.items())})"
    )
    print(
        f"{'':<10} requests per record written into {service.upper()}: {per_record:.4f} all, "
        f"{to_target:.4f} to {service.upper()} (target <= {goal}: {verdict(per_record <= goal)})"
    )
    sb_per, cpu_per = (sandbox_cpu / written * 1000, cpu / written * 1000) if written else (0.0, 0.0)
    print(
        f"{'':<10} p2c CPU {cpu:6.2f} s = {cpu_per:.3f} s per 1 000 records; sandbox CPU {sandbox_cpu:6.2f} s = "
        f"{sb_per:.3f} s per 1 000 (goal 2, sandbox <= p2c: {verdict(sandbox_cpu <= cpu)})"
    )
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", default="large:20000")
    ap.add_argument("--latency-ms", type=int, default=0, help="added to every request (issue 13 uses 80)")
    ap.add_argument("--protection", action="store_true", help="the real service-protection limits")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc = start_realistic(
            args.seed, work / "sandbox", latency_ms=args.latency_ms, protection=args.protection
        )
        print(
            f"sandbox up with seed {args.seed}: {proc.seconds_to_ready:.1f} s (includes seeding); "
            f"{args.latency_ms} ms per request, {'real' if args.protection else 'no'} service-protection limits"
        )
        try:
            connections = work / "sandbox" / "connections.yaml"
            path = write_sandbox_project(work, connections, templates=["accounts", "products"])
            with open_project(path) as session:
                project, store, conns, redactor = (
                    session.project,
                    session.store,
                    session.connectors,
                    session.redactor,
                )
                started = time.perf_counter()
                setup = provision(project, conns.crm, wait_seconds=120)
                assert setup.ok, setup.failed
                print(f"setup (provisioning): {time.perf_counter() - started:.1f} s")
                print(
                    f"project: batch_size {project.settings.batch_size}, concurrency {project.settings.concurrency}"
                )
                engine = Engine(
                    project, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=redactor
                )
                total_written, total_wall, total_cpu, total_sandbox = 0, 0.0, 0.0, 0.0
                for label, (tasks, service) in FLOWS.items():
                    cpu0, sb0, t0 = time.process_time(), cpu_of(proc.proc.pid), time.perf_counter()
                    report = engine.run(tasks)
                    wall = time.perf_counter() - t0
                    cpu, sandbox_cpu = time.process_time() - cpu0, cpu_of(proc.proc.pid) - sb0
                    total_written += line(label, service, report, wall, cpu, sandbox_cpu)
                    total_wall, total_cpu, total_sandbox = (
                        total_wall + wall,
                        total_cpu + cpu,
                        total_sandbox + sandbox_cpu,
                    )
                print(
                    f"initial load: {total_written} records in {total_wall:.1f} s "
                    f"({total_written / total_wall:,.0f} records/s); p2c CPU {total_cpu:.1f} s, "
                    f"sandbox CPU {total_sandbox:.1f} s"
                )
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"peak memory of the p2c process: {peak:,.0f} MiB")
                for label in ("second run (no change at the source)", "third run"):
                    t0, cpu0 = time.perf_counter(), time.process_time()
                    report = engine.run()
                    wall = time.perf_counter() - t0
                    counts = ", ".join(
                        f"{t.task} read {t.read} unchanged {t.unchanged} written {t.written}"
                        for t in report.tasks
                    )
                    print(
                        f"{label}: {wall:.2f} s, p2c CPU {time.process_time() - cpu0:.2f} s, "
                        f"{sum(report.requests.values())} requests ({verdict(wall <= NO_CHANGE_SECONDS)}): {counts}"
                    )
        finally:
            proc.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
