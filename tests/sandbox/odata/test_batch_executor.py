"""``execute_batch`` over a tiny real handler and an in-memory :class:`Store`."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from p2c.connectors.multipart import BatchItem, ChangeSet, HttpPart, parse_batch, render_batch
from p2c_sandbox.http import Request, Response, dumps, json_response, loads
from p2c_sandbox.odata import BatchDialect, execute_batch
from p2c_sandbox.store import Store

BASE = "https://127.0.0.1:8441"
DV_ROOT = f"{BASE}/api/data/v9.2/"
FNO_ROOT = f"{BASE}/data/"
_PATH = re.compile(r"(\w+)(?:\((\w+)\))?(?:/(\w+))?")


def _error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}})


class TinyService:
    """POST/PATCH/PUT-property/GET/DELETE over dict tables; a body {"fail": true} is invalid."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.store = Store(None)
        self.seen: list[Request] = []

    def handle(self, req: Request) -> Response:
        self.seen.append(req)
        match = _PATH.fullmatch(req.path)
        if match is None:
            return _error(404, "0x80060888", f"Resource not found for the segment '{req.path}'.")
        name, key, prop = match.groups()
        table = self.store.table(name)
        doc: dict[str, Any] = req.json() if req.body else {}
        if doc.get("throttle"):
            return Response(429, {"retry-after": "5"}, b"")
        if doc.get("fail"):
            return _error(400, "0x80044331", "A validation error occurred.")
        if req.method == "POST" and key is None:
            key = str(len(table) + 1)
            with self.store.transaction():
                table.put(key, doc)
            return self._written(name, key, req)
        row = table.get(key) if key else None
        if row is None:
            return _error(404, "0x80040217", f"{name} With Id = {key} Does Not Exist")
        if req.method == "GET":
            return json_response(
                200, {k: v for k, v in row.items() if not k.startswith("@")}, {"etag": 'W/"1"'}
            )
        with self.store.transaction():
            if req.method == "DELETE":
                table.delete(key)
                return Response(204)
            update = {prop: doc["value"]} if prop else doc
            table.put(key, {**row, **update})
        return self._written(name, key, req)

    def _written(self, name: str, key: str, req: Request) -> Response:
        url = f"{self.root}{name}({key})"
        if req.prefer().get("return") == "representation":
            row = self.store.table(name).get(key) or {}
            body = {"@odata.id": url, **{k: v for k, v in row.items() if not k.startswith("@")}}
            return json_response(201, body)
        return Response(204, {"odata-version": "4.0", "odata-entityid": url})


def _run(
    service: TinyService,
    items: list[BatchItem],
    dialect: BatchDialect = BatchDialect.DATAVERSE,
    headers: dict[str, str] | None = None,
    max_operations: int = 1000,
) -> Response:
    content_type, body = render_batch(items, kind="request")
    req = Request(
        "POST",
        "$batch",
        headers={"content-type": content_type, **(headers or {})},
        body=body,
        base_url=BASE,
        service_root=service.root,
    )
    return execute_batch(
        req,
        service.handle,
        service.store.transaction,
        dialect,
        error=_error,
        max_operations=max_operations,
    )


def _answers(resp: Response) -> list[BatchItem]:
    assert resp.headers["content-type"].startswith("multipart/mixed; boundary=batchresponse_")
    return parse_batch(resp.headers["content-type"], resp.body)


def _post(url: str, doc: dict[str, Any], content_id: str | None = None) -> HttpPart:
    return HttpPart.request("POST", url, {"content-type": "application/json"}, dumps(doc), content_id)


def _patch(url: str, doc: dict[str, Any], content_id: str | None = None) -> HttpPart:
    return HttpPart.request("PATCH", url, {"content-type": "application/json"}, dumps(doc), content_id)


