"""Project locks: one run per project at a time, refused at once, dead holders taken over."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from p2c.store import (
    Action,
    LockInfo,
    Outcome,
    ProjectLockedError,
    RunStatus,
    StateStore,
    now,
)
from p2c.store.schema import project_locks

LEASE = timedelta(minutes=2)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(proc.stdout)


def set_lock(store: StateStore, project: str, **values: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(project_locks).where(project_locks.c.project == project).values(**values))


def test_second_run_is_refused_and_leaves_no_trace(open_store: Callable[[], StateStore]) -> None:
    first, second = open_store(), open_store()
    run = first.start_run("contoso", ["Accounts"], lease=LEASE)
    held = first.project_lock("contoso")
    assert held is not None and held.run_id == run and held.pid > 0

    with pytest.raises(ProjectLockedError) as refused:
        second.start_run("contoso", ["Accounts"], lease=LEASE)
    e = refused.value
    assert (e.project, e.run_id, e.host, e.pid, e.since) == (
        "contoso",
        run,
        held.host,
        held.pid,
        held.acquired_at,
    )
    assert str(e).startswith(f"project contoso is being synchronised by run {run} on host {held.host}, pid ")
    assert str(e).endswith("; wait for it or stop it")
    assert [r.id for r in second.runs()] == [run]  # the refused run recorded nothing
    with pytest.raises(ProjectLockedError):
        second.acquire_lock("contoso")  # the bare API refuses the same way

    other = second.start_run("fabrikam", ["Accounts"], lease=LEASE)  # another project is free
    assert second.project_lock("fabrikam") is not None and other != run


def test_release_frees_the_project_for_the_next_run(open_store: Callable[[], StateStore]) -> None:
    first, second = open_store(), open_store()
    run = first.start_run("contoso", ["Accounts"], lease=LEASE)
    assert not second.release_lock("contoso", run + 1)  # only the holder can release
    assert first.release_lock("contoso", run)
    assert first.project_lock("contoso") is None
    assert not first.release_lock("contoso", run)  # twice is harmless
    nxt = second.start_run("contoso", ["Accounts"], lease=LEASE)
    assert second.project_lock("contoso").run_id == nxt  # type: ignore[union-attr]


def test_commits_renew_the_heartbeat(store: StateStore) -> None:
    run = store.start_run("contoso", ["Accounts"], lease=LEASE)
    old = now() - timedelta(minutes=1)
    set_lock(store, "contoso", heartbeat_at=old)
    tr = store.start_task(run, "Accounts")
    assert store.project_lock("contoso").heartbeat_at > old  # type: ignore[union-attr]

    for renew in (
        lambda: store.commit_batch(tr, [Outcome("Accounts", "A-1", Action.CREATED, target_key="C-1")]),
        lambda: store.commit_batch(tr, [], read=5),
        lambda: store.renew_lock("contoso", run),
    ):
        set_lock(store, "contoso", heartbeat_at=old)
        renew()
        held = store.project_lock("contoso")
        assert held is not None and held.heartbeat_at > old and held.acquired_at < held.heartbeat_at


def test_a_run_that_commits_nothing_for_a_while_keeps_its_lock(open_store: Callable[[], StateStore]) -> None:
    """A long read (a slow source, a long Retry-After) commits nothing: keep_lock renews the lease,
    so another host does not take the project over from a live run."""
    store = open_store()
    run = store.start_run("contoso", ["Accounts"], lease=timedelta(seconds=10))
    old = now() - timedelta(minutes=5)
    set_lock(store, "contoso", heartbeat_at=old)  # silent for 5 minutes: past the 10 s lease...
    with store.keep_lock("contoso", run, every=0.05):
        wait = threading.Event()
        wait.wait(0.5)
        held = store.project_lock("contoso")
        assert held is not None and held.heartbeat_at > old + timedelta(minutes=4)  # ...but renewed
        other = open_store()
        other._host = "other-host"  # another machine sharing the store
        with pytest.raises(ProjectLockedError):
            other.acquire_lock("contoso", None, lease=timedelta(seconds=10))
    beat = store.project_lock("contoso").heartbeat_at  # type: ignore[union-attr]
    threading.Event().wait(0.3)
    assert store.project_lock("contoso").heartbeat_at == beat  # type: ignore[union-attr]  # stopped with the block


def test_holder_whose_pid_is_gone_is_taken_over_at_once(open_store: Callable[[], StateStore]) -> None:
    first, second = open_store(), open_store()
    dead = first.start_run("contoso", ["Accounts"], lease=timedelta(hours=1))
    first.start_task(dead, "Accounts")
    # the same host, a pid that has ended, a heartbeat of a second ago: no lease to wait for
    set_lock(first, "contoso", pid=dead_pid())

    run = second.start_run("contoso", ["Accounts"], lease=timedelta(hours=1))
    assert second.project_lock("contoso").run_id == run  # type: ignore[union-attr]
    old = second.run(dead)
    assert old is not None and old.status is RunStatus.CRASHED
    assert [t.status for t in second.task_runs(dead)] == [RunStatus.CRASHED]


def test_holder_on_another_host_is_taken_over_after_its_lease(
    open_store: Callable[[], StateStore],
) -> None:
    first, second = open_store(), open_store()
    second._host = "h2"  # another machine sharing the database
    holder = first.start_run("contoso", ["Accounts"], lease=LEASE)
    tr = first.start_task(holder, "Accounts")

    set_lock(first, "contoso", heartbeat_at=now() - LEASE + timedelta(seconds=20))
    with pytest.raises(ProjectLockedError):  # silent, but not for a whole lease yet
        second.start_run("contoso", ["Accounts"], lease=LEASE)

    set_lock(first, "contoso", heartbeat_at=now() - LEASE - timedelta(seconds=1))
    taker = second.start_run("contoso", ["Accounts"], lease=LEASE)
    assert second.run(holder).status is RunStatus.CRASHED  # type: ignore[union-attr]

    # the old holder wakes up: its commit fails and records nothing; it cannot release the lock
    with pytest.raises(ProjectLockedError) as lost:
        first.commit_batch(tr, [Outcome("Accounts", "A-1", Action.CREATED, target_key="C-1")])
    assert lost.value.lost == holder and lost.value.run_id == taker
    assert f"run {holder} lost project contoso" in str(lost.value)
    assert first.outcomes(holder) == []
    assert not first.release_lock("contoso", holder)
    assert first.project_lock("contoso").run_id == taker  # type: ignore[union-attr]


@pytest.mark.parametrize("stale", [False, True], ids=["free", "stale"])
def test_runs_started_at_the_same_instant_one_wins(open_store: Callable[[], StateStore], stale: bool) -> None:
    stores = [open_store() for _ in range(6)]
    if stale:  # every taker finds the same dead holder: the guarded UPDATE lets one through
        dead = stores[0].start_run("contoso", ["Accounts"], lease=LEASE)
        set_lock(stores[0], "contoso", pid=dead_pid())
    barrier = threading.Barrier(len(stores))
    won: list[int] = []
    refused: list[ProjectLockedError] = []

    def take(store: StateStore) -> None:
        barrier.wait()
        try:
            won.append(store.start_run("contoso", ["Accounts"], lease=LEASE))
        except ProjectLockedError as e:
            refused.append(e)

    threads = [threading.Thread(target=take, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(won) == 1 and len(refused) == len(stores) - 1
    assert {e.run_id for e in refused} == set(won)
    runs = stores[0].runs()
    assert [r.id for r in runs if r.status is RunStatus.RUNNING] == won
    assert len(runs) == 1 + stale  # no refused run was recorded
    if stale:
        assert stores[0].run(dead).status is RunStatus.CRASHED  # type: ignore[union-attr]


def test_refusal_message_names_holder_and_time() -> None:
    since = datetime.now().astimezone().replace(hour=10, minute=32, second=5, microsecond=0)
    e = ProjectLockedError(LockInfo("contoso", 12, "h1", 4242, since, since))
    assert str(e) == (
        "project contoso is being synchronised by run 12 on host h1, pid 4242, since 10:32:05; "
        "wait for it or stop it"
    )
    e = ProjectLockedError(LockInfo("contoso", 12, "h1", 4242, since - timedelta(days=1), since))
    assert f"since {(since - timedelta(days=1)):%Y-%m-%d} 10:32:05;" in str(e)
