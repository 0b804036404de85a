"""The F&O (Dynamics 365 SCM) connector: the OData ``/data`` endpoint over an injected ``httpx.Client``.

* Every request carries ``cross-company=true`` (FNO.md §1.2): rows of every legal entity, keys
  with ``dataAreaId`` first.
* Reads follow ``@odata.nextLink`` (``$skip``/``$top`` links) until absent, ordered by the key
  fields so the pages are stable.
* F&O has **no change tracking** (FNO.md §1.11): :meth:`FnoConnector.changes` is a full read
  (``ChangeFeed.full``; cursor ``None``). The engine compares each row's content hash with what it
  last synchronised and infers deletions from absent keys.
* Writes: see :mod:`.fno_write` (read-by-key in bulk, then POST/PATCH/DELETE, one change set per
  op, in ``$batch``), on ``concurrency`` worker threads; a 429 pauses every worker.

Example::

    erp = FnoConnector.from_settings(
        url="https://contoso.operations.dynamics.com", authority="https://login.microsoftonline.com/<tenant>",
        client_id="<app id>", client_secret=secret)
    erp.write("CustomersV3", [WriteOp(OpKind.UPSERT, {"dataAreaId": "usmf", "CustomerAccount": "A1"},
                                      {"OrganizationName": "Contoso", "CustomerGroupId": "10"})])
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import httpx

from p2c.connectors.auth import Redactor, TokenProvider
from p2c.connectors.base import ChangeFeed, Changes, OpKind, ValuesQuery, WriteOp, WriteResult
from p2c.connectors.dataverse_target import Refusal, TargetItem, TargetTable, owned
from p2c.connectors.fno_write import CROSS, FnoWriter
from p2c.connectors.lifecycle import ConnectorLifecycle
from p2c.connectors.protocol import Pager, RetryPolicy
from p2c.connectors.protocol_batch import Task, find_by_keys, run_tasks
from p2c.connectors.protocol_errors import Service
from p2c.connectors.protocol_odata import distinct_values, entity_path, key_filters
from p2c.errors import NotFoundError

__all__ = ["KNOWN_KEYS", "FnoConnector"]

MAX_CONCURRENCY = 52  # FNO.md §1.9

#: Entity keys of the Prospect-to-cash entities (FNO.md §2.8), in metadata order; others are read
#: from ``$metadata`` once, when first needed.
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "CustomersV3": ("dataAreaId", "CustomerAccount"),
    "CustomersV2": ("dataAreaId", "CustomerAccount"),
    "CustomerGroups": ("dataAreaId", "CustomerGroupId"),
    "SellableReleasedProducts": ("dataAreaId", "ProductNumber"),
    "CDSSalesOrderHeaders": ("dataAreaId", "SalesOrderNumber"),
    "CDSSalesOrderLines": ("dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber"),
    "CDSSalesOrderLinesV2": ("dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber"),
    "CDSSalesQuotationHeaders": ("dataAreaId", "SalesQuotationNumber"),
    "CDSSalesQuotationLines": ("dataAreaId", "LineCreationSequenceNumber", "SalesQuotationNumber"),
    "ExternallyMaintainedCustomerSalesInvoiceHeaders": (
        "dataAreaId",
        "InvoiceNumber",
        "InvoiceDate",
        "LedgerVoucher",
    ),
    "ExternallyMaintainedCustomerSalesInvoiceLines": (
        "dataAreaId",
        "InvoiceNumber",
        "InvoiceDate",
        "LineCreationSequenceNumber",
        "LedgerVoucher",
    ),
    "CDSContactPersons": ("dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber"),
    "CDSContactPersonsV2": (
        "dataAreaId",
        "ContactPersonPartyNumber",
        "AssociatedContactType",
        "AssociatedContactNumber",
    ),
    "UnitsOfMeasure": ("UnitSymbol",),
    "LegalEntities": ("LegalEntityId",),
}

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def entity_keys_from_metadata(xml: bytes, entity: str) -> tuple[str, ...] | None:
    """The key fields of entity set ``entity`` in an EDMX ``$metadata`` document."""
    root = ET.fromstring(xml)
    type_name = None
    for es in root.iter(f"{_EDM}EntitySet"):
        if es.get("Name") == entity:
            type_name = (es.get("EntityType") or "").rsplit(".", 1)[-1]
    if not type_name:
        return None
    for et in root.iter(f"{_EDM}EntityType"):
        if et.get("Name") == type_name:
            refs = [
                ref.get("Name") or ""
                for key in et.iter(f"{_EDM}Key")
                for ref in key.iter(f"{_EDM}PropertyRef")
            ]
            return tuple(r for r in refs if r) or None
    return None


class FnoConnector(ConnectorLifecycle):
    """Reads and writes one F&O environment. Thread-safe; ``close()`` closes an owned client."""

    # a small standard entity every F&O environment has (the service document lists them all)
    _PING = ("CustomerGroups", {"$top": "1", "$select": "CustomerGroupId", "cross-company": "true"})

    def __init__(
        self,
        api_url: str,
        tokens: TokenProvider,
        client: httpx.Client,
        *,
        batch_size: int = 200,
        concurrency: int = 4,
        page_size: int = 10000,
        retry: RetryPolicy | None = None,
        redactor: Redactor | None = None,
        keys: Mapping[str, Sequence[str]] | None = None,
        owns_client: bool = False,
        unreachable_after: float = 60.0,
    ) -> None:
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, not {concurrency}")
        if batch_size < 1 or page_size < 1:
            raise ValueError("batch_size and page_size must be at least 1")
        api_url = api_url.rstrip("/")
        if not api_url.endswith("/data"):
            api_url += "/data"
        self.api_url = api_url
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.page_size = page_size
        self._keys: dict[str, tuple[str, ...]] = {
            **KNOWN_KEYS,
            **{k: tuple(v) for k, v in (keys or {}).items()},
        }
        self._metadata: bytes | None = None
        self._lock = threading.Lock()
        # entities whose rows p2c never wrote were found there already: their writers read first
        self._read_first: set[str] = set()
        self._open_session(
            client,
            tokens,
            Service.FNO,
            api_url,
            retry,
            redactor,
            owns_client,
            unreachable_after=unreachable_after,
        )

    def entity_keys(self, entity: str) -> tuple[str, ...]:
        """The key fields of an entity set (known P2C entities, else ``$metadata``, read once)."""
        with self._lock:
            if entity in self._keys:
                return self._keys[entity]
        if self._metadata is None:
            response = self._session.send("GET", "$metadata", headers={"Accept": "application/xml"}).response
            if response.status_code >= 400:
                raise self._session.error(response, entity="$metadata")
            self._metadata = response.content
        found = entity_keys_from_metadata(self._metadata, entity)
        if found is None:
            raise NotFoundError("no such entity set in $metadata", entity=entity)
        with self._lock:
            self._keys[entity] = found
        return found

    # -- reads ----------------------------------------------------------------------------------

    def read(
        self,
        entity: str,
        *,
        select: Sequence[str] | None = None,
        filter: str | None = None,
        page_size: int | None = None,
        orderby: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of rows of every company, in key order unless ``orderby`` says otherwise."""
        params: dict[str, str] = dict(CROSS)
        if select:
            params["$select"] = ",".join(select)
        if filter:
            params["$filter"] = filter
        params["$orderby"] = orderby or ",".join(self.entity_keys(entity))
        # the server decides the page size (10,000); the preference is a hint it may ignore
        headers = {"Prefer": f"odata.maxpagesize={page_size or self.page_size}"}
        yield from self._session.pages(Pager(entity, params), headers=headers, entity=entity)

    def read_by_values(
        self,
        entity: str,
        field: str,
        values: Iterable[Any],
        *,
        select: Sequence[str],
        filter: str | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Rows of every company whose ``field`` is one of ``values``: or-ed equalities, as few
        queries as the URL length allows, sent together in one ``$batch`` when there are several."""
        keys = [{field: v} for v in distinct_values(values)]
        if not keys:
            return
        if filter is None:
            yield find_by_keys(self._session, entity, keys, select=select, params=CROSS)
            return
        for flt in key_filters(keys):  # and-ed with the caller's own filter
            yield from self.read(entity, select=select, filter=f"({flt}) and ({filter})")

    def read_tables(
        self, tables: Sequence[tuple[str, Sequence[str]]], *, limit: int
    ) -> list[list[dict[str, Any]] | None]:
        """Small tables read whole, one after the other (F&O answers a ``$batch`` of GETs no faster)."""
        out: list[list[dict[str, Any]] | None] = []
        for entity, select in tables:
            rows: list[dict[str, Any]] = []
            for page in self.read(entity, select=select):
                rows.extend(page)
                if len(rows) > limit:
                    break
            out.append(rows if len(rows) <= limit else None)
        return out

    def read_by_values_many(self, queries: Sequence[ValuesQuery]) -> list[list[dict[str, Any]]]:
        """The rows of several :meth:`read_by_values`, one after the other."""
        return [
            [
                row
                for page in self.read_by_values(q.entity, q.field, q.values, select=q.select, filter=q.filter)
                for row in page
            ]
            for q in queries
        ]

    def plan_writes(self, table: TargetTable, items: Sequence[TargetItem]) -> list[WriteOp | Refusal]:
        """An upsert by natural key per item: F&O documents have no closed state p2c must respect."""
        once = table.fixed_fields  # fields the catalog says are written on create only
        return [
            WriteOp(
                OpKind.UPSERT, owned(i.key), owned(i.payload), ref=i.ref, create_only=once, exists=i.linked
            )
            for i in items
        ]

    def plan_deletes(
        self, table: TargetTable, targets: Sequence[tuple[Any, Mapping[str, Any]]]
    ) -> list[WriteOp | Refusal]:
        return [WriteOp(OpKind.DELETE, dict(key), ref=ref) for ref, key in targets]

    def get(
        self, entity: str, key: Mapping[str, Any], *, select: Sequence[str] | None = None
    ) -> dict[str, Any] | None:
        """One row by its full key (``dataAreaId`` included); ``None`` when it does not exist."""
        params: dict[str, str] = dict(CROSS)
        if select:
            params["$select"] = ",".join(select)
        path = entity_path(entity, key, company_first=True)
        found = self._session.get_json(path, params=params, entity=entity, missing_ok=True)
        return dict(found) if found is not None else None

    def changes(
        self, entity: str, *, select: Sequence[str] | None = None, cursor: str | None = None
    ) -> ChangeFeed:
        """A full read (F&O has no change tracking); ``cursor`` is ignored and the new cursor is ``None``."""
        pages = (Changes(rows) for rows in self.read(entity, select=select))
        return ChangeFeed(pages, full=True)

    # -- writes ---------------------------------------------------------------------------------

    def write(self, entity: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """One result per op, in order: upsert (read-by-key, then POST or PATCH), create, update, delete."""
        if not ops:
            return []
        tasks: list[tuple[list[int], Task]] = []
        order = list(range(len(ops)))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            writer = FnoWriter(self._session, entity, self._read_first)
            tasks.append((chunk, partial(writer.write, ops, chunk)))
        return run_tasks(tasks, ops, self.concurrency, "p2c-fno")
