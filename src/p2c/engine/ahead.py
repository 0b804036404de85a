"""Reading one page ahead: the service prepares page *n + 1* while the task processes page *n*.

A read is a chain of requests, each waiting on the service (F&O's next ``$skip`` page, the next
page of a Dataverse change feed). Without this, the service is idle while p2c hashes and maps a
page, and p2c is idle while the service builds the next one: a no-change run over a large source
is mostly such waits. :func:`read_ahead` asks for the next page on a thread of its own as soon as
a page is handed over, so both sides work at once. Memory holds two pages: the one being processed
and the one being read. The pages come in their order, an error where it happened; the reading
thread carries the caller's context (its log fields).

Example::

    for rows in read_ahead(erp.read("CustomersV3", select=[...]), "Accounts"):
        process(rows)              # meanwhile the next page is on its way
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

__all__ = ["read_ahead"]

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
