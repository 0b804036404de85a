"""A run asks for its first page while it checks that both services answer.

The first tasks' first source pages (and, on a first run, the reference tables) are asked for
before the run is recorded, beside the reachability check: a read changes nothing, so a run
refused then drops them and leaves no trace; a run that goes on takes the page it asked for,
unless the cursor it was asked with is no longer the task's (then it reads afresh).

Over HTTPS against the sandbox; what the CRM received is seen inside the sandbox.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from engine_helpers import p2c

from p2c.engine.pipeline import TaskPipeline
from p2c.engine.reading import SourceReader
from p2c.errors import ConfigError
from p2c.settings import System
from p2c.store import RunStatus, StateStore
from p2c_sandbox.http import Request, Response

EXIT_CANNOT_RUN = 3  # p2c run: a service cannot be reached (README, exit codes)


class Feeds:
    """The change-tracking reads of ``accounts`` the sandbox's CRM answered."""

    def __init__(self, service: Any) -> None:
        self.handle: Callable[[Request], Response] = service.handle
        self.reads = 0

    def __call__(self, req: Request) -> Response:
        if req.method == "GET" and req.path.split("?")[0] == "accounts":
            self.reads += 1
        return self.handle(req)


@pytest.fixture
def feeds(provisioned_project: Any, monkeypatch: pytest.MonkeyPatch) -> Feeds:
    service = provisioned_project.sandbox.crm_service
    seen = Feeds(service)
    monkeypatch.setattr(service, "handle", seen)
    return seen


def _erp_down(world: Any) -> tuple[str, int]:
    """A copy of the project whose ERP is a port nothing listens on: its file name, and the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once the socket is closed
    conns = yaml.safe_load(world.connections.read_text())
    conns["erp"].update(url=f"https://127.0.0.1:{closed}", api=f"https://127.0.0.1:{closed}/data/")
    (world.dir / "erp-down.yaml").write_text(yaml.safe_dump(conns))
    project = yaml.safe_load(world.path.read_text())
    project["connections"] = "erp-down.yaml"
    (world.dir / "erp-down-p2c.yaml").write_text(yaml.safe_dump(project))
    return "erp-down-p2c.yaml", closed


def _asked(feeds: Feeds) -> int:
    """The feed reads the CRM answered (a page asked for beside a check may still be on its way)."""
    deadline = time.monotonic() + 5
    while not feeds.reads and time.monotonic() < deadline:
        time.sleep(0.05)
    return feeds.reads


@pytest.mark.parametrize("command", ["run", "plan"])
def test_a_run_refused_after_its_first_page_was_asked_for_leaves_no_trace(
    provisioned_project: Any, feeds: Feeds, command: str
) -> None:
    """The ERP does not answer: the run (or the plan) is refused by the check, after the CRM was
    asked for the accounts' first page beside it; no run is recorded and no cursor moves."""
    world = provisioned_project
    with StateStore(world.project().state_url) as store:
        runs_before = len(store.runs(limit=100))
    path, closed = _erp_down(world)

    result = p2c(command, "--project", path, "--task", "Accounts", cwd=world.dir, timeout=60)
    assert result.returncode == EXIT_CANNOT_RUN, result.stdout + result.stderr
    assert f"127.0.0.1:{closed}" in result.stdout + result.stderr
    assert _asked(feeds) == 1  # asked for beside the check
    with StateStore(world.project().state_url) as store:
        assert len(store.runs(limit=100)) == runs_before
        assert store.cursor("Accounts") is None


def test_a_run_writes_from_the_first_page_it_asked_for_beside_the_check(
    provisioned_project: Any, feeds: Feeds
) -> None:
    """A first run of Accounts reads the change feed once for its pages (the page asked for
    early is the one it goes on with) and writes every account."""
    world = provisioned_project
    with world.open() as h:
        report = h.run("Accounts")
        (task,) = report.tasks
        assert report.status is RunStatus.SUCCEEDED, task.message
        assert task.created > 0 and task.failed == 0
        # the feed read once for the pages, once more past the run's own number write-backs
        assert feeds.reads == 2, feeds.reads
        assert h.store.cursor("Accounts")


def test_a_page_asked_for_under_another_cursor_is_not_taken(provisioned_project: Any) -> None:
    """The reader began a whole read (no cursor) but the task's cursor is now a recent one: its
    pages are read afresh from that cursor, and bring nothing, not the whole table."""
    world = provisioned_project
    with world.open() as h:
        assert h.run("Accounts").status is RunStatus.SUCCEEDED
        cursor = h.store.cursor("Accounts")
        assert cursor
        (task,) = [t for t in h.project.tasks if t.name == "Accounts"]
        assert task.source.system is System.CRM
        reader = SourceReader(task, h.project.catalog, h.crm, list(h.project.legal_entities))
        select = ["accountid", "accountnumber", "name"]
        reader.begin(select, None)
        pages = list(reader.pages(select, cursor))
        assert [r for p in pages for r in p.rows] == []
        assert pages[-1].cursor and not pages[-1].full
        # and with the cursor it began with, the whole table
        reader.begin(select, None)
        whole = list(reader.pages(select, None))
        assert len([r for p in whole for r in p.rows]) > 10 and whole[-1].full


def test_a_task_whose_first_page_cannot_be_asked_for_early_runs_as_before(
    provisioned_project: Any, feeds: Feeds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asking ahead is only ahead: when it fails (here: told to), the task reads as it starts."""

    def refuse(self: TaskPipeline, *, full: bool) -> None:
        raise ConfigError("not ahead this time")

    monkeypatch.setattr(TaskPipeline, "begin", refuse)
    with provisioned_project.open() as h:
        report = h.run("Accounts")
    (task,) = report.tasks
    assert report.status is RunStatus.SUCCEEDED, task.message
    assert task.created > 0 and task.failed == 0
    assert feeds.reads == 2, feeds.reads  # the pages, then past the number write-backs
