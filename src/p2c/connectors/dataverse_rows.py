"""Writing Dataverse rows one operation each, many operations per ``$batch`` (DATAVERSE.md §2.9).

The base of :class:`~p2c.connectors.dataverse_write.DataverseWriter`: a table's names
(:class:`TableInfo`), how one row is addressed and what its body is, and the single operations for
what the bulk messages cannot carry — tables without them, create-only (``If-None-Match: *``),
update-only by alternate key or ETag, deletes. They go in a ``Prefer: odata.continue-on-error``
``$batch`` (no change sets: one bad row rolls back nothing); each PATCH that may create asks
``Prefer: return=representation`` so 201/200 tell created from updated and the body gives the id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from p2c.connectors.base import OpKind as K
from p2c.connectors.base import WriteAction, WriteOp, WriteResult
from p2c.connectors.dataverse_target import fold_key
from p2c.connectors.multipart import HttpPart
from p2c.connectors.protocol_batch import batch_ops, find_by_keys
from p2c.connectors.protocol_content import same_content
from p2c.connectors.protocol_json import dumps, loads
from p2c.connectors.protocol_odata import entity_path
from p2c.connectors.protocol_session import HttpSession
from p2c.errors import DuplicateRecordError, RecordError, TransientError

__all__ = ["BATCH_LIMIT", "JSON", "RowWriter", "TableInfo"]

JSON = "application/json"
BATCH_LIMIT = 1000  # DATAVERSE.md §2.9


@dataclass
class TableInfo:
    """A table's names, from ``EntityDefinitions``; ``bulk`` = the ``*Multiple`` messages supported (None: unknown)."""

    logical_name: str
    set_name: str
    pk: str
    bulk: bool | None = None
    #: rows the caller never wrote were found in the table already (a CRM holding the records
    #: before the first sync): ``None`` until a read of a chunk's keys or a ``CreateMultiple``
    #: told; while not ``False``, chunks of such rows read their keys and upsert in one ``$batch``
    #: rather than risk a ``CreateMultiple`` refused chunk after chunk
    new_rows_exist: bool | None = None
    #: the table has ``statecode``/``statuscode``, read with the rows found (False once refused)
    stateful: bool = True

    @property
    def type_name(self) -> str:
        return f"Microsoft.Dynamics.CRM.{self.logical_name}"


