"""$batch with change sets (FNO.md §1.7)."""

from __future__ import annotations

import json

from p2c.connectors.multipart import ChangeSet, HttpPart, parse_batch, render_batch


def _post(url: str, body: dict, cid: str) -> HttpPart:
    return HttpPart.request(
        "POST",
        url,
        {"Content-Type": "application/json;odata.metadata=minimal", "OData-Version": "4.0"},
        json.dumps(body).encode(),
        content_id=cid,
    )


def _send(erp, erp_env, items):  # type: ignore[no-untyped-def]
    ct, body = render_batch(items, kind="request")
    r = erp.post("$batch", content=body, headers={"Content-Type": ct})
    assert r.status_code == 200
    return parse_batch(r.headers["content-type"], r.content)


def test_change_set_commits_all_parts(erp, erp_env) -> None:
    root = erp_env.root
    items = [
        ChangeSet(
            [
                _post(f"{root}CustomerGroups", {"CustomerGroupId": "B1"}, "1"),
                _post(f"{root}CustomerGroups", {"CustomerGroupId": "B2", "dataAreaId": "USMF"}, "2"),
            ]
        )
    ]
    answers = _send(erp, erp_env, items)
    assert isinstance(answers[0], ChangeSet)
    assert [p.status for p in answers[0].parts] == [201, 201]
    assert [p.content_id for p in answers[0].parts] == ["1", "2"]
    assert erp.get("CustomerGroups(dataAreaId='usmf',CustomerGroupId='B2')").status_code == 200


def test_a_part_asked_for_minimal_is_answered_204_without_a_body(erp, erp_env) -> None:
    root = erp_env.root
    minimal = _post(f"{root}CustomerGroups", {"CustomerGroupId": "M1"}, "1")
    minimal.headers["Prefer"] = "return=minimal"
    full = _post(f"{root}CustomerGroups", {"CustomerGroupId": "M2"}, "2")
    answers = _send(erp, erp_env, [ChangeSet([minimal]), ChangeSet([full])])
    (short,), (whole,) = (a.parts for a in answers if isinstance(a, ChangeSet))
    assert (short.status, short.body.strip()) == (204, b"")
    assert short.headers["location"] == f"{root}CustomerGroups(dataAreaId='usmf',CustomerGroupId='M1')"
    assert whole.status == 201 and json.loads(whole.body)["CustomerGroupId"] == "M2"
    assert erp.get("CustomerGroups(dataAreaId='usmf',CustomerGroupId='M1')").status_code == 200


def test_failing_part_rolls_back_the_change_set_and_reports_500(erp, erp_env) -> None:
    root = erp_env.root
    items = [
        ChangeSet(
            [
                _post(f"{root}CustomerGroups", {"CustomerGroupId": "B3"}, "1"),
                _post(f"{root}CustomerGroups", {"CustomerGroupId": "10"}, "2"),  # exists
            ]
        ),
        HttpPart.request("GET", f"{root}CustomerGroups/$count"),
    ]
    answers = _send(erp, erp_env, items)
    failed = answers[0]
    parts = failed.parts if isinstance(failed, ChangeSet) else [failed]
    assert len(parts) == 1 and parts[0].status == 500 and parts[0].content_id == "2"
    inner = json.loads(parts[0].body)["error"]["innererror"]["message"]
    assert "The record already exists.." in inner
    assert erp.get("CustomerGroups(dataAreaId='usmf',CustomerGroupId='B3')").status_code == 404
    assert isinstance(answers[1], HttpPart) and answers[1].status == 200 and answers[1].body == b"3"


def test_batch_of_order_header_and_lines(erp, erp_env) -> None:
    root = erp_env.root
    items = [
        ChangeSet(
            [
                _post(
                    f"{root}CDSSalesOrderHeaders",
                    {"SalesOrderNumber": "P2C-1", "OrderingCustomerAccountNumber": "US-002"},
                    "1",
                ),
                _post(
                    f"{root}CDSSalesOrderLines",
                    {"SalesOrderNumber": "P2C-1", "ProductNumber": "D0001", "LineCreationSequenceNumber": 10},
                    "2",
                ),
                _post(
                    f"{root}CDSSalesOrderLines",
                    {"SalesOrderNumber": "P2C-1", "ProductNumber": "D0003", "LineCreationSequenceNumber": 20},
                    "3",
                ),
            ]
        )
    ]
    answers = _send(erp, erp_env, items)
    assert [p.status for p in answers[0].parts] == [201, 201, 201]
    lines = erp.get(
        "CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='P2C-1')/SalesOrderLines"
    ).json()["value"]
    assert [ln["LineCreationSequenceNumber"] for ln in lines] == [10, 20]


def test_malformed_batch_is_400(erp) -> None:
    r = erp.post("$batch", content=b"garbage", headers={"Content-Type": "multipart/mixed; boundary=batch_x"})
    assert r.status_code == 400