def test_dataverse_sdk_body_with_references_commits() -> None:
    service = TinyService(DV_ROOT)
    body = (
        b'--batch_1\r\nContent-Type: multipart/mixed; boundary="changeset_1"\r\n\r\n'
        b"--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        b"Content-ID: 1\r\n\r\n"
        b"POST https://127.0.0.1:8441/api/data/v9.2/accounts HTTP/1.1\r\n"
        b"Content-Type: application/json; type=entry\r\n\r\n"
        b'{"name":"Contoso"}\r\n'
        b"--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        b"Content-ID: 2\r\n\r\n"
        b"POST https://127.0.0.1:8441/api/data/v9.2/contacts HTTP/1.1\r\n"
        b"Content-Type: application/json; type=entry\r\n\r\n"
        b'{"lastname":"Ng","parentcustomerid_account@odata.bind":"$1"}\r\n'
        b"--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        b"Content-ID: 3\r\n\r\n"
        b"PATCH $1 HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n"
        b'{"primarycontactid@odata.bind":"$2","tags":[{"@odata.id":"$2"}]}\r\n'
        b"--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        b"Content-ID: 4\r\n\r\n"
        b'PUT $1/name HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n{"value":"Contoso Ltd"}\r\n'
        b"--changeset_1--\r\n\r\n--batch_1--\r\n"
    )
    req = Request(
        "POST",
        "$batch",
        headers={"content-type": 'multipart/mixed; boundary="batch_1"'},
        body=body,
        base_url=BASE,
        service_root=DV_ROOT,
    )
    resp = execute_batch(req, service.handle, service.store.transaction, BatchDialect.DATAVERSE, error=_error)
    assert resp.status == 200 and "preference-applied" not in resp.headers
    (cs,) = _answers(resp)
    assert isinstance(cs, ChangeSet)
    assert [(p.status, p.reason, p.content_id) for p in cs.parts] == [
        (204, "No Content", str(n)) for n in (1, 2, 3, 4)
    ]
    assert cs.parts[0].headers["odata-entityid"] == f"{DV_ROOT}accounts(1)"
    assert [r.path for r in service.seen] == ["accounts", "contacts", "accounts(1)", "accounts(1)/name"]
    account = service.store.table("accounts").get("1")
    contact = service.store.table("contacts").get("1")
    assert account is not None and contact is not None
    assert contact["parentcustomerid_account@odata.bind"] == f"{DV_ROOT}accounts(1)"
    assert account["primarycontactid@odata.bind"] == f"{DV_ROOT}contacts(1)"
    assert account["tags"] == [{"@odata.id": f"{DV_ROOT}contacts(1)"}]
    assert account["name"] == "Contoso Ltd"


def test_failed_change_set_rolls_back_and_stops_the_batch() -> None:
    service = TinyService(DV_ROOT)
    items: list[BatchItem] = [
        _post("accounts", {"name": "kept"}),
        ChangeSet([_post("accounts", {"name": "A"}, "1"), _patch("$1", {"fail": True}, "2")]),
        HttpPart.request("GET", "accounts(1)"),
    ]
    resp = _run(service, items)
    assert resp.status == 400
    first, failed = _answers(resp)  # the GET after the failure never ran
    assert isinstance(first, HttpPart) and first.status == 204
    assert isinstance(failed, HttpPart)  # a single part, not a changesetresponse
    assert (failed.status, failed.reason, failed.content_id) == (400, "Bad Request", "2")
    assert loads(failed.body)["error"]["code"] == "0x80044331"
    assert [row["name"] for row in service.store.table("accounts").scan()] == ["kept"]
    assert len(service.seen) == 3


def test_continue_on_error_runs_everything() -> None:
    service = TinyService(DV_ROOT)
    items: list[BatchItem] = [
        _post("accounts", {"fail": True}),
        ChangeSet([_post("accounts", {"name": "A"}, "1")]),
        HttpPart.request("GET", "accounts(404)"),
    ]
    resp = _run(service, items, headers={"prefer": "odata.continue-on-error"})
    assert resp.status == 200
    assert resp.headers["preference-applied"] == "odata.continue-on-error"
    bad, cs, missing = _answers(resp)
    assert isinstance(bad, HttpPart) and bad.status == 400
    assert isinstance(cs, ChangeSet) and cs.parts[0].status == 204
    assert isinstance(missing, HttpPart) and missing.status == 404
    assert len(service.store.table("accounts")) == 1


