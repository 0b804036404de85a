"""'Is active customer' proportional to change (issue 13, target 5), over HTTPS against the sandbox.

The customers of quotes, orders and invoices are kept from those tables' change feeds; a contact
whose documents come or go is read again by both contact tasks, and a run with no change asks the
CRM for nothing but empty change feeds.
"""

from __future__ import annotations

from typing import Any

from engine_helpers import crm_rows
from test_engine_p2c_contacts import contacts_project  # noqa: F401  (the fixture)
from test_engine_p2c_orders import new_order

from p2c.store import RunStatus

CONTACT_TASKS = ("Contacts", "ContactToCustomer")
#: each contact task's contacts feed, and the quotes, orders and invoices feeds (the organisation
#: id the feeds' cursors carry came with the run's check that the CRM is reachable, before the
#: tasks, whose requests a report counts)
FEEDS = 2 + 3


def _flag(world: Any, contact: str) -> bool:
    [row] = crm_rows(world.crm(), "contacts", ["p2c_isactivecustomer"], f"contactid eq {contact}")
    return bool(row["p2c_isactivecustomer"])


def _settled(world: Any) -> Any:
    """Runs until one changes nothing (p2c's own write-backs come back once); that run's report."""
    for _ in range(3):
        with world.open() as h:
            report = h.run(*CONTACT_TASKS)
        assert report.status is RunStatus.SUCCEEDED, report.tasks
        if not any(t.read for t in report.tasks):
            return report
    raise AssertionError(f"still reading after three runs: {report.tasks}")


def test_the_flag_is_set_and_cleared_as_documents_come_and_go(contacts_project: Any) -> None:  # noqa: F811
    world = contacts_project
    crm = world.crm()
    with world.open() as h:
        assert h.run("Accounts", *CONTACT_TASKS).status is RunStatus.SUCCEEDED
    quiet = _settled(world)
    # nothing changed: the CRM is asked for its change feeds only (each answering empty)
    assert quiet.requests == {"crm": FEEDS, "erp": 0}, quiet.http

    made = crm.post(
        "contacts",
        json={"firstname": "Ada", "lastname": "Incremental"},
        headers={"Prefer": "return=representation"},
    )
    assert made.status_code == 201, made.text
    contact = made.json()["contactid"]
    _settled(world)
    assert _flag(world, contact) is False  # no document: not a customer (and no parent: not synced)

    order, _number = new_order(crm, [], activate=False, contact=contact)
    with world.open() as h:
        report = h.run(*CONTACT_TASKS)
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    persons, customers = report.tasks
    # the order does not change the contact: it is read because its order named it
    assert (persons.read, customers.read, customers.created) == (1, 1, 1), report.tasks
    assert _flag(world, contact) is True
    assert _settled(world).requests == {"crm": FEEDS, "erp": 0}

    # its only order deleted: it stops being a customer, and its flag is cleared
    assert crm.delete(f"salesorders({order})").status_code == 204
    with world.open() as h:
        report = h.run(*CONTACT_TASKS)
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    assert [t.read for t in report.tasks] == [1, 1], report.tasks
    assert _flag(world, contact) is False
    assert _settled(world).requests == {"crm": FEEDS, "erp": 0}


def test_the_first_build_reads_the_contacts_whose_flag_disagrees(contacts_project: Any) -> None:  # noqa: F811
    """A project that ran before the index existed (or lost it): its first build compares the
    CRM's flags with the documents once and reads the contacts that disagree."""
    world = contacts_project
    with world.open() as h:
        assert h.run("Accounts", *CONTACT_TASKS).status is RunStatus.SUCCEEDED
    _settled(world)
    contacts = crm_rows(world.crm(), "contacts", ["contactid", "p2c_isactivecustomer"])
    wrong = next(c["contactid"] for c in contacts if not c["p2c_isactivecustomer"])
    patched = world.crm().patch(f"contacts({wrong})", json={"p2c_isactivecustomer": True})
    assert patched.status_code == 204
    with world.open() as h:  # forget the index: the next run builds it again
        for entity in ("quotes", "salesorders", "invoices"):
            h.store.reset_cursor(f"#customers:{entity}")
        report = h.run(*CONTACT_TASKS)
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    assert _flag(world, wrong) is False  # read (as changed, and as disagreeing) and set right


def test_without_change_tracking_on_the_documents_every_document_is_read(contacts_project: Any) -> None:  # noqa: F811
    """A project provisioned before the documents' customers were kept (no change tracking on
    quotes): its contact tasks still derive the flag, reading every document as before."""
    world = contacts_project
    admin = world.sandbox.admin("crm")
    assert admin.post("settings", json={"change_tracking": {"quote": False}}).status_code == 200
    try:
        contact = world.crm().post(
            "contacts", json={"lastname": "Untracked"}, headers={"Prefer": "return=representation"}
        )
        assert contact.status_code == 201, contact.text
        new_order(world.crm(), [], activate=False, contact=contact.json()["contactid"])
        with world.open() as h:
            report = h.run("Accounts", *CONTACT_TASKS)
        assert report.status is RunStatus.SUCCEEDED, report.tasks
        assert _flag(world, contact.json()["contactid"]) is True
    finally:
        admin.post("settings", json={"change_tracking": {"quote": True}})


def test_a_run_reads_the_documents_feeds_from_its_start(contacts_project: Any) -> None:  # noqa: F811
    """The contact tasks wait for Accounts; the refresh of the documents' customers they need
    does not: it begins with the run, so a run stopped as Accounts ends has already stored it."""
    world = contacts_project
    with world.open() as h:
        h.engine.progress = lambda report: h.engine.stop.set() if report.task == "Accounts" else None
        report = h.run("Accounts", *CONTACT_TASKS)
        # (Accounts' numbered rows go in a chunk ahead of those it numbers: stopped after those two)
        assert (report.stopped or "").startswith("stopped on request"), report.tasks
        assert [t.read for t in report.tasks if t.task in CONTACT_TASKS] == [0, 0]
        assert all(h.store.cursor(f"#customers:{e}") for e in ("quotes", "salesorders", "invoices"))
