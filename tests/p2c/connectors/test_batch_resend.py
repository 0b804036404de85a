"""One protocol corner the sandbox does not show: a ``$batch`` that stops at its first failure.

Without ``odata.continue-on-error`` honoured, Dataverse answers 400 with the parts up to the
failing one (DATAVERSE.md §2.9); the operations after it were never tried and must be sent again,
not reported as failures. A mock transport plays that service.
"""

from __future__ import annotations

import json

import httpx

from p2c.connectors import DataverseConnector, HttpPart, OpKind, StaticTokenProvider, WriteAction, WriteOp
from p2c.connectors.multipart import parse_batch, render_batch
from p2c.errors import RecordError

GUIDS = [f"00000000-0000-0000-0000-00000000000{n}" for n in range(1, 5)]


def test_operations_after_the_first_failure_are_sent_again() -> None:
    batches: list[list[str]] = []

    definition = {"LogicalName": "account", "EntitySetName": "accounts", "PrimaryIdAttribute": "accountid"}
    probe = {"primaryobjecttypecode": "account"}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/$batch")
        parts = parse_batch(request.headers["content-type"], request.content)
        if all(isinstance(p, HttpPart) and p.method == "GET" for p in parts):  # the table's metadata
            rows = [definition if "EntityDefinitions" in (p.url or "") else probe for p in parts]  # type: ignore[union-attr]
            ctype, body = render_batch(
                [HttpPart.response(200, {}, json.dumps({"value": [r]}).encode()) for r in rows],
                kind="response",
            )
            return httpx.Response(200, headers={"Content-Type": ctype}, content=body)
        assert request.headers["prefer"] == "odata.continue-on-error"
        urls = [p.url or "" for p in parts if isinstance(p, HttpPart)]
        batches.append(urls)
        answers = []
        for part in parts:
            assert isinstance(part, HttpPart)
            if GUIDS[1] in (part.url or ""):  # the service refuses this one, then stops
                error = {"error": {"code": "0x80040217", "message": "account With Id = x Does Not Exist"}}
                answers.append(
                    HttpPart.response(
                        404, {"Content-Type": "application/json"}, json.dumps(error).encode(), part.content_id
                    )
                )
                break
            answers.append(HttpPart.response(204, {}, b"", part.content_id))
        ctype, body = render_batch(answers, kind="response")
        return httpx.Response(200 if len(batches) > 1 else 400, headers={"Content-Type": ctype}, content=body)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    crm = DataverseConnector("https://org.example.com", StaticTokenProvider("t0ken-for-the-mock"), client)
    ops = [WriteOp(OpKind.DELETE, {"accountid": g}) for g in GUIDS]
    # with an ETag, so it goes in the $batch too (updates without one go as UpdateMultiple)
    ops[1] = WriteOp(OpKind.UPDATE, {"accountid": GUIDS[1]}, {"name": "x"}, etag='W/"1"')
    results = crm.write("accounts", ops)

    assert [r.action for r in results] == [
        WriteAction.DELETED,
        WriteAction.FAILED,
        WriteAction.DELETED,
        WriteAction.DELETED,
    ]
    assert not isinstance(results[1].error, RecordError)  # a 404 is NotFoundError
    assert results[1].error is not None and results[1].error.status == 404
    assert [len(b) for b in batches] == [4, 2]
    assert GUIDS[2] in batches[1][0] and GUIDS[3] in batches[1][1]
