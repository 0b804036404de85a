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
