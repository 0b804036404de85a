"""Helpers of the scale-out tests: a PostgreSQL schema per test, real ``p2c worker`` processes.

PostgreSQL (127.0.0.1:5432), Redis (127.0.0.1:6379) and RabbitMQ (127.0.0.1:5672) run on every
machine of this suite; when one is unreachable the tests FAIL, never skip. Each test gets its own
queue name (``P2C_QUEUE``), so nothing left on a broker reaches another test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import ENV
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

REDIS = os.environ.get("P2C_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ = os.environ.get("P2C_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
POSTGRES = [
    os.environ.get("P2C_TEST_POSTGRES_URL", ""),
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema, dropped afterwards."""
    errors = []
    for url in filter(None, POSTGRES):
        admin = create_engine(url, poolclass=NullPool)
        try:
            with admin.begin() as conn:
                schema = f"p2c_scale_{uuid.uuid4().hex[:10]}"
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        except OperationalError as e:
            errors.append(f"{url}: {e.orig}")
            admin.dispose()
            continue
        try:
            yield f"{url}?options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
        return
    pytest.fail("PostgreSQL is required by the scale-out tests and is unreachable: " + "; ".join(errors))


class Workers:
    """``p2c worker`` processes on one broker and queue; their logs kept to tell who did what."""

    def __init__(self, directory: Path, broker: str, queue: str | None = None) -> None:
        self.dir = directory
        self.broker = broker
        self.queue = queue or f"p2c-test-{uuid.uuid4().hex[:8]}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    @property
    def env(self) -> dict[str, str]:
        return {**ENV, "P2C_QUEUE": self.queue, "P2C_BROKER": self.broker}

    def start(self, n: int, *options: str, wait: bool = True) -> list[subprocess.Popen[bytes]]:
        """``n`` workers with ``options``; ``wait``: until each reads its queue (else :meth:`ready`)."""
        started = []
        for _ in range(n):
            log = self.dir / f"worker-{len(self.procs)}.log"
            args = [sys.executable, "-m", "p2c.cli", "worker", "--concurrency", "1", *options]
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    args, cwd=self.dir, stdout=out, stderr=subprocess.STDOUT, env=self.env
                )
            self.procs.append(proc)
            self.logs.append(log)
            started.append(proc)
        if wait:
            self.ready()
        return started

    def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for proc, log in zip(self.procs, self.logs, strict=True):
            while b"ready." not in log.read_bytes():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)

    def log(self, n: int) -> str:
        return self.logs[n].read_text(errors="replace")

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``p2c run --queue ...`` on this broker and queue."""
        return subprocess.run(
            [sys.executable, "-m", "p2c.cli", "run", "--queue", *args],
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
        )

    def start_run(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "p2c.cli", "run", "--queue", *args],
            cwd=self.dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def pid_of(holder: str | None) -> int:
    assert holder is not None
    return int(holder.split(":")[1])


def sandbox_stats(sandbox: Any) -> dict[str, dict[str, Any]]:
    return {w: sandbox.admin(w).get("info").json()["stats"] for w in ("crm", "erp")}


def set_limits(sandbox: Any, **limits: Any) -> None:
    for which in ("crm", "erp"):
        sandbox.admin(which).put("limits", json=limits).raise_for_status()


def holders(items: Sequence[Any]) -> set[int]:
    return {pid_of(i.holder) for i in items}
