"""The window of a task's chunk writes: up to ``depth`` in flight while the next chunks are mapped.

The pipeline maps a chunk on its own thread (the resolver and the flows' caches are not
thread-safe), hands its write to :class:`Flight`, and maps the next one while the target works.
What a write answered is given back on the pipeline's thread, in the order the chunks were
handed in, as each completes: the chunk's outcomes and links are committed in that order, so
the store never records chunk *n + 1* before chunk *n*. The cursor goes with the last commit,
after :meth:`Flight.drain`. When something fails (a service gone, a bug), what is still in flight
is waited for and the chunks whose writes went through are still recorded — their records exist
at the target, and their links keep the next run from writing them twice — then the first error
surfaces.

While chunks are in flight this thread maps and records, holding the interpreter lock, and each
write thread needs the lock back after every socket read of its request. CPython makes a waiting
thread wait up to its switch interval (5 ms by default) for each such hand-over, so a ``$batch``
of 200 customers took 0.20 s in p2c against 0.16 s from a writer doing nothing else (80 ms
of latency, Accounts at ``large:20000``).
A flight lowers the interval to :data:`SWITCH_INTERVAL` for the process, once, and leaves it
there: 6.4 s → 5.9 s for that task (three runs each), the same CPU.

A task allocates a few dozen containers per row (rows, payloads, outcomes, links), most of them
freed a chunk later. With CPython's default threshold of 700 the cyclic collector ran 685 times
during that task and five times over the whole heap (every module, the project, a page): 0.7 s of
its 4.3 s of CPU, the writes waiting meanwhile. A flight raises the youngest generation's
threshold to :data:`GC_YOUNG` for the process, once: 16 young collections and no full one in that
task, 0.09 s; its CPU fell from 3.8 to 3.1 s and its wall time from 4.8 to 4.2 s (medians of four
alternating runs). Memory stays bounded: the count that triggers a collection grows only with what
stays alive or is cyclic garbage, so a collection still comes after 10 000 of either; garbage
without a cycle is freed at once, as always (``bench/memory.py``: 171 MiB at 20 000 changed rows,
183 MiB at 200 000; at 50 000, 165 and 198 MiB). What a cycle holds waits for the collector, so p2c
makes none per request or record: httpx's responses were one each, and kept every body read until
then (a full cycle's peak memory 427 MiB instead of 274, :mod:`~p2c.connectors.protocol_session`).

Example::

    with Flight(4, "Accounts") as flight:
        for chunk in chunks:
            ready = map_chunk(chunk)                        # this thread
            flight.submit(lambda: send(ready), record)      # send in the pool, record(result) here
        flight.drain()                                      # every chunk recorded
"""

from __future__ import annotations

import contextvars
import gc
import logging
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["GC_YOUNG", "SWITCH_INTERVAL", "Committer", "Flight"]

log = logging.getLogger("p2c.engine")

T = TypeVar("T")

#: seconds a thread holding the interpreter lock keeps it while a write thread waits for it
SWITCH_INTERVAL = 0.002
#: container allocations (net of those freed) before the cyclic collector's youngest generation runs
GC_YOUNG = 10_000


class Flight:
    def __init__(self, depth: int, name: str) -> None:
        self.depth = max(1, depth)
        self._pool = ThreadPoolExecutor(max_workers=self.depth, thread_name_prefix=f"p2c-write-{name}")
        self._queue: deque[tuple[Future[Any], Callable[[Any], None]]] = deque()
        if sys.getswitchinterval() > SWITCH_INTERVAL:  # see the module docstring
            sys.setswitchinterval(SWITCH_INTERVAL)
        young, *older = gc.get_threshold()
        if 0 < young < GC_YOUNG:  # a process that turned the collector off (0) or tuned it higher keeps it
            gc.set_threshold(GC_YOUNG, *older)

    def __len__(self) -> int:
        return len(self._queue)

    def submit(self, work: Callable[[], T], then: Callable[[T], None]) -> None:
        """Start ``work`` in the pool; ``then`` gets its result on this thread once it and every
        chunk handed in before it are done. Returns as soon as fewer than ``depth`` are in flight."""
        while len(self._queue) >= self.depth:
            self._next()
        # the task's log context (project, run, task) goes with the work to the pool's thread
        self._queue.append((self._pool.submit(contextvars.copy_context().run, work), then))
        self.harvest()

    def harvest(self) -> None:
        """Record the chunks at the head of the window whose writes are done, without waiting."""
        while self._queue and self._queue[0][0].done():
            self._next()

    def drain(self) -> None:
        """Wait for every chunk in flight and record each, in order."""
        while self._queue:
            self._next()

    def _next(self) -> None:
        future, then = self._queue.popleft()
        then(future.result())

    def __enter__(self) -> Flight:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc is not None:
                self._settle(cancel=not isinstance(exc, Exception))
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _settle(self, *, cancel: bool) -> None:
        """After a failure: record what went through; an interrupt records nothing more."""
        while self._queue:
            future, then = self._queue.popleft()
            if cancel:
                future.cancel()
                continue
            try:
                then(future.result())
            except Exception as exc:  # the first error is the one that surfaces
                log.warning("a chunk in flight could not be recorded after an earlier failure: %s", exc)


class Committer:
    """A task's store commits, in order, each on a thread of its own while the task maps on.

    A chunk's commit is mostly the database's own work (SQLite inserts its rows in one step each,
    :func:`~p2c.store.batch.insert_rows`, and lets the interpreter lock go meanwhile), so the
    pipeline hands it here (:meth:`later`) and maps the next chunk on the other core. One commit
    runs at a time, in the order handed in: the next waits for the one before, so the store still
    never records chunk *n + 1* before chunk *n*, and a run killed redoes at most one chunk more
    than the window. A commit that must land before the run goes on (numbers with their sequence,
    deletions, the cursor) goes :meth:`now`, after those handed in before it. A failed commit
    raises in the pipeline at its next commit, or when the task's ``with`` block ends.
    """

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"p2c-commit-{name}")
        self._last: Future[None] | None = None

    def later(self, commit: Callable[[], None]) -> None:
        """Start ``commit`` once the one before it landed (its error raised here, if any)."""
        self.wait()
        self._last = self._pool.submit(contextvars.copy_context().run, commit)

    def now(self, commit: Callable[[], None]) -> None:
        """Run ``commit`` here, after every commit handed in before it."""
        self.wait()
        commit()

    def wait(self) -> None:
        """Every commit handed in has landed; the first failure raised."""
        last, self._last = self._last, None
        if last is not None:
            last.result()

    def __enter__(self) -> Committer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.wait()
        except Exception as late:
            if exc is None:
                raise
            # what went through is still recorded; the first error is the one that surfaces
            log.warning("a chunk's commit failed after an earlier failure: %s", late)
        finally:
            self._pool.shutdown(wait=True)
