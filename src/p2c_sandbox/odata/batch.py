"""Server side of OData ``$batch``: run each part through the emulator's own handler.

Both emulators answer ``POST $batch`` with :func:`execute_batch`. Each embedded request becomes an
ordinary :class:`~p2c_sandbox.http.Request` (``in_batch=True``) handed to the same ``handle``
function that serves single requests, so a part behaves exactly as it would on its own. A change
set runs inside one ``transaction()``: the first part answering 4xx/5xx rolls the whole set back
and becomes the set's only answer. ``$n`` Content-ID references (a URL, a URL prefix, an
``@odata.bind`` or ``@odata.id`` value) resolve to the entity URL an earlier part of the same
change set answered with.

The dialects differ only in how failures surface (DATAVERSE.md §2.9, FNO.md §1.7):

==============  ==============================================  ==================================
                Dataverse                                       F&O
==============  ==============================================  ==================================
first failure   stops the batch, overall 400 (unless            every item runs, overall 200
                ``Prefer: odata.continue-on-error``: 200)
failed part     its own status                                  400 inside a change set becomes
                                                                500 Internal Server Error
==============  ==============================================  ==================================

Example::

    >>> from p2c_sandbox.odata.multipart import HttpPart, parse_batch, render_batch
    >>> from p2c_sandbox.http import Request, Response, json_response
    >>> from contextlib import nullcontext
    >>> ct, body = render_batch([HttpPart("DELETE", "accounts(1)")], kind="request")
    >>> outer = Request("POST", "$batch", headers={"content-type": ct}, body=body,
    ...                 base_url="https://h", service_root="https://h/api/data/v9.2/")
    >>> resp = execute_batch(outer, lambda r: Response(204), nullcontext, BatchDialect.DATAVERSE,
    ...                      error=lambda s, c, m: json_response(s, {"error": {"code": c, "message": m}}))
    >>> resp.status, [p.status for p in parse_batch(resp.headers["content-type"], resp.body)]
    (200, [204])
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit

from p2c_sandbox.http import Request, Response, dumps, loads
from p2c_sandbox.odata.multipart import (
    BatchItem,
    ChangeSet,
    HttpPart,
    MultipartError,
    parse_batch,
    render_batch,
)

__all__ = ["BatchDialect", "ErrorFactory", "execute_batch"]

ErrorFactory = Callable[[int, str, str], Response]
"""``error(status, code, message)``: the service's own JSON error response."""

CONTINUE_ON_ERROR = "odata.continue-on-error"
# Prefer tokens a part inherits from the outer request when it has no Prefer header of its own.
_INHERITED_PREFER = ("return", "odata.include-annotations")
# URL segments starting with "$" that are OData system resources, not Content-ID references.
_SYSTEM_SEGMENTS = {"$metadata", "$batch", "$entity", "$crossjoin", "$all", "$root"}


class BatchDialect(StrEnum):
    """Which service's ``$batch`` failure behaviour to emulate."""

    DATAVERSE = "dataverse"
    FNO = "fno"


# Error codes of a request the batch layer itself rejects (F&O leaves "code" empty).
_BAD_REQUEST_CODE = {BatchDialect.DATAVERSE: "0x80048d19", BatchDialect.FNO: ""}
_LIMIT_CODE = {BatchDialect.DATAVERSE: "0x8005f103", BatchDialect.FNO: ""}


