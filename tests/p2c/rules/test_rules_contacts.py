"""Contacts go to the ERP as customers, contact persons of their account's customer, or not at all."""

from __future__ import annotations

from p2c.rules.contacts import (
    LOOKUP_TYPE,
    ContactRoute,
    Routing,
    customer_contact_ids,
    is_active_customer,
    normalize_ids,
    route_contact,
)

PARENT = "_parentcustomerid_value"


def _customer(id_: str, kind: str | None) -> dict[str, str]:
    row = {"_customerid_value": id_}
    if kind is not None:
        row["_customerid_value" + LOOKUP_TYPE] = kind
    return row


def test_customer_contact_ids_keep_contacts_only() -> None:
    quotes = [
        _customer("C-1", "contact"),
        _customer("a-1", "account"),
        _customer("c-2", None),  # no annotation: cannot tell, so not counted
        {"_customerid_value": None, "_customerid_value" + LOOKUP_TYPE: "contact"},
        _customer(" c-3 ", "Contact"),
    ]
    assert customer_contact_ids(quotes) == {"c-1", "c-3"}
    assert customer_contact_ids([]) == frozenset()
    assert normalize_ids(["X", "x", None, " "]) == {"x"}


def test_is_active_customer_exactly_with_quotes_orders_or_invoices() -> None:
    quotes, orders, invoices = {"q"}, {"o"}, {"i"}
    assert is_active_customer("q", quotes, orders, invoices)
    assert is_active_customer("O", quotes, orders, invoices)  # any case for the contact id
    assert is_active_customer(" i ", quotes, orders, invoices)
    assert not is_active_customer("none", quotes, orders, invoices)
    assert not is_active_customer("", {""}, set(), set())
    assert not is_active_customer("q", set(), set(), set())


def test_active_customer_becomes_a_customer_whatever_the_parent() -> None:
    for contact in ({"contactid": "c"}, {PARENT: "p", PARENT + LOOKUP_TYPE: "account"}):
        routing = route_contact(contact, active_customer=True)
        assert routing.route is ContactRoute.CUSTOMER and routing.synced
        assert "PartyType Person" in routing.reason and routing.parent_account_id is None


def test_parent_account_makes_a_contact_person() -> None:
    contact = {"contactid": "c", PARENT: "ACC-GUID", PARENT + LOOKUP_TYPE: "account"}
    assert route_contact(contact, active_customer=False) == Routing(
        ContactRoute.CONTACT_PERSON, "contact person of account acc-guid", "acc-guid"
    )


def test_anything_else_is_not_synced_with_a_reason() -> None:
    cases = {
        "no parent account": {"contactid": "c"},
        "the parent is a contact": {PARENT: "p", PARENT + LOOKUP_TYPE: "contact"},
        "parent's type is unknown": {PARENT: "p"},
        "the parent is a systemuser": {PARENT: "p", PARENT + LOOKUP_TYPE: "systemuser"},
    }
    for words, contact in cases.items():
        routing = route_contact(contact, active_customer=False)
        assert routing.route is ContactRoute.NOT_SYNCED and not routing.synced
        assert words in routing.reason and routing.reason.startswith("not synchronised")
        assert routing.parent_account_id is None
    assert route_contact({PARENT: "  "}, active_customer=False).reason.endswith("no parent account")
    assert ContactRoute.NOT_SYNCED == "not_synced"
