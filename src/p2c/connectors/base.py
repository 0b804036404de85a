"""What every connector shares: the write and read types and the :class:`Connector` contract.

A connector knows entity sets and HTTP, nothing of templates. Writes go in as :class:`WriteOp`
and come back as one :class:`WriteResult` per op, in order; failures are a
:class:`~p2c.errors.P2CError` in the result (transient ones — throttling that outlasted the retry
budget — are :class:`~p2c.errors.TransientError`, so the engine retries them later), except an
:class:`~p2c.errors.AuthError`, which is raised: nothing can be written without credentials.
Reads yield pages of rows; numbers arrive as ``Decimal``.

Example::

    >>> op = WriteOp(OpKind.UPSERT, {"accountnumber": "A1"}, {"name": "Contoso"})
    >>> WriteResult(op, True, WriteAction.CREATED, {"accountnumber": "A1"}).action == "created"
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from p2c.connectors.protocol_errors import field_named
from p2c.errors import P2CError, ParentMissingError, ServiceUnreachableError, TransientError

__all__ = [
    "ChangeFeed",
    "Changes",
    "Connector",
    "OpKind",
    "ValuesQuery",
    "WriteAction",
    "WriteOp",
    "WriteResult",
    "key_text",
    "with_field",
    "with_key",
]


class OpKind(StrEnum):
    UPSERT = "upsert"  # create or update by key
    CREATE = "create"  # create only: refused if the key exists
    UPDATE = "update"  # update only: refused if the key does not exist (ETag: optimistic)
    DELETE = "delete"


class WriteAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    UPSERTED = "upserted"  # written, and the service did not say whether it was new
    UNCHANGED = "unchanged"  # nothing to do (e.g. deleting a row that is already gone)
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One record to write. ``key`` is the natural key (field → value); ``ref`` is the caller's own.

    ``match`` is for a create sent without an addressable key (a Dataverse POST whose key fields
    are in the payload: an order number, an order line's order + sequence number): the columns and
    values that find the record again when the answer to the create was lost.
    """

    kind: OpKind
    key: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)
    etag: str | None = None
    ref: Any = None
    match: dict[str, Any] | None = None
    #: payload fields sent when the record is created only (an update leaves them out)
    create_only: frozenset[str] = frozenset()
    #: whether the target row exists already, as the caller knows it (it wrote the record before:
    #: it has a link); ``None``: unknown. A Dataverse writer then need not read it to tell
    #: created from updated, and sends rows not there yet with ``CreateMultiple``
    exists: bool | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of one :class:`WriteOp`. ``target_key`` identifies the written row."""

    op: WriteOp
    ok: bool
    action: WriteAction
    target_key: dict[str, Any] | None = None
    error: P2CError | None = None
    #: the row as the writer found it before writing (read to tell created from updated): its
    #: primary key and, where the service has them, ``statecode``/``statuscode``; None: not read
    found: Mapping[str, Any] | None = None

    @classmethod
    def failed(cls, op: WriteOp, error: P2CError) -> WriteResult:
        """A failed write; a refusal that names one of the op's fields gets that ``field``."""
        return cls(op, False, WriteAction.FAILED, None, with_field(error, op.payload))


@dataclass(frozen=True, slots=True)
class Changes:
    """One page of changes: rows (new or changed), deleted primary keys, and — on the last page — the cursor."""

    rows: list[dict[str, Any]]
    deleted: list[str] = field(default_factory=list)
    cursor: str | None = None


class ChangeFeed:
    """The pages of one incremental read; the new cursor is known once every page was read.

    ``full`` is True when the rows are the whole table (a first read, a resync after the service
    refused the old cursor, or a service without change tracking): rows absent from a full feed
    were deleted at the source, and ``deleted`` is empty. ``resync`` says the old cursor was refused.

    Example::

        feed = crm.changes("accounts", select=["name"], cursor=saved)
        for page in feed:
            handle(page.rows, page.deleted)
        save(feed.cursor)
    """

    def __init__(self, pages: Iterator[Changes], *, full: bool, resync: bool = False) -> None:
        self._pages = pages
        self.full = full
        self.resync = resync
        self.cursor: str | None = None
        self.exhausted = False

    def __iter__(self) -> Iterator[Changes]:
        for page in self._pages:
            if page.cursor is not None:
                self.cursor = page.cursor
            yield page
        self.exhausted = True


