"""Create, retrieve, update, delete (DATAVERSE.md §2.4) over HTTPS."""

from __future__ import annotations

import re

import httpx
from dv_helpers import entity_id, error_of, first

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_create_answers_204_with_entity_id(crm: httpx.Client, dv) -> None:
    resp = crm.post(
        "accounts", json={"name": "Northwind East", "accountnumber": "NE-1", "creditlimit": 1500.5}
    )
    assert resp.status_code == 204
    assert resp.content == b""
    assert resp.headers["OData-EntityId"].startswith(dv.root + "accounts(")
    new_id = entity_id(resp)
    assert GUID.fullmatch(new_id)
    row = crm.get(f"accounts({new_id})").json()
    assert row["name"] == "Northwind East"
    assert row["creditlimit"] == 1500.5
    assert row["creditlimit_base"] == 1500.5
    assert row["statecode"] == 0 and row["statuscode"] == 1
    assert STAMP.fullmatch(row["createdon"]) and STAMP.fullmatch(row["modifiedon"])
    assert row["@odata.etag"] == f'W/"{row["versionnumber"]}"'
    assert row["_ownerid_value"] and row["_createdby_value"]
    assert row["@odata.context"].endswith("$metadata#accounts/$entity")
    assert row["address1_city"] is None  # every column is present, unset ones as null


def test_create_with_return_representation_honours_select(crm: httpx.Client) -> None:
    resp = crm.post(
        "accounts?$select=name,accountnumber",
        json={"name": "Rep Co", "accountnumber": "REP-1"},
        headers={"Prefer": "return=representation"},
    )
    assert resp.status_code == 201
    body = resp.json()
    assert set(body) == {"@odata.context", "@odata.etag", "name", "accountnumber", "accountid"}
    assert body["name"] == "Rep Co"
    assert resp.headers["ETag"] == body["@odata.etag"]
    assert "OData-EntityId" not in resp.headers


def test_update_and_representation(crm: httpx.Client) -> None:
    account = first(crm, "accounts", "$select=name,telephone1")
    url = f"accounts({account['accountid']})"
    resp = crm.patch(url, json={"telephone1": "+1 555 0100"}, headers={"If-Match": "*"})
    assert resp.status_code == 204
    after = crm.get(f"{url}?$select=telephone1,name").json()
    assert after["telephone1"] == "+1 555 0100"
    assert after["name"] == account["name"]
    assert after["@odata.etag"] != account["@odata.etag"]
    resp = crm.patch(
        f"{url}?$select=telephone1",
        json={"telephone1": "+1 555 0101"},
        headers={"Prefer": "return=representation"},
    )
    assert resp.status_code == 200
    assert resp.json()["telephone1"] == "+1 555 0101"


def test_delete_then_not_found(crm: httpx.Client) -> None:
    new_id = entity_id(crm.post("accounts", json={"name": "Short-lived"}))
    assert crm.delete(f"accounts({new_id})").status_code == 204
    resp = crm.get(f"accounts({new_id})")
    assert resp.status_code == 404
    assert error_of(resp) == ("0x80040217", f"account With Id = {new_id} Does Not Exist")
    assert crm.delete(f"accounts({new_id})").status_code == 404


def test_conditional_get_answers_304_when_unchanged(crm: httpx.Client) -> None:
    account = first(crm, "accounts", "$select=name")
    url = f"accounts({account['accountid']})?$select=name"
    resp = crm.get(url, headers={"If-None-Match": account["@odata.etag"]})
    assert resp.status_code == 304
    assert crm.get(url, headers={"If-None-Match": 'W/"1"'}).status_code == 200
    # never 304 with annotations requested
    annotated = crm.get(
        url, headers={"If-None-Match": account["@odata.etag"], "Prefer": 'odata.include-annotations="*"'}
    )
    assert annotated.status_code == 200


def test_versions_come_from_one_counter_across_tables(crm: httpx.Client) -> None:
    a = crm.post("accounts", json={"name": "V1"}, headers={"Prefer": "return=representation"}).json()
    c = crm.post("contacts", json={"lastname": "V2"}, headers={"Prefer": "return=representation"}).json()
    b = crm.post("accounts", json={"name": "V3"}, headers={"Prefer": "return=representation"}).json()
    assert a["versionnumber"] < c["versionnumber"] < b["versionnumber"]


def test_single_property_get_put_delete(crm: httpx.Client) -> None:
    account = first(crm, "accounts", "$select=name")
    url = f"accounts({account['accountid']})"
    got = crm.get(f"{url}/name")
    assert got.status_code == 200 and got.json()["value"] == account["name"]
    assert crm.put(f"{url}/telephone2", json={"value": "123"}).status_code == 204
    assert crm.get(f"{url}/telephone2").json()["value"] == "123"
    assert crm.delete(f"{url}/telephone2").status_code == 204
    assert crm.get(f"{url}/telephone2").status_code == 204


def test_contact_fullname_is_computed(crm: httpx.Client) -> None:
    resp = crm.post(
        "contacts?$select=fullname",
        json={"firstname": "Ada", "lastname": "Lovelace"},
        headers={"Prefer": "return=representation"},
    )
    assert resp.json()["fullname"] == "Ada Lovelace"


def test_create_with_given_id_and_duplicate_id(crm: httpx.Client) -> None:
    guid = "11111111-2222-4333-8444-555555555555"
    resp = crm.post("accounts", json={"accountid": guid, "name": "Given id"})
    assert entity_id(resp) == guid
    again = crm.post("accounts", json={"accountid": guid, "name": "Again"})
    assert again.status_code == 412
    assert error_of(again)[0] == "0x80040237"


def test_service_document_and_whoami(crm: httpx.Client) -> None:
    doc = crm.get("").json()
    names = {s["name"] for s in doc["value"]}
    assert {"accounts", "transactioncurrencies", "salesorderdetails", "systemusers"} <= names
    who = crm.get("WhoAmI").json()
    assert GUID.fullmatch(who["UserId"]) and GUID.fullmatch(who["OrganizationId"])
    user = crm.get(f"systemusers({who['UserId']})?$select=fullname").json()
    assert user["fullname"] == "# P2C Sandbox"
