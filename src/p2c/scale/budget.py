"""One request budget per environment, shared by every ``p2c worker`` through Redis (or PostgreSQL).

Dataverse and F&O count a user's requests in a sliding window (6 000 per 300 s) and in flight
(52); past either they answer 429 with Retry-After. N workers each keeping their own count would
together send N times the limit, so the workers share one budget per service root (one
environment), kept in Redis and changed only by Lua scripts (atomic, on Redis's own clock, so
hosts with skewed clocks agree):

- the *window*: a sorted set of the requests admitted, scored by time; a request is admitted
  while fewer than ``requests_per_window`` were admitted in the last window. The window counted is
  a margin longer than the service's (:data:`MARGIN` of it, at most a second), for the time a
  request takes to reach the service;
- the *concurrent* slots: a sorted set of requests in flight, scored by when a slot counts as
  abandoned (a worker killed mid-request frees its slot after :data:`HOLD` seconds);
- the *pause*: after a 429 anywhere, no worker sends before the time the service asked for.

Sites without Redis (RabbitMQ as broker) keep the same budget in PostgreSQL
(:class:`p2c.scale.pg_budget.PostgresBudget`); :func:`connect_budget` picks by the URL.

Example::

    budget = connect_budget("redis://127.0.0.1:6379/0", "https://org.crm.dynamics.com/api/data/v9.2/",
                            BudgetLimits(requests_per_window=6000, window_seconds=300))
    release = budget.take()      # blocks while the environment's budget is spent
    ...send the request...
    release()
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from p2c.errors import ConfigError
from p2c.project.models import BudgetLimits

__all__ = ["HOLD", "MARGIN", "STATE", "RedisBudget", "budget_backend", "budget_key", "connect_budget"]

log = logging.getLogger("p2c.scale")

#: Share of the service's window added to the one counted (at most 1 s): a request admitted now
#: reaches the service a little later.
MARGIN = 0.25
#: The budget URL meaning "each project's own state store" (a worker without ``--store``).
STATE = "state"
#: Seconds after which a request slot never released (its worker was killed) counts as free again.
HOLD = 300.0

_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, limit, most, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then return paused - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= most then return -20 end
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window + 1000)
redis.call('ZADD', KEYS[2], now + hold, ARGV[5])
redis.call('PEXPIRE', KEYS[2], hold + 1000)
return 0
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > cur then redis.call('SET', KEYS[1], untl, 'PX', tonumber(ARGV[1]) + 1000) end
return untl
"""


def budget_backend(url: str) -> str:
    """``"redis"`` or ``"postgresql"``: where a budget URL keeps the budget; else a ConfigError."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("redis", "rediss", "unix"):
        return "redis"
    if scheme.startswith(("postgresql", "postgres")):
        return "postgresql"
    raise ConfigError(
        f"the shared request budget lives in Redis (redis://...) or PostgreSQL (postgresql://...), not {scheme}://",
        field="--budget",
    )


def connect_budget(url: str, root: str, limits: BudgetLimits) -> Any:
    """The budget of the environment at ``root``, in the Redis or the PostgreSQL at ``url``."""
    if budget_backend(url) == "redis":
        return RedisBudget.connect(url, root, limits)
    from p2c.scale.pg_budget import PostgresBudget

    return PostgresBudget.connect(url, root, limits)


def budget_key(root: str) -> str:
    """The Redis key prefix of an environment: its service's scheme, host and port."""
    parts = urlsplit(root)
    return f"p2c:budget:{parts.scheme}://{parts.netloc.lower()}"


class RedisBudget:
    """The shared budget of one environment (see the module docstring); thread-safe."""

    def __init__(self, client: Any, root: str, limits: BudgetLimits) -> None:
        self.client = client
        self.limits = limits
        prefix = budget_key(root)
        self.keys = [f"{prefix}:window", f"{prefix}:inflight", f"{prefix}:pause"]
        self._take = client.register_script(_TAKE)
        self._pause = client.register_script(_PAUSE)
        self._args = [
            int((limits.window_seconds + min(1.0, limits.window_seconds * MARGIN)) * 1000),
            limits.requests_per_window,
            limits.max_concurrent,
            int(HOLD * 1000),
        ]
        self.waited = 0.0  # seconds this process waited for the budget (for the benchmark)
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, url: str, root: str, limits: BudgetLimits) -> RedisBudget:
        """The budget of the environment at ``root`` in the Redis at ``url`` (``redis://...``;
        :func:`connect_budget` checks a URL a person gave)."""
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=30), root, limits)

    def take(self) -> Callable[[], None]:
        """Wait until one more request fits the budget; returns what frees its concurrent slot."""
        member = uuid.uuid4().hex
        started = None
        while True:
            wait_ms = int(self._take(keys=self.keys, args=[*self._args, member]))
            if wait_ms == 0:
                break
            if started is None:
                started = time.perf_counter()
            time.sleep(min(abs(wait_ms), 5000) / 1000)
        if started is not None:
            with self._lock:
                self.waited += time.perf_counter() - started

        def release() -> None:
            try:
                self.client.zrem(self.keys[1], member)
            except Exception:  # Redis away for a moment: the slot frees itself after HOLD
                log.warning("could not free a request slot of %s", self.keys[1])

        return release

    def throttled(self, seconds: float) -> None:
        """A 429 answered: every worker sharing this budget waits ``seconds``."""
        self._pause(keys=[self.keys[2]], args=[max(1, int(seconds * 1000))])
