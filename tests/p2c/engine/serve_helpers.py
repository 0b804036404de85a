"""``p2c serve`` as a user runs it: a real subprocess on a free port, driven over HTTP only."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running ``p2c serve``: its URL, a client with a valid token, its process and its output."""

    url: str
    token: str
    proc: subprocess.Popen[str]
    log: Path
    project: str
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=120
        )

    def api(self, path: str) -> str:
        return f"/api/v1/projects/{self.project}{path}"

    def get(self, path: str, **kw: Any) -> Any:
        r = self.client.get(self.api(path), **kw)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def post(self, path: str, expect: int = 200, **kw: Any) -> Any:
        r = self.client.post(self.api(path), **kw)
        assert r.status_code == expect, (r.status_code, r.text)
        return r.json()

    def wait_run(self, run_id: int, timeout: float = 120) -> dict[str, Any]:
        """The run once it ended."""
        return wait_for(
            lambda: (
                (run := self.get(f"/runs/{run_id}")) and not run["running"] and run["finished_at"] and run
            ),
            timeout,
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def wait_for(check: Callable[[], Any], timeout: float = 60, every: float = 0.2) -> Any:
    """The first true value ``check`` gives within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(every)


@contextmanager
def serve(
    project: Path, *args: str, env: dict[str, str] | None = None, name: str | None = None
) -> Iterator[Served]:
    """``p2c serve --project project`` on a free port with a fresh token; stopped with SIGTERM."""
    port = free_port()
    token = secrets.token_urlsafe(24)
    log = project.parent / f"serve-{port}.log"
    environ = {**os.environ, "P2C_API_TOKENS": f"tester={token}", "NO_COLOR": "1", **(env or {})}
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "p2c.cli", "serve", "--project", str(project), "--port", str(port), *args],
            cwd=project.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=environ,
        )
    served = Served(f"http://127.0.0.1:{port}", token, proc, log, name or _name(project))
    try:
        wait_for(lambda: _up(served), timeout=60)
        yield served
    finally:
        served.client.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def stop(served: Served, timeout: float = 60) -> int:
    """SIGTERM, as systemd stops a service; the exit code."""
    served.proc.send_signal(signal.SIGTERM)
    return served.proc.wait(timeout)


def _up(served: Served) -> bool:
    if served.proc.poll() is not None:
        raise AssertionError(f"p2c serve exited {served.proc.returncode}:\n{served.output()}")
    try:
        return httpx.get(f"{served.url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _name(project: Path) -> str:
    import yaml

    return str(yaml.safe_load(project.read_text(encoding="utf-8"))["name"])