def execute_batch(
    req: Request,
    handle: Callable[[Request], Response],
    transaction: Callable[[], AbstractContextManager[None]],
    dialect: BatchDialect,
    *,
    error: ErrorFactory,
    max_operations: int = 1000,
) -> Response:
    """Run the batch in ``req`` and answer it (multipart, or a JSON error for a bad batch)."""
    code = _BAD_REQUEST_CODE[dialect]
    try:
        items = parse_batch(req.header("content-type") or "", req.body)
        _require_requests(items)
    except MultipartError as exc:
        return error(400, code, str(exc))
    count = sum(len(item.parts) if isinstance(item, ChangeSet) else 1 for item in items)
    if count > max_operations:
        return error(
            400,
            _LIMIT_CODE[dialect],
            f"The number of requests in batch exceeds the limit of {max_operations}.",
        )

    runner = _Runner(req, handle, dialect, error)
    continue_on_error = dialect is BatchDialect.FNO or CONTINUE_ON_ERROR in req.prefer()
    answers: list[BatchItem] = []
    failed = False
    for item in items:
        if isinstance(item, ChangeSet):
            answer, ok = runner.change_set(item, transaction)
        else:
            answer, ok = runner.single(item)
        answers.append(answer)
        if not ok:
            failed = True
            if not continue_on_error:
                break

    content_type, body = render_batch(answers, kind="response")
    headers = {"content-type": content_type, "odata-version": "4.0"}
    status = 200
    if dialect is BatchDialect.DATAVERSE:
        if CONTINUE_ON_ERROR in req.prefer():
            headers["preference-applied"] = CONTINUE_ON_ERROR
        elif failed:
            status = 400
    return Response(status, headers, body)


def _require_requests(items: list[BatchItem]) -> None:
    for index, item in enumerate(items, start=1):
        parts = item.parts if isinstance(item, ChangeSet) else [item]
        for part in parts:
            if part.method is None or part.url is None:
                raise MultipartError(f"batch part {index}: expected a request line, got a status line")


class _RollBack(Exception):
    """Raised inside a change set's transaction so that it rolls back; carries the answer."""

    def __init__(self, answer: HttpPart) -> None:
        super().__init__(answer.status)
        self.answer = answer


class _MissingReference(Exception):
    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


class _Runner:
    """Turns parts into Requests, runs them and remembers the entity URLs Content-IDs name."""

    def __init__(
        self,
        outer: Request,
        handle: Callable[[Request], Response],
        dialect: BatchDialect,
        error: ErrorFactory,
    ) -> None:
        self.outer = outer
        self.handle = handle
        self.dialect = dialect
        self.error = error
        self.root_path = urlsplit(outer.service_root).path or "/"
        if not self.root_path.endswith("/"):
            self.root_path += "/"
        self.inherited: dict[str, str] = {}
        if auth := outer.header("authorization"):
            self.inherited["authorization"] = auth
        prefs = outer.prefer()
        tokens = [_prefer_token(name, prefs[name]) for name in _INHERITED_PREFER if name in prefs]
        if tokens:
            self.inherited["prefer"] = ",".join(tokens)

    def single(self, part: HttpPart) -> tuple[HttpPart, bool]:
        # a part outside a change set can name no other part, nor be named: nothing to remember
        resp = self._run(part, {}, remember=False)
        return _answer(part, resp), resp.status < 400

    def change_set(
        self, cs: ChangeSet, transaction: Callable[[], AbstractContextManager[None]]
    ) -> tuple[BatchItem, bool]:
        context: dict[str, str] = {}
        answers: list[HttpPart] = []
        try:
            with transaction():
                for part in cs.parts:
                    if part.method == "GET":
                        resp = self.error(
                            400,
                            _BAD_REQUEST_CODE[self.dialect],
                            "GET requests are not allowed in a change set.",
                        )
                    else:
                        resp = self._run(part, context)
                    answer = _answer(part, resp)
                    if resp.status >= 400:
                        raise _RollBack(answer)
                    answers.append(answer)
        except _RollBack as rollback:
            failed = rollback.answer
            if self.dialect is BatchDialect.FNO and failed.status == 400:
                # F&O reports a write failure inside a batch as 500 (FNO.md §1.6, §1.8)
                failed.status, failed.reason = 500, "Internal Server Error"
            return failed, False
        return ChangeSet(answers), True

    def _run(self, part: HttpPart, context: dict[str, str], *, remember: bool = True) -> Response:
        assert part.method is not None and part.url is not None
        try:
            url = _reference(part.url, context)
            body = _resolve_body(part.body, context)
        except _MissingReference as missing:
            return self.error(
                400,
                _BAD_REQUEST_CODE[self.dialect],
                f"Content-ID Reference: '{missing.ref}' does not exist in the batch context.",
            )
        path, raw_query = self._locate(url)
        headers = {**self.inherited, **part.headers}
        sub = Request(
            part.method,
            path,
            _query_pairs(raw_query),
            headers,
            body,
            base_url=self.outer.base_url,
            service_root=self.outer.service_root,
            in_batch=True,
            raw_query=raw_query,
        )
        resp = self.handle(sub)
        if remember and part.content_id is not None and resp.status < 400:
            entity = _entity_url(resp) or (url if part.method != "POST" else None)
            if entity is not None:
                context[part.content_id] = entity
        return resp

    def _locate(self, url: str) -> tuple[str, str]:
        """``(decoded path below the service root, raw query)`` of an absolute or relative URL."""
        url = url.partition("#")[0]
        target, _, raw_query = url.partition("?")
        lowered = target[:8].lower()
        if lowered.startswith(("http://", "https://")):
            slash = target.find("/", target.find("//") + 2)
            target = "/" if slash < 0 else target[slash:]
        if target.startswith("/"):
            if target.startswith(self.root_path):
                target = target[len(self.root_path) :]
            elif target == self.root_path[:-1]:
                target = ""
            else:
                target = target.lstrip("/")
        return unquote(target), raw_query


