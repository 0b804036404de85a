"""The engine's side of documents with lines (quotes and orders, CRM → ERP): ``lines_follow_headers``
and ``split_line_discount``.

On a **header** task (source ``quotes`` or ``salesorders``), ``lines_follow_headers`` looks at each
header's lines before the task's filter runs: it derives "has externally maintained products only"
(Yes exactly when every line has a product whose ``p2c_isexternallymaintained`` is Yes: a write-in
line makes it No) and writes it back to the header and its lines where it differs, and numbers
lines without a ``sequencenumber`` (:func:`p2c.rules.number_lines`), writing the numbers back — so
the built-in filters of both tasks read maintained values. Adding or removing a line changes the
header's totals, so change tracking returns the header again.

On a **line** task it makes lines follow their header:

- a line whose header the header task keeps (its filter) but has not written yet *waits*
  (:class:`~p2c.errors.WaitingForParentError`, retried on later runs);
- a line whose header the header task does not keep (a draft quote, an order that came from the
  ERP) is skipped with that reason; when the header task later writes the header, its lines are
  read again in the same run (``shared``), whether they changed or not;
- a line deleted in the CRM (a change-tracking delete) is deleted in the ERP, by its link.

``split_line_discount``: ``$discount_per_unit`` and ``$discount_charge`` from ``quantity`` and
``manualdiscountamount``, rounded to the line currency's ``currencyprecision``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from decimal import Decimal
from typing import Any

from p2c.catalog import Catalog
from p2c.connectors.base import Connector, OpKind, WriteOp
from p2c.engine.reading import filter_fields
from p2c.engine.related import in_filter
from p2c.errors import P2CError, RecordError, WaitingForParentError
from p2c.odata.filter import Dialect, compile_filter, parse_filter
from p2c.project import Project, Task
from p2c.rules import number_lines, split_line_discount
from p2c.settings import System
from p2c.store import StateStore

__all__ = ["DOCUMENTS", "HeaderLines", "LineFollower", "discount_split"]

FLAG = "p2c_hasexternallymaintainedproductsonly"
PRODUCT_FLAG = "p2c_isexternallymaintained"


#: header entity set → (line entity set, the line's header lookup value, line primary key)
DOCUMENTS = {
    "quotes": ("quotedetails", "_quoteid_value", "quotedetailid"),
    "salesorders": ("salesorderdetails", "_salesorderid_value", "salesorderdetailid"),
}
LINE_PARENTS = {line: (header, parent) for header, (line, parent, _pk) in DOCUMENTS.items()}


def _chunks(values: Sequence[str], size: int = 200) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


class HeaderLines:
    """A header task's view of its lines: the derived flag and the line numbers, written back."""

    def __init__(self, crm: Connector, header_entity: str, header_pk: str) -> None:
        self.crm = crm
        self.entity = header_entity
        self.pk = header_pk
        self.line_entity, self.parent, self.line_pk = DOCUMENTS[header_entity]

    def derive(self, header_ids: Sequence[str]) -> dict[str, tuple[bool, list[dict[str, Any]]]]:
        """For each header id (lowercase): the derived flag and the header's lines."""
        ids = sorted({h.lower() for h in header_ids if h})
        lines: dict[str, list[dict[str, Any]]] = {h: [] for h in ids}
        select = [
            self.line_pk,
            self.parent,
            "_productid_value",
            "isproductoverridden",
            "sequencenumber",
            FLAG,
        ]
        for chunk in _chunks(ids):
            for page in self.crm.read(self.line_entity, select=select, filter=in_filter(self.parent, chunk)):
                for line in page:
                    lines.setdefault(str(line.get(self.parent)).lower(), []).append(line)
        products = sorted(
            {str(x["_productid_value"]) for ls in lines.values() for x in ls if x.get("_productid_value")}
        )
        external: set[str] = set()
        for chunk in _chunks(products):
            flt = in_filter("productid", chunk)
            for page in self.crm.read("products", select=["productid", PRODUCT_FLAG], filter=flt):
                external |= {str(p["productid"]).lower() for p in page if p.get(PRODUCT_FLAG) is True}
        return {
            hid: (
                all(
                    not x.get("isproductoverridden")
                    and str(x.get("_productid_value") or "").lower() in external
                    for x in mine
                ),
                mine,
            )
            for hid, mine in lines.items()
        }

    def prepare(self, rows: list[dict[str, Any]], dry_run: bool = False) -> None:
        """Derive the flag into ``rows`` (headers as read, before the task's filter), and write it and
        missing line numbers back where the CRM lets p2c edit the record.

        Dataverse refuses edits of an active (or closed) quote and its lines, so for those the
        engine's evaluation is what the filters read (the line task derives it the same way)."""
        derived = self.derive([str(r.get(self.pk) or "") for r in rows])
        header_ops: list[WriteOp] = []
        line_ops: list[WriteOp] = []
        for row in rows:
            flag, mine = derived.get(str(row.get(self.pk)).lower(), (True, []))
            editable = row.get("statecode") in (0, None)
            if row.get(FLAG) is not flag and editable:
                header_ops.append(WriteOp(OpKind.UPDATE, {self.pk: row[self.pk]}, {FLAG: flag}))
            row[FLAG] = flag
            if not editable:
                continue
            for number, line in number_lines(mine):
                change: dict[str, Any] = {}
                if line.get(FLAG) is not flag:
                    change[FLAG] = flag
                if line.get("sequencenumber") is None:
                    change["sequencenumber"] = number
                if change:
                    line_ops.append(WriteOp(OpKind.UPDATE, {self.line_pk: line[self.line_pk]}, change))
        if dry_run:  # a plan writes nothing
            return
        # lines first: a header that says "Yes" must not be read before its lines say so; a failed
        # write-back leaves the CRM's old value, the engine goes on with the derived one
        for entity, ops in ((self.line_entity, line_ops), (self.entity, header_ops)):
            if ops:
                self.crm.write(entity, ops)

    def flag_lines(self, rows: list[dict[str, Any]]) -> dict[str, bool]:
        """The derived flag into line ``rows`` (before the line task's filter); flags by header id."""
        flags = {h: f for h, (f, _l) in self.derive([str(r.get(self.parent) or "") for r in rows]).items()}
        for row in rows:
            row[FLAG] = flags.get(str(row.get(self.parent) or "").lower(), False)
        return flags