class RowWriter:
    """One table's rows as single operations in ``$batch`` requests; the bulk messages are added by
    :class:`~p2c.connectors.dataverse_write.DataverseWriter`, which falls back on these."""

    def __init__(
        self,
        session: HttpSession,
        info: TableInfo,
        *,
        isolate_at: int,
        distinguish_created: bool,
        mark_unsupported: Callable[[TableInfo], None],
    ) -> None:
        self.session = session
        self.info = info
        self.isolate_at = isolate_at
        self.distinguish_created = distinguish_created
        self.mark_unsupported = mark_unsupported

    # -- keys and URLs --------------------------------------------------------------------------

    def _path(self, key: Mapping[str, Any], encode: bool = True) -> str:
        if len(key) == 1 and self.info.pk in key:
            return entity_path(self.info.set_name, uuid.UUID(str(key[self.info.pk])))
        return entity_path(self.info.set_name, key, encode=encode)

    def _target(self, op: WriteOp, pk: Any = None) -> dict[str, Any]:
        out = dict(op.key)
        if pk:
            out[self.info.pk] = str(pk)
        return out

    def _body(self, op: WriteOp, with_key: bool) -> dict[str, Any]:
        if with_key:
            return {**op.key, **op.payload} if self.info.pk not in op.key else dict(op.payload)
        return {k: v for k, v in op.payload.items() if k not in op.key}

    # -- single operations in one $batch ---------------------------------------------------------

    def _part(self, op: WriteOp, content_id: str) -> HttpPart:
        headers: dict[str, str] = {}
        select = {"$select": self.info.pk}
        if op.kind is K.DELETE:
            if op.etag:
                headers["If-Match"] = op.etag
            return HttpPart.request(
                "DELETE", self.session.url(self._path(op.key)), headers, content_id=content_id
            )
        headers["Content-Type"] = JSON
        if op.kind is K.UPDATE and self.info.pk in op.key:
            # update-only by primary key: the answer can only be "updated" and the id is known, so
            # the row is not asked back (the order task's line write-backs: 50 000 at large:20000)
            headers["If-Match"] = op.etag or "*"
            url = self.session.url(self._path(op.key))
            return HttpPart.request("PATCH", url, headers, dumps(self._body(op, with_key=False)), content_id)
        headers["Prefer"] = "return=representation"
        if op.kind is K.CREATE and not op.key:
            url = self.session.url(self.info.set_name, select)
            return HttpPart.request("POST", url, headers, dumps(op.payload), content_id)
        if op.kind is K.CREATE:
            headers["If-None-Match"] = "*"
        elif op.kind is K.UPDATE:
            headers["If-Match"] = op.etag or "*"
        elif op.etag:
            headers["If-Match"] = op.etag
        url = self.session.url(self._path(op.key), select)
        return HttpPart.request("PATCH", url, headers, dumps(self._body(op, with_key=False)), content_id)

    def singles(self, ops: Sequence[WriteOp], idx: list[int]) -> dict[int, WriteResult]:
        """Each op as its own request inside continue-on-error ``$batch`` requests (≤ 1000 each)."""
        results: dict[int, WriteResult] = {}
        for start in range(0, len(idx), BATCH_LIMIT):
            results.update(self._singles(ops, idx[start : start + BATCH_LIMIT]))
        return results

    def _singles(self, ops: Sequence[WriteOp], idx: list[int]) -> dict[int, WriteResult]:
        lost: set[int] = set()
        results = batch_ops(
            self.session,
            ops,
            idx,
            lambda i, content_id: self._part(ops[i], content_id),
            lambda i, part: self._part_result(ops[i], part),
            headers={"Prefer": "odata.continue-on-error"},
            entity=self.info.set_name,
            lost=lost,
        )
        # a create refused "already exists" after its first answer was lost: most likely our own
        # first attempt; on a first attempt the same answer is a real duplicate and stays failed
        mine = [
            i
            for i in idx
            if i in lost
            and ops[i].kind is K.CREATE
            and not results[i].ok
            and isinstance(results[i].error, DuplicateRecordError)
        ]
        if mine:
            results.update(self.resolve_created(ops, mine))
        return results

    def resolve_created(self, ops: Sequence[WriteOp], idx: list[int]) -> dict[int, WriteResult]:
        """Creates answered "already exists": read each record by its key (``op.key``, or
        ``op.match`` for a POST); the same content is the create done (CREATED), different content
        is updated as an upsert would (UPDATED). A record not found keeps its failure."""
        groups: dict[tuple[str, ...], list[int]] = {}
        for i in idx:
            match = ops[i].key or ops[i].match
            if match:
                groups.setdefault(tuple(match), []).append(i)
        found: dict[int, dict[str, Any]] = {}
        for names, members in groups.items():
            matches = [ops[i].key or ops[i].match or {} for i in members]
            # every column: the payload's lookups are compared through their _x_value columns
            rows = find_by_keys(self.session, self.info.set_name, matches, select=[])
            by_key = {tuple(fold_key(row.get(n)) for n in names): row for row in rows}
            for i, match in zip(members, matches, strict=True):
                row = by_key.get(tuple(fold_key(match[n]) for n in names))
                if row is not None:
                    found[i] = row
        results: dict[int, WriteResult] = {}
        updates: list[WriteOp] = []
        updated: list[int] = []
        for i, row in found.items():
            op, pk = ops[i], row.get(self.info.pk)
            if same_content(self._body(op, with_key=False), row):
                results[i] = WriteResult(op, True, WriteAction.CREATED, self._target(op, pk))
            else:
                match = op.key or op.match or {}
                payload = {k: v for k, v in op.payload.items() if k not in match}
                updates.append(WriteOp(K.UPDATE, {self.info.pk: pk}, payload, ref=op.ref))
                updated.append(i)
        if updates:
            sent = self._singles(updates, list(range(len(updates))))
            for n, i in enumerate(updated):
                done = sent[n]
                pk = updates[n].key[self.info.pk]
                results[i] = (
                    WriteResult(ops[i], True, WriteAction.UPDATED, self._target(ops[i], pk))
                    if done.ok
                    else WriteResult.failed(ops[i], done.error or RecordError("not updated"))
                )
        return results

    def _part_result(self, op: WriteOp, part: HttpPart) -> WriteResult | None:
        """The result of one part, or ``None`` when it is worth sending again (429, 5xx)."""
        status = part.status or 0
        if status < 400:
            if op.kind is K.DELETE:
                return WriteResult(op, True, WriteAction.DELETED, self._target(op))
            body = loads(part.body) if part.body.strip() else {}
            pk = body.get(self.info.pk) if isinstance(body, dict) else None
            if status == 201 or (op.kind is K.CREATE and status == 204):
                action = WriteAction.CREATED
            elif status == 200 or op.kind is K.UPDATE:
                action = WriteAction.UPDATED
            else:  # 204 to an upsert: the service ignored return=representation and did not say
                action = WriteAction.UPSERTED
            return WriteResult(op, True, action, self._target(op, pk))
        if op.kind is K.DELETE and status == 404:
            return WriteResult(op, True, WriteAction.UNCHANGED, self._target(op))
        error = self.session.error(part, entity=self.info.set_name, key=op.key)
        if isinstance(error, TransientError):
            return None
        return WriteResult.failed(op, error)
