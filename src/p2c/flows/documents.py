"""CRM documents with lines going to the ERP (flows 4 and 5a): what quotes and orders share.

On a **header** task (source ``quotes`` or ``salesorders``), ``lines_follow_headers`` looks at each
header's lines before the task's filter runs: it derives "has externally maintained products only"
(Yes exactly when every line has a product whose ``p2c_isexternallymaintained`` is Yes: a write-in
line makes it No) and writes it back to the header and its lines where it differs, and numbers
lines without a ``sequencenumber`` (:func:`p2c.rules.number_lines`), writing the numbers back — so
the built-in filters of both tasks read maintained values. Dataverse refuses edits of an active
(or closed) document and its lines, so for those the derived value is only what the filters read
(the line task derives it the same way). Adding or removing a line changes the header's totals,
so change tracking returns the header again.

On a **line** task it makes lines follow their header:

- a line whose header the header task keeps (its filter) but has not written yet *waits*
  (:class:`~p2c.errors.WaitingForParentError`, retried on later runs);
- a line whose header the header task does not keep (a draft quote, an order that came from the
  ERP) is skipped with that reason; when the header task later writes the header, its lines are
  read again in the same run (:attr:`RunCache.written_headers`), whether they changed or not;
- a line deleted in the CRM (a change-tracking delete) is deleted in the ERP, by its link.

``split_line_discount``: ``$discount_per_unit`` and ``$discount_charge`` from ``quantity`` and
``manualdiscountamount``, rounded to the line currency's ``currencyprecision``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from p2c.connectors import OpKind, WriteOp
from p2c.errors import RecordError, WaitingForLinesError, WaitingForParentError
from p2c.flows.base import Flow, FlowContext, Prepared, SideWrite, SideWriteKind, SkipReason, Written
from p2c.odata import Dialect, compile_filter, filter_fields, parse_filter
from p2c.project import Task
from p2c.rules import RuleName, number_lines, split_line_discount
from p2c.settings import System

__all__ = ["DOCUMENTS", "DocumentsFlow"]

# p2c's names; the project's crm_schema gives each table's (DocumentLines.flag, .line_flag, ...)
FLAG = "p2c_hasexternallymaintainedproductsonly"
PRODUCT_FLAG = "p2c_isexternallymaintained"
TOTAL = "totallineitemamount"  # a header's sum of its lines: a line added, removed or changed moves it

#: header entity set → (line entity set, the line's header lookup value, line primary key)
DOCUMENTS = {
    "quotes": ("quotedetails", "_quoteid_value", "quotedetailid"),
    "salesorders": ("salesorderdetails", "_salesorderid_value", "salesorderdetailid"),
}
LINE_PARENTS = {line: (header, parent) for header, (line, parent, _pk) in DOCUMENTS.items()}


class DocumentLines:
    """A document's lines as the CRM has them: the derived flag and the line numbers."""

    def __init__(self, ctx: FlowContext, header_entity: str) -> None:
        self.ctx = ctx
        self.entity = header_entity
        self.pk = ctx.project.catalog.entity(System.CRM, header_entity).primary_key or ""
        self.line_entity, self.parent, self.line_pk = DOCUMENTS[header_entity]
        schema = ctx.project.crm_schema
        self.flag = schema.column(header_entity, FLAG)
        self.line_flag = schema.column(self.line_entity, FLAG)
        self.product_flag = schema.column("products", PRODUCT_FLAG)

    def derive(self, header_ids: Sequence[str]) -> dict[str, tuple[bool, list[dict[str, Any]]]]:
        """For each header id (lowercase): the derived flag and the header's lines."""
        reads = self.ctx.reads
        ids = sorted({h.lower() for h in header_ids if h})
        lines: dict[str, list[dict[str, Any]]] = {h: [] for h in ids}
        select = [
            self.line_pk,
            self.parent,
            "_productid_value",
            "isproductoverridden",
            "sequencenumber",
            self.line_flag,
        ]
        for line in reads.by_values(System.CRM, self.line_entity, self.parent, ids, select):
            lines.setdefault(str(line.get(self.parent)).lower(), []).append(line)
        products = {
            str(x["_productid_value"]) for ls in lines.values() for x in ls if x.get("_productid_value")
        }
        found = reads.by_values(
            System.CRM, "products", "productid", sorted(products), ["productid", self.product_flag]
        )
        external = {str(p["productid"]).lower() for p in found if p.get(self.product_flag) is True}
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

    def write_backs(self, rows: list[dict[str, Any]]) -> list[SideWrite]:
        """Derive the flag into header ``rows`` (as read, before the task's filter); the flag and
        missing line numbers written back where the CRM lets p2c edit the document. Lines come
        first: a header that says "Yes" must not be read before its lines say so."""
        derived = self.derive([str(r.get(self.pk) or "") for r in rows])
        header_writes: list[SideWrite] = []
        line_writes: list[SideWrite] = []
        for row in rows:
            hid = str(row.get(self.pk) or "")
            flag, mine = derived.get(hid.lower(), (True, []))
            editable = row.get("statecode") in (0, None)
            if row.get(self.flag) is not flag and editable:
                op = WriteOp(OpKind.UPDATE, {self.pk: row[self.pk]}, {self.flag: flag}, ref=hid)
                header_writes.append(self._side(SideWriteKind.PRODUCTS_FLAG, self.entity, op, hid))
            row[self.flag] = flag
            if not editable:
                continue
            for number, line in number_lines(mine):
                # one write per purpose, each with its own outcome; the engine sends a line's
                # number and flag as one update of the row (p2c.engine.writes.coalesce)
                lkey = {self.line_pk: line[self.line_pk]}
                if line.get("sequencenumber") is None:
                    op = WriteOp(OpKind.UPDATE, lkey, {"sequencenumber": number}, ref=hid)
                    line_writes.append(self._side(SideWriteKind.LINE_NUMBER, self.line_entity, op, hid))
                if line.get(self.line_flag) is not flag:
                    op = WriteOp(OpKind.UPDATE, lkey, {self.line_flag: flag}, ref=hid)
                    line_writes.append(self._side(SideWriteKind.PRODUCTS_FLAG, self.line_entity, op, hid))
        return line_writes + header_writes

    @staticmethod
    def _side(kind: SideWriteKind, entity: str, op: WriteOp, header: str) -> SideWrite:
        what = (
            "number the line" if kind is SideWriteKind.LINE_NUMBER else "write the derived products flag back"
        )
        # a failed write-back leaves the CRM's old value; the engine goes on with the derived one
        return SideWrite(kind, System.CRM, entity, op, what, record=header, blocking=False)

    def flag_lines(self, rows: list[dict[str, Any]]) -> dict[str, bool]:
        """The derived flag into line ``rows`` (before the line task's filter); flags by header id."""
        flags = {h: f for h, (f, _l) in self.derive([str(r.get(self.parent) or "") for r in rows]).items()}
        for row in rows:
            row[self.line_flag] = flags.get(str(row.get(self.parent) or "").lower(), False)
        return flags


