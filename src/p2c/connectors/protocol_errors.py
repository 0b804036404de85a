"""Reading the services' error bodies and classifying them into the p2c exception tree, without I/O.

Three body shapes occur (DATAVERSE.md §2.11, FNO.md §1.8):

* Dataverse: ``{"error": {"code": "0x80044331", "message": "..."}}``;
* F&O OData: ``{"error": {"code": "", "message": "An error has occurred.", "innererror":
  {"message": "Write failed for table row of type 'X'. Infolog: Warning: A.; Warning: B.",
  "type": "...AxODataWriteException"}}}`` — the human reason is the Infolog lines, prefixes off;
* F&O Web API: ``{"Message": "No HTTP resource was found that matches the request URI '...'."}``.

Classification (status → class) is where retry-or-give-up is decided, once::

    400 409 412 413 422 and other 4xx → RecordError     (the record is refused; terminal)
    404                               → NotFoundError
    401 403                           → AuthError
    429                               → ThrottledError   (transient; retry_after)
    5xx                               → ServiceUnavailableError (transient)
    F&O 500 whose body is an Infolog   → RecordError      (a write refused inside a $batch)
    F&O relation check in the Infolog  → ParentMissingError (a RecordError naming the missing value)
    Dataverse 0x80060892 / 0x80040237  → DuplicateRecordError (a RecordError: the key exists already)
    F&O "The record already exists"    → DuplicateRecordError

Example::

    >>> e = parse_error(500, b'{"error":{"code":"","message":"An error has occurred.","innererror":{'
    ...     b'"message":"Write failed for table row of type \\'CustCustomerV3Entity\\'. Infolog: Warning: '
    ...     b'Customer group 99 does not exist.; Warning: validateWrite failed on data source '
    ...     b'\\'Customers (CustTable)\\'.","type":"AxODataWriteException"}}}')
    >>> e.message
    'Customer group 99 does not exist'
    >>> type(classify(e, Service.FNO)).__name__
    'RecordError'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from p2c.errors import (
    AuthError,
    DuplicateRecordError,
    NotFoundError,
    P2CError,
    ParentMissingError,
    RecordError,
    ServiceUnavailableError,
    ThrottledError,
)

__all__ = ["Service", "ServiceError", "classify", "field_named", "infolog_reason", "parse_error"]


class Service(StrEnum):
    DATAVERSE = "dataverse"
    FNO = "fno"


@dataclass(frozen=True)
class ServiceError:
    """What a service said about a failed request: status, its code, and a human reason."""

    status: int
    message: str
    code: str | None = None
    raw: str = ""  # the service's own text (e.g. the whole Infolog message), for details
    type: str | None = None  # the .NET exception type F&O names, if any
    infolog: bool = False  # an F&O write refused by business validation
    missing: str | None = None  # the value an F&O relation check did not find (a parent not there)
    duplicate: bool = False  # a create refused because a record with its key exists already


# F&O's relation check (label @SYS112224 in every release): it names the value and the field's label.
# F&O gives write errors no code, so this label is the structured part of its answer.
_NOT_IN_RELATING_TABLE = re.compile(
    r"The value '([^']*)' in field '[^']+' is not found in the relating table", re.IGNORECASE
)
# F&O's duplicate-key check (label @SYS5051, "The record already exists."), likewise without a code.
_ALREADY_EXISTS = re.compile(r"\bThe record already exists\b", re.IGNORECASE)
# Dataverse: DuplicateRecordEntityKey (a create whose alternate key value is taken) and
# DuplicateRecord (If-None-Match: * on an existing row)
_DUPLICATE_CODES = frozenset({"0x80060892", "0x80040237"})
_INFOLOG = re.compile(r"\bInfolog:\s*", re.IGNORECASE)
_LEVEL = re.compile(r"^\s*(?:Warning|Error|Info)\s*:\s*", re.IGNORECASE)
_LINE_SPLIT = re.compile(r";\s*(?=(?:Warning|Error|Info)\s*:)", re.IGNORECASE)
# the framework's closing line says only *that* validation failed; the line before it says why
_BOILERPLATE = re.compile(r"^validateWrite failed on data source\b", re.IGNORECASE)


def infolog_reason(text: str) -> str | None:
    """The Infolog lines of an F&O write error, without ``Warning:``/``Error:``/``Info:``; ``None`` if none."""
    match = _INFOLOG.search(text)
    if match is None:
        return None
    lines = []
    for piece in _LINE_SPLIT.split(text[match.end() :]):
        line = _LEVEL.sub("", piece).strip().rstrip(".").strip()
        if line and line not in lines:
            lines.append(line)
    useful = [line for line in lines if not _BOILERPLATE.match(line)] or lines
    return "; ".join(useful) or None


def _body_json(body: bytes | str | Mapping[str, Any] | None) -> Any:
    if body is None or isinstance(body, Mapping):
        return body
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _text(body: bytes | str | Mapping[str, Any] | None) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body if isinstance(body, str) else ""


def parse_error(status: int, body: bytes | str | Mapping[str, Any] | None) -> ServiceError:
    """Read any of the three error shapes (or none) into a :class:`ServiceError`."""
    doc = _body_json(body)
    if isinstance(doc, Mapping) and isinstance(doc.get("error"), Mapping):
        err = doc["error"]
        code = str(err.get("code") or "") or None
        message = str(err.get("message") or "")
        inner = err.get("innererror")
        inner_msg = str(inner.get("message") or "") if isinstance(inner, Mapping) else ""
        inner_type = str(inner.get("type") or "") or None if isinstance(inner, Mapping) else None
        raw = inner_msg or message
        reason = infolog_reason(raw)
        if reason is not None:
            found = _NOT_IN_RELATING_TABLE.search(raw)
            missing = found.group(1) if found else None
            duplicate = _ALREADY_EXISTS.search(raw) is not None
            return ServiceError(
                status, reason, code, raw, inner_type, infolog=True, missing=missing, duplicate=duplicate
            )
        # F&O answers "An error has occurred." on top and the real text inside
        best = inner_msg if inner_msg and message in ("", "An error has occurred.") else message
        is_write = bool(inner_type and inner_type.endswith("AxODataWriteException"))
        duplicate = (code or "").lower() in _DUPLICATE_CODES
        return ServiceError(
            status,
            best or raw or f"HTTP {status}",
            code,
            raw,
            inner_type,
            infolog=is_write,
            duplicate=duplicate,
        )
    if isinstance(doc, Mapping) and isinstance(doc.get("Message"), str):
        return ServiceError(status, doc["Message"], None, doc["Message"])
    text = _text(body).strip()
    short = text[:500] if text and not text.startswith("<") else ""
    return ServiceError(status, short or f"HTTP {status}", None, text)


def classify(
    err: ServiceError,
    service: Service,
    *,
    entity: str | None = None,
    key: str | None = None,
    retry_after: float | None = None,
) -> P2CError:
    """The p2c exception for a service error (see the table in the module docstring)."""
    s = err.status
    fields: dict[str, Any] = {"entity": entity, "key": key, "status": s, "code": err.code, "detail": err.raw}
    if s == 429:
        return ThrottledError(err.message, retry_after=retry_after, **fields)
    if s in (401, 403):
        return AuthError(err.message, **fields)
    if s == 404:
        return NotFoundError(err.message, **fields)
    if s >= 500 and not (service is Service.FNO and err.infolog):
        return ServiceUnavailableError(err.message, retry_after=retry_after, **fields)
    if err.missing is not None:
        return ParentMissingError(err.message, value=err.missing, **fields)
    if err.duplicate:
        return DuplicateRecordError(err.message, **fields)
    return RecordError(err.message, **fields)


_QUOTED = re.compile(r"'([^']*)'")
_VALUE_IN_FIELD = re.compile(r"\bvalue '([^']*)' in field '([^']+)'", re.IGNORECASE)
_FIELD_LABEL = re.compile(r"\bfield '([^']+)'", re.IGNORECASE)
_STOP_WORDS = frozenset({"of", "the", "a", "an", "for", "to"})


def _label_matches(label: str, name: str) -> bool:
    """F&O Infolog shows labels (``Customer group``) where the payload has names (``CustomerGroupId``)."""
    words = [w for w in re.findall(r"[a-z0-9]+", label.casefold()) if w not in _STOP_WORDS]
    folded = name.casefold()
    return bool(words) and all(w in folded for w in words)


def field_named(message: str, payload: Mapping[str, Any]) -> str | None:
    """The payload field a service's refusal names, or ``None`` when it names none (or several).

    Dataverse quotes the column's logical name; an F&O Infolog line names the field's *label*,
    often with the refused value, which together point at one payload field::

        >>> field_named("The length of the 'name' attribute of the 'account' entity exceeded ...", {"name": "x"})
        'name'
        >>> field_named("The value '99' in field 'Customer group' is not found in the relating table "
        ...             "'Customer groups'", {"CustomerGroupId": "99", "SiteId": "1", "CustomerAccount": "C1"})
        'CustomerGroupId'
    """
    names = {str(k).split("@", 1)[0]: k for k in payload}
    folded = {n.casefold(): n for n in names}
    for quoted in _QUOTED.findall(message):
        if quoted.casefold() in folded:
            return folded[quoted.casefold()]
    for value, label in _VALUE_IN_FIELD.findall(message):
        holding = [n for n, k in names.items() if str(payload[k]).casefold() == value.casefold()]
        narrowed = [n for n in holding if _label_matches(label, n)] if len(holding) > 1 else holding
        if len(narrowed) == 1:
            return narrowed[0]
    for label in _FIELD_LABEL.findall(message):
        matching = [n for n in names if _label_matches(label, n)]
        if len(matching) == 1:
            return matching[0]
    return None
