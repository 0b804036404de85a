"""The upsert and conditional-write matrix (DATAVERSE.md §2.5) and alternate keys in URLs."""

from __future__ import annotations

import httpx
import pytest
from dv_helpers import entity_id, error_of, first, make_key

REP = {"Prefer": "return=representation"}


@pytest.fixture
def keyed(crm: httpx.Client) -> httpx.Client:
    key = make_key(crm, "account", ["accountnumber"])
    assert key["EntityKeyIndexStatus"] == "Active"
    return crm


def test_key_url_is_refused_until_the_key_exists(crm: httpx.Client) -> None:
    resp = crm.get("accounts(accountnumber='C10100')")
    assert resp.status_code == 400
    assert (
        "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.account'"
        in error_of(resp)[1]
    )


def test_plain_upsert_creates_then_updates_with_key_form_entity_id(keyed: httpx.Client, dv) -> None:
    resp = keyed.patch("accounts(accountnumber='UP-1')", json={"name": "Upserted"})
    assert resp.status_code == 204
    assert resp.headers["OData-EntityId"] == f"{dv.root}accounts(accountnumber='UP-1')"
    row = keyed.get("accounts(accountnumber='UP-1')?$select=name,accountnumber").json()
    assert row["name"] == "Upserted" and row["accountnumber"] == "UP-1"
    resp = keyed.patch("accounts(accountnumber='UP-1')", json={"name": "Updated", "accountnumber": "CHANGED"})
    assert resp.status_code == 204
    again = keyed.get(f"accounts({row['accountid']})?$select=name,accountnumber").json()
    assert again["name"] == "Updated"
    assert again["accountnumber"] == "UP-1"  # key fields in the body are dropped when the row exists


def test_key_values_match_case_insensitively(keyed: httpx.Client) -> None:
    row = keyed.get("accounts(accountnumber='c10100')?$select=accountnumber").json()
    assert row["accountnumber"] == "C10100"


def test_representation_tells_create_from_update(keyed: httpx.Client) -> None:
    created = keyed.patch("accounts(accountnumber='UP-2')?$select=name", json={"name": "A"}, headers=REP)
    assert created.status_code == 201
    assert created.headers["ETag"] == created.json()["@odata.etag"]
    updated = keyed.patch("accounts(accountnumber='UP-2')?$select=name", json={"name": "B"}, headers=REP)
    assert updated.status_code == 200
    assert updated.json()["name"] == "B"


def test_body_key_values_win_when_creating(keyed: httpx.Client) -> None:
    resp = keyed.patch("accounts(accountnumber='URL-1')", json={"name": "X", "accountnumber": "BODY-1"})
    assert resp.status_code == 204
    assert keyed.get("accounts(accountnumber='BODY-1')").status_code == 200
    assert keyed.get("accounts(accountnumber='URL-1')").status_code == 404


def test_if_match_star_is_update_only(keyed: httpx.Client) -> None:
    resp = keyed.patch("accounts(accountnumber='NOPE')", json={"name": "X"}, headers={"If-Match": "*"})
    assert resp.status_code == 404
    assert error_of(resp) == (
        "0x80060891",
        "A record with the specified key values does not exist in account entity",
    )
    ok = keyed.patch("accounts(accountnumber='C10100')", json={"name": "Renamed"}, headers={"If-Match": "*"})
    assert ok.status_code == 204
    missing_id = keyed.patch(
        "accounts(00000000-0000-4000-8000-000000000001)", json={"name": "X"}, headers={"If-Match": "*"}
    )
    assert missing_id.status_code == 404
    assert error_of(missing_id)[0] == "0x80040217"


def test_if_none_match_star_is_create_only(keyed: httpx.Client) -> None:
    resp = keyed.patch("accounts(accountnumber='C10100')", json={"name": "X"}, headers={"If-None-Match": "*"})
    assert resp.status_code == 412
    assert error_of(resp)[1] == "A record with matching key values already exists."
    created = keyed.patch(
        "accounts(accountnumber='NEW-9')", json={"name": "X"}, headers={"If-None-Match": "*"}
    )
    assert created.status_code == 204


def test_if_match_etag_is_optimistic_concurrency(keyed: httpx.Client) -> None:
    row = keyed.get("accounts(accountnumber='C10100')?$select=name").json()
    stale = 'W/"1"'
    resp = keyed.patch("accounts(accountnumber='C10100')", json={"name": "X"}, headers={"If-Match": stale})
    assert resp.status_code == 412
    assert error_of(resp) == (
        "0x80060882",
        "The version of the existing record doesn't match the RowVersion property provided.",
    )
    ok = keyed.patch(
        "accounts(accountnumber='C10100')", json={"name": "X"}, headers={"If-Match": row["@odata.etag"]}
    )
    assert ok.status_code == 204
    # the row changed, so the old etag is stale now; a delete with it fails too
    gone = keyed.delete(f"accounts({row['accountid']})", headers={"If-Match": row["@odata.etag"]})
    assert gone.status_code == 412


def test_patch_by_absent_guid_creates_that_row(crm: httpx.Client) -> None:
    guid = "22222222-3333-4444-8555-666666666666"
    resp = crm.patch(f"accounts({guid})", json={"name": "By id"})
    assert resp.status_code == 204
    assert resp.headers["OData-EntityId"].endswith(f"accounts({guid})")
    assert crm.get(f"accounts({guid})?$select=name").json()["name"] == "By id"


def test_duplicate_key_on_create_is_412(keyed: httpx.Client) -> None:
    resp = keyed.post("accounts", json={"name": "Dup", "accountnumber": "c10100"})
    assert resp.status_code == 412
    code, message = error_of(resp)
    assert code == "0x80060892"
    assert "p2c_account_accountnumber" in message
    # an update creating a duplicate is refused the same way
    other = first(keyed, "accounts", "$filter=accountnumber eq 'C10102'&$select=name")
    resp = keyed.patch(f"accounts({other['accountid']})", json={"accountnumber": "C10100"})
    assert resp.status_code == 412


def test_key_on_duplicated_data_fails(crm: httpx.Client) -> None:
    crm.post("accounts", json={"name": "Twin A", "telephone2": "same"})
    crm.post("accounts", json={"name": "Twin B", "telephone2": "same"})
    key = make_key(crm, "account", ["telephone2"])
    assert key["EntityKeyIndexStatus"] == "Failed"
    resp = crm.get("accounts(telephone2='same')")
    assert resp.status_code == 400


def test_composite_key(crm: httpx.Client) -> None:
    make_key(crm, "contact", ["firstname", "lastname"])
    resp = crm.patch("contacts(firstname='Grace',lastname='Hopper')", json={"jobtitle": "Admiral"})
    assert resp.status_code == 204
    assert resp.headers["OData-EntityId"].endswith("contacts(firstname='Grace',lastname='Hopper')")
    row = crm.get("contacts(lastname='Hopper',firstname='Grace')?$select=jobtitle,fullname").json()
    assert row["jobtitle"] == "Admiral" and row["fullname"] == "Grace Hopper"
    assert crm.get("contacts(firstname='Grace')").status_code == 400


def test_quotes_in_key_values_are_doubled(keyed: httpx.Client) -> None:
    resp = keyed.patch("accounts(accountnumber='O''B-1')", json={"name": "O'Brien"})
    assert resp.status_code == 204
    row = keyed.get("accounts(accountnumber='O''B-1')?$select=accountnumber").json()
    assert row["accountnumber"] == "O'B-1"
    assert entity_id(resp) == "accountnumber='O''B-1'"
