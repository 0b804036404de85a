"""Error shapes and codes (DATAVERSE.md §2.11) for bad writes and bad URLs."""

from __future__ import annotations

import httpx
from dv_helpers import error_of, first


def test_malformed_json(crm: httpx.Client) -> None:
    resp = crm.post("accounts", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    code, message = error_of(resp)
    assert code == "0x80048d19" and "Invalid JSON" in message
    not_object = crm.post("accounts", json=["a"])
    assert not_object.status_code == 400


def test_unknown_column(crm: httpx.Client) -> None:
    resp = crm.post("accounts", json={"name": "X", "bogus": 1})
    assert resp.status_code == 400
    assert error_of(resp) == (
        "0x80060888",
        "Could not find a property named 'bogus' on type 'Microsoft.Dynamics.CRM.account'.",
    )
    assert crm.post("accounts", json={"Name": "X"}).status_code == 400  # property names are case-sensitive


def test_wrong_json_types_name_the_column(crm: httpx.Client) -> None:
    for body, column in (
        ({"name": 5}, "name"),
        ({"name": "X", "numberofemployees": "many"}, "numberofemployees"),
        ({"name": "X", "creditonhold": "yes"}, "creditonhold"),
        ({"name": "X", "creditlimit": "100"}, "creditlimit"),
        ({"name": "X", "paymenttermscode": 99}, "paymenttermscode"),
    ):
        resp = crm.post("accounts", json=body)
        assert resp.status_code == 400, body
        assert f"'{column}'" in error_of(resp)[1]
    date = crm.post("contacts", json={"lastname": "X", "birthdate": "yesterday"})
    assert date.status_code == 400 and "'birthdate'" in error_of(date)[1]


def test_over_long_string(crm: httpx.Client) -> None:
    resp = crm.post("accounts", json={"name": "X", "accountnumber": "A" * 21})
    assert resp.status_code == 400
    assert error_of(resp) == (
        "0x80044331",
        "A validation error occurred.  The length of the 'accountnumber' attribute of the 'account' entity exceeded "
        "the maximum allowed length of '20'.",
    )


def test_required_and_read_only_columns(crm: httpx.Client) -> None:
    missing = crm.post("contacts", json={"firstname": "No last name"})
    assert missing.status_code == 400 and "'lastname'" in error_of(missing)[1]
    computed = crm.post("contacts", json={"lastname": "X", "fullname": "Forced"})
    assert computed.status_code == 400 and "'fullname'" in error_of(computed)[1]
    account = first(crm, "accounts", "$select=name")
    cleared = crm.patch(f"accounts({account['accountid']})", json={"name": None})
    assert cleared.status_code == 400 and "'name'" in error_of(cleared)[1]
    stamp = crm.patch(f"accounts({account['accountid']})", json={"createdon": "2020-01-01T00:00:00Z"})
    assert stamp.status_code == 400


def test_methods_and_segments(crm: httpx.Client) -> None:
    assert crm.put("accounts", json={}).status_code == 405
    assert crm.delete("accounts").status_code == 405
    account = first(crm, "accounts", "$select=name")
    assert crm.get(f"accounts({account['accountid']})/bogus").status_code == 404
    assert crm.get("accounts(not-a-guid)").status_code == 400
    assert crm.post("sdkmessages", json={"name": "x"}).status_code == 405


def test_missing_token_is_401(dv) -> None:
    resp = dv.client(token=None).get("accounts")
    assert resp.status_code == 401
