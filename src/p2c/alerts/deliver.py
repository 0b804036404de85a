"""Channels that deliver a message (one project's alerts) and the webhook signature scheme.

Every channel's ``send(project, alerts, sent_at)`` returns a :class:`Delivery`; none raises for a
delivery problem, and no error text holds a secret, a password or a URL's query string.

**Webhook signature.** Each POST carries::

    Content-Type: application/json
    X-P2C-Timestamp: 1714557600                  (unix seconds, fresh on every attempt)
    X-P2C-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}." + raw body)>

A receiver recomputes the HMAC over the timestamp, a dot and the *raw* body bytes with the shared
secret, compares in constant time, and rejects a timestamp older than a few minutes (replays);
:func:`verify_signature` does all three::

    >>> body = b'{"project":"contoso"}'
    >>> header = sign("s3cret", 1714557600, body)
    >>> verify_signature("s3cret", "1714557600", body, header, now=1714557700)
    True
    >>> verify_signature("other", "1714557600", body, header, now=1714557700)
    False
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from p2c.alerts.model import Alert
from p2c.settings import MASK, Secret

__all__ = [
    "Channel",
    "Delivery",
    "WebhookChannel",
    "redact",
    "retry_delay",
    "safe_url",
    "sign",
    "subject_line",
    "verify_signature",
]

log = logging.getLogger("p2c.alerts")


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one message on one channel; ``error`` is redacted text."""

    channel: str
    ok: bool
    attempts: int
    error: str | None = None
    alerts: int = 0  # how many alerts (counting folded repeats) the message carried

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "ok": self.ok,
            "attempts": self.attempts,
            "error": self.error,
            "alerts": self.alerts,
        }


class Channel(Protocol):
    """Anything that can deliver one project's alerts as one message."""

    @property
    def name(self) -> str: ...

    def send(self, project: str, alerts: Sequence[Alert], sent_at: datetime) -> Delivery: ...

    def close(self) -> None: ...


def subject_line(project: str, alerts: Sequence[Alert]) -> str:
    """``contoso: run 12 failed`` for one alert, ``contoso: 61 alerts (run_failed ×60, stale)``."""
    if len(alerts) == 1 and alerts[0].count == 1:
        return f"{project}: {alerts[0].summary}"
    total = sum(a.count for a in alerts)
    kinds = [f"{a.kind.value} ×{a.count}" if a.count > 1 else a.kind.value for a in alerts]
    listed = f" ({', '.join(kinds)})" if len(kinds) <= 3 else ""
    return f"{project}: {total} alerts{listed}"


def safe_url(url: str) -> str:
    """``scheme://host[:port]/path``: no user info, query or fragment (they may hold a token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def redact(text: str, secrets: Iterable[str | Secret | None]) -> str:
    """``text`` with every secret, and its base64 form (SMTP AUTH echoes it), replaced by the mask."""
    values: set[str] = set()
    for s in secrets:
        value = s.get_secret_value() if isinstance(s, Secret) else s
        if value and len(value) >= 3:
            values.add(value)
            values.add(base64.b64encode(value.encode()).decode().rstrip("="))
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def sign(secret: str | Secret, timestamp: int | str, body: bytes) -> str:
    """The ``X-P2C-Signature`` value for ``body`` sent at ``timestamp``."""
    key = secret.get_secret_value() if isinstance(secret, Secret) else secret
    mac = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    secret: str | Secret,
    timestamp: str | int,
    body: bytes | str,
    header: str | None,
    tolerance_seconds: float = 300,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs ``body`` at ``timestamp`` with ``secret``, and ``timestamp`` is
    within ``tolerance_seconds`` of ``now`` (unix seconds; default the current time)."""
    if not header:
        return False
    try:
        ts = int(str(timestamp))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_seconds:
        return False
    raw = body.encode() if isinstance(body, str) else body
    return hmac.compare_digest(sign(secret, ts, raw), header.strip())


_RETRY_AFTER_CAP = 300.0