class DocumentsFlow(Flow):
    """``lines_follow_headers`` and ``split_line_discount`` for CRM quotes or orders going to the ERP."""

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        entity = self.task.source.entity
        follows = ctx.has(RuleName.LINES_FOLLOW_HEADERS)
        self.header = DocumentLines(ctx, entity) if follows and entity in DOCUMENTS else None
        self.line_of: DocumentLines | None = None
        self._flags: dict[str, bool] = {}
        self._keep: Callable[[Mapping[str, Any]], Any] | None = None
        self.header_task: Task | None = None
        self.deletes_follow = follows and self.header is None
        if follows and entity in LINE_PARENTS:
            self._follow(*LINE_PARENTS[entity])
        # the task that sends this header's lines: a header waits while one of them cannot be sent
        self.line_task: Task | None = None
        if self.header is not None:
            self.line_task = next(
                (
                    t
                    for t in ctx.project.tasks
                    if t.source.entity == self.header.line_entity
                    and t.target.system is self.task.target.system
                ),
                None,
            )

    def _follow(self, header_entity: str, parent: str) -> None:
        ctx = self.ctx
        self.parent = parent
        self.line_of = DocumentLines(ctx, header_entity)
        self.header_task = next(
            (
                t
                for t in ctx.project.tasks
                if t.source.entity == header_entity and t.target.system is self.task.target.system
            ),
            None,
        )
        text = ""
        if self.header_task is not None:
            text = " and ".join(
                f"({f})" for f in (self.header_task.builtin_filter, self.header_task.extra_filter) if f
            )
            if text:
                catalog = ctx.project.catalog
                schema = catalog.entity(System.CRM, header_entity).filter_schema(catalog.enums)
                self._keep = compile_filter(parse_filter(text, Dialect.DATAVERSE), schema, Dialect.DATAVERSE)
        spec = ctx.project.catalog.entity(System.CRM, header_entity)
        self.header_select = sorted(
            {self.line_of.pk, *(f for f in filter_fields(text) if spec.field(f))} - {self.line_of.flag}
        )

    def requires(self) -> set[str]:
        out: set[str] = set()
        if self.ctx.has(RuleName.SPLIT_LINE_DISCOUNT):
            out.add("_transactioncurrencyid_value")
        if self.line_of is not None:
            out |= {self.parent, "quantity", "manualdiscountamount", "priceperunit"}
        if self.header is not None:
            # the lines' total: a header whose lines changed never reads as it did when synced, so
            # it is not taken for unchanged before the flag is derived again (p2c.engine.intake)
            out |= {self.header.pk, "statecode", self.header.flag, TOTAL}
        return out

    def side_targets(self) -> set[tuple[System, str]]:
        if self.header is None:  # line numbers and the products flag: a header task's write-backs
            return set()
        return {(System.CRM, self.task.source.entity), (System.CRM, self.header.line_entity)}

    def qualify(self, header: dict[str, Any]) -> dict[str, Any]:
        """A header row as the header task's filter reads it (an order flow derives its activation)."""
        return header

    def before_filter(self, rows: list[dict[str, Any]]) -> list[SideWrite]:
        if self.header is not None:
            for row in rows:
                row.update(self.qualify(row))
            return self.header.write_backs(rows)
        if self.line_of is not None:
            self._flags.update(self.line_of.flag_lines(rows))
        return []

    def revisit(self) -> set[str]:
        """Lines of headers the header task wrote in this run: their lines go now, changed or not."""
        if self.line_of is None:
            return set()
        headers = sorted(self.ctx.cache.written_headers.get(self.line_of.entity, set()))
        line_pk = self.line_of.line_pk
        found = self.ctx.reads.by_values(
            System.CRM, self.line_of.line_entity, self.parent, headers, [line_pk]
        )
        return {str(r[line_pk]) for r in found}

    def prepare_chunk(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        out = Prepared()
        if self.line_of is not None:
            out.merge(self._check_amounts(rows))
            if self.header_task is not None:
                out.merge(self._check_headers(rows))
        if self.ctx.has(RuleName.SPLIT_LINE_DISCOUNT):
            out.merge(self._split_discounts(rows))
        return out

    def before_write(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        """A document about to be written waits, naming the line, while one of its lines could not
        be sent: the ERP would otherwise get a header and some of its lines. Only documents that
        are written now are checked (an unchanged or create-only one costs nothing)."""
        out = Prepared()
        if self.line_task is None or self.ctx.trial is None or self.header is None:
            return out
        pk, parent = self.header.pk, self.header.parent
        problems = self.ctx.trial.problems(self.line_task.name, parent, [str(r.get(pk) or "") for r in rows])
        for row in rows:
            problem = problems.get(str(row.get(pk) or "").lower())
            if problem is not None:
                reason = f"waits until every line can be sent; {problem}"
                out.fail(
                    row, WaitingForLinesError(reason, entity=self.task.source.entity, key=str(row.get(pk)))
                )
        return out

    def _check_amounts(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        """Lines the ERP would accept but should not: no quantity, or a discount above the line's amount."""
        out = Prepared()
        entity = self.task.source.entity
        for row in rows:
            quantity = Decimal(str(row.get("quantity") or 0))
            discount = Decimal(str(row.get("manualdiscountamount") or 0))
            amount = quantity * Decimal(str(row.get("priceperunit") or 0))
            if quantity <= 0:
                out.fail(
                    row, RecordError(f"quantity {quantity} must be above 0", entity=entity, field="quantity")
                )
            elif discount > amount:
                reason = (
                    f"the discount {discount} is larger than the line's amount {amount} ({quantity} × price)"
                )
                out.fail(row, RecordError(reason, entity=entity, field="manualdiscountamount"))
        return out

    def _check_headers(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        """Lines wait for a header the header task keeps but has not written; the others are skipped."""
        out = Prepared()
        assert self.line_of is not None and self.header_task is not None
        entity, pk = self.line_of.entity, self.line_of.pk
        ids = sorted({str(r.get(self.parent)).lower() for r in rows if r.get(self.parent)})
        headers = {
            str(h[pk]).lower(): h
            for h in self.ctx.reads.by_values(System.CRM, entity, pk, ids, self.header_select)
        }
        linked = {
            k.lower()
            for k in self.ctx.store.links(self.header_task.name, [str(h[pk]) for h in headers.values()])
        }
        for row in rows:
            hid = str(row.get(self.parent) or "").lower()
            header = headers.get(hid)
            if header is not None:
                header = self.qualify({**header, self.line_of.flag: self._flags.get(hid, False)})
            if header is None or (self._keep is not None and not self._keep(header)):
                reason = f"its {entity[:-1]} is not synchronised by {self.header_task.name} (filter)"
                out.skip(row, SkipReason.PARENT_NOT_SYNCED, reason)
            elif hid not in linked:
                out.fail(
                    row,
                    WaitingForParentError(
                        f"its {entity[:-1]} {hid} is not written by {self.header_task.name} yet",
                        entity=entity,
                        key=hid,
                        field=self.parent,
                    ),
                )
        return out

    def _split_discounts(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        """``$discount_per_unit`` / ``$discount_charge`` on every row."""
        out = Prepared()
        currencies = self.ctx.cache.currencies
        for row in rows:
            precision = currencies.precision_of_id(row.get("_transactioncurrencyid_value"))
            discount = Decimal(str(row.get("manualdiscountamount") or 0))
            quantity = Decimal(str(row.get("quantity") or 0))
            try:
                per_unit, charge = split_line_discount(
                    quantity, discount, precision, entity=self.task.source.entity
                )
            except RecordError as exc:
                out.fail(row, exc)
                continue
            row["$discount_per_unit"] = per_unit
            row["$discount_charge"] = charge
        return out

    def after_write(self, written: Sequence[Written]) -> list[SideWrite]:
        if self.header is not None:  # the line task reads these headers' lines, changed or not
            self.ctx.cache.headers_written(self.task.source.entity, (w.key for w in written))
        return []
