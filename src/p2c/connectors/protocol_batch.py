"""Work sent many at a time over an :class:`~p2c.connectors.protocol_session.HttpSession`.

Key look-ups in bulk (:func:`find_by_keys`: one GET, or a ``$batch`` of GETs when the or-ed
filter is long; :func:`query_many`, :func:`query_sets`: several queries in one ``$batch``), independent write operations in one ``$batch`` each answered by its own part
(:func:`batch_ops`) and write tasks spread over worker threads (:func:`run_tasks`). The session
sends and retries each request; what is built here decides what to send again when only some
parts of a ``$batch`` failed.

Example::

    rows = find_by_keys(session, "CustomersV3", [{"CustomerAccount": "C1"}], select=["CustomerAccount"])
    results = run_tasks([([0], lambda: batch_ops(session, ops, [0], make_item, read_part))], ops, 4, "p2c-fno")
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from p2c.connectors.base import WriteOp, WriteResult, with_key
from p2c.connectors.multipart import BatchItem, HttpPart
from p2c.connectors.protocol import Pager, Retry
from p2c.connectors.protocol_errors import Service
from p2c.connectors.protocol_json import loads
from p2c.connectors.protocol_odata import key_filters
from p2c.connectors.protocol_session import HttpSession
from p2c.connectors.protocol_slots import in_write_order, next_write_call
from p2c.errors import AuthError, P2CError, ServiceUnavailableError, ServiceUnreachableError, TransientError

__all__ = ["Task", "batch_ops", "find_by_keys", "first_pages", "query_many", "query_sets", "run_tasks"]

#: a unit of write work on a worker thread: results by op index
Task = Callable[[], dict[int, WriteResult]]


def find_by_keys(
    session: HttpSession,
    entity_set: str,
    keys: Sequence[Mapping[str, Any]],
    *,
    select: Sequence[str],
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    company_first: bool = False,
    max_filter_chars: int = 6000,
) -> list[dict[str, Any]]:
    """The rows matching any of ``keys``: one GET, or one ``$batch`` of GETs when the filter is long
    (on Dataverse, keys of one text column as an ``In`` list: :func:`key_filters`)."""
    if not keys:
        return []
    use_in = session.service is Service.DATAVERSE
    filters = key_filters(keys, max_chars=max_filter_chars, company_first=company_first, use_in=use_in)
    base = {**(params or {}), **({"$select": ",".join(select)} if select else {})}  # none: every column
    queries = [{**base, "$filter": f} for f in filters]
    return [row for page in query_many(session, entity_set, queries, headers=headers) for row in page]


def query_many(
    session: HttpSession,
    entity_set: str,
    queries: Sequence[Mapping[str, Any]],
    *,
    headers: Mapping[str, str] | None = None,
) -> list[list[dict[str, Any]]]:
    """The rows of several queries on ``entity_set`` (their query parameters), a list per query
    (:func:`query_sets`)."""
    return query_sets(session, [(entity_set, q) for q in queries], headers=headers)


def query_sets(
    session: HttpSession,
    queries: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    headers: Mapping[str, str] | None = None,
) -> list[list[dict[str, Any]]]:
    """The rows of several queries, each ``(entity set, query parameters)``, a list per query: one
    GET when there is one, else all of them in one ``$batch`` request (a chunk's lookups into
    several tables). Further pages, and a query throttled or unanswered inside the batch, are sent
    on their own."""
    if not queries:
        return []
    if len(queries) == 1:
        entity_set, query = queries[0]
        return [[row for page in session.pages(Pager(entity_set, query), headers=headers) for row in page]]
    parts = _batch_gets(session, queries, headers)
    out: list[list[dict[str, Any]]] = []
    for index, (entity_set, query) in enumerate(queries):
        rows: list[dict[str, Any]] = []
        part = parts[index] if index < len(parts) else None
        if part is None or (part.status or 0) >= 400:
            if part is not None and not isinstance(session.error(part, entity=entity_set), TransientError):
                raise session.error(part, entity=entity_set)
            # throttled or missing inside the batch: this query alone, through the retry loop
            for page in session.pages(Pager(entity_set, query), headers=headers):
                rows.extend(page)
        else:
            pager = Pager(entity_set)
            rows.extend(pager.feed(loads(part.body)))
            rows.extend(row for page in session.pages(pager, headers=headers) for row in page)
        out.append(rows)
    return out


def first_pages(
    session: HttpSession,
    queries: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    headers: Mapping[str, str] | None = None,
) -> list[list[dict[str, Any]] | None]:
    """The first page of each query ``(entity set, query parameters)``, in one request (a GET when
    there is one, else one ``$batch``), for reads that want one page or nothing: a query whose
    rows go on past its first page, or that the service refused, throttled or left unanswered
    inside the batch, is None (no further request is sent for it)."""
    if not queries:
        return []
    if len(queries) == 1:
        entity_set, query = queries[0]
        bodies = [session.get_json(entity_set, params=query, headers=headers, entity=entity_set)]
    else:
        parts = _batch_gets(session, queries, headers)
        bodies = [
            loads(part.body) if part.body and (part.status or 0) < 400 else None
            for part in parts[: len(queries)]
        ]
        bodies += [None] * (len(queries) - len(bodies))
    out: list[list[dict[str, Any]] | None] = []
    for (entity_set, _query), body in zip(queries, bodies, strict=True):
        pager = Pager(entity_set)
        rows = pager.feed(body) if isinstance(body, Mapping) else None
        out.append(rows if rows is not None and pager.done else None)
    return out


def _batch_gets(
    session: HttpSession, queries: Sequence[tuple[str, Mapping[str, Any]]], headers: Mapping[str, str] | None
) -> list[HttpPart]:
    """The answers to one ``$batch`` of GETs, one part per query in order (fewer when the service
    left some out); a batch refused as a whole raises."""
    part_headers = {"Accept": "application/json", **(headers or {})}
    items: list[BatchItem] = [HttpPart.request("GET", session.url(e, q), part_headers) for e, q in queries]
    first = queries[0][0]
    reply, parts = session.batch(items, entity=first)
    if not parts:
        raise session.error(reply.response, entity=first)
    return parts


def batch_ops(
    session: HttpSession,
    ops: Sequence[WriteOp],
    idx: Sequence[int],
    make_item: Callable[[int, str], BatchItem],
    read_part: Callable[[int, HttpPart], WriteResult | None],
    *,
    headers: Mapping[str, str] | None = None,
    entity: str | None = None,
    lost: set[int] | None = None,
) -> dict[int, WriteResult]:
    """Independent write operations in one ``$batch``, each answered by its own part.

    ``lost`` collects the ops whose ``$batch`` was sent again after its answer was lost: their
    first attempt may have been carried out, so a create answered "already exists" may be ours.

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
        reply, parts = session.batch(items, headers=headers, entity=entity)
        if reply.resent and lost is not None:
            lost.update(pending)
        if not parts:  # the batch as a whole was refused
            error = session.error(reply.response, entity=entity)
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
        decision = session.retry.decide(status or 503, again.headers if again else {}, attempt)
        if not isinstance(decision, Retry):
            error = (
                session.error(again, entity=entity)
                if again
                else ServiceUnavailableError(
                    "no answer for this operation in the $batch response", entity=entity
                )
            )
            results.update({i: WriteResult.failed(ops[i], with_key(error, ops[i].key)) for i in pending})
            return results
        session.count(retries=1)
        if status == 429:
            session.count(throttled=1)
            session.gate.pause(decision.after_seconds)
            session.sleep(0.0)
        elif again is not None:
            session.sleep(decision.after_seconds)
    return results


