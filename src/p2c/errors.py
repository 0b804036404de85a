"""The one exception tree of p2c. Retry-or-give-up is a type, never a message test.

::

    P2CError                         every error p2c raises on purpose; carries structured fields
    ├── ConfigError                  a project, template, connection or setting is invalid (nothing ran)
    ├── TransientError               worth retrying later: the same request may succeed
    │   ├── ThrottledError           429 / service protection; ``retry_after`` seconds
    │   ├── ServiceUnavailableError  5xx, timeouts, dropped connections
    │   │   └── ServiceUnreachableError  no HTTP answer at all for too long: the run stops
    │   ├── WaitingForParentError    a record's parent is not synchronised yet
    │   └── WaitingForLinesError     a document waits until every one of its lines can be sent
    └── TerminalError                retrying the same input fails the same way
        ├── AuthError                credentials refused, token not granted, 401/403 after a refresh
        ├── RecordError              the target refused one record (validation, duplicate key, unknown unit)
        │   ├── ParentMissingError   ...because a record it refers to does not exist there (``value``)
        │   └── DuplicateRecordError ...because a record with its key exists already
        ├── NotFoundError            an entity set, key or record does not exist
        └── PrerequisiteError        the environment lacks what a flow needs (doctor finds these)

Every error builds its message from its fields (entity, record key, field, reason, status), so the
history and the CLI can show them without parsing text.

Example::

    >>> e = RecordError(entity="CustomersV3", key="ACC-1", field="CustomerGroupId", reason="group 99 does not exist")
    >>> str(e)
    "CustomersV3 'ACC-1' field CustomerGroupId: group 99 does not exist"
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "ConfigError",
    "DuplicateRecordError",
    "NotFoundError",
    "P2CError",
    "ParentMissingError",
    "PrerequisiteError",
    "RecordError",
    "RunInterrupted",
    "ServiceUnavailableError",
    "ServiceUnreachableError",
    "TerminalError",
    "ThrottledError",
    "TransientError",
    "WaitingForLinesError",
    "WaitingForParentError",
]


class P2CError(Exception):
    """Base of all p2c errors. Subclasses add no behaviour, only a place in the tree."""

    def __init__(
        self,
        reason: str,
        *,
        entity: str | None = None,
        key: str | None = None,
        field: str | None = None,
        status: int | None = None,
        code: str | None = None,
        detail: Any = None,
    ) -> None:
        self.reason = reason
        self.entity = entity
        self.key = key
        self.field = field
        self.status = status
        self.code = code
        self.detail = detail
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.entity:
            where.append(self.entity)
        if self.key is not None:
            where.append(f"'{self.key}'")
        if self.field:
            where.append(f"field {self.field}")
        prefix = " ".join(where)
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{prefix}: {self.reason}{status}" if prefix else f"{self.reason}{status}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "transient": isinstance(self, TransientError),
            "entity": self.entity,
            "key": self.key,
            "field": self.field,
            "status": self.status,
            "code": self.code,
            "reason": self.reason,
        }


class ConfigError(P2CError):
    """Invalid configuration: ``entity`` is the file, ``field`` the key path."""

    def _message(self) -> str:
        where = self.entity or ""
        if self.field:
            where = f"{where}: {self.field}" if where else self.field
        return f"{where}: {self.reason}" if where else self.reason


class TransientError(P2CError):
    def __init__(self, reason: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(reason, **kw)


class ThrottledError(TransientError):
    pass


class RunInterrupted(TransientError):
    """The run was asked to stop (the service shutting down): raised between two chunks, after the
    first one's commit, so the run ends INTERRUPTED and the next one resumes from its cursor."""


class ServiceUnavailableError(TransientError):
    pass


class ServiceUnreachableError(ServiceUnavailableError):
    """A service gave no HTTP answer at all (connection refused, unknown host, TLS failure, connect
    timeout) for longer than its connection's ``unreachable_after``: every further request to it
    fails at once with this error, and the engine stops the run instead of spending the patient
    back-off on every remaining task. ``service`` is ``CRM`` or ``ERP``; ``since`` the local time
    (hh:mm:ss) of the first request left unanswered.

    Example::

        >>> str(ServiceUnreachableError(service="ERP", since="10:32:05"))
        'ERP unreachable since 10:32:05'
    """

    def __init__(self, reason: str | None = None, *, service: str, since: str, **kw: Any) -> None:
        self.service = service
        self.since = since
        super().__init__(reason or f"{service} unreachable since {since}", **kw)


class WaitingForParentError(TransientError):
    pass


class WaitingForLinesError(TransientError):
    """A document (quote, order) is not sent while one of its lines cannot be: sent alone, it would
    arrive half-written. It is read again every run, like any waiting record."""


class TerminalError(P2CError):
    pass


class AuthError(TerminalError):
    pass


class RecordError(TerminalError):
    pass


class ParentMissingError(RecordError):
    """The target refused a record because a record it refers to (``value`` in ``field``) does not
    exist there. The connector raises it from the service's structured answer; the engine makes
    the record *wait* when ``field`` names a parent that p2c itself synchronises, and keeps it a
    failure otherwise (a customer group nobody created is not worth waiting for)."""

    def __init__(self, reason: str, *, value: str | None = None, **kw: Any) -> None:
        self.value = value
        super().__init__(reason, **kw)


class DuplicateRecordError(RecordError):
    """The target refused a create because a record with the same key exists already (Dataverse
    0x80060892 / 0x80040237, F&O "The record already exists" Infolog). A connector that sent the
    create again after a lost answer resolves it by reading the record back; on a first attempt it
    is a real duplicate and stays a failure."""


class NotFoundError(TerminalError):
    pass


class PrerequisiteError(TerminalError):
    pass
