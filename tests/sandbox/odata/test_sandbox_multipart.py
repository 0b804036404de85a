"""The sandbox's own ``multipart/mixed`` reader and writer, on literal batch bodies."""

from __future__ import annotations

import pytest

from p2c_sandbox.odata.multipart import ChangeSet, HttpPart, MultipartError, parse_batch, render_batch

REQUEST = (
    b"preamble to ignore\r\n"
    b"--batch_1  \r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"\r\n"
    b"GET accounts?$filter=name%20eq%20'O''Brien%20%26%20Co' HTTP/1.1\r\n"
    b"Accept: application/json\r\n"
    b"\r\n"
    b"\r\n"
    b"--batch_1\r\n"
    b'Content-Type: multipart/mixed; boundary="changeset_1"\r\n'
    b"\r\n"
    b"--changeset_1\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-ID: 1\r\n"
    b"\r\n"
    b"POST https://host/api/data/v9.2/accounts HTTP/1.1\r\n"
    b"Content-Type: application/json\r\n"
    b"\r\n"
    b'{"name": "--batch_1 inside a body"}\r\n'
    b"--changeset_1\n"
    b"Content-Type: application/http\n"
    b"\n"
    b"PATCH $1 HTTP/1.1\n"
    b"Content-ID: 2\n"
    b"X-Folded: first\n"
    b"  second\n"
    b"\n"
    b"{}\n"
    b"--changeset_1--\r\n"
    b"--batch_1--\r\n"
    b"epilogue"
)


def test_a_request_with_a_change_set_is_read_exactly() -> None:
    get, cs = parse_batch("multipart/mixed;boundary=batch_1", REQUEST)
    assert isinstance(get, HttpPart) and isinstance(cs, ChangeSet)
    assert (get.method, get.url, get.headers, get.body) == (
        "GET",
        "accounts?$filter=name%20eq%20'O''Brien%20%26%20Co'",
        {"accept": "application/json"},
        b"",
    )
    post, patch = cs.parts
    assert cs.boundary == "changeset_1"
    assert (post.method, post.content_id, post.body) == ("POST", "1", b'{"name": "--batch_1 inside a body"}')
    assert (patch.method, patch.url, patch.content_id) == ("PATCH", "$1", "2")
    assert patch.headers == {"x-folded": "first second"} and patch.body == b"{}"


def test_a_rendered_response_reads_back() -> None:
    items = [
        HttpPart(status=200, headers={"content-type": "application/json"}, body=b'{"v": 1}'),
        ChangeSet(
            [HttpPart(status=204, headers={"odata-entityid": "https://h/accounts(1)"}, content_id="1")]
        ),
    ]
    ctype, body = render_batch(items, kind="response")
    assert ctype.startswith("multipart/mixed; boundary=batchresponse_")
    assert b"OData-EntityId: https://h/accounts(1)\r\n" in body and b"HTTP/1.1 204 No Content\r\n" in body
    first, cs = parse_batch(ctype, body)
    assert isinstance(first, HttpPart) and (first.status, first.reason, first.body) == (
        200,
        "OK",
        b'{"v": 1}',
    )
    assert isinstance(cs, ChangeSet) and cs.boundary and cs.boundary.startswith("changesetresponse_")
    assert (cs.parts[0].status, cs.parts[0].content_id) == (204, "1")


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/mixed", b"--b--", "the batch: Content-Type 'multipart/mixed' has no boundary parameter"),
        ("application/json", b"{}", "the batch: expected Content-Type multipart/mixed"),
        ("multipart/mixed; boundary=b", b"nonsense", "no delimiter line '--b'"),
        ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: application/http\r\n\r\n", "missing closing"),
        ("multipart/mixed; boundary=b", b"--b\r\nContent-Type: application/http\r\n\r\n--b--", "got nothing"),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
            "application/http",
        ),
        ("multipart/mixed; boundary=b", b"--b\r\nno colon here\r\n\r\n--b--", "'Name: value' header line"),
        (
            "multipart/mixed; boundary=b",
            b"--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: base64\r\n\r\nGET a\r\n--b--",
            "unsupported Content-Transfer-Encoding 'base64'",
        ),
    ],
)
def test_malformed_bodies_name_the_problem(content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(MultipartError, match=None) as caught:
        parse_batch(content_type, body)
    assert message in str(caught.value)


def test_a_header_value_with_a_line_break_cannot_be_written() -> None:
    with pytest.raises(MultipartError, match="line break"):
        render_batch([HttpPart(status=200, headers={"x": "a\r\nb"})], kind="response")


def _as_tuples(items: list[object]) -> list[object]:
    out: list[object] = []
    for item in items:
        if isinstance(item, ChangeSet):
            out.append([_as_tuples(list(item.parts))])
        else:
            assert isinstance(item, HttpPart)
            out.append((item.method, item.url, item.content_id, item.headers, item.body))
    return out


def test_the_fast_reader_reads_what_the_line_by_line_reader_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """CRLF parts of the usual shape take the regular-expression path; the same body with LF line
    ends takes the line-by-line one. Both must give the same parts, headers, IDs and bodies."""
    own_id = HttpPart(
        method="PATCH",
        url="https://h/api/data/v9.2/salesorderdetails(1)?$select=salesorderdetailid",
        headers={"if-match": "*", "x-name": "  Zoë, spaced  ", "content-id": "inner"},
        body=b'{"sequencenumber": 3}',
    )
    items = [
        HttpPart(method="GET", url="accounts?$top=1", headers={"accept": "application/json"}, content_id="7"),
        own_id,
        ChangeSet(
            [
                HttpPart(
                    method="post", url="/data/SalesOrderLines", body=b'{"SalesPrice": 1.5}', content_id="1"
                ),
                HttpPart(method="DELETE", url="$1", headers={"If-Match": 'W/"2"'}, content_id="2"),
            ]
        ),
    ]
    ctype, body = render_batch(items, kind="request")

    import p2c_sandbox.odata.multipart as mp

    line_by_line = mp._headers
    with monkeypatch.context() as m:
        m.setattr(
            mp, "_headers", lambda *a: pytest.fail("the fast path fell back to the line-by-line reader")
        )
        fast = parse_batch(ctype, body)
    assert mp._headers is line_by_line
    slow = parse_batch(ctype, body.replace(b"\r\n", b"\n"))
    assert _as_tuples(fast) == _as_tuples(slow)
    assert fast[1].content_id == "inner" and fast[1].headers["x-name"] == "Zoë, spaced"
    assert isinstance(fast[2], ChangeSet) and fast[2].parts[0].method == "POST"
