"""Reading a task's source: incremental where the service can, full where it cannot, plus retries.

- CRM sources use change tracking (delta links); the task's filters run locally because a
  change-tracking read refuses ``$filter``, and the keys they leave out are returned (each gets
  a *filtered* outcome). Deleted rows come back as ids.
- ERP sources are read whole per legal entity (F&O has no change tracking, FNO.md §1.11), with the
  filters pushed down (what they leave out is not read, so not counted); the engine's content
  hashes then find what did not change. A task with a watermark (:mod:`p2c.project.watermark`:
  invoices by ``InvoiceDate``, or a ``ModifiedDateTime`` a customer added) reads, once it has a
  cursor, only ``field ge <highest value seen minus the overlap>`` per company; the cursor keeps
  those values (:mod:`p2c.engine.marks`).
- Records left *waiting* or *failed* are read again by key, fresh, every run (until dismissed).

Each source row gets a stable identity, its **source key**: the CRM primary key (a GUID), or the
ERP key fields joined with ``,`` (``usmf,D0001``). Links and outcomes are stored under it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from p2c.catalog import Catalog, EntitySpec, FieldType
from p2c.connectors import Connector, key_filters
from p2c.engine.ahead import alongside, read_ahead
from p2c.engine.marks import Marks
from p2c.odata import Dialect, compile_filter, filter_fields, parse_filter
from p2c.project import Task
from p2c.settings import System

__all__ = ["EMPTY_ERP_DATE", "Settle", "SourceBatch", "SourceReader", "source_key"]

EMPTY_ERP_DATE = "1900-01-01"  # F&O's value for an empty date or UTC date-time (FNO.md §1.5)


@dataclass
class SourceBatch:
    """What one read (or one page of it) gave: the rows the task takes, the keys its filter left
    out, the keys deleted at the source (from a read by key: the keys asked for and not found),
    and, on the last page of a read, the new cursor."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    filtered: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    cursor: str | None = None
    full: bool = False
    #: keys of rows ``settle`` found unchanged: no hook, no filter, no mapping (see :meth:`SourceReader.pages`)
    unchanged: list[str] = field(default_factory=list)


#: given rows as read, the rows to go on with and the keys of those unchanged since they were synced
Settle = Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], list[str]]]


def source_key(task: Task, spec: EntitySpec) -> Callable[[Mapping[str, Any]], str]:
    """The key of a source row of ``task``: the CRM row's id, or the ERP key values joined with
    commas (``usmf,000123,3``). Asked several times per row read, so built once per task."""
    pk = spec.primary_key
    if task.source.system is System.CRM and pk:

        def crm_key(row: Mapping[str, Any]) -> str:
            value = row.get(pk)
            return value if type(value) is str else str(value or "")

        return crm_key
    names = tuple(task.key_source)
    if len(names) == 1:
        (name,) = names

        def erp_key(row: Mapping[str, Any]) -> str:
            value = row.get(name)
            return value if type(value) is str else "" if value is None else str(value)

        return erp_key

    def erp_keys(row: Mapping[str, Any]) -> str:
        return ",".join(["" if (v := row.get(k)) is None else str(v) for k in names])

    return erp_keys


def _opened(pages: Iterator[Any]) -> Iterator[Any]:
    """``pages`` with its first item read now (a request on the caller's thread), then the rest."""
    first = next(pages, _NONE)
    return pages if first is _NONE else itertools.chain([first], pages)


_NONE = object()


def _and(*parts: str | None) -> str | None:
    present = [p for p in parts if p]
    if not present:
        return None
    return " and ".join(f"({p})" for p in present) if len(present) > 1 else present[0]


