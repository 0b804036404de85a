"""Issue 13, target 5 (work proportional to change): the engine time of runs with no change at the source.

    .venv/bin/python bench/no_change.py [--seed large:20000]

Starts `p2c sandbox up` in its own process, writes the project `p2c init` would (all templates),
provisions it, activates the CRM orders (as a user would before they travel), runs every task
once (the initial load), then three runs with nothing changed at either side: the first one
after the initial load (p2c's own write-backs must not count as changes) and two more. For each
it prints the engine time (the run report's seconds), requests per service, and per task its
seconds and the rows it read — so what still costs with no change is named. Last, the read alone
of each full-read ERP task (Products, ProductPriceListItems: F&O has no change tracking), in
rows/s, with the share spent fixing F&O's dates (``_erp_values``).

Target (issue 13): a run with no change over ``large:100000`` in <= 2 s of engine time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from full_cycle import activate_orders  # bench/full_cycle.py: the CRM orders made Active
from p2c.cli.base import lean_gc
from p2c.connectors import Redactor
from p2c.engine import Engine, RunReport, open_connectors
from p2c.engine.reading import SourceReader
from p2c.project import load_project, write_sandbox_project
from p2c.settings import System
from p2c.setup import provision
from p2c.store import StateStore
from p2c_sandbox.process import api_client
from sandbox import start  # bench/sandbox.py: starts `p2c sandbox up` and waits for it

NO_CHANGE_SECONDS = 2.0
FULL_READS = ("Products", "ProductPriceListItems")


def show(label: str, report: RunReport, wall: float, cpu: float) -> None:
    ok = "ok" if report.seconds <= NO_CHANGE_SECONDS else "MISSES TARGET"
    print(
        f"{label}: engine {report.seconds:.2f} s (target <= {NO_CHANGE_SECONDS:.0f} s: {ok}), wall "
        f"{wall:.2f} s, p2c CPU {cpu:.2f} s, requests {report.requests}, written "
        f"{sum(t.written for t in report.tasks)}, status {report.status}"
    )
    for t in sorted(report.tasks, key=lambda t: -t.seconds):
        print(f"    {t.task:<24} {t.seconds:6.2f} s  read {t.read:>7}  written {t.written:>5}")


def read_alone(project: Any, task: Any, erp: Any) -> None:
    """The whole read of one ERP task as a run does it (filters pushed down, its fields only)."""
    reader = SourceReader(task, project.catalog, erp, list(project.legal_entities))
    select = reader.select(project.mapper(task, next(iter(project.legal_entities))).source_fields())
    fixing = 0.0
    fix = reader._erp_values

    def timed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        nonlocal fixing
        t = time.perf_counter()
        out = fix(rows)
        fixing += time.perf_counter() - t
        return out

    reader._erp_values = timed  # type: ignore[method-assign]
    t0 = time.perf_counter()
    rows = [r for page in reader.pages(select, None) for r in page.rows]
    secs = time.perf_counter() - t0
    print(
        f"read alone: {task.name:<22} {len(rows):>6} rows, {len(select)} fields, {secs:.2f} s = "
        f"{len(rows) / secs:,.0f} rows/s; dates fixed in {fixing * 1000:.0f} ms ({fixing / secs:.1%})"
    )


def runs(engine: Engine, n: int) -> None:
    """The initial load, then ``n`` runs with nothing changed."""
    t0 = time.perf_counter()
    report = engine.run()
    print(
        f"initial load: {time.perf_counter() - t0:.1f} s, "
        f"{sum(t.written for t in report.tasks)} written, status {report.status}"
    )
    for i in range(n):
        t0, cpu0 = time.perf_counter(), time.process_time()
        report = engine.run()
        label = "first run after the initial load" if i == 0 else f"no-change run {i + 1}"
        show(label, report, time.perf_counter() - t0, time.process_time() - cpu0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", default="large:20000")
    ap.add_argument("--runs", type=int, default=3, help="runs with no change after the initial load")
    ap.add_argument(
        "--default-gc",
        action="store_true",
        help="Python's default cycle collector, not the one `p2c run` sets (lean_gc): for comparison",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc, sb = start(args.seed, work / "sandbox")
        try:
            project = load_project(write_sandbox_project(work, work / "sandbox" / "connections.yaml"))
            redactor = Redactor()
            with (
                StateStore(project.state_url) as store,
                open_connectors(
                    project.connections,
                    redactor,
                    batch_size=project.settings.batch_size,
                    concurrency=project.settings.concurrency,
                ) as conns,
            ):
                setup = provision(project, conns.crm, wait_seconds=120)
                assert setup.ok, setup.failed
                crm = api_client(sb["crm"])
                print(f"prepared: {activate_orders(crm)}")
                crm.close()
                engine = Engine(
                    project, store, {System.CRM: conns.crm, System.ERP: conns.erp}, redactor=redactor
                )
                # as `p2c run` does once the project is loaded, unless told otherwise
                with contextlib.nullcontext() if args.default_gc else lean_gc():
                    runs(engine, args.runs)
                for task in (t for t in project.tasks if t.name in FULL_READS):
                    read_alone(project, task, conns.erp)
        finally:
            proc.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
