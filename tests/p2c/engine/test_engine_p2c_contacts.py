"""Contacts → contact persons or customers (P2C.md flow 3), over HTTPS against the sandbox."""

from __future__ import annotations

import re
from typing import Any

import pytest
from engine_helpers import crm_rows, erp_rows

from p2c.engine.customers import StoredCustomers
from p2c.store import Action, RunStatus, StateStore

CONTACT_NUMBER = r"CON-\d{5}-[A-Z]{6}"


@pytest.fixture
def contacts_project(provisioned_project: Any) -> Any:
    """The engine tests' sandbox project with the contacts template too, provisioned for it."""
    world = provisioned_project
    world.write(templates=["accounts", "products", "contacts"])
    world.provision()
    return world


def _contacts(world: Any) -> dict[str, dict[str, Any]]:
    rows = crm_rows(
        world.crm(),
        "contacts",
        ["contactid", "p2c_contactnumber", "p2c_isactivecustomer", "_parentcustomerid_value", "lastname"],
    )
    return {r["contactid"]: r for r in rows}


def _document_customers(world: Any) -> set[str]:
    out: set[str] = set()
    for entity in ("quotes", "salesorders", "invoices"):
        out |= {str(r["_customerid_value"]) for r in crm_rows(world.crm(), entity, ["_customerid_value"])}
    return out


def test_contacts_are_numbered_routed_and_arrive_as_contact_persons_or_customers(
    contacts_project: Any,
) -> None:
    world = contacts_project
    with world.open() as h:
        report = h.run("Accounts", "Contacts", "ContactToCustomer")
        assert report.status is RunStatus.SUCCEEDED, report
        persons, customers = report.tasks[1], report.tasks[2]
        skipped = {
            o.source_key: o.message
            for o in h.store.outcomes(report.run_id, actions=[Action.SKIPPED])
            if o.task == "ContactToCustomer"
        }

    contacts = _contacts(world)
    accounts = {
        a["accountid"]: a["accountnumber"]
        for a in crm_rows(world.crm(), "accounts", ["accountid", "accountnumber"])
    }
    active = {k for k in contacts if k in _document_customers(world)}
    assert len(active) == 2  # the seed's quote and order of a contact
    # numbers generated for every contact, written back to the CRM, all distinct
    numbers = [c["p2c_contactnumber"] for c in contacts.values()]
    assert all(re.fullmatch(CONTACT_NUMBER, n or "") for n in numbers) and len(set(numbers)) == 40
    # "is active customer" derived and written back
    assert {k for k, c in contacts.items() if c["p2c_isactivecustomer"]} == active

    erp_customers = {
        r["CustomerAccount"]: r
        for r in erp_rows(
            world.erp(),
            "CustomersV3",
            ["CustomerAccount", "PartyType", "PersonLastName", "IsExternallyMaintained"],
            "dataAreaId eq 'usmf'",
        )
    }
    for key in active:
        c = erp_customers[contacts[key]["p2c_contactnumber"]]
        assert (c["PartyType"], c["PersonLastName"], c["IsExternallyMaintained"]) == (
            "Person",
            contacts[key]["lastname"],
            "Yes",
        )
    with_parent = {k for k, c in contacts.items() if c["_parentcustomerid_value"] and k not in active}
    people = {
        r["ContactPersonPartyNumber"]: r
        for r in erp_rows(
            world.erp(),
            "CDSContactPersonsV2",
            [
                "ContactPersonPartyNumber",
                "AssociatedContactNumber",
                "IsContactPersonExternallyMaintained",
                "LastName",
            ],
            "dataAreaId eq 'usmf'",
        )
    }
    for key in with_parent:
        p = people[contacts[key]["p2c_contactnumber"]]
        assert p["AssociatedContactNumber"] == accounts[contacts[key]["_parentcustomerid_value"]]
        assert (p["IsContactPersonExternallyMaintained"], p["LastName"]) == ("Yes", contacts[key]["lastname"])
    assert (persons.created, customers.created) == (len(with_parent), 2)
    # neither route: skipped by both tasks, the reason in the history
    neither = set(contacts) - active - with_parent
    assert len(neither) == 12
    for key in neither:
        assert skipped[key] == "not synchronised: not an active customer and no parent account"
    for key in with_parent:
        assert (skipped[key] or "").startswith("for the other contact task: contact person")

    with world.open() as h:
        again = h.run("Accounts", "Contacts", "ContactToCustomer")
    assert sum(t.written for t in again.tasks) == 0


