"""The Dataverse (Dynamics 365 Sales) connector: Web API v9.2 over an injected ``httpx.Client``.

* Reads page with ``Prefer: odata.maxpagesize`` and follow ``@odata.nextLink`` verbatim.
* :meth:`~DataverseConnector.changes` uses change tracking: a first read with
  ``Prefer: odata.track-changes`` returns every row and a delta link; the delta link (the cursor)
  later returns changed rows and ``$deletedEntity`` ids. A refused or expired cursor gives a full
  read flagged ``resync``; a table without change tracking raises :class:`PrerequisiteError`.
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
from urllib.parse import parse_qs, urlsplit

import httpx

from p2c.connectors.auth import Redactor, TokenProvider
from p2c.connectors.base import ChangeFeed, Changes, OpKind, ValuesQuery, WriteOp, WriteResult
from p2c.connectors.dataverse_meta import DataverseMetadata
from p2c.connectors.dataverse_rows import BATCH_LIMIT, TableInfo
from p2c.connectors.dataverse_target import Refusal, TargetItem, TargetTable, plan_deletes, plan_writes
from p2c.connectors.dataverse_write import DataverseWriter, Message
from p2c.connectors.lifecycle import ConnectorLifecycle
from p2c.connectors.protocol import Pager, RetryPolicy
from p2c.connectors.protocol_batch import Task, first_pages, query_sets, run_tasks
from p2c.connectors.protocol_errors import Service
from p2c.connectors.protocol_json import loads
from p2c.connectors.protocol_odata import distinct_values, entity_path, in_filters, literal
from p2c.errors import NotFoundError, P2CError, PrerequisiteError, RecordError

__all__ = ["DataverseConnector", "TableInfo"]

log = logging.getLogger("p2c.connectors")

API_PATH = "/api/data/v9.2"
MAX_CONCURRENCY = 52  # DATAVERSE.md §2.12: the 52nd concurrent request is refused
_TRACKING_DISABLED = "0x80072491"
# a change of state is sent as the documented PATCH (DATAVERSE.md §2.4), never in UpdateMultiple
_STATE = frozenset({"statecode", "statuscode"})


API_ROOT = "/api/data/v9.2/"
#: ``In`` queries sent in one ``$batch`` (it takes 1 000), each of at most 1 000 values or ~530
#: GUIDs (:func:`~p2c.connectors.protocol_odata.in_filters`): about 10 000 GUIDs a request, as 50
#: lists of 200 were; pages held a batch at a time
IN_QUERIES = 20
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _relative(link: str) -> str:
    """A Web API link without its scheme, host and service root (``accounts?$deltatoken=...``)."""
    marker = link.find(API_ROOT)
    return link[marker + len(API_ROOT) :] if marker >= 0 else link


def _selects(link: str, select: Sequence[str] | None) -> bool:
    """Whether the delta ``link`` returns every column of ``select``: a delta link keeps the
    ``$select`` of the query that started it, so a task that now reads more (a new mapped field,
    a filter on another column) must start over, or those columns come back empty."""
    if not select:
        return True
    query = parse_qs(urlsplit(link).query)
    chosen = query.get("$select")
    if not chosen:  # no $select: every column
        return True
    have = {c.strip().lower() for part in chosen for c in part.split(",")}
    return all(c.lower() in have for c in select)


def _is_deleted(row: Mapping[str, Any]) -> bool:
    return str(row.get("@odata.context", "")).endswith("$deletedEntity") or (
        row.get("reason") == "deleted" and "id" in row
    )


class DataverseConnector(ConnectorLifecycle, DataverseMetadata):
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

    def changes(
        self, entity: str, *, select: Sequence[str] | None = None, cursor: str | None = None
    ) -> ChangeFeed:
        """Changed rows and deleted ids since ``cursor`` (a delta link); ``None``: everything, and a first cursor."""
        headers = self._prefer(None, "odata.track-changes")
        resync = False
        if cursor and not _selects(self._delta_link(cursor, entity), select):
            log.info(
                "%s: the task reads columns its change-tracking cursor does not; reading everything", entity
            )
            cursor = None
        if cursor:
            pager = Pager(self._delta_link(cursor, entity))
            try:
                first = self._first_page(entity, pager, headers)
                return ChangeFeed(self._change_pages(entity, pager, first, headers), full=False)
            except PrerequisiteError:
                raise
            except (RecordError, NotFoundError) as exc:  # an expired or unknown delta token
                log.warning(
                    "%s: the change-tracking cursor was refused (%s); reading everything", entity, exc
                )
                resync = True
        pager = Pager(entity, {"$select": ",".join(select)} if select else None)
        first = self._first_page(entity, pager, headers)
        return ChangeFeed(self._change_pages(entity, pager, first, headers), full=True, resync=resync)

    def _first_page(self, entity: str, pager: Pager, headers: Mapping[str, str]) -> list[dict[str, Any]]:
        """The feed's first page as read (made a :class:`Changes` as the feed is iterated: its
        cursor names the organisation, which a run's check is asking for meanwhile)."""
        request = pager.next_request
        assert request is not None
        response = self._session.send(
            "GET", request.url, params=request.params, headers=headers, entity=entity
        )
        r = response.response
        if r.status_code >= 400:
            error = self._session.error(r, entity=entity)
            if isinstance(error, RecordError) and (
                error.code == _TRACKING_DISABLED
                or ("change tracking" in error.reason.lower() and "not enabled" in error.reason.lower())
            ):
                logical = self._logical_name(entity)
                raise PrerequisiteError(
                    f"change tracking is not enabled for table '{logical}'; enable it with `p2c setup` or "
                    f"set ChangeTrackingEnabled on EntityDefinitions(LogicalName='{logical}') ({error.reason})",
                    entity=entity,
                    status=error.status,
                    code=error.code,
                )
            raise error
        return pager.feed(loads(r.content))

    def _logical_name(self, entity: str) -> str:
        try:
            return self.table(entity).logical_name
        except P2CError:
            return entity

    def _page(self, pager: Pager, rows: list[dict[str, Any]]) -> Changes:
        changed = [r for r in rows if not _is_deleted(r)]
        deleted = [str(r["id"]) for r in rows if _is_deleted(r)]
        link = pager.delta_link if pager.done else None
        return Changes(changed, deleted, self._cursor(link) if link else None)

    # -- cursors: delta links relative to the environment ------------------------------------------

    def _ping(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        return self._who()

    def _pinged(self, answer: Mapping[str, Any]) -> None:
        found = str(answer.get("OrganizationId") or "").lower()
        with self._organization_lock:
            self._organization = self._organization or found or None

    def organization_id(self) -> str:
        """The environment's organisation id (WhoAmI), read once: a run's check reads it, and a
        change feed asked for beside the check (its cursor names the organisation) waits for that
        answer instead of asking again."""
        with self._organization_lock:
            if self._organization is not None:
                return self._organization
        answer = self._who()
        with self._organization_lock:
            if self._organization is None:
                self._organization = str(answer.get("OrganizationId") or "").lower()
            return self._organization

    def _who(self) -> Mapping[str, Any]:
        """WhoAmI, once at a time: a caller while it is asked waits for that answer (or error). It
        is a check (:meth:`HttpSession.checking`): impatient, and not counted as a run's work."""
        with self._organization_lock:
            flight, owner = self._who_flight, self._who_flight is None
            if flight is None:
                flight = self._who_flight = Future()
        if not owner:
            return flight.result()
        try:
            with self._session.checking():
                answer = self.whoami()
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        else:
            flight.set_result(answer)
            return answer
        finally:
            with self._organization_lock:
                self._who_flight = None

    def _cursor(self, delta_link: str) -> str:
        """A delta link as a cursor: ``<organisation id>|<link relative to the Web API root>``, so the
        same environment under another host name or port keeps its place, and another one cannot
        use it by mistake."""
        return f"{self.organization_id()}|{_relative(delta_link)}"

    def _delta_link(self, cursor: str, entity: str) -> str:
        org, sep, link = cursor.partition("|")
        if not sep:  # a cursor stored before cursors were relative: an absolute delta link
            return _relative(cursor)
        if org != self.organization_id():
            raise PrerequisiteError(
                f"the change-tracking cursor belongs to organisation {org}, not to this environment "
                f"({self.organization_id()}); run once with --full to read everything from here",
                entity=entity,
            )
        return link

    def _change_pages(
        self, entity: str, pager: Pager, first: list[dict[str, Any]], headers: Mapping[str, str]
    ) -> Iterator[Changes]:
        yield self._page(pager, first)
        for rows in self._session.pages(pager, headers=headers, entity=entity):
            yield self._page(pager, rows)

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
