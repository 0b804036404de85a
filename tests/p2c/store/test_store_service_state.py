"""What the service keeps per project: pause state, the schedule's next run, skipped runs, retention."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from p2c.store import Action, Outcome, RunStatus, StateStore, Trigger, now
from p2c.store.schema import record_outcomes, runs

T = "Accounts"


def test_pause_and_resume_are_persisted(store: StateStore) -> None:
    assert store.project_state("p").paused is False
    at = now()
    state = store.pause("p", "month-end close", "ops", at)
    assert (state.paused, state.reason, state.paused_by) == (True, "month-end close", "ops")
    again = store.project_state("p")
    assert (again.paused, again.reason, again.paused_by, again.paused_at) == (
        True,
        "month-end close",
        "ops",
        at,
    )
    assert store.project_state("other").paused is False
    assert store.resume("p", now()) is True and store.resume("p", now()) is False
    assert store.project_state("p").paused is False


def test_schedule_state_and_a_skipped_run(store: StateStore) -> None:
    at = now()
    assert store.schedule_state("p") is None
    store.set_schedule("p", "every 5s", at + timedelta(seconds=5), at)
    run = store.record_skipped_run("p", ["Accounts"], Trigger.SCHEDULE, "not started: held by run 3", at)
    store.set_schedule("p", "every 5s", at + timedelta(seconds=10), at, last_run_id=run)
    state = store.schedule_state("p")
    assert state is not None and (state.spec, state.next_run_at, state.last_run_id) == (
        "every 5s",
        at + timedelta(seconds=10),
        run,
    )
    [info] = store.runs("p")
    assert (info.status, info.trigger, info.message) == (
        RunStatus.SKIPPED,
        Trigger.SCHEDULE,
        "not started: held by run 3",
    )


def _age(store: StateStore, run_id: int, days: int) -> None:
    old = now() - timedelta(days=days)
    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(started_at=old, finished_at=old))
        conn.execute(update(record_outcomes).where(record_outcomes.c.run_id == run_id).values(at=old))


def test_purge_deletes_old_history_but_keeps_what_still_fails(store: StateStore) -> None:
    # run 1, 60 days ago: A1 failed (and still fails), A2 failed then went through in run 2
    r1 = store.start_run("p", [T])
    t1 = store.start_task(r1, T)
    store.commit_batch(
        t1,
        [
            Outcome(T, "A1", Action.FAILED, message="no group"),
            Outcome(T, "A2", Action.FAILED),
            Outcome(T, "A3", Action.CREATED),
        ],
        read=3,
    )
    store.finish_run(r1, RunStatus.PARTIAL)
    r2 = store.start_run("p", [T])
    store.commit_batch(store.start_task(r2, T), [Outcome(T, "A2", Action.CREATED)], read=1)
    store.finish_run(r2, RunStatus.SUCCEEDED)
    r3 = store.start_run("p", [T])  # recent
    store.commit_batch(store.start_task(r3, T), [Outcome(T, "A4", Action.CREATED)], read=1)
    store.finish_run(r3, RunStatus.SUCCEEDED)
    other = store.start_run("q", [T])  # another project's old run: not this project's to purge
    store.finish_run(other, RunStatus.SUCCEEDED)
    for run_id in (r1, r2, other):
        _age(store, run_id, 60)

    deleted = store.purge("p", now() - timedelta(days=45))
    assert deleted == (1, 3)  # run 2 whole; of run 1, A2's failure and A3's creation
    assert [r.id for r in store.runs("p")] == [r3, r1]  # run 1 stays: it holds A1's open failure
    assert [(o.source_key, o.action) for o in store.outcomes(r1)] == [("A1", Action.FAILED)]
    assert [p.source_key for p in store.pending(T)] == ["A1"]
    assert [r.id for r in store.runs("q")] == [other]
    assert store.purge("p", now() - timedelta(days=45)) == (0, 0)


def test_last_success_is_the_latest_succeeded_run_of_the_project(store: StateStore) -> None:
    assert store.last_success("p") is None
    ok = store.start_run("p", [T])
    store.finish_run(ok, RunStatus.SUCCEEDED)
    failed = store.start_run("p", [T])
    store.finish_run(failed, RunStatus.FAILED)
    other = store.start_run("q", [T])
    store.finish_run(other, RunStatus.SUCCEEDED)
    assert store.last_success("p") == store.run(ok).finished_at  # type: ignore[union-attr]
    assert store.last_success("q") == store.run(other).finished_at  # type: ignore[union-attr]
