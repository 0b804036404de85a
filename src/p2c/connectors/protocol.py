"""The OData protocol as small pure objects: retry decisions, paging, throttling, batch splitting.

Nothing here sends a request. Each object reads what a response said (a status, headers, a body)
and answers with a decision or the next request; the connectors' one send loop
(:class:`p2c.connectors.base.HttpSession`) acts on it. Literals and key segments live in
:mod:`.protocol_odata`, error bodies in :mod:`.protocol_errors`, JSON in :mod:`.protocol_json`;
their public names are re-exported here.

Example::

    >>> policy = RetryPolicy(jitter=0)
    >>> policy.decide(429, {"Retry-After": "7"}, attempt=1)
    Retry(after_seconds=7.0, reason='throttled (429), Retry-After 7 s')
    >>> policy.decide(400, {}, attempt=1)
    GiveUp(reason='HTTP 400 is not worth retrying')
    >>> pager = Pager("accounts", {"$select": "name"})
    >>> pager.feed({"value": [{"name": "A"}], "@odata.nextLink": "https://org/accounts?$skiptoken=2"})
    [{'name': 'A'}]
    >>> pager.next_request
    PageRequest(url='https://org/accounts?$skiptoken=2', params=None)
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from p2c.connectors.protocol_errors import Service, ServiceError, classify, infolog_reason, parse_error
from p2c.connectors.protocol_json import dumps, loads
from p2c.connectors.protocol_odata import (
    EnumLiteral,
    distinct_values,
    entity_path,
    in_filter,
    key_filter,
    key_filters,
    key_predicate,
    literal,
    odata_bind,
    query_string,
    quote,
)
from p2c.errors import P2CError, TransientError

__all__ = [
    "Bisect",
    "EnumLiteral",
    "GiveUp",
    "Isolate",
    "PageRequest",
    "Pager",
    "Retry",
    "RetryPolicy",
    "Service",
    "ServiceError",
    "ThrottleGate",
    "classify",
    "distinct_values",
    "dumps",
    "entity_path",
    "in_filter",
    "infolog_reason",
    "key_filter",
    "key_filters",
    "key_predicate",
    "literal",
    "loads",
    "odata_bind",
    "parse_error",
    "query_string",
    "quote",
    "retry_after_seconds",
    "split_failed",
]

T = TypeVar("T")

# FNO.md §1.9: F&O's own sample code waits 30 s when a 429 has no Retry-After; Dataverse always sends one.
DEFAULT_RETRY_AFTER = {Service.DATAVERSE: 5.0, Service.FNO: 30.0}
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


# -- retry --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    """Send the same request again after ``after_seconds``."""

    after_seconds: float
    reason: str


@dataclass(frozen=True)
class GiveUp:
    """Stop retrying; the caller turns the last answer into an error."""

    reason: str


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: ``"7"`` or an HTTP date (RFC 9110 §10.2.3); ``None`` if unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass
class RetryPolicy:
    """When to send a failed request again, and after how long.

    429 honours ``Retry-After`` (seconds or an HTTP date; ``default_retry_after`` when absent);
    500/502/503/504 and network errors (``status=None``) back off exponentially from ``base``
    seconds, capped at ``cap``, with up to ``jitter`` × the delay added at random. Anything else,
    or an ``error`` that is not transient (an F&O Infolog 500), gives up at once. ``attempt`` is
    the number of attempts already made (1 after the first send).

    Example::

        >>> RetryPolicy(base=1, jitter=0).decide(503, {}, attempt=3)
        Retry(after_seconds=4.0, reason='HTTP 503, backing off')
    """

    max_attempts: int = 8
    base: float = 0.5
    cap: float = 60.0
    jitter: float = 0.25
    default_retry_after: float = 5.0
    max_retry_after: float = 300.0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    @classmethod
    def for_service(cls, service: Service, **overrides: Any) -> RetryPolicy:
        overrides.setdefault("default_retry_after", DEFAULT_RETRY_AFTER[service])
        return cls(**overrides)

    def decide(
        self,
        status: int | None,
        headers: Mapping[str, str],
        attempt: int,
        *,
        error: P2CError | None = None,
        now: dt.datetime | None = None,
    ) -> Retry | GiveUp:
        if error is not None and not isinstance(error, TransientError):
            return GiveUp(f"{type(error).__name__} is terminal")
        if status is not None and status not in _RETRY_STATUSES:
            return GiveUp(f"HTTP {status} is not worth retrying")
        if attempt >= self.max_attempts:
            what = "network error" if status is None else f"HTTP {status}"
            return GiveUp(f"{what} after {attempt} attempts")
        told = retry_after_seconds(_header(headers, "retry-after"), now)
        if status == 429:
            wait = self.default_retry_after if told is None else told
            wait = min(wait, self.max_retry_after)
            # a little spread so parallel workers do not all come back in the same millisecond
            spread = wait * min(self.jitter, 0.1) * self.rng.random()
            shown = f"Retry-After {_fmt(told)} s" if told is not None else f"no Retry-After, {_fmt(wait)} s"
            return Retry(wait + spread, f"throttled (429), {shown}")
        backoff = min(self.cap, self.base * 2 ** (attempt - 1))
        backoff += backoff * self.jitter * self.rng.random()
        if told is not None:
            backoff = max(backoff, min(told, self.max_retry_after))
        what = "network error" if status is None else f"HTTP {status}"
        return Retry(backoff, f"{what}, backing off")


def _fmt(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.1f}"


class ThrottleGate:
    """Shared by every worker of a connector: when one request is throttled, all sends pause.

    Pure bookkeeping over a monotonic clock; the send loop sleeps for :meth:`delay`.

    Example::

        >>> gate = ThrottleGate()
        >>> gate.pause(5.0, now=100.0)
        >>> gate.delay(now=102.0)
        3.0
    """

    def __init__(self) -> None:
        self._until = 0.0
        self._lock = threading.Lock()

    def pause(self, seconds: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._until = max(self._until, now + seconds)

    def delay(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        return max(0.0, self._until - now)


# -- paging -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """The next GET: ``url`` (relative to the service root, or absolute) and its query ``params``."""

    url: str
    params: Mapping[str, str] | None


class Pager:
    """Follows ``@odata.nextLink`` verbatim until absent; keeps the ``@odata.deltaLink`` it meets.

    Feed it each page's body; it returns the rows and sets :attr:`next_request` (``None`` when
    done). Dataverse sends the delta link on the last page only (DATAVERSE.md §2.8).
    """

    def __init__(self, url: str, params: Mapping[str, str] | None = None) -> None:
        self.next_request: PageRequest | None = PageRequest(url, dict(params) if params else None)
        self.delta_link: str | None = None
        self.pages = 0

    @property
    def done(self) -> bool:
        return self.next_request is None

    def feed(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.pages += 1
        rows = body.get("value")
        if not isinstance(rows, list):
            raise ValueError("a collection response has no 'value' array")
        link = body.get("@odata.nextLink")
        self.next_request = PageRequest(link, None) if isinstance(link, str) and link else None
        delta = body.get("@odata.deltaLink")
        if isinstance(delta, str) and delta:
            self.delta_link = delta
        return rows


# -- splitting failed batches -------------------------------------------------------------------


@dataclass(frozen=True)
class Bisect(Generic[T]):
    """Send each half again as its own batch; the half that fails is split in turn."""

    halves: tuple[list[T], list[T]]


@dataclass(frozen=True)
class Isolate(Generic[T]):
    """Send every item on its own (one request carrying independent single operations)."""

    items: list[T]


def split_failed(batch: Sequence[T], *, isolate_at: int = 64) -> Bisect[T] | Isolate[T]:
    """What to do with an all-or-nothing batch the service refused because of some of its rows.

    Large batches are halved (each half of good rows is written in one request again); once a
    failing part is at most ``isolate_at`` rows, its rows are sent singly — in one ``$batch``
    request — so every bad row gets its own error and every good row is written.

    Example::

        >>> split_failed(list(range(6)), isolate_at=2)
        Bisect(halves=([0, 1, 2], [3, 4, 5]))
        >>> split_failed([3, 4], isolate_at=2)
        Isolate(items=[3, 4])
    """
    items = list(batch)
    if len(items) <= max(1, isolate_at):
        return Isolate(items)
    mid = (len(items) + 1) // 2
    return Bisect((items[:mid], items[mid:]))
