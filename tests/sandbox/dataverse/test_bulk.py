"""CreateMultiple, UpdateMultiple, UpsertMultiple (DATAVERSE.md §2.10)."""

from __future__ import annotations

import httpx
from dv_helpers import error_of, make_key

T = "Microsoft.Dynamics.CRM."
ACCOUNT = {"@odata.type": "Microsoft.Dynamics.CRM.account"}


def test_create_multiple_returns_ids(crm: httpx.Client) -> None:
    resp = crm.post(
        f"accounts/{T}CreateMultiple", json={"Targets": [{**ACCOUNT, "name": f"Bulk {i}"} for i in range(3)]}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse")
    assert len(body["Ids"]) == 3
    assert crm.get(f"accounts({body['Ids'][2]})?$select=name").json()["name"] == "Bulk 2"


def test_update_multiple(crm: httpx.Client) -> None:
    ids = crm.post(
        f"accounts/{T}CreateMultiple", json={"Targets": [{**ACCOUNT, "name": "U"} for _ in range(2)]}
    ).json()["Ids"]
    resp = crm.post(
        f"accounts/{T}UpdateMultiple",
        json={"Targets": [{**ACCOUNT, "accountid": i, "telephone1": "9"} for i in ids]},
    )
    assert resp.status_code == 204
    assert all(crm.get(f"accounts({i})?$select=telephone1").json()["telephone1"] == "9" for i in ids)


def test_upsert_multiple_by_odata_id_and_key_fields(crm: httpx.Client) -> None:
    make_key(crm, "account", ["accountnumber"])
    targets = [
        {**ACCOUNT, "@odata.id": "accounts(accountnumber='C10100')", "name": "Renamed by bulk"},
        {**ACCOUNT, "@odata.id": "accounts(accountnumber='BULK-NEW')", "name": "Created by bulk"},
        {**ACCOUNT, "accountnumber": "BULK-FIELDS", "name": "Key in body"},
    ]
    resp = crm.post(f"accounts/{T}UpsertMultiple", json={"Targets": targets})
    assert resp.status_code == 204
    assert crm.get("accounts(accountnumber='C10100')?$select=name").json()["name"] == "Renamed by bulk"
    assert crm.get("accounts(accountnumber='BULK-NEW')?$select=name").json()["name"] == "Created by bulk"
    assert crm.get("accounts(accountnumber='BULK-FIELDS')?$select=name").json()["name"] == "Key in body"
    again = crm.post(
        f"accounts/{T}UpsertMultiple",
        json={"Targets": [{**ACCOUNT, "accountnumber": "BULK-FIELDS", "name": "Once"}]},
    )
    assert again.status_code == 204
    assert crm.get("accounts?$filter=accountnumber eq 'BULK-FIELDS'&$count=true").json()["@odata.count"] == 1


def test_all_or_nothing(crm: httpx.Client) -> None:
    targets = [{**ACCOUNT, "name": "Good"}, {**ACCOUNT, "name": "Bad", "bogus": True}]
    resp = crm.post(f"accounts/{T}CreateMultiple", json={"Targets": targets})
    assert resp.status_code == 400
    assert "bogus" in error_of(resp)[1]
    assert crm.get("accounts?$filter=name eq 'Good'").json()["value"] == []


def test_odata_type_is_mandatory(crm: httpx.Client) -> None:
    resp = crm.post(f"accounts/{T}CreateMultiple", json={"Targets": [{"name": "No type"}]})
    assert resp.status_code == 400
    assert "@odata.type" in error_of(resp)[1]
    wrong = crm.post(
        f"accounts/{T}CreateMultiple",
        json={"Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.contact", "lastname": "x"}]},
    )
    assert wrong.status_code == 400


def test_a_table_without_the_messages_refuses_them_and_the_probe_says_so(
    crm: httpx.Client, admin: httpx.Client
) -> None:
    resp = crm.post(
        f"organizations/{T}UpdateMultiple",
        json={"Targets": [{"@odata.type": "Microsoft.Dynamics.CRM.organization", "quoteprefix": "Q"}]},
    )
    assert resp.status_code == 400
    assert "does not support entities of type 'organization'" in error_of(resp)[1]
    probe = "sdkmessagefilters?$select=sdkmessagefilterid&$filter=sdkmessageid/name eq @m and primaryobjecttypecode eq @t"
    assert crm.get(f"{probe}&@m='UpdateMultiple'&@t='organization'").json()["value"] == []
    assert len(crm.get(f"{probe}&@m='CreateMultiple'&@t='account'").json()["value"]) == 1
    assert len(crm.get(f"{probe}&@m='UpsertMultiple'&@t='salesorder'").json()["value"]) == 1
    unknown = admin.post("settings", json={"bulk_messages": {"nosuchtable": False}})
    assert unknown.status_code == 400 and "Unknown table 'nosuchtable'" in unknown.text
    given = admin.post("settings", json={"bulk_messages": {"organization": True}})
    assert given.status_code == 400 and "table 'organization' cannot take" in given.text
    for line_table in ("quotedetail", "salesorderdetail", "invoicedetail"):  # Dataverse's table reference
        for message in ("CreateMultiple", "UpdateMultiple", "UpsertMultiple"):
            assert len(crm.get(f"{probe}&@m='{message}'&@t='{line_table}'").json()["value"]) == 1


def test_create_multiple_refuses_a_taken_key_and_keeps_nothing(crm: httpx.Client) -> None:
    make_key(crm, "account", ["accountnumber"])
    crm.post("accounts", json={"name": "Taken", "accountnumber": "DUP-1"}).raise_for_status()
    targets = [
        {**ACCOUNT, "name": "New", "accountnumber": "DUP-0"},
        {**ACCOUNT, "name": "X", "accountnumber": "DUP-1"},
    ]
    resp = crm.post(f"accounts/{T}CreateMultiple", json={"Targets": targets})
    assert resp.status_code in (400, 412), resp.text
    assert error_of(resp)[0] in ("0x80060892", "0x80040237")  # DuplicateRecord(EntityKey)
    assert crm.get("accounts?$filter=accountnumber eq 'DUP-0'").json()["value"] == []


def test_update_multiple_of_a_missing_row_updates_nothing(crm: httpx.Client) -> None:
    ids = crm.post(
        f"accounts/{T}CreateMultiple", json={"Targets": [{**ACCOUNT, "name": "Kept"} for _ in range(2)]}
    ).json()["Ids"]
    missing = "00000000-0000-0000-0000-0000000000aa"
    targets = [{**ACCOUNT, "accountid": i, "name": "Changed"} for i in [*ids, missing]]
    resp = crm.post(f"accounts/{T}UpdateMultiple", json={"Targets": targets})
    assert resp.status_code == 404, resp.text
    assert all(crm.get(f"accounts({i})?$select=name").json()["name"] == "Kept" for i in ids)
