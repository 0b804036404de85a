"""Issue 13, goal 6 (one million rows in one run): 1 000 000 accounts through one task, against the raw writer.

    .venv/bin/python bench/million.py                      # the goal: 1 000 000 accounts (about 5 minutes here)
    .venv/bin/python bench/million.py --rows 200000        # a fifth of it
    .venv/bin/python bench/million.py --quick              # 20 000 rows, raw sample 5 000 (about 2 minutes)

Data Integrator stops at 500 000 records per run and Dual-write's initial sync at 500 000 per legal
entity; p2c must take 1 000 000 through one task in one run. Two fresh sandboxes start side by side,
each ``p2c sandbox up --split`` (the ERP in a process of its own) with ``--latency-ms`` added per
request (``contenders.start_realistic``): ``accounts:ROWS`` for p2c, ``accounts:SAMPLE`` for the raw
writer (the CRM accounts only: the task reads nothing else, and ``large:1000000``'s orders and lines
would cost 10 GiB and twenty minutes of seeding for nothing). While p2c and the raw writer write,
the ERP process has a core of its own (``contenders.target_core``, as in ``throughput.py``;
``--no-pin``: not).
p2c runs the Accounts task (CRM accounts → ERP CustomersV3) exactly as ``p2c run --task Accounts``
does; the raw bulk writer posts the payloads p2c would send (from its plan on the sample sandbox)
as ``$batch`` of one-op change sets of p2c's batch size with p2c's concurrency. Prints the run's
time, rows/s, requests per record, p2c's and the sandbox's CPU, p2c's peak memory, and p2c rows/s ÷
raw rows/s from this run (target of goal 1: >= 0.9).
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
from contenders import (  # bench/contenders.py
    ERP_BATCH,
    TASKS,
    p2c_session,
    prepared,
    run_p2c,
    run_raw,
    start_side_by_side,
    verdict,
)

RAW_RATIO, MILLION = 0.9, 1_000_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=MILLION, help="accounts (accounts:N) for the p2c run")
    ap.add_argument("--sample", type=int, default=50_000, help="accounts the raw writer writes")
    ap.add_argument("--latency-ms", type=int, default=80, help="added to every request on both servers")
    ap.add_argument("--protection", action="store_true", help="the real service-protection limits")
    ap.add_argument("--quick", action="store_true", help="20 000 rows, raw sample 5 000")
    ap.add_argument(
        "--no-pin",
        action="store_true",
        help="leave the processes where the OS puts them (by default the ERP, written, has a core of "
        "its own while p2c and the raw writer write: contenders.target_core)",
    )
    args = ap.parse_args()
    if args.quick:
        args.rows, args.sample = 20_000, 5_000
    task = TASKS["erp"]
    print(
        f"{task.label}: {args.rows:,} rows for p2c, {args.sample:,} for the raw writer, {args.latency_ms} ms per request"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        started = start_side_by_side(
            {"p2c": f"accounts:{args.rows}", "raw": f"accounts:{args.sample}"},
            work,
            latency_ms=args.latency_ms,
            protection=args.protection,
            split=True,
        )
        big, small = started["p2c"], started["raw"]
        print(
            f"sandboxes accounts:{args.rows} and accounts:{args.sample} up in {time.perf_counter() - t0:.1f} s"
        )
        try:
            with p2c_session(work / "p2c", big, [task.template]) as session:
                settings = session.project.settings
                p2c = run_p2c(session, task, big, pin=not args.no_pin)
                cpu, sb_cpu = p2c.cpu or 0.0, p2c.sandbox_cpu or 0.0
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            with p2c_session(work / "raw", small, [task.template]) as session:
                rows = prepared(session, task)
            raw = run_raw(
                small,
                task,
                rows,
                batch_size=settings.batch_size or ERP_BATCH,
                concurrency=settings.concurrency,
                pin=not args.no_pin,
            )
        finally:
            big.stop()
            small.stop()
    ratio = p2c.rate / raw.rate
    per = p2c.requests / p2c.rows if p2c.rows else float("inf")
    print(
        f"p2c: {p2c.rows:,} rows written in one run of {p2c.seconds:,.1f} s = {p2c.rate:,.0f} rows/s; "
        f"{p2c.requests:,} requests = {per:.4f} per record ({p2c.note})"
    )
    print(
        f"     CPU: p2c {cpu:,.1f} s = {cpu / max(p2c.rows, 1) * 1000:.3f} s per 1 000 rows, sandbox "
        f"{sb_cpu:,.1f} s = {sb_cpu / max(p2c.rows, 1) * 1000:.3f} s per 1 000 rows; "
        f"peak memory of the p2c process {peak:,.0f} MiB"
    )
    print(
        f"raw: {raw.rows:,} rows in {raw.seconds:,.1f} s = {raw.rate:,.0f} rows/s, {raw.requests:,} requests ({raw.note})"
    )
    print(f"p2c rows/s ÷ raw rows/s = {ratio:.2f} (target >= {RAW_RATIO}: {verdict(ratio >= RAW_RATIO)})")
    done = p2c.rows >= MILLION
    print(
        f"one million rows in one run: {p2c.rows:,} written ({'ok' if done else f'this run took {args.rows:,}'})"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
