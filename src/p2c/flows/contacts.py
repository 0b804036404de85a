"""Flow 3, Contacts → Contacts or Customers (CRM → ERP).

- ``generate_contact_number``: a contact without a number gets ``CON-01000-BVRCPS`` (prefix
  ``contact_number_prefix``), written back to the CRM first (:mod:`p2c.flows.numbers`).
- ``derive_is_active_customer``: ``$is_active_customer`` = the contact is the customer of a quote,
  an order or an invoice (kept from those tables' change feeds in the store,
  :mod:`p2c.engine.customers`, shared by the run's contact tasks through
  :class:`~p2c.flows.cache.RunCache`); the CRM's ``p2c_isactivecustomer`` is written back where
  it differs. A quote created for a contact does not change the contact, so change tracking would
  not return it: :meth:`revisit` names the contacts whose documents came, went or changed
  customer, and the task reads them too.
- ``route_contact``: each contact's route (:func:`p2c.rules.route_contact`). The parent's type
  comes from the row's ``lookuplogicalname`` annotation when the read had it, else from one bulk
  read of the parents among ``accounts``. A task keeps one route, decided by its target entity
  (customers → ``customer``, contact persons → ``contact_person``); the other rows are skipped
  with the route's reason, visible in the history.

Customer ids are compared as lowercase GUIDs without the lookup type: a GUID names one record in
one table, so a contact id among the customers is a contact customer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from p2c.connectors import OpKind, WriteOp
from p2c.flows.base import Flow, FlowContext, Prepared, SideWrite, SideWriteKind, SkipReason
from p2c.flows.numbers import SeenNumbers, generate_numbers
from p2c.rules import (
    LOOKUP_TYPE,
    ContactRoute,
    FlowName,
    RuleName,
    is_active_customer,
    normalize_ids,
    route_contact,
)
from p2c.settings import System

__all__ = ["ACTIVE_FLAG", "ContactsFlow"]

# p2c's names; the project's crm_schema gives the environment's (``self.active_flag``, ``self.number``)
ACTIVE_FLAG = "p2c_isactivecustomer"
NUMBER = "p2c_contactnumber"
PARENT = "_parentcustomerid_value"

#: the route a task keeps, by its target entity (the template format cannot say it)
ROUTES = {"CustomersV3": ContactRoute.CUSTOMER, "CDSContactPersonsV2": ContactRoute.CONTACT_PERSON}


class ContactsFlow(Flow):
    name: ClassVar[FlowName] = FlowName.CONTACTS

    def __init__(self, ctx: FlowContext) -> None:
        super().__init__(ctx)
        self.keeps = ROUTES.get(self.task.target.entity)
        entity = self.task.source.entity
        spec = ctx.project.catalog.entity(System.CRM, entity)
        self.active_flag = ctx.project.crm_schema.column(entity, ACTIVE_FLAG)
        self.number = ctx.project.crm_schema.column(entity, NUMBER)
        self.write_flag = (
            ctx.has(RuleName.DERIVE_IS_ACTIVE_CUSTOMER) and spec.field(self.active_flag) is not None
        )
        self.numbers = SeenNumbers(ctx.unsettled)  # the sequence used across the pages of a read

    def side_targets(self) -> set[tuple[System, str]]:
        if self.write_flag or self.ctx.has(RuleName.GENERATE_CONTACT_NUMBER):
            return {(System.CRM, self.task.source.entity)}
        return set()

    def revisit(self) -> set[str]:
        """Contacts whose flag may disagree with their quotes, orders and invoices:
        those whose documents changed (kept in the store), else every one whose CRM flag differs."""
        if not self.write_flag:
            return set()
        index = self.ctx.cache.customer_index()
        if index is not None:
            return set(index.touched())
        rows = self.ctx.reads.rows(
            System.CRM, self.task.source.entity, ["contactid"], f"{self.active_flag} eq true"
        )
        flagged = normalize_ids(r.get("contactid") for r in rows)
        # customers may include accounts: reading them by contact id simply finds nothing
        return set(flagged ^ self.ctx.cache.contact_customers)

    def prepare_read(
        self, rows: list[dict[str, Any]], key_of: Callable[[Mapping[str, Any]], str]
    ) -> Prepared:
        out = Prepared()
        if self.ctx.has(RuleName.GENERATE_CONTACT_NUMBER):
            prefix = self.ctx.project.settings.contact_number_prefix
            out.merge(generate_numbers(self.ctx, rows, key_of, self.number, prefix, self.numbers))
        if self.ctx.has(RuleName.DERIVE_IS_ACTIVE_CUSTOMER):
            out.merge(self._derive(rows, key_of))
        return out

    def _derive(self, rows: Sequence[dict[str, Any]], key_of: Callable[[Mapping[str, Any]], str]) -> Prepared:
        """``$is_active_customer`` on every row; the CRM's flag written back where it differs."""
        out = Prepared()
        index = self.ctx.cache.customer_index()
        customers = (
            self.ctx.cache.contact_customers
            if index is None
            else index.members(r.get("contactid") for r in rows)
        )
        for row in rows:
            active = is_active_customer(str(row.get("contactid") or ""), customers, (), ())
            row["$is_active_customer"] = active
            if self.write_flag and bool(row.get(self.active_flag)) != active:
                row[self.active_flag] = active
                out.writes.append(
                    SideWrite(
                        SideWriteKind.ACTIVE_CUSTOMER_FLAG,
                        System.CRM,
                        self.task.source.entity,
                        WriteOp(
                            OpKind.UPDATE,
                            {"contactid": row["contactid"]},
                            {self.active_flag: active},
                            ref=key_of(row),
                        ),
                        "write 'is active customer' back to the CRM",
                        record=key_of(row),
                        blocking=True,
                        field=self.active_flag,
                    )
                )
        return out

    def prepare_chunk(self, rows: Sequence[dict[str, Any]]) -> Prepared:
        """``$contact_route`` and ``$parent_account_id`` on every row; the other route's rows skipped."""
        out = Prepared()
        if not self.ctx.has(RuleName.ROUTE_CONTACT):
            return out
        unknown = {str(r[PARENT]).lower() for r in rows if r.get(PARENT) and not r.get(PARENT + LOOKUP_TYPE)}
        found = self.ctx.reads.by_values(System.CRM, "accounts", "accountid", sorted(unknown), ["accountid"])
        accounts = normalize_ids(r.get("accountid") for r in found)
        for row in rows:
            contact = row
            parent = str(row.get(PARENT) or "").lower()
            if parent and not row.get(PARENT + LOOKUP_TYPE):
                contact = {**row, PARENT + LOOKUP_TYPE: "account" if parent in accounts else "contact"}
            routing = route_contact(contact, bool(row.get("$is_active_customer")))
            row["$contact_route"] = routing.route.value
            row["$parent_account_id"] = routing.parent_account_id
            if self.keeps is not None and routing.route is not self.keeps:
                if routing.synced:
                    out.skip(row, SkipReason.OTHER_ROUTE, f"for the other contact task: {routing.reason}")
                else:
                    out.skip(row, SkipReason.NOT_ROUTED, routing.reason)
        return out
