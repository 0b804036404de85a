"""The engine's side of the business rules a task names (``rules:`` in a template).

The rule *logic* is pure and lives in :mod:`p2c.rules`; this module does what needs the services
or the store around it:

- ``generate_account_number`` / ``generate_contact_number``: numbers for records without one
  (``ACC-01000-BVRCPS``), written back to the CRM *before* anything goes to the ERP, so the key
  exists at the source first; the highest sequence used is kept in the store so numbers keep rising.
- ``report_duplicate_numbers``: records sharing a number (in this read, or with an already
  synchronised record) fail, naming each other; nothing is merged.
- ``choose_price_list``: ``$price_list`` for each row from the CRM's price lists.
- ``set_product_state``: products new to p2c are activated when ``products_created_active``.
- contacts (:mod:`p2c.engine.rules_contacts`): ``derive_is_active_customer``, ``route_contact``.
- documents with lines (:mod:`p2c.engine.rules_lines`): ``lines_follow_headers`` (the derived
  products flag and line numbers on header tasks; waits, skips and deletes on line tasks),
  ``split_line_discount``; CRM orders are create-only.
- ERP → CRM orders (:mod:`p2c.engine.rules_orders`): ``map_processing_status``,
  ``keep_order_active``, ``freight_tax_line``, ``restore_line_discount``.
- invoices (:mod:`p2c.engine.rules_invoices`): ``invoice_marks_order``, ``invoice_line_tax``.

Rules that read something once per run share ``shared`` (one dict per :meth:`Engine.run`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from p2c.connectors.base import Connector, OpKind, WriteOp, WriteResult
from p2c.engine.rules_contacts import ACTIVE_FLAG, ContactRules
from p2c.engine.rules_invoices import InvoiceRules
from p2c.engine.rules_lines import DOCUMENTS, LINE_PARENTS, HeaderLines, LineFollower, discount_split
from p2c.engine.rules_orders import OrderRules
from p2c.errors import P2CError, RecordError
from p2c.project import Project, Task
from p2c.rules import RULES, NumberGenerator, choose_price_list, find_duplicates
from p2c.settings import System
from p2c.store import Link, StateStore

__all__ = ["IMPLEMENTED", "EngineRules"]

NUMBERING = {
    "generate_account_number": ("accountnumber", "account_number_prefix"),
    "generate_contact_number": ("p2c_contactnumber", "contact_number_prefix"),
}


#: The rules this engine applies; a template naming another one cannot run yet (Engine.run refuses it).
IMPLEMENTED = frozenset(
    {
        *NUMBERING,
        "report_duplicate_numbers",
        "choose_price_list",
        "set_product_state",
        "derive_is_active_customer",
        "route_contact",
        "split_line_discount",
        "lines_follow_headers",
        "map_processing_status",
        "keep_order_active",
        "freight_tax_line",
        "restore_line_discount",
        "invoice_marks_order",
        "invoice_line_tax",
        "invoice_line_discount",
    }
)


class EngineRules:
    def __init__(
        self,
        project: Project,
        task: Task,
        store: StateStore,
        connectors: Mapping[System, Connector],
        rng: random.Random,
        shared: dict[str, Any] | None = None,
    ) -> None:
        self.project = project
        self.task = task
        self.store = store
        self.connectors = connectors
        self.rng = rng
        self.names = set(task.rules)
        self._price_lists: list[dict[str, Any]] | None = None
        self._row_errors: dict[int, P2CError] = {}
        self._skips: dict[int, str] = {}
        self.shared: dict[str, Any] = shared if shared is not None else {}
        self.contacts: ContactRules | None = None
        self.header_lines: HeaderLines | None = None
        self.follower: LineFollower | None = None
        self.orders: OrderRules | None = None
        if self.names & {
            "map_processing_status",
            "keep_order_active",
            "freight_tax_line",
            "restore_line_discount",
        }:
            self.orders = OrderRules(connectors[System.CRM], self.names, self.shared)
        self.invoices: InvoiceRules | None = None
        if self.names & {"invoice_marks_order", "invoice_line_tax", "invoice_line_discount"}:
            self.invoices = InvoiceRules(connectors[System.CRM], self.names, self.shared)
        crm_source = task.source.system is System.CRM
        if "lines_follow_headers" in self.names and crm_source and task.source.entity in DOCUMENTS:
            pk = project.catalog.entity(System.CRM, task.source.entity).primary_key or ""
            self.header_lines = HeaderLines(connectors[System.CRM], task.source.entity, pk)
        if "lines_follow_headers" in self.names and crm_source and task.source.entity in LINE_PARENTS:
            self.follower = LineFollower(project, task, store, connectors[System.CRM], self.shared)
        if self.names & {"derive_is_active_customer", "route_contact"}:
            spec = project.catalog.entity(System.CRM, task.source.entity)
            self.contacts = ContactRules(
                connectors[System.CRM],
                task.source.entity,
                task.target.entity,
                self.shared,
                write_flag="derive_is_active_customer" in self.names and spec.field(ACTIVE_FLAG) is not None,
            )

    def requires(self) -> set[str]:
        out: set[str] = set()
        for name in self.names:
            rule = RULES.get(name)
            if rule is not None:
                out |= {f for f in rule.requires if not f.startswith("$")}
        if "split_line_discount" in self.names:
            out.add("_transactioncurrencyid_value")
        if self.follower is not None:
            out.add(self.follower.parent)
        if self.header_lines is not None:
            out |= {self.header_lines.pk, "statecode", "p2c_hasexternallymaintainedproductsonly"}
        return out

    def before_filter(self, dry_run: bool) -> Callable[[list[dict[str, Any]]], None] | None:
        """What the reader calls on each page before the task's filter (a header's derived flag)."""
        lines, follower = self.header_lines, self.follower
        if lines is not None:
            return lambda rows: lines.prepare(rows, dry_run)
        if follower is not None:
            return follower.before_filter
        return None

    @property
    def create_only(self) -> bool:
        """CRM orders go to the ERP once: after activation the ERP owns the order (P2C.md), so a
        linked order is not rewritten from the CRM (the format has no create-only flag yet)."""
        return self.header_lines is not None and self.task.source.entity == "salesorders"

    @property
    def deletes_follow(self) -> bool:
        """Source deletes are deleted at the target (lines follow headers)."""
        return "lines_follow_headers" in self.names and self.header_lines is None

    # -- before mapping: the whole read --------------------------------------------------------------

    def before(
        self,
        rows: list[dict[str, Any]],
        key_of: Callable[[Mapping[str, Any]], str],
        dry_run: bool,
        task_run_id: int | None = None,
    ) -> dict[str, P2CError]:
        """Errors by source key for records that must not go on (duplicates, failed write-backs)."""
        errors: dict[str, P2CError] = {}
        for name, (field, setting) in NUMBERING.items():
            if name in self.names:
                prefix = str(getattr(self.project.settings, setting))
                errors.update(self._numbers(rows, key_of, field, prefix, dry_run, task_run_id))
        if "report_duplicate_numbers" in self.names and self.task.key_source:
            errors.update(self._duplicates(rows, key_of, self.task.key_source[0]))
        if self.contacts is not None and "derive_is_active_customer" in self.names:
            errors.update(self.contacts.derive(rows, key_of, dry_run))
        return errors

    def extra_keys(self, have: set[str]) -> set[str]:
        """Source keys to read besides the changes: records a rule must revisit though they did not change."""
        if self.contacts is not None and "derive_is_active_customer" in self.names:
            return self.contacts.stale_keys(have)
        if self.follower is not None:
            pk = self.project.catalog.entity(System.CRM, self.task.source.entity).primary_key or ""
            return self.follower.extra_keys(pk)
        return set()

    def _numbers(
        self,
        rows: list[dict[str, Any]],
        key_of: Callable[[Mapping[str, Any]], str],
        field: str,
        prefix: str,
        dry_run: bool,
        task_run_id: int | None,
    ) -> dict[str, P2CError]:
        missing = [r for r in rows if not str(r.get(field) or "").strip()]
        if not missing:
            return {}
        seq_name = f"~sequence:{prefix}"
        stored = self.store.cursor(seq_name)
        start = max(self.project.settings.number_start, int(stored) + 1 if stored else 0)
        gen = NumberGenerator(prefix, (r.get(field) for r in rows), self.rng, start=start)
        crm = self.connectors[System.CRM]
        spec = self.project.catalog.entity(System.CRM, self.task.source.entity)
        ops = []
        for row in missing:
            number = gen.next()
            ops.append(
                WriteOp(OpKind.UPDATE, {spec.primary_key: row[spec.primary_key]}, {field: number}, ref=row)
            )
        errors: dict[str, P2CError] = {}
        if dry_run:
            for op in ops:
                op.ref[field] = op.payload[field]
            return errors
        results = crm.write(self.task.source.entity, ops)
        for op, res in zip(ops, results, strict=True):
            if res.ok:
                op.ref[field] = op.payload[field]
            else:
                assert res.error is not None
                errors[key_of(op.ref)] = RecordError(
                    f"could not write the generated number {op.payload[field]} back to the CRM: {res.error.reason}",
                    entity=self.task.source.entity,
                    key=key_of(op.ref),
                    field=field,
                    status=res.error.status,
                )
        if task_run_id is not None:
            self.store.commit_batch(task_run_id, [], cursor=(seq_name, str(gen.sequence - 1)))
        return errors

    def _duplicates(
        self, rows: list[dict[str, Any]], key_of: Callable[[Mapping[str, Any]], str], field: str
    ) -> dict[str, P2CError]:
        errors: dict[str, P2CError] = {}
        ids: list[dict[str, Any]] = [{"id": key_of(r), field: r.get(field)} for r in rows]
        for number, keys in find_duplicates(ids, field).items():
            for key in keys:
                others = ", ".join(k for k in keys if k != key)
                errors[key] = RecordError(
                    f"{field} {number!r} is not unique in the CRM (also on {others}); not merged — give each "
                    "record its own number",
                    entity=self.task.source.entity,
                    key=key,
                    field=field,
                )
        companies = list(self.project.legal_entities)
        # one bulk query, not one per record: a 20 000-account load would spend seconds here
        wanted = [
            f"{c},{i[field]}" for i in ids if i[field] and str(i["id"]) not in errors for c in companies
        ]
        synced = self.store.links_by_target(self.task.name, wanted)
        for item in ids:
            number, key = item[field], str(item["id"])
            if key in errors or not number:
                continue
            for company in companies:
                link = synced.get(f"{company},{number}")
                if link is not None and link.source_key != key:
                    errors[key] = RecordError(
                        f"{field} {number!r} already belongs to {link.source_key}, synchronised before; not merged",
                        entity=self.task.source.entity,
                        key=key,
                        field=field,
                    )
        return errors

    # -- per chunk, after related keys are known ----------------------------------------------------------

    def prepare(self, rows: Sequence[dict[str, Any]]) -> None:
        """Pseudo-fields the mappings read (``$price_list``), before related keys are resolved."""
        self._row_errors.clear()
        self._skips.clear()
        if self.contacts is not None and "route_contact" in self.names:
            self._skips.update(self.contacts.route(rows))
        if self.follower is not None:
            errors, skips = self.follower.check(rows)
            self._row_errors.update(errors)
            self._skips.update(skips)
        if self.invoices is not None:
            for key, exc in self.invoices.prepare(rows).items():
                self._row_errors.setdefault(key, exc)
        if self.orders is not None:
            for key, exc in self.orders.prepare(rows).items():
                self._row_errors.setdefault(key, exc)
        if "split_line_discount" in self.names:
            for key, exc in discount_split(
                rows, self.connectors[System.CRM], self.shared, self.task.source.entity
            ).items():
                self._row_errors.setdefault(key, exc)
        if "choose_price_list" in self.names:
            lists = self._load_price_lists()
            preferred = self.project.settings.price_list
            for row in rows:
                try:
                    row["$price_list"] = choose_price_list(
                        lists, row.get("CurrencyCode"), preferred, entity=self.task.target.entity
                    )
                except RecordError as exc:
                    self._row_errors[id(row)] = exc

    def check(self, row: Mapping[str, Any]) -> P2CError | None:
        return self._row_errors.get(id(row))

    def skip(self, row: Mapping[str, Any]) -> str | None:
        """Why a rule keeps ``row`` from this task (a contact of another route), or None."""
        return self._skips.get(id(row))

    def _load_price_lists(self) -> list[dict[str, Any]]:
        if self._price_lists is None:
            crm = self.connectors[System.CRM]
            iso: dict[str, str] = {}
            for page in crm.read(
                "transactioncurrencies", select=["transactioncurrencyid", "isocurrencycode"]
            ):
                for r in page:
                    iso[str(r["transactioncurrencyid"]).lower()] = str(r.get("isocurrencycode") or "")
            lists = []
            for page in crm.read("pricelevels", select=["name", "_transactioncurrencyid_value", "statecode"]):
                for r in page:
                    if r.get("statecode", 0) == 0:
                        lists.append(
                            {
                                "name": r["name"],
                                "currency": iso.get(str(r.get("_transactioncurrencyid_value")).lower()),
                            }
                        )
            self._price_lists = lists
        return self._price_lists

    # -- after writing ---------------------------------------------------------------------------------

    def after_write(
        self,
        written: Sequence[tuple[str, dict[str, Any], WriteResult]],
        links: Mapping[str, Link],
        rows: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, P2CError]:
        errors = self._after_write(written, links)
        if self.orders is not None:
            done = [(k, (rows or {}).get(k, {}), p) for k, p, res in written if res.ok and k not in errors]
            errors.update(self.orders.after_headers(done))
        if self.invoices is not None:
            errors.update(
                self.invoices.after_headers([(k, p) for k, p, res in written if res.ok and k not in errors])
            )
        return errors

    def _after_write(
        self, written: Sequence[tuple[str, dict[str, Any], WriteResult]], links: Mapping[str, Link]
    ) -> dict[str, P2CError]:
        if self.header_lines is not None:  # the line task reads these headers' lines, changed or not
            done = self.shared.setdefault(f"written:{self.task.source.entity}", set())
            done.update(key for key, _p, res in written if res.ok)
        if "set_product_state" not in self.names or not self.project.settings.products_created_active:
            return {}
        fresh = [(key, payload) for key, payload, _res in written if key not in links]
        if not fresh:
            return {}
        ops = [
            WriteOp(
                OpKind.UPDATE,
                {k: p.get(k) for k in self.task.key_target},
                {"statecode": 0, "statuscode": 1},
                ref=key,
            )
            for key, p in fresh
        ]
        errors: dict[str, P2CError] = {}
        for op, res in zip(ops, self.connectors[System.CRM].write(self.task.target.entity, ops), strict=True):
            if not res.ok and res.error is not None:
                errors[op.ref] = RecordError(
                    f"written, but could not be activated: {res.error.reason}",
                    entity=self.task.target.entity,
                    key=op.ref,
                    field="statecode",
                )
        return errors
