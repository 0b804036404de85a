"""Filters naming rows by id, lookup or text value are served by index (dataverse/keyfilter.py)
with exactly the results, order and paging of a scan: case, other and-ed conditions, rollback."""

from __future__ import annotations

import json

import httpx


def _ids(resp: httpx.Response, column: str) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [r[column] for r in resp.json()["value"]]


def _in(column: str, values: list[str]) -> str:
    return f"Microsoft.Dynamics.CRM.In(PropertyName='{column}',PropertyValues={json.dumps(values)})"


def _create(crm: httpx.Client, entity_set: str, body: dict[str, object]) -> str:
    r = crm.post(entity_set, json=body, headers={"Prefer": "return=representation"})
    assert r.status_code == 201, r.text
    return str(r.json()[f"{entity_set[:-1]}id"])


def test_id_filters_match_as_a_scan_does(crm: httpx.Client) -> None:
    a = _create(crm, "accounts", {"name": "Key A", "accountnumber": "KF-A"})
    b = _create(crm, "accounts", {"name": "Key B", "accountnumber": "KF-B"})
    unknown = "00000000-0000-0000-0000-0000000000ff"
    got = _ids(
        crm.get(f"accounts?$select=name&$filter={_in('accountid', [b.upper(), unknown, a])}"), "accountid"
    )
    assert got == [a, b]  # creation order, whatever the order and case of the ids asked for
    got = _ids(
        crm.get(f"accounts?$select=name&$filter=accountid eq {b} or accountid eq {unknown}"), "accountid"
    )
    assert got == [b]
    # the index finds candidates, the rest of the filter still decides
    flt = f"({_in('accountid', [a, b])}) and name eq 'key b'"
    assert _ids(crm.get(f"accounts?$select=name&$filter={flt}"), "accountid") == [b]


def test_text_and_lookup_filters_are_case_insensitive_and_page(crm: httpx.Client) -> None:
    parent = _create(crm, "accounts", {"name": "Key parent", "accountnumber": "KF-P"})
    kids = [
        _create(
            crm,
            "contacts",
            {"lastname": f"Kid {i}", "parentcustomerid_account@odata.bind": f"/accounts({parent})"},
        )
        for i in range(3)
    ]
    flt = _in("_parentcustomerid_value", [parent.upper()])
    url: str | None = f"contacts?$select=lastname&$filter={flt}"
    seen: list[str] = []
    while url:
        body = crm.get(url, headers={"Prefer": "odata.maxpagesize=2"}).json()
        seen += [r["contactid"] for r in body["value"]]
        url = body.get("@odata.nextLink")
    assert seen == kids
    flt = "accountnumber eq 'kf-p' or accountnumber eq 'KF-NONE'"
    assert _ids(crm.get(f"accounts?$select=name&$filter={flt}"), "accountid") == [parent]
    count = crm.get(f"contacts?$filter={_in('_parentcustomerid_value', [parent])}&$count=true&$top=1").json()
    assert count["@odata.count"] == 3


def test_rolled_back_and_changed_rows_leave_the_index_right(crm: httpx.Client, dv) -> None:  # type: ignore[no-untyped-def]
    parent = _create(crm, "accounts", {"name": "Key rollback", "accountnumber": "KF-R"})
    other = _create(crm, "accounts", {"name": "Key other", "accountnumber": "KF-O"})
    kid = _create(
        crm, "contacts", {"lastname": "Stays", "parentcustomerid_account@odata.bind": f"/accounts({parent})"}
    )
    # a change set that creates a contact under the parent, then fails: all of it rolls back
    boundary, cs = "batch_kf", "changeset_kf"
    body = (
        f"--{boundary}\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n"
        f"--{cs}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"
        f"POST {dv.root}contacts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
        + json.dumps({"lastname": "Gone", "parentcustomerid_account@odata.bind": f"/accounts({parent})"})
        + f"\r\n--{cs}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n"
        f"PATCH {dv.root}accounts(00000000-0000-0000-0000-0000000000fe) HTTP/1.1\r\n"
        'Content-Type: application/json\r\nIf-Match: *\r\n\r\n{"name": "x"}\r\n'
        f"--{cs}--\r\n--{boundary}--\r\n"
    )
    r = crm.post("$batch", content=body, headers={"Content-Type": f"multipart/mixed; boundary={boundary}"})
    assert "HTTP/1.1 404" in r.text, r.text  # the change set failed (Dataverse answers the batch 400)
    flt = _in("_parentcustomerid_value", [parent])
    assert _ids(crm.get(f"contacts?$select=lastname&$filter={flt}"), "contactid") == [kid]
    # re-parenting moves the row from one value to the other
    r = crm.patch(f"contacts({kid})", json={"parentcustomerid_account@odata.bind": f"/accounts({other})"})
    assert r.status_code == 204, r.text
    assert _ids(crm.get(f"contacts?$select=lastname&$filter={flt}"), "contactid") == []
    flt = _in("_parentcustomerid_value", [other])
    assert _ids(crm.get(f"contacts?$select=lastname&$filter={flt}"), "contactid") == [kid]
