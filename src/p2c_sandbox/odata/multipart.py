"""The ``multipart/mixed`` body of an OData ``$batch`` (RFC 2046 §5.1, OData Part 1 §11.7), read and written.

The sandbox's own reader and writer, independent of p2c's client code. Reading walks the body
line by line through a small state machine (preamble, inside a part, after the close delimiter);
the line break before a delimiter line belongs to the delimiter, so a part's bytes are exact.
Lenient where clients differ (quoted or bare ``boundary``, LF or CRLF, whitespace after a
delimiter, preamble and epilogue, ``Content-ID`` on the MIME part or the embedded message),
strict elsewhere, with :class:`MultipartError` naming the part.

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

import re
import uuid
from dataclasses import field
from enum import StrEnum
from functools import lru_cache
from http import HTTPStatus

from p2c_sandbox.odata.records import mutable_record

__all__ = ["BatchItem", "BodyKind", "ChangeSet", "HttpPart"]
__all__ += ["MultipartError", "parse_batch", "render_batch"]


class MultipartError(ValueError):
    """A body that is not a readable batch, or a part that cannot be written."""


#: which side of the exchange a body is; it decides start lines and boundary prefixes
BodyKind = StrEnum("BodyKind", [("REQUEST", "request"), ("RESPONSE", "response")])


@mutable_record
class HttpPart:
    """An embedded HTTP message: requests have ``method``/``url``, responses ``status``."""

    method: str | None = None
    url: str | None = None
    content_id: str | None = None  # as written on the MIME part (or among the embedded headers)
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""
    status: int | None = None
    reason: str | None = None


@mutable_record
class ChangeSet:
    """Parts run atomically; ``boundary`` as read (None: make one up when writing)."""

    parts: list[HttpPart]
    boundary: str | None = None  # None when writing: a fresh one is made up


BatchItem = HttpPart | ChangeSet

# -- reading ----------------------------------------------------------------------------------------


def _strip_eol(line: bytes) -> bytes:
    return line.rstrip(b"\r\n")


def _content_type(value: str) -> tuple[str, dict[str, str]]:
    """Media type (lower case) and parameters of a Content-Type value."""
    media, *rest = value.split(";")
    params: dict[str, str] = {}
    for chunk in rest:
        key, eq, val = chunk.partition("=")
        if eq:
            val = val.strip()
            if len(val) >= 2 and val[0] == val[-1] == '"':
                val = val[1:-1]
            params[key.strip().lower()] = val
    return media.strip().lower(), params


def _boundary(value: str, where: str) -> str:
    """The ``boundary`` parameter of the multipart/mixed Content-Type ``value``."""
    media, params = _content_type(value)
    problem = ""
    if media != "multipart/mixed":
        problem = f"expected Content-Type multipart/mixed, got '{value}'"
    elif not params.get("boundary"):
        problem = f"Content-Type '{value}' has no boundary parameter"
    if problem:
        raise MultipartError(f"{where}: {problem}")
    return params["boundary"]


def _split(data: bytes, marker: str, where: str) -> list[bytes]:
    """The parts between ``--marker`` lines, each without the line break that ends it.

    A delimiter is ``--marker`` at the start of a line, then only white space (opening) or ``--``
    and only white space (closing); the line break before it belongs to it. Found with
    ``bytes.find``, not line by line: a batch of 1 000 operations has some 20 000 lines.
    """
    dash = b"--" + marker.encode("latin-1")
    parts: list[bytes] = []
    content_start = -1  # where the current part's content begins; -1 in the preamble
    at = 0
    while True:
        hit = data.find(dash, at)
        if hit < 0:
            break
        at = hit + len(dash)
        if hit and data[hit - 1] not in b"\r\n":
            continue  # not at the start of a line: part of the content
        line_end = data.find(b"\n", at)
        line_end = len(data) if line_end < 0 else line_end
        rest = data[at:line_end].rstrip(b"\r")
        carriage = rest.find(b"\r")
        if carriage >= 0:  # a lone CR ended the line
            line_end, rest = at + carriage, rest[:carriage]
        closing = rest.startswith(b"--") and not rest[2:].strip()
        if not closing and rest.strip():
            continue  # "--marker" followed by more text: content
        if content_start >= 0:
            chunk = data[content_start:hit]
            parts.append(
                chunk[:-2]
                if chunk.endswith(b"\r\n")
                else chunk[:-1]
                if chunk.endswith((b"\n", b"\r"))
                else chunk
            )
        if closing:
            return parts
        content_start = line_end + 1
        if data[line_end : line_end + 2] == b"\r\n":
            content_start = line_end + 2
        at = max(at, line_end)
    if content_start < 0:
        raise MultipartError(f"{where}: no delimiter line '{dash.decode('latin-1')}' in the body")
    raise MultipartError(f"{where}: missing closing delimiter '{dash.decode('latin-1')}--'")


_BLANK = frozenset((b"\r\n", b"\n", b"\r", b""))


def _headers(lines: list[bytes], where: str) -> tuple[dict[str, str], int]:
    """Header lines up to the first blank one: ``(lower-cased name -> value, lines used)``."""
    found: dict[str, str] = {}
    last: str | None = None
    used = 0
    for line in lines:
        used += 1
        if line in _BLANK:
            return found, used
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if text[0] in " \t" and last is not None:  # obsolete line folding: continues the value
            found[last] += " " + text.strip()
            continue
        name, colon, value = text.partition(":")
        name = name.strip()
        if not colon or not name or text[0] == ":":
            raise MultipartError(f"{where}: '{text}' is not a 'Name: value' header line")
        last = name.lower()
        found[last] = value.strip()
    return found, used


def _message(lines: list[bytes], mime: dict[str, str], used: int, where: str) -> HttpPart:
    """The HTTP message of a part: ``lines`` are the part's, its MIME headers ``mime`` took ``used``."""
    _check_mime(mime, where)
    n = len(lines)
    while used < n and not _strip_eol(lines[used]):
        used += 1
    if used == n:
        raise MultipartError(f"{where}: expected an HTTP request or status line, got nothing")
    part = _start_line(_strip_eol(lines[used]).decode("utf-8", "replace"), where)
    part.headers, taken = _headers(lines[used + 1 :], where)
    part.body = b"".join(lines[used + 1 + taken :])
    own_id = part.headers.pop("content-id", None)
    part.content_id = mime.get("content-id", own_id)
    return part


