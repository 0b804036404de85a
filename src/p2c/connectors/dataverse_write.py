"""Writing Dataverse rows in bulk: ``*Multiple`` messages where they fit, ``$batch`` for everything else.

Plan for one chunk of writes (DATAVERSE.md §2.5, §2.9, §2.10), each request up to
:data:`~p2c.connectors.dataverse_rows.BATCH_LIMIT` rows:

1. Upserts by alternate key whose caller knows the row exists (it has a link: ``WriteOp.exists``)
   go as ``UpsertMultiple`` and are *updated*. Upserts without the hint, and those the caller
   never wrote while the table has not shown that such rows are new
   (:attr:`~p2c.connectors.dataverse_rows.TableInfo.new_rows_exist`), read the chunk's keys and
   upsert it in one ``$batch`` (:meth:`DataverseWriter.read_and_upsert`): the service runs its
   parts in order, so the GETs see the rows as they were before the write, and each result says
   created or updated (``UpsertMultiple`` itself answers 204 for both). Such a chunk is never
   refused for a key that exists (a user's row, or one written by a run stopped before it saved
   its links: a CRM holding the catalogue before the first sync), so the first chunks of a table
   go at once, side by side. Once a read found none of a chunk's new rows, the table's next chunks
   of new rows go as ``CreateMultiple`` and are *created*, without a read; if one is refused
   because a key exists after all, it goes again the folded way and the table reads first again.
2. ``UpsertMultiple`` carries ``@odata.type`` and ``@odata.id: <set>(<key>)`` per target;
   ``UpdateMultiple`` (updates by primary key, no ETag) the primary key and the changed fields.
   All-or-nothing: when the service refuses a request because of some row,
   :func:`~p2c.connectors.protocol.split_failed` halves it until the failing part is small, then
   sends those rows singly in one ``$batch`` — each bad row gets its own error, every good row is
   written.
3. Tables without the bulk messages, create-only (``If-None-Match: *``), update-only by alternate
   key or ETag and deletes go as single operations in a ``Prefer: odata.continue-on-error``
   ``$batch`` (:class:`~p2c.connectors.dataverse_rows.RowWriter`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from p2c.connectors.base import WriteAction, WriteOp, WriteResult, with_key
from p2c.connectors.dataverse_rows import JSON, RowWriter
from p2c.connectors.multipart import HttpPart
from p2c.connectors.protocol import Bisect, split_failed
from p2c.connectors.protocol_batch import find_by_keys
from p2c.connectors.protocol_content import same_content
from p2c.connectors.protocol_json import dumps, loads
from p2c.connectors.protocol_odata import key_filters
from p2c.errors import DuplicateRecordError, NotFoundError, P2CError, RecordError, TransientError

__all__ = ["DataverseWriter", "Message"]

# UpsertMultiple refused as such (not because of a row): the table lacks the message
_UNSUPPORTED_STATUSES = frozenset({404, 405, 501})
_UNSUPPORTED_CODES = frozenset({"0x80040800", "0x8004800d"})
_STATE_COLUMNS = ("statecode", "statuscode")


class Message(StrEnum):
    """The bulk messages, each one request of up to ``BATCH_LIMIT`` rows, all-or-nothing."""

    CREATE = "CreateMultiple"
    UPDATE = "UpdateMultiple"
    UPSERT = "UpsertMultiple"


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _norm_key(key: Mapping[str, Any], names: Sequence[str]) -> tuple[Any, ...]:
    return tuple(_norm(key.get(n)) for n in names)


class DataverseWriter(RowWriter):
    """Executes one table's :class:`WriteOp` chunks; the connector runs chunks on its worker pool."""

    # -- CreateMultiple, UpdateMultiple, UpsertMultiple -----------------------------------------

    def _found_columns(self, names: Sequence[str]) -> list[str]:
        """What an existence read selects: the primary key, the key, and the row's state (a
        consequence of the write that changes the state, a product's activation, is then sent only
        where it changes something: :attr:`WriteResult.found`)."""
        return [self.info.pk, *names, *(_STATE_COLUMNS if self.info.stateful else ())]

    def _found(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {k: row.get(k) for k in (self.info.pk, *_STATE_COLUMNS) if k in row}

    def existing(self, ops: Sequence[WriteOp]) -> dict[tuple[Any, ...], dict[str, Any]]:
        """Normalised key → the row (primary key and state) of the rows that exist already."""
        names = list(ops[0].key)
        try:
            rows = find_by_keys(
                self.session,
                self.info.set_name,
                [op.key for op in ops],
                select=self._found_columns(names),
            )
        except RecordError:  # a table without statecode refuses the $select: read without it
            if not self.info.stateful:
                raise
            self.info.stateful = False
            return self.existing(ops)
        return {_norm_key(row, names): self._found(row) for row in rows}

    def read_and_upsert(
        self, chunk: Sequence[WriteOp]
    ) -> tuple[dict[tuple[Any, ...], dict[str, Any]] | None, P2CError | None, bool] | None:
        """The existence read and the ``UpsertMultiple`` of ``chunk`` in one ``$batch`` request.

        Without ``continue-on-error`` the service stops at the first failed part, so the upsert
        runs only after every read was answered, and the reads see the rows as they were before
        it. Returns the rows that existed (normalised key → the row found; ``None`` when the answer
        cannot say: the batch was sent again after a lost answer, whose first attempt may have
        written them), the upsert's error and whether it was sent again; or ``None`` when the
        upsert did not run (a read failed, the batch was refused), to be done the unfolded way.
        """
        names = list(chunk[0].key)
        select = ",".join(self._found_columns(names))
        get_headers = {"Accept": JSON, "Prefer": "odata.maxpagesize=5000"}  # > the rows of one chunk
        items = [
            HttpPart.request(
                "GET", self.session.url(self.info.set_name, {"$select": select, "$filter": f}), get_headers
            )
            for f in key_filters([op.key for op in chunk], max_chars=6000, use_in=True)
        ]
        body = dumps({"Targets": [self._target_body(Message.UPSERT, op) for op in chunk]})
        path = f"{self.info.set_name}/Microsoft.Dynamics.CRM.{Message.UPSERT.value}"
        items.append(HttpPart.request("POST", self.session.url(path), {"Content-Type": JSON}, body))
        reply, parts = self.session.batch(items, entity=self.info.set_name)
        if len(parts) != len(items) or any((p.status or 0) >= 400 for p in parts[:-1]):
            return None
        upsert = parts[-1]
        known: dict[tuple[Any, ...], dict[str, Any]] | None = {}
        for part in parts[:-1]:
            answer = loads(part.body)
            if known is None or not isinstance(answer, dict) or answer.get("@odata.nextLink"):
                known = None  # a page cut short: what exists cannot be told
                continue
            known.update({_norm_key(row, names): self._found(row) for row in answer.get("value", [])})
        if reply.resent:
            known = None
        if (upsert.status or 0) < 400:
            self.info.bulk = True
            return known, None, reply.resent
        error = self.session.error(upsert, entity=self.info.set_name)
        if isinstance(error, TransientError):  # throttled inside the batch: not run, sent on its own
            again, _ids, resent = self._send_bulk(Message.UPSERT, chunk)
            return known, again, resent
        self._note_unsupported(upsert.status or 0, error)
        return known, error, reply.resent

    def multiple(
        self,
        message: Message,
        ops: Sequence[WriteOp],
        idx: list[int],
        known: dict[tuple[Any, ...], dict[str, Any]] | None = None,
        failed: P2CError | None = None,
    ) -> dict[int, WriteResult]:
        """Send ``ops[i] for i in idx`` as one ``message`` request (:meth:`_multiple`); a chunk
        planned as ``CreateMultiple`` goes as read + upsert once the table showed new rows exist."""
        if message is Message.CREATE and self.info.new_rows_exist is not False:
            return self._multiple(Message.UPSERT, ops, idx)
        return self._multiple(message, ops, idx, known, failed)

    def _multiple(
        self,
        message: Message,
        ops: Sequence[WriteOp],
        idx: list[int],
        known: dict[tuple[Any, ...], dict[str, Any]] | None = None,
        failed: P2CError | None = None,
    ) -> dict[int, WriteResult]:
        """Send ``ops[i] for i in idx`` as one ``message`` request; on a refused row, split and isolate.

        ``known`` (upserts): the rows that exist, read once for the whole chunk; ``failed`` says the
        chunk is already known to fail (its sibling half succeeded), so it is split without being
        sent again.
        """
        if self.info.bulk is False:
            return self.singles(ops, idx)
        folded = None
        if message is Message.UPSERT and known is None and self.distinguish_created and failed is None:
            hints = {ops[i].exists for i in idx}
            if None in hints or (False in hints and self.info.new_rows_exist is not False):
                folded = self.read_and_upsert([ops[i] for i in idx])
                if folded is None:  # the upsert did not run: read, then send it alone
                    known = self.existing([ops[i] for i in idx])
                else:
                    known = folded[0]
                news = [_norm_key(ops[i].key, list(ops[i].key)) for i in idx if ops[i].exists is False]
                if known is not None and news:  # whether rows new to the caller are new to the table
                    self.info.new_rows_exist = any(k in known for k in news)
        ids: list[Any] = []
        if folded is not None:
            error, resent = folded[1], folded[2]
            if error is None and known is None:  # written, but whether each row existed is unknown
                return {i: WriteResult(ops[i], True, WriteAction.UPSERTED, self._target(ops[i])) for i in idx}
        else:
            error, ids, resent = (
                (failed, [], False) if failed else self._send_bulk(message, [ops[i] for i in idx])
            )
        if error is None:
            pks = ids if len(ids) == len(idx) else [None] * len(idx)
            return {i: self._bulk_result(message, ops[i], known, pk) for i, pk in zip(idx, pks, strict=True)}
        if self.info.bulk is False:  # learnt just now: the table has no *Multiple messages
            return self.singles(ops, idx)
        if message is Message.CREATE and isinstance(error, DuplicateRecordError):
            mine = self._created_before(ops, idx) if resent else None
            if mine is not None:  # the first attempt, whose answer was lost, created them all
                return mine
            # some row exists already although the caller never wrote it (a user's, or one written
            # by a run stopped before it saved its links): upsert the chunk, reading which rows
            # exist so that each result still says created or updated; the next chunks read first
            self.info.new_rows_exist = True
            return self.multiple(Message.UPSERT, ops, idx)
        row_error = isinstance(error, RecordError) or (
            message is Message.UPDATE and isinstance(error, NotFoundError)
        )
        if not row_error or len(idx) == 1:
            return {i: WriteResult.failed(ops[i], self._keyed(error, ops[i])) for i in idx}
        plan = split_failed(idx, isolate_at=self.isolate_at)
        if not isinstance(plan, Bisect):
            return self.singles(ops, plan.items)
        first, second = plan.halves
        results = self.multiple(message, ops, first, known)
        # all-or-nothing: when the first half went through, the bad row is in the second
        first_ok = all(results[i].ok for i in first)
        results.update(self.multiple(message, ops, second, known, error if first_ok else None))
        return results

    def _target_body(self, message: Message, op: WriteOp) -> dict[str, Any]:
        target: dict[str, Any] = {"@odata.type": self.info.type_name}
        if message is Message.UPSERT:
            target["@odata.id"] = self._path(op.key, encode=False)
            target.update(self._body(op, with_key=True))
        elif message is Message.CREATE:
            target.update(self._body(op, with_key=True))
        else:  # UpdateMultiple: the primary key and the changed fields
            target.update(op.payload)
            target[self.info.pk] = str(op.key[self.info.pk])
        return target

    def _created_before(self, ops: Sequence[WriteOp], idx: list[int]) -> dict[int, WriteResult] | None:
        """A ``CreateMultiple`` sent again after its answer was lost, refused "already exists": the
        results of the first attempt when every row is there with the content sent (all-or-nothing:
        it created them all), else ``None``."""
        names = list(ops[idx[0]].key)
        rows = find_by_keys(self.session, self.info.set_name, [ops[i].key for i in idx], select=[])
        by_key = {_norm_key(row, names): row for row in rows}
        out: dict[int, WriteResult] = {}
        for i in idx:
            row = by_key.get(_norm_key(ops[i].key, names))
            if row is None or not same_content(self._body(ops[i], with_key=False), row):
                return None
            out[i] = WriteResult(
                ops[i], True, WriteAction.CREATED, self._target(ops[i], row.get(self.info.pk))
            )
        return out

    def _send_bulk(
        self, message: Message, chunk: Sequence[WriteOp]
    ) -> tuple[P2CError | None, list[Any], bool]:
        """The error of a refused request, or ``None`` and the ids ``CreateMultiple`` answered; and
        whether the request was sent again after a lost answer."""
        path = f"{self.info.set_name}/Microsoft.Dynamics.CRM.{message.value}"
        body = dumps({"Targets": [self._target_body(message, op) for op in chunk]})
        reply = self.session.send(
            "POST", path, headers={"Content-Type": JSON}, body=body, entity=self.info.set_name
        )
        response = reply.response
        if response.status_code < 400:
            self.info.bulk = True
            answer = loads(response.content) if message is Message.CREATE and response.content else {}
            ids = answer.get("Ids") if isinstance(answer, dict) else None
            return None, list(ids) if isinstance(ids, list) else [], reply.resent
        error = self.session.error(response, entity=self.info.set_name)
        self._note_unsupported(response.status_code, error)
        return error, [], reply.resent

    def _note_unsupported(self, status: int, error: P2CError) -> None:
        """A bulk message refused as such (not because of a row): the table lacks the messages."""
        if self.info.bulk is not True and (
            status in _UNSUPPORTED_STATUSES or (error.code or "").lower() in _UNSUPPORTED_CODES
        ):
            self.mark_unsupported(self.info)

    def _bulk_result(
        self, message: Message, op: WriteOp, known: dict[tuple[Any, ...], dict[str, Any]] | None, pk: Any
    ) -> WriteResult:
        if message is Message.CREATE:
            return WriteResult(op, True, WriteAction.CREATED, self._target(op, pk))
        if message is Message.UPDATE:
            return WriteResult(op, True, WriteAction.UPDATED, self._target(op))
        if known is not None:
            nk = _norm_key(op.key, list(op.key))
            if nk in known:
                row = known[nk]
                return WriteResult(
                    op, True, WriteAction.UPDATED, self._target(op, row.get(self.info.pk)), found=row
                )
            return WriteResult(op, True, WriteAction.CREATED, self._target(op))
        if op.exists is not None and self.distinguish_created:  # the caller wrote it before, or never did
            action = WriteAction.UPDATED if op.exists else WriteAction.CREATED
            return WriteResult(op, True, action, self._target(op))
        return WriteResult(op, True, WriteAction.UPSERTED, self._target(op))

    def _keyed(self, error: P2CError, op: WriteOp) -> P2CError:
        """The error of a whole request, as the error of one of its records."""
        return with_key(error, op.key)