class SourceReader:
    def __init__(self, task: Task, catalog: Catalog, conn: Connector, companies: Sequence[str]) -> None:
        self.task = task
        self.catalog = catalog
        self.conn = conn
        self.companies = list(companies)
        self.spec = catalog.entity(task.source.system, task.source.entity)
        self.crm = task.source.system is System.CRM
        #: the key of a source row (:func:`source_key`)
        self.key = source_key(task, self.spec)
        text = _and(task.builtin_filter, task.extra_filter)
        self.filter_text = text
        self._local = None
        #: called with each page of CRM rows *before* the filter (a flow deriving a field it filters on)
        self.before_filter: Callable[[list[dict[str, Any]]], None] | None = None
        #: the first request of a read asked for before :meth:`pages` (:meth:`begin`): its
        #: arguments, and the change feed (CRM) or the first company's first page and the rest
        self._begun: tuple[tuple[str, ...], str | None, Future[Any], Marks] | None = None
        if text and self.crm:
            schema = self.spec.filter_schema(catalog.enums)
            self._local = compile_filter(parse_filter(text, Dialect.DATAVERSE), schema, Dialect.DATAVERSE)
        # F&O dates (FNO.md §1.5): never null, 1900-01-01 means empty; date-only fields come at noon
        # UTC. Key fields stay as read: they name the record in links and filters.
        keys = set(task.key_source)
        self._erp_dates = (
            {}
            if self.crm
            else {
                f.name: f.type is FieldType.DATE
                for f in self.spec.fields.values()
                if f.type in (FieldType.DATE, FieldType.DATETIME) and f.name not in keys
            }
        )

    def _erp_values(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """ERP rows with F&O's empty date (1900-01-01) as None and date-only values as
        ``YYYY-MM-DD``, so a mapping to a CRM date column writes nothing, or the date, not 1900."""
        if not self._erp_dates or not rows:
            return rows
        present = [(n, d) for n, d in self._erp_dates.items() if n in rows[0]]
        for row in rows:
            for name, date_only in present:
                value = row.get(name)
                if isinstance(value, str):
                    if value.startswith(EMPTY_ERP_DATE):
                        row[name] = None
                    elif date_only and len(value) > 10 and value[10] == "T":
                        row[name] = value[:10]
        return rows

    def select(self, fields: Iterable[str]) -> list[str]:
        out = set(fields) | set(self.task.key_source)
        if self.task.watermark is not None and not self.crm:  # its highest value becomes the cursor
            out.add(self.task.watermark.field)
        if self._local is not None:  # the filter runs here, on the rows read: read what it compares
            out |= {f for f in filter_fields(self.filter_text or "") if self.spec.field(f) is not None}
        if self.crm and self.spec.primary_key:
            out.add(self.spec.primary_key)
        return sorted(out)

    def keep(self, row: Mapping[str, Any]) -> bool:
        return self._local is None or bool(self._local(row))

    def _split(self, rows: list[dict[str, Any]], out: SourceBatch) -> None:
        """CRM rows into ``out``: those the task's filter keeps, and the keys of the others."""
        if not rows:
            return
        if self.before_filter is not None:
            self.before_filter(rows)
        for row in rows:
            if self.keep(row):
                out.rows.append(row)
            else:
                out.filtered.append(self.key(row))

    def begin(self, select: Sequence[str], cursor: str | None) -> None:
        """Ask now, on a thread of its own, for the first page :meth:`pages` reads with these
        arguments: a run reads it while it checks that both services answer, before the run is
        recorded. A read changes nothing, so a run refused meanwhile (a service down, the project
        locked) only drops it. :meth:`pages` with the same arguments takes it; if it failed,
        :meth:`pages` asks again, and says why if it fails again."""
        entity, name = self.task.source.entity, f"first-{self.task.name}"
        marks = Marks.start(self.task.watermark, cursor)  # the read's start: its cursor's cap
        first: Future[Any]
        if self.crm:
            first = alongside(partial(self.conn.changes, entity, select=list(select), cursor=cursor), name)
        else:
            first = alongside(partial(_opened, self._companies(select, marks)), name)
        self._begun = (tuple(select), cursor, first, marks)

    def _taken(self, select: Sequence[str], cursor: str | None) -> tuple[Any, Marks] | None:
        """What :meth:`begin` asked for with these arguments, once answered, and its marks; None
        when it asked for something else, or nothing, or its read failed (then read again)."""
        begun, self._begun = self._begun, None
        if begun is None or begun[0] != tuple(select) or begun[1] != cursor:
            return None
        try:
            return begun[2].result(), begun[3]
        except Exception:  # asked again by the caller, whose read raises what is wrong, if it still is
            return None

    def pages(
        self, select: Sequence[str], cursor: str | None, settle: Settle | None = None
    ) -> Iterator[SourceBatch]:
        """What changed since ``cursor``, page by page as the service answers (CRM: the filter
        applied here, the keys it leaves out and the ids deleted with each page), or the whole
        source with the filter pushed down (ERP: what it leaves out is never read). The last page
        (possibly empty) carries the new cursor and ``full``: a read of everything, not a delta.

        ``settle`` sees each page's rows as read (ERP dates fixed), *before* the flow's
        ``before_filter`` and the filter: the rows it names unchanged since their last sync go no
        further (``unchanged``). So a row back in the change feed only because p2c wrote to it
        costs its hash, not the flow's reads (an order's lines, to derive its flag)."""
        begun = self._taken(select, cursor)
        if self.crm:
            feed = (
                begun[0]
                if begun
                else self.conn.changes(self.task.source.entity, select=select, cursor=cursor)
            )
            for page in read_ahead(feed, self.task.name):
                out = SourceBatch(deleted=list(page.deleted))
                rows = page.rows
                if settle is not None and rows:
                    rows, out.unchanged = settle(rows)
                self._split(rows, out)
                yield out
            yield SourceBatch(cursor=feed.cursor, full=feed.full)
            return
        if begun is not None:
            read, marks = begun
        else:
            marks = Marks.start(self.task.watermark, cursor)
            read = self._companies(select, marks)
        for company, rows in read_ahead(read, self.task.name):
            marks.saw(company, rows)
            out = SourceBatch(rows=self._erp_values(rows))
            if settle is not None and out.rows:
                out.rows, out.unchanged = settle(out.rows)
            yield out
        full = all(marks.filter(c) is None for c in self.companies)
        yield SourceBatch(cursor=marks.cursor(), full=full)

    def _companies(self, select: Sequence[str], marks: Marks) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """The ERP read of every company in turn, as (company, page): whole, or since its mark."""
        for company in self.companies:
            flt = _and(f"dataAreaId eq '{company}'", self.filter_text, marks.filter(company))
            for rows in self.conn.read(
                self.task.source.entity, select=select, filter=flt, orderby=",".join(self.task.key_source)
            ):
                yield company, rows

    def whole(self, select: Sequence[str]) -> list[dict[str, Any]]:
        """The whole filtered source as a run would see it, without a change-tracking token (reconcile)."""
        if not self.crm:  # every company, filters pushed down
            return [r for page in self.pages(select, None) for r in page.rows]
        rows = [r for page in self.conn.read(self.task.source.entity, select=select) for r in page]
        if self.before_filter is not None:  # fields a flow derives before filtering (quotes, orders)
            self.before_filter(rows)
        return [r for r in rows if self.keep(r)]

    def by_keys(self, select: Sequence[str], keys: Iterable[str]) -> SourceBatch:
        """The current source rows of ``keys`` (source keys), filtered like any read: the rows
        the task takes, the keys its filter leaves out, and (as ``deleted``) the keys not found."""
        wanted = sorted(set(keys))
        out = SourceBatch()
        if not wanted:
            return out
        if self.crm:
            for page in self.conn.read_by_values(
                self.task.source.entity, self.spec.primary_key, wanted, select=select
            ):
                self._split(page, out)
        else:
            for flt in key_filters(self._key_dicts(wanted), company_first=True):
                for page in self.conn.read(
                    self.task.source.entity, select=select, filter=_and(flt, self.filter_text)
                ):
                    out.rows.extend(self._erp_values(page))
        seen = {self.key(r) for r in out.rows} | set(out.filtered)
        unseen = [k for k in wanted if k not in seen]
        if unseen and not self.crm and self.filter_text:  # the filter was pushed down: left out, or gone?
            still = self.existing(unseen)
            out.filtered.extend(k for k in unseen if k in still)
            unseen = [k for k in unseen if k not in still]
        out.deleted.extend(unseen)
        return out

    def existing(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` (ERP source keys) still exist at the source, whatever the task's filters say."""
        wanted = sorted(set(keys))
        found: set[str] = set()
        for flt in key_filters(self._key_dicts(wanted), company_first=True) if wanted else []:
            for page in self.conn.read(
                self.task.source.entity, select=list(self.task.key_source), filter=flt
            ):
                found.update(self.key(r) for r in page)
        return found

    def _key_dicts(self, keys: Sequence[str]) -> list[dict[str, Any]]:
        """Source keys (``usmf,000123,3``) back into typed key fields: whole-number fields as ints."""
        names = list(self.task.key_source)
        ints = {n for n in names if (f := self.spec.field(n)) is not None and f.type is FieldType.INT}
        out = []
        for key in keys:
            values = dict(zip(names, key.split(",", len(names) - 1), strict=False))
            out.append({n: int(v) if n in ints and v.lstrip("-").isdigit() else v for n, v in values.items()})
        return out
