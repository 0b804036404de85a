"""`p2c sandbox up --split`: the ERP served by a process of its own, as a user (or a benchmark) runs it.

Real processes, ports and files: one token from the emulated Entra ID is taken by both services;
the ERP's writes land in the data directory's ERP store (an unsplit sandbox on the same directory
reads them back); a split sandbox's two processes end together, whichever is stopped or killed.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from p2c_sandbox.process import SandboxProcess, api_client, free_ports


def _gone(pid: int, seconds: float = 10.0) -> bool:
    """Whether the process ``pid`` (not a child of this one) ended within ``seconds``: no longer
    there, or a zombie (ended, not yet reaped by whoever adopted it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def test_the_erp_runs_in_its_own_process_on_the_same_credentials_and_data(tmp_path: Path) -> None:
    data, ports = tmp_path / "sb", free_ports(3)
    sandbox = SandboxProcess.start(data, seed="demo", ports=ports, timeout=120, split=True)
    try:
        main, *children = sandbox.pids()
        assert main == sandbox.proc.pid and len(children) == 1, sandbox.pids()
        assert sandbox.cpu_seconds() > 0
        with api_client(sandbox.connections["erp"]) as erp, api_client(sandbox.connections["crm"]) as crm:
            made = erp.post(
                "CustomersV3",
                json={
                    "dataAreaId": "usmf",
                    "CustomerAccount": "SPLIT-1",
                    "OrganizationName": "Split Ltd",
                    "CustomerGroupId": "10",
                },
            )
            assert made.status_code == 201, made.text
            assert crm.get("WhoAmI").status_code == 200
            info = erp.get(f"{sandbox.connections['erp']['url']}/sandbox/info").json()
            assert info["service"] == "erp" and info["stats"]["requests"] >= 1
    finally:
        code, out = sandbox.stop()
    assert code == 0, out
    assert _gone(children[0]), "the ERP's process outlived the sandbox"
    # the ERP's process kept its store in the data directory: one process reads it back
    again = SandboxProcess.start(data, ports=ports, timeout=120)
    try:
        with api_client(again.connections["erp"]) as erp:
            found = erp.get(
                "CustomersV3", params={"$filter": "CustomerAccount eq 'SPLIT-1'", "cross-company": "true"}
            ).json()["value"]
        assert [c["OrganizationName"] for c in found] == ["Split Ltd"]
    finally:
        again.stop()


@pytest.mark.parametrize("killed", ["main", "erp"])
def test_either_process_killed_ends_the_other(tmp_path: Path, killed: str) -> None:
    sandbox = SandboxProcess.start(tmp_path / "sb", seed="demo", timeout=120, split=True)
    main, child = sandbox.pids()
    try:
        os.kill(main if killed == "main" else child, signal.SIGKILL)
        sandbox.proc.wait(timeout=10)  # the main process (this test's child) ended
        assert _gone(child), f"after SIGKILL of the {killed} process, the ERP's process still runs"
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{sandbox.connections['erp']['url']}/sandbox/info", verify=False, timeout=2)
    finally:
        if sandbox.proc.poll() is None:
            sandbox.stop()
        else:
            sandbox.proc.communicate(timeout=30)
