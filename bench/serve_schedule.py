"""How late ``p2c serve`` starts scheduled runs: a project on a short schedule, for a few minutes.

    .venv/bin/python bench/serve_schedule.py [--every 5] [--minutes 3]

Starts the sandbox (seed ``demo``) and ``p2c serve`` on a project of the accounts and products
templates with ``schedule: {every: <N>s}``, lets it run, then reads from the service's own
``/metrics`` the histogram ``p2c_schedule_lateness_seconds`` (planned time → run recorded) and from
its REST API the scheduled runs. Prints the lateness (mean, and the share of runs starting within
each bound), each as a ratio of the schedule's interval measured in the same run, the runs'
durations, and whether any two runs overlapped (they must not).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from p2c.connectors import Redactor
from p2c.engine import open_connectors
from p2c.project import load_project, write_sandbox_project
from p2c.setup import provision
from sandbox import start  # bench/sandbox.py: starts `p2c sandbox up` and waits for it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=5, help="seconds between scheduled runs")
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="p2c-bench-serve-"))
    sandbox, _conns = start("demo", work / "sandbox")
    try:
        path = write_sandbox_project(
            work, work / "sandbox" / "connections.yaml", name="bench", overwrite=True
        )
        data = yaml.safe_load(path.read_text())
        data["templates"] = ["accounts", "products"]
        data["schedule"] = {"every": f"{args.every}s"}
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        project = load_project(path)
        with open_connectors(project.connections, Redactor()) as conns:
            provision(project, conns.crm)
        report(path, args.every, args.minutes)
    finally:
        sandbox.stop()


def report(path: Path, every: int, minutes: float) -> None:
    port = _free_port()
    token = secrets.token_urlsafe(24)
    env = {**os.environ, "P2C_API_TOKENS": f"bench={token}"}
    log = path.parent / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "p2c.cli", "serve", "--project", str(path), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=path.parent,
        )
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    try:
        _wait(lambda: client.get("/healthz").status_code == 200)
        print(f"p2c serve up; schedule every {every} s for {minutes:.1f} min")
        time.sleep(minutes * 60)
        metrics = client.get("/metrics").text
        runs = client.get("/api/v1/projects/bench/runs", params={"limit": 500}).json()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        client.close()
    count = _value(metrics, "p2c_schedule_lateness_seconds_count")
    total = _value(metrics, "p2c_schedule_lateness_seconds_sum")
    scheduled = [r for r in runs if r["trigger"] == "schedule"]
    ran = [r for r in runs if r["status"] != "skipped"]
    print(
        f"scheduled runs started: {int(count)} (runs recorded {len(scheduled)}, skipped {sum(r['status'] == 'skipped' for r in scheduled)})"
    )
    if count:
        mean = total / count
        print(f"lateness: mean {mean:.3f} s = {mean / every:.3%} of the interval")
        for bound in ("0.1", "0.25", "0.5", "1.0", "2.0"):
            within = _value(metrics, f'p2c_schedule_lateness_seconds_bucket{{le="{bound}",project="bench"}}')
            print(
                f"  started within {bound} s ({float(bound) / every:.1%} of the interval): {within / count:.0%}"
            )
    durations = [r["seconds"] for r in scheduled if r["seconds"] is not None]
    if durations:
        print(f"run duration: mean {sum(durations) / len(durations):.2f} s, max {max(durations):.2f} s")
    spans = sorted(
        (datetime.fromisoformat(r["started_at"]), datetime.fromisoformat(r["finished_at"]))
        for r in ran
        if r["finished_at"]
    )
    overlaps = sum(1 for (_s1, e1), (s2, _e2) in itertools.pairwise(spans) if e1 > s2)
    print(f"overlapping runs: {overlaps}")


def _value(metrics: str, name: str) -> float:
    pattern = re.escape(name) + (r"\{[^}]*\}" if "{" not in name else "") + r" ([0-9.e+-]+)"
    found = re.findall(pattern, metrics)
    return sum(float(v) for v in found)


def _wait(check, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("p2c serve did not come up")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
