"""``$batch`` (DATAVERSE.md §2.9): change sets, Content-ID references, stop or continue on error."""

from __future__ import annotations

import json

import httpx

from p2c.connectors.multipart import ChangeSet, HttpPart, parse_batch, render_batch

JSON = {"Content-Type": "application/json; type=entry"}


def post(body: dict) -> bytes:
    return json.dumps(body).encode()


def send(crm: httpx.Client, items: list, prefer: str | None = None) -> tuple[httpx.Response, list]:
    content_type, body = render_batch(items, kind="request")
    headers = {"Content-Type": content_type}
    if prefer:
        headers["Prefer"] = prefer
    resp = crm.post("$batch", content=body, headers=headers)
    assert resp.headers["content-type"].startswith("multipart/mixed"), resp.text
    return resp, parse_batch(resp.headers["content-type"], resp.content)


def test_change_set_with_content_id_references(crm: httpx.Client, dv) -> None:
    items = [
        ChangeSet([
            HttpPart.request("POST", f"{dv.root}accounts", JSON, post({"name": "Batch Co"}), content_id="1"),
            HttpPart.request("POST", "contacts", JSON,
                             post({"lastname": "Batcher", "parentcustomerid_account@odata.bind": "$1"}), content_id="2"),
            HttpPart.request("PATCH", "$1", JSON, post({"telephone1": "42"}), content_id="3"),
        ]),
        HttpPart.request("GET", "accounts?$select=name,telephone1&$filter=name%20eq%20'Batch%20Co'"),
    ]  # fmt: skip
    resp, answers = send(crm, items)
    assert resp.status_code == 200
    change_set, get = answers
    assert [p.status for p in change_set.parts] == [204, 204, 204]
    assert [p.content_id for p in change_set.parts] == ["1", "2", "3"]
    assert change_set.parts[0].headers["odata-entityid"].startswith(dv.root + "accounts(")
    row = json.loads(get.body)["value"][0]
    assert row["telephone1"] == "42"
    contact = crm.get("contacts?$select=_parentcustomerid_value&$filter=lastname eq 'Batcher'").json()[
        "value"
    ][0]
    assert contact["_parentcustomerid_value"] == row["accountid"]


def test_failed_change_set_rolls_back_and_stops(crm: httpx.Client) -> None:
    items = [
        ChangeSet([
            HttpPart.request("POST", "accounts", JSON, post({"name": "Rolled back"})),
            HttpPart.request("POST", "accounts", JSON, post({"name": "x" * 161})),
        ]),
        HttpPart.request("POST", "accounts", JSON, post({"name": "Never runs"})),
    ]  # fmt: skip
    resp, answers = send(crm, items)
    assert resp.status_code == 400
    assert len(answers) == 1
    assert answers[0].status == 400
    error = json.loads(answers[0].body)["error"]
    assert error["code"] == "0x80044331" and "maximum allowed length of '160'" in error["message"]
    names = crm.get("accounts?$select=name&$filter=name eq 'Rolled back' or name eq 'Never runs'").json()
    assert names["value"] == []


def test_continue_on_error(crm: httpx.Client) -> None:
    items = [
        HttpPart.request("POST", "accounts", JSON, post({"bogus": 1})),
        HttpPart.request("POST", "accounts", JSON, post({"name": "Still runs"})),
    ]
    resp, answers = send(crm, items, prefer="odata.continue-on-error")
    assert resp.status_code == 200
    assert [a.status for a in answers] == [400, 204]
    assert crm.get("accounts/$count?$filter=name eq 'Still runs'").status_code == 200
    assert crm.get("accounts?$filter=name eq 'Still runs'").json()["value"]


def test_malformed_batch_is_a_json_error(crm: httpx.Client) -> None:
    resp = crm.post("$batch", content=b"nonsense", headers={"Content-Type": "multipart/mixed; boundary=b"})
    assert resp.status_code == 400
    assert "error" in resp.json()
