"""Tasks of a local run without a dependency between them run at the same time
(``settings: parallel_tasks``); a task still starts only once the tasks it depends on ended, and
what arrives is the same as in a run of one task at a time."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import crm_rows, synced_customers

from p2c.project import run_after
from p2c.store import RunStatus, TaskRunInfo

SLOW = {"latency_ms": 40}  # every request answers late, so each task lasts long enough to be seen


def _overlap(a: TaskRunInfo, b: TaskRunInfo) -> bool:
    assert a.finished_at is not None and b.finished_at is not None
    return a.started_at < b.finished_at and b.started_at < a.finished_at


@pytest.fixture
def slow(sandbox: Any) -> Any:
    for which in ("crm", "erp"):
        sandbox.admin(which).put("faults", json=SLOW).raise_for_status()
    yield sandbox
    for which in ("crm", "erp"):
        sandbox.admin(which).put("faults", json={"latency_ms": 0}).raise_for_status()


@pytest.mark.parametrize("width", [1, 3])
def test_independent_tasks_overlap_and_dependent_ones_wait(
    provisioned_project: Any, slow: Any, width: int
) -> None:
    world = provisioned_project
    world.configure(settings={"parallel_tasks": width})
    with world.open() as h:
        report = h.run()
        history = h.store.task_runs(report.run_id)
        runs = {t.task: t for t in history}
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    # the report lists the tasks in the project's order, whatever order they ended in; so does
    # the history (the console's run page), as the tasks started together are started in order
    order = [t.name for t in world.project().enabled_tasks()]
    assert [t.task for t in report.tasks] == order
    assert [t.task for t in history] == order
    assert set(runs) == {"Accounts", "Products", "ProductPriceListItems"}
    accounts, products, items = runs["Accounts"], runs["Products"], runs["ProductPriceListItems"]
    # price-list items depend on products: they start once products ended, in either mode
    assert products.finished_at is not None and items.started_at >= products.finished_at
    # accounts and products depend on nothing: at the same time when allowed, one after the other if not
    assert _overlap(accounts, products) is (width > 1), (accounts, products)
    assert (accounts.counts.created, products.counts.created, items.counts.created) == (
        report.tasks[0].created,
        report.tasks[1].created,
        report.tasks[2].created,
    )
    # what arrived: every account a customer, every sellable product with its price-list item
    crm = world.crm()
    numbers = {
        r["accountnumber"] for r in crm_rows(crm, "accounts", ["accountnumber"], "accountnumber ne null")
    }
    assert numbers and numbers <= set(synced_customers(world.erp()))
    products_in_crm = crm_rows(crm, "products", ["productid"], "p2c_isexternallymaintained eq true")
    assert len(products_in_crm) == products.counts.created > 0
    items_in_crm = crm_rows(crm, "productpricelevels", ["productpricelevelid"])
    assert len(items_in_crm) >= items.counts.created > 0


def test_tasks_reading_one_source_run_one_after_the_other(provisioned_project: Any, slow: Any) -> None:
    """Contacts and ContactToCustomer both depend on Accounts only, but both number the CRM's new
    contacts and write the numbers back: run at once, one contact got a number from each, and its
    ERP customer was not under the number its CRM contact holds. They run in project order."""
    world = provisioned_project
    world.configure(templates=["accounts", "products", "contacts"], settings={"parallel_tasks": 4})
    world.provision()
    assert run_after(world.project().tasks)["ContactToCustomer"] == ("Accounts", "Contacts")
    with world.open() as h:
        report = h.run("Accounts", "Contacts", "ContactToCustomer")
        runs = {t.task: t for t in h.store.task_runs(report.run_id)}
    assert report.status is RunStatus.SUCCEEDED, report.tasks
    contacts, customers = runs["Contacts"], runs["ContactToCustomer"]
    assert contacts.finished_at is not None and customers.started_at >= contacts.finished_at
    assert customers.counts.created > 0
    # every contact that became an ERP customer is there under the number its CRM contact holds
    numbers = {
        r["p2c_contactnumber"]
        for r in crm_rows(world.crm(), "contacts", ["p2c_contactnumber"], "p2c_isactivecustomer eq true")
    }
    assert len(numbers) == customers.counts.created and numbers <= set(synced_customers(world.erp()))
