"""The Dataverse (Dynamics 365 Sales) connector: Web API v9.2 over an injected ``httpx.Client``.

* Reads page with ``Prefer: odata.maxpagesize`` and follow ``@odata.nextLink`` verbatim.
* :meth:`~DataverseConnector.changes` uses change tracking (a delta link as the cursor):
  :class:`~.dataverse_changes.DataverseChanges`.
* Writes: see :mod:`.dataverse_write` (``UpsertMultiple`` by alternate key, split on failure,
  ``$batch`` otherwise), run on ``concurrency`` worker threads; a 429 pauses every worker.
* Metadata for setup/doctor: :class:`~.dataverse_meta.DataverseMetadata`.

Entities are named by entity set (``accounts``); the logical name, primary key and whether the
table has ``UpsertMultiple`` are read once from ``EntityDefinitions``/``sdkmessagefilters``.

Example::

    crm = DataverseConnector.from_settings(
        url="https://contoso.crm4.dynamics.com", authority="https://login.microsoftonline.com/<tenant>",
        client_id="<app id>", client_secret=secret)
    for page in crm.read("accounts", select=["name", "accountnumber"]):
        ...
    crm.write("accounts", [WriteOp(OpKind.UPSERT, {"accountnumber": "A1"}, {"name": "Contoso"})])
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from functools import partial
from typing import Any

import httpx

from p2c.connectors.auth import Redactor, TokenProvider
from p2c.connectors.base import OpKind, ValuesQuery, WriteOp, WriteResult
from p2c.connectors.dataverse_changes import DataverseChanges
from p2c.connectors.dataverse_meta import DataverseMetadata
from p2c.connectors.dataverse_rows import BATCH_LIMIT, TableInfo
from p2c.connectors.dataverse_target import Refusal, TargetItem, TargetTable, plan_deletes, plan_writes
from p2c.connectors.dataverse_write import DataverseWriter, Message
from p2c.connectors.lifecycle import ConnectorLifecycle
from p2c.connectors.protocol import Pager, RetryPolicy
from p2c.connectors.protocol_batch import Task, first_pages, query_sets, run_tasks
from p2c.connectors.protocol_errors import Service
from p2c.connectors.protocol_odata import distinct_values, entity_path, in_filters, literal
from p2c.errors import NotFoundError

__all__ = ["DataverseConnector", "TableInfo"]

log = logging.getLogger("p2c.connectors")

API_PATH = "/api/data/v9.2"
MAX_CONCURRENCY = 52  # DATAVERSE.md §2.12: the 52nd concurrent request is refused
# a change of state is sent as the documented PATCH (DATAVERSE.md §2.4), never in UpdateMultiple
_STATE = frozenset({"statecode", "statuscode"})

#: ``In`` queries sent in one ``$batch`` (it takes 1 000), each of at most 1 000 values or ~530
#: GUIDs (:func:`~p2c.connectors.protocol_odata.in_filters`): about 10 000 GUIDs a request, as 50
#: lists of 200 were; pages held a batch at a time
IN_QUERIES = 20
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class DataverseConnector(ConnectorLifecycle, DataverseChanges, DataverseMetadata):
    """Reads and writes one Dataverse environment. Thread-safe; ``close()`` closes an owned client."""

    _PING = ("WhoAmI", {})

    def __init__(
        self,
        api_url: str,
        tokens: TokenProvider,
        client: httpx.Client,
        *,
        batch_size: int = 1000,
        concurrency: int = 4,
        page_size: int = 5000,
        retry: RetryPolicy | None = None,
        redactor: Redactor | None = None,
        isolate_at: int = 64,
        distinguish_created: bool = True,
        owns_client: bool = False,
        unreachable_after: float = 60.0,
    ) -> None:
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, not {concurrency}")
        if not 1 <= page_size <= 5000:
            raise ValueError(f"page_size must be between 1 and 5000, not {page_size}")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        api_url = api_url.rstrip("/")
        if "/api/data/" not in api_url:
            api_url += API_PATH
        self.api_url = api_url
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.page_size = page_size
        self.isolate_at = isolate_at
        self.distinguish_created = distinguish_created
        # DATAVERSE.md §2.1: If-None-Match: null on every request
        self._open_session(
            client,
            tokens,
            Service.DATAVERSE,
            api_url,
            retry,
            redactor,
            owns_client,
            {"If-None-Match": "null"},
            unreachable_after=unreachable_after,
        )
        self._tables: dict[str, TableInfo] = {}
        #: logical names of the tables with ``UpsertMultiple`` (read with the first table's definition)
        self._bulk_tables: frozenset[str] | None = None
        self._organization: str | None = None
        self._organization_lock = threading.Lock()
        self._who_flight: Future[Mapping[str, Any]] | None = None  # a WhoAmI being asked (_who)
        self._lock = threading.Lock()
        self._defining = threading.Lock()  # one table definition read at a time

    # -- tables ---------------------------------------------------------------------------------

    def prepare_writes(self, entity: str) -> None:
        self._bulk(self.table(entity))

    def table(self, entity: str) -> TableInfo:
        """Logical name, entity set and primary key of a table named by entity set or logical name
        (read once: a caller asking while another reads it waits for that answer)."""
        with self._lock:
            if entity in self._tables:
                return self._tables[entity]
        with self._defining:
            with self._lock:
                if entity in self._tables:
                    return self._tables[entity]
            return self._define(entity)

    def _define(self, entity: str) -> TableInfo:
        select = "LogicalName,EntitySetName,PrimaryIdAttribute"
        first: list[dict[str, Any]] | None = None
        if self._bulk_tables is None:  # the first table: its definition and the bulk probe together
            first, self._bulk_tables = self.definition_and_bulk_tables(entity, select)
        for prop in ("EntitySetName", "LogicalName"):
            params = {"$select": select, "$filter": f"{prop} eq {literal(entity)}"}
            found = first if first is not None and prop == "EntitySetName" else None
            if found is None:
                found = self._session.get_json("EntityDefinitions", params=params, entity=entity)["value"]
            if found:
                d = found[0]
                info = TableInfo(d["LogicalName"], d["EntitySetName"], d["PrimaryIdAttribute"])
                with self._lock:
                    return self._tables.setdefault(entity, info)
        raise NotFoundError("no table has this entity set or logical name", entity=entity)

    def _bulk(self, info: TableInfo) -> bool:
        if info.bulk is None and self._bulk_tables is not None:
            info.bulk = info.logical_name in self._bulk_tables
        if info.bulk is None:
            supported = self.supports_message("UpsertMultiple", info.logical_name)
            if supported is not None:
                info.bulk = supported
        return info.bulk is not False

    def _mark_unsupported(self, info: TableInfo) -> None:
        info.bulk = False

    # -- reads ----------------------------------------------------------------------------------

    def _prefer(self, page_size: int | None, *extra: str) -> dict[str, str]:
        size = min(page_size or self.page_size, 5000)
        return {"Prefer": ",".join((*extra, f"odata.maxpagesize={size}"))}

    def read(
        self,
        entity: str,
        *,
        select: Sequence[str] | None = None,
        filter: str | None = None,
        page_size: int | None = None,
        orderby: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of rows (``$select``, ``$filter``, ``$orderby`` passed through)."""
        params: dict[str, str] = {}
        if select:
            params["$select"] = ",".join(select)
        if filter:
            params["$filter"] = filter
        if orderby:
            params["$orderby"] = orderby
        yield from self._session.pages(Pager(entity, params), headers=self._prefer(page_size), entity=entity)

    def read_by_values(
        self,
        entity: str,
        field: str,
        values: Iterable[Any],
        *,
        select: Sequence[str],
        filter: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Rows whose ``field`` (a lookup as ``_x_value``) is one of ``values``: an ``In`` query per
        list of :func:`~p2c.connectors.protocol_odata.in_filters` (≤ 1 000 values, within a GET's
        URL), up to :data:`IN_QUERIES` of them in one ``$batch`` request when there are several. A
        lookup value that is not a GUID names no row (a plan's record still to be created): it is
        not sent, since the service would refuse the whole filter."""
        for _n, rows in self._in_queries([ValuesQuery(entity, field, list(values), select, filter)]):
            if rows:
                yield rows

    def read_by_values_many(self, queries: Sequence[ValuesQuery]) -> list[list[dict[str, Any]]]:
        """The rows of several :meth:`read_by_values` (a chunk's lookups into several tables), a
        list per query: their ``In`` queries together, :data:`IN_QUERIES` to a ``$batch``."""
        out: list[list[dict[str, Any]]] = [[] for _ in queries]
        for n, rows in self._in_queries(queries):
            out[n].extend(rows)
        return out

    def read_tables(
        self, tables: Sequence[tuple[str, Sequence[str]]], *, limit: int
    ) -> list[list[dict[str, Any]] | None]:
        """Small tables read whole (reference tables: currencies, units), their first pages of up
        to ``limit`` rows in one ``$batch``: a table with a next page — more than ``limit`` rows, or
        than the 5 000 of Dataverse's largest page — is None."""
        queries = [(entity, {"$select": ",".join(select)}) for entity, select in tables]
        return first_pages(self._session, queries, headers=self._prefer(limit))

    def _in_queries(self, queries: Sequence[ValuesQuery]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(index of the query, rows of one of its ``In`` queries), a ``$batch`` at a time."""
        asks: list[tuple[str, dict[str, str]]] = []
        owner: list[int] = []
        for n, q in enumerate(queries):
            wanted = distinct_values(q.values)
            if q.field.startswith("_") and q.field.endswith("_value"):
                wanted = [v for v in wanted if _GUID.fullmatch(str(v))]
            for flt in in_filters(q.field, wanted):
                query = {"$filter": f"({flt}) and ({q.filter})" if q.filter else flt}
                if q.select:
                    query["$select"] = ",".join(q.select)
                asks.append((q.entity, query))
                owner.append(n)
        for start in range(0, len(asks), IN_QUERIES):
            answers = query_sets(self._session, asks[start : start + IN_QUERIES], headers=self._prefer(None))
            yield from zip(owner[start : start + IN_QUERIES], answers, strict=True)

    def plan_writes(self, table: TargetTable, items: Sequence[TargetItem]) -> list[WriteOp | Refusal]:
        """The write of each item (:mod:`p2c.connectors.dataverse_target`): an upsert by alternate
        key, an update or create of a row found by a key of lookups, or a refusal (closed document)."""
        return plan_writes(self, table, items)

    def plan_deletes(
        self, table: TargetTable, targets: Sequence[tuple[Any, Mapping[str, Any]]]
    ) -> list[WriteOp | Refusal]:
        return plan_deletes(self, table, targets)

    def get(
        self, entity: str, key: Mapping[str, Any], *, select: Sequence[str] | None = None
    ) -> dict[str, Any] | None:
        """One row by primary or alternate key; ``None`` when it does not exist."""
        info = self.table(entity)
        path = (
            entity_path(info.set_name, uuid.UUID(str(key[info.pk])))
            if len(key) == 1 and info.pk in key
            else entity_path(info.set_name, key)
        )
        params = {"$select": ",".join(select)} if select else None
        found = self._session.get_json(path, params=params, entity=entity, missing_ok=True)
        return dict(found) if found is not None else None

    # -- writes ---------------------------------------------------------------------------------

    def write(self, entity: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """One result per op, in order: upserts by alternate key and updates by primary key in
        ``*Multiple`` messages (:mod:`.dataverse_write`), the rest as single operations in ``$batch``."""
        if not ops:
            return []
        info = self.table(entity)
        writer = DataverseWriter(
            self._session,
            info,
            isolate_at=self.isolate_at,
            distinguish_created=self.distinguish_created,
            mark_unsupported=self._mark_unsupported,
        )
        bulk = self._bulk(info)
        groups: dict[tuple[Message, tuple[str, ...]], list[int]] = {}
        singles: list[int] = []
        for i, op in enumerate(ops):
            if not bulk or op.etag is not None or not op.key:
                singles.append(i)
            elif op.kind is OpKind.UPSERT and info.pk not in op.key:
                new = op.exists is False and info.new_rows_exist is False
                message = Message.CREATE if new else Message.UPSERT
                groups.setdefault((message, tuple(op.key)), []).append(i)
            elif op.kind is OpKind.UPDATE and list(op.key) == [info.pk] and not _STATE & op.payload.keys():
                groups.setdefault((Message.UPDATE, ()), []).append(i)
            else:
                singles.append(i)
        size = min(self.batch_size, BATCH_LIMIT)
        tasks: list[tuple[list[int], Task]] = []
        for (message, _names), idx in groups.items():
            for start in range(0, len(idx), size):
                chunk = idx[start : start + size]
                tasks.append((chunk, partial(writer.multiple, message, ops, chunk)))
        for start in range(0, len(singles), size):
            chunk = singles[start : start + size]
            tasks.append((chunk, partial(writer.singles, ops, chunk)))
        return run_tasks(tasks, ops, self.concurrency, "p2c-dataverse")
