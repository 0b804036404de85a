"""Work ahead: reading one page ahead, and learning the target's table while the source is read.

:func:`read_ahead`: the service prepares page *n + 1* while the task processes page *n*.

A read is a chain of requests, each waiting on the service (F&O's next ``$skip`` page, the next
page of a Dataverse change feed). Without this, the service is idle while p2c hashes and maps a
page, and p2c is idle while the service builds the next one: a no-change run over a large source
is mostly such waits. :func:`read_ahead` asks for the next page on a thread of its own as soon as
a page is handed over, so both sides work at once. Memory holds two pages: the one being processed
and the one being read. The pages come in their order, an error where it happened; the reading
thread carries the caller's context (its log fields).

:func:`prepare_ahead`: what writing to the target needs (Dataverse: the table's definition and
whether it takes the bulk messages) is asked for as the task starts, not when its first chunk is
ready to go: one round trip less before the first write. The tables a task's side writes go to
(a number written back to its source) are prepared the same way as a first run of the task starts
(its CRM source read whole), else once its first rows to process are read: a run with nothing to
write asks nothing more.

:func:`alongside`: one read on a thread of its own while the caller goes on (a page's lookups while
its numbers are written back; the feed past a task's own write-backs while its last chunks are
written).

Example::

    prepare_ahead(crm, "products", "Products")
    for rows in read_ahead(erp.read("CustomersV3", select=[...]), "Accounts"):
        process(rows)              # meanwhile the next page is on its way
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar, cast

from p2c.connectors import Connector

__all__ = ["alongside", "prepare_ahead", "read_ahead"]

log = logging.getLogger("p2c.engine")

T = TypeVar("T")
_END = object()


def read_ahead(pages: Iterable[T], name: str) -> Iterator[T]:
    """The items of ``pages``, each next one fetched while the caller works on the current one.

    Abandoned early (an error, a stop), the page being read is left to finish on its own thread:
    reads change nothing, and waiting for a slow service would hold the task up."""
    source = iter(pages)
    context = contextvars.copy_context()  # entered by one call at a time: each waits for the last

    def fetch() -> T | object:
        return context.run(next, source, _END)

    pool = ThreadPoolExecutor(1, thread_name_prefix=f"p2c-read-{name}")
    try:
        pending = pool.submit(fetch)
        while True:
            item = pending.result()
            if item is _END:
                return
            pending = pool.submit(fetch)
            yield cast(T, item)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def alongside(call: Callable[[], T], name: str) -> Future[T]:
    """``call()`` on a thread of its own, with the caller's context (its log fields), while the
    caller goes on; its answer or error when the caller asks (``result()``). Abandoned, it ends on
    its own: what runs here only reads."""
    future: Future[T] = Future()
    context = contextvars.copy_context()

    def work() -> None:
        try:
            future.set_result(context.run(call))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=work, name=f"p2c-{name}", daemon=True).start()
    return future


def prepare_ahead(target: Connector, entity: str, name: str) -> None:
    """``target.prepare_writes(entity)`` on a thread of its own. A failure is only logged: the
    first write asks again and reports it where it belongs."""

    def prepare() -> None:
        try:
            target.prepare_writes(entity)
        except Exception as exc:
            log.debug("preparing the writes to %s ahead failed (the first write asks again): %s", entity, exc)

    alongside(prepare, f"prepare-{name}")