def retry_delay(
    status: int | None,
    retry_after: str | None,
    attempt: int,
    backoff: float,
    max_backoff: float = 60.0,
    now: datetime | None = None,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None to give up on this answer.

    ``status`` None means no HTTP answer (connection refused, timeout): retried, like 429 and any
    5xx. 429 waits ``Retry-After`` (seconds or an HTTP date, at most 5 minutes) when given. Any
    other status is final. Back-off doubles from ``backoff`` and stops growing at ``max_backoff``.

    >>> retry_delay(503, None, 3, 1.0), retry_delay(429, "7", 1, 1.0), retry_delay(400, None, 1, 1.0)
    (4.0, 7.0, None)
    """
    if status is not None and status != 429 and status < 500:
        return None
    if status == 429 and retry_after:
        seconds = _parse_retry_after(retry_after, now or datetime.now(UTC))
        if seconds is not None:
            return min(max(seconds, 0.0), _RETRY_AFTER_CAP)
    return min(backoff * 2 ** (attempt - 1), max_backoff)


def _parse_retry_after(value: str, now: datetime) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (when - now).total_seconds()


def payload(project: str, alerts: Sequence[Alert], sent_at: datetime) -> dict[str, Any]:
    """The JSON document a webhook receives (one project, one or more alerts)."""
    return {
        "project": project,
        "summary": subject_line(project, alerts),
        "alerts": [a.as_dict() for a in alerts],
        "sent_at": sent_at.isoformat(),
    }


_SPACES = re.compile(r"\s+")


class _QueryFilter(logging.Filter):
    """Masks the query strings of webhook URLs in httpx's own log lines (``HTTP Request: POST
    https://...?token=...``): the token must not reach a log even when httpx logs at INFO."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.queries:
            text = record.getMessage()
            masked = redact(text, self.queries)
            if masked != text:
                record.msg, record.args = masked, ()
        return True


_HTTPX_LOG_FILTER = _QueryFilter()


def _hide_query_in_httpx_logs(url: str) -> None:
    query = urlsplit(url).query
    if query:
        _HTTPX_LOG_FILTER.queries.add(query)
        httpx_log = logging.getLogger("httpx")
        if _HTTPX_LOG_FILTER not in httpx_log.filters:
            httpx_log.addFilter(_HTTPX_LOG_FILTER)


class WebhookChannel:
    """POSTs signed JSON to ``url``, retrying network errors, 429 and 5xx with doubling back-off.

    ``client`` is injected (habit: the same channel runs against any receiver); without one the
    channel builds and owns its own. ``sleep`` and ``clock`` are injectable for tests.

    Example::

        hook = WebhookChannel("https://hooks.example.com/p2c?token=x", Secret("k"), "ops")
        delivery = hook.send("contoso", [alert], sent_at)   # Delivery(channel='webhook ops', ...)
    """

    def __init__(
        self,
        url: str,
        secret: str | Secret,
        name: str | None = None,
        client: httpx.Client | None = None,
        attempts: int = 5,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        *,
        max_backoff: float = 60.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        _hide_query_in_httpx_logs(url)
        self._secret = secret if isinstance(secret, Secret) else Secret(secret)
        self.name = f"webhook {name or urlsplit(url).hostname or 'webhook'}"
        self._own_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookChannel({safe_url(self.url)!r}, name={self.name!r}, secret={self._secret!r})"

    def _redact(self, text: str) -> str:
        query = urlsplit(self.url).query
        text = text.replace(self.url, safe_url(self.url))
        return _SPACES.sub(" ", redact(text, [self._secret, query])).strip()

    def send(self, project: str, alerts: Sequence[Alert], sent_at: datetime) -> Delivery:
        body = json.dumps(payload(project, alerts, sent_at), separators=(",", ":")).encode()
        count = sum(a.count for a in alerts)
        error = "not sent"
        for attempt in range(1, self.attempts + 1):
            timestamp = int(self._clock())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "p2c-alerts",
                "X-P2C-Timestamp": str(timestamp),
                "X-P2C-Signature": sign(self._secret, timestamp, body),
            }
            status: int | None = None
            retry_after: str | None = None
            try:
                response = self._client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                status = response.status_code
                if response.is_success:
                    return Delivery(self.name, True, attempt, None, count)
                retry_after = response.headers.get("Retry-After")
                error = f"HTTP {status} {response.reason_phrase}".strip()
            delay = retry_delay(status, retry_after, attempt, self.backoff, self.max_backoff)
            if delay is None or attempt == self.attempts:
                break
            log.debug(
                "%s: attempt %d failed (%s), retrying in %.1fs",
                self.name,
                attempt,
                self._redact(error),
                delay,
            )
            self._sleep(delay)
        where = safe_url(self.url)
        return Delivery(self.name, False, attempt, self._redact(f"{error} from {where}"), count)

    def close(self) -> None:
        if self._own_client:
            self._client.close()
