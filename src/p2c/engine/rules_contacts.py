"""The engine's side of the contact rules: "is active customer" and the route of each contact.

- ``derive_is_active_customer``: the contacts that are the customer of a quote, an order or an
  invoice are read once per run (one paged read of ``_customerid_value`` from each of ``quotes``,
  ``salesorders`` and ``invoices``, shared by the run's contact tasks); each row gets
  ``$is_active_customer`` and the CRM's ``p2c_isactivecustomer`` is written back where it differs.
  A quote created for a contact does not change the contact, so change tracking would not return
  it: :meth:`ContactRules.stale_keys` names the contacts whose stored flag disagrees, and the task
  reads them too.
- ``route_contact``: each contact's route (:func:`p2c.rules.route_contact`). The parent's type
  comes from the row's ``lookuplogicalname`` annotation when the read had it, else from one bulk
  read of the parents among ``accounts``. A task keeps one route, decided by its target entity
  (customers → ``customer``, contact persons → ``contact_person``); the other rows are skipped
  with the route's reason, visible in the history.

Customer ids are compared as lowercase GUIDs without the lookup type: a GUID names one record in
one table, so a contact id among the customers is a contact customer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

from p2c.connectors.base import Connector, OpKind, WriteOp
from p2c.engine.related import in_filter
from p2c.errors import P2CError, RecordError
from p2c.rules import ContactRoute, is_active_customer, route_contact
from p2c.rules.contacts import LOOKUP_TYPE, normalize_ids

__all__ = ["ACTIVE_FLAG", "ContactRules", "route_of_target"]

ACTIVE_FLAG = "p2c_isactivecustomer"
DOCUMENTS = ("quotes", "salesorders", "invoices")
PARENT = "_parentcustomerid_value"

#: the route a task keeps, by its target entity (the template format cannot say it)
ROUTES = {"CustomersV3": ContactRoute.CUSTOMER, "CDSContactPersonsV2": ContactRoute.CONTACT_PERSON}


def route_of_target(entity: str) -> ContactRoute | None:
    return ROUTES.get(entity)


class ContactRules:
    """Contact rules of one task run; ``shared`` is the run's cache (customer ids read once)."""

    def __init__(
        self,
        crm: Connector,
        entity: str,
        target_entity: str,
        shared: MutableMapping[str, Any],
        *,
        write_flag: bool,
    ) -> None:
        self.crm = crm
        self.entity = entity
        self.keeps = route_of_target(target_entity)
        self.shared = shared
        self.write_flag = write_flag

    def customer_ids(self) -> frozenset[str]:
        found = self.shared.get("contact_customer_ids")
        if found is None:
            ids: list[Any] = []
            for entity in DOCUMENTS:
                for page in self.crm.read(entity, select=["_customerid_value"]):
                    ids.extend(r.get("_customerid_value") for r in page)
            found = self.shared["contact_customer_ids"] = normalize_ids(ids)
        return frozenset(found)

    def stale_keys(self, have: set[str]) -> set[str]:
        """Contacts not in this read whose stored flag disagrees with their quotes, orders and invoices."""
        if not self.write_flag:
            return set()
        flagged: set[str] = set()
        for page in self.crm.read(self.entity, select=["contactid"], filter=f"{ACTIVE_FLAG} eq true"):
            flagged |= normalize_ids(r.get("contactid") for r in page)
        customers = self.customer_ids()
        # customers may include accounts: reading them by contact id simply finds nothing
        return (flagged ^ customers) - {k.lower() for k in have}

    def derive(
        self, rows: Sequence[dict[str, Any]], key_of: Callable[[Mapping[str, Any]], str], dry_run: bool
    ) -> dict[str, P2CError]:
        """``$is_active_customer`` on every row; the CRM's flag written back where it differs."""
        customers = self.customer_ids()
        ops: list[WriteOp] = []
        for row in rows:
            active = is_active_customer(str(row.get("contactid") or ""), customers, (), ())
            row["$is_active_customer"] = active
            if self.write_flag and bool(row.get(ACTIVE_FLAG)) != active:
                ops.append(
                    WriteOp(OpKind.UPDATE, {"contactid": row["contactid"]}, {ACTIVE_FLAG: active}, ref=row)
                )
        errors: dict[str, P2CError] = {}
        if not ops or dry_run:
            return errors
        for op, res in zip(ops, self.crm.write(self.entity, ops), strict=True):
            if res.ok:
                op.ref[ACTIVE_FLAG] = op.payload[ACTIVE_FLAG]
            elif res.error is not None:
                key = key_of(op.ref)
                errors[key] = RecordError(
                    f"could not write 'is active customer' back to the CRM: {res.error.reason}",
                    entity=self.entity,
                    key=key,
                    field=ACTIVE_FLAG,
                    status=res.error.status,
                )
        return errors

    def route(self, rows: Sequence[dict[str, Any]]) -> dict[int, str]:
        """``$contact_route`` and ``$parent_account_id`` on every row; skip reasons by ``id(row)``."""
        unknown = sorted(
            {str(r[PARENT]).lower() for r in rows if r.get(PARENT) and not r.get(PARENT + LOOKUP_TYPE)}
        )
        accounts: set[str] = set()
        for i in range(0, len(unknown), 200):
            for page in self.crm.read(
                "accounts", select=["accountid"], filter=in_filter("accountid", unknown[i : i + 200])
            ):
                accounts |= normalize_ids(r.get("accountid") for r in page)
        skips: dict[int, str] = {}
        for row in rows:
            contact = row
            parent = str(row.get(PARENT) or "").lower()
            if parent and not row.get(PARENT + LOOKUP_TYPE):
                contact = {**row, PARENT + LOOKUP_TYPE: "account" if parent in accounts else "contact"}
            routing = route_contact(contact, bool(row.get("$is_active_customer")))
            row["$contact_route"] = routing.route.value
            row["$parent_account_id"] = routing.parent_account_id
            if self.keeps is not None and routing.route is not self.keeps:
                skips[id(row)] = (
                    f"for the other contact task: {routing.reason}" if routing.synced else routing.reason
                )
        return skips
