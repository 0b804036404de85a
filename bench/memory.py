"""Issue 13, goal 3 (bounded memory): p2c's peak memory for one task over few and over many changed rows.

    .venv/bin/python bench/memory.py                    # 20 000 and 200 000 changed rows (minutes)
    .venv/bin/python bench/memory.py --rows 1000000     # the goal's figure: 20 000 and 1 000 000
    .venv/bin/python bench/memory.py --quick            # 2 000 and 20 000 (about 1.5 minutes)

For each size N: a fresh ``p2c sandbox up --seed accounts:N`` in its own process (N CRM accounts only), the
project ``p2c init`` writes with the accounts template, provisioned (``p2c setup``); then the
Accounts task (CRM accounts → ERP customers: N changed rows) runs in a child process exactly as
``p2c run --task Accounts`` does. The child reports its own resident-set high-water mark
(``VmHWM`` of /proc/self/status) before the run — the interpreter, p2c and the open project — and
after it. Prints both peaks and their ratio: a task that streams (reads, maps and writes chunk by
chunk) is flat (target: <= 1.2x); one that holds its change set grows with it, by the bytes per
extra changed row printed last.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from contenders import p2c_session, start_realistic, verdict  # bench/contenders.py

FLAT = 1.2
TASK = "Accounts"


def status_kib(field: str) -> int:
    """A ``kB`` field of /proc/self/status (VmHWM: peak resident set; VmRSS: now)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def child(project: str, task: str) -> None:
    """Run ``task`` of ``project`` as ``p2c run`` does; print one JSON line with the figures."""
    from p2c.cli.base import lean_gc, lean_malloc
    from p2c.engine import Engine, open_project

    lean_malloc()  # malloc's arenas as `p2c run` caps them, first thing
    with open_project(Path(project)) as s:
        before = status_kib("VmHWM")
        engine = Engine(s.project, s.store, s.by_system, redactor=s.redactor)
        t0 = time.perf_counter()
        with lean_gc():  # the cycle collector as `p2c run` sets it
            report = engine.run([task])
        seconds = time.perf_counter() - t0
    (t,) = report.tasks
    out = {
        "read": t.read,
        "written": t.written,
        "failed": t.failed + t.waiting,
        "seconds": seconds,
        "requests": sum(report.requests.values()),
        "hwm_before_kib": before,
        "hwm_kib": status_kib("VmHWM"),
    }
    print("RESULT " + json.dumps(out))


def measure(rows: int, work: Path, latency_ms: int) -> dict[str, float]:
    t0 = time.perf_counter()
    sandbox = start_realistic(f"accounts:{rows}", work / "sandbox", latency_ms=latency_ms, protection=False)
    print(f"accounts:{rows}: sandbox up in {time.perf_counter() - t0:.1f} s (includes seeding)")
    try:
        with p2c_session(work, sandbox, ["accounts"]) as session:
            path = session.project.path
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(path), "--task", TASK],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode or not lines:
            raise SystemExit(
                f"the p2c child failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
            )
        result: dict[str, float] = json.loads(lines[-1][len("RESULT ") :])
    finally:
        sandbox.stop()
    r = result
    print(
        f"  {TASK}: read {r['read']:.0f}, written {r['written']:.0f}, not written {r['failed']:.0f} in "
        f"{r['seconds']:.1f} s ({r['written'] / r['seconds']:,.0f} rows/s, {r['requests']:.0f} requests); "
        f"peak RSS {r['hwm_kib'] / 1024:,.0f} MiB (before the run {r['hwm_before_kib'] / 1024:,.0f} MiB)"
    )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=20_000, help="changed rows of the small run")
    ap.add_argument("--rows", type=int, default=200_000, help="changed rows of the large run (goal: 1000000)")
    ap.add_argument("--latency-ms", type=int, default=0, help="added per request (memory does not need it)")
    ap.add_argument("--quick", action="store_true", help="2 000 and 20 000 rows")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--task", default=TASK, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.task)
        return
    if args.quick:
        args.small, args.rows = 2_000, 20_000
    with tempfile.TemporaryDirectory() as tmp:
        small = measure(args.small, Path(tmp) / "small", args.latency_ms)
        large = measure(args.rows, Path(tmp) / "large", args.latency_ms)
    ratio = large["hwm_kib"] / small["hwm_kib"]
    grew = (large["hwm_kib"] - large["hwm_before_kib"]) - (small["hwm_kib"] - small["hwm_before_kib"])
    extra_rows = large["written"] - small["written"]
    print(
        f"peak memory of p2c running {TASK}: {small['hwm_kib'] / 1024:,.0f} MiB at {small['written']:,.0f} "
        f"changed rows, {large['hwm_kib'] / 1024:,.0f} MiB at {large['written']:,.0f}: "
        f"{ratio:.2f}x (target flat, <= {FLAT}x: {verdict(ratio <= FLAT)})"
    )
    if extra_rows > 0:
        print(f"growth of the run's own memory: {grew * 1024 / extra_rows:,.0f} bytes per extra changed row")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