def test_a_new_quote_makes_a_contact_an_active_customer(contacts_project: Any) -> None:
    world = contacts_project
    crm = world.crm()
    with world.open() as h:
        h.run("Accounts", "Contacts", "ContactToCustomer")
        contacts = _contacts(world)
        lone = next(
            k
            for k, c in contacts.items()
            if not c["_parentcustomerid_value"] and not c["p2c_isactivecustomer"]
        )
        price_list = crm_rows(crm, "pricelevels", ["pricelevelid"], "name eq 'CRM Service USA (sample)'")[0]
        created = crm.post(
            "quotes",
            json={
                "name": "A first quote",
                "customerid_contact@odata.bind": f"/contacts({lone})",
                "pricelevelid@odata.bind": f"/pricelevels({price_list['pricelevelid']})",
            },
        )
        assert created.status_code == 204, created.text
        report = h.run("Contacts", "ContactToCustomer")
    assert report.tasks[1].created == 1, report.tasks
    number = _contacts(world)[lone]["p2c_contactnumber"]
    assert _contacts(world)[lone]["p2c_isactivecustomer"] is True
    found = erp_rows(
        world.erp(), "CustomersV3", ["PartyType"], f"dataAreaId eq 'usmf' and CustomerAccount eq '{number}'"
    )
    assert [r["PartyType"] for r in found] == ["Person"]


def test_a_document_back_in_its_feed_with_the_same_customer_is_no_change_of_the_index(
    contacts_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = contacts_project
    crm = world.crm()
    with world.open() as h:
        assert h.run("Accounts", "Contacts").status is RunStatus.SUCCEEDED
    order = crm_rows(crm, "salesorders", ["salesorderid"])[0]["salesorderid"]
    # edited (as p2c's write-back of its derived flag edits it): back in the salesorders feed
    assert crm.patch(f"salesorders({order})", json={"name": "Renamed"}).status_code == 204
    stored: list[dict[str, Any]] = []
    apply = StateStore.apply_customer_changes

    def noted(store: StateStore, changes: Any, touched: Any) -> None:
        stored.append({entity: (dict(c[0]), set(touched)) for entity, c in changes.items()})
        apply(store, changes, touched)

    monkeypatch.setattr(StateStore, "apply_customer_changes", noted)
    with world.open() as h:
        again = h.run("Contacts")
    assert again.status is RunStatus.SUCCEEDED and again.tasks[0].written == 0
    # its customer is the one stored: nothing written to the index, no contact touched
    assert stored == [{entity: ({}, set()) for entity in ("quotes", "salesorders", "invoices")}]
    crm_contact = crm_rows(crm, "contacts", ["contactid"])[0]["contactid"]
    rebound = {"customerid_contact@odata.bind": f"/contacts({crm_contact})"}
    assert crm.patch(f"salesorders({order})", json=rebound).status_code == 204
    stored.clear()
    with world.open() as h:
        h.run("Contacts")
    [changes] = stored
    assert changes["salesorders"][0] == {order.lower(): crm_contact.lower()}, changes


def test_contact_person_waits_for_its_account_customer(contacts_project: Any) -> None:
    world = contacts_project
    crm = world.crm()
    response = crm.post(
        "accounts",
        json={"name": "Unmapped Land Ltd", "accountnumber": "XX-9", "address1_country": "Atlantis"},
        headers={"Prefer": "return=representation"},
    )
    account = response.json()["accountid"]
    response = crm.post(
        "contacts",
        json={"lastname": "Waiting", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
        headers={"Prefer": "return=representation"},
    )
    contact = response.json()["contactid"]
    with world.open() as h:
        report = h.run("Accounts", "Contacts")
        [waiting] = h.store.outcomes(report.run_id, actions=[Action.WAITING])
        assert waiting.source_key == contact and "XX-9" in (waiting.message or "")
    # the user corrects the account's country: its customer is created, then the contact person
    assert crm.patch(f"accounts({account})", json={"address1_country": "Canada"}).status_code == 204
    with world.open() as h:
        report = h.run("Accounts", "Contacts")
    assert report.tasks[1].created == 1 and report.tasks[1].waiting == 0
    found = erp_rows(world.erp(), "CDSContactPersonsV2", ["AssociatedContactNumber"], "LastName eq 'Waiting'")
    assert [r["AssociatedContactNumber"] for r in found] == ["XX-9"]


def test_the_three_document_feeds_are_read_at_once(contacts_project: Any) -> None:
    """The customer refresh reads the quotes', orders' and invoices' feeds side by side (the
    contact tasks wait for it): with each CRM request held 0.3 s, three are in flight together,
    and what the index says is what the documents say."""
    world = contacts_project
    with world.open() as h:
        assert h.run("Accounts").status is RunStatus.SUCCEEDED
        admin = world.sandbox.admin("crm")
        admin.patch("faults", json={"latency_ms": 300}).raise_for_status()
        try:
            index = StoredCustomers(h.store, h.crm, ["Contacts"], "p2c_isactivecustomer")
            admin.put(
                "limits", json={"max_concurrent": 52, "requests_per_window": 6000, "window_seconds": 300}
            ).raise_for_status()  # resets the peak
            index.refresh()
            peak = admin.get("limits").json()["peak_in_flight"]
        finally:
            admin.patch("faults", json={"latency_ms": 0}).raise_for_status()
    assert peak >= 3, peak
    documents = {c.lower() for c in _document_customers(world)}
    contacts = {c.lower() for c in _contacts(world)}
    assert index.members(contacts) == frozenset(documents & contacts)
