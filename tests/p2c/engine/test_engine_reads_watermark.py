"""A watermark field on an ERP entity (issue 13, target 5), over HTTPS against the sandbox.

The sandbox's CustomersV3 has no ModifiedDateTime (FNO.md §1.11: a customer's extension); its
UTC date-time ``AddressValidFrom`` stands in for one: the mechanism is the same for any date-time.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from p2c.store import RunStatus

TEMPLATE = """\
name: customers_back
title: ERP customers to CRM accounts, narrowed by a watermark
tasks:
  CustomersBack:
    source: {system: erp, entity: CustomersV3}
    target: {system: crm, entity: accounts}
    key: {source: [dataAreaId, CustomerAccount], target: [accountnumber]}
    filter: "CustomerGroupId eq '30'"
    watermark: AddressValidFrom
    watermark_overlap: 1h
    fields:
      accountnumber: CustomerAccount
      name: OrganizationName
"""


def _at(hours_ago: float) -> str:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _customer(erp: Any, account: str, hours_ago: float) -> None:
    body = {
        "dataAreaId": "usmf",
        "CustomerAccount": account,
        "OrganizationName": f"Watermark {account}",
        "CustomerGroupId": "30",
        "SalesCurrencyCode": "USD",
        "AddressValidFrom": _at(hours_ago),
    }
    response = erp.post("CustomersV3", json=body)
    assert response.status_code == 201, response.text


def test_a_watermark_reads_what_changed_since_the_highest_value_minus_the_overlap(
    provisioned_project: Any, tmp_path: Path
) -> None:
    world = provisioned_project
    template = tmp_path / "customers_back.yaml"
    template.write_text(TEMPLATE, encoding="utf-8")
    world.write(templates=[str(template)])
    world.provision()  # the alternate key on accountnumber
    erp = world.erp()
    _customer(erp, "WM-001", 5)
    _customer(erp, "WM-002", 3)
    with world.open() as h:
        first = h.run()
        cursor = json.loads(h.store.cursor("CustomersBack") or "{}")
    [task] = first.tasks
    demo = task.read - 2  # the demo customers of group 30 (no AddressValidFrom: read whole once)
    assert first.status is RunStatus.SUCCEEDED and task.created == task.read, first.tasks
    assert cursor == {"watermark": "AddressValidFrom", "marks": {"usmf": _marked(erp, "WM-002")}}

    _customer(erp, "WM-003", 3.5)  # inside the hour of overlap below the highest value read
    _customer(erp, "WM-004", 4.5)  # older than the overlap: not read (a watermark's bargain)
    # a change "touches" the field, as a ModifiedDateTime would be
    patch = {"OrganizationName": "Watermark WM-001 renamed", "AddressValidFrom": _at(0.1)}
    assert erp.patch("CustomersV3(dataAreaId='usmf',CustomerAccount='WM-001')", json=patch).status_code == 204
    with world.open() as h:
        second = h.run()
        third = h.run()
        full = h.run(full=True)
    [task] = second.tasks
    # WM-002 again (the overlap), WM-003 new, WM-001 changed; not WM-004
    assert (task.read, task.created, task.updated, task.unchanged) == (3, 1, 1, 1), second.tasks
    [task] = third.tasks  # the mark moved to WM-001's value: only it is read again
    assert (task.read, task.unchanged) == (1, 1), third.tasks
    [task] = full.tasks  # --full reads every customer of the filter, and finds WM-004
    assert (task.read, task.created) == (4 + demo, 1), full.tasks


def _marked(erp: Any, account: str) -> str:
    row = erp.get(
        f"CustomersV3(dataAreaId='usmf',CustomerAccount='{account}')", params={"$select": "AddressValidFrom"}
    ).json()
    return str(row["AddressValidFrom"])
