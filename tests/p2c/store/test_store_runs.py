"""Runs and task runs: lifecycle, counters, history listing, crashed-run marking."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update

from p2c.store import Action, Counts, Outcome, RunStatus, StateStore, now
from p2c.store.schema import runs, task_runs


def test_run_lifecycle(store: StateStore) -> None:
    before = now()
    run = store.start_run("contoso", ["accounts", "products"], trigger="schedule", full=True)
    info = store.run(run)
    assert info is not None
    assert (info.project, info.tasks, info.trigger, info.full) == (
        "contoso",
        ("accounts", "products"),
        "schedule",
        True,
    )
    assert info.status is RunStatus.RUNNING and info.finished_at is None and info.duration is None
    assert info.started_at >= before and info.started_at.tzinfo is not None
    assert (info.host, info.pid) == (socket.gethostname(), os.getpid())

    accounts = store.start_task(run, "accounts")
    store.commit_batch(accounts, [], read=3)
    store.commit_batch(
        accounts,
        [
            Outcome("accounts", "A1", Action.CREATED, target_key="C1"),
            Outcome("accounts", "A2", Action.UPDATED, target_key="C2"),
            Outcome("accounts", "A3", Action.FAILED, error_class="RecordError", message="bad group"),
        ],
        read=2,
    )
    store.finish_task(accounts, RunStatus.PARTIAL, message="1 record failed")
    products = store.start_task(run, "products")
    store.commit_batch(products, [Outcome("products", "P1", Action.WAITING, transient=True)], read=1)
    store.finish_task(products, RunStatus.SUCCEEDED)
    store.finish_run(run, RunStatus.PARTIAL, "1 failed")

    info = store.run(run)
    assert info is not None
    assert info.status is RunStatus.PARTIAL and info.message == "1 failed"
    assert info.finished_at is not None and info.duration is not None and info.duration >= 0
    assert [t.task for t in info.task_runs] == ["accounts", "products"]
    first, second = info.task_runs
    assert first.counts == Counts(read=5, created=1, updated=1, failed=1)
    assert (
        first.status is RunStatus.PARTIAL
        and first.message == "1 record failed"
        and first.duration is not None
    )
    assert second.counts == Counts(read=1, waiting=1)
    assert info.counts == Counts(read=6, created=1, updated=1, failed=1, waiting=1)
    assert info.counts.written == 2
    assert store.task_runs(run) == list(info.task_runs)


def test_finish_task_counts_set_the_named_counters(store: StateStore) -> None:
    run = store.start_run("p", ["t"])
    tr = store.start_task(run, "t")
    store.commit_batch(tr, [Outcome("t", "k", Action.CREATED)], read=4)
    store.finish_task(tr, RunStatus.SUCCEEDED, {"read": 10, "skipped": 9})
    assert store.task_runs(run)[0].counts == Counts(read=10, created=1, skipped=9)

    tr2 = store.start_task(run, "u")
    store.finish_task(tr2, RunStatus.SUCCEEDED, Counts(read=2, updated=2))
    assert store.task_runs(run)[1].counts == Counts(read=2, updated=2)


def test_finish_run_closes_task_runs_left_running(store: StateStore) -> None:
    run = store.start_run("p", ["a", "b"])
    done = store.start_task(run, "a")
    store.finish_task(done, RunStatus.SUCCEEDED)
    store.start_task(run, "b")
    store.finish_run(run, RunStatus.FAILED, "ERP unreachable")
    statuses = [(t.task, t.status) for t in store.task_runs(run)]
    assert statuses == [("a", RunStatus.SUCCEEDED), ("b", RunStatus.FAILED)]
    assert all(t.finished_at is not None for t in store.task_runs(run))


def test_misuse_is_refused(store: StateStore) -> None:
    run = store.start_run("p", ["t"])
    tr = store.start_task(run, "t")
    with pytest.raises(ValueError, match="final status"):
        store.finish_run(run, RunStatus.RUNNING)
    with pytest.raises(ValueError, match="unknown counters"):
        store.finish_task(tr, RunStatus.SUCCEEDED, {"writen": 1})
    with pytest.raises(LookupError):
        store.finish_run(run + 1000, RunStatus.SUCCEEDED)
    with pytest.raises(LookupError):
        store.finish_task(tr + 1000, RunStatus.SUCCEEDED)
    with pytest.raises(LookupError):
        store.commit_batch(tr + 1000, [Outcome("t", "k", Action.CREATED)])
    with pytest.raises(ValueError):
        store.commit_batch(tr, [Outcome("t", "k", "exploded")])  # type: ignore[arg-type]
    assert store.outcomes(run) == []


def test_runs_newest_first_by_project_with_limit(store: StateStore) -> None:
    ids = [store.start_run("a" if i % 2 else "b", ["t"]) for i in range(6)]
    for rid in ids:
        tr = store.start_task(rid, "t")
        store.commit_batch(tr, [Outcome("t", str(rid), Action.CREATED)])
        store.finish_run(rid, RunStatus.SUCCEEDED)
    assert [r.id for r in store.runs()] == ids[::-1]
    assert [r.id for r in store.runs("a")] == [ids[5], ids[3], ids[1]]
    assert [r.id for r in store.runs(limit=2)] == ids[:-3:-1]
    assert all(r.counts.created == 1 and len(r.task_runs) == 1 for r in store.runs())
    assert store.runs("nobody") == [] and store.run(ids[-1] + 1) is None


def _run_in_dead_process(url: str) -> int:
    """Start a run (and a task) in a child process that then exits without finishing it."""
    code = (
        "import sys; from p2c.store import StateStore\n"
        "s = StateStore(sys.argv[1]); r = s.start_run('p', ['t']); s.start_task(r, 't'); print(r); s.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_mark_crashed_runs(store_url: str, open_store: Callable[[], StateStore]) -> None:
    store = open_store()
    dead = _run_in_dead_process(store_url)
    alive = store.start_run("p", ["t"])  # this process: still running
    other_project = _run_in_dead_process(store_url)
    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == other_project).values(project="q"))
    finished = store.start_run("p", ["t"])
    store.finish_run(finished, RunStatus.SUCCEEDED)
    # Runs on another host: judged by their last commit.
    stale, fresh = store.start_run("p", ["t"]), store.start_run("p", ["t"])
    store.start_task(stale, "t")
    old = now() - timedelta(hours=1)
    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id.in_([stale, fresh])).values(host="elsewhere", pid=1))
        conn.execute(update(runs).where(runs.c.id == stale).values(started_at=old))
        conn.execute(update(task_runs).where(task_runs.c.run_id == stale).values(heartbeat_at=old))

    assert sorted(store.mark_crashed_runs("p")) == sorted([dead, stale])
    assert store.mark_crashed_runs("p") == []  # idempotent

    dead_info, stale_info = store.run(dead), store.run(stale)
    assert dead_info is not None and stale_info is not None
    assert dead_info.status is RunStatus.CRASHED and dead_info.finished_at is not None
    assert [t.status for t in dead_info.task_runs] == [RunStatus.CRASHED]
    assert stale_info.status is RunStatus.CRASHED and stale_info.finished_at == old
    for rid, status in [
        (alive, RunStatus.RUNNING),
        (fresh, RunStatus.RUNNING),
        (finished, RunStatus.SUCCEEDED),
    ]:
        info = store.run(rid)
        assert info is not None and info.status is status
    other = store.run(other_project)
    assert other is not None and other.status is RunStatus.RUNNING
