"""Side writes (``Outcome.operation`` set): stored as rows, never counted, never pending."""

from __future__ import annotations

import pytest

from p2c.store import Action, Counts, Outcome, StateStore
from p2c.store.batch import UNCHANGED

T = "accounts"
NUMBER = "write_number"  # the generated number written back to the CRM
FREIGHT = "freight_tax_line"


def test_side_writes_are_stored_not_counted_not_pending(store: StateStore) -> None:
    run = store.start_run("p", [T])
    tr = store.start_task(run, T)
    store.commit_batch(
        tr,
        [
            Outcome(T, "A1", Action.CREATED, target_key="C1"),
            Outcome(T, "A1", Action.SKIPPED, operation=NUMBER),  # no message: a row all the same
            Outcome(T, "A1", Action.FAILED, message="tax code?", operation=FREIGHT),
            Outcome(T, "A2", Action.FAILED, message="no group"),
            Outcome(T, "A2", Action.UPDATED, target_key="A2", operation=NUMBER),
        ],
        read=2,
    )
    assert store.task_runs(run)[0].counts == Counts(read=2, created=1, failed=1)
    everything = [(o.source_key, o.action, o.operation) for o in store.outcomes(run)]
    assert everything == [
        ("A1", Action.CREATED, None),
        ("A1", Action.SKIPPED, NUMBER),
        ("A1", Action.FAILED, FREIGHT),
        ("A2", Action.FAILED, None),
        ("A2", Action.UPDATED, NUMBER),
    ]
    assert [(o.source_key, o.operation) for o in store.outcomes(run, operations=False)] == [
        ("A1", None),
        ("A2", None),
    ]
    assert [o.operation for o in store.outcomes(run, operations=True)] == [NUMBER, FREIGHT, NUMBER]
    assert [o.source_key for o in store.outcomes(run, actions=[Action.FAILED])] == ["A1", "A2"]
    assert [o.source_key for o in store.outcomes(run, actions=[Action.FAILED], operations=True)] == ["A1"]
    # A1's failed side write does not make A1 pending; A2's later successful one does not clear A2.
    [pending] = store.pending(T)
    assert (pending.source_key, pending.message, pending.operation) == ("A2", "no group", None)

    # The next run skips both unchanged: only A2 was pending, so only A2 gets a clearing row.
    second = store.start_run("p", [T])
    tr2 = store.start_task(second, T)
    store.commit_batch(tr2, [Outcome(T, "A1", Action.UNCHANGED), Outcome(T, "A2", Action.UNCHANGED)], read=2)
    assert [(o.source_key, o.message) for o in store.outcomes(second)] == [("A2", UNCHANGED)]
    assert store.task_runs(second)[0].counts == Counts(read=2, unchanged=2)
    assert store.pending(T) == []

    # A side write alone (say, the order of a record already synced marked Invoiced) counts nothing.
    store.commit_batch(tr2, [Outcome(T, "A3", Action.FAILED, operation="mark_invoiced")])
    assert store.task_runs(second)[0].counts == Counts(read=2, unchanged=2)
    assert store.pending(T) == [] and len(store.outcomes(second, operations=True)) == 1


def test_operation_name_is_limited_on_every_backend(store: StateStore) -> None:
    run = store.start_run("p", [T])
    tr = store.start_task(run, T)
    with pytest.raises(ValueError, match="longer than 40"):
        store.commit_batch(
            tr, [Outcome(T, "A1", Action.CREATED), Outcome(T, "A1", Action.CREATED, operation="x" * 41)]
        )
    assert store.outcomes(run) == [] and store.task_runs(run)[0].counts == Counts()
    store.commit_batch(tr, [Outcome(T, "A1", Action.CREATED, operation="x" * 40)])
    assert [o.operation for o in store.outcomes(run)] == ["x" * 40]
