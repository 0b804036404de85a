"""Which contacts are customers ("is active customer"), kept up to date from change feeds.

A contact is an active customer exactly when it is the customer of a CRM quote, order or invoice
(:func:`p2c.rules.is_active_customer`). Reading every document's customer on every run cost
seconds at 100 000 records with nothing changed; :class:`StoredCustomers` reads instead, once per
run, the change feeds of ``quotes``, ``salesorders`` and ``invoices`` (only their customer
column) and keeps each document's customer in the store (:mod:`p2c.store.customers`):

- a document added, deleted, or given another customer *touches* its old and new customer: the
  contact tasks read those contacts again (their flag may change either way — a contact whose
  last order was deleted stops being a customer);
- the first time (no cursor yet), every document is read and the CRM's own flags are compared
  with the result once: the contacts whose flag disagrees are touched;
- a run with no change reads three empty change feeds and nothing else.

The three feeds are read at the same time (each on its own thread, the store written once all
are read): after an initial load every order p2c wrote its derived flag back to is in the orders'
feed, and the contact tasks wait for this refresh. So a run begins it as it starts, on a thread of
its own (:meth:`StoredCustomers.ahead`), while Accounts works: it reads only the documents' feeds
and the store, nothing a task the contact tasks wait for writes, and what changes after its read
is in the next run's feeds — so beginning it earlier changes nothing it finds.

Shared by the run's contact tasks through :class:`~p2c.flows.cache.RunCache` (refreshed by the
first that asks, under a lock, since tasks may run at the same time). A plan refreshes it too:
the touched contacts stay in the store until real runs of every contact task have read them.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from p2c.connectors import Connector
from p2c.errors import P2CError, PrerequisiteError
from p2c.rules import normalize_ids
from p2c.settings import System
from p2c.store import CURSOR_PREFIX, StateStore

__all__ = ["DOCUMENTS", "StoredCustomers"]

log = logging.getLogger("p2c.engine")

#: the CRM documents whose customer makes a contact an active customer
DOCUMENTS = ("quotes", "salesorders", "invoices")
CUSTOMER = "_customerid_value"


class StoredCustomers:
    """The customers of CRM documents for a run (:class:`p2c.flows.cache.CustomerIndex`).

    ``tasks``: the contact tasks of the project that derive the flag (a touched contact is
    forgotten once all of them completed a run after the touch); ``flag``: the contact column
    holding the flag in this CRM (compared once, when the index is first built)."""

    def __init__(self, store: StateStore, crm: Connector, tasks: Sequence[str], flag: str | None) -> None:
        self.store = store
        self.crm = crm
        self.tasks = list(tasks)
        self.flag = flag
        self._lock = threading.Lock()
        self._ready = False
        self._missing: str | None = None  # why the feeds cannot be read (change tracking off)
        self._touched: set[str] = set()

    def available(self) -> bool:
        """Whether the documents' change feeds can be read. A project provisioned before p2c kept
        customers this way lacks change tracking on them until ``p2c setup`` runs again: its
        contact tasks then read every document's customer as before (and say so, once per run)."""
        self.refresh()
        return self._missing is None

    @contextmanager
    def ahead(self, tasks: Iterable[str]) -> Iterator[None]:
        """Within: :meth:`refresh` under way on a thread of its own, when ``tasks`` (the tasks a run
        runs) include a contact task deriving the flag; on leaving, it has ended. The first contact
        task to ask waits on the lock for it to end rather than beginning it then. A refresh that
        fails here is begun again by that task's own call (nothing was stored), which reports the
        error; a run that stops before its contact tasks drops it."""
        if not set(self.tasks) & set(tasks):
            yield
            return
        with ThreadPoolExecutor(1, thread_name_prefix="p2c-customers-ahead") as pool:
            pool.submit(contextvars.copy_context().run, self.refresh)
            yield

    def catch_up(self, wrote: Iterable[tuple[System, str]]) -> None:
        """Refresh once more at the end of a run that refreshed and wrote to the documents
        (``wrote``: the tables it wrote to): the flags p2c derived and wrote back to every order of
        an initial load would otherwise fill the next run's orders feed, each compared with the
        stored customer for nothing. A run without such writes reads no feed again. A refusal
        here stores nothing, and the next run reads the same feeds (said, not raised: every task
        is done)."""
        if not self._ready or self._missing is not None:
            return
        if not any(system is System.CRM and entity in DOCUMENTS for system, entity in wrote):
            return
        with self._lock:
            try:
                self._refresh()
            except P2CError as exc:
                log.warning("is active customer: the documents' feeds are left to the next run: %s", exc)

    def refresh(self) -> None:
        """Read the documents' change feeds once per run and store what they say (idempotent)."""
        with self._lock:
            if self._ready:
                return
            try:
                self._refresh()
            except PrerequisiteError as exc:
                self._missing = str(exc)
                log.warning("is active customer: every document is read (run `p2c setup`): %s", exc)
            self._ready = True

    def _refresh(self) -> None:
        """One refresh (:meth:`refresh`): the feeds read, the store written in one transaction."""
        self.store.settle_touched(self.tasks)
        changes: dict[str, tuple[dict[str, str], list[str], bool, str | None]] = {}
        touched: set[str] = set()
        cursors = {entity: self.store.cursor(CURSOR_PREFIX + entity) for entity in DOCUMENTS}
        first = any(c is None for c in cursors.values())
        with ThreadPoolExecutor(len(DOCUMENTS), thread_name_prefix="p2c-customers") as pool:
            feeds = {
                e: pool.submit(contextvars.copy_context().run, self._feed, e, cursors[e]) for e in DOCUMENTS
            }
            read = {entity: future.result() for entity, future in feeds.items()}
        for entity in DOCUMENTS:
            cursor = cursors[entity]
            upserts, deleted, full, new_cursor = read[entity]
            if full:  # the whole table: what the store holds and the feed lacks is gone
                before = self.store.document_customers(entity)
                deleted = [d for d in before if d not in upserts]
            else:
                before = self.store.document_customers(entity, [*upserts, *deleted])
                # a document back in the feed with its customer as stored (p2c wrote its derived
                # flag back, a person edited its name) changes nothing here: not written again
                upserts = {d: c for d, c in upserts.items() if before.get(d) != c}
            if cursor is not None:  # a first read touches nobody: the flags are compared below
                touched |= set(upserts.values())
                touched |= {before[d] for d in upserts if d in before}
                touched |= {before[d] for d in deleted if d in before}
            changes[entity] = (upserts, deleted, full, new_cursor)
        if first and self.flag:
            touched |= self._disagreeing(changes)
        self.store.apply_customer_changes(changes, touched)
        self._touched = self.store.touched_customers()
        if touched:
            log.info("is active customer: %d contact(s) to read again", len(touched))

    def _feed(self, entity: str, cursor: str | None) -> tuple[dict[str, str], list[str], bool, str | None]:
        """One document table's change feed since ``cursor``: each document's customer, the
        documents deleted, whether it was the whole table, and the feed's new cursor."""
        feed = self.crm.changes(entity, select=[CUSTOMER], cursor=cursor)
        upserts: dict[str, str] = {}
        deleted: list[str] = []
        pk = entity[:-1] + "id"  # quoteid, salesorderid, invoiceid
        for page in feed:
            for row in page.rows:
                doc, customer = _id(row.get(pk)), _id(row.get(CUSTOMER))
                if doc:
                    if customer:
                        upserts[doc] = customer
                    else:
                        deleted.append(doc)  # no customer (cannot happen in Dataverse): none
            deleted.extend(d for d in (_id(x) for x in page.deleted) if d)
        return upserts, deleted, feed.full, feed.cursor

    def _disagreeing(
        self, changes: dict[str, tuple[dict[str, str], list[str], bool, str | None]]
    ) -> set[str]:
        """Contacts whose CRM flag differs from what the documents say (the first build only)."""
        customers: set[str] = set()
        for entity, (upserts, deleted, whole, _cursor) in changes.items():
            after = {} if whole else self.store.document_customers(entity)  # the table once changed
            after.update(upserts)
            for doc in deleted:
                after.pop(doc, None)
            customers.update(after.values())
        out: set[str] = set()
        assert self.flag is not None
        for page in self.crm.read("contacts", select=["contactid", self.flag]):
            for row in page:
                contact = _id(row.get("contactid"))
                if contact and bool(row.get(self.flag)) != (contact in customers):
                    out.add(contact)
        return out

    def members(self, ids: Iterable[Any]) -> frozenset[str]:
        """Which of ``ids`` (contact ids, any case) are customers, lowercase."""
        self.refresh()
        return frozenset(self.store.customers_among(normalize_ids(ids)))

    def touched(self) -> frozenset[str]:
        """Contacts whose flag may have changed and that not every contact task has read since."""
        self.refresh()
        return frozenset(self._touched)


def _id(value: Any) -> str | None:
    text = str(value).strip().lower() if value is not None else ""
    return text or None
