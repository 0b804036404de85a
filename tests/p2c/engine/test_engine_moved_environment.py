"""The same environment under another address keeps its change-tracking place (issue 8 §6): the
demo's sandbox restarted on other ports, and the next run reads only what changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import p2c

from p2c.project import load_project, write_sandbox_project
from p2c.store import StateStore
from p2c_sandbox.process import SandboxProcess


@pytest.mark.slow
def test_a_sandbox_restarted_on_other_ports_keeps_the_cursor(tmp_path: Path) -> None:
    data = tmp_path / "sandbox"
    sandbox = SandboxProcess.start(data, seed="demo", timeout=120)
    try:
        project = write_sandbox_project(tmp_path, data / "connections.yaml", templates=["accounts"])
        assert p2c("setup", cwd=tmp_path).returncode == 0
        first = p2c("run", cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
    finally:
        sandbox.stop()
    moved = SandboxProcess.start(data, timeout=120)  # same data, new ports, connections.yaml rewritten
    try:
        assert moved.ports != sandbox.ports
        again = p2c("run", cwd=tmp_path, timeout=60)
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        moved.stop()
    with StateStore(load_project(project).state_url) as store:
        latest = store.runs(limit=1)[0]
        cursor = store.cursor("Accounts")
    # incremental: the accounts whose numbers the first run wrote back come again, not all 30
    assert latest.counts.read < 30 and latest.counts.failed == 0, latest.counts
    assert cursor is not None and "https://" not in cursor and "|accounts?" in cursor
