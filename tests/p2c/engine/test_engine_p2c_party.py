"""What Microsoft's templates carry that p2c maps too (issue 12): a new ERP customer's party is
numbered like its account or contact (sent on create only), and a contact's mobile phone reaches the
ERP when it has no business phone."""

from __future__ import annotations

from typing import Any

from engine_helpers import crm_rows, erp_rows
from test_engine_p2c_contacts import contacts_project  # noqa: F401  (the fixture)

from p2c.store import RunStatus


def test_a_new_customers_party_is_its_account_number_and_is_never_renumbered(
    provisioned_project: Any,
) -> None:
    world = provisioned_project
    crm = world.crm()
    made = crm.post(
        "accounts",
        json={"name": "Party Animals Ltd", "accountnumber": "PTY-1", "address1_country": "Canada"},
        headers={"Prefer": "return=representation"},
    ).json()
    with world.open() as h:
        assert h.run("Accounts").status is RunStatus.SUCCEEDED
    erp = world.erp()
    [customer] = erp_rows(
        erp, "CustomersV3", ["PartyNumber", "OrganizationName"], "CustomerAccount eq 'PTY-1'"
    )
    assert customer["PartyNumber"] == "PTY-1"

    # someone renumbers the party in the ERP; the account changes in the CRM: the update leaves the
    # party alone (PartyNumber is sent on create only) and still carries the change
    path = "CustomersV3(dataAreaId='usmf',CustomerAccount='PTY-1')"
    assert erp.patch(path, json={"PartyNumber": "P-000777"}).status_code == 204
    assert (
        crm.patch(f"accounts({made['accountid']})", json={"name": "Party Animals Limited"}).status_code == 204
    )
    with world.open() as h:
        report = h.run("Accounts")
    assert report.tasks[0].updated == 1, report.tasks
    [after] = erp_rows(erp, "CustomersV3", ["PartyNumber", "OrganizationName"], "CustomerAccount eq 'PTY-1'")
    assert (after["PartyNumber"], after["OrganizationName"]) == ("P-000777", "Party Animals Limited")


def test_a_contacts_mobile_phone_goes_where_its_business_phone_would(contacts_project: Any) -> None:  # noqa: F811
    world = contacts_project
    crm = world.crm()
    [account] = crm_rows(crm, "accounts", ["accountid"], "accountnumber eq 'C10100'")
    for last, phones in (
        ("Mobileonly", {"mobilephone": "+1 206 555 0199"}),
        ("Both", {"mobilephone": "+1 206 555 0100", "telephone1": "+1 425 555 0123"}),
    ):
        made = crm.post(
            "contacts",
            json={
                "lastname": last,
                "parentcustomerid_account@odata.bind": f"/accounts({account['accountid']})",
                **phones,
            },
            headers={"Prefer": "return=representation"},
        )
        assert made.status_code == 201, made.text
    with world.open() as h:
        assert h.run("Accounts", "Contacts").status is RunStatus.SUCCEEDED
    phones = {
        r["LastName"]: r["PrimaryPhoneNumber"]
        for r in erp_rows(
            world.erp(),
            "CDSContactPersonsV2",
            ["LastName", "PrimaryPhoneNumber"],
            "LastName eq 'Mobileonly' or LastName eq 'Both'",
        )
    }
    assert phones == {"Mobileonly": "+1 206 555 0199", "Both": "+1 425 555 0123"}