def _check_mime(mime: dict[str, str], where: str) -> None:
    media, _ = _content_type(mime.get("content-type", "application/http"))
    if media != "application/http":
        raise MultipartError(
            f"{where}: Content-Type '{media}' is neither application/http nor multipart/mixed"
        )
    encoding = mime.get("content-transfer-encoding", "binary").lower()
    if encoding not in ("binary", "7bit", "8bit"):
        raise MultipartError(f"{where}: unsupported Content-Transfer-Encoding '{encoding}'")


# The fast path: a part as clients write it — CRLF line ends, "Name: value" header lines without
# folding, one blank line, "METHOD url HTTP/1.1" — is read with three regular expressions instead of
# line by line (a batch of 1 000 parts spent half its reading time in the per-line loop). What they
# read is exactly what the line-by-line reader gives; anything else (LF or lone CR line ends,
# folded or malformed headers, blank lines before the request line, status lines) goes to it.
_FIELD = rb"[^\s:][^\r\n:]*:[^\r\n]*\r\n"
_HEAD = re.compile(rb"((?:" + _FIELD + rb")*)\r\n")
_REQUEST = re.compile(rb"([A-Za-z]+) ([!-~]+) HTTP/1\.1\r\n((?:" + _FIELD + rb")*)\r\n")
_FIELD_PARTS = re.compile(r"([^\r\n:]+):([^\r\n]*)\r\n")


def _fields(block: bytes) -> dict[str, str]:
    """The header lines of ``block`` (matched by ``_FIELD``), as :func:`_headers` reads them."""
    text = block.decode("utf-8", "replace")
    return {name.strip().lower(): value.strip() for name, value in _FIELD_PARTS.findall(text)}


def _fast_request(chunk: bytes, at: int, mime: dict[str, str], where: str) -> HttpPart | None:
    """The request at ``chunk[at:]`` (after the MIME headers ``mime``) if it has the usual shape."""
    m = _REQUEST.match(chunk, at)
    if m is None:
        return None
    _check_mime(mime, where)
    headers = _fields(m[3])
    own_id = headers.pop("content-id", None)
    return HttpPart(
        method=m[1].decode().upper(),
        url=m[2].decode(),
        headers=headers,
        body=chunk[m.end() :],
        content_id=mime.get("content-id", own_id),
    )


def _start_line(line: str, where: str) -> HttpPart:
    words = line.split()
    if words and words[0].upper().startswith("HTTP/"):
        if len(words) < 2 or not words[1].isdigit():
            raise MultipartError(f"{where}: '{line}' is not an HTTP status line")
        return HttpPart(status=int(words[1]), reason=" ".join(words[2:]) or None)
    if len(words) != 3 or not words[2].upper().startswith("HTTP/"):
        raise MultipartError(f"{where}: '{line}' is not an HTTP request line (METHOD url HTTP/1.1)")
    return HttpPart(method=words[0].upper(), url=words[1])


