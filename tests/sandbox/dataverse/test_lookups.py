"""Lookups: ``@odata.bind`` writes and ``_x_value`` reads with annotations (DATAVERSE.md §2.3)."""

from __future__ import annotations

import httpx
from dv_helpers import ANNOTATIONS, entity_id, error_of, first, make_key

FORMATTED = "@OData.Community.Display.V1.FormattedValue"
LOGICAL = "@Microsoft.Dynamics.CRM.lookuplogicalname"
NAV = "@Microsoft.Dynamics.CRM.associatednavigationproperty"


def test_bind_by_guid_with_and_without_slash_and_absolute(crm: httpx.Client, dv) -> None:
    account = first(crm, "accounts", "$select=name")
    aid = account["accountid"]
    for ref in (f"/accounts({aid})", f"accounts({aid})", f"{dv.root}accounts({aid})"):
        cid = entity_id(
            crm.post("contacts", json={"lastname": "Bound", "parentcustomerid_account@odata.bind": ref})
        )
        row = crm.get(f"contacts({cid})?$select=_parentcustomerid_value").json()
        assert row["_parentcustomerid_value"] == aid


def test_polymorphic_customer_reads_with_annotations(crm: httpx.Client) -> None:
    parent = first(crm, "contacts", "$select=fullname")
    cid = entity_id(
        crm.post(
            "contacts",
            json={
                "lastname": "Child",
                "parentcustomerid_contact@odata.bind": f"/contacts({parent['contactid']})",
            },
        )
    )
    row = crm.get(f"contacts({cid})?$select=_parentcustomerid_value,statecode", headers=ANNOTATIONS).json()
    key = "_parentcustomerid_value"
    assert row[key] == parent["contactid"]
    assert row[key + LOGICAL] == "contact"
    assert row[key + NAV] == "parentcustomerid_contact"
    assert row[key + FORMATTED] == parent["fullname"]
    assert row["statecode" + FORMATTED] == "Active"
    plain = crm.get(f"contacts({cid})?$select=_parentcustomerid_value").json()
    assert not any("@" in k for k in plain if k != "@odata.etag" and k != "@odata.context")


def test_selected_annotations_only(crm: httpx.Client) -> None:
    account = first(crm, "accounts", "$filter=_primarycontactid_value ne null&$select=name")
    row = crm.get(
        f"accounts({account['accountid']})?$select=_primarycontactid_value,paymenttermscode",
        headers={"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'},
    ).json()
    assert row["_primarycontactid_value" + LOGICAL] == "contact"
    assert "_primarycontactid_value" + FORMATTED not in row
    assert "paymenttermscode" + FORMATTED not in row


def test_bind_by_alternate_key(crm: httpx.Client) -> None:
    make_key(crm, "account", ["accountnumber"])
    cid = entity_id(
        crm.post(
            "contacts",
            json={
                "lastname": "K",
                "parentcustomerid_account@odata.bind": "/accounts(accountnumber='C10100')",
            },
        )
    )
    row = crm.get(f"contacts({cid})?$select=_parentcustomerid_value", headers=ANNOTATIONS).json()
    assert row["_parentcustomerid_value" + FORMATTED] == "Adventure Works"
    missing = crm.post(
        "contacts",
        json={"lastname": "K", "parentcustomerid_account@odata.bind": "/accounts(accountnumber='NONE')"},
    )
    assert missing.status_code == 404
    assert error_of(missing)[0] == "0x80060891"


def test_missing_bind_target_is_404(crm: httpx.Client) -> None:
    resp = crm.post(
        "contacts",
        json={
            "lastname": "X",
            "parentcustomerid_account@odata.bind": "/accounts(00000000-0000-4000-8000-000000000009)",
        },
    )
    assert resp.status_code == 404
    assert error_of(resp) == (
        "0x80040217",
        "account With Id = 00000000-0000-4000-8000-000000000009 Does Not Exist",
    )


def test_bind_errors(crm: httpx.Client) -> None:
    account = first(crm, "accounts", "$select=name")
    wrong_set = crm.post(
        "contacts",
        json={"lastname": "X", "parentcustomerid_account@odata.bind": f"/contacts({account['accountid']})"},
    )
    assert wrong_set.status_code == 400
    unknown_nav = crm.post(
        "contacts", json={"lastname": "X", "parentaccount@odata.bind": f"/accounts({account['accountid']})"}
    )
    assert unknown_nav.status_code == 400
    assert "undeclared property 'parentaccount'" in error_of(unknown_nav)[1]
    direct = crm.post("contacts", json={"lastname": "X", "_parentcustomerid_value": account["accountid"]})
    assert direct.status_code == 400
    assert "Use Navigation properties instead" in error_of(direct)[1]
    garbage = crm.post("contacts", json={"lastname": "X", "parentcustomerid_account@odata.bind": "not a url"})
    assert garbage.status_code == 400


def test_clear_lookup_with_null_bind_and_ref_delete(crm: httpx.Client) -> None:
    contact = first(crm, "contacts", "$filter=_parentcustomerid_value ne null&$select=lastname")
    url = f"contacts({contact['contactid']})"
    assert crm.patch(url, json={"parentcustomerid_account@odata.bind": None}).status_code == 204
    assert crm.get(f"{url}?$select=_parentcustomerid_value").json()["_parentcustomerid_value"] is None
    account = first(crm, "accounts", "$filter=_primarycontactid_value ne null&$select=name")
    aurl = f"accounts({account['accountid']})"
    assert crm.delete(f"{aurl}/primarycontactid/$ref").status_code == 204
    assert crm.get(f"{aurl}?$select=_primarycontactid_value").json()["_primarycontactid_value"] is None
    put = crm.put(f"{aurl}/primarycontactid/$ref", json={"@odata.id": f"contacts({contact['contactid']})"})
    assert put.status_code == 204
    assert (
        crm.get(f"{aurl}?$select=_primarycontactid_value").json()["_primarycontactid_value"]
        == contact["contactid"]
    )


def test_owner_bind_to_systemuser(crm: httpx.Client) -> None:
    user = first(crm, "systemusers", "$filter=lastname eq 'Reyes'&$select=fullname")
    aid = entity_id(
        crm.post(
            "accounts", json={"name": "Owned", "ownerid@odata.bind": f"/systemusers({user['systemuserid']})"}
        )
    )
    row = crm.get(f"accounts({aid})?$select=_ownerid_value", headers=ANNOTATIONS).json()
    assert row["_ownerid_value"] == user["systemuserid"]
    assert row["_ownerid_value" + FORMATTED] == "Jamie Reyes"
    assert row["_ownerid_value" + LOGICAL] == "systemuser"


def test_navigation_get(crm: httpx.Client) -> None:
    account = first(
        crm, "accounts", "$filter=_primarycontactid_value ne null&$select=_primarycontactid_value"
    )
    related = crm.get(f"accounts({account['accountid']})/primarycontactid?$select=fullname")
    assert related.status_code == 200
    assert related.json()["contactid"] == account["_primarycontactid_value"]
    contacts = crm.get(f"accounts({account['accountid']})/contact_customer_accounts?$select=fullname").json()
    assert contacts["value"] and all("fullname" in c for c in contacts["value"])