@pytest.mark.parametrize(
    "part",
    [
        _patch("$3", {"name": "x"}, "2"),
        _patch("$3/name", {"value": "x"}, "2"),
        _post("contacts", {"parentcustomerid_account@odata.bind": "$3"}, "2"),
        _post("contacts", {"lines": [{"product@odata.bind": "$3"}]}, "2"),
    ],
)
def test_undeclared_content_id_reference(part: HttpPart) -> None:
    service = TinyService(DV_ROOT)
    resp = _run(service, [ChangeSet([_post("accounts", {"name": "A"}, "1"), part])])
    (failed,) = _answers(resp)
    assert isinstance(failed, HttpPart) and failed.status == 400
    assert loads(failed.body)["error"]["message"] == (
        "Content-ID Reference: '$3' does not exist in the batch context."
    )
    assert len(service.store.table("accounts")) == 0


def test_reference_outside_a_change_set_is_undeclared() -> None:
    resp = _run(TinyService(DV_ROOT), [_patch("$1", {"name": "x"})])
    (failed,) = _answers(resp)
    assert isinstance(failed, HttpPart) and failed.status == 400


def test_get_inside_a_change_set_is_rejected() -> None:
    service = TinyService(DV_ROOT)
    resp = _run(service, [ChangeSet([_post("accounts", {}, "1"), HttpPart.request("GET", "accounts(1)")])])
    (failed,) = _answers(resp)
    assert isinstance(failed, HttpPart) and failed.status == 400
    assert len(service.store.table("accounts")) == 0


def test_entity_url_from_location_or_body() -> None:
    service = TinyService(DV_ROOT)
    part = _post("accounts", {"name": "A"}, "1")
    part.headers["prefer"] = "return=representation"
    resp = _run(service, [ChangeSet([part, _patch("$1", {"name": "B"}, "2")])])
    (cs,) = _answers(resp)
    assert isinstance(cs, ChangeSet)
    assert [p.status for p in cs.parts] == [201, 204]
    assert service.seen[1].path == "accounts(1)"

    def located(req: Request) -> Response:
        if req.method == "POST":
            return Response(201, {"Location": f"{DV_ROOT}things(9)"})
        return Response(204, {"x-path": req.path})

    ct, body = render_batch(
        [ChangeSet([_post("things", {}, "a"), _patch("$a", {}, "b"), _patch("$b", {}, "c")])], kind="request"
    )
    outer = Request(
        "POST", "$batch", headers={"content-type": ct}, body=body, base_url=BASE, service_root=DV_ROOT
    )
    (cs,) = _answers(
        execute_batch(outer, located, service.store.transaction, BatchDialect.DATAVERSE, error=_error)
    )
    assert isinstance(cs, ChangeSet)
    assert [p.headers.get("x-path") for p in cs.parts] == [None, "things(9)", "things(9)"]


def test_part_requests_are_relative_decoded_and_inherit_headers() -> None:
    service = TinyService(FNO_ROOT)
    items: list[BatchItem] = [
        HttpPart.request("GET", f"{FNO_ROOT}Customers?$filter=Name%20eq%20'A%2BB'&cross-company=true"),
        HttpPart.request("GET", "/data/Customers(x%201)", {"Prefer": "odata.maxpagesize=5"}),
        HttpPart.request("GET", "Customers"),
        HttpPart.request("GET", "https://other.example/data"),
    ]
    headers = {"authorization": "Bearer t", "prefer": "return=representation,odata.continue-on-error"}
    resp = _run(service, items, BatchDialect.FNO, headers)
    assert resp.status == 200 and "preference-applied" not in resp.headers
    first, second, third, fourth = service.seen
    assert first.path == "Customers"
    assert first.query == [("$filter", "Name eq 'A+B'"), ("cross-company", "true")]
    assert first.raw_query == "$filter=Name%20eq%20'A%2BB'&cross-company=true"
    assert first.headers == {"authorization": "Bearer t", "prefer": "return=representation"}
    assert (first.in_batch, first.base_url, first.service_root) == (True, BASE, FNO_ROOT)
    assert second.path == "Customers(x 1)"
    assert second.headers["prefer"] == "odata.maxpagesize=5"
    assert (third.path, fourth.path) == ("Customers", "")


