"""Where a CRM contact goes in the ERP: a customer, a contact person of a customer, or nowhere.

P2C.md (Contacts → Contacts or Customers): a contact whose "is active customer" is Yes becomes an
ERP customer (PartyType Person); one whose "is active customer" is No and whose company (parent)
is an *account* becomes a contact person of that account's customer; any other contact is not
synchronised, and the reason says why. "Is active customer" is derived, not typed: Yes exactly
when the contact is the customer of a quote, an order or an invoice::

    >>> quotes, orders, invoices = customer_contact_ids([
    ...     {"_customerid_value": "C1", "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "contact"},
    ...     {"_customerid_value": "a1", "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "account"},
    ... ]), frozenset(), frozenset()
    >>> is_active_customer("c1", quotes, orders, invoices), is_active_customer("c2", quotes, orders, invoices)
    (True, False)
    >>> contact = {"contactid": "c2", "_parentcustomerid_value": "A1",
    ...            "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "account"}
    >>> route_contact(contact, active_customer=False)
    Routing(route=<ContactRoute.CONTACT_PERSON: 'contact_person'>, reason='contact person of account a1', parent_account_id='a1')
    >>> route_contact({"contactid": "c3"}, active_customer=False).reason
    'not synchronised: not an active customer and no parent account'

Record ids are compared as lowercase GUIDs (Dataverse writes them lowercase; the engine's lookup
tables do the same), so the collections handed to :func:`is_active_customer` must hold lowercase
ids: build them with :func:`customer_contact_ids` or :func:`normalize_ids`, once per run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "LOOKUP_TYPE",
    "ContactRoute",
    "Routing",
    "customer_contact_ids",
    "is_active_customer",
    "normalize_ids",
    "route_contact",
]

LOOKUP_TYPE = "@Microsoft.Dynamics.CRM.lookuplogicalname"
"""The annotation suffix that says which table a polymorphic lookup points at (DATAVERSE.md §3.3)."""


class ContactRoute(StrEnum):
    """The three destinations of a contact.

    >>> ContactRoute("customer") is ContactRoute.CUSTOMER
    True
    """

    CUSTOMER = "customer"  # ERP customer, PartyType Person (task ContactToCustomer)
    CONTACT_PERSON = "contact_person"  # ERP contact person of the parent account's customer (task Contacts)
    NOT_SYNCED = "not_synced"


@dataclass(frozen=True)
class Routing:
    """A contact's route, why, and (for contact persons) the parent account's record id.

    >>> Routing(ContactRoute.NOT_SYNCED, "not synchronised: parent is a contact").synced
    False
    """

    route: ContactRoute
    reason: str
    parent_account_id: str | None = None

    @property
    def synced(self) -> bool:
        return self.route is not ContactRoute.NOT_SYNCED


def _norm(value: Any) -> str | None:
    text = str(value).strip().lower() if value is not None else ""
    return text or None


def normalize_ids(ids: Iterable[Any]) -> frozenset[str]:
    """Record ids as lowercase, trimmed strings; blanks dropped.

    >>> sorted(normalize_ids(["AB", " cd ", None, ""]))
    ['ab', 'cd']
    """
    return frozenset(n for n in map(_norm, ids) if n is not None)


def customer_contact_ids(rows: Iterable[Mapping[str, Any]], field: str = "customerid") -> frozenset[str]:
    """Ids of the contacts that are the customer of ``rows`` (quotes, orders or invoices).

    ``customerid`` is polymorphic (account or contact); rows whose lookup type annotation is
    anything but ``contact`` are skipped, and so are rows without the annotation, which cannot
    be told apart from account customers (read with ``Prefer: odata.include-annotations``).
    """
    value = f"_{field}_value"
    return frozenset(
        n
        for row in rows
        if str(row.get(value + LOOKUP_TYPE) or "").lower() == "contact"
        and (n := _norm(row.get(value))) is not None
    )


def is_active_customer(
    contact_id: str,
    quote_customer_ids: Collection[str],
    order_customer_ids: Collection[str],
    invoice_customer_ids: Collection[str],
) -> bool:
    """Yes exactly when the contact is the customer of a quote, an order or an invoice.

    The collections hold lowercase ids (see the module docstring); ``contact_id`` may be any case.
    """
    key = _norm(contact_id)
    if key is None:
        return False
    return key in quote_customer_ids or key in order_customer_ids or key in invoice_customer_ids


def route_contact(contact: Mapping[str, Any], active_customer: bool) -> Routing:
    """Where ``contact`` (a Dataverse contact row with its parent lookup and annotation) goes.

    - active customer → :attr:`ContactRoute.CUSTOMER` (whatever the parent is);
    - otherwise, parent annotated ``account`` → :attr:`ContactRoute.CONTACT_PERSON` of it;
    - otherwise → :attr:`ContactRoute.NOT_SYNCED`, the reason naming what is missing.
    """
    if active_customer:
        return Routing(
            ContactRoute.CUSTOMER,
            "customer (PartyType Person): the contact has quotes, orders or invoices",
        )
    parent = _norm(contact.get("_parentcustomerid_value"))
    if parent is None:
        return Routing(
            ContactRoute.NOT_SYNCED, "not synchronised: not an active customer and no parent account"
        )
    kind = str(contact.get("_parentcustomerid_value" + LOOKUP_TYPE) or "").strip().lower()
    if kind == "account":
        return Routing(ContactRoute.CONTACT_PERSON, f"contact person of account {parent}", parent)
    if kind == "contact":
        return Routing(
            ContactRoute.NOT_SYNCED,
            "not synchronised: not an active customer and the parent is a contact, not an account",
        )
    if not kind:
        return Routing(
            ContactRoute.NOT_SYNCED,
            "not synchronised: the parent's type is unknown (read contacts with the lookuplogicalname annotation)",
        )
    return Routing(ContactRoute.NOT_SYNCED, f"not synchronised: the parent is a {kind}, not an account")