def _prefer_token(name: str, value: str) -> str:
    if not value:
        return name
    return f'{name}="{value}"' if name != "return" else f"{name}={value}"


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    # unquote, not unquote_plus: OData clients send spaces as %20 and a literal "+" means plus
    pairs = []
    for piece in raw_query.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def _answer(part: HttpPart, resp: Response) -> HttpPart:
    headers = {name.lower(): value for name, value in resp.headers.items()}
    return HttpPart(status=resp.status, headers=headers, body=resp.body, content_id=part.content_id)


def _reference(value: str, context: dict[str, str]) -> str:
    """``$n`` or ``$n/rest`` with ``$n`` replaced by its entity URL; other values unchanged."""
    if not value.startswith("$"):
        return value
    cut = len(value)
    for sep in "/?":
        at = value.find(sep)
        if 0 < at < cut:
            cut = at
    ref = value[:cut]
    if ref in _SYSTEM_SEGMENTS or len(ref) == 1:
        return value
    entity = context.get(ref[1:])
    if entity is None:
        raise _MissingReference(ref)
    return entity + value[cut:]


def _resolve_body(body: bytes, context: dict[str, str]) -> bytes:
    # cheap test first: most bodies hold no reference and are passed on untouched
    if b'"$' not in body or (b"@odata.bind" not in body and b"@odata.id" not in body):
        return body
    try:
        doc = loads(body)
    except ValueError:
        return body  # not JSON: the handler reports it as it would outside a batch
    return dumps(doc) if _swap(doc, context) else body


def _swap(node: Any, context: dict[str, str]) -> bool:
    """Resolve references in ``@odata.bind``/``@odata.id`` values in place; True if any changed."""
    changed = False
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("@odata.bind") or key == "@odata.id":
                if isinstance(value, str):
                    new: Any = _reference(value, context)
                elif isinstance(value, list):
                    new = [_reference(v, context) if isinstance(v, str) else v for v in value]
                else:
                    continue
                if new != value:
                    node[key], changed = new, True
            elif isinstance(value, dict | list):
                changed = _swap(value, context) or changed
    elif isinstance(node, list):
        for value in node:
            changed = _swap(value, context) or changed
    return changed


def _entity_url(resp: Response) -> str | None:
    headers = {name.lower(): value for name, value in resp.headers.items()}
    found = headers.get("odata-entityid") or headers.get("location")
    if found:
        return found
    body = resp.body
    if (
        body
        and (b'"@odata.id"' in body or b'"@odata.editLink"' in body)
        and "json" in headers.get("content-type", "")
    ):
        try:
            doc = loads(resp.body)
        except ValueError:
            return None
        if isinstance(doc, dict):
            for key in ("@odata.id", "@odata.editLink"):
                if isinstance(doc.get(key), str):
                    return str(doc[key])
    return None
