"""Writing F&O data entities: read-by-key in bulk, then POST or PATCH in ``$batch`` change sets.

F&O has no upsert (FNO.md §1.6). For one batch of ops:

1. an upsert whose caller knows whether the row exists (``WriteOp.exists``: p2c linked the record
   when it wrote it) is sent as it says — PATCH a linked row, POST one never written — without a
   read; the keys of the other upserts are looked up in one query (or one ``$batch`` of queries,
   each a ``$filter`` of ``or``-ed key equalities), ``cross-company=true``. Once an entity refused
   a POST of a row p2c never wrote (a user's customer, one a killed run wrote before it saved its
   links), its writer reads those rows first too, until a read finds none of them there;
2. each op becomes its own change set in one ``$batch``: POST (new), PATCH (existing), DELETE.
   One op per change set, so one refused record cannot roll back the others; F&O answers a
   failed change set with a single 500 part whose Infolog text is the record's error;
3. a create sent again after its answer was lost and refused "The record already exists" is read
   back: the content sent means our first attempt went through (CREATED), other content is PATCHed
   (UPDATED). On a first attempt that answer is a real duplicate and stays a failure — except for
   an upsert, whose refused POST is looked up again and PATCHed when the row exists by now; a
   linked row's PATCH answered 404 (someone deleted it in the ERP) is POSTed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from p2c.connectors.base import OpKind, WriteAction, WriteOp, WriteResult
from p2c.connectors.multipart import ChangeSet, HttpPart
from p2c.connectors.protocol_batch import batch_ops, find_by_keys
from p2c.connectors.protocol_content import same_content
from p2c.connectors.protocol_json import dumps
from p2c.connectors.protocol_odata import COMPANY, entity_path, literal, query_string
from p2c.connectors.protocol_session import HttpSession
from p2c.errors import DuplicateRecordError, NotFoundError, RecordError, TransientError

__all__ = ["FnoWriter", "norm_key"]

CROSS = {"cross-company": "true"}
_CROSS_QUERY = "?" + query_string(CROSS)  # every part's URL ends so
_HEADERS = {"Content-Type": "application/json", "OData-Version": "4.0", "Accept": "application/json"}


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if value is None or isinstance(value, int | bool):
        return value
    return literal(value).casefold()


def norm_key(key: Mapping[str, Any], names: Sequence[str]) -> tuple[Any, ...]:
    """A key as F&O compares it: strings case-insensitively, dates by their literal."""
    return tuple(_norm(key.get(n)) for n in names)


class FnoWriter:
    """Writes one entity set's ops; one instance per batch of :meth:`FnoConnector.write`.

    ``read_first``: the entities (shared by the connector's writers) whose rows p2c never wrote
    were found there already, so such rows are looked up before they are written (step 1)."""

    def __init__(self, session: HttpSession, entity: str, read_first: set[str] | None = None) -> None:
        self.session = session
        self.entity = entity
        self.read_first = read_first if read_first is not None else set()
        # op index -> "create" | "update", decided from the caller's hint or the existence read
        self.plan: dict[int, OpKind] = {}

    def existing(self, ops: Sequence[WriteOp]) -> set[tuple[Any, ...]]:
        if not ops:
            return set()
        names = list(ops[0].key)
        rows = find_by_keys(
            self.session, self.entity, [op.key for op in ops], select=names, params=CROSS, company_first=True
        )
        return {norm_key(row, names) for row in rows}

    def write(self, ops: Sequence[WriteOp], idx: list[int]) -> dict[int, WriteResult]:
        upserts = [i for i in idx if ops[i].kind is OpKind.UPSERT]
        careful = self.entity in self.read_first
        looked = [i for i in upserts if ops[i].exists is None or (ops[i].exists is False and careful)]
        found = self._existing_by_names(ops, looked)
        news = [i for i in looked if ops[i].exists is False]
        if news and not any(norm_key(ops[i].key, list(ops[i].key)) in found for i in news):
            self.read_first.discard(self.entity)  # rows p2c never wrote are new again
        asked = set(looked)
        for i in idx:
            op = ops[i]
            if op.kind is OpKind.UPSERT:
                exists = norm_key(op.key, list(op.key)) in found if i in asked else op.exists
                self.plan[i] = OpKind.UPDATE if exists else OpKind.CREATE
            else:
                self.plan[i] = op.kind
        lost: set[int] = set()
        results = self._send(ops, idx, lost)
        # a linked row deleted in the ERP behind p2c's back: the upsert creates it again
        gone = [
            i
            for i in upserts
            if i not in asked
            and self.plan[i] is OpKind.UPDATE
            and not results[i].ok
            and isinstance(results[i].error, NotFoundError)
        ]
        for i in gone:
            self.plan[i] = OpKind.CREATE
        if gone:
            results.update(self._send(ops, gone))
        # a create refused "already exists" after its first answer was lost: most likely our own
        # first attempt; on a first attempt the same answer is a real duplicate (unless an upsert)
        mine = [
            i
            for i in idx
            if i in lost
            and self.plan[i] is OpKind.CREATE
            and not results[i].ok
            and isinstance(results[i].error, DuplicateRecordError)
        ]
        if mine:
            results.update(self._resolve_created(ops, mine))
        # an upsert refused on create: maybe the row exists by now, then it is an update
        refused = [
            i
            for i in upserts
            if self.plan[i] is OpKind.CREATE
            and not results[i].ok
            and isinstance(results[i].error, RecordError)
        ]
        if refused:
            now = self._existing_by_names(ops, refused)
            again = [i for i in refused if norm_key(ops[i].key, list(ops[i].key)) in now]
            if any(i not in asked for i in again):  # a row p2c never wrote was there: read first
                self.read_first.add(self.entity)
            for i in again:
                self.plan[i] = OpKind.UPDATE
            if again:
                results.update(self._send(ops, again))
        return results

    def _resolve_created(self, ops: Sequence[WriteOp], idx: list[int]) -> dict[int, WriteResult]:
        """Read each record back by its key: the content sent is the create done (CREATED);
        different content is PATCHed as an upsert would be (UPDATED). Not found: still failed."""
        groups: dict[tuple[str, ...], list[int]] = {}
        for i in idx:
            groups.setdefault(tuple(ops[i].key), []).append(i)
        results: dict[int, WriteResult] = {}
        again: list[int] = []
        for names, members in groups.items():
            fields = sorted({*names, *(f for i in members for f in ops[i].payload)})
            rows = find_by_keys(
                self.session,
                self.entity,
                [ops[i].key for i in members],
                select=fields,
                params=CROSS,
                company_first=True,
            )
            by_key = {norm_key(row, names): row for row in rows}
            for i in members:
                row = by_key.get(norm_key(ops[i].key, names))
                if row is None:
                    continue
                if same_content(ops[i].payload, row):
                    results[i] = WriteResult(ops[i], True, WriteAction.CREATED, self._target(ops[i]))
                else:
                    self.plan[i] = OpKind.UPDATE
                    again.append(i)
        if again:
            results.update(self._send(ops, again))
        return results

    def _existing_by_names(self, ops: Sequence[WriteOp], idx: list[int]) -> set[tuple[Any, ...]]:
        groups: dict[tuple[str, ...], list[WriteOp]] = {}
        for i in idx:
            groups.setdefault(tuple(ops[i].key), []).append(ops[i])
        found: set[tuple[Any, ...]] = set()
        for group in groups.values():
            found |= self.existing(group)
        return found

    def _send(
        self, ops: Sequence[WriteOp], idx: list[int], lost: set[int] | None = None
    ) -> dict[int, WriteResult]:
        def item(i: int, content_id: str) -> ChangeSet:
            return ChangeSet([self._part(ops[i], self.plan[i], content_id)])

        def read(i: int, part: HttpPart) -> WriteResult | None:
            return self._result(ops[i], self.plan[i], part)

        return batch_ops(self.session, ops, idx, item, read, entity=self.entity, lost=lost)

    def _part(self, op: WriteOp, kind: OpKind, content_id: str) -> HttpPart:
        headers = dict(_HEADERS)
        if kind is OpKind.CREATE:
            # the 201 answer repeats the whole entity (~300 fields); ask for none where honoured
            headers["Prefer"] = "return=minimal"
            body = {**op.payload, **op.key}
            url = self.session.url(self.entity) + _CROSS_QUERY
            return HttpPart.request("POST", url, headers, dumps(body), content_id)
        url = self.session.url(entity_path(self.entity, op.key, company_first=True)) + _CROSS_QUERY
        if op.etag:
            headers["If-Match"] = op.etag
        if kind is OpKind.DELETE:
            headers.pop("Content-Type")
            return HttpPart.request("DELETE", url, headers, b"", content_id)
        body = {k: v for k, v in op.payload.items() if k not in op.key and k not in op.create_only}
        return HttpPart.request("PATCH", url, headers, dumps(body), content_id)

    @staticmethod
    def _target(op: WriteOp) -> dict[str, Any]:
        if isinstance(op.key.get(COMPANY), str):
            return {**op.key, COMPANY: op.key[COMPANY].lower()}
        return dict(op.key)

    def _result(self, op: WriteOp, kind: OpKind, part: HttpPart) -> WriteResult | None:
        status = part.status or 0
        target = self._target(op)
        if status < 400:
            action = {
                OpKind.CREATE: WriteAction.CREATED,
                OpKind.UPDATE: WriteAction.UPDATED,
                OpKind.DELETE: WriteAction.DELETED,
            }[kind]
            return WriteResult(op, True, action, dict(target))
        if kind is OpKind.DELETE and status == 404:
            return WriteResult(op, True, WriteAction.UNCHANGED, dict(target))
        error = self.session.error(part, entity=self.entity, key=op.key)
        if isinstance(error, TransientError):
            return None
        return WriteResult.failed(op, error)
