"""Reading a page ahead (p2c.engine.ahead): pages in order, an error where it happened, the
caller's context on the reading thread, and a read abandoned early does not hold the caller."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator

import pytest

from p2c.engine.ahead import read_ahead

WHO = contextvars.ContextVar("who", default="nobody")


def test_pages_come_in_order_each_read_while_the_last_is_processed() -> None:
    asked: list[int] = []

    def pages() -> Iterator[int]:
        for n in range(4):
            asked.append(n)
            yield n

    seen = []
    for page in read_ahead(pages(), "t"):
        deadline = time.monotonic() + 5  # processing this page: the next one is asked for meanwhile
        while len(asked) < min(page + 2, 4) and time.monotonic() < deadline:
            time.sleep(0.001)
        seen.append((page, len(asked)))
    assert seen == [(0, 2), (1, 3), (2, 4), (3, 4)]  # never more than one page ahead


def test_an_error_surfaces_after_the_pages_before_it_with_the_callers_context() -> None:
    threads: list[str] = []

    def pages() -> Iterator[int]:
        threads.append(f"{threading.current_thread().name} {WHO.get()}")
        yield 1
        raise RuntimeError("the service went away")

    WHO.set("task Accounts")
    got = []
    with pytest.raises(RuntimeError, match="went away"):
        for page in read_ahead(pages(), "Accounts"):
            got.append(page)
    assert got == [1]
    assert threads == ["p2c-read-Accounts_0 task Accounts"]


def test_a_read_abandoned_early_does_not_wait_for_the_page_being_read() -> None:
    release = threading.Event()

    def pages() -> Iterator[int]:
        yield 1
        release.wait(10)  # a slow service
        yield 2

    started = time.monotonic()
    for _page in read_ahead(pages(), "t"):
        break
    assert time.monotonic() - started < 5
    release.set()