@dataclass(frozen=True)
class ValuesQuery:
    """One :meth:`Connector.read_by_values` of several asked together (a chunk's lookups)."""

    entity: str
    field: str
    values: Sequence[Any]
    select: Sequence[str]
    filter: str | None = None


@runtime_checkable
class Connector(Protocol):
    """The contract of DESIGN.md: one per system, on an injected ``httpx.Client``."""

    #: rows per page of a read (the service may give fewer, never more)
    page_size: int
    #: records per write request (a ``$batch``, an UpsertMultiple): what :meth:`write` sends at once
    batch_size: int

    def read(
        self,
        entity: str,
        *,
        select: Sequence[str] | None = None,
        filter: str | None = None,
        page_size: int | None = None,
        orderby: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]: ...

    def changes(
        self, entity: str, *, select: Sequence[str] | None = None, cursor: str | None = None
    ) -> ChangeFeed: ...

    def read_by_values(
        self,
        entity: str,
        field: str,
        values: Iterable[Any],
        *,
        select: Sequence[str],
        filter: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of the rows whose ``field`` is one of ``values`` (and that match ``filter``), in as
        few requests as the service allows: existence reads, lookups, parents. Empty values are
        never asked for; an empty ``values`` reads nothing."""
        ...

    def read_by_values_many(self, queries: Sequence[ValuesQuery]) -> list[list[dict[str, Any]]]:
        """The rows of several :meth:`read_by_values`, a list per query, in as few requests as the
        service allows (Dataverse: their first pages in one ``$batch``)."""
        ...

    def read_tables(
        self, tables: Sequence[tuple[str, Sequence[str]]], *, limit: int
    ) -> list[list[dict[str, Any]] | None]:
        """Small tables, each ``(entity, columns)`` read whole, a list of rows per table, in as few
        requests as the service allows (Dataverse: one ``$batch``); a table of more than ``limit``
        rows, or one the service would not give, is None."""
        ...

    def write(self, entity: str, ops: Sequence[WriteOp]) -> list[WriteResult]: ...

    def prepare_writes(self, entity: str) -> None:
        """Learn now what writing to ``entity`` needs (a table's definition), so that the first
        :meth:`write` does not wait for it."""
        ...

    def plan_writes(self, table: Any, items: Sequence[Any]) -> list[Any]:
        """The :class:`WriteOp` (or ``Refusal``) for each ``TargetItem`` of ``table``, in order."""
        ...

    def plan_deletes(self, table: Any, targets: Sequence[tuple[Any, Mapping[str, Any]]]) -> list[Any]:
        """The delete (or ``Refusal``) for each ``(ref, target key)``."""
        ...

    def get(
        self, entity: str, key: Mapping[str, Any], *, select: Sequence[str] | None = None
    ) -> dict[str, Any] | None: ...

    @property
    def stats(self) -> dict[str, int]: ...

    def reachable(self) -> None: ...

    def close(self) -> None: ...


def key_text(key: Mapping[str, Any] | None) -> str | None:
    """A key for messages: ``'A1'`` for one field, ``'dataAreaId=usmf,CustomerAccount=A1'`` for more."""
    if not key:
        return None
    if len(key) == 1:
        return str(next(iter(key.values())))
    return ",".join(f"{k}={v}" for k, v in key.items())


def _copy(error: P2CError, **changes: Any) -> P2CError:
    kwargs: dict[str, Any] = {
        "entity": error.entity,
        "key": error.key,
        "field": error.field,
        "status": error.status,
        "code": error.code,
        "detail": error.detail,
        **changes,
    }
    if isinstance(error, TransientError):
        kwargs["retry_after"] = error.retry_after
    if isinstance(error, ParentMissingError):
        kwargs["value"] = error.value
    if isinstance(error, ServiceUnreachableError):
        kwargs.update(service=error.service, since=error.since)
    return type(error)(error.reason, **kwargs)


def with_key(error: P2CError, key: Mapping[str, Any] | None) -> P2CError:
    """The same error naming the record ``key`` (the error of a whole request, given to each of its records)."""
    if error.key is not None or not key:
        return error
    return _copy(error, key=key_text(key))


def with_field(error: P2CError, payload: Mapping[str, Any]) -> P2CError:
    """The same error naming the payload field the service's message points at (the history shows it)."""
    if error.field is not None or isinstance(error, TransientError) or not payload:
        return error
    name = field_named(error.reason, payload)
    return error if name is None else _copy(error, field=name)
