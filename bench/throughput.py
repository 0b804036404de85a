"""Issue 13, goal 1 (realistic benchmarks): p2c against a raw bulk writer and a per-record client.

    .venv/bin/python bench/throughput.py                      # large:20000, 80 ms, per-record sample 500
    .venv/bin/python bench/throughput.py --quick              # large:5000, per-record sample 150 (~2 min)
    .venv/bin/python bench/throughput.py --protection         # with the real service-protection limits
    .venv/bin/python bench/throughput.py --latency-ms 0       # loopback, as the issue's first figures
    .venv/bin/python bench/throughput.py --repeat 5 --sample 100  # the p2c/raw ratio as a median of 5
    .venv/bin/python bench/throughput.py --no-pin             # no process bound to a core

For a CRM-bound task (Products → CRM products, UpsertMultiple) and an ERP-bound one (Accounts →
ERP CustomersV3, ``$batch``), three contenders write the same rows, each into its own fresh
``p2c sandbox up --seed large:N`` (own process, started side by side), every request delayed by
``--latency-ms`` as an internet round trip plus service time would (``contenders.start_realistic``).
While p2c and the raw writer write, the service written runs on a core of its own and the
contender with the other service on the rest (``contenders.target_core``; ``--no-pin``: as the OS
places them), as a real service shares no CPU with its clients:

- p2c: the engine running the task exactly as ``p2c run --task`` does; rows written/s, HTTP
  requests (both services, reads and side writes included), wall time;
- a raw bulk writer: the payloads p2c would send (from its plan, prepared beforehand) posted as
  UpsertMultiple of 1 000 (CRM) / ``$batch`` of one-op change sets of p2c's batch size (ERP), with
  p2c's concurrency in flight; no mapping, no store;
- a per-record client, sequential as such clients are used: Microsoft's Dataverse SDK
  (``records.upsert`` of one item = one PATCH by alternate key) / one OData POST per customer. At
  80 ms a request a full run takes minutes, so it times ``--sample`` records and extrapolates
  linearly (printed).

p2c's side writes count in its time and requests, not in its rows: with the sandbox's default org
(new products start Draft, as on a real org unless "create products in active state" is set) p2c
activates each new product; Accounts writes generated account numbers back to the CRM. The raw
writer and the per-record client send the records only.

Prints, per task, from this one run: p2c rows/s ÷ raw rows/s (target >= 0.9), per-record requests
÷ p2c requests (target >= 20) and per-record wall ÷ p2c wall (target >= 10), and p2c's requests
per record written (goal 4: Dataverse <= 0.002, F&O <= 0.01).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from contenders import (  # bench/contenders.py
    CRM_BATCH,
    ERP_BATCH,
    TASKS,
    BenchTask,
    Result,
    p2c_session,
    prepared,
    run_p2c,
    run_per_record,
    run_raw,
    start_side_by_side,
    verdict,
)

RAW_RATIO, FEWER_REQUESTS, LESS_WALL = 0.9, 20.0, 10.0
REQUESTS_PER_RECORD = {"crm": 0.002, "erp": 0.01}
CONTENDERS = ("p2c", "raw", "per-record")


def one_round(
    args: argparse.Namespace, tasks: list[BenchTask], names: Sequence[str]
) -> dict[str, dict[str, Result]]:
    """Each contender of ``names`` on each task, each into its own fresh sandbox (started side by side)."""
    results: dict[str, dict[str, Result]] = {t.key: {} for t in tasks}
    templates = [t.template for t in tasks]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        sandboxes = start_side_by_side(
            dict.fromkeys(names, args.seed),
            work,
            latency_ms=args.latency_ms,
            protection=args.protection,
            split=not args.one_process,
        )
        print(
            f"{len(sandboxes)} sandboxes up with seed {args.seed} in {time.perf_counter() - t0:.1f} s (seeded side by side)"
        )
        try:
            with p2c_session(work / "p2c", sandboxes["p2c"], templates) as session:
                settings = session.project.settings
                print(f"p2c project: batch_size {settings.batch_size}, concurrency {settings.concurrency}")
                for t in tasks:
                    results[t.key]["p2c"] = run_p2c(session, t, sandboxes["p2c"], pin=not args.no_pin)
            with p2c_session(work / "raw", sandboxes["raw"], templates) as session:
                for t in tasks:
                    rows = prepared(session, t)
                    size = CRM_BATCH if t.key == "crm" else settings.batch_size or ERP_BATCH
                    results[t.key]["raw"] = run_raw(
                        sandboxes["raw"],
                        t,
                        rows,
                        batch_size=size,
                        concurrency=settings.concurrency,
                        pin=not args.no_pin,
                    )
            if "per-record" in names:
                with p2c_session(work / "per-record", sandboxes["per-record"], templates) as session:
                    for t in tasks:
                        rows = prepared(session, t)
                        results[t.key]["per-record"] = run_per_record(
                            sandboxes["per-record"], t, rows[: args.sample], len(rows)
                        )
        finally:
            for sb in sandboxes.values():
                sb.stop()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", default="large:20000", help="large:N = N CRM accounts, N/4 ERP products")
    ap.add_argument("--latency-ms", type=int, default=80, help="added to every request on both servers")
    ap.add_argument(
        "--protection", action="store_true", help="the real limits: 6 000 requests/5 min, 52 in flight"
    )
    ap.add_argument(
        "--one-process",
        action="store_true",
        help="serve CRM and ERP from one sandbox process (one CPU for both, as before --split)",
    )
    ap.add_argument(
        "--no-pin",
        action="store_true",
        help="leave the processes where the OS puts them (by default, while p2c and the raw writer write, "
        "the service written has a core of its own: contenders.target_core)",
    )
    ap.add_argument("--sample", type=int, default=500, help="records the per-record client times")
    ap.add_argument("--tasks", default="crm,erp", help="crm, erp or both")
    ap.add_argument("--quick", action="store_true", help="large:5000 and a sample of 150: about 2 minutes")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of p2c and the raw writer, each into fresh sandboxes: the ratio is their median "
        "(the per-record client runs in the first only)",
    )
    args = ap.parse_args()
    if args.quick:
        args.seed, args.sample = "large:5000", 150
    tasks = [TASKS[k] for k in args.tasks.split(",")]
    limits = "real service-protection limits" if args.protection else "no service-protection limits"
    layout = (
        "CRM and ERP in one sandbox process" if args.one_process else "CRM and ERP in processes of their own"
    )
    cores = (
        "unpinned"
        if args.no_pin or args.one_process or len(os.sched_getaffinity(0)) < 2
        else "while p2c and the raw writer write, the service written on a core of its own, they and the "
        "other service on the rest"
    )
    print(f"seed {args.seed}, {args.latency_ms} ms added per request, {limits}, {layout}, {cores}")
    results = one_round(args, tasks, CONTENDERS)
    rounds = [results] + [one_round(args, tasks, ("p2c", "raw")) for _ in range(args.repeat - 1)]

    for t in tasks:
        res = results[t.key]
        print(f"\n{t.label}")
        for name in CONTENDERS:
            r = res[name]
            print(
                f"  {name:<10} {r.rows:>7} rows {r.seconds:>8.1f} s {r.rate:>8,.0f} rows/s "
                f"{r.requests:>7} requests  ({r.note})"
            )
        p2c, raw, one = res["p2c"], res["raw"], res["per-record"]
        print(
            f"  sandbox CPU: p2c run {p2c.sandbox_cpu:.2f} s ({p2c.busy:.2f} s per s of its wall), "
            f"raw {raw.sandbox_cpu:.2f} s ({raw.busy:.2f} s/s)"
        )
        if all(r[t.key]["p2c"].cpu for r in rounds):
            # the interpreter runs Python on one core at a time: a task whose Python work takes
            # longer than the raw writer's whole run cannot keep up with it, whatever overlaps
            need = statistics.median(r[t.key]["p2c"].cpu / r[t.key]["raw"].seconds for r in rounds)
            per = statistics.median(1000 * r[t.key]["p2c"].cpu / max(1, r[t.key]["p2c"].rows) for r in rounds)
            sand = statistics.median(
                1000 * (r[t.key]["p2c"].sandbox_cpu or 0.0) / max(1, r[t.key]["p2c"].rows) for r in rounds
            )
            print(
                f"  CPU per 1 000 rows: p2c's process {per:.3f} s, the sandbox under it {sand:.3f} s; "
                f"p2c's CPU ÷ the raw writer's wall = {need:.2f} (over 1: p2c's work alone outlasts the "
                f"raw writer's run; the ratio below stays under about 1/{need:.2f} = {1 / need:.2f})"
            )
        speeds = [r[t.key]["p2c"].rate / r[t.key]["raw"].rate for r in rounds]
        speed = statistics.median(speeds)
        if len(rounds) > 1:
            walls = ", ".join(
                f"{r[t.key]['p2c'].seconds:.1f}/{r[t.key]['raw'].seconds:.1f} s = {x:.2f}"
                for r, x in zip(rounds, speeds, strict=True)
            )
            print(f"  {len(rounds)} rounds, p2c/raw wall: {walls}; the median below")
        if all(r[t.key]["p2c"].writing for r in rounds):
            # the gap split: what p2c does before its first write (reach the services, read the
            # source, prepare and map the first chunk), and its writing against the raw writer's
            firsts = statistics.median(r[t.key]["p2c"].first_write or 0.0 for r in rounds)
            writing = [r[t.key]["raw"].seconds / (r[t.key]["p2c"].writing or 1.0) for r in rounds]
            print(
                f"  where: p2c's first write after {firsts:.2f} s (median); while writing, p2c's rows/s ÷ "
                f"the raw writer's = {statistics.median(writing):.2f} "
                f"({', '.join(f'{x:.2f}' for x in writing)})"
            )
        fewer = one.requests / p2c.requests if p2c.requests else float("inf")
        less = one.seconds / p2c.seconds
        per = p2c.requests / p2c.rows if p2c.rows else float("inf")
        print(
            f"  p2c rows/s ÷ raw rows/s            = {speed:6.2f}  (target >= {RAW_RATIO}: {verdict(speed >= RAW_RATIO)})"
        )
        print(
            f"  per-record requests ÷ p2c requests = {fewer:6.1f}  (target >= {FEWER_REQUESTS:.0f}: {verdict(fewer >= FEWER_REQUESTS)})"
        )
        print(
            f"  per-record wall ÷ p2c wall         = {less:6.1f}  (target >= {LESS_WALL:.0f}: {verdict(less >= LESS_WALL)})"
        )
        goal = REQUESTS_PER_RECORD[t.key]
        into = "Dataverse" if t.key == "crm" else "F&O"
        print(
            f"  p2c requests per record written    = {per:6.4f}  (goal 4, into {into} <= {goal}: {verdict(per <= goal)})"
        )
        if p2c.to_target is not None and p2c.rows:
            only = p2c.to_target / p2c.rows
            label = f"  of which to {into} alone"
            print(f"  {label:<34} = {only:6.4f}  ({p2c.to_target} requests)")
        if p2c.rows != raw.rows:
            print(f"  note: p2c wrote {p2c.rows} rows, the raw writer {raw.rows}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
