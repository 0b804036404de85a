"""The customers of CRM documents, kept from their change feeds: a mixin of :class:`p2c.store.StateStore`.

"Is active customer" (a contact is the customer of a quote, an order or an invoice) used to cost
a read of every document's customer on every run. The store keeps instead:

- ``customer_documents``: each document's customer (entity, document id → customer id), with the
  change-tracking cursor of each document table in ``cursors`` under ``#customers:<entity>``;
- ``customers_touched``: the customers whose documents came, went or changed customer, so each
  contact task reads those contacts again.

:meth:`CustomerDocuments.apply_customer_changes` writes the documents, the touched customers and
the cursors in one transaction: after a crash both are as before or both as after, so no change
of customer is ever lost between them. A touched customer is forgotten once every contact task
has completed a run (succeeded or partial) that finished after the touch
(:meth:`CustomerDocuments.settle_touched`).

Example::

    >>> from p2c.store import StateStore
    >>> store = StateStore("sqlite://")
    >>> store.apply_customer_changes({"salesorders": ({"o1": "c1"}, [], False, "d1")}, {"c1"})
    >>> store.customers_among(["C1", "c2"]), store.touched_customers(), store.cursor("#customers:salesorders")
    ({'c1'}, {'c1'}, 'd1')
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from p2c.store import history
from p2c.store.batch import upsert
from p2c.store.model import RunStatus
from p2c.store.schema import cursors, customer_documents, customers_touched, task_runs

__all__ = ["CURSOR_PREFIX", "CustomerDocuments"]

CURSOR_PREFIX = "#customers:"  # + entity: the change-tracking cursor of a document table

#: entity → (document id → customer id changed or added, document ids deleted, whether the rows
#: are the whole table (the others are gone), the table's new cursor)
Changes = Mapping[str, tuple[Mapping[str, str], Sequence[str], bool, str | None]]


def _now() -> datetime:
    from p2c.store.store import now

    return now()


class CustomerDocuments:
    _chunk: int
    _sqlite: bool

    def _write(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:  # pragma: no cover - StateStore's
        raise NotImplementedError

    def document_customers(self, entity: str, ids: Iterable[str] | None = None) -> dict[str, str]:
        """document id → customer id for ``ids`` (every document of ``entity`` when None)."""
        dc = customer_documents.c
        base = select(dc.document_id, dc.customer_id).where(dc.entity == entity)
        with self._read() as conn:
            if ids is None:
                return {str(d): str(c) for d, c in conn.execute(base).all()}
            out: dict[str, str] = {}
            for part in history.chunks(sorted(set(ids)), self._chunk):
                q = base.where(history.among(dc.document_id, part, self._sqlite))
                out.update({str(d): str(c) for d, c in conn.execute(q).all()})
            return out

    def customers_among(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` (any case; answered lowercase) are the customer of some document."""
        wanted = sorted({str(i).strip().lower() for i in ids if i})
        dc = customer_documents.c
        found: set[str] = set()
        with self._read() as conn:
            for part in history.chunks(wanted, self._chunk):
                q = select(dc.customer_id).where(history.among(dc.customer_id, part, self._sqlite)).distinct()
                found.update(str(c) for (c,) in conn.execute(q).all())
        return found

    def touched_customers(self) -> set[str]:
        with self._read() as conn:
            return {str(c) for (c,) in conn.execute(select(customers_touched.c.customer_id))}

    def apply_customer_changes(self, changes: Changes, touched: Collection[str]) -> None:
        """Store each table's changes and cursor, and ``touched``, in one transaction."""
        at = _now()
        dc = customer_documents.c
        with self._write() as conn:
            for entity, (upserts, deleted, whole, cursor) in changes.items():
                if whole:
                    conn.execute(delete(customer_documents).where(dc.entity == entity))
                for part in history.chunks(sorted(deleted), self._chunk):
                    conn.execute(
                        delete(customer_documents).where(
                            dc.entity == entity, history.among(dc.document_id, part, self._sqlite)
                        )
                    )
                rows = [{"entity": entity, "document_id": d, "customer_id": c} for d, c in upserts.items()]
                for i in range(0, len(rows), 5000):
                    upsert(conn, customer_documents, ["entity", "document_id"], rows[i : i + 5000])
                if cursor is not None:
                    row = {"task": CURSOR_PREFIX + entity, "value": cursor, "updated_at": at}
                    upsert(conn, cursors, ["task"], [row])
            marks = [{"customer_id": c, "touched_at": at} for c in sorted(touched)]
            for i in range(0, len(marks), 5000):
                upsert(conn, customers_touched, ["customer_id"], marks[i : i + 5000])

    def settle_touched(self, tasks: Collection[str]) -> int:
        """Forget the touched customers every task of ``tasks`` has since completed a run over;
        how many were forgotten. A task that never completed keeps them all."""
        if not tasks:
            return 0
        tc = task_runs.c
        done = (RunStatus.SUCCEEDED.value, RunStatus.PARTIAL.value)
        with self._write() as conn:
            q = (
                select(tc.task, func.max(tc.finished_at))
                .where(tc.task.in_(list(tasks)), tc.status.in_(done))
                .group_by(tc.task)
            )
            last = {str(t): f for t, f in conn.execute(q).all() if f is not None}
            if set(last) != set(tasks):
                return 0
            oldest = min(last.values())
            res = conn.execute(delete(customers_touched).where(customers_touched.c.touched_at < oldest))
            return int(res.rowcount or 0)