def test_fno_maps_write_failures_to_500_and_always_answers_200() -> None:
    service = TinyService(FNO_ROOT)
    items: list[BatchItem] = [
        ChangeSet([_post("CustomerGroups", {"id": "A"}, "1"), _post("CustomerGroups", {"fail": True}, "2")]),
        ChangeSet([_post("CustomerGroups", {"id": "B"}, "1")]),
        ChangeSet([_post("CustomerGroups", {"throttle": True}, "1")]),
        ChangeSet([_patch("CustomerGroups(999)", {"id": "C"}, "1")]),
        _post("CustomerGroups", {"fail": True}),
    ]
    resp = _run(service, items, BatchDialect.FNO)
    assert resp.status == 200
    failed, ok, throttled, missing, single = _answers(resp)
    assert isinstance(failed, HttpPart)
    assert (failed.status, failed.reason, failed.content_id) == (500, "Internal Server Error", "2")
    assert isinstance(ok, ChangeSet) and ok.parts[0].status == 204
    assert isinstance(throttled, HttpPart) and (throttled.status, throttled.headers["retry-after"]) == (
        429,
        "5",
    )
    assert isinstance(missing, HttpPart) and missing.status == 404
    assert isinstance(single, HttpPart) and single.status == 400  # outside a change set: as answered
    assert [row["id"] for row in service.store.table("CustomerGroups").scan()] == ["B"]


def test_inner_responses_keep_status_headers_and_body() -> None:
    service = TinyService(DV_ROOT)
    resp = _run(
        service, [ChangeSet([_post("accounts", {"name": "A"}, "1")]), HttpPart.request("GET", "accounts(1)")]
    )
    _, got = _answers(resp)
    assert isinstance(got, HttpPart)
    assert (got.status, got.reason, got.headers["etag"]) == (200, "OK", 'W/"1"')
    assert got.headers["content-type"].startswith("application/json")
    assert loads(got.body) == {"name": "A"}
    assert b'\r\nETag: W/"1"\r\n' in resp.body


@pytest.mark.parametrize("dialect", list(BatchDialect))
def test_operation_limit(dialect: BatchDialect) -> None:
    service = TinyService(DV_ROOT)
    at_limit: list[BatchItem] = [ChangeSet([_post("accounts", {}) for _ in range(10)])]
    at_limit += [_post("accounts", {}) for _ in range(990)]
    assert _run(service, at_limit, dialect).status == 200
    seen = len(service.seen)
    resp = _run(service, [*at_limit, _post("accounts", {})], dialect)
    assert resp.status == 400
    assert resp.headers["content-type"].startswith("application/json")
    assert (
        loads(resp.body)["error"]["message"] == "The number of requests in batch exceeds the limit of 1000."
    )
    assert len(service.seen) == seen


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/mixed", b"--b--", "has no boundary parameter"),
        ("application/json", b"{}", "expected Content-Type multipart/mixed"),
        ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: application/http\r\n\r\n", "missing closing"),
        ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: application/http\r\n\r\n--b--", "got nothing"),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n--b--",
            "batch part 1: expected a request line, got a status line",
        ),
    ],
)
def test_malformed_batch_is_a_json_error(content_type: str, body: bytes, message: str) -> None:
    service = TinyService(DV_ROOT)
    req = Request("POST", "$batch", headers={"content-type": content_type}, body=body, service_root=DV_ROOT)
    resp = execute_batch(req, service.handle, service.store.transaction, BatchDialect.DATAVERSE, error=_error)
    assert resp.status == 400
    assert resp.headers["content-type"].startswith("application/json")
    assert message in loads(resp.body)["error"]["message"]
    assert service.seen == []


def test_thousand_posts_execute_quickly() -> None:
    service = TinyService(DV_ROOT)
    items: list[BatchItem] = [_post(f"{DV_ROOT}accounts", {"name": f"A{n}"}) for n in range(1000)]
    start = time.perf_counter()
    resp = _run(service, items)
    elapsed = time.perf_counter() - start
    assert resp.status == 200 and len(_answers(resp)) == 1000
    assert len(service.store.table("accounts")) == 1000
    assert elapsed < 1.0, f"1000-part batch took {elapsed * 1000:.0f} ms"
