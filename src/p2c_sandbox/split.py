"""The ERP served by a process of its own (``p2c sandbox up --split``).

A real Dataverse and a real F&O are separate services: reading one never slows writing the other.
The sandbox serves both from one event loop, so a run that reads the CRM while it writes the ERP
(every Accounts load) is slowed by its own reads, and a benchmark measures the emulator's one CPU
instead of the sync. Split, the parent (identity and CRM) binds all three sockets as usual, then
starts ``python -m p2c_sandbox.split``, which gets the ERP's listening socket (an inherited file
descriptor) and the configuration on its standard input (the credentials are not put on a command
line), seeds or loads the ERP's own store in the data directory, and serves it.

Either process ending stops the other: the parent stops the child when it stops (SIGTERM, then
SIGKILL after 15 s) and stops itself when the child ends; the child ends when its parent is gone.

Example::

    child = start_erp_process(sandbox)      # from Sandbox.run when split
    ...
    stop_process(child)
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from p2c_sandbox.config import Limits, SandboxConfig, ServerCredentials

__all__ = ["child_gone", "parent_gone", "start_erp_process", "stop_process"]


def start_erp_process(sandbox: Any) -> subprocess.Popen[bytes]:
    """The process that serves ``sandbox``'s ERP on the socket the sandbox bound for it."""
    sock: socket.socket = sandbox._sockets["erp"]
    config = dataclasses.replace(sandbox.config, credentials=sandbox.credentials)
    spec = {
        "config": _plain(dataclasses.asdict(config)),
        "fd": sock.fileno(),
        "urls": sandbox.urls,
        "parent": os.getpid(),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "p2c_sandbox.split"], stdin=subprocess.PIPE, pass_fds=(sock.fileno(),)
    )
    assert child.stdin is not None
    child.stdin.write(json.dumps(spec).encode())
    child.stdin.close()
    sock.close()  # the child listens on it now
    return child


def stop_process(child: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def child_gone(child: subprocess.Popen[bytes]) -> Callable[[], str | None]:
    """Why the parent must stop (the ERP's process ended), or None while it runs."""

    def check() -> str | None:
        code = child.poll()
        return None if code is None else f"the ERP's process ended (exit code {code})"

    return check


def parent_gone(parent: int) -> Callable[[], str | None]:
    """Why the child must stop (its parent ended: it now has another one), or None."""

    def check() -> str | None:
        return None if os.getppid() == parent else "the sandbox's main process ended"

    return check


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _config(data: dict[str, Any]) -> SandboxConfig:
    fields = dict(data)
    fields["data_dir"] = Path(fields["data_dir"]) if fields.get("data_dir") else None
    fields["crm_limits"] = Limits(**fields["crm_limits"])
    fields["erp_limits"] = Limits(**fields["erp_limits"])
    fields["credentials"] = ServerCredentials(**fields["credentials"])
    return SandboxConfig(**fields)


def main() -> None:
    """The child: serve the ERP until the parent stops it or is gone."""
    import logging

    from p2c_sandbox.server import Sandbox

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s (ERP process): %(message)s")
    spec = json.loads(sys.stdin.read())
    sock = socket.socket(fileno=spec["fd"])
    sock.setblocking(False)
    sandbox = Sandbox(_config(spec["config"]), serve=("erp",), sockets={"erp": sock}, urls=spec["urls"])
    sandbox.run(until=parent_gone(spec["parent"]))


if __name__ == "__main__":
    main()