class LineFollower:
    """A line task's header checks (see the module docstring)."""

    def __init__(
        self,
        project: Project,
        task: Task,
        store: StateStore,
        crm: Connector,
        shared: MutableMapping[str, Any],
    ) -> None:
        self.store = store
        self.crm = crm
        self.shared = shared
        self.header_entity, self.parent = LINE_PARENTS[task.source.entity]
        self.header_task = next(
            (
                t
                for t in project.tasks
                if t.source.entity == self.header_entity and t.target.system is task.target.system
            ),
            None,
        )
        catalog: Catalog = project.catalog
        self.header_pk = catalog.entity(System.CRM, self.header_entity).primary_key or ""
        self.lines = HeaderLines(crm, self.header_entity, self.header_pk)
        self._flags: dict[str, bool] = {}
        self._keep: Callable[[Mapping[str, Any]], Any] | None = None
        text = ""
        if self.header_task is not None:
            text = " and ".join(
                f"({f})" for f in (self.header_task.builtin_filter, self.header_task.extra_filter) if f
            )
            if text:
                schema = catalog.entity(System.CRM, self.header_entity).filter_schema(catalog.enums)
                self._keep = compile_filter(parse_filter(text, Dialect.DATAVERSE), schema, Dialect.DATAVERSE)
        self.select = sorted({self.header_pk, *filter_fields(text)} - {FLAG}) if self.header_task else []

    def before_filter(self, rows: list[dict[str, Any]]) -> None:
        self._flags.update(self.lines.flag_lines(rows))

    def written_headers_key(self) -> str:
        return f"written:{self.header_entity}"

    def extra_keys(self, line_pk: str) -> set[str]:
        """Lines of headers the header task wrote in this run: their lines go now, changed or not."""
        headers = sorted(self.shared.get(self.written_headers_key(), set()))
        out: set[str] = set()
        for chunk in _chunks(headers):
            line_entity = DOCUMENTS[self.header_entity][0]
            for page in self.crm.read(line_entity, select=[line_pk], filter=in_filter(self.parent, chunk)):
                out |= {str(r[line_pk]) for r in page}
        return out

    def check(self, rows: Sequence[Mapping[str, Any]]) -> tuple[dict[int, P2CError], dict[int, str]]:
        """Waiting errors and skip reasons by ``id(row)``."""
        errors: dict[int, P2CError] = {}
        skips: dict[int, str] = {}
        if self.header_task is None:
            return errors, skips
        ids = sorted({str(r.get(self.parent)).lower() for r in rows if r.get(self.parent)})
        headers: dict[str, Mapping[str, Any]] = {}
        for chunk in _chunks(ids):
            for page in self.crm.read(
                self.header_entity, select=self.select, filter=in_filter(self.header_pk, chunk)
            ):
                headers |= {str(h[self.header_pk]).lower(): h for h in page}
        links = self.store.links(self.header_task.name, [str(h[self.header_pk]) for h in headers.values()])
        linked = {k.lower() for k in links}
        for row in rows:
            hid = str(row.get(self.parent) or "").lower()
            header = headers.get(hid)
            if header is not None:
                header = {**header, FLAG: self._flags.get(hid, False)}
            if header is None or (self._keep is not None and not self._keep(header)):
                skips[id(row)] = (
                    f"its {self.header_entity[:-1]} is not synchronised by {self.header_task.name} (filter)"
                )
            elif hid not in linked:
                errors[id(row)] = WaitingForParentError(
                    f"its {self.header_entity[:-1]} {hid} is not written by {self.header_task.name} yet",
                    entity=self.header_entity,
                    key=hid,
                    field=self.parent,
                )
        return errors, skips


def discount_split(
    rows: Sequence[dict[str, Any]], crm: Connector, shared: MutableMapping[str, Any], entity: str
) -> dict[int, P2CError]:
    """``$discount_per_unit`` / ``$discount_charge`` on every row; errors by ``id(row)``."""
    precisions = shared.get("currency_precision")
    if precisions is None:
        precisions = {}
        for page in crm.read("transactioncurrencies", select=["transactioncurrencyid", "currencyprecision"]):
            for r in page:
                precisions[str(r["transactioncurrencyid"]).lower()] = int(r.get("currencyprecision") or 2)
        shared["currency_precision"] = precisions
    errors: dict[int, P2CError] = {}
    for row in rows:
        precision = precisions.get(str(row.get("_transactioncurrencyid_value") or "").lower(), 2)
        discount = Decimal(str(row.get("manualdiscountamount") or 0))
        quantity = Decimal(str(row.get("quantity") or 0))
        try:
            per_unit, charge = split_line_discount(quantity, discount, precision, entity=entity)
        except RecordError as exc:
            errors[id(row)] = exc
            continue
        row["$discount_per_unit"] = per_unit
        row["$discount_charge"] = charge
    return errors
