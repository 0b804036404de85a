"""Work items and their leases: a second delivery of a leased item takes nothing; a lapsed lease
(or a dead holder on this host) is taken over, and the dead attempt's task run ends CRASHED."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta

from p2c.store import ItemStatus, RunStatus, StateStore, holder_id

LEASE = timedelta(seconds=30)


def _queued(store: StateStore) -> tuple[int, int, int]:
    run = store.start_run("demo", ["Accounts", "Products", "ProductPriceListItems"])
    items = store.add_items(
        run, "demo", [("Accounts", "", 0), ("Products", "", 0), ("ProductPriceListItems", "", 1)]
    )
    assert [i.status for i in items] == [ItemStatus.WAITING] * 3
    queued = store.queue_items(run, [items[0].id, items[1].id])
    assert [i.id for i in queued] == [items[0].id, items[1].id]
    assert store.queue_items(run, [items[0].id]) == []  # queued once
    return run, items[0].id, items[2].id


def test_a_leased_item_is_taken_once(store: StateStore) -> None:
    _run, item, later = _queued(store)
    taken, got = store.claim_item(item, "host-a:1:1", LEASE)
    assert taken and got is not None and got.attempts == 1 and got.holder == "host-a:1:1"
    again, seen = store.claim_item(item, "host-b:2:2", LEASE)  # a second delivery: nothing
    assert not again and seen is not None and seen.holder == "host-a:1:1"
    assert not store.claim_item(later, "host-b:2:2", LEASE)[0]  # still waiting for its wave
    assert store.renew_item(item, "host-a:1:1", LEASE)
    assert not store.renew_item(item, "host-b:2:2", LEASE)  # only the holder renews
    assert not store.finish_item(item, "host-b:2:2", RunStatus.SUCCEEDED)  # or ends it
    assert store.finish_item(item, "host-a:1:1", RunStatus.SUCCEEDED, requests={"http": {}})
    assert not store.claim_item(item, "host-b:2:2", LEASE)[0]  # ended: a late delivery does nothing
    assert store.item(item).status == "succeeded"  # type: ignore[union-attr]


def test_concurrent_deliveries_take_an_item_once(store: StateStore) -> None:
    _run, item, _later = _queued(store)
    won: list[str] = []

    def deliver(n: int) -> None:
        if store.claim_item(item, f"host-{n}:1:1", LEASE)[0]:
            won.append(f"host-{n}")

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_a_lapsed_lease_is_taken_over(store: StateStore) -> None:
    run, item, _later = _queued(store)
    assert store.claim_item(item, "host-a:1:1", timedelta(seconds=0.3))[0]
    first = store.start_task(run, "Accounts")  # the first attempt's task run
    time.sleep(0.5)
    assert not store.renew_item(item, "host-b:2:2", LEASE)
    taken, got = store.claim_item(item, "host-b:2:2", LEASE)
    assert taken and got is not None and got.attempts == 2 and got.holder == "host-b:2:2"
    assert [i.id for i in store.lapsed_items(run)] == []
    crashed = [t for t in store.task_runs(run) if t.id == first]
    assert crashed[0].status is RunStatus.CRASHED
    assert not store.finish_item(item, "host-a:1:1", RunStatus.SUCCEEDED)  # the old holder lost it


def test_a_dead_holder_on_this_host_is_taken_over_at_once(store: StateStore) -> None:
    run, item, _later = _queued(store)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = f"{holder_id().split(':')[0]}:{gone.stdout.strip()}:1"
    assert store.claim_item(item, dead, LEASE)[0]
    assert [i.id for i in store.lapsed_items(run)] == [item]  # the coordinator sends it again
    assert store.claim_item(item, holder_id(), LEASE)[0]


def test_items_of_a_finished_run_go_to_nobody(store: StateStore) -> None:
    run, item, _later = _queued(store)
    assert store.claim_item(item, "host-a:1:1", LEASE)[0]
    store.finish_run(run, RunStatus.INTERRUPTED, "stopped on request")
    assert not store.renew_item(item, "host-a:1:1", LEASE)  # the holder learns it should stop
    other = next(i for i in store.items(run) if i.status == ItemStatus.QUEUED)
    assert not store.claim_item(other.id, "host-b:2:2", LEASE)[0]
