"""The ``multipart/mixed`` body of an OData ``$batch`` (RFC 2046 §5.1, OData Part 1 §11.7), read and written.

This is the sandbox's own reader and writer, deliberately independent of p2c's client code, so
that the tests, which drive the emulators with p2c's connectors, check one implementation
against the other. A batch is a list of :data:`BatchItem`: an :class:`HttpPart` (one embedded
HTTP request or response) or a :class:`ChangeSet` (a nested multipart of parts run atomically).

Reading is lenient in the ways real clients differ (quoted or bare ``boundary``, LF-only line
ends, transport padding after a delimiter, a preamble and an epilogue, ``Content-ID`` on the MIME
part or among the embedded headers) and strict elsewhere: :class:`MultipartError` says which
part is wrong. Embedded header names are lower-cased; a part's body is kept byte for byte (the
line break before a delimiter belongs to the delimiter).

Example::

    >>> body = (b"--b1\\r\\nContent-Type: application/http\\r\\nContent-ID: 7\\r\\n\\r\\n"
    ...         b"DELETE accounts(1) HTTP/1.1\\r\\n\\r\\n\\r\\n--b1--\\r\\n")
    >>> [part] = parse_batch('multipart/mixed; boundary="b1"', body)
    >>> part.method, part.url, part.content_id, part.body
    ('DELETE', 'accounts(1)', '7', b'')
    >>> ctype, out = render_batch([HttpPart(status=204, content_id="7")], kind="response", boundary="r")
    >>> out.decode().splitlines()[:5]
    ['--r', 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', 'Content-ID: 7', '']
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus

__all__ = ["BatchItem", "BodyKind", "ChangeSet", "HttpPart", "MultipartError", "parse_batch", "render_batch"]

_ALLOWED_ENCODINGS = frozenset({"binary", "7bit", "8bit"})
# Names some clients look up verbatim; every other header is written in Title-Case.
_SPELLING = {
    "content-id": "Content-ID",
    "etag": "ETag",
    "odata-entityid": "OData-EntityId",
    "odata-version": "OData-Version",
    "odata-maxversion": "OData-MaxVersion",
    "www-authenticate": "WWW-Authenticate",
}


class MultipartError(ValueError):
    """A body that is not a readable batch (or a part that cannot be written)."""


class BodyKind(StrEnum):
    """Which side of the exchange a batch body is: it decides the start lines and boundary names."""

    REQUEST = "request"
    RESPONSE = "response"


@dataclass
class HttpPart:
    """An embedded HTTP message: a request has ``method`` and ``url``, a response ``status``."""

    method: str | None = None
    url: str | None = None
    status: int | None = None
    reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_id: str | None = None


@dataclass
class ChangeSet:
    """Parts that succeed or fail together; ``boundary`` as read, or None to make one up."""

    parts: list[HttpPart]
    boundary: str | None = None


BatchItem = HttpPart | ChangeSet


# -- reading ----------------------------------------------------------------------------------------


def parse_batch(content_type: str, body: bytes) -> list[BatchItem]:
    """The items of a batch body with Content-Type ``content_type``; raises MultipartError."""
    items: list[BatchItem] = []
    for number, chunk in enumerate(_parts(body, _boundary_of(content_type, "the batch"), "the batch"), 1):
        where = f"batch part {number}"
        mime, offset = _header_block(chunk, 0, where)
        ctype = mime.get("content-type", "application/http")
        if _media_type(ctype).startswith("multipart/"):
            inner = _boundary_of(ctype, where)
            parts = [
                _embedded(sub, f"part {n} of the change set in {where}")
                for n, sub in enumerate(_parts(chunk[offset:], inner, where), 1)
            ]
            items.append(ChangeSet(parts, inner))
        else:
            items.append(_embedded(chunk, where))
    return items


def _parameters(header: str) -> dict[str, str]:
    """The ``;name=value`` parameters of a header, names lower-cased, quotes removed."""
    out: dict[str, str] = {}
    rest = header.partition(";")[2]
    while rest:
        name, _, rest = rest.partition("=")
        rest = rest.lstrip()
        if rest.startswith('"'):
            close = rest.find('"', 1)
            close = len(rest) if close < 0 else close
            value, rest = rest[1:close], rest[close + 1 :].partition(";")[2]
        else:
            value, _, rest = rest.partition(";")
        out[name.strip().lower()] = value.strip()
    return out


def _media_type(header: str) -> str:
    return header.partition(";")[0].strip().lower()


def _boundary_of(content_type: str, where: str) -> str:
    if _media_type(content_type) != "multipart/mixed":
        raise MultipartError(f"{where}: expected Content-Type multipart/mixed, got {content_type!r}")
    boundary = _parameters(content_type).get("boundary", "")
    if not boundary:
        raise MultipartError(f"{where}: Content-Type {content_type!r} has no boundary parameter")
    return boundary


def _delimiter_at(body: bytes, start: int, dash: bytes) -> tuple[int, bool] | None:
    """If a delimiter line starts at ``start``: (offset after its line, is it the closing one)."""
    after = start + len(dash)
    closing = body.startswith(b"--", after)
    line_end = body.find(b"\n", after)
    tail = body[after + 2 if closing else after : len(body) if line_end < 0 else line_end]
    if tail.strip(b" \t\r"):
        return None  # the boundary text begins a longer line: ordinary content
    return (len(body) if line_end < 0 else line_end + 1), closing


def _parts(body: bytes, boundary: str, where: str) -> list[bytes]:
    """The raw contents between the delimiter lines of ``boundary``; preamble and epilogue dropped."""
    dash = b"--" + boundary.encode()
    chunks: list[bytes] = []
    content_start: int | None = None
    search = 0
    while True:
        found = body.find(dash, search)
        if found < 0:
            break
        search = found + 1
        if found > 0 and body[found - 1 : found] != b"\n":
            continue
        hit = _delimiter_at(body, found, dash)
        if hit is None:
            continue
        if content_start is not None:
            end = found - 1 if found > 0 else 0  # drop the line break before the delimiter
            if end > content_start and body[end - 1 : end] == b"\r":
                end -= 1
            chunks.append(body[content_start : max(end, content_start)])
        after, closing = hit
        if closing:
            return chunks
        content_start, search = after, after
    if content_start is None:
        raise MultipartError(f"{where}: no delimiter line '--{boundary}' in the body")
    raise MultipartError(f"{where}: missing closing delimiter '--{boundary}--'")


def _header_block(data: bytes, pos: int, where: str) -> tuple[dict[str, str], int]:
    """Headers from ``pos`` up to a blank line (names lower-cased) and the offset after it."""
    headers: dict[str, str] = {}
    previous = ""
    while pos < len(data):
        newline = data.find(b"\n", pos)
        stop = len(data) if newline < 0 else newline
        line = data[pos:stop].rstrip(b"\r").decode("utf-8", "surrogateescape")
        pos = stop + 1 if newline >= 0 else stop
        if not line:
            break
        if line[0] in " \t" and previous:  # a folded continuation line (RFC 5322 §2.2.3)
            headers[previous] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MultipartError(f"{where}: expected a 'Name: value' header line, got {line!r}")
        previous = name.strip().lower()
        headers[previous] = value.strip()
    return headers, pos


def _embedded(chunk: bytes, where: str) -> HttpPart:
    mime, pos = _header_block(chunk, 0, where)
    ctype = mime.get("content-type", "application/http")
    if _media_type(ctype).startswith("multipart/"):
        raise MultipartError(f"{where}: a change set cannot hold another change set")
    if _media_type(ctype) != "application/http":
        raise MultipartError(f"{where}: expected Content-Type application/http, got {ctype!r}")
    encoding = mime.get("content-transfer-encoding", "binary").lower()
    if encoding not in _ALLOWED_ENCODINGS:
        raise MultipartError(f"{where}: unsupported Content-Transfer-Encoding {encoding!r}")
    while chunk[pos : pos + 1] in (b"\r", b"\n"):  # some clients leave an extra blank line
        pos += 1
    newline = chunk.find(b"\n", pos)
    stop = len(chunk) if newline < 0 else newline
    part = _start_line(chunk[pos:stop].rstrip(b"\r").decode("utf-8", "surrogateescape"), where)
    headers, body_at = _header_block(chunk, stop + 1, where)
    embedded_id = headers.pop("content-id", None)
    part.headers, part.body = headers, chunk[body_at:]
    part.content_id = mime.get("content-id") or embedded_id or None
    return part


def _start_line(line: str, where: str) -> HttpPart:
    words = line.split()
    if words and words[0].upper().startswith("HTTP/"):
        if len(words) > 1 and len(words[1]) == 3 and words[1].isdigit():
            reason = line.split(None, 2)[2] if len(words) > 2 else ""
            return HttpPart(status=int(words[1]), reason=reason)
    elif words[:1] and words[0].isalpha() and (len(words) == 2 or _is_request_version(words)):
        return HttpPart(method=words[0].upper(), url=words[1])
    shown = repr(line) if line else "nothing"
    raise MultipartError(
        f"{where}: expected a request line 'METHOD url HTTP/1.1' or a status line 'HTTP/1.1 200 OK', "
        f"got {shown}"
    )


def _is_request_version(words: list[str]) -> bool:
    return len(words) == 3 and words[2].upper().startswith("HTTP/")


# -- writing ----------------------------------------------------------------------------------------


def render_batch(
    items: list[BatchItem], *, kind: BodyKind | str, boundary: str | None = None
) -> tuple[str, bytes]:
    """``(Content-Type, body)`` of ``items`` written as a batch request or response (CRLF lines)."""
    side = BodyKind(kind)
    outer, inner = (
        ("batch", "changeset") if side is BodyKind.REQUEST else ("batchresponse", "changesetresponse")
    )
    boundary = boundary or f"{outer}_{uuid.uuid4()}"
    out = bytearray()
    for number, item in enumerate(items, 1):
        out += f"--{boundary}\r\n".encode()
        if isinstance(item, ChangeSet):
            cs = item.boundary or f"{inner}_{uuid.uuid4()}"
            out += f"Content-Type: multipart/mixed; boundary={cs}\r\n\r\n".encode()
            for n, part in enumerate(item.parts, 1):
                out += f"--{cs}\r\n".encode()
                out += _written(part, side, f"part {n} of the change set in batch part {number}")
            out += f"--{cs}--\r\n".encode()
        else:
            out += _written(item, side, f"batch part {number}")
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/mixed; boundary={boundary}", bytes(out)


def _written(part: HttpPart, side: BodyKind, where: str) -> bytes:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if part.content_id is not None:
        lines.append(f"Content-ID: {part.content_id}")
    lines.append("")
    lines.append(_first_line(part, side, where))
    for name, value in part.headers.items():
        if "\r" in value or "\n" in value:
            raise MultipartError(f"{where}: the value of header {name!r} contains a line break")
        lines.append(f"{_spelled(name)}: {value}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("utf-8", "surrogateescape") + part.body + b"\r\n"


def _first_line(part: HttpPart, side: BodyKind, where: str) -> str:
    if side is BodyKind.REQUEST:
        if not part.method or not part.url:
            raise MultipartError(f"{where}: a request needs a method and a URL")
        return f"{part.method} {part.url} HTTP/1.1"
    if part.status is None:
        raise MultipartError(f"{where}: a response needs a status code")
    reason = part.reason
    if reason is None:
        try:
            reason = HTTPStatus(part.status).phrase
        except ValueError:
            reason = ""
    return f"HTTP/1.1 {part.status} {reason}".rstrip()


def _spelled(name: str) -> str:
    lowered = name.lower()
    return _SPELLING.get(lowered) or "-".join(w[:1].upper() + w[1:] for w in lowered.split("-"))
