"""The window of chunk writes (p2c.engine.flight): bounded, recorded in order, failures settled."""

from __future__ import annotations

import gc
import sys
import threading
import time

import pytest

from p2c.engine.flight import GC_YOUNG, SWITCH_INTERVAL, Committer, Flight


def test_chunks_are_recorded_in_order_with_never_more_than_depth_in_flight() -> None:
    lock = threading.Lock()
    running = 0
    most = 0
    recorded: list[int] = []

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02 if n % 2 == 0 else 0.001)  # even chunks finish after the odd ones behind them
        with lock:
            running -= 1
        return n

    with Flight(3, "test") as flight:
        for n in range(12):
            flight.submit(lambda n=n: work(n), recorded.append)
            assert len(flight) <= 3
        flight.drain()
    assert recorded == list(range(12))
    assert 1 < most <= 3  # writes overlapped, within the window


def test_a_failure_surfaces_after_what_went_through_is_recorded() -> None:
    recorded: list[int] = []
    release = threading.Event()

    def work(n: int) -> int:
        if n == 0:
            release.wait(5)
            raise RuntimeError("the service went away")
        return n

    with pytest.raises(RuntimeError, match="went away"), Flight(4, "test") as flight:
        for n in range(3):
            flight.submit(lambda n=n: work(n), recorded.append)
        release.set()
        flight.drain()
    assert recorded == [1, 2]  # written at the target: their links keep the next run from writing them twice


def test_a_flight_lets_its_write_threads_take_the_interpreter_back_within_two_milliseconds() -> None:
    """The write threads need the interpreter lock after every socket read while this thread maps:
    CPython's 5 ms switch interval made each hand-over wait up to that long."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # CPython's default, whatever ran before
    try:
        with Flight(2, "test"):
            assert sys.getswitchinterval() == SWITCH_INTERVAL <= 0.002
        sys.setswitchinterval(0.001)  # a process tuned lower keeps its own
        with Flight(2, "test"):
            assert sys.getswitchinterval() == 0.001
    finally:
        sys.setswitchinterval(before)


def test_a_flight_lets_the_cyclic_collector_run_every_10_000_allocations_not_700() -> None:
    """At CPython's 700 the collector ran 685 times during a 20 000-row task, 0.7 s of its CPU."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's default, whatever ran before
    try:
        with Flight(2, "test"):
            assert gc.get_threshold() == (GC_YOUNG, 10, 10)
        assert GC_YOUNG >= 10_000
        gc.set_threshold(0)  # a process that turned it off keeps it off
        with Flight(2, "test"):
            assert gc.get_threshold()[0] == 0
        gc.set_threshold(200_000, 5, 5)  # and one tuned higher keeps its own
        with Flight(2, "test"):
            assert gc.get_threshold() == (200_000, 5, 5)
    finally:
        gc.set_threshold(*before)


def test_with_the_collector_seldom_run_cyclic_garbage_is_still_collected() -> None:
    """Memory stays bounded: cycles count towards the threshold, so they cannot pile up unseen."""
    before = gc.get_threshold()
    gc.collect()
    try:
        with Flight(2, "test"):
            freed: list[int] = []

            class Cycle:
                def __init__(self) -> None:
                    self.me = self

                def __del__(self) -> None:
                    freed.append(1)

            for _ in range(3 * GC_YOUNG):  # each leaves a cycle behind, never freed by its count
                Cycle()
            assert len(freed) >= GC_YOUNG  # collected along the way, not only at the end
    finally:
        gc.set_threshold(*before)


def test_a_committer_commits_in_order_one_at_a_time_while_the_caller_goes_on() -> None:
    landed: list[str] = []
    running = threading.Semaphore(1)  # never two at once
    release = threading.Event()

    def commit(name: str, *, hold: bool = False) -> None:
        assert running.acquire(blocking=False), "two commits at once"
        try:
            if hold:
                assert release.wait(5)
            landed.append(name)
        finally:
            running.release()

    with Committer("test") as commits:
        commits.later(lambda: commit("chunk 1", hold=True))
        assert landed == []  # the caller maps on meanwhile
        release.set()
        commits.later(lambda: commit("chunk 2"))  # waits for chunk 1 first
        commits.now(lambda: commit("sequence"))  # here, after both
        assert landed == ["chunk 1", "chunk 2", "sequence"]
        commits.later(lambda: commit("chunk 3"))
    assert landed == ["chunk 1", "chunk 2", "sequence", "chunk 3"]  # the block's end waits for it


def test_a_failed_commit_raises_at_the_next_one_and_nothing_after_it_lands() -> None:
    landed: list[str] = []

    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), Committer("test") as commits:
        commits.later(fail)
        commits.later(lambda: landed.append("after"))  # raises here: not started
    assert landed == []
    with pytest.raises(OSError, match="disk full"), Committer("test") as commits:
        commits.later(fail)  # the last one: raised when the block ends
    assert landed == []


def test_a_committer_ending_on_an_error_still_lands_what_was_handed_in(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What was written at the target is still recorded; the first error is the one that surfaces."""
    landed: list[str] = []
    with pytest.raises(RuntimeError, match="mapping failed"), Committer("test") as commits:
        commits.later(lambda: (time.sleep(0.05), landed.append("chunk 1")))
        raise RuntimeError("mapping failed")
    assert landed == ["chunk 1"]

    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(RuntimeError, match="mapping failed"), Committer("test") as commits:
        commits.later(fail)
        raise RuntimeError("mapping failed")
    assert "disk full" in caplog.text
