"""The breaker of one service for one run: when it has given no HTTP answer at all for too long.

The patient back-off (about a minute per request) is right for a service that answers "busy"
(429, 5xx) or drops a response now and then; it is wrong for a service that is gone: every
remaining request of every remaining task would wait its minute. The breaker counts only requests
that got *no* HTTP answer (connection refused, unknown host, TLS failure, connect timeout): the
first one starts the streak, any HTTP answer — even a 429 or a 503 — ends it, and once the streak
is ``after`` seconds old the breaker is open: the send loop fails every request at once.

Pure bookkeeping over a monotonic clock (the wall clock only for the "since" a user reads);
thread-safe, since every worker of a connector shares it.

Example::

    >>> b = Breaker(after=60)
    >>> b.failed(now=100.0); b.is_open(now=130.0), b.remaining(now=130.0)
    (False, 30.0)
    >>> b.is_open(now=160.0)
    True
    >>> b.answered(); b.is_open(now=500.0)
    False
"""

from __future__ import annotations

import datetime as dt
import threading
import time

__all__ = ["Breaker"]


class Breaker:
    """Opens once no request has been answered for ``after`` seconds since the first unanswered one."""

    def __init__(self, after: float = 60.0) -> None:
        self.after = after
        self._lock = threading.Lock()
        self._since: float | None = None
        self._since_wall: dt.datetime | None = None

    def failed(self, now: float | None = None) -> None:
        """A request got no HTTP answer at all; the first such starts the streak."""
        with self._lock:
            if self._since is None:
                self._since = time.monotonic() if now is None else now
                self._since_wall = dt.datetime.now().astimezone()

    def answered(self) -> None:
        """Any HTTP answer: the service is there (busy maybe, but the back-off deals with that)."""
        with self._lock:
            self._since = None
            self._since_wall = None

    reset = answered  # a new run starts with a closed breaker

    def remaining(self, now: float | None = None) -> float | None:
        """Seconds until the breaker opens (0 when open); ``None`` while requests are answered."""
        since = self._since
        if since is None:
            return None
        now = time.monotonic() if now is None else now
        return max(0.0, self.after - (now - since))

    def is_open(self, now: float | None = None) -> bool:
        left = self.remaining(now)
        return left is not None and left <= 0.0

    @property
    def since(self) -> str:
        """The local time (hh:mm:ss) of the first unanswered request of the streak ('' when none)."""
        wall = self._since_wall
        return wall.strftime("%H:%M:%S") if wall is not None else ""
