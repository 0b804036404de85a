"""Errors of the emulated Dataverse Web API, raised anywhere and answered by the service.

Every client error is a :class:`DataverseError` carrying the HTTP status, the Dataverse hex code
and the message; :meth:`DataverseService.handle` turns it into
``{"error": {"code": ..., "message": ...}}`` (DATAVERSE.md §2.11). Codes marked *unverified* in
:class:`Code` were picked from third-party code or chosen by us; DEVIATIONS.md lists them.

Example::

    >>> err = not_found_by_id("account", "00000000-0000-0000-0000-000000000001")
    >>> err.status, err.code
    (404, '0x80040217')
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Code",
    "DataverseError",
    "bad_request",
    "not_found_by_id",
    "not_found_by_key",
    "unknown_property",
    "validation",
]


class Code(StrEnum):
    """Dataverse error codes used by the emulator."""

    NOT_FOUND_BY_ID = "0x80040217"  # ObjectDoesNotExist
    NOT_FOUND_BY_KEY = "0x80060891"  # unverified
    VERSION_MISMATCH = "0x80060882"  # ConcurrencyVersionMismatch
    DUPLICATE_RECORD = "0x80040237"  # DuplicateRecord: If-None-Match: * on an existing row
    DUPLICATE_KEY = "0x80060892"  # DuplicateRecordEntityKey, unverified
    VALIDATION = "0x80044331"  # a validation error (length, range, required, ...)
    QUERY = "0x80060888"  # bad URL / query / payload shape (unknown property, bad $filter)
    PAYLOAD = "0x80048d19"  # payload not readable as the entity (wrong JSON types)
    INVALID_STATE = "0x80043b1d"  # record not editable in its current state, unverified
    STATE_TRANSITION = "0x80040203"  # invalid statecode/statuscode pair, unverified
    UNSUPPORTED_MESSAGE = "0x80040800"  # CreateMultiple on a table without it, unverified
    TRACKING_DISABLED = "0x80072491"  # change tracking off for the table, unverified
    METADATA = "0x80047013"  # metadata create/update refused, unverified
    NOT_ALLOWED = "0x80040225"  # method not allowed on the resource, unverified
    UNEXPECTED = "0x80040216"  # unexpected server error


class DataverseError(Exception):
    """A client error answered as ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = str(code)
        self.message = message
        self.headers = headers or {}


def bad_request(message: str, code: str = Code.QUERY) -> DataverseError:
    return DataverseError(400, code, message)


def validation(message: str) -> DataverseError:
    return DataverseError(400, Code.VALIDATION, message)


def unknown_property(name: str, table: str) -> DataverseError:
    return DataverseError(
        400, Code.QUERY, f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{table}'."
    )


def not_found_by_id(table: str, pk: str) -> DataverseError:
    return DataverseError(404, Code.NOT_FOUND_BY_ID, f"{table} With Id = {pk} Does Not Exist")


def not_found_by_key(table: str) -> DataverseError:
    return DataverseError(
        404, Code.NOT_FOUND_BY_KEY, f"A record with the specified key values does not exist in {table} entity"
    )
