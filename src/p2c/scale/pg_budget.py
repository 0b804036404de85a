"""The shared request budget in PostgreSQL, for sites whose broker is RabbitMQ and that run no Redis.

The same budget as :class:`p2c.scale.budget.RedisBudget` (read its module docstring): a window of
requests admitted, concurrent slots that free themselves :data:`~p2c.scale.budget.HOLD` seconds
after a killed worker took them, and a pause after a 429. Each environment's state is rows of two
tables, changed in one transaction per request under a transaction-level advisory lock on the
environment, on the database's clock (``clock_timestamp()``), so workers on hosts with skewed
clocks agree. The tables live in the database the URL names (usually the state store's) and are
created on first use; they are not part of the store's schema, as the Redis keys are not.

A request costs a round trip of a few statements to PostgreSQL (about a millisecond on a LAN)
before it is sent: against 80 ms for a request to the service, little.

Example::

    budget = PostgresBudget.connect("postgresql://p2c@db/p2c", "https://org.crm.dynamics.com/api/data/v9.2/",
                                    BudgetLimits(requests_per_window=6000, window_seconds=300))
    release = budget.take()
    ...send the request...
    release()
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, text

from p2c.project.models import BudgetLimits
from p2c.scale.budget import HOLD, MARGIN, budget_key
from p2c.store.database import create_store_engine, resolve_url

__all__ = ["PostgresBudget"]

log = logging.getLogger("p2c.scale")

_SCHEMA = (
    "SELECT pg_advisory_xact_lock(hashtext('p2c_budget_schema'))",  # two workers creating at once
    "CREATE TABLE IF NOT EXISTS p2c_budget_requests (env TEXT NOT NULL, member TEXT NOT NULL, "
    "admitted_at TIMESTAMPTZ NOT NULL, held_until TIMESTAMPTZ, PRIMARY KEY (env, member))",
    "CREATE INDEX IF NOT EXISTS p2c_budget_requests_admitted ON p2c_budget_requests (env, admitted_at)",
    "CREATE TABLE IF NOT EXISTS p2c_budget_pauses (env TEXT PRIMARY KEY, until TIMESTAMPTZ NOT NULL)",
)
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:env))")
# the wait asked by a pause, in ms (0: none), and the database's time
_PAUSED = text(
    "SELECT clock_timestamp() AS now, COALESCE((SELECT CEIL(EXTRACT(EPOCH FROM until - clock_timestamp()) * 1000) "
    "FROM p2c_budget_pauses WHERE env = :env AND until > clock_timestamp()), 0) AS wait"
)
_FORGET = text(
    "DELETE FROM p2c_budget_requests WHERE env = :env AND admitted_at <= :now - make_interval(secs => :window) "
    "AND (held_until IS NULL OR held_until <= :now)"
)
_COUNTS = text(
    "SELECT COUNT(*) FILTER (WHERE held_until > :now) AS busy, "
    "COUNT(*) FILTER (WHERE admitted_at > :now - make_interval(secs => :window)) AS admitted, "
    "MIN(admitted_at) FILTER (WHERE admitted_at > :now - make_interval(secs => :window)) AS oldest "
    "FROM p2c_budget_requests WHERE env = :env"
)
_ADMIT = text(
    "INSERT INTO p2c_budget_requests (env, member, admitted_at, held_until) "
    "VALUES (:env, :member, :now, :now + make_interval(secs => :hold))"
)
_RELEASE = text("UPDATE p2c_budget_requests SET held_until = NULL WHERE env = :env AND member = :member")
_PAUSE = text(
    "INSERT INTO p2c_budget_pauses (env, until) VALUES (:env, clock_timestamp() + make_interval(secs => :secs)) "
    "ON CONFLICT (env) DO UPDATE SET until = GREATEST(p2c_budget_pauses.until, EXCLUDED.until)"
)


class PostgresBudget:
    """The shared budget of one environment in PostgreSQL (see the module docstring); thread-safe."""

    def __init__(self, engine: Engine, root: str, limits: BudgetLimits) -> None:
        self.engine = engine
        self.limits = limits
        self.env = budget_key(root)
        self.window = limits.window_seconds + min(1.0, limits.window_seconds * MARGIN)
        self.waited = 0.0  # seconds this process waited for the budget (for the benchmark)
        self._lock = threading.Lock()
        with engine.begin() as conn:
            for statement in _SCHEMA:
                conn.execute(text(statement))

    @classmethod
    def connect(cls, url: str, root: str, limits: BudgetLimits) -> PostgresBudget:
        """The budget of the environment at ``root`` in the PostgreSQL database at ``url``."""
        return cls(create_store_engine(resolve_url(url)), root, limits)

    def _try(self, member: str) -> float:
        """Admit ``member`` now (0), or the seconds to wait before asking again."""
        env = {"env": self.env}
        with self.engine.begin() as conn:
            conn.execute(_LOCK, env)
            now, paused = conn.execute(_PAUSED, env).one()
            if paused > 0:
                return float(paused) / 1000
            at = {**env, "now": now, "window": self.window}
            conn.execute(_FORGET, at)
            busy, admitted, oldest = conn.execute(_COUNTS, at).one()
            if busy >= self.limits.max_concurrent:
                return 0.02
            if admitted >= self.limits.requests_per_window:
                return max(0.001, (oldest - now).total_seconds() + self.window)
            conn.execute(_ADMIT, {**at, "member": member, "hold": HOLD})
        return 0.0

    def take(self) -> Callable[[], None]:
        """Wait until one more request fits the budget; returns what frees its concurrent slot."""
        member = uuid.uuid4().hex
        started = None
        while (wait := self._try(member)) > 0:
            if started is None:
                started = time.perf_counter()
            time.sleep(min(wait, 5.0))
        if started is not None:
            with self._lock:
                self.waited += time.perf_counter() - started

        def release() -> None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(_RELEASE, {"env": self.env, "member": member})
            except Exception:  # the database away for a moment: the slot frees itself after HOLD
                log.warning("could not free a request slot of %s", self.env)

        return release

    def throttled(self, seconds: float) -> None:
        """A 429 answered: every worker sharing this budget waits ``seconds``."""
        with self.engine.begin() as conn:
            conn.execute(_PAUSE, {"env": self.env, "secs": max(0.001, seconds)})
