"""The request slots of a connector: at most ``limit`` requests in flight, let go in order.

:class:`InFlight` is taken by :class:`~p2c.connectors.protocol_session.HttpSession` around every
request; :func:`in_write_order` gives the requests of one write task their place in line
(:func:`~p2c.connectors.protocol_batch.run_tasks` sets it on each task's thread).

Example::

    slots = InFlight(4)
    in_write_order(0, next_write_call())   # this thread's next requests: part 0 of a new call
    with slots:
        send()
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import threading

__all__ = ["InFlight", "in_write_order", "next_write_call"]

#: the place in line of the requests sent on this thread (:func:`in_write_order`); none: first
_ORDER: contextvars.ContextVar[tuple[int, ...]] = contextvars.ContextVar("p2c_request_order", default=())
_calls = itertools.count(1)


def in_write_order(index: int, call: int) -> None:
    """The requests this thread sends next are part ``index`` of write call ``call``
    (:func:`next_write_call`): :class:`InFlight` lets them go after every waiting request of an
    earlier call and of earlier parts of this one."""
    _ORDER.set((1, call, index))


def next_write_call() -> int:
    return next(_calls)


class InFlight:
    """At most ``limit`` requests of a connector in flight, however many threads send, let go in order.

    The engine may keep several chunk writes going at once, each on its own worker threads; the
    service's limit (and the configured ``concurrency``) is on requests, so the send loop takes a
    slot for each request and gives it back when the answer is in. ``limit`` may change while
    requests wait (a setting applied to a running connector).

    A free slot goes to the first in line: a request sent outside a write call (a page read, a
    lookup, a number written back: the task waits for it), then the writes by call and by part
    (:func:`in_write_order`), then by arrival. Taken as they came, every chunk's writes went side
    by side: a chunk's fifth ``$batch``, sent once one of its first four was answered, queued
    behind the twelve of the three chunks after it, so chunks ended together, in bursts, and the
    service idled while the task recorded them and mapped the next ones.

    Example::

        >>> slots = InFlight(2)
        >>> with slots:
        ...     slots.busy
        1
    """

    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self.busy = 0
        self._lock = threading.Lock()
        self._line: list[_Waiter] = []  # a heap of the waiting requests, by place
        self._arrivals = itertools.count()

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, value: int) -> None:
        with self._lock:
            self._limit = max(1, value)
            self._let_in()

    def __enter__(self) -> None:
        place = (_ORDER.get(), next(self._arrivals))
        with self._lock:
            if self.busy < self._limit and not self._line:
                self.busy += 1
                return
            # each waiter waits on a wake-up of its own, and a freed slot wakes only the one it
            # goes to: woken all at once to look who is first, the four or five waiting write
            # threads each took the interpreter lock back, from the threads reading answers
            entry = _Waiter(place, threading.Condition(self._lock))
            heapq.heappush(self._line, entry)
            try:
                while not entry.let_in:
                    entry.wake.wait()
            except BaseException:  # interrupted while waiting: out of the line, or it would block it
                if entry.let_in:  # let in meanwhile: the slot goes on to the next
                    self.busy -= 1
                else:
                    self._line.remove(entry)
                    heapq.heapify(self._line)
                self._let_in()
                raise

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.busy -= 1
            self._let_in()

    def _let_in(self) -> None:
        """The first in line take the free slots (the lock held)."""
        while self._line and self.busy < self._limit:
            entry = heapq.heappop(self._line)
            entry.let_in = True
            self.busy += 1
            entry.wake.notify()


class _Waiter:
    """A request waiting for a slot: its place in line, its own wake-up, whether it was let in."""

    __slots__ = ("let_in", "place", "wake")

    def __init__(self, place: tuple[tuple[int, ...], int], wake: threading.Condition) -> None:
        self.place = place
        self.wake = wake
        self.let_in = False

    def __lt__(self, other: _Waiter) -> bool:
        return self.place < other.place
