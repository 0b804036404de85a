"""Scale-out (issue 13, "Scale-out on Celery"): the same load with 1, 2 and 4 `p2c worker` processes.

    .venv/bin/python bench/scale.py [--seed large:20000] [--workers 1,2,4] [--parts 1] [--latency-ms 0]
                                    [--broker redis://127.0.0.1:6379/0] [--postgres postgresql+psycopg://...]

One sandbox (`p2c sandbox up`, its own process) is reset to the same seed before each round; each
round gets a fresh PostgreSQL schema as its state, provisions the project (`p2c setup`), starts N
workers (`p2c worker --concurrency 1`), and times `p2c run --queue` of Accounts, Products and
ProductPriceListItems (the initial load: every record created). Printed per round: records
written, wall time, records/s and the speed-up over one worker (ratios from this one run), the
CPU seconds of the sandbox and of the workers, and how busy the machine's cores were
((sandbox + workers CPU) / (wall × cores), and by everything running on the machine, from
/proc/stat): near 1.0 the machine's CPU is the limit, not p2c.
With ``--latency-ms`` every request also waits that long in the sandbox (a real network).
With ``--parts 1,4`` every worker count runs once per value of ``settings.parts`` (a task's
initial load split into that many items, then a closing pass: docs/scale-out.md), and the
speed-ups are printed per parts value and of each parts value over 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from p2c.engine import open_project
from p2c.project import write_sandbox_project
from p2c.setup import provision
from p2c.store import StateStore
from p2c_sandbox.process import cpu_of
from sandbox import start  # bench/sandbox.py: starts `p2c sandbox up` and waits for it

TASKS = ("Accounts", "Products", "ProductPriceListItems")


def machine_busy() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat (other work included)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)


def reset(sandbox: Any, seed: str, latency_ms: int) -> float:
    started = time.perf_counter()
    for which in ("crm", "erp"):
        with sandbox.client(which, timeout=1800) as c:
            admin = str(c.base_url).split("/api/data")[0].split("/data")[0] + "/sandbox/"
            c.post(admin + "reset", json={"seed": seed}).raise_for_status()
            if latency_ms:
                c.put(admin + "faults", json={"latency_ms": latency_ms}).raise_for_status()
    return time.perf_counter() - started


def workers(n: int, cwd: Path, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(n):
        log = (cwd / f"worker-{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "p2c.cli", "worker", "--concurrency", "1", "--log-level", "WARNING"],
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        )
    time.sleep(1)
    deadline = time.monotonic() + 60
    for i, proc in enumerate(procs):  # ready once the worker reads its queue
        while b"ready" not in (cwd / f"worker-{i}.log").read_bytes() and time.monotonic() < deadline:
            assert proc.poll() is None, (cwd / f"worker-{i}.log").read_text()
            time.sleep(0.2)
    return procs


def round_(
    n: int, parts: int, args: argparse.Namespace, sandbox: Any, work: Path, admin: Any
) -> dict[str, float]:
    seeded = reset(sandbox, args.seed, args.latency_ms)
    schema = f"p2c_bench_scale_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        where = work / f"round-{n}-{parts}"
        where.mkdir()
        path = write_sandbox_project(
            where, work / "sandbox" / "connections.yaml", templates=["accounts", "products"]
        )
        data = yaml.safe_load(path.read_text())
        data["state"] = f"{args.postgres}?options=-csearch_path%3D{schema}"
        data.setdefault("settings", {})["parts"] = parts
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        with open_project(path) as session:
            assert provision(session.project, session.connectors.crm, wait_seconds=120).ok
        env = {**os.environ, "P2C_BROKER": args.broker, "P2C_QUEUE": f"p2c-bench-{schema}", "COLUMNS": "200"}
        procs = workers(n, where, env)
        try:
            cpu0 = [cpu_of(p.pid) for p in procs]
            sb0, t0, m0 = cpu_of(sandbox.proc.pid), time.perf_counter(), machine_busy()
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "p2c.cli",
                    "run",
                    "--queue",
                    *(a for t in TASKS for a in ("--task", t)),
                ],
                cwd=where,
                capture_output=True,
                text=True,
                env=env,
            )
            wall = time.perf_counter() - t0
            sandbox_cpu = cpu_of(sandbox.proc.pid) - sb0
            worker_cpu = sum(cpu_of(p.pid) - c for p, c in zip(procs, cpu0, strict=True))
            m1 = machine_busy()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(60)
        if run.returncode not in (0, 1):
            raise SystemExit(f"the run failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
        with StateStore(data["state"]) as store:
            info = store.runs(limit=1)[0]
            items = store.items(info.id)
        written = info.counts.written
        assert info.finished_at is not None
        recorded = (info.finished_at - info.started_at).total_seconds()  # without the CLI's start-up
        per_task = ", ".join(
            f"{t.task} {t.counts.written} at +{(t.started_at - info.started_at).total_seconds():.1f} s "
            f"for {((t.finished_at or t.started_at) - t.started_at).total_seconds():.1f} s"
            for t in info.task_runs
        )
        used = len({i.holder.split(":")[1] for i in items if i.holder})
        print(
            f"{n} worker(s), parts {parts}: {written:,} records in {recorded:6.1f} s = {written / recorded:7,.0f} records/s "
            f"(the run as recorded; {wall:.1f} s with the command's start-up); "
            f"CPU sandbox {sandbox_cpu:5.1f} s, workers {worker_cpu:5.1f} s, cores busy "
            f"{(sandbox_cpu + worker_cpu) / (recorded * (os.cpu_count() or 1)):.2f} by them, "
            f"{(m1[0] - m0[0]) / max(1, m1[1] - m0[1]):.2f} by everything on the machine; "
            f"workers that ran items {used}; reset {seeded:.0f} s; {info.status}: {per_task}"
        )
        return {"rate": written / recorded, "wall": recorded, "sandbox": sandbox_cpu, "workers": worker_cpu}
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", default="large:20000")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--parts", default="1", help="settings.parts values, e.g. 1,4")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--broker", default=os.environ.get("P2C_BROKER", "redis://127.0.0.1:6379/0"))
    ap.add_argument(
        "--postgres",
        default=os.environ.get("P2C_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    args = ap.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    parts = [int(n) for n in args.parts.split(",")]
    print(
        f"load: {args.seed}, tasks {', '.join(TASKS)}; {os.cpu_count()} cores; latency {args.latency_ms} ms"
    )
    admin = create_engine(args.postgres, poolclass=NullPool)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sandbox, _ = start(args.seed, work / "sandbox")
        try:
            results = {(n, p): round_(n, p, args, sandbox, work, admin) for p in parts for n in counts}
        finally:
            sandbox.stop()
    for p in parts:
        base = results[(counts[0], p)]["rate"]
        for n in counts:
            rate = results[(n, p)]["rate"]
            versus = (
                f"; parts {p} over parts {parts[0]}: {rate / results[(n, parts[0])]['rate']:.2f}x"
                if p != parts[0]
                else ""
            )
            print(f"parts {p}: speed-up with {n} worker(s) over {counts[0]}: {rate / base:.2f}x{versus}")
    print(
        "where it stops: with parts 1 a run has at most as many items at once as tasks without a dependency "
        "between them (here 2: Accounts with Products, then Accounts with ProductPriceListItems), so workers "
        "past 2 idle (parts N gives each task's initial load N items); "
        f"and this machine has {os.cpu_count()} cores for the sandbox, PostgreSQL and every worker "
        "(cores busy, above: near 1.00 by everything, the machine's CPU is the limit)."
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