def run_tasks(
    tasks: Sequence[tuple[list[int], Task]], ops: Sequence[WriteOp], concurrency: int, name: str
) -> list[WriteResult]:
    """Run write tasks side by side; one result per op, in the order of ``ops``. At most
    ``concurrency`` requests are in flight (the session's slots,
    :class:`~p2c.connectors.protocol_slots.InFlight`), which they take in the order of the calls,
    then of the tasks: the chunk handed in first is written first.

    :class:`AuthError` is raised (nothing can be written); other p2c errors — a transient error
    that outlasted the retries, a query the service refused — fail the task's records only.
    """
    call = next_write_call()

    def guarded(n: int, idx: list[int], task: Task) -> dict[int, WriteResult]:
        in_write_order(n, call)
        try:
            return task()
        except (AuthError, ServiceUnreachableError):  # nothing more can be written: the run stops
            raise
        except P2CError as error:
            return {i: WriteResult.failed(ops[i], with_key(error, ops[i].key)) for i in idx}

    results: dict[int, WriteResult] = {}
    if len(tasks) <= 1 or concurrency <= 1:
        for n, (idx, task) in enumerate(tasks):
            results.update(contextvars.copy_context().run(guarded, n, idx, task))
    else:
        # as many threads as slots and as many again waiting in line: when a slot frees, one of
        # this call's requests is first in line, so a later call's cannot take it in between
        width = min(len(tasks), 2 * concurrency)
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix=name) as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, guarded, n, idx, task)
                for n, (idx, task) in enumerate(tasks)
            ]
            for future in futures:
                results.update(future.result())
    lost = ServiceUnavailableError("the service gave no answer for this record")
    return [results.get(i) or WriteResult.failed(op, with_key(lost, op.key)) for i, op in enumerate(ops)]
