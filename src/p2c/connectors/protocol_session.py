"""The one loop that sends: applies the protocol's decisions to real requests on an injected client.

:class:`HttpSession` adds the bearer token (refreshed once on a 401), asks
:class:`~p2c.connectors.protocol.RetryPolicy` what to do with 429/5xx/network errors, pauses
every worker of the connector while the service throttles
(:class:`~p2c.connectors.protocol.ThrottleGate`), counts requests and bytes (``stats``, for the
requests-per-record figures) and logs through the :class:`~p2c.connectors.auth.Redactor`. Both
connectors build on it: paging (:meth:`HttpSession.pages`), ``$batch``
(:meth:`HttpSession.batch`, :meth:`HttpSession.batch_ops`) and key look-ups in bulk
(:meth:`HttpSession.find_by_keys`).

Example::

    session = HttpSession(client, tokens, service=Service.FNO, root="https://env/data",
                          headers={"Accept": "application/json"}, retry=RetryPolicy(), redactor=Redactor())
    rows = session.get_json("CustomerGroups", params={"cross-company": "true"})["value"]
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import httpx

from p2c.connectors.auth import Redactor, TokenProvider
from p2c.connectors.base import WriteOp, WriteResult, key_text, with_key
from p2c.connectors.multipart import BatchItem, ChangeSet, HttpPart, parse_batch, render_batch
from p2c.connectors.protocol import Pager, Retry, RetryPolicy, ThrottleGate, retry_after_seconds
from p2c.connectors.protocol_errors import Service, classify, parse_error
from p2c.connectors.protocol_json import loads
from p2c.connectors.protocol_odata import key_filters, query_string
from p2c.errors import AuthError, P2CError, ServiceUnavailableError, TransientError

__all__ = ["HttpSession", "Reply", "Task", "make_client", "run_tasks"]

log = logging.getLogger("p2c.connectors")

#: a unit of write work on a worker thread: results by op index
Task = Callable[[], dict[int, WriteResult]]


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


class _Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values = {"requests": 0, "retries": 0, "throttled": 0, "bytes_sent": 0, "bytes_received": 0}

    def add(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                self.values[k] += v

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
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.service = service
        self.root = root.rstrip("/") + "/"
        self.headers = dict(headers)
        self.retry = retry
        self.redactor = redactor
        self.gate = ThrottleGate()
        self._stats = _Stats()

    @property
    def stats(self) -> dict[str, int]:
        return self._stats.snapshot()

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
        """Send until there is a final answer; raise only :class:`AuthError` or an exhausted transient error."""
        url = self.url(path, params)
        attempt, refreshed, force, resent = 0, False, False, False
        while True:
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
                response = self.client.request(method, url, headers=req_headers, content=body)
            except httpx.TransportError as exc:
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
                time.sleep(decision.after_seconds)
                continue
            status = response.status_code
            self._stats.add(bytes_received=len(response.content))
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

    def find_by_keys(
        self,
        entity_set: str,
        keys: Sequence[Mapping[str, Any]],
        *,
        select: Sequence[str],
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        company_first: bool = False,
        max_filter_chars: int = 6000,
    ) -> list[dict[str, Any]]:
        """The rows matching any of ``keys``: one GET, or one ``$batch`` of GETs when the filter is long."""
        if not keys:
            return []
        filters = key_filters(keys, max_chars=max_filter_chars, company_first=company_first)
        base = {**(params or {}), "$select": ",".join(select)}
        rows: list[dict[str, Any]] = []
        if len(filters) == 1:
            for page in self.pages(Pager(entity_set, {**base, "$filter": filters[0]}), headers=headers):
                rows.extend(page)
            return rows
        items: list[BatchItem] = [
            HttpPart.request(
                "GET", self.url(entity_set, {**base, "$filter": f}), {"Accept": "application/json"}
            )
            for f in filters
        ]
        reply, parts = self.batch(items, entity=entity_set)
        if not parts:
            raise self.error(reply.response, entity=entity_set)
        for index, f in enumerate(filters):
            part = parts[index] if index < len(parts) else None
            if part is None or (part.status or 0) >= 400:
                if part is not None and not isinstance(self.error(part, entity=entity_set), TransientError):
                    raise self.error(part, entity=entity_set)
                # throttled or missing inside the batch: this query alone, through the retry loop
                for page in self.pages(Pager(entity_set, {**base, "$filter": f}), headers=headers):
                    rows.extend(page)
                continue
            pager = Pager(entity_set)
            rows.extend(pager.feed(loads(part.body)))
            rows.extend(row for page in self.pages(pager, headers=headers) for row in page)
        return rows

    def batch_ops(
        self,
        ops: Sequence[WriteOp],
        idx: Sequence[int],
        make_item: Callable[[int, str], BatchItem],
        read_part: Callable[[int, HttpPart], WriteResult | None],
        *,
        headers: Mapping[str, str] | None = None,
        entity: str | None = None,
    ) -> dict[int, WriteResult]:
        """Independent write operations in one ``$batch``, each answered by its own part.

        ``make_item(i, content_id)`` builds the request item for ``ops[i]`` (a part, or a one-part
        change set); ``read_part(i, part)`` turns its answer into a result, or ``None`` for a part worth
        sending again (429/5xx inside the batch). Ops without an answer (a service that stops
        at the first failure) are sent again; retries follow the session's policy.
        """
        results: dict[int, WriteResult] = {}
        pending = list(idx)
        attempt = 0
        while pending:
            attempt += 1
            items = [make_item(i, str(n)) for n, i in enumerate(pending, start=1)]
            reply, parts = self.batch(items, headers=headers, entity=entity)
            if not parts:  # the batch as a whole was refused
                error = self.error(reply.response, entity=entity)
                results.update({i: WriteResult.failed(ops[i], with_key(error, ops[i].key)) for i in pending})
                return results
            by_id = {p.content_id: p for p in parts if p.content_id}
            retry: list[int] = []
            again: HttpPart | None = None
            for n, i in enumerate(pending, start=1):
                part = by_id.get(str(n)) if by_id else (parts[n - 1] if n <= len(parts) else None)
                result = None if part is None else read_part(i, part)
                if result is None:
                    retry.append(i)
                    again = part or again
                else:
                    results[i] = result
            pending = retry
            if not pending:
                break
            status = (again.status or 0) if again else 0
            decision = self.retry.decide(status or 503, again.headers if again else {}, attempt)
            if not isinstance(decision, Retry):
                error = (
                    self.error(again, entity=entity)
                    if again
                    else ServiceUnavailableError(
                        "no answer for this operation in the $batch response", entity=entity
                    )
                )
                results.update({i: WriteResult.failed(ops[i], with_key(error, ops[i].key)) for i in pending})
                return results
            self._stats.add(retries=1)
            if status == 429:
                self._stats.add(throttled=1)
                self.gate.pause(decision.after_seconds)
                self.sleep(0.0)
            elif again is not None:
                self.sleep(decision.after_seconds)
        return results


def run_tasks(
    tasks: Sequence[tuple[list[int], Task]], ops: Sequence[WriteOp], concurrency: int, name: str
) -> list[WriteResult]:
    """Run write tasks on up to ``concurrency`` threads; one result per op, in the order of ``ops``.

    :class:`AuthError` is raised (nothing can be written); other p2c errors — a transient error
    that outlasted the retries, a query the service refused — fail the task's records only.
    """

    def guarded(idx: list[int], task: Task) -> dict[int, WriteResult]:
        try:
            return task()
        except AuthError:
            raise
        except P2CError as error:
            return {i: WriteResult.failed(ops[i], with_key(error, ops[i].key)) for i in idx}

    results: dict[int, WriteResult] = {}
    if len(tasks) <= 1 or concurrency <= 1:
        for idx, task in tasks:
            results.update(guarded(idx, task))
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(tasks)), thread_name_prefix=name) as pool:
            futures = [pool.submit(guarded, idx, task) for idx, task in tasks]
            for future in futures:
                results.update(future.result())
    lost = ServiceUnavailableError("the service gave no answer for this record")
    return [results.get(i) or WriteResult.failed(op, with_key(lost, op.key)) for i, op in enumerate(ops)]
