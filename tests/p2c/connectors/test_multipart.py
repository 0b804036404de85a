"""The ``$batch`` multipart wire format: real client shapes, tolerance, errors, round trips."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2c.connectors import multipart
from p2c.connectors.multipart import (
    BatchItem,
    ChangeSet,
    HttpPart,
    MultipartError,
    _fast_answer,
    _http_part,
    _read_part,
    parse_batch,
    render_batch,
)

# DATAVERSE.md §1.6: what the PowerPlatform SDK sends (quoted boundary, absolute URLs,
# Content-ID only inside change sets, `PATCH $1`, `type=entry`).
DATAVERSE_REQUEST = (
    b"--batch_7d2a\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"\r\n"
    b"GET https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name&$top=2 HTTP/1.1\r\n"
    b"\r\n"
    b"--batch_7d2a\r\n"
    b'Content-Type: multipart/mixed; boundary="changeset_91fe"\r\n'
    b"\r\n"
    b"--changeset_91fe\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"Content-ID: 1\r\n"
    b"\r\n"
    b"POST https://org.crm.dynamics.com/api/data/v9.2/accounts HTTP/1.1\r\n"
    b"Content-Type: application/json; type=entry\r\n"
    b"\r\n"
    b'{"name":"Contoso"}\r\n'
    b"--changeset_91fe\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"Content-ID: 2\r\n"
    b"\r\n"
    b"PATCH $1 HTTP/1.1\r\n"
    b"Content-Type: application/json; type=entry\r\n"
    b"\r\n"
    b'{"telephone1":"555"}\r\n'
    b"--changeset_91fe--\r\n"
    b"\r\n"
    b"--batch_7d2a--\r\n"
)
DATAVERSE_CT = 'multipart/mixed; boundary="batch_7d2a"'

# FNO.md §1.7: d365fo.tools style, with the "important" space after the boundary lines.
FNO_REQUEST = (
    b"--batch_5c3e \r\n"
    b"Content-Type: multipart/mixed; boundary=changeset_77aa\r\n"
    b"\r\n"
    b"--changeset_77aa \r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"Content-ID: 1\r\n"
    b"\r\n"
    b"POST https://usmf.operations.dynamics.com/data/CustomerGroups HTTP/1.1\r\n"
    b"OData-Version: 4.0\r\n"
    b"Content-Type: application/json;odata.metadata=minimal\r\n"
    b"\r\n"
    b'{"dataAreaId":"usmf","CustomerGroupId":"Batch2"}\r\n'
    b"--changeset_77aa-- \r\n"
    b"--batch_5c3e-- \r\n"
)
FNO_CT = "multipart/mixed; boundary=batch_5c3e"


def test_dataverse_sdk_request() -> None:
    items = parse_batch(DATAVERSE_CT, DATAVERSE_REQUEST)
    assert len(items) == 2
    get, cs = items
    assert isinstance(get, HttpPart) and isinstance(cs, ChangeSet)
    assert get.method == "GET"
    assert get.url == "https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name&$top=2"
    assert get.body == b"" and get.content_id is None and get.status is None
    assert cs.boundary == "changeset_91fe"
    post, patch = cs.parts
    assert (post.method, post.content_id, post.body) == ("POST", "1", b'{"name":"Contoso"}')
    assert post.headers == {"content-type": "application/json; type=entry"}
    assert (patch.method, patch.url, patch.content_id) == ("PATCH", "$1", "2")


def test_fno_request_with_trailing_spaces_after_boundaries() -> None:
    (cs,) = parse_batch(FNO_CT, FNO_REQUEST)
    assert isinstance(cs, ChangeSet)
    (part,) = cs.parts
    assert part.url == "https://usmf.operations.dynamics.com/data/CustomerGroups"
    assert part.headers["odata-version"] == "4.0"
    assert part.content_id == "1"
    assert part.body == b'{"dataAreaId":"usmf","CustomerGroupId":"Batch2"}'


def test_tolerates_lf_preamble_epilogue_inner_content_id_and_url_forms() -> None:
    body = (
        b"This is a preamble.\n"
        b"--b1   \n"
        b"Content-Type: application/http\n"
        b"\n"
        b"DELETE /api/data/v9.2/accounts(1) HTTP/1.1\n"
        b"Content-ID: 7\n"
        b"\n"
        b"\n"
        b"--b1\n"
        b"Content-Type: application/http\n"
        b"Content-Transfer-Encoding: binary\n"
        b"\n"
        b"GET contacts?$top=1 HTTP/1.1\n"
        b"--b1--\n"
        b"an epilogue --b1 that is ignored\n"
    )
    first, second = parse_batch("Multipart/Mixed; charset=utf-8; boundary=b1", body)
    assert isinstance(first, HttpPart) and isinstance(second, HttpPart)
    assert (first.method, first.url, first.content_id, first.headers, first.body) == (
        "DELETE",
        "/api/data/v9.2/accounts(1)",
        "7",
        {},
        b"",
    )
    assert (second.method, second.url, second.body) == ("GET", "contacts?$top=1", b"")


def test_boundary_text_inside_a_longer_line_is_content() -> None:
    body = b"--b\r\nContent-Type: application/http\r\n\r\nPOST x HTTP/1.1\r\n\r\nline\r\n--bx not a delimiter\r\n--b--"
    (part,) = parse_batch("multipart/mixed; boundary=b", body)
    assert isinstance(part, HttpPart)
    assert part.body == b"line\r\n--bx not a delimiter"


def test_response_side_with_changeset_response() -> None:
    body = (
        b"--batchresponse_1\r\n"
        b"Content-Type: multipart/mixed; boundary=changesetresponse_2\r\n"
        b"\r\n"
        b"--changesetresponse_2\r\n"
        b"Content-Type: application/http\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        b"Content-ID: 1\r\n"
        b"\r\n"
        b"HTTP/1.1 204 No Content\r\n"
        b"OData-Version: 4.0\r\n"
        b"Location: https://h/api/data/v9.2/accounts(00000000-0000-0000-0000-000000000001)\r\n"
        b"OData-EntityId: https://h/api/data/v9.2/accounts(00000000-0000-0000-0000-000000000001)\r\n"
        b"\r\n"
        b"\r\n"
        b"--changesetresponse_2--\r\n"
        b"--batchresponse_1\r\n"
        b"Content-Type: application/http\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        b"\r\n"
        b"HTTP/1.1 429 Too Many Requests\r\n"
        b"Retry-After: 5\r\n"
        b"\r\n"
        b"--batchresponse_1--\r\n"
    )
    cs, throttled = parse_batch("multipart/mixed; boundary=batchresponse_1", body)
    assert isinstance(cs, ChangeSet) and isinstance(throttled, HttpPart)
    (created,) = cs.parts
    assert (created.status, created.reason, created.content_id, created.body) == (204, "No Content", "1", b"")
    assert created.headers["odata-entityid"].endswith("0001)")
    assert (throttled.status, throttled.headers["retry-after"], throttled.method) == (429, "5", None)


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/mixed", b"--b--", "has no boundary parameter"),
        ('multipart/mixed; boundary=""', b"--b--", "has no boundary parameter"),
        ("application/json", b"{}", "expected Content-Type multipart/mixed, got 'application/json'"),
        ("multipart/mixed; boundary=b", b"nothing here", "no delimiter line '--b'"),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\n",
            "missing closing delimiter '--b--'",
        ),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: application/http\r\n\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--",
            "batch part 1: expected a request line 'METHOD url HTTP/1.1' or a status line",
        ),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: application/http\r\n\r\n\r\n--b--",
            "batch part 1: expected a request line 'METHOD url HTTP/1.1' or a status line "
            "'HTTP/1.1 200 OK', got nothing",
        ),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
            b"--c\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\n\r\n"
            b"--c\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n--d--\r\n--c--\r\n--b--",
            "part 2 of the change set in batch part 1: a change set cannot contain another change set",
        ),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: multipart/mixed\r\n\r\n--b--",
            "batch part 1: Content-Type 'multipart/mixed' has no boundary parameter",
        ),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: base64\r\n\r\nR0VU\r\n--b--",
            "batch part 1: unsupported Content-Transfer-Encoding 'base64'",
        ),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\nno colon\r\n\r\n--b--",
            "batch part 1: expected a 'Name: value' header line, got 'no colon'",
        ),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: text/plain\r\n\r\nGET x HTTP/1.1\r\n\r\n--b--",
            "batch part 1: expected Content-Type application/http, got 'text/plain'",
        ),
    ],
)
def test_rejects_malformed_bodies(content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(MultipartError, match=re.escape(message)):
        parse_batch(content_type, body)


def test_render_request_layout() -> None:
    items: list[BatchItem] = [
        HttpPart.request("GET", "accounts(1)"),
        ChangeSet(
            [
                HttpPart.request(
                    "POST", "accounts", {"Content-Type": "application/json"}, b'{"a":1}', content_id="1"
                ),
                HttpPart.request("PATCH", "$1", {"If-Match": "*"}, b"{}", content_id="2"),
            ]
        ),
    ]
    content_type, body = render_batch(items, kind="request")
    boundary = content_type.removeprefix("multipart/mixed; boundary=")
    assert re.fullmatch(r"batch_[0-9a-f-]{36}", boundary)
    assert re.search(rb"boundary=changeset_[0-9a-f-]{36}\r\n", body)
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert (
        b"\r\nContent-ID: 1\r\n\r\nPOST accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n" in body
    )
    assert b"PATCH $1 HTTP/1.1\r\nIf-Match: *\r\n" in body
    assert body.endswith(f"--{boundary}--\r\n".encode())
    get, cs = parse_batch(content_type, body)
    assert get == items[0]
    assert isinstance(cs, ChangeSet) and isinstance(items[1], ChangeSet)
    assert cs == ChangeSet(items[1].parts, _cs_boundary(body))


def _cs_boundary(body: bytes) -> str:
    match = re.search(rb"boundary=(changeset_[0-9a-f-]{36})", body)
    assert match
    return match.group(1).decode()


def test_render_response_layout() -> None:
    items: list[BatchItem] = [
        ChangeSet(
            [
                HttpPart.response(
                    201,
                    {"odata-entityid": "https://h/api/data/v9.2/accounts(1)", "etag": 'W/"1"'},
                    b"{}",
                    content_id="1",
                )
            ]
        ),
        HttpPart.response(599, {}, b""),
        HttpPart.response(400, {}, b"", reason="Custom Reason"),
    ]
    content_type, body = render_batch(items, kind="response")
    assert re.fullmatch(r"multipart/mixed; boundary=batchresponse_[0-9a-f-]{36}", content_type)
    assert re.search(rb"boundary=changesetresponse_[0-9a-f-]{36}\r\n", body)
    assert b"HTTP/1.1 201 Created\r\nOData-EntityId: https://h/api/data/v9.2/accounts(1)\r\nETag: " in body
    assert b"HTTP/1.1 599\r\n" in body
    assert b"HTTP/1.1 400 Custom Reason\r\n" in body


@pytest.mark.parametrize(
    ("item", "kind", "message"),
    [
        (HttpPart.response(200), "request", "batch part 1: a request part needs a method and a url"),
        (HttpPart.request("GET", "x"), "response", "batch part 1: a response part needs a status"),
        (HttpPart.request("GET", "x", {"x-a": "1\r\n2"}), "request", "header 'x-a' contains a line break"),
    ],
)
def test_render_rejects_incomplete_parts(item: HttpPart, kind: str, message: str) -> None:
    with pytest.raises(MultipartError, match=re.escape(message)):
        render_batch([item], kind=kind)  # type: ignore[arg-type]


# -- round trip ---------------------------------------------------------------------------------

_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=12)
_value = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20
).map(str.strip)
_headers = st.dictionaries(_token.filter(lambda n: n != "content-id"), _value, max_size=4)
_url = st.text(
    alphabet=st.characters(codec="ascii", min_codepoint=33, max_codepoint=126), min_size=1, max_size=30
)
_content_id = st.none() | st.from_regex(r"[A-Za-z0-9]{1,6}", fullmatch=True)
_request = st.builds(
    HttpPart.request,
    method=st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE"]),
    url=_url,
    headers=_headers,
    body=st.binary(max_size=60),
    content_id=_content_id,
)
_response = st.builds(
    HttpPart.response,
    status=st.integers(100, 599),
    headers=_headers,
    body=st.binary(max_size=60),
    content_id=_content_id,
    reason=st.none() | st.from_regex(r"[A-Za-z][A-Za-z ]{0,15}[A-Za-z]", fullmatch=True),
)


def _items(part: st.SearchStrategy[HttpPart]) -> st.SearchStrategy[list[BatchItem]]:
    return st.lists(part | st.builds(ChangeSet, st.lists(part, max_size=4)), max_size=5)


def _shape(items: list[BatchItem]) -> list[object]:
    def one(p: HttpPart) -> tuple[object, ...]:
        return (p.method, p.url, p.status, p.headers, p.body, p.content_id)

    return [[one(p) for p in i.parts] if isinstance(i, ChangeSet) else one(i) for i in items]


@settings(max_examples=150, deadline=None)
@given(_items(_request))
def test_round_trip_requests(items: list[BatchItem]) -> None:
    assert _shape(parse_batch(*render_batch(items, kind="request"))) == _shape(items)


@settings(max_examples=150, deadline=None)
@given(_items(_response))
def test_round_trip_responses(items: list[BatchItem]) -> None:
    parsed = parse_batch(*render_batch(items, kind="response"))
    assert _shape(parsed) == _shape(items)
    again = parse_batch(*render_batch(parsed, kind="response"))
    assert again == parsed


#: ways a service may write an answer part that the at-once reader leaves to the line reader
_UNUSUAL = {
    "as rendered": lambda c: c,
    "lower-case MIME header": lambda c: c.replace(
        b"Content-Type: application/http", b"content-type: application/http"
    ),
    "folded header": lambda c: _after_status_line(c, b"X-Folded: a\r\n  b\r\n"),
    "bare LF lines": lambda c: c.replace(b"\r\n", b"\n"),
    "two spaces before the code": lambda c: c.replace(b"HTTP/1.1 ", b"HTTP/1.1  ", 1),
    "blank line before the status line": lambda c: c.replace(b"\r\n\r\nHTTP/1.1", b"\r\n\r\n\r\nHTTP/1.1", 1),
}


def _after_status_line(content: bytes, lines: bytes) -> bytes:
    at = content.index(b"\r\n", content.index(b"HTTP/1.1 ")) + 2
    return content[:at] + lines + content[at:]


def _answer_content(part: HttpPart) -> bytes:
    """The bytes of ``part`` inside a change set of a rendered answer, as the splitter hands them on."""
    _ct, body = render_batch([ChangeSet([part])], kind="response")
    inner = re.search(rb"--(changesetresponse_[0-9a-f-]+)\r\n(.*)\r\n--\1--", body, re.S)
    assert inner is not None
    return inner.group(2)


@settings(max_examples=200, deadline=None)
@given(_response, st.sampled_from(sorted(_UNUSUAL)))
def test_an_answer_part_is_read_at_once_as_the_line_reader_reads_it(part: HttpPart, how: str) -> None:
    """A ``$batch`` answer of 200 change sets is read part by part at once (a regular expression);
    whatever that reader takes, it must read as the line-by-line reader does, and the usual shape
    must not fall back to the slow one."""
    content = _UNUSUAL[how](_answer_content(part))
    fast = _fast_answer(content)
    assert (fast is not None) == (how == "as rendered"), how
    try:
        slow = _read_part(content, "the part")
    except MultipartError:
        assert fast is None
        return
    assert _http_part(content, "the part") == slow
    if fast is not None:
        assert fast == slow


@settings(max_examples=150, deadline=None)
@given(_items(_response))
def test_answers_read_at_once_read_as_the_general_reader_reads_them(items: list[BatchItem]) -> None:
    ct, body = render_batch(items, kind="response")
    at_once = parse_batch(ct, body)
    with (
        mock.patch.object(multipart, "_one_part_set", lambda _c: None),
        mock.patch.object(multipart, "_fast_answer", lambda _c: None),
    ):
        assert parse_batch(ct, body) == at_once


def test_a_change_set_of_one_answer_is_read_at_once() -> None:
    answer = HttpPart.response(
        204, {"OData-EntityId": "https://x/data/CustomersV3('C1')"}, b"", "1", "No Content"
    )
    _ct, body = render_batch([ChangeSet([answer]), ChangeSet([answer, answer])], kind="response")
    one, two = re.findall(rb"--batchresponse_[0-9a-f-]+\r\n(.*?)\r\n(?=--batchresponse_)", body, re.S)
    read = multipart._one_part_set(one)
    assert read is not None and read.parts == [answer]
    assert multipart._one_part_set(two) is None  # two parts: the general reader


@pytest.mark.parametrize(("body", "ct"), [(DATAVERSE_REQUEST, DATAVERSE_CT), (FNO_REQUEST, FNO_CT)])
def test_fixtures_survive_a_round_trip(body: bytes, ct: str) -> None:
    items = parse_batch(ct, body)
    assert _shape(parse_batch(*render_batch(items, kind="request"))) == _shape(items)


def test_thousand_posts_parse_and_render_quickly() -> None:
    payload = b'{"name":"Contoso","accountnumber":"A-000001","telephone1":"555-0100"}'
    items: list[BatchItem] = [
        HttpPart.request(
            "POST",
            "https://127.0.0.1:8441/api/data/v9.2/accounts",
            {"content-type": "application/json; type=entry"},
            payload,
        )
        for _ in range(1000)
    ]
    answers: list[BatchItem] = [
        HttpPart.response(204, {"odata-entityid": f"https://127.0.0.1:8441/api/data/v9.2/accounts({n})"})
        for n in range(1000)
    ]
    ct, body = render_batch(items, kind="request")
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        parse_batch(ct, body)
        rct, rbody = render_batch(answers, kind="response")
        parse_batch(rct, rbody)
        best = min(best, time.perf_counter() - start)
    # generous bound (shared CI machines); locally this is a few milliseconds
    assert best < 0.25, f"parse+render of 1000 parts took {best * 1000:.1f} ms"


def test_each_change_set_of_a_body_has_its_own_boundary() -> None:
    sets: list[BatchItem] = [
        ChangeSet([HttpPart.request("DELETE", f"https://h/data/X('{n}')", {}, b"", str(n))])
        for n in range(300)
    ]
    ctype, body = render_batch(sets, kind="request")
    outer = ctype.split("boundary=", 1)[1]
    inner = {line.split("boundary=", 1)[1] for line in body.decode().splitlines() if "boundary=" in line}
    assert len(inner) == 300 and outer not in inner
    assert all(
        b.startswith("changeset_") and len(b) == len(outer) - len("batch") + len("changeset") for b in inner
    )
    assert [len(c.parts) for c in parse_batch(ctype, body)] == [1] * 300  # type: ignore[union-attr]
