"""Run ``p2c sandbox up`` as a separate process and talk to it: for benchmarks, tests and scripts.

A separate process keeps the sandbox's CPU apart from the caller's (benchmarks print both) and
exercises the command a user runs. :func:`start` waits until the admin API answers, so seeding
time is included; :func:`api_client` gets a token from the sandbox's identity server with msal.

Example::

    proc = SandboxProcess.start(Path("/tmp/sb"), seed="large:20000")
    with proc.client("crm") as crm:
        crm.get("accounts", params={"$top": "1"})
    proc.stop()
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msal
import yaml

__all__ = ["SandboxProcess", "api_client", "free_ports"]


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` ports free right now (bound together, so they differ)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def api_client(conn: dict[str, Any], timeout: float = 300) -> httpx.Client:
    """An httpx client on one service's OData root (``conn`` = a ``connections.yaml`` entry) with a token."""
    ctx = ssl.create_default_context(cafile=conn["ca_bundle"])
    with httpx.Client(verify=ctx) as auth_http:
        app = msal.ConfidentialClientApplication(
            conn["client_id"],
            authority=conn["authority"],
            client_credential=conn["client_secret"],
            instance_discovery=False,
            http_client=auth_http,
        )
        token = app.acquire_token_for_client(scopes=[conn["url"] + "/.default"])["access_token"]
    return httpx.Client(
        base_url=conn["api"],
        verify=ctx,
        timeout=timeout,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of another process, from ``/proc/<pid>/stat`` (Linux; psutil is
    not a dependency): fields 14 and 15 of proc(5), after the command name in parentheses."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class SandboxProcess:
    proc: subprocess.Popen[str]
    data: Path
    ports: list[int]
    seconds_to_ready: float = 0.0
    connections: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        data: Path,
        *,
        seed: str | None = None,
        ports: list[int] | None = None,
        extra: tuple[str, ...] = (),
        timeout: float = 300,
        latency_ms: int = 0,
        protection: bool = True,
        split: bool = False,
    ) -> SandboxProcess:
        """Start and wait until ready; ``latency_ms``/``protection``: realistic mode for benchmarks;
        ``split``: the ERP served by a process of its own (``p2c sandbox up --split``)."""
        ports = ports or free_ports(3)
        args = [
            sys.executable,
            "-m",
            "p2c.cli",
            "sandbox",
            "up",
            "--data",
            str(data),
            "--identity-port",
            str(ports[0]),
            "--crm-port",
            str(ports[1]),
            "--erp-port",
            str(ports[2]),
            *(("--seed", seed) if seed else ()),
            *(("--latency-ms", str(latency_ms)) if latency_ms else ()),
            *(() if protection else ("--no-protection",)),
            *(("--split",) if split else ()),
            *extra,
        ]
        started = time.perf_counter()
        proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                raise RuntimeError(f"the sandbox exited early ({proc.returncode}): {out}")
            if (data / "connections.yaml").exists():
                try:
                    ctx = ssl.create_default_context(cafile=str(data / "ca.pem"))
                    if httpx.get(
                        f"https://127.0.0.1:{ports[2]}/sandbox/info", verify=ctx, timeout=5
                    ).is_success:
                        conns = yaml.safe_load((data / "connections.yaml").read_text())
                        return cls(proc, data, ports, time.perf_counter() - started, conns)
                except (httpx.HTTPError, OSError, ssl.SSLError):
                    pass
            time.sleep(0.1)
        proc.kill()
        proc.communicate(timeout=30)
        raise RuntimeError(f"the sandbox did not start within {timeout:.0f} s")

    def client(self, which: str, timeout: float = 300) -> httpx.Client:
        return api_client(self.connections[which], timeout)

    def pids(self) -> list[int]:
        """The sandbox's processes: the main one and its children (a split sandbox's ERP process)."""
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            children = []
        return [self.proc.pid, *map(int, children)]

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) its processes have used so far (:func:`cpu_of`)."""
        total = 0.0
        for pid in self.pids():
            try:
                total += cpu_of(pid)
            except OSError:
                continue  # ended meanwhile
        return total

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then wait; returns the exit code and everything the process printed."""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        return self.proc.returncode, out or ""
