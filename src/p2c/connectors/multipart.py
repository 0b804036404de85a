"""The OData ``$batch`` wire format (``multipart/mixed``, RFC 2046), both directions, without I/O.

A batch body is a list of items: an :class:`HttpPart` (one embedded HTTP request or response) or
a :class:`ChangeSet` (a nested ``multipart/mixed`` of parts that succeed or fail together).
:func:`parse_batch` reads either side (a client's request, a service's response) and
:func:`render_batch` writes either side, so the emulators and p2c's own connectors share one
implementation and ``parse_batch(*render_batch(items))`` gives ``items`` back.

The parser is lenient where real clients differ: quoted or bare ``boundary``, whitespace after a
boundary line (F&O tooling), LF-only line endings, a preamble and an epilogue, ``Content-ID`` on
the MIME part or among the embedded HTTP headers, absolute or relative URLs (kept verbatim). It
is strict where a guess would be wrong, and raises :class:`MultipartError` naming the part.

``HttpPart.headers`` holds the embedded HTTP headers with lower-case names; ``Content-ID`` is
moved out of them into ``content_id`` (the renderer writes it on the MIME part, as Dataverse
and F&O do). A part's body is kept byte for byte: the CRLF before a delimiter belongs to the
delimiter.

Example::

    >>> items = [HttpPart.request("GET", "accounts?$top=1")]
    >>> ct, body = render_batch(items, boundary="batch_1", kind="request")
    >>> ct
    'multipart/mixed; boundary=batch_1'
    >>> body.splitlines()[4]
    b'GET accounts?$top=1 HTTP/1.1'
    >>> [(p.method, p.url) for p in parse_batch(ct, body)]
    [('GET', 'accounts?$top=1')]
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from typing import Literal

__all__ = ["BatchItem", "ChangeSet", "HttpPart", "MultipartError", "parse_batch", "render_batch"]

_CRLF = b"\r\n"
_ENCODINGS = {"binary", "8bit", "7bit"}
# How the renderer spells header names; others become Title-Case (HTTP names are case-blind,
# but some clients look up e.g. ``OData-EntityId`` verbatim).
_CANONICAL = {
    "content-id": "Content-ID",
    "etag": "ETag",
    "odata-entityid": "OData-EntityId",
    "odata-version": "OData-Version",
    "odata-maxversion": "OData-MaxVersion",
    "www-authenticate": "WWW-Authenticate",
}


# The usual answer part inside a change set, as services write it: CRLF lines, the two MIME headers
# (and a Content-ID), a status line with one space on each side of the code and a reason, and the
# answer's headers up to the blank line. Anything else is read line by line (:func:`_read_part`).
_ANSWER_PART = re.compile(
    rb"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    rb"(?:Content-ID: ([^\r\n]*)\r\n)?\r\n"
    rb"HTTP/1\.1 ([0-9]{3})(?: (\S[^\r\n]*))?\r\n"
    rb"((?:[^\r\n]+\r\n)*)\r\n"
)


# A change set of one part (every F&O write p2c sends gets one back), as services write it.
_ONE_PART_SET = re.compile(rb"Content-Type: multipart/mixed; boundary=([!-~]+)\r\n\r\n--\1\r\n")


class MultipartError(ValueError):
    """A batch body that cannot be read (or written); the message says what and where."""


@dataclass
class HttpPart:
    """One embedded HTTP message: a request (``method``, ``url``) or a response (``status``)."""

    method: str | None = None
    url: str | None = None
    status: int | None = None
    reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_id: str | None = None

    @classmethod
    def request(
        cls,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        content_id: str | None = None,
    ) -> HttpPart:
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        return cls(method=method, url=url, headers=hdrs, body=body, content_id=content_id)

    @classmethod
    def response(
        cls,
        status: int,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        content_id: str | None = None,
        reason: str | None = None,
    ) -> HttpPart:
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        return cls(status=status, reason=reason, headers=hdrs, body=body, content_id=content_id)


@dataclass
class ChangeSet:
    """An atomic group of parts; ``boundary`` is the one read (or to write; ``None``: generate)."""

    parts: list[HttpPart]
    boundary: str | None = None


BatchItem = HttpPart | ChangeSet


# -- parsing ------------------------------------------------------------------------------------


def parse_batch(content_type: str, body: bytes) -> list[BatchItem]:
    """Read a ``multipart/mixed`` batch body (request or response side) into items."""
    boundary = _boundary(content_type, "the batch")
    items: list[BatchItem] = []
    for index, content in enumerate(_split(body, boundary, "the batch"), start=1):
        where = f"batch part {index}"
        one = _one_part_set(content)
        if one is not None:
            items.append(one)
            continue
        mime, pos = _read_headers(content, 0, where)
        ctype = mime.get("content-type", "")
        if ctype.lower().startswith("multipart/"):
            cs_boundary = _boundary(ctype, where)
            parts = [
                _http_part(cs_content, f"part {n} of the change set in {where}")
                for n, cs_content in enumerate(_split(content[pos:], cs_boundary, where), start=1)
            ]
            items.append(ChangeSet(parts, cs_boundary))
        else:
            items.append(_http_part(content, where, mime, pos))
    return items


def _one_part_set(content: bytes) -> ChangeSet | None:
    """A change set of one usual answer part, read at once; ``None`` for anything else (then read
    by the general reader, which gives the same for what this one takes)."""
    match = _ONE_PART_SET.match(content)
    if match is None:
        return None
    delimiter = b"\n--" + match.group(1)
    at = content.find(delimiter, match.end())
    if at < 1 or content[at - 1 : at] != b"\r" or not content.startswith(b"--", at + len(delimiter)):
        return None  # not the closing delimiter first (more parts, or the boundary inside a line)
    if content[at + len(delimiter) + 2 :].strip():
        return None  # something after the closing delimiter: the general reader decides
    part = _fast_answer(content[match.end() : at - 1])
    return None if part is None else ChangeSet([part], match.group(1).decode("utf-8"))


def _params(value: str) -> tuple[str, dict[str, str]]:
    """``'multipart/mixed; boundary="b"'`` -> ``('multipart/mixed', {'boundary': 'b'})``."""
    pieces: list[str] = []
    if '"' not in value:  # nothing quoted (every part's "application/http"): no ";" to keep
        pieces = value.split(";")
    else:
        buf: list[str] = []
        quoted = False
        for ch in value:
            if ch == '"':
                quoted = not quoted
            if ch == ";" and not quoted:
                pieces.append("".join(buf))
                buf = []
            else:
                buf.append(ch)
        pieces.append("".join(buf))
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, _, val = piece.partition("=")
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1]
        params[name.strip().lower()] = val
    return pieces[0].strip().lower(), params


def _boundary(content_type: str, where: str) -> str:
    mime, params = _params(content_type)
    if mime != "multipart/mixed":
        raise MultipartError(f"{where}: expected Content-Type multipart/mixed, got {content_type!r}")
    boundary = params.get("boundary", "")
    if not boundary:
        raise MultipartError(f"{where}: Content-Type {content_type!r} has no boundary parameter")
    return boundary


def _split(body: bytes, boundary: str, where: str) -> list[bytes]:
    """The contents of the parts between ``--boundary`` lines (preamble and epilogue dropped)."""
    delimiter = b"\n--" + boundary.encode("utf-8")
    chunks = (b"\n" + body).split(delimiter)
    if len(chunks) == 1:
        raise MultipartError(f"{where}: no delimiter line '--{boundary}' in the body")
    parts: list[bytes] = []
    current: bytes | None = None  # raw content of the open part, up to the next "\n--boundary"
    for chunk in chunks[1:]:
        eol = chunk.find(b"\n")
        rest_of_line = chunk if eol < 0 else chunk[:eol]
        if not rest_of_line.startswith(b"--") and rest_of_line.strip():
            # the boundary text inside a longer line: not a delimiter, so part of the content
            if current is not None:
                current += delimiter + chunk
            continue
        if current is not None:
            # the CR of the CRLF before a delimiter belongs to the delimiter
            parts.append(current[:-1] if current.endswith(b"\r") else current)
        if rest_of_line.startswith(b"--"):
            return parts
        current = b"" if eol < 0 else chunk[eol + 1 :]
    raise MultipartError(f"{where}: missing closing delimiter '--{boundary}--'")


def _read_headers(data: bytes, pos: int, where: str) -> tuple[dict[str, str], int]:
    """Header lines from ``pos`` to the blank line (or the end); names lower-cased. The block is
    found and decoded at once (a ``$batch`` answer of 200 parts has 400 such blocks)."""
    headers: dict[str, str] = {}
    if data.startswith(b"\n", pos) or data.startswith(b"\r\n", pos):  # no headers: the blank line
        return headers, data.index(b"\n", pos) + 1
    # the first blank line: CRLF's, else a bare LF's before it (not searched past it: the body
    # after the headers may be a page of rows)
    crlf = data.find(b"\n\r\n", pos)
    lf = data.find(b"\n\n", pos, len(data) if crlf < 0 else crlf + 2)
    if lf >= 0:
        stop, after = lf, lf + 2
    elif crlf >= 0:
        stop, after = crlf, crlf + 3
    else:
        stop = after = len(data)
    last = ""
    for line in data[pos:stop].decode("utf-8", "surrogateescape").split("\n"):
        line = line.rstrip("\r")
        if not line:  # the headers run to the end of the part, which ends in a newline
            break
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MultipartError(f"{where}: expected a 'Name: value' header line, got {line!r}")
        last = name.strip().lower()
        headers[last] = value.strip()
    return headers, after


def _http_part(content: bytes, where: str, mime: dict[str, str] | None = None, pos: int = 0) -> HttpPart:
    """One part of a batch or change set; an answer part written the usual way is read at once
    (:func:`_fast_answer`: 200 of them in a ``$batch`` answer), anything else line by line."""
    if mime is None:
        part = _fast_answer(content)
        if part is not None:
            return part
    return _read_part(content, where, mime, pos)


def _fast_answer(content: bytes) -> HttpPart | None:
    """The answer part ``content`` as :func:`_read_part` reads it, or ``None`` when it is not
    written the usual way (:data:`_ANSWER_PART`; folded or odd header lines)."""
    match = _ANSWER_PART.match(content)
    if match is None:
        return None
    cid, status, reason, block = match.groups()
    headers: dict[str, str] = {}
    if block:
        for line in block[:-2].decode("utf-8", "surrogateescape").split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon or line[0] in " \t" or not name.strip():
                return None  # a folded or malformed line: the line reader says what is wrong
            headers[name.strip().lower()] = value.strip()
    content_id = cid.decode("utf-8", "surrogateescape").strip() if cid is not None else None
    content_id = content_id or headers.pop("content-id", None) or None
    headers.pop("content-id", None)
    reason_text = reason.decode("utf-8", "surrogateescape") if reason is not None else ""
    return HttpPart(
        status=int(status),
        reason=reason_text,
        headers=headers,
        body=content[match.end() :],
        content_id=content_id,
    )


def _read_part(content: bytes, where: str, mime: dict[str, str] | None = None, pos: int = 0) -> HttpPart:
    if mime is None:
        mime, pos = _read_headers(content, 0, where)
    ctype = mime.get("content-type", "application/http")
    if ctype.lower().startswith("multipart/"):
        raise MultipartError(f"{where}: a change set cannot contain another change set or batch")
    if ctype != "application/http" and _params(ctype)[0] != "application/http":
        raise MultipartError(f"{where}: expected Content-Type application/http, got {ctype!r}")
    encoding = mime.get("content-transfer-encoding", "binary").lower()
    if encoding not in _ENCODINGS:
        raise MultipartError(f"{where}: unsupported Content-Transfer-Encoding {encoding!r}")
    while content[pos : pos + 1] in (b"\r", b"\n"):  # tolerate blank lines before the start line
        pos += 1
    eol = content.find(b"\n", pos)
    stop = len(content) if eol < 0 else eol
    line = content[pos:stop].decode("utf-8", "surrogateescape").rstrip("\r")
    part = _start_line(line, where)
    headers, body_at = _read_headers(content, len(content) if eol < 0 else eol + 1, where)
    content_id = mime.get("content-id") or headers.pop("content-id", None) or None
    headers.pop("content-id", None)
    part.headers, part.body, part.content_id = headers, content[body_at:], content_id
    return part


def _start_line(line: str, where: str) -> HttpPart:
    tokens = line.split()
    if tokens and tokens[0].upper().startswith("HTTP/"):
        if len(tokens) >= 2 and len(tokens[1]) == 3 and tokens[1].isdigit():
            reason = line.split(None, 2)[2] if len(tokens) > 2 else ""
            return HttpPart(status=int(tokens[1]), reason=reason)
    elif (
        len(tokens) in (2, 3)
        and tokens[0].isalpha()
        and (len(tokens) == 2 or tokens[2].upper().startswith("HTTP/"))
    ):
        return HttpPart(method=tokens[0].upper(), url=tokens[1])
    got = repr(line) if line else "nothing"
    raise MultipartError(
        f"{where}: expected a request line 'METHOD url HTTP/1.1' or a status line 'HTTP/1.1 200 OK', got {got}"
    )


# -- rendering ----------------------------------------------------------------------------------


def render_batch(
    items: list[BatchItem],
    *,
    boundary: str | None = None,
    kind: Literal["request", "response"],
) -> tuple[str, bytes]:
    """Write items as a batch body; returns ``(Content-Type header value, body)`` with CRLF lines."""
    if kind not in ("request", "response"):
        raise MultipartError(f"kind must be 'request' or 'response', got {kind!r}")
    outer, inner = ("batch", "changeset") if kind == "request" else ("batchresponse", "changesetresponse")
    # one GUID per body; each change set's boundary is it with the change set's number as its last
    # group (unique in the body). A fresh uuid4 per change set asked the OS for randomness 200 times
    # a request, and a writer thread gave up the GIL for each
    guid = str(uuid.uuid4())
    boundary = boundary or f"{outer}_{guid}"
    stem = guid[:-12]
    delimiter = b"--" + boundary.encode("utf-8")
    out: list[bytes] = []
    for index, item in enumerate(items, start=1):
        out += (delimiter, _CRLF)
        if isinstance(item, ChangeSet):
            cs_boundary = item.boundary or f"{inner}_{stem}{index:012x}"
            cs_delimiter = b"--" + cs_boundary.encode("utf-8")
            out.append(f"Content-Type: multipart/mixed; boundary={cs_boundary}\r\n\r\n".encode())
            for n, part in enumerate(item.parts, start=1):
                out += (cs_delimiter, _CRLF)
                _render_part(part, kind, out, f"part {n} of the change set in batch part {index}")
            out += (cs_delimiter, b"--\r\n")
        else:
            _render_part(item, kind, out, f"batch part {index}")
    out += (delimiter, b"--\r\n")
    return f"multipart/mixed; boundary={boundary}", b"".join(out)


def _render_part(part: HttpPart, kind: str, out: list[bytes], where: str) -> None:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if part.content_id is not None:
        head.append(f"Content-ID: {part.content_id}")
    head.append("")
    if kind == "request":
        if not part.method or not part.url:
            raise MultipartError(f"{where}: a request part needs a method and a url")
        head.append(f"{part.method} {part.url} HTTP/1.1")
    else:
        if part.status is None:
            raise MultipartError(f"{where}: a response part needs a status")
        reason = part.reason or _phrase(part.status)
        head.append(f"HTTP/1.1 {part.status} {reason}".rstrip())
    for name, value in part.headers.items():
        if "\n" in value or "\r" in value:
            raise MultipartError(f"{where}: header {name!r} contains a line break")
        head.append(f"{_CANONICAL.get(name) or _title(name)}: {value}")
    head += ("", "")
    out += ("\r\n".join(head).encode("utf-8", "surrogateescape"), part.body, _CRLF)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


@lru_cache(maxsize=512)
def _title(name: str) -> str:
    return "-".join(word[:1].upper() + word[1:] for word in name.split("-"))
