"""The shared request budget on the real Redis and the real PostgreSQL: two budgets on one
environment (two workers) never admit more than the window allows between them, hold at most
``max_concurrent`` in flight, and a 429 seen by one pauses the other."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import redis
from scale_helpers import REDIS, postgres_schema

from p2c.project.models import BudgetLimits
from p2c.scale.budget import RedisBudget, budget_key, connect_budget
from p2c.scale.pg_budget import PostgresBudget

Connect = Callable[[BudgetLimits], Any]


@pytest.fixture(params=["redis", "postgresql"])
def connect(request: pytest.FixtureRequest) -> Iterator[Connect]:
    """Budgets of an environment of their own in Redis or in a fresh PostgreSQL schema."""
    root = f"https://env-{uuid.uuid4().hex[:8]}.crm.dynamics.com/api/data/v9.2/"
    made: list[Any] = []
    with ExitStack() as stack:
        url = REDIS if request.param == "redis" else stack.enter_context(postgres_schema())
        kind = RedisBudget if request.param == "redis" else PostgresBudget

        def _connect(limits: BudgetLimits) -> Any:
            made.append(connect_budget(url, root, limits))
            assert type(made[-1]) is kind
            return made[-1]

        yield _connect
        for budget in made:
            if isinstance(budget, PostgresBudget):
                budget.engine.dispose()
        if request.param == "redis":
            client = redis.Redis.from_url(REDIS)
            for key in client.scan_iter(budget_key(root) + ":*"):
                client.delete(key)
            client.close()


def test_two_workers_share_one_window(connect: Connect) -> None:
    limits = BudgetLimits(requests_per_window=20, window_seconds=0.8, max_concurrent=50)
    budgets = [connect(limits) for _ in range(2)]
    admitted: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + 2.5

    def send(budget: Any) -> None:
        while time.monotonic() < stop:
            release = budget.take()
            with lock:
                admitted.append(time.monotonic())
            release()

    threads = [threading.Thread(target=send, args=(b,)) for b in budgets for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    admitted.sort()
    # the service's window (0.8 s) never sees more than 20, though six senders asked all the time
    busiest = max(sum(1 for t in admitted if start <= t < start + 0.8) for start in admitted)
    assert busiest <= 20, busiest
    assert len(admitted) >= 40  # and the budget is used, window after window
    assert sum(b.waited for b in budgets) > 0


def test_concurrent_slots_are_shared_and_freed(connect: Connect) -> None:
    limits = BudgetLimits(requests_per_window=1000, window_seconds=60, max_concurrent=3)
    one, two = (connect(limits) for _ in range(2))
    held = [one.take(), one.take(), two.take()]
    got: list[float] = []
    waiter = threading.Thread(target=lambda: (two.take()(), got.append(time.monotonic())))
    started = time.monotonic()
    waiter.start()
    time.sleep(0.3)
    assert not got  # the fourth request waits for a slot
    held[0]()
    waiter.join(5)
    assert got and got[0] - started >= 0.3
    for release in held[1:]:
        release()


def test_a_429_seen_by_one_worker_pauses_the_other(connect: Connect) -> None:
    limits = BudgetLimits()
    one, two = (connect(limits) for _ in range(2))
    one.throttled(0.6)
    started = time.monotonic()
    two.take()()
    assert time.monotonic() - started >= 0.5
