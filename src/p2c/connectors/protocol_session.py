"""The one loop that sends: applies the protocol's decisions to real requests on an injected client.

:class:`HttpSession` adds the bearer token (refreshed once on a 401), asks
:class:`~p2c.connectors.protocol.RetryPolicy` what to do with 429/5xx/network errors, pauses
every worker of the connector while the service throttles
(:class:`~p2c.connectors.protocol.ThrottleGate`), keeps at most ``concurrency`` requests in flight
(:class:`~p2c.connectors.protocol_slots.InFlight`), counts requests and bytes (``stats``, for the
requests-per-record figures) and logs through the :class:`~p2c.connectors.auth.Redactor`. Both
connectors build on it: paging (:meth:`HttpSession.pages`) and ``$batch`` (:meth:`HttpSession.batch`);
key look-ups in bulk and write operations many to a ``$batch`` are built on the session in
:mod:`p2c.connectors.protocol_batch`.

Example::

    session = HttpSession(client, tokens, service=Service.FNO, root="https://env/data",
                          headers={"Accept": "application/json"}, retry=RetryPolicy(), redactor=Redactor())
    rows = session.get_json("CustomerGroups", params={"cross-company": "true"})["value"]
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, Protocol

import httpx

from p2c.connectors.auth import Redactor, TokenProvider
from p2c.connectors.base import key_text
from p2c.connectors.multipart import BatchItem, ChangeSet, HttpPart, parse_batch, render_batch
from p2c.connectors.protocol import Pager, Retry, RetryPolicy, ThrottleGate, retry_after_seconds
from p2c.connectors.protocol_breaker import Breaker
from p2c.connectors.protocol_errors import Service, classify, parse_error
from p2c.connectors.protocol_json import loads
from p2c.connectors.protocol_odata import query_string
from p2c.connectors.protocol_slots import InFlight
from p2c.errors import (
    AuthError,
    P2CError,
    ServiceUnavailableError,
    ServiceUnreachableError,
    TransientError,
)

__all__ = ["HttpSession", "Reply", "RequestBudget", "make_client"]

log = logging.getLogger("p2c.connectors")

# no HTTP answer at all: the host refused, is unknown, failed TLS or did not accept the connection
# in time. A response cut off after the connection was made is a busy service, not a gone one.
_NO_ANSWER = (httpx.ConnectError, httpx.ConnectTimeout)
_SHOWN = {Service.DATAVERSE: "CRM", Service.FNO: "ERP"}


def make_client(ca_bundle: str | None = None, timeout: float = 120.0, concurrency: int = 4) -> httpx.Client:
    """The real client: the connection's CA bundle, generous timeouts (F&O's first call can be slow).

    The pool keeps a connection per worker, plus room for the token requests.
    """
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    return httpx.Client(
        verify=verify,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 30.0)),
        limits=limits,
        follow_redirects=False,
    )


@dataclass(frozen=True)
class Reply:
    """A final answer: the response, and whether the request was sent more than once after a network error."""

    response: httpx.Response
    resent: bool = False


class RequestBudget(Protocol):
    """A request budget shared with other processes (``p2c worker``: :mod:`p2c.scale.budget`).

    ``take`` blocks until one more request may be sent to the service and returns what to call
    once its answer is in (it frees a concurrent slot); ``throttled`` tells every process sharing
    the budget that the service answered 429 and how long it asked to wait.
    """

    def take(self) -> Callable[[], None]: ...

    def throttled(self, seconds: float) -> None: ...


#: the stream of a response whose body is read (its content is kept on the response)
_READ = httpx.ByteStream(b"")


def _nothing() -> None:
    return None


#: set on the thread of a connection check (:meth:`HttpSession.checking`): its requests are counted
#: as ``checks``, apart from the work's (a run's figures are the work's, whatever runs beside it)
_CHECKING: ContextVar[bool] = ContextVar("p2c_checking", default=False)


class _Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # plus ``status_<code>`` per HTTP status answered and ``connection_errors`` (no answer)
        self.values = {
            "requests": 0,
            "retries": 0,
            "throttled": 0,
            "bytes_sent": 0,
            "bytes_received": 0,
            "checks": 0,
        }

    def add(self, **counts: int) -> None:
        if _CHECKING.get():
            counts = {"checks": counts["requests"]} if "requests" in counts else {}
        with self._lock:
            for k, v in counts.items():
                self.values[k] = self.values.get(k, 0) + v

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            out = dict(self.values)
        out["bytes"] = out["bytes_sent"] + out["bytes_received"]
        return out


class HttpSession:
    """Sends requests for one service: token, retries, throttling pause, stats, redacted logs."""

    def __init__(
        self,
        client: httpx.Client,
        tokens: TokenProvider,
        *,
        service: Service,
        root: str,
        headers: Mapping[str, str],
        retry: RetryPolicy,
        redactor: Redactor,
        breaker: Breaker | None = None,
        concurrency: int = 4,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.service = service
        self.root = root.rstrip("/") + "/"
        self.headers = dict(headers)
        self.retry = retry  # the run's; a check gives up sooner (:meth:`checking`)
        self.redactor = redactor
        self.gate = ThrottleGate()
        self.breaker = breaker or Breaker()
        #: shared with other processes when set (workers); None: only this process's own limits
        self.budget: RequestBudget | None = None
        #: requests in flight at most, over every thread sending through this session
        self.in_flight = InFlight(concurrency)
        self._stats = _Stats()

    @property
    def retry(self) -> RetryPolicy:
        """How requests are retried: the run's patient back-off, or on a check's thread
        (:meth:`checking`) one retry soon, so an unreachable host is told within a second or two."""
        return self._impatient if _CHECKING.get() else self._retry

    @retry.setter
    def retry(self, policy: RetryPolicy) -> None:
        self._retry = policy
        self._impatient = replace(policy, max_attempts=2, base=0.2, cap=1.0)

    @property
    def stats(self) -> dict[str, int]:
        return self._stats.snapshot()

    def count(self, **counts: int) -> None:
        """Add to ``stats`` (retries and throttling seen by work built on the session)."""
        self._stats.add(**counts)

    @staticmethod
    @contextlib.contextmanager
    def checking() -> Iterator[None]:
        """Requests sent on this thread meanwhile are a connection check: retried once, soon
        (:attr:`retry`), and counted as ``checks`` only, not in the work's requests, retries and
        bytes (a run checks both services beside its first reads)."""
        token = _CHECKING.set(True)
        try:
            yield
        finally:
            _CHECKING.reset(token)

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """Absolute URL of ``path`` (kept as is when absolute), with ``params`` percent-encoded."""
        url = path if path.startswith(("http://", "https://")) else self.root + path.lstrip("/")
        if params:
            url += ("&" if "?" in url else "?") + query_string(params)
        return url

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        entity: str | None = None,
    ) -> Reply:
        """Send until there is a final answer; raise only :class:`AuthError` or an exhausted transient
        error — :class:`ServiceUnreachableError` at once while the service's breaker is open."""
        url = self.url(path, params)
        attempt, refreshed, force, resent = 0, False, False, False
        while True:
            self._check_breaker()
            pause = self.gate.delay()
            if pause > 0:
                time.sleep(pause)
            attempt += 1
            req_headers = {**self.headers, **(headers or {})}
            req_headers["Authorization"] = f"Bearer {self.tokens.token(force_refresh=force)}"
            force = False
            self._stats.add(requests=1, bytes_sent=len(body or b""))
            started = time.perf_counter()
            try:
                with self.in_flight:
                    release = self.budget.take() if self.budget is not None else _nothing
                    try:
                        response = self.client.request(method, url, headers=req_headers, content=body)
                        # httpx binds a response's stream to the response (to time it): a reference
                        # cycle, so the body read (a page of 5 000 rows, a $batch answer of 700 KB)
                        # and the request sent would stay until the cyclic collector ran
                        response.stream = _READ
                    finally:
                        release()
            except httpx.TransportError as exc:
                self._stats.add(connection_errors=1)
                no_answer = isinstance(exc, _NO_ANSWER)
                if no_answer:
                    self.breaker.failed()
                    self._check_breaker()
                decision = self.retry.decide(None, {}, attempt)
                reason = self.redactor.text(f"{type(exc).__name__}: {exc}")
                if not isinstance(decision, Retry):
                    raise ServiceUnavailableError(
                        f"{method} {self._short(url)} failed: {reason} ({decision.reason})", entity=entity
                    ) from None
                log.warning(
                    "%s %s: %s; retry in %.1f s", method, self._short(url), reason, decision.after_seconds
                )
                self._stats.add(retries=1)
                resent = True
                wait = decision.after_seconds
                left = self.breaker.remaining() if no_answer else None
                # wake when the breaker opens rather than sleep past it
                time.sleep(wait if left is None else min(wait, left + 0.01))
                continue
            self.breaker.answered()
            status = response.status_code
            self._stats.add(bytes_received=len(response.content), **{f"status_{status}": 1})
            log.debug(
                "%s %s -> %s (%.0f ms)",
                method,
                self._short(url),
                status,
                (time.perf_counter() - started) * 1000,
            )
            if status == 401 and not refreshed:
                refreshed, force = True, True  # the token may have expired: one more try with a new one
                attempt -= 1
                self._stats.add(retries=1)
                continue
            if status < 400:
                return Reply(response, resent)
            error = self.error(response, entity=entity)
            if isinstance(error, AuthError):
                raise error
            decision = self.retry.decide(status, response.headers, attempt, error=error)
            if not isinstance(decision, Retry):
                if isinstance(error, TransientError):
                    raise error
                return Reply(response, resent)
            if status == 429:
                self._stats.add(throttled=1)
                self.gate.pause(decision.after_seconds)
                if self.budget is not None:  # every process sharing the budget waits too
                    self.budget.throttled(decision.after_seconds)
            log.info(
                "%s %s: %s; retry in %.1f s",
                method,
                self._short(url),
                decision.reason,
                decision.after_seconds,
            )
            self._stats.add(retries=1)
            if status != 429:
                time.sleep(decision.after_seconds)

    def _check_breaker(self) -> None:
        if self.breaker.is_open():
            raise ServiceUnreachableError(
                service=_SHOWN.get(self.service, str(self.service)), since=self.breaker.since
            )

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, and longer if the service is throttling this connector."""
        time.sleep(max(seconds, self.gate.delay()))

    def error(
        self,
        response: httpx.Response | HttpPart,
        *,
        entity: str | None = None,
        key: Mapping[str, Any] | None = None,
    ) -> P2CError:
        """The classified error of a failed response (or ``$batch`` part), with secrets masked."""
        if isinstance(response, HttpPart):
            status, body, headers = response.status or 0, response.body, response.headers
        else:
            status, body, headers = response.status_code, response.content, dict(response.headers)
        parsed = parse_error(status, body)
        parsed = replace(
            parsed, message=self.redactor.text(parsed.message), raw=self.redactor.text(parsed.raw)
        )
        retry_after = None
        if status in (429, 503):
            told = retry_after_seconds(
                next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
            )
            retry_after = self.retry.default_retry_after if told is None and status == 429 else told
        return classify(parsed, self.service, entity=entity, key=key_text(key), retry_after=retry_after)

    def _short(self, url: str) -> str:
        text = url[len(self.root) :] if url.startswith(self.root) else url
        return self.redactor.text(text if len(text) <= 300 else text[:300] + "...")

    # -- conveniences over send ------------------------------------------------------------------

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        entity: str | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """GET and parse (numbers as Decimal); errors raised classified; ``None`` on 404 if ``missing_ok``."""
        response = self.send("GET", path, params=params, headers=headers, entity=entity).response
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise self.error(response, entity=entity)
        return loads(response.content) if response.content else None

    def pages(
        self,
        pager: Pager,
        *,
        headers: Mapping[str, str] | None = None,
        entity: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Rows page by page, following next links until the pager is done."""
        while pager.next_request is not None:
            request = pager.next_request
            body = self.get_json(request.url, params=request.params, headers=headers, entity=entity)
            yield pager.feed(body)

    def batch(
        self,
        items: Sequence[BatchItem],
        *,
        headers: Mapping[str, str] | None = None,
        entity: str | None = None,
    ) -> tuple[Reply, list[HttpPart]]:
        """POST a ``$batch``; returns the reply and its response parts, change sets flattened.

        When the batch itself was refused (not multipart), the parts list is empty and the
        caller reads the error from ``reply.response``.
        """
        content_type, body = render_batch(list(items), kind="request")
        hdrs = {"Content-Type": content_type, **(headers or {})}
        reply = self.send("POST", "$batch", headers=hdrs, body=body, entity=entity)
        response = reply.response
        ctype = response.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/"):
            return reply, []
        parts: list[HttpPart] = []
        for item in parse_batch(ctype, response.content):
            parts.extend(item.parts if isinstance(item, ChangeSet) else [item])
        return reply, parts
