"""Switchable faults and service protection for the emulated servers.

Faults are off by default. Per server they can inject: 429 + ``Retry-After`` every Nth request, at a
random rate, or for a period; 500/503 answers every Nth request or at a rate; added latency; and
connections dropped in the middle of a response. Random choices use a seeded generator so a failing
test can be replayed.

:class:`Protection` enforces the service protection limits of DATAVERSE.md §2.12 / FNO.md §1.9: at
most ``max_concurrent`` requests in flight and ``requests_per_window`` per sliding window.

Example::

    >>> f = Faults()
    >>> f.update({"throttle_every": 3, "retry_after": 2})
    >>> [f.decide().kind for _ in range(3)]
    [<FaultKind.NONE: 'none'>, <FaultKind.NONE: 'none'>, <FaultKind.THROTTLE: 'throttle'>]
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any

from p2c_sandbox.config import Limits

__all__ = ["Decision", "FaultKind", "FaultSettings", "Faults", "Protection"]


class FaultKind(StrEnum):
    NONE = "none"
    THROTTLE = "throttle"
    ERROR = "error"
    DROP = "drop"


@dataclass
class FaultSettings:
    throttle_every: int = 0  # every Nth request answers 429
    throttle_rate: float = 0.0  # share of requests answering 429
    throttle_for_seconds: float = 0.0  # all requests answer 429 for this long (from when it is set)
    retry_after: int = 1  # seconds, sent in Retry-After
    error_every: int = 0  # every Nth request answers error_status
    error_rate: float = 0.0
    error_status: int = 503  # 500 or 503
    latency_ms: int = 0  # added to every request
    drop_every: int = 0  # every Nth response is cut off mid-body
    drop_rate: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Decision:
    kind: FaultKind
    retry_after: int = 0
    status: int = 0


class Faults:
    def __init__(self) -> None:
        self.settings = FaultSettings()
        self._count = 0
        self._throttle_until = 0.0
        self._rng = random.Random(0)
        self.injected: dict[str, int] = {k.value: 0 for k in FaultKind if k is not FaultKind.NONE}

    def update(self, values: dict[str, Any]) -> FaultSettings:
        """Apply the given settings (unknown names raise ``ValueError``); counters restart."""
        names = {f.name: f.type for f in fields(FaultSettings)}
        for key, value in values.items():
            if key not in names:
                raise ValueError(f"unknown fault setting '{key}' (known: {', '.join(sorted(names))})")
            current = getattr(self.settings, key)
            try:
                cast = type(current)(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"fault setting '{key}' must be a {type(current).__name__}, not {value!r}"
                ) from exc
            if cast < 0 or (key.endswith("_rate") and cast > 1):
                raise ValueError(f"fault setting '{key}' is out of range: {value!r}")
            setattr(self.settings, key, cast)
        if "error_status" in values and self.settings.error_status not in (500, 502, 503, 504):
            raise ValueError("fault setting 'error_status' must be 500, 502, 503 or 504")
        self._count = 0
        self._rng = random.Random(self.settings.seed)
        self._throttle_until = (
            time.monotonic() + self.settings.throttle_for_seconds
            if self.settings.throttle_for_seconds
            else 0.0
        )
        return self.settings

    def clear(self) -> None:
        self.settings = FaultSettings()
        self._count = 0
        self._throttle_until = 0.0
        self.injected = {k: 0 for k in self.injected}

    def describe(self) -> dict[str, Any]:
        return {"settings": asdict(self.settings), "injected": dict(self.injected), "requests": self._count}

    @property
    def latency(self) -> float:
        return self.settings.latency_ms / 1000.0

    def decide(self) -> Decision:
        s = self.settings
        self._count += 1
        n = self._count
        if self._throttle_until and time.monotonic() < self._throttle_until:
            return self._hit(Decision(FaultKind.THROTTLE, retry_after=max(1, s.retry_after)))
        if (s.throttle_every and n % s.throttle_every == 0) or (
            s.throttle_rate and self._rng.random() < s.throttle_rate
        ):
            return self._hit(Decision(FaultKind.THROTTLE, retry_after=s.retry_after))
        if (s.error_every and n % s.error_every == 0) or (s.error_rate and self._rng.random() < s.error_rate):
            return self._hit(Decision(FaultKind.ERROR, status=s.error_status))
        if (s.drop_every and n % s.drop_every == 0) or (s.drop_rate and self._rng.random() < s.drop_rate):
            return self._hit(Decision(FaultKind.DROP))
        return Decision(FaultKind.NONE)

    def _hit(self, d: Decision) -> Decision:
        self.injected[d.kind.value] += 1
        return d


class Protection:
    """Concurrency and sliding-window request limits of one server."""

    def __init__(self, limits: Limits, enabled: bool = True) -> None:
        self.limits = limits
        self.enabled = enabled  # off: every request is admitted (still counted in flight)
        self.in_flight = 0
        self.peak_in_flight = 0  # the most requests in flight at once since the last reset
        self._window: deque[float] = deque()

    def enter(self) -> None:
        """A request admitted: it is in flight until :meth:`leave`."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def leave(self) -> None:
        self.in_flight -= 1

    def admit(self) -> tuple[str, str, int] | None:
        """``None`` to proceed, else ``(reason, code, retry_after)``: the request must answer 429."""
        lim = self.limits
        if not self.enabled:
            return None
        if self.in_flight >= lim.max_concurrent:
            return (
                f"Number of concurrent requests exceeded the limit of {lim.max_concurrent}.",
                "0x80072326",
                lim.retry_after_seconds,
            )
        now = time.monotonic()
        window = self._window
        while window and window[0] <= now - lim.window_seconds:
            window.popleft()
        if len(window) >= lim.requests_per_window:
            wait = max(1, int(window[0] + lim.window_seconds - now + 0.999))
            return (
                f"Number of requests exceeded the limit of {lim.requests_per_window} over time window of "
                f"{int(lim.window_seconds)} seconds.",
                "0x80072322",
                wait,
            )
        window.append(now)
        return None

    @property
    def remaining(self) -> int:
        return max(0, self.limits.requests_per_window - len(self._window))