def parse_batch(content_type: str, body: bytes) -> list[BatchItem]:
    """The items of a batch body whose Content-Type is ``content_type``; raises MultipartError."""
    items: list[BatchItem] = []
    for n, chunk in enumerate(_split(body, _boundary(content_type, "the batch"), "the batch"), 1):
        where = f"batch part {n}"
        head = _HEAD.match(chunk)
        if head is not None:
            mime, rest = _fields(head[1]), head.end()
        else:
            lines = chunk.splitlines(keepends=True)
            mime, used = _headers(lines, where)
            rest = len(b"".join(lines[:used]))
        declared = mime.get("content-type", "")
        if not declared.lower().startswith("multipart/"):
            fast = _fast_request(chunk, rest, mime, where) if head is not None else None
            items.append(fast or _slow_message(chunk, where))
            continue
        inner = _boundary(declared, where)
        parts = []
        for k, sub in enumerate(_split(chunk[rest:], inner, where), 1):
            sub_where = f"part {k} of the change set in {where}"
            sub_head = _HEAD.match(sub)
            if sub_head is not None:
                sub_mime = _fields(sub_head[1])
                if not sub_mime.get("content-type", "").lower().startswith("multipart/"):
                    fast = _fast_request(sub, sub_head.end(), sub_mime, sub_where)
                    if fast is not None:
                        parts.append(fast)
                        continue
            sub_lines = sub.splitlines(keepends=True)
            sub_mime, sub_used = _headers(sub_lines, sub_where)
            if sub_mime.get("content-type", "").lower().startswith("multipart/"):
                raise MultipartError(f"{sub_where}: a change set cannot contain another change set")
            parts.append(_message(sub_lines, sub_mime, sub_used, sub_where))
        items.append(ChangeSet(parts, inner))
    return items


def _slow_message(chunk: bytes, where: str) -> HttpPart:
    lines = chunk.splitlines(keepends=True)
    mime, used = _headers(lines, where)
    return _message(lines, mime, used, where)


# -- writing ----------------------------------------------------------------------------------------

# Headers some clients look up by exact spelling; the others are written in Title-Case.
_IRREGULAR = ("Content-ID", "ETag", "OData-EntityId", "OData-MaxVersion", "OData-Version", "WWW-Authenticate")
_SPECIAL = {name.lower(): name for name in _IRREGULAR}


@lru_cache(maxsize=256)  # a batch answer writes the same few names a thousand times
def _header_name(name: str) -> str:
    low = name.lower()
    return _SPECIAL.get(low) or "-".join(word[:1].upper() + word[1:] for word in low.split("-"))


@lru_cache(maxsize=64)
def _status_line(status: int, reason: str | None) -> str:
    try:
        phrase = reason or HTTPStatus(status).phrase
    except ValueError:
        phrase = reason or ""
    return f"HTTP/1.1 {status} {phrase}".rstrip()


def _encode(part: HttpPart, side: BodyKind, where: str) -> bytes:
    if side is BodyKind.RESPONSE:
        if part.status is None:
            raise MultipartError(f"{where}: a response part needs a status")
        first = _status_line(part.status, part.reason)
    else:
        if not part.method or not part.url:
            raise MultipartError(f"{where}: a request part needs a method and a URL")
        first = f"{part.method} {part.url} HTTP/1.1"
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if part.content_id is not None:
        lines.append(f"Content-ID: {part.content_id}")
    lines += ["", first]
    for name, value in part.headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise MultipartError(f"{where}: header '{name}' has a line break in its value")
        lines.append(f"{_header_name(name)}: {value}")
    lines.append("")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8") + part.body + b"\r\n"


def render_batch(
    items: list[BatchItem], *, kind: BodyKind | str, boundary: str | None = None
) -> tuple[str, bytes]:
    """``(Content-Type, body)`` of ``items`` as a batch request or response, with CRLF line ends."""
    side = BodyKind(kind)
    prefix = "batch" if side is BodyKind.REQUEST else "batchresponse"
    cs_prefix = "changeset" if side is BodyKind.REQUEST else "changesetresponse"
    guid = str(uuid.uuid4())
    outer = boundary or f"{prefix}_{guid}"
    chunks: list[bytes] = []
    delimiter = f"--{outer}\r\n".encode()
    for n, item in enumerate(items, 1):
        chunks.append(delimiter)
        if isinstance(item, HttpPart):
            chunks.append(_encode(item, side, f"batch part {n}"))
            continue
        # GUID-shaped, unique in the body, without a fresh uuid4 for each of 1 000 change sets
        inner = item.boundary or f"{cs_prefix}_{guid[:24]}{n:012x}"
        chunks.append(f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n".encode())
        for k, part in enumerate(item.parts, 1):
            chunks.append(f"--{inner}\r\n".encode())
            chunks.append(_encode(part, side, f"part {k} of the change set in batch part {n}"))
        chunks.append(f"--{inner}--\r\n".encode())
    chunks.append(f"--{outer}--\r\n".encode())
    return f"multipart/mixed; boundary={outer}", b"".join(chunks)
