"""Accounts → Customers, the rules of P2C.md §2 as they arrive in the ERP (and back in the CRM)."""

from __future__ import annotations

import re
from typing import Any

from engine_helpers import ACCOUNT_NUMBER, crm_rows, synced_customers

from p2c.store import Action, RunStatus

FIELDS = [
    "OrganizationName",
    "IsExternallyMaintained",
    "CustomerGroupId",
    "SiteId",
    "WarehouseId",
    "LanguageId",
    "AddressCountryRegionISOCode",
    "AddressCity",
    "SalesCurrencyCode",
    "PrimaryContactEmail",
]


def _sequence(number: str) -> int:
    return int(number.split("-")[1])


def test_accounts_arrive_as_externally_maintained_customers_with_defaults(provisioned_project: Any) -> None:
    world = provisioned_project
    crm = world.crm()
    before = {a["accountid"]: a for a in crm_rows(crm, "accounts", ["accountid", "accountnumber", "name"])}
    missing = {k for k, a in before.items() if not a["accountnumber"]}
    assert len(missing) == 15

    with world.open() as h:
        report = h.run("Accounts")
    assert report.status is RunStatus.SUCCEEDED and report.tasks[0].created == 30

    after = {
        a["accountid"]: a
        for a in crm_rows(
            crm, "accounts", ["accountid", "accountnumber", "name", "address1_city", "emailaddress1"]
        )
    }
    generated = sorted((after[k]["accountnumber"] for k in missing), key=_sequence)
    # numbers generated where missing, written back to the CRM; the others kept as they were
    assert all(re.fullmatch(ACCOUNT_NUMBER, n) for n in generated), generated
    assert [_sequence(n) for n in generated] == list(range(1000, 1015))
    assert all(after[k]["accountnumber"] == a["accountnumber"] for k, a in before.items() if k not in missing)

    customers = synced_customers(world.erp(), FIELDS)
    assert set(customers) == {a["accountnumber"] for a in after.values()}
    for account in after.values():
        c = customers[account["accountnumber"]]
        assert c["OrganizationName"] == account["name"]
        assert c["AddressCity"] == account["address1_city"]
        assert c["PrimaryContactEmail"] == account["emailaddress1"]
        assert (c["IsExternallyMaintained"], c["CustomerGroupId"], c["SiteId"], c["WarehouseId"]) == (
            "Yes",
            "10",
            "1",
            "13",
        )
        assert c["LanguageId"] == "en-US"  # the template sends en-us; F&O keeps its own spelling
        assert c["SalesCurrencyCode"] == "USD"  # the account currency's ISO code, looked up in the CRM
        assert c["AddressCountryRegionISOCode"] == "US"  # "USA" and "United States" through the value map


def test_numbers_keep_rising_across_runs(provisioned_project: Any) -> None:
    world = provisioned_project
    crm = world.crm()
    with world.open() as h:
        h.run("Accounts")
        created = crm.post(
            "accounts", json={"name": "Late Arrival"}, headers={"Prefer": "return=representation"}
        )
        assert created.status_code == 201, created.text
        report = h.run("Accounts")
    assert report.tasks[0].created == 1
    late = crm.get(f"accounts({created.json()['accountid']})", params={"$select": "accountnumber"}).json()
    number = late["accountnumber"]
    assert re.fullmatch(ACCOUNT_NUMBER, number) and _sequence(number) == 1015
    assert synced_customers(world.erp(), ["OrganizationName"])[number]["OrganizationName"] == "Late Arrival"


def test_country_value_map_with_project_entries_and_unmapped_countries(provisioned_project: Any) -> None:
    world = provisioned_project
    world.configure(value_maps={"country": {"Lower Saxony": "DE"}})
    crm = world.crm()
    ids = {}
    for name, number, country in (
        ("Maple Inc", "CA-1", "Canada"),
        ("Hanover GmbH", "DE-1", "Lower Saxony"),
        ("Lost City", "XX-1", "Atlantis"),
    ):
        response = crm.post(
            "accounts",
            json={"name": name, "accountnumber": number, "address1_country": country},
            headers={"Prefer": "return=representation"},
        )
        assert response.status_code == 201, response.text
        ids[name] = response.json()["accountid"]

    with world.open() as h:
        report = h.run("Accounts")
        [failed] = h.store.outcomes(report.run_id, actions=[Action.FAILED])

    assert (report.tasks[0].created, report.tasks[0].failed) == (32, 1)
    customers = synced_customers(world.erp(), ["AddressCountryRegionISOCode"])
    assert customers["CA-1"]["AddressCountryRegionISOCode"] == "CA"
    assert customers["DE-1"]["AddressCountryRegionISOCode"] == "DE"  # the project's own entry
    assert "XX-1" not in customers
    assert failed.source_key == ids["Lost City"]
    assert failed.field == "AddressCountryRegionISOCode"
    assert "Atlantis" in (failed.message or "") and "country" in (failed.message or "")
